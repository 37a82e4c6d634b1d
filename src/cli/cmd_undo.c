/*
 * qsnapfix undo PATH... [--snapshot S] | --journal FILE: give fixed
 * snapshots back the VM state of the original their fix kept, one atomic
 * table switch each (src/app/undo.h).
 * qsnapfix drop-originals PATH... [--snapshot S] | --journal FILE:
 * release those originals once the guests are seen to resume.
 * With --journal, the images and snapshots are those the journal's batch
 * fixed; each step is appended to the journal, and undo checks the
 * restored VM state against the SHA-256 the journal recorded before the
 * fix (app_undo_run()). Here: options and the report.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "app/report.h"
#include "app/undo.h"
#include "cli.h"

typedef struct UndoCommand {
    const char *name; /* "undo" | "drop-originals" */
    bool drop;
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

typedef struct UndoReport {
    const UndoCommand *cmd;
    bool dry_run;
    QjValue *images; /* --output=json: the report's array */
} UndoReport;

/* One image done: its lines, or its object in the report. */
static void on_image(const AppUndoImage *im, void *opaque)
{
    UndoReport *rep = opaque;

    if (!im->outcomes) {
        fprintf(stderr, "qsnapfix: %s\n", im->error);
    }
    for (guint i = 0; im->outcomes && i < im->outcomes->len; i++) {
        const AppUndoOutcome *u = g_ptr_array_index(im->outcomes, i);
        if (!rep->images) {
            print_outcome(rep->cmd, im->path, u, rep->dry_run);
        } else if (u->status == APP_UNDO_ERROR) {
            fprintf(stderr, "qsnapfix: %s\n", u->error->message);
        }
    }
    if (rep->images) {
        app_report_undo_image(rep->images, im);
    }
}

static int run_undo(const UndoCommand *cmd, CliCommand *c,
                    const AppUndoRunOptions *uo)
{
    g_autoptr(GError) err = NULL;
    UndoReport rep = {.cmd = cmd, .dry_run = uo->dry_run};
    g_autoptr(QjValue) doc = app_report_undo_new(uo, &rep.images);
    AppUndoTotals t;

    if (c->format != QSNAPFIX_OUTPUT_JSON) {
        rep.images = NULL;
    }
    if (!app_undo_run(uo, c->operand, on_image, &rep, &t, &err)) {
        return cli_fail(c, NULL, err);
    }
    if (rep.images) {
        app_report_undo_end(doc, &t);
        qj_print(doc);
    } else {
        printf("%s: %u done, %u with nothing to do, %u failed\n", cmd->name,
               t.done, t.nothing, t.failed);
    }
    return t.exit_code;
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
        AppUndoRunOptions uo = {
            .drop = cmd->drop,
            .snapshot = snapshot,
            .journal = journal,
            .dry_run = dry_run,
        };
        rc = run_undo(cmd, &c, &uo);
    }
    cli_command_clear(&c);
    return rc;
}

int qsnapfix_cmd_undo(int argc, char **argv)
{
    static const UndoCommand cmd = {"undo", false};
    return cmd_undo_common(&cmd, undo_description, argc, argv);
}

int qsnapfix_cmd_drop_originals(int argc, char **argv)
{
    static const UndoCommand cmd = {"drop-originals", true};
    return cmd_undo_common(&cmd, drop_description, argc, argv);
}
