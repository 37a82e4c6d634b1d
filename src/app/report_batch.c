/*
 * The report of a batch fix (docs/json.md, "fix PATH..."): per image its
 * snapshots' outcomes with the VM states' hashes, the walk's skipped
 * files, and the totals, as one document or one line per image (JSONL).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "report.h"

static void report_snapshot(QjValue *list, const AppBatchSnapshot *bs)
{
    const AppOutcome *out = bs->outcome;
    const TrResult *r = out->result;
    QjValue *o = qj_append_object(list);
    QjValue *x;

    qj_set_str(o, "id", out->id);
    qj_set_str(o, "name", out->name);
    qj_set_str(o, "status", app_status_name(out->status));
    qj_set_int(o, "exit-code", app_outcome_exit_code(out));
    qj_set_bool(o, "resumed", bs->resumed);
    qj_set_bool(o, "from-journal", bs->from_journal);
    app_report_writer(o, out->writer);
    if (r) {
        app_report_rules(o, r, false);
    }
    x = qj_set_object(o, "vm-state-size");
    qj_set_uint(x, "old", out->old_size);
    qj_set_uint(x, "new", out->new_size);
    x = qj_set_object(o, "sha256");
    qj_set_str(x, "old", bs->old_sha256);
    qj_set_str(x, "new", bs->new_sha256);
    qj_set_uint(o, "bytes-written", out->write.bytes_written);
    qj_set_str(o, "kept-as", out->write.kept_as);
    if (r && (out->status == APP_FIXED || out->status == APP_COMPATIBLE)) {
        app_report_recipe(o, r);
    }
    app_report_reason(o, out);
}

void app_report_batch_image(QjValue *list, const AppBatchImage *im)
{
    QjValue *o = qj_append_object(list);
    QjValue *snapshots;

    qj_set_str(o, "image", im->path);
    qj_set_str(o, "status", app_image_status_name(im->status));
    qj_set_int(o, "exit-code", im->exit_code);
    qj_set_bool(o, "from-journal", im->from_journal);
    qj_set(o, "seconds", qj_double(im->seconds));
    app_report_reclaim(o, &im->reclaim);
    if (im->error) {
        app_report_error(o, im->error->message, im->exit_code);
    }
    snapshots = qj_set_array(o, "snapshots");
    for (guint i = 0; i < im->snapshots->len; i++) {
        report_snapshot(snapshots, g_ptr_array_index(im->snapshots, i));
    }
}

void app_report_batch_entry(QjValue *list, const AppScanEntry *e)
{
    QjValue *o = qj_append_object(list);

    qj_set_str(o, e->kind == APP_ENTRY_ERROR ? "image" : "path", e->path);
    if (e->kind == APP_ENTRY_ERROR) {
        qj_set_str(o, "status", "failed");
        qj_set_int(o, "exit-code", e->exit_code);
        app_report_error(o, e->reason, e->exit_code);
    } else {
        qj_set_str(o, "reason", e->reason);
    }
}

static void report_summary(QjValue *report, const AppBatchSummary *s)
{
    QjValue *o = qj_set_object(report, "summary");
    QjValue *x;
    g_autoptr(GList) keys = g_hash_table_get_keys(s->writers);

    qj_set_int(o, "images", s->images);
    qj_set_int(o, "fixed", s->fixed);
    qj_set_int(o, "compatible", s->compatible);
    qj_set_int(o, "skipped", s->skipped);
    qj_set_int(o, "failed", s->failed);
    qj_set_int(o, "from-journal", s->from_journal);
    qj_set_int(o, "files-skipped", s->walk_skipped);
    x = qj_set_object(o, "snapshots");
    qj_set_int(x, "total", s->snapshots);
    qj_set_int(x, "fixed", s->snap_fixed);
    qj_set_int(x, "compatible", s->snap_compatible);
    qj_set_int(x, "refused", s->snap_refused);
    qj_set_int(x, "errors", s->snap_errors);
    /* writers in name order: the same report for the same batch */
    x = qj_set_object(o, "writers");
    keys = g_list_sort(keys, (GCompareFunc)strcmp);
    for (GList *l = keys; l; l = l->next) {
        qj_set_int(x, l->data,
                   GPOINTER_TO_UINT(g_hash_table_lookup(s->writers, l->data)));
    }
    qj_set_uint(o, "bytes-written", s->bytes_written);
    qj_set_uint(o, "vm-state-bytes-fixed", s->vm_state_bytes);
    qj_set(o, "seconds", qj_double(s->seconds));
}

QjValue *app_report_batch_new(const AppBatchOptions *o)
{
    QjValue *report = app_report_new();

    qj_set_str(
        report, "target",
        tr_target_name(o->fix.target ? o->fix.target : tr_target_default()));
    qj_set_bool(report, "dry-run", o->fix.dry_run);
    qj_set_str(report, "batch", o->fix.batch_id);
    qj_set_str(report, "journal", o->journal);
    return report;
}

void app_report_batch_end(QjValue *report, const AppBatchSummary *s)
{
    report_summary(report, s);
    qj_set_int(report, "exit-code", s->exit_code);
}
