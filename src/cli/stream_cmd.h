/*
 * What `translate IN -` and `relay` share on the command line: a stream
 * translated as it flows (app/stream.h), its recipe published at the head
 * (--recipe FILE, a line on stderr) and the report at the end, on stderr:
 * stdout may be the stream.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QSNAPFIX_STREAM_CMD_H
#define QSNAPFIX_STREAM_CMD_H

#include "app/stream.h"
#include "fix.h"

typedef struct StreamCli {
    const FixOptions *o;
    QsnapfixOutput format;
    const char *name;        /* the input, for messages ("stdin", "relay") */
    const char *recipe_path; /* --recipe FILE, or NULL */
    char **also;             /* --also ARG... */
    bool backwards;          /* relay --as: no recipe to publish */
    AppRecipeNames names;
} StreamCli;

/* name: for messages; the recipe's files are FILE_PREFIX.BLOCK in
 * --rom-dir, else in file_dir. */
void stream_cli_init(StreamCli *s, const FixOptions *o, QsnapfixOutput format,
                     const char *name, const char *file_dir,
                     const char *file_prefix, const char *recipe_path,
                     char **also);
void stream_cli_clear(StreamCli *s);
/* The job's fields from s (the caller adds the sink and on_recipe). */
void stream_cli_job(StreamCli *s, AppStream *job);
/* Publish the recipe decided at the head (on_recipe's first half). */
bool stream_cli_publish(StreamCli *s, const TrResult *r, GError **errp);
/* Run the job on in, report; the exit code. */
int stream_cli_run(StreamCli *s, AppStream *job, VmsChannel *in);

/* translate IN - (IN may be '-'): stream to stdout. */
int qsnapfix_translate_stream(const FixOptions *o, QsnapfixOutput format,
                              const char *in, const char *recipe_path,
                              char **also);

#endif
