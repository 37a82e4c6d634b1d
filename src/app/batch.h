/*
 * A batch fix: many images, N at a time, one writer per image, with a
 * journal that lets a killed batch be resumed and undone.
 *
 *   plan     PATH... walked as scan walks them (qcow2 by magic, each file
 *            once however it is reached, so that no image gets two
 *            writers), or the images and snapshots a scan report marked
 *            fixable (--from-scan), or a journal's plan (--resume)
 *   run      app_run_ordered(): per image, on any of N threads:
 *              QEMU's locks probed (in use: skipped, reported);
 *              opened for writing (QEMU's writer locks taken: a second
 *              writer, qsnapfix or QEMU, is refused); what stops a
 *              write (dirty, encrypted, ...) reported, the batch goes on;
 *              every snapshot with VM state that is not an original
 *              kept by a fix, through the pipeline (fix.h) with
 *              journal records around the write (journal.h)
 *            results handed over in plan order, as they complete
 *   resume   images the journal finished are not touched again (their
 *            results come from the journal); a snapshot whose write was
 *            begun is judged again: the record in the image says whether
 *            the interrupted run committed it (it carries the batch id);
 *            an image whose write was cut has its leaked clusters
 *            reclaimed first (qcow2_reclaim_leaks)
 *
 * Nothing here prints: the front end renders each AppBatchImage and the
 * summary.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_BATCH_H
#define APP_BATCH_H

#include "fix.h"
#include "journal.h"
#include "options.h"
#include "outcome.h"
#include "scan.h"

typedef struct AppBatchOptions {
    AppOptions fix;       /* per snapshot, as `fix` */
    guint jobs;           /* images at a time */
    const char *snapshot; /* only this snapshot (ID or name) of each image */
    const char *journal;  /* path, or NULL */
    bool want_sha256;     /* hash VM states before and after (a journal
                             always does) */
} AppBatchOptions;

typedef enum {
    APP_IMAGE_FIXED,      /* at least one snapshot fixed, none failed */
    APP_IMAGE_COMPATIBLE, /* nothing to do */
    APP_IMAGE_SKIPPED,    /* in use, or a fix cannot write it now */
    APP_IMAGE_FAILED,     /* a snapshot refused or failed, or unreadable */
} AppImageStatus;

const char *app_image_status_name(AppImageStatus s); /* "fixed", ... */

typedef struct AppBatchSnapshot {
    AppOutcome *outcome; /* the pipeline's (writer, result, write, error) */
    char *old_sha256, *new_sha256;
    bool resumed;      /* committed by an interrupted run, found in the image */
    bool from_journal; /* finished by an earlier run: from its record */
} AppBatchSnapshot;

typedef struct AppBatchImage {
    char *path;
    AppImageStatus status;
    GError *error; /* the image could not be fixed at all (skipped) */
    int exit_code;
    bool from_journal;    /* finished by an earlier run: not touched */
    bool stopped;         /* a stop request left it unfinished: not journaled as
                             finished, so --resume takes it up again */
    GPtrArray *snapshots; /* AppBatchSnapshot * */
    /* Leaked clusters reclaimed before the fixes: where the journal shows
     * a write of the interrupted run cut (begun, not done), or asked for
     * (o->fix.reclaim_leaks). */
    AppReclaim reclaim;
    double seconds;
} AppBatchImage;

typedef struct AppBatchSummary {
    guint images, fixed, compatible, skipped, failed, from_journal;
    guint walk_skipped; /* files the walk skipped (not qcow2, repeated) */
    /* snapshots by outcome */
    guint snapshots, snap_fixed, snap_compatible, snap_refused, snap_errors;
    GHashTable *writers; /* "qemu-kvm 1.0, kvm" -> count (GUINT_TO_POINTER) */
    uint64_t bytes_written, vm_state_bytes;
    double seconds;
    int exit_code;
    guint not_begun;  /* images a stop request (o->fix.cancel) left alone */
    bool interrupted; /* a stop request came: exit_code is the caller's to
                         choose (128 + the signal); the journal's end says
                         "interrupted" and --resume continues */
} AppBatchSummary;

typedef struct AppBatch AppBatch;

/*
 * A batch over PATH... (plan NULL) or a plan (AppPlanItem *, e.g. from a
 * scan report); with o->journal, the journal is created and its batch
 * record written first. NULL with an error: a journal that cannot be
 * written.
 */
AppBatch *app_batch_new(const AppBatchOptions *o, char **paths, GPtrArray *plan,
                        GError **errp);
/*
 * Resume the batch of journal: its options and plan, its finished
 * images and snapshots; jobs and want_sha256 from o. The caller's
 * other options must not differ (G_OPTION_ERROR when they do).
 */
AppBatch *app_batch_resume(const char *journal, const AppBatchOptions *o,
                           GError **errp);
void app_batch_free(AppBatch *b);


typedef void (*AppBatchImageFn)(const AppBatchImage *im, void *opaque);
typedef void (*AppBatchEntryFn)(const AppScanEntry *e, void *opaque);

/* Run; each image's (and walk entry's) result to the callbacks in plan
 * order; the totals in *sum (app_batch_summary_clear() it). */
void app_batch_run(AppBatch *b, AppBatchImageFn image_fn,
                   AppBatchEntryFn entry_fn, AppTickFn tick, void *opaque,
                   AppBatchSummary *sum);
void app_batch_summary_clear(AppBatchSummary *s);
const AppBatchOptions *app_batch_options(const AppBatch *b);

/* The images and snapshots a scan report (its JSON document or its JSONL
 * lines) judged fixable: a plan (AppPlanItem *) for app_batch_new(). */
GPtrArray *app_plan_from_scan(const char *report, GError **errp);

/* "qemu-kvm 1.0, kvm" */
char *app_writer_label(const VmsWriterInfo *w);

/* ---- undo and drop-originals of a journal's batch -------------------- */

typedef struct AppJournalUndoItem {
    char *image;
    char **snapshots; /* IDs the batch fixed, in order */
} AppJournalUndoItem;

/* The images and snapshots a journal's batch fixed (resumed ones too),
 * in plan order: AppJournalUndoItem *. */
GPtrArray *app_journal_fixed(GPtrArray *entries);
void app_journal_undo_item_free(AppJournalUndoItem *u);

#endif
