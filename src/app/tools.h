/*
 * The jobs of the byte-level commands: extract (a snapshot's VM state
 * into a file, through the same sources and sinks as fix), splice (an
 * edit list written by hand, through the qcow2 sink) and oldify (the
 * rules backwards, for demos and tests).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_TOOLS_H
#define APP_TOOLS_H

#include "io.h"
#include "options.h"
#include "translate/backwards.h"

/* What extract did. */
typedef struct AppExtract {
    bool corrupt_bit;    /* set in the image: what was read may be wrong */
    char *id, *name;     /* the snapshot */
    uint64_t size;       /* bytes written */
    char *sha256;        /* want_sha256: of those bytes */
    GPtrArray *warnings; /* the reads': metadata read as VM state (strings) */
} AppExtract;

/*
 * Write the VM state of snapshot (ID or name) of image to out_path ("-":
 * standard output; a file appears complete or not at all), watched as
 * APP_STEP_WRITE by progress (may be NULL). out is filled as far as the
 * job got (corrupt_bit also on failure).
 */
bool app_extract(const char *image, const char *snapshot, const char *out_path,
                 bool want_sha256, const AppProgress *progress,
                 AppExtract *out, GError **errp);
void app_extract_clear(AppExtract *e);

/*
 * Splice the edit list file into snapshot's VM state (w gives dry_run,
 * keep_original(_name) and progress; its edits are ignored). id and name
 * of the snapshot are returned as copies (the table is re-read after a
 * write). The user's mistakes (the edit list, a name taken) are
 * G_OPTION_ERRORs, and so is an unreadable list a G_FILE_ERROR.
 *
 * An edit list file has one edit per line, "OFFSET OLD_LENGTH DATA",
 * sorted, not overlapping; DATA is hex digits, '-' (nothing), @PATH (a
 * file's bytes, relative to the list's directory) or fill:BYTE:COUNT;
 * numbers decimal or 0x-hex; '#' starts a comment.
 */
bool app_splice_file(const char *image, const char *snapshot,
                     const char *edits_path, const AppWrite *w,
                     AppWriteStats *st, char **id, char **name, GError **errp);

/*
 * Reshape snapshot's VM state like an old writer's (tr_backwards()),
 * written through the qcow2 sink and parsed again to EOF. *result is set
 * once the rules ran (also if the write fails), *id with it.
 */
bool app_oldify(const char *image, const char *snapshot,
                const TrBackwardsOptions *bo, TrResult **result, char **id,
                GError **errp);

#endif
