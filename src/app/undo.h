/*
 * Undoing fixes, and releasing the originals once they are not wanted:
 *
 *   undo            a fixed snapshot (its record says so) given back the
 *                   VM state of the original the fix kept (marked as the
 *                   original of that snapshot): one header switch, the
 *                   fixed VM state released (qcow2_snapshot_restore);
 *   drop-originals  the originals removed and released, once the
 *                   operator has seen the guests resume
 *                   (qcow2_snapshot_delete).
 *
 * Both find snapshots by their records (record.h), never by name alone,
 * and are idempotent: a second run finds nothing left to do.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_UNDO_H
#define APP_UNDO_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "qcow2.h"

typedef enum {
    APP_UNDO_DONE,    /* undone / dropped (dry run: would be) */
    APP_UNDO_NOTHING, /* nothing to do: no fix to undo, no original */
    APP_UNDO_ERROR,
} AppUndoStatus;

const char *app_undo_status_name(AppUndoStatus s); /* "done", ... */

typedef struct AppUndoOutcome {
    char *id, *name;                   /* the snapshot acted on */
    char *original_id, *original_name; /* undo: the original used */
    AppUndoStatus status;
    GError *error;          /* ERROR; NOTHING: why there was nothing */
    uint64_t vm_state_size; /* after: undo, of the restored VM state */
    char *sha256;           /* want_sha256: of that VM state */
    Qcow2SpliceStats stats; /* what the table switch wrote and freed */
} AppUndoOutcome;

void app_undo_outcome_free(AppUndoOutcome *o);

typedef struct AppUndoOptions {
    const char *snapshot; /* ID or name; NULL: every one */
    bool dry_run;
    bool want_sha256; /* hash the restored VM state */
} AppUndoOptions;

/*
 * Undo the fixes of image (snapshot: only that fixed snapshot's) that
 * kept their original: AppUndoOutcome * in table order. NULL with an
 * error when the image cannot be opened (for writing unless dry run) or
 * the named snapshot does not exist.
 */
GPtrArray *app_undo_image(const char *image, const AppUndoOptions *o,
                          GError **errp);

/* Drop the originals fixes kept in image (snapshot: only the original
 * of that snapshot, or that original itself). As app_undo_image(). */
GPtrArray *app_drop_originals(const char *image, const AppUndoOptions *o,
                              GError **errp);

/* SHA-256 (hex) of a snapshot's VM state, read in order. */
char *app_vmstate_sha256(Qcow2Image *img, const Qcow2Snapshot *sn,
                         GError **errp);

/* The exit code of one image's outcomes: 0 when none failed (nothing
 * to do included), else the failures' (15 when they differ). */
int app_undo_exit_code(AppUndoOutcome *const *outcomes, guint n);

/* ---- over many images (undo_run.c) ------------------------------------- */

typedef struct AppUndoRunOptions {
    bool drop;            /* drop-originals, else undo */
    const char *snapshot; /* ID or name; NULL: every one */
    const char *journal;  /* what that batch fixed, instead of paths */
    bool dry_run;
} AppUndoRunOptions;

/* One image done: its outcomes, or why it could not be (outcomes NULL). */
typedef struct AppUndoImage {
    const char *path;
    GPtrArray *outcomes; /* AppUndoOutcome *, or NULL */
    const char *error;   /* outcomes NULL: the image's failure */
    int exit_code;       /* the image's */
} AppUndoImage;

typedef void (*AppUndoImageFn)(const AppUndoImage *im, void *opaque);

typedef struct AppUndoTotals {
    guint images, done, nothing, failed; /* done, nothing: snapshots */
    int exit_code; /* the failures' when all failed alike, else 15; 0 */
} AppUndoTotals;

/*
 * Undo (or drop) on every image of paths (walked as scan walks them), or
 * with o->journal on what its batch fixed, in the reverse order of the
 * fixes: each restored VM state checked against the SHA-256 the journal
 * recorded before the fix (a difference: exit 70) and each step appended
 * to the journal (not in a dry run). fn gets each image as it is done.
 * false with errp: the journal cannot be read or written.
 */
bool app_undo_run(const AppUndoRunOptions *o, char **paths, AppUndoImageFn fn,
                  void *opaque, AppUndoTotals *t, GError **errp);

#endif
