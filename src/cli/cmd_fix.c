/*
 * qsnapfix fix IMAGE [--snapshot ID|NAME | --all]: translate snapshots'
 * VM state in place so that the target QEMU loads them. The work is
 * app_fix_image() (src/app/fix.h): per snapshot, parse to EOF, run the
 * rules, write the recipe's files, splice the edits copy-on-write, read
 * back, parse and run the rules again. Here: options and the report.
 *
 * qsnapfix fix PATH... (directories, several images, --from-scan,
 * --journal, --resume, --jobs, --output=jsonl): the same on many images
 * as a batch (src/app/batch.h, reported by fix_batch.c).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <signal.h>
#include <string.h>

#include "app/batch.h"
#include "app/fix.h"
#include "app/report.h"
#include "fix.h"
#include "progress.h"

static const char fix_description_head[] =
    "Make the VM state of IMAGE's internal snapshots load in the target\n"
    "QEMU. With one snapshot holding VM state, that one is fixed; with\n"
    "several, name one (--snapshot, by ID or name as QEMU looks it up) or\n"
    "use --all. The rewrite is copy-on-write (unchanged clusters stay\n"
    "shared) and the snapshot table is switched in one atomic write; the\n"
    "result is read back and checked before success is reported. The\n"
    "fixed snapshot carries a record of the fix in its table entry (tool,\n"
    "time, target, rules, recipe; scan and inspect show it).\n"
    "--keep-original keeps the old VM state as snapshot NAME.orig, marked\n"
    "as the original (not fixed again, not judged by scan; `qsnapfix\n"
    "undo` restores it, `qsnapfix drop-originals` releases it).\n"
    "Leaked clusters (space a cut write left that nothing uses) are\n"
    "reported and left, unless --reclaim-leaks: then they are given back\n"
    "first, as qemu-img check -r leaks does (crash-safe; an image with\n"
    "corruption is refused). --resume does it on its own in an image\n"
    "whose write the interruption cut.\n"
    "\n"
    "Batches: with several PATHs, a directory (walked as scan walks it,\n"
    "each file once), --from-scan REPORT (exactly the snapshots a scan\n"
    "report marked fixable), --journal, --resume, --jobs or\n"
    "--output=jsonl, every snapshot with VM state of every image is fixed\n"
    "(--snapshot: that one in each), --jobs images at a time and never two\n"
    "writers on one image. Images in use, that cannot be written now or\n"
    "that fail are reported and the batch goes on; a summary ends it.\n"
    "--journal FILE records every step (JSONL, each line fsync'd): what\n"
    "was about to be written and what was, with the VM states' sizes and\n"
    "SHA-256. --resume FILE continues a batch that was interrupted (even\n"
    "by SIGKILL) with the journal's options, without touching the images\n"
    "it finished. `qsnapfix undo --journal FILE` undoes the batch.\n"
    "Batch exit codes: 0 every image fixed or nothing to do; the common\n"
    "code when every image failed alike; else 15.\n"
    "\n";

/*
 * SIGINT/SIGTERM ask the splice to stop at its next safe point: before
 * its commit it gives back what it allocated and fails, after it the run
 * finishes; the snapshots not begun are left alone. A second signal ends
 * the program at once (still crash-safe: old or new VM state, leaked
 * clusters at worst). The handler stays until the program exits: a
 * signal that comes after the work and its report is too late to stop
 * anything, and must not turn a finished fix into one killed by it.
 */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    if (stop_signal) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
    stop_signal = sig;
}

static void catch_stop_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Where one snapshot is after an interrupted run, in a few words. */
static void snapshot_state(GString *g, const AppOutcome *out, bool *leaks)
{
    const AppWriteStats *st = &out->write;
    g_autofree char *id = qsnapfix_printable(out->id);
    g_autofree char *name = qsnapfix_printable(out->name);
    g_autofree char *written = qsnapfix_size_to_str(st->bytes_written);
    g_autofree char *length = qsnapfix_size_to_str(st->file_size_after);

    g_string_append_printf(g, "%ssnapshot %s \"%s\" ", g->len ? ", " : "", id,
                           name);
    if (!out->result &&
        g_error_matches(out->error, QCOW2_ERROR, QCOW2_ERROR_CANCELLED)) {
        g_string_append(g, "not begun");
        return;
    }
    if (out->status != APP_ERROR && out->status != APP_FIXED) {
        g_string_append(g, "unchanged (nothing to write)");
        return;
    }
    switch (st->end) {
    case APP_WRITE_COMMITTED:
        g_string_append(g, out->status == APP_FIXED
                               ? "fixed (its new VM state committed)"
                               : "has its new VM state (committed)");
        return;
    case APP_WRITE_GIVEN_BACK:
        g_string_append_printf(g,
                               "unchanged (its old VM state intact; the %s "
                               "the fix had written given back, the file "
                               "%s long again)",
                               written, length);
        return;
    case APP_WRITE_LEAKED:
        *leaks = true;
        g_string_append(g, "unchanged (its old VM state intact; what the "
                           "fix had written could not all be given back)");
        return;
    case APP_WRITE_UNCONFIRMED:
        *leaks = true;
        g_string_append(g, "has its old or its new VM state, both complete "
                           "(the commit could not be confirmed)");
        return;
    case APP_WRITE_NOTHING:
        g_string_append(g, out->status == APP_FIXED
                               ? "unchanged (nothing to write)"
                               : "unchanged (nothing written)");
        return;
    }
}

/*
 * One line: which signal, where each snapshot is (fixed, or unchanged
 * with what was given back, or not begun), whether the image is
 * consistent.
 */
static char *interrupted_state(const char *image, GPtrArray *outcomes, int sig)
{
    g_autoptr(GString) g = g_string_new(NULL);
    g_autofree char *path = qsnapfix_printable(image);
    bool leaks = false;

    if (app_is_savefile(image)) { /* a new file renamed into place, or not */
        const AppOutcome *out = outcomes->len ? outcomes->pdata[0] : NULL;
        return g_strdup_printf(
            "%s: interrupted (%s): %s", path, cli_signal_name(sig),
            out && out->status == APP_FIXED
                ? "the save image is the fixed one"
                : "the save image is the old one (the new file removed)");
    }

    for (guint i = 0; i < outcomes->len; i++) {
        snapshot_state(g, g_ptr_array_index(outcomes, i), &leaks);
    }
    return g_strdup_printf(
        "%s: interrupted (%s): %s; the image is consistent%s%s", path,
        cli_signal_name(sig),
        g->len ? g->str : "no snapshot begun, nothing written",
        leaks ? " (leaked clusters may remain: qemu-img check -r leaks " : "",
        leaks ? path : "");
}

static void report(const CliCommand *c, const AppOptions *o, const char *image,
                   const AppReclaim *reclaim, GPtrArray *outcomes, int rc,
                   const char *interrupted)
{
    if (c->format != QSNAPFIX_OUTPUT_JSON) {
        fix_print_reclaim_human(image, reclaim, o->dry_run);
    }
    if (c->format == QSNAPFIX_OUTPUT_JSON) {
        g_autoptr(QjValue) json = app_report_fix_new(image);
        app_report_reclaim(json, reclaim);
        app_report_interrupted(
            json, interrupted ? cli_signal_name(stop_signal) : NULL,
            interrupted);
        app_report_outcomes(json, o, (AppOutcome *const *)outcomes->pdata,
                            outcomes->len, rc);
        qj_print(json);
    } else if (!outcomes->len) {
        printf("%s: no snapshot holds VM state: nothing to fix\n", image);
    } else {
        for (guint i = 0; i < outcomes->len; i++) {
            const AppOutcome *out = g_ptr_array_index(outcomes, i);
            g_autofree char *name = qsnapfix_printable(out->name);
            g_autofree char *what = fix_outcome_label(image, out);
            g_autofree char *load =
                out->id ? g_strdup_printf("-loadvm %s", name)
                        : g_strdup_printf("virsh restore %s", image);
            fix_print_human(out, what, load, o->dry_run);
        }
    }
    fix_print_leaks_human(image, (AppOutcome *const *)outcomes->pdata,
                          outcomes->len);
    /* One line per failed snapshot on stderr, as for every other error. */
    for (guint i = 0; i < outcomes->len; i++) {
        const AppOutcome *out = g_ptr_array_index(outcomes, i);
        g_autofree char *what = cli_snapshot_label(image, out->id, out->name);
        fix_print_failure(out, what);
    }
}

/* A batch, unless the command line is the single-image form: one
 * operand that is not a directory, none of the batch options. */
static bool is_batch(char **operands, bool batch_options)
{
    return batch_options || g_strv_length(operands) != 1 ||
           g_file_test(operands[0], G_FILE_TEST_IS_DIR);
}

typedef struct BatchArgs {
    gint jobs;
    char *from_scan, *journal, *resume;
} BatchArgs;

static int run_batch(const CliCommand *c, FixOptions *o, const char *snapshot,
                     const BatchArgs *a)
{
    AppBatchOptions bo = {
        .fix = o->app,
        .jobs = (guint)MAX(a->jobs, 1),
        .snapshot = snapshot,
        .journal = a->resume ? a->resume : a->journal,
    };
    g_autoptr(GPtrArray) plan = NULL;
    g_autoptr(GError) err = NULL;

    if (a->journal && a->resume) {
        return cli_usage(c, "--journal and --resume exclude each other "
                            "(--resume appends to its journal)");
    }
    if ((a->journal || a->resume) && o->app.dry_run) {
        return cli_usage(c, "a dry run writes no journal");
    }
    if (a->resume && (c->operand[0] || a->from_scan || snapshot)) {
        return cli_usage(c, "--resume takes its images from the journal");
    }
    if (!a->resume && !a->from_scan && !c->operand[0]) {
        return cli_usage(c, "need IMAGE, PATH..., --from-scan or --resume");
    }
    bo.fix.cancel = &stop_signal;
    catch_stop_signals();
    if (a->from_scan) {
        if (c->operand[0] || snapshot) {
            return cli_usage(c, "--from-scan takes its images and "
                                "snapshots from the report");
        }
        plan = app_plan_from_scan(a->from_scan, &err);
        if (!plan) {
            return cli_fail(c, NULL, err);
        }
    }
    return fix_run_batch(c, &bo, c->operand, plan, a->resume);
}

int qsnapfix_cmd_fix(int argc, char **argv)
{
    FixOptions o = {0};
    g_autofree char *snapshot = NULL;
    g_autofree char *emulator = NULL;
    gboolean all = false, discard_original = false;
    BatchArgs a = {.jobs = 0};
    GOptionEntry entries[] = {
        {"snapshot", 's', 0, G_OPTION_ARG_FILENAME, &snapshot,
         "The snapshot to fix, by ID or name", "ID|NAME"},
        {"all", 'a', 0, G_OPTION_ARG_NONE, &all,
         "Fix every snapshot that holds VM state", NULL},
        {"keep-original", 0, 0, G_OPTION_ARG_NONE, &o.keep_original,
         "Keep the old VM state as snapshot NAME.orig (for undo)", NULL},
        {"reclaim-leaks", 0, 0, G_OPTION_ARG_NONE, &o.reclaim_leaks,
         "Give back leaked clusters first (qemu-img check -r leaks)", NULL},
        {"jobs", 'j', 0, G_OPTION_ARG_INT, &a.jobs,
         "Batch: images fixed at a time (default 1; at most 64)", "N"},
        {"from-scan", 0, 0, G_OPTION_ARG_FILENAME, &a.from_scan,
         "Batch: fix what this scan report (JSON or JSONL) marked fixable",
         "REPORT"},
        {"journal", 0, 0, G_OPTION_ARG_FILENAME, &a.journal,
         "Batch: record every step in FILE (JSONL, fsync'd)", "FILE"},
        {"resume", 0, 0, G_OPTION_ARG_FILENAME, &a.resume,
         "Batch: continue the interrupted batch of this journal", "FILE"},
        {"discard-original", 0, 0, G_OPTION_ARG_NONE, &discard_original,
         "A libvirt save image: do not keep the original as FILE.orig", NULL},
        {"emulator", 0, 0, G_OPTION_ARG_FILENAME, &emulator,
         "A libvirt save image: the domain's emulator when the one it names "
         "does not exist here (default: qemu-system-x86_64 on PATH)",
         "PATH"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autofree char *common = fix_common_help(true);
    g_autofree char *description =
        g_strconcat(fix_description_head, common, NULL);
    CliCommand c = {
        .name = "fix",
        .operands = "PATH...",
        .min_operands = 0,
        .operands_error = "need IMAGE or PATH...",
        .summary = "qsnapfix fix: make old snapshots load in today's QEMU",
        .description = description,
        .with_output = true,
        .with_jsonl = true,
    };
    int rc = fix_parse_command(&c, entries, &o, 0, &argc, &argv);
    bool batch_options = a.jobs || a.from_scan || a.journal || a.resume ||
                         c.format == QSNAPFIX_OUTPUT_JSONL;

    if (rc < 0 && snapshot && all) {
        rc = cli_usage(&c, "--snapshot and --all exclude each other");
    }
    if (rc < 0 && (a.jobs < 0 || a.jobs > 64)) {
        rc = cli_usage(&c, "--jobs must be 1 to 64");
    }
    o.app.discard_original = discard_original;
    o.app.emulator = emulator;
    if (rc < 0 && is_batch(c.operand, batch_options)) {
        rc = run_batch(&c, &o, snapshot, &a);
    } else if (rc < 0) {
        g_autoptr(GError) err = NULL;
        const char *image = c.operand[0];
        g_autoptr(GPtrArray) outcomes = NULL;
        AppReclaim reclaim = {0};
        CliProgress prog;

        cli_progress_init(&prog, NULL);
        o.app.progress = prog.app;
        o.app.cancel = &stop_signal;
        catch_stop_signals();
        outcomes = app_fix_image(image, snapshot, all, &o.app, &reclaim, &err);
        cli_progress_done(&prog);
        if (!outcomes) {
            rc = cli_fail(&c, app_report_fix_new(image), err);
        } else {
            g_autofree char *interrupted =
                stop_signal ? interrupted_state(image, outcomes, stop_signal)
                            : NULL;

            rc = stop_signal
                     ? 128 + stop_signal
                     : app_outcomes_exit_code(
                           (AppOutcome *const *)outcomes->pdata, outcomes->len);
            report(&c, &o.app, image, &reclaim, outcomes, rc, interrupted);
            if (interrupted) {
                fprintf(stderr, "qsnapfix: %s\n", interrupted);
            }
        }
        if (stop_signal && !outcomes) {
            g_autofree char *path = qsnapfix_printable(image);
            fprintf(stderr,
                    "qsnapfix: %s: interrupted (%s): nothing written; the "
                    "image is consistent\n",
                    path, cli_signal_name(stop_signal));
            rc = 128 + stop_signal;
        }
    }
    g_free(a.from_scan);
    g_free(a.journal);
    g_free(a.resume);
    fix_options_clear(&o);
    cli_command_clear(&c);
    return rc;
}
