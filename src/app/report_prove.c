/*
 * The report of prove (docs/json.md, "prove"): per snapshot whether it
 * loaded, the QEMU command line run, what QEMU printed, and the rules
 * and recipe as fix reports them.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "report.h"

static void report_strings(QjValue *o, const char *name, const GPtrArray *a)
{
    QjValue *list = qj_set_array(o, name);

    for (guint i = 0; i < a->len; i++) {
        qj_append_str(list, g_ptr_array_index(a, i));
    }
}

static void report_proof(QjValue *snapshots, const AppProof *p,
                         const char *const *command)
{
    const AppOutcome *o = p->outcome;
    const TrResult *r = o->result;
    QjValue *j = qj_append_object(snapshots);
    QjValue *argv;

    qj_set_str(j, "id", o->id);
    qj_set_str(j, "name", o->name);
    qj_set_str(j, "status", app_proof_status_name(p->status));
    qj_set_int(j, "exit-code", app_proof_exit_code(p));
    qj_set_str(j, "reason",
               p->status == APP_PROOF_ERROR && o->error ? o->error->message
                                                        : p->reason);
    app_report_writer(j, o->writer);
    app_report_rules(j, r, false);
    qj_set_bool(j, "edited", p->edited);
    qj_set_str(j, "qemu-version", p->qemu_version);
    argv = qj_set_array(j, "qemu-argv");
    for (guint i = 0; p->argv->len && command[i]; i++) {
        qj_append_str(argv, command[i]);
    }
    for (guint i = 0; i < p->argv->len; i++) {
        qj_append_str(argv, g_ptr_array_index(p->argv, i));
    }
    qj_set_str(j, "run-state", p->run_state);
    qj_set(j, "seconds", qj_double(p->seconds));
    qj_set_uint(j, "stream-bytes", p->bytes);
    report_strings(j, "expected-warnings-seen", p->expected);
    report_strings(j, "qemu-output", p->other);
    report_strings(j, "vm-args-notes", p->vm_notes);
    if (r && p->status != APP_PROOF_REFUSED) {
        app_report_recipe(j, r);
    } else {
        qj_set_null(j, "recipe");
    }
}

QjValue *app_report_prove_new(const char *path, const char *target,
                              AppQemu *qemu)
{
    QjValue *json = app_report_new();

    qj_set_str(json, "path", path);
    qj_set_str(json, "target", target);
    qj_set_str(json, "qemu", qemu ? app_qemu_program(qemu) : NULL);
    return json;
}

void app_report_proofs(QjValue *report, AppQemu *qemu, GPtrArray *proofs,
                       int rc)
{
    QjValue *snapshots = qj_set_array(report, "snapshots");

    for (guint i = 0; i < proofs->len; i++) {
        report_proof(snapshots, g_ptr_array_index(proofs, i),
                     app_qemu_command(qemu));
    }
    qj_set_int(report, "exit-code", rc);
}
