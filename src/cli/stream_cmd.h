/*
 * What `translate - -` and `relay` share: one stream translated as it
 * flows (src/live), its recipe written at the head (a JSON file, a line on
 * stderr, the ROM/BIOS/flash files at their size so that the target can
 * start), and the report at the end, on stderr: stdout may be the stream.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QSNAPFIX_STREAM_CMD_H
#define QSNAPFIX_STREAM_CMD_H

#include "fix.h"
#include "live/pipe.h"

typedef struct StreamJob {
    const FixOptions *o;
    const char *name;                    /* the input, for messages ("stdin") */
    const char *recipe_path;             /* --recipe FILE, or NULL */
    char **also;                         /* --also ARG... */
    const TrBackwardsOptions *backwards; /* relay --as (test tool) */
    char *file_dir, *file_prefix;
    TrOptions tr;
    LiveOptions live;
    /* set by the caller: where the bytes go; after_head runs once the
     * recipe is out (the relay connects there) */
    LiveWriteFn write;
    bool (*after_head)(struct StreamJob *job, GError **errp);
    void *opaque;
} StreamJob;

/*
 * Fill in the derived fields. name: the input, for messages; the recipe's
 * files are named FILE_PREFIX.BLOCK in --rom-dir, else in file_dir.
 */
void stream_job_init(StreamJob *job, const FixOptions *o, const char *name,
                     const char *file_dir, const char *file_prefix,
                     const char *recipe_path, char **also);
void stream_job_clear(StreamJob *job);

/* Translate in: the recipe at the head, the report at the end; the exit
 * code. */
int stream_job_run(StreamJob *job, VmsChannel *in);

/* translate IN - (IN may be '-'): stream to stdout. */
int qsnapfix_translate_stream(const FixOptions *o, const char *in,
                              const char *recipe_path, char **also);

#endif
