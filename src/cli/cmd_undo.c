/*
 * qsnapfix undo PATH... [--snapshot S] | --journal FILE: give fixed
 * snapshots back the VM state of the original their fix kept, one atomic
 * table switch each (src/app/undo.h).
 * qsnapfix drop-originals PATH... [--snapshot S] | --journal FILE:
 * release those originals once the guests are seen to resume.
 * With --journal, the images and snapshots are those the journal's batch
 * fixed; each step is appended to the journal, and undo checks the
 * restored VM state against the SHA-256 the journal recorded before the
 * fix. Here: options, the loop over images, the report.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "app/batch.h"
#include "app/scan.h"
#include "app/journal.h"
#include "app/undo.h"
#include "fix.h"

typedef struct UndoCommand {
    const char *name; /* "undo" | "drop-originals" */
    bool drop;
    GPtrArray *(*run)(const char *image, const AppUndoOptions *o,
                      GError **errp);
} UndoCommand;

static const char undo_description[] =
    "Undo fixes: each fixed snapshot (its record says it was fixed) that\n"
    "kept its original (fix --keep-original) gets the original's VM state\n"
    "back in one atomic switch of the snapshot table, as the fix itself\n"
    "was committed; the fixed VM state is released and the original's\n"
    "entry removed. A crash leaves the fixed or the restored state, never\n"
    "a mix. Snapshots are found by their records, not by name; a second\n"
    "undo finds nothing to do (exit 0). --journal FILE undoes every\n"
    "snapshot that batch fixed and checks each restored VM state against\n"
    "the SHA-256 the journal recorded before the fix. PATHs are walked as\n"
    "scan walks them (directories, each file once).\n"
    "\n"
    "Exit codes: 0 done or nothing to do; 2 bad command line; 5 I/O error;\n"
    "6 image in use by a running QEMU; 7 needs repair; 8 unsupported; 9 no\n"
    "such snapshot; 15 some images failed; 70 a restored VM state differs\n"
    "from the journal's.\n";

static const char drop_description[] =
    "Release the originals fixes kept (fix --keep-original) once the\n"
    "guests are seen to resume from the fixed snapshots: each original\n"
    "(marked as such in its table entry, not found by name) is removed in\n"
    "one atomic switch of the snapshot table and its clusters freed. With\n"
    "--snapshot S only the original of S (or S itself, if it is one);\n"
    "with --journal FILE the originals of what that batch fixed. After\n"
    "this, undo is no longer possible. A second run finds nothing to do.\n"
    "\n"
    "Exit codes: as for undo.\n";

typedef struct Totals {
    guint done, nothing, failed;
    GArray *codes; /* int, per failed image */
} Totals;

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

static void json_outcome(QjValue *list, const AppUndoOutcome *u)
{
    QjValue *o = qj_append_object(list);

    qj_set_str(o, "id", u->id);
    qj_set_str(o, "name", u->name);
    qj_set_str(o, "status", app_undo_status_name(u->status));
    if (u->original_id) {
        QjValue *orig = qj_set_object(o, "original");
        qj_set_str(orig, "id", u->original_id);
        qj_set_str(orig, "name", u->original_name);
    }
    if (u->sha256) {
        qj_set_uint(o, "vm-state-size", u->vm_state_size);
        qj_set_str(o, "sha256", u->sha256);
    }
    qj_set_uint(o, "clusters-freed", u->stats.clusters_freed);
    if (u->error && u->status == APP_UNDO_ERROR) {
        cli_json_error(o, u->error->message, app_exit_code(u->error));
    } else if (u->error) {
        qj_set_str(o, "reason", u->error->message);
    }
}

static void print_outcome(const UndoCommand *cmd, const char *image,
                          const AppUndoOutcome *u, bool dry_run)
{
    g_autofree char *path = qsnapfix_printable(image);
    g_autofree char *name = qsnapfix_printable(u->name);

    switch (u->status) {
    case APP_UNDO_DONE:
        if (!g_strcmp0(u->id, "-")) { /* a libvirt save image */
            g_autofree char *orig = qsnapfix_printable(u->original_name);
            printf("%s: original %s %s\n", path, orig,
                   cmd->drop ? (dry_run ? "would be removed" : "removed")
                   : dry_run ? "would be put back in its place"
                             : "put back in its place");
        } else if (cmd->drop) {
            printf("%s: original %s \"%s\" %s\n", path, u->id, name,
                   dry_run ? "would be dropped" : "dropped");
        } else {
            g_autofree char *orig = qsnapfix_printable(u->original_name);
            printf("%s: snapshot %s \"%s\" %s the VM state of \"%s\"%s\n", path,
                   u->id, name, dry_run ? "would get back" : "got back", orig,
                   u->sha256 ? "" : "");
        }
        break;
    case APP_UNDO_NOTHING:
        printf("%s: nothing to do: %s\n", path,
               u->error ? u->error->message : "");
        break;
    case APP_UNDO_ERROR:
        fprintf(stderr, "qsnapfix: %s\n", u->error->message);
        break;
    }
}

static void journal_step(AppJournal *j, const UndoCommand *cmd,
                         const char *batch, const char *image,
                         const AppUndoOutcome *u)
{
    g_autoptr(AppJournalEntry) e =
        app_journal_entry_new(cmd->drop ? "drop" : "undo", batch);
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
    if (!app_journal_append(j, e, &err)) {
        fprintf(stderr, "qsnapfix: %s\n", err->message);
    }
}

/* One image: run, check against the journal, report. */
static void one_image(const UndoCommand *cmd, const CliCommand *c,
                      const char *image, const AppUndoOptions *uo,
                      GPtrArray *journal_entries, AppJournal *j,
                      const char *batch, QjValue *images, Totals *t)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) outs = cmd->run(image, uo, &err);
    QjValue *o = images ? qj_append_object(images) : NULL;
    int code;

    if (o) {
        qj_set_str(o, "image", image);
    }
    if (!outs) {
        code = qsnapfix_report(err);
        g_array_append_val(t->codes, code);
        t->failed++;
        if (o) {
            cli_json_error(o, err->message, code);
            qj_set_int(o, "exit-code", code);
        }
        return;
    }
    for (guint i = 0; i < outs->len; i++) {
        AppUndoOutcome *u = g_ptr_array_index(outs, i);
        const char *want = journal_old_sha(journal_entries, image, u->id);

        if (u->status == APP_UNDO_DONE && want && u->sha256 &&
            strcmp(want, u->sha256)) {
            u->status = APP_UNDO_ERROR;
            u->error = g_error_new(
                G_FILE_ERROR, G_FILE_ERROR_FAILED,
                "%s: snapshot %s \"%s\": the restored VM state's SHA-256 %s "
                "is not the %s the journal recorded before the fix",
                image, u->id, u->name, u->sha256, want);
        }
        t->done += u->status == APP_UNDO_DONE;
        t->nothing += u->status == APP_UNDO_NOTHING;
        if (j && !uo->dry_run) {
            journal_step(j, cmd, batch, image, u);
        }
        if (!images) {
            print_outcome(cmd, image, u, uo->dry_run);
        } else if (u->status == APP_UNDO_ERROR) {
            fprintf(stderr, "qsnapfix: %s\n", u->error->message);
        }
    }
    code = app_undo_exit_code((AppUndoOutcome *const *)outs->pdata, outs->len);
    /* A checksum that differs is a bug of ours, not of the image. */
    for (guint i = 0; i < outs->len; i++) {
        const AppUndoOutcome *u = g_ptr_array_index(outs, i);
        if (u->error && u->error->domain == G_FILE_ERROR &&
            u->status == APP_UNDO_ERROR) {
            code = APP_EXIT_INTERNAL;
        }
    }
    if (code) {
        g_array_append_val(t->codes, code);
        t->failed++;
    }
    if (o) {
        QjValue *snapshots = qj_set_array(o, "snapshots");
        for (guint i = 0; i < outs->len; i++) {
            json_outcome(snapshots, g_ptr_array_index(outs, i));
        }
        qj_set_int(o, "exit-code", code);
    }
    (void)c;
}

/* A libvirt save image's original (FILE.orig) whose image FILE is in the
 * walk too. */
static bool saved_original_of(const AppScanEntry *e, GHashTable *paths)
{
    g_autofree char *of = NULL;

    return app_is_savefile(e->path) && app_savefile_is_original(e->path, &of) &&
           g_hash_table_contains(paths, of);
}

static int exit_code(const Totals *t, guint images)
{
    int code = -1;

    for (guint i = 0; i < t->codes->len; i++) {
        int c = g_array_index(t->codes, int, i);
        code = code < 0 || code == c ? c : APP_EXIT_PARTIAL;
    }
    if (code < 0) {
        return APP_EXIT_OK;
    }
    return t->codes->len == images ? code : APP_EXIT_PARTIAL;
}

static int run_undo(const UndoCommand *cmd, CliCommand *c,
                    const AppUndoOptions *uo, const char *journal)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) entries = NULL;
    g_autoptr(GPtrArray) items = NULL;
    AppJournal *j = NULL;
    const char *batch = NULL;
    Totals t = {.codes = g_array_new(false, false, sizeof(int))};
    g_autoptr(QjValue) doc = cli_json_report();
    QjValue *images = NULL;
    guint n_images = 0;
    int rc;

    if (journal) {
        entries = app_journal_load(journal, &err);
        if (!entries) {
            g_array_free(t.codes, true);
            return cli_fail(c, NULL, err);
        }
        items = app_journal_fixed(entries);
        batch = ((AppJournalEntry *)g_ptr_array_index(entries, 0))->batch;
        if (!uo->dry_run && !(j = app_journal_open(journal, &err))) {
            g_array_free(t.codes, true);
            return cli_fail(c, NULL, err);
        }
    }
    if (c->format == QSNAPFIX_OUTPUT_JSON) {
        qj_set_bool(doc, "dry-run", uo->dry_run);
        qj_set_str(doc, "journal", journal);
        images = qj_set_array(doc, "images");
    }
    if (items) {
        /* Undo in the reverse order of the fixes. */
        for (guint i = items->len; i-- > 0;) {
            const AppJournalUndoItem *it = g_ptr_array_index(items, i);
            for (guint k = 0; it->snapshots[k]; k++) {
                AppUndoOptions one = *uo;
                one.snapshot = it->snapshots[k];
                one_image(cmd, c, it->image, &one, entries, j, batch, images,
                          &t);
                n_images++;
            }
        }
    } else {
        /* PATH... walked as scan walks it: directories, each file once */
        g_autoptr(GPtrArray) walked = app_scan_walk(c->operand);
        g_autoptr(GHashTable) paths = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GHashTable) skip = g_hash_table_new(g_str_hash, g_str_equal);

        for (guint i = 0; i < walked->len; i++) {
            const AppScanEntry *e = g_ptr_array_index(walked, i);
            g_hash_table_add(paths, e->path);
        }
        /* before anything is changed: the originals' names tell */
        for (guint i = 0; i < walked->len; i++) {
            const AppScanEntry *e = g_ptr_array_index(walked, i);
            if (e->kind == APP_ENTRY_IMAGE && saved_original_of(e, paths)) {
                g_hash_table_add(skip, e->path);
            }
        }
        for (guint i = 0; i < walked->len; i++) {
            const AppScanEntry *e = g_ptr_array_index(walked, i);

            if (g_hash_table_contains(skip, e->path)) {
                continue; /* its image in the walk acts on it */
            }
            if (e->kind == APP_ENTRY_IMAGE) {
                one_image(cmd, c, e->path, uo, NULL, NULL, NULL, images, &t);
                n_images++;
            } else if (e->kind == APP_ENTRY_ERROR) {
                fprintf(stderr, "qsnapfix: %s\n", e->reason);
                if (images) {
                    QjValue *o = qj_append_object(images);
                    qj_set_str(o, "image", e->path);
                    cli_json_error(o, e->reason, e->exit_code);
                    qj_set_int(o, "exit-code", e->exit_code);
                }
                g_array_append_val(t.codes, e->exit_code);
                t.failed++;
                n_images++;
            }
        }
    }
    rc = exit_code(&t, n_images);
    if (images) {
        QjValue *summary = qj_set_object(doc, "summary");
        qj_set_int(summary, "done", t.done);
        qj_set_int(summary, "nothing-to-do", t.nothing);
        qj_set_int(summary, "failed", t.failed);
        qj_set_int(doc, "exit-code", rc);
        qj_print(doc);
    } else {
        printf("%s: %u done, %u with nothing to do, %u failed\n", cmd->name,
               t.done, t.nothing, t.failed);
    }
    app_journal_close(j);
    g_array_free(t.codes, true);
    return rc;
}

static int cmd_undo_common(const UndoCommand *cmd, const char *description,
                           int argc, char **argv)
{
    g_autofree char *snapshot = NULL;
    g_autofree char *journal = NULL;
    gboolean dry_run = false;
    GOptionEntry entries[] = {
        {"snapshot", 's', 0, G_OPTION_ARG_FILENAME, &snapshot,
         cmd->drop ? "Only the original of this snapshot (or this original)"
                   : "Only this fixed snapshot (ID or name)",
         "ID|NAME"},
        {"journal", 0, 0, G_OPTION_ARG_FILENAME, &journal,
         "Everything the batch of this journal fixed", "FILE"},
        {"dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
         "Say what would be done; write nothing", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autofree char *summary = g_strdup_printf(
        "qsnapfix %s: %s", cmd->name,
        cmd->drop ? "release the originals fixes kept"
                  : "give fixed snapshots their original VM state back");
    CliCommand c = {
        .name = cmd->name,
        .operands = "PATH...",
        .min_operands = 0,
        .summary = summary,
        .description = description,
        .with_output = true,
    };
    int rc = cli_parse(&c, entries, NULL, &argc, &argv);

    if (rc < 0 && !journal && !c.operand[0]) {
        rc = cli_usage(&c, "need PATH... or --journal FILE");
    } else if (rc < 0 && journal && (c.operand[0] || snapshot)) {
        rc = cli_usage(&c, "--journal takes the images and snapshots from "
                           "the journal");
    }
    if (rc < 0) {
        AppUndoOptions uo = {
            .snapshot = snapshot,
            .dry_run = dry_run,
            .want_sha256 = journal != NULL && !cmd->drop,
        };
        rc = run_undo(cmd, &c, &uo, journal);
    }
    cli_command_clear(&c);
    return rc;
}

int qsnapfix_cmd_undo(int argc, char **argv)
{
    static const UndoCommand cmd = {"undo", false, app_undo_image};
    return cmd_undo_common(&cmd, undo_description, argc, argv);
}

int qsnapfix_cmd_drop_originals(int argc, char **argv)
{
    static const UndoCommand cmd = {"drop-originals", true, app_drop_originals};
    return cmd_undo_common(&cmd, drop_description, argc, argv);
}
