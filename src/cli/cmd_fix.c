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

int qsnapfix_cmd_fix(int argc, char **argv)
{
    FixOptions o = {0};
    g_autofree char *snapshot = NULL;
    g_autofree char *emulator = NULL;
    gboolean all = false, discard_original = false;
    GOptionEntry entries[] = {
        {"snapshot", 's', 0, G_OPTION_ARG_STRING, &snapshot,
         "The snapshot to fix, by ID or name", "ID|NAME"},
        {"all", 'a', 0, G_OPTION_ARG_NONE, &all,
         "Fix every snapshot that holds VM state", NULL},
        {"keep-original", 0, 0, G_OPTION_ARG_NONE, &o.keep_original,
         "Keep the old VM state as snapshot NAME.orig", NULL},
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
        struct sigaction saved[2];

        o.app.discard_original = discard_original;
        o.app.emulator = emulator;
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
    fix_options_clear(&o);
    cli_command_clear(&c);
    return rc;
}
