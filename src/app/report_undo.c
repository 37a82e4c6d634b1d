/*
 * The report of undo and drop-originals (docs/json.md): per image what
 * happened to each snapshot, and the totals.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "report.h"

static void report_outcome(QjValue *list, const AppUndoOutcome *u)
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
        app_report_error(o, u->error->message, app_exit_code(u->error));
    } else if (u->error) {
        qj_set_str(o, "reason", u->error->message);
    }
}

QjValue *app_report_undo_new(const AppUndoRunOptions *o, QjValue **images)
{
    QjValue *report = app_report_new();

    qj_set_bool(report, "dry-run", o->dry_run);
    qj_set_str(report, "journal", o->journal);
    *images = qj_set_array(report, "images");
    return report;
}

void app_report_undo_image(QjValue *images, const AppUndoImage *im)
{
    QjValue *o = qj_append_object(images);
    QjValue *snapshots;

    qj_set_str(o, "image", im->path);
    if (!im->outcomes) {
        app_report_failure(o, im->error, im->exit_code);
        return;
    }
    snapshots = qj_set_array(o, "snapshots");
    for (guint i = 0; i < im->outcomes->len; i++) {
        report_outcome(snapshots, g_ptr_array_index(im->outcomes, i));
    }
    qj_set_int(o, "exit-code", im->exit_code);
}

void app_report_undo_end(QjValue *report, const AppUndoTotals *t)
{
    QjValue *summary = qj_set_object(report, "summary");

    qj_set_int(summary, "done", t->done);
    qj_set_int(summary, "nothing-to-do", t->nothing);
    qj_set_int(summary, "failed", t->failed);
    qj_set_int(report, "exit-code", t->exit_code);
}
