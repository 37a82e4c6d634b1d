/*
 * undo and drop-originals over many images (undo.h): PATH... walked as
 * scan walks it, or what a journal's batch fixed (in the reverse order
 * of the fixes); with a journal, each restored VM state checked against
 * the SHA-256 the journal recorded before the fix, and each step
 * appended to it.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "batch.h"
#include "exit_codes.h"
#include "io.h"
#include "journal.h"
#include "scan.h"
#include "undo.h"

typedef struct UndoRun {
    const AppUndoRunOptions *o;
    GPtrArray *entries; /* the journal's, or NULL */
    AppJournal *journal;
    const char *batch;
    AppUndoImageFn fn;
    void *opaque;
    AppUndoTotals *t;
    GArray *codes; /* int, per failed image */
} UndoRun;

/* The journal's SHA-256 of a snapshot's VM state before its fix. */
static const char *journal_old_sha(GPtrArray *entries, const char *image,
                                   const char *id)
{
    for (guint i = 0; entries && i < entries->len; i++) {
        const AppJournalEntry *e = g_ptr_array_index(entries, i);
        if (!strcmp(e->step, "begin") && !g_strcmp0(e->image, image) &&
            !g_strcmp0(e->snapshot_id, id) && e->old_sha256) {
            return e->old_sha256;
        }
    }
    return NULL;
}

static void journal_step(UndoRun *run, const char *image,
                         const AppUndoOutcome *u)
{
    g_autoptr(AppJournalEntry) e =
        app_journal_entry_new(run->o->drop ? "drop" : "undo", run->batch);
    g_autoptr(GError) err = NULL;

    e->image = g_strdup(image);
    e->snapshot_id = g_strdup(u->id);
    e->snapshot_name = g_strdup(u->name);
    e->status = g_strdup(app_undo_status_name(u->status));
    e->exit_code = u->status == APP_UNDO_ERROR ? app_exit_code(u->error) : 0;
    if (u->sha256) {
        e->has_new = true;
        e->new_size = u->vm_state_size;
        e->new_sha256 = g_strdup(u->sha256);
    }
    e->message = u->error ? g_strdup(u->error->message) : NULL;
    if (!app_journal_append(run->journal, e, &err)) {
        /* the undo itself is done: say so, and go on */
        g_printerr("qsnapfix: %s\n", err->message);
    }
}

/* A restored VM state that differs from the journal's is an error. */
static void check_against_journal(UndoRun *run, const char *image,
                                  AppUndoOutcome *u)
{
    const char *want = journal_old_sha(run->entries, image, u->id);

    if (u->status != APP_UNDO_DONE || !want || !u->sha256 ||
        !strcmp(want, u->sha256)) {
        return;
    }
    u->status = APP_UNDO_ERROR;
    u->error = g_error_new(G_FILE_ERROR, G_FILE_ERROR_FAILED,
                           "%s: snapshot %s \"%s\": the restored VM state's "
                           "SHA-256 %s is not the %s the journal recorded "
                           "before the fix",
                           image, u->id, u->name, u->sha256, want);
}

static void failed(UndoRun *run, int code)
{
    g_array_append_val(run->codes, code);
    run->t->failed++;
}

static void one_image(UndoRun *run, const char *image, const char *snapshot)
{
    AppUndoOptions uo = {
        .snapshot = snapshot,
        .dry_run = run->o->dry_run,
        .want_sha256 = run->o->journal && !run->o->drop,
    };
    AppUndoImage im = {.path = image};
    g_autoptr(GError) err = NULL;

    run->t->images++;
    im.outcomes = run->o->drop ? app_drop_originals(image, &uo, &err)
                               : app_undo_image(image, &uo, &err);
    if (!im.outcomes) {
        im.error = err->message;
        im.exit_code = app_exit_code(err);
        failed(run, im.exit_code);
        run->fn(&im, run->opaque);
        return;
    }
    for (guint i = 0; i < im.outcomes->len; i++) {
        AppUndoOutcome *u = g_ptr_array_index(im.outcomes, i);

        check_against_journal(run, image, u);
        run->t->done += u->status == APP_UNDO_DONE;
        run->t->nothing += u->status == APP_UNDO_NOTHING;
        if (run->journal) {
            journal_step(run, image, u);
        }
    }
    im.exit_code = app_undo_exit_code(
        (AppUndoOutcome *const *)im.outcomes->pdata, im.outcomes->len);
    for (guint i = 0; i < im.outcomes->len; i++) {
        const AppUndoOutcome *u = g_ptr_array_index(im.outcomes, i);
        /* A checksum that differs is a bug of ours, not of the image. */
        if (u->error && u->error->domain == G_FILE_ERROR &&
            u->status == APP_UNDO_ERROR) {
            im.exit_code = APP_EXIT_INTERNAL;
        }
    }
    if (im.exit_code) {
        failed(run, im.exit_code);
    }
    run->fn(&im, run->opaque);
    g_ptr_array_unref(im.outcomes);
}

/* The failures' code when every image failed alike, 15 when they differ
 * or only some failed, else 0. */
static int exit_code(const UndoRun *run)
{
    return app_exit_code_of_failures(run->codes,
                                     run->codes->len == run->t->images);
}

static void run_journal(UndoRun *run)
{
    g_autoptr(GPtrArray) items = app_journal_fixed(run->entries);

    /* Undo in the reverse order of the fixes. */
    for (guint i = items->len; i-- > 0;) {
        const AppJournalUndoItem *it = g_ptr_array_index(items, i);
        for (guint k = 0; it->snapshots[k]; k++) {
            one_image(run, it->image, it->snapshots[k]);
        }
    }
}

/* A libvirt save image's original (FILE.orig) whose image FILE is in the
 * walk too. */
static bool saved_original_of(const AppScanEntry *e, GHashTable *paths)
{
    g_autofree char *of = NULL;

    return app_is_savefile(e->path) && app_savefile_is_original(e->path, &of) &&
           g_hash_table_contains(paths, of);
}

static void run_paths(UndoRun *run, char **paths)
{
    /* PATH... walked as scan walks it: directories, each file once */
    g_autoptr(GPtrArray) walked = app_scan_walk(paths);
    g_autoptr(GHashTable) in_walk = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) skip = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 0; i < walked->len; i++) {
        const AppScanEntry *e = g_ptr_array_index(walked, i);
        g_hash_table_add(in_walk, e->path);
    }
    /* before anything is changed: the originals' names tell */
    for (guint i = 0; i < walked->len; i++) {
        const AppScanEntry *e = g_ptr_array_index(walked, i);
        if (e->kind == APP_ENTRY_IMAGE && saved_original_of(e, in_walk)) {
            g_hash_table_add(skip, e->path);
        }
    }
    for (guint i = 0; i < walked->len; i++) {
        const AppScanEntry *e = g_ptr_array_index(walked, i);

        if (g_hash_table_contains(skip, e->path)) {
            continue; /* its image in the walk acts on it */
        }
        if (e->kind == APP_ENTRY_IMAGE) {
            one_image(run, e->path, run->o->snapshot);
        } else if (e->kind == APP_ENTRY_ERROR) {
            AppUndoImage im = {
                .path = e->path,
                .error = e->reason,
                .exit_code = e->exit_code,
            };
            run->t->images++;
            failed(run, e->exit_code);
            run->fn(&im, run->opaque);
        }
    }
}

bool app_undo_run(const AppUndoRunOptions *o, char **paths, AppUndoImageFn fn,
                  void *opaque, AppUndoTotals *t, GError **errp)
{
    g_autoptr(GPtrArray) entries = NULL;
    UndoRun run = {.o = o, .fn = fn, .opaque = opaque, .t = t};

    *t = (AppUndoTotals){0};
    if (o->journal) {
        entries = app_journal_load(o->journal, errp);
        if (!entries) {
            return false;
        }
        run.entries = entries;
        run.batch = ((AppJournalEntry *)g_ptr_array_index(entries, 0))->batch;
        if (!o->dry_run &&
            !(run.journal = app_journal_open(o->journal, errp))) {
            return false;
        }
    }
    run.codes = g_array_new(false, false, sizeof(int));
    if (entries) {
        run_journal(&run);
    } else {
        run_paths(&run, paths);
    }
    t->exit_code = exit_code(&run);
    app_journal_close(run.journal);
    g_array_free(run.codes, true);
    return true;
}
