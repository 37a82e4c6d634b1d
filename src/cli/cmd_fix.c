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
#include "fix.h"

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
 * clusters at worst).
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

static void catch_stop_signals(struct sigaction *saved)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &saved[0]);
    sigaction(SIGTERM, &sa, &saved[1]);
}

static void restore_stop_signals(const struct sigaction *saved)
{
    sigaction(SIGINT, &saved[0], NULL);
    sigaction(SIGTERM, &saved[1], NULL);
}

static char *snapshot_what(const char *image, const AppOutcome *out)
{
    if (!out->id) { /* a libvirt save image */
        return g_strdup(image);
    }
    return g_strdup_printf("%s: snapshot %s \"%s\"", image, out->id, out->name);
}

static void report(const CliCommand *c, const AppOptions *o, const char *image,
                   GPtrArray *outcomes, int rc)
{
    if (c->format == QSNAPFIX_OUTPUT_JSON) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "image");
        json_builder_add_string_value(b, image);
        fix_print_json_report(b, o, (AppOutcome *const *)outcomes->pdata,
                              outcomes->len, rc);
    } else {
        for (guint i = 0; i < outcomes->len; i++) {
            const AppOutcome *out = g_ptr_array_index(outcomes, i);
            g_autofree char *id = out->id ? qsnapfix_printable(out->id) : NULL;
            g_autofree char *name = qsnapfix_printable(out->name);
            g_autofree char *what =
                out->id
                    ? g_strdup_printf("%s: snapshot %s \"%s\"", image, id, name)
                    : g_strdup_printf("%s (libvirt save image)", image);
            g_autofree char *load =
                out->id ? g_strdup_printf("-loadvm %s", name)
                        : g_strdup_printf("virsh restore %s", image);
            fix_print_human(out, what, load, o->dry_run);
        }
    }
    /* One line per failed snapshot on stderr, as for every other error. */
    for (guint i = 0; i < outcomes->len; i++) {
        const AppOutcome *out = g_ptr_array_index(outcomes, i);
        g_autofree char *what = snapshot_what(image, out);
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
    if (a->from_scan) {
        if (c->operand[0] || snapshot) {
            return cli_usage(c, "--from-scan takes its images and "
                                "snapshots from the report");
        }
        plan = fix_plan_from_scan(a->from_scan, &err);
        if (!plan) {
            return qsnapfix_report(err);
        }
    }
    return fix_run_batch(&bo, c->operand, plan, a->resume, c->format);
}

int qsnapfix_cmd_fix(int argc, char **argv)
{
    FixOptions o = {0};
    g_autofree char *snapshot = NULL;
    g_autofree char *emulator = NULL;
    gboolean all = false, discard_original = false;
    BatchArgs a = {.jobs = 0};
    GOptionEntry entries[] = {
        {"snapshot", 's', 0, G_OPTION_ARG_STRING, &snapshot,
         "The snapshot to fix, by ID or name", "ID|NAME"},
        {"all", 'a', 0, G_OPTION_ARG_NONE, &all,
         "Fix every snapshot that holds VM state", NULL},
        {"keep-original", 0, 0, G_OPTION_ARG_NONE, &o.keep_original,
         "Keep the old VM state as snapshot NAME.orig (for undo)", NULL},
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
    int rc = fix_parse_command(&c, entries, &o, false, &argc, &argv);
    bool batch_options = a.jobs || a.from_scan || a.journal || a.resume ||
                         c.format == QSNAPFIX_OUTPUT_JSONL;

    if (rc < 0 && snapshot && all) {
        fprintf(stderr, "qsnapfix: fix: --snapshot and --all exclude each "
                        "other\n");
        rc = APP_EXIT_USAGE;
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
        struct sigaction saved[2];

        o.app.cancel = &stop_signal;
        catch_stop_signals(saved);
        outcomes = app_fix_image(image, snapshot, all, &o.app, &err);
        if (!outcomes) {
            rc = qsnapfix_report(err);
        } else {
            rc = app_outcomes_exit_code((AppOutcome *const *)outcomes->pdata,
                                        outcomes->len);
            report(&c, &o.app, image, outcomes, rc);
        }
        if (stop_signal) {
            fprintf(stderr, "qsnapfix: %s: interrupted (%s): %s\n", image,
                    stop_signal == SIGTERM ? "SIGTERM" : "SIGINT",
                    app_is_savefile(image)
                        ? "the save image is the old one or the fixed one, "
                          "as reported above"
                        : "every snapshot is either fixed completely or "
                          "unchanged, as reported above; the image is "
                          "consistent");
            rc = 128 + stop_signal;
        }
        restore_stop_signals(saved);
    }
    g_free(a.from_scan);
    g_free(a.journal);
    g_free(a.resume);
    fix_options_clear(&o);
    cli_command_clear(&c);
    return rc;
}
