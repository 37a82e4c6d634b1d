/*
 * qsnapfix prove IMAGE|STREAM [--snapshot ID|NAME | --all] [-- VM-OPTION...]:
 * load the VM state in the target QEMU, paused, with the recipe and the
 * VM's own devices, and tell whether it loads -- the guest never runs and
 * nothing is written. The work is app_prove_path() (src/app/prove.h).
 * Here: options and the report.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "app/prove.h"
#include "app/report.h"
#include "app/vm_args.h"
#include "fix.h"

static const char prove_description_head[] =
    "Load the VM state of IMAGE's snapshots (or of a migration stream\n"
    "file) into the target QEMU, started paused (-S) with the recipe the\n"
    "rules give, the VM's own options (after '--', or from a libvirt\n"
    "domain) and -incoming: QMP says whether the load succeeded, then QEMU\n"
    "quits. The guest never runs. Unless --as-is, the stream loaded is the\n"
    "one fix would write (its edits applied on the fly); nothing of the\n"
    "user's is written: the disks are read through -snapshot, every\n"
    "network backend becomes user networking with restrict=on and no\n"
    "forwarded ports, character devices and audio backends null.\n"
    "\n"
    "  --qemu CMD      the target QEMU (a program, or a wrapper command with\n"
    "                  its arguments); default: qemu-system-x86_64 in PATH,\n"
    "                  which must be the target's release\n"
    "  --vm-args ARGS  the VM's options as one shell-quoted string\n"
    "  --domain NAME, --domain-xml FILE  the VM's options from libvirt\n"
    "                  (virsh domxml-to-native qemu-argv)\n"
    "  --as-is         load the stream as it is now, without the fix's edits\n"
    "  --timeout SEC   how long the load may take (default: 60 s and a\n"
    "                  second per 32 MiB of VM state)\n"
    "\n"
    "Exit codes: 0 loads; 19 does not load (QEMU's error is printed);\n"
    "4 refused by the rules (nothing to load); 20 not proven here (no such\n"
    "QEMU, another release than the target, no KVM for a KVM stream);\n"
    "15 several snapshots with different results; others as for fix.\n"
    "\n";

/* (no id: a stream file) */
static char *what_of(const char *path, const AppProof *p)
{
    return cli_snapshot_label(path, p->outcome->id, p->outcome->name);
}

static void append_word(GString *g, const char *a)
{
    g_autofree char *q = g_shell_quote(a);

    g_string_append_printf(g, "%s%s", g->len ? " " : "",
                           strpbrk(a, " '\"\\$") ? q : a);
}

/* The whole command line run: the QEMU command and the proof's options. */
static char *argv_line(const GPtrArray *argv, const char *const *command)
{
    GString *g = g_string_new(NULL);

    for (guint i = 0; command[i]; i++) {
        append_word(g, command[i]);
    }
    for (guint i = 0; i < argv->len; i++) {
        append_word(g, g_ptr_array_index(argv, i));
    }
    return g_string_free(g, FALSE);
}

static void print_human(const char *path, const AppProof *p, const char *target,
                        const char *const *command)
{
    g_autofree char *what = what_of(path, p);
    const AppOutcome *o = p->outcome;
    const TrResult *r = o->result;
    g_autofree char *short_version = app_qemu_version_short(p->qemu_version);
    g_autofree char *qemu = g_strdup_printf("QEMU %s", short_version);

    switch (p->status) {
    case APP_PROOF_LOADS:
        printf("%s: loads in %s (%s), paused after %.1f s; the guest never "
               "ran\n",
               what, target, qemu, p->seconds);
        break;
    case APP_PROOF_FAILS:
        printf("%s: does not load in %s (%s): %s\n", what, target, qemu,
               p->reason);
        break;
    case APP_PROOF_REFUSED: {
        const TrFinding *f = tr_result_refusal(r);
        printf("%s: refused by %s (%s): %s; nothing to load\n", what, f->rule,
               f->subject, f->change);
        return;
    }
    case APP_PROOF_UNPROVEN:
        printf("%s: not proven here: %s\n", what, p->reason);
        return;
    case APP_PROOF_ERROR:
        printf("%s: error: %s\n", what,
               o->error ? o->error->message : "internal error");
        return;
    }
    if (o->writer) {
        g_autofree char *who = cli_writer_str(o->writer);
        printf("  writer:   %s\n", who);
    }
    printf("  stream:   %s\n",
           p->edited ? "as fix writes it (its edits applied)" : "as it is");
    g_autofree char *line = argv_line(p->argv, command);
    printf("  qemu:     %s\n", line);
    for (guint i = 0; i < p->expected->len; i++) {
        printf("  expected: %s (the recipe said so)\n",
               (char *)g_ptr_array_index(p->expected, i));
    }
    for (guint i = 0; p->status == APP_PROOF_LOADS && i < p->other->len; i++) {
        printf("  printed:  %s\n", (char *)g_ptr_array_index(p->other, i));
    }
    for (guint i = 0; i < p->vm_notes->len; i++) {
        printf("  vm:       %s\n", (char *)g_ptr_array_index(p->vm_notes, i));
    }
}

static void report(const CliCommand *c, const char *path, const char *target,
                   AppQemu *qemu, GPtrArray *proofs, int rc)
{
    if (c->format == QSNAPFIX_OUTPUT_JSON) {
        g_autoptr(QjValue) json = app_report_prove_new(path, target, qemu);
        app_report_proofs(json, qemu, proofs, rc);
        qj_print(json);
    } else {
        for (guint i = 0; i < proofs->len; i++) {
            print_human(path, g_ptr_array_index(proofs, i), target,
                        app_qemu_command(qemu));
        }
    }
    for (guint i = 0; i < proofs->len; i++) {
        const AppProof *p = g_ptr_array_index(proofs, i);
        g_autofree char *what = what_of(path, p);
        if (p->status == APP_PROOF_FAILS) {
            fprintf(stderr, "qsnapfix: %s: does not load in %s: %s\n", what,
                    target, p->reason);
        } else if (p->status == APP_PROOF_UNPROVEN) {
            fprintf(stderr, "qsnapfix: %s: not proven: %s\n", what, p->reason);
        } else {
            fix_print_failure(p->outcome, what);
        }
    }
}

int qsnapfix_cmd_prove(int argc, char **argv)
{
    FixOptions o = {0};
    g_autofree char *snapshot = NULL, *vm_args = NULL, *domain = NULL,
                    *domain_xml = NULL;
    gboolean all = false, as_is = false;
    double timeout = 0;
    GOptionEntry entries[] = {
        {"snapshot", 's', 0, G_OPTION_ARG_FILENAME, &snapshot,
         "The snapshot to prove, by ID or name", "ID|NAME"},
        {"all", 'a', 0, G_OPTION_ARG_NONE, &all,
         "Prove every snapshot that holds VM state", NULL},
        {"vm-args", 0, 0, G_OPTION_ARG_STRING, &vm_args,
         "The VM's own QEMU options, shell-quoted", "ARGS"},
        {"domain", 0, 0, G_OPTION_ARG_STRING, &domain,
         "The VM's options from this libvirt domain", "NAME"},
        {"domain-xml", 0, 0, G_OPTION_ARG_FILENAME, &domain_xml,
         "The VM's options from this libvirt domain XML file", "FILE"},
        {"as-is", 0, 0, G_OPTION_ARG_NONE, &as_is,
         "Load the stream as it is, without the fix's edits", NULL},
        {"timeout", 0, 0, G_OPTION_ARG_DOUBLE, &timeout,
         "Seconds the load may take (default: by size)", "SEC"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autofree char *common = fix_common_help(false);
    g_autofree char *description =
        g_strconcat(prove_description_head, common, NULL);
    CliCommand c = {
        .name = "prove",
        .operands = "IMAGE|STREAM [-- VM-OPTION...]",
        .min_operands = 1,
        .operands_error = "need IMAGE or STREAM (and the VM's options after "
                          "'--')",
        .summary = "qsnapfix prove: load a snapshot in the target QEMU, "
                   "paused, and tell whether it loads",
        .description = description,
        .with_output = true,
    };
    int rc = fix_parse_command(
        &c, entries, &o, FIX_HIDE_DRY_RUN | FIX_HIDE_ROM_DIR, &argc, &argv);
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) vm = NULL;
    g_autoptr(AppQemu) qemu = NULL;

    if (rc < 0 && snapshot && all) {
        rc = cli_usage(&c, "--snapshot and --all exclude each other");
    }
    if (rc < 0 && (!(vm = app_vm_args_pick(c.operand + 1, vm_args, domain,
                                           domain_xml, &err)) ||
                   !(qemu = app_qemu_new(o.qemu, &err)) ||
                   (!o.qemu_profiled &&
                    !app_prove_qemu_is_target(qemu, o.app.target, &err)))) {
        rc = cli_fail(&c,
                      app_report_prove_new(c.operand[0],
                                           tr_target_name(o.app.target), qemu),
                      err);
    }
    if (rc < 0) {
        const char *path = c.operand[0];
        const char *target = tr_target_name(o.app.target);
        AppProveOptions po = {.qemu = qemu,
                              .vm_args = (const char *const *)vm,
                              .as_is = as_is,
                              .timeout = timeout};
        g_autoptr(GPtrArray) proofs =
            app_prove_path(path, snapshot, all, &o.app, &po, &err);

        if (!proofs) {
            rc = cli_fail(&c, app_report_prove_new(path, target, qemu), err);
        } else {
            rc = app_proofs_exit_code((AppProof *const *)proofs->pdata,
                                      proofs->len);
            report(&c, path, target, qemu, proofs, rc);
        }
    }
    fix_options_clear(&o);
    cli_command_clear(&c);
    return rc;
}
