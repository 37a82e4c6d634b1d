/*
 * The jobs of `fix` and `translate`: which snapshots of an image to fix
 * and the pipeline on each (its qcow2 snapshot as source and sink), and
 * a raw stream file translated into a new one.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_FIX_H
#define APP_FIX_H

#include "pipeline.h"

/*
 * The snapshots of img to work on, by table position (guint): the one
 * named (by ID or name, as QEMU looks it up), every one with VM state
 * (all), or the only one with VM state -- not an original a fix kept;
 * errors as app_fix_image() says.
 */
GArray *app_pick_snapshots(Qcow2Image *img, const char *snapshot, bool all,
                           GError **errp);

/*
 * Fix the snapshot at table position index of img (opened writable, or
 * read-only for a dry run); image is its path (recipe files go beside it,
 * or in o->rom_dir). A position, not an ID: IDs need not be unique.
 */
void app_fix_snapshot(Qcow2Image *img, const char *image, guint index,
                      const AppOptions *o, AppOutcome *out);
/* The same with hooks between the pipeline's steps (pipeline.h). */
void app_fix_snapshot_hooked(Qcow2Image *img, const char *image, guint index,
                             const AppOptions *o, const AppRunHooks *hooks,
                             AppOutcome *out);

/* Leaked clusters given back before a fix (qcow2_reclaim_leaks). */
typedef struct AppReclaim {
    bool ran;
    uint64_t found; /* leaked clusters the check found */
    uint64_t left;  /* of those, left leaked (qcow2.h says which) */
    uint64_t freed; /* clusters whose refcount went to 0 */
    uint64_t discarded_bytes;
} AppReclaim;

/*
 * Reclaim img's leaked clusters (img writable, or read-only for a dry
 * run, which only counts them); out says what was done. Errors: the
 * image is corrupt (QCOW2_ERROR_INCONSISTENT: nothing written), or
 * cannot be written.
 */
bool app_reclaim_leaks(Qcow2Image *img, bool dry_run, AppReclaim *out,
                       GError **errp);

/* Did a stop request (o->cancel: SIGINT/SIGTERM) come? What has not begun
 * is then left alone. */
bool app_stop_requested(const AppOptions *o);
/* out failed as not begun because of a stop request (QCOW2_ERROR_CANCELLED;
 * image names the file in the message). */
void app_outcome_not_begun(AppOutcome *out, const char *image);

/*
 * Open image, pick its snapshots and fix each: AppOutcome * in order.
 * Picked: the one named (by ID or name, as QEMU looks it up), every one
 * with VM state (all), or the only one with VM state; none when no
 * snapshot holds VM state (an empty array: nothing to do). NULL with an
 * error when the image cannot be opened, the named snapshot does not
 * exist (NOT_FOUND), or several hold VM state but neither one was named
 * nor all asked for (APP_REQUEST_AMBIGUOUS).
 */
GPtrArray *app_fix_image(const char *image, const char *snapshot, bool all,
                         const AppOptions *o, AppReclaim *reclaim,
                         GError **errp);
/* (o->cancel set: the snapshots not yet begun fail as not begun, with
 * QCOW2_ERROR_CANCELLED and no analysis. o->reclaim_leaks: the leaked
 * clusters are reclaimed first, into *reclaim; its failure is the
 * image's.) */

/*
 * Fix a libvirt save image (io.h): its stream translated, its domain XML
 * given the recipe, the original kept as PATH.orig unless
 * o->discard_original. One outcome (id NULL, name the path).
 */
AppOutcome *app_fix_savefile(const char *path, const AppOptions *o);
/* The same into out (its id and name the caller's), with hooks. */
void app_fix_savefile_hooked(const char *path, const AppOptions *o,
                             const AppRunHooks *hooks, AppOutcome *out);

/*
 * Translate the stream in file in ("-": standard input) into a new file
 * out (never in itself: that is an error); with nothing to change, out is
 * an identical copy. Recipe files are named after in, or out when in is
 * standard input. NULL with an error only for a bad pair of files; the
 * outcome holds everything else.
 */
AppOutcome *app_translate_file(const char *in, const char *out,
                               const AppOptions *o, GError **errp);

#endif
