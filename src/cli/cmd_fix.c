/*
 * qsnapfix fix IMAGE [--snapshot ID|NAME | --all]: translate snapshots'
 * VM state in place so that the target QEMU loads them. The work is
 * app_fix_image() (src/app/fix.h): per snapshot, parse to EOF, run the
 * rules, write the recipe's files, splice the edits copy-on-write, read
 * back, parse and run the rules again. Here: options and the report.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <signal.h>
#include <string.h>

#include "app/fix.h"
#include "fix.h"

static const char fix_description_head[] =
    "Make the VM state of IMAGE's internal snapshots load in the target\n"
    "QEMU. With one snapshot holding VM state, that one is fixed; with\n"
    "several, name one (--snapshot, by ID or name as QEMU looks it up) or\n"
    "use --all. The rewrite is copy-on-write (unchanged clusters stay\n"
    "shared) and the snapshot table is switched in one atomic write; the\n"
    "result is read back and checked before success is reported.\n"
    "--keep-original keeps the old VM state as snapshot NAME.orig.\n"
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

static char *snapshot_what(const char *image, const AppOutcome *out)
{
    return g_strdup_printf("%s: snapshot %s \"%s\"", image, out->id, out->name);
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

    for (guint i = 0; i < outcomes->len; i++) {
        snapshot_state(g, g_ptr_array_index(outcomes, i), &leaks);
    }
    return g_strdup_printf(
        "%s: interrupted (%s): %s; the image is consistent%s%s", path,
        sig == SIGTERM ? "SIGTERM" : "SIGINT",
        g->len ? g->str : "no snapshot begun, nothing written",
        leaks ? " (leaked clusters may remain: qemu-img check -r leaks " : "",
        leaks ? path : "");
}

static void report(const CliCommand *c, const AppOptions *o, const char *image,
                   GPtrArray *outcomes, int rc, const char *interrupted)
{
    if (c->format == QSNAPFIX_OUTPUT_JSON) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "image");
        json_builder_add_string_value(b, image);
        json_builder_set_member_name(b, "interrupted");
        if (interrupted) {
            json_builder_begin_object(b);
            qsnapfix_json_str(b, "signal",
                              stop_signal == SIGTERM ? "SIGTERM" : "SIGINT");
            qsnapfix_json_str(b, "state", interrupted);
            json_builder_end_object(b);
        } else {
            json_builder_add_null_value(b);
        }
        fix_print_json_report(b, o, (AppOutcome *const *)outcomes->pdata,
                              outcomes->len, rc);
    } else {
        for (guint i = 0; i < outcomes->len; i++) {
            const AppOutcome *out = g_ptr_array_index(outcomes, i);
            g_autofree char *id = qsnapfix_printable(out->id);
            g_autofree char *name = qsnapfix_printable(out->name);
            g_autofree char *what =
                g_strdup_printf("%s: snapshot %s \"%s\"", image, id, name);
            g_autofree char *load = g_strdup_printf("-loadvm %s", name);
            fix_print_human(out, what, load, o->dry_run);
        }
    }
    fix_print_leaks_human(image, (AppOutcome *const *)outcomes->pdata,
                          outcomes->len);
    /* One line per failed snapshot on stderr, as for every other error. */
    for (guint i = 0; i < outcomes->len; i++) {
        const AppOutcome *out = g_ptr_array_index(outcomes, i);
        g_autofree char *what = snapshot_what(image, out);
        fix_print_failure(out, what);
    }
}

int qsnapfix_cmd_fix(int argc, char **argv)
{
    FixOptions o = {0};
    g_autofree char *snapshot = NULL;
    gboolean all = false;
    GOptionEntry entries[] = {
        {"snapshot", 's', 0, G_OPTION_ARG_STRING, &snapshot,
         "The snapshot to fix, by ID or name", "ID|NAME"},
        {"all", 'a', 0, G_OPTION_ARG_NONE, &all,
         "Fix every snapshot that holds VM state", NULL},
        {"keep-original", 0, 0, G_OPTION_ARG_NONE, &o.keep_original,
         "Keep the old VM state as snapshot NAME.orig", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autofree char *common = fix_common_help(true);
    g_autofree char *description =
        g_strconcat(fix_description_head, common, NULL);
    CliCommand c = {
        .name = "fix",
        .operands = "IMAGE",
        .min_operands = 1,
        .max_operands = 1,
        .operands_error = "need exactly one IMAGE",
        .summary = "qsnapfix fix: make old snapshots load in today's QEMU",
        .description = description,
        .with_output = true,
    };
    int rc = fix_parse_command(&c, entries, &o, false, &argc, &argv);

    if (rc < 0 && snapshot && all) {
        fprintf(stderr, "qsnapfix: fix: --snapshot and --all exclude each "
                        "other\n");
        rc = APP_EXIT_USAGE;
    }
    if (rc < 0) {
        g_autoptr(GError) err = NULL;
        const char *image = c.operand[0];
        g_autoptr(GPtrArray) outcomes = NULL;

        o.app.cancel = &stop_signal;
        catch_stop_signals();
        outcomes = app_fix_image(image, snapshot, all, &o.app, &err);
        if (!outcomes) {
            rc = qsnapfix_report(err);
        } else {
            g_autofree char *interrupted =
                stop_signal ? interrupted_state(image, outcomes, stop_signal)
                            : NULL;

            rc = stop_signal
                     ? 128 + stop_signal
                     : app_outcomes_exit_code(
                           (AppOutcome *const *)outcomes->pdata, outcomes->len);
            report(&c, &o.app, image, outcomes, rc, interrupted);
            if (interrupted) {
                fprintf(stderr, "qsnapfix: %s\n", interrupted);
            }
        }
        if (stop_signal && !outcomes) {
            g_autofree char *path = qsnapfix_printable(image);
            fprintf(stderr,
                    "qsnapfix: %s: interrupted (%s): nothing written; the "
                    "image is consistent\n",
                    path, stop_signal == SIGTERM ? "SIGTERM" : "SIGINT");
            rc = 128 + stop_signal;
        }
    }
    fix_options_clear(&o);
    cli_command_clear(&c);
    return rc;
}
