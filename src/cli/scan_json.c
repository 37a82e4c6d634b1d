/*
 * `qsnapfix scan --output=json`: one document for the whole scan
 * (docs/json.md, "scan"). Writers and recipes have the shape `fix`
 * reports them in (fix_report.c), so that one parser reads both.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "scan.h"

static void json_write_plan(JsonBuilder *b, const AppScanSnapshot *ss)
{
    const AppWritePlan *w = &ss->judged.write;
    const TrResult *r = ss->judged.outcome->result;

    qsnapfix_json_begin_object(b, "fix");
    qsnapfix_json_int(b, "edits", r->edits->len);
    qsnapfix_json_int(b, "vm_state_size_after", r->new_size);
    qsnapfix_json_bool(b, "exact", w->exact);
    qsnapfix_json_int(b, "clusters_written", w->clusters_written);
    qsnapfix_json_int(b, "clusters_shared", w->clusters_shared);
    json_builder_set_member_name(b, "metadata_clusters");
    if (w->exact) {
        json_builder_add_int_value(b, (int64_t)w->metadata_clusters);
    } else {
        json_builder_add_null_value(b);
    }
    qsnapfix_json_int(b, "bytes_written", w->bytes_written);
    qsnapfix_json_int(b, "space_needed", w->space_needed);
    json_builder_end_object(b);
}

static void json_snapshot(JsonBuilder *b, const AppScanSnapshot *ss)
{
    const AppOutcome *out = ss->judged.outcome;
    const TrResult *r = out ? out->result : NULL;

    json_builder_begin_object(b);
    qsnapfix_json_str(b, "id", ss->id);
    qsnapfix_json_str(b, "name", ss->name);
    qsnapfix_json_int(b, "vm_state_size", ss->vm_state_size);
    qsnapfix_json_int(b, "date_sec", ss->date_sec);
    qsnapfix_json_str(b, "verdict", app_verdict_name(ss->judged.verdict));
    if (ss->record.kind != APP_RECORD_NONE) {
        cli_json_record(b, &ss->record);
    }
    scan_json_guest(b, &ss->guest);
    if (ss->judged.verdict == APP_VERDICT_DISK_ONLY ||
        ss->judged.verdict == APP_VERDICT_ORIGINAL) {
        json_builder_end_object(b);
        return;
    }
    fix_json_writer(b, out->writer);
    fix_json_rules(b, r, false); /* docs/json.md: without edit counts */
    if (ss->judged.verdict == APP_VERDICT_FIXABLE ||
        ss->judged.verdict == APP_VERDICT_COMPATIBLE) {
        fix_json_recipe(b, r);
    }
    if (ss->judged.verdict == APP_VERDICT_FIXABLE) {
        json_write_plan(b, ss);
    }
    fix_json_reason(b, out);
    if (ss->judged.verdict == APP_VERDICT_ERROR) {
        qsnapfix_json_int(b, "exit_code", (uint64_t)app_outcome_exit_code(out));
    }
    qsnapfix_json_begin_object(b, "analysis");
    qsnapfix_json_str(b, "path", ss->judged.path);
    qsnapfix_json_str(b, "full_walk_because", ss->judged.reason);
    qsnapfix_json_int(b, "bytes_read", ss->judged.bytes_read);
    json_builder_end_object(b);
    json_builder_end_object(b);
}

static void json_locks(JsonBuilder *b, const AppLocks *l)
{
    g_autofree char *bytes = app_locks_bytes_str(l);
    g_auto(GStrv) each = g_strsplit(bytes, " ", -1);

    json_builder_set_member_name(b, "in_use");
    if (l->probed) {
        json_builder_add_boolean_value(b, app_locks_in_use(l));
    } else {
        json_builder_add_null_value(b);
    }
    qsnapfix_json_begin_array(b, "lock_bytes");
    for (guint i = 0; each[i] && *each[i]; i++) {
        json_builder_add_int_value(b, g_ascii_strtoll(each[i], NULL, 10));
    }
    json_builder_end_array(b);
    if (!l->probed) {
        qsnapfix_json_str(b, "lock_error", l->error);
    }
}

static void json_error(JsonBuilder *b, const char *message, int code)
{
    qsnapfix_json_begin_object(b, "error");
    qsnapfix_json_str(b, "message", message);
    qsnapfix_json_int(b, "exit_code", (uint64_t)code);
    json_builder_end_object(b);
}

static void json_format(JsonBuilder *b, const AppScanImage *im)
{
    qsnapfix_json_begin_object(b, "format");
    qsnapfix_json_int(b, "version", im->version);
    qsnapfix_json_str(b, "compat", im->compat);
    qsnapfix_json_int(b, "cluster_size", im->cluster_size);
    qsnapfix_json_int(b, "virtual_size", im->virtual_size);
    qsnapfix_json_int(b, "file_size", im->file_size);
    qsnapfix_json_int(b, "refcount_bits", im->refcount_bits);
    qsnapfix_json_str(b, "compression_type", im->compression);
    qsnapfix_json_bool(b, "dirty", im->dirty);
    qsnapfix_json_bool(b, "corrupt", im->corrupt);
    qsnapfix_json_bool(b, "encrypted", im->encrypted);
    qsnapfix_json_bool(b, "lazy_refcounts", im->lazy_refcounts);
    qsnapfix_json_bool(b, "extended_l2", im->extended_l2);
    qsnapfix_json_str(b, "backing_file", im->backing_file);
    qsnapfix_json_str(b, "data_file", im->data_file);
    json_builder_end_object(b);
}

void scan_json_image(JsonBuilder *b, const AppScanImage *im)
{
    json_builder_begin_object(b);
    qsnapfix_json_str(b, "path", im->path);
    qsnapfix_json_str(b, "status", im->error ? "error" : "scanned");
    if (im->error) {
        json_error(b, im->error->message, app_exit_code(im->error));
        qsnapfix_json_int(b, "bytes_read", im->bytes_read);
        json_builder_end_object(b);
        return;
    }
    if (im->libvirt_save) {
        qsnapfix_json_begin_object(b, "libvirt_save");
        qsnapfix_json_int(b, "version", im->save_version);
        qsnapfix_json_str(b, "compression", im->save_compression);
        qsnapfix_json_str(b, "domain", im->domain);
        qsnapfix_json_int(b, "file_size", im->file_size);
        json_builder_end_object(b);
    } else {
        json_format(b, im);
    }
    json_locks(b, &im->locks);
    json_builder_set_member_name(b, "fix_blocked");
    if (im->blocker.message) {
        json_builder_begin_object(b);
        qsnapfix_json_str(b, "message", im->blocker.message);
        qsnapfix_json_int(b, "exit_code", (uint64_t)im->blocker.exit_code);
        json_builder_end_object(b);
    } else {
        json_builder_add_null_value(b);
    }
    json_builder_set_member_name(b, "leaked_clusters");
    if (im->leaks_known) {
        json_builder_add_int_value(b, (int64_t)im->leaked_clusters);
    } else {
        json_builder_add_null_value(b);
    }
    scan_json_guest(b, &im->guest);
    qsnapfix_json_begin_array(b, "snapshots");
    for (guint i = 0; i < im->snapshots->len; i++) {
        json_snapshot(b, g_ptr_array_index(im->snapshots, i));
    }
    json_builder_end_array(b);
    qsnapfix_json_int(b, "bytes_read", im->bytes_read);
    json_builder_end_object(b);
}

void scan_json_entry(JsonBuilder *b, const AppScanEntry *e)
{
    json_builder_begin_object(b);
    qsnapfix_json_str(b, "path", e->path);
    if (e->kind == APP_ENTRY_ERROR) {
        qsnapfix_json_str(b, "status", "error");
        json_error(b, e->reason, e->exit_code);
    } else {
        qsnapfix_json_str(b, "reason", e->reason);
    }
    json_builder_end_object(b);
}

void scan_json_summary(JsonBuilder *b, const AppScanSummary *s)
{
    qsnapfix_json_begin_object(b, "summary");
    qsnapfix_json_int(b, "images", s->images);
    qsnapfix_json_int(b, "scanned", s->scanned);
    qsnapfix_json_int(b, "unreadable", s->unreadable);
    qsnapfix_json_int(b, "skipped", s->skipped);
    qsnapfix_json_int(b, "in_use", s->in_use);
    qsnapfix_json_int(b, "fix_blocked", s->blocked);
    qsnapfix_json_int(b, "snapshots", s->snapshots);
    qsnapfix_json_int(b, "disk_only", s->disk_only);
    qsnapfix_json_int(b, "originals", s->originals);
    qsnapfix_json_int(b, "compatible", s->compatible);
    qsnapfix_json_int(b, "fixable", s->fixable);
    qsnapfix_json_int(b, "refused", s->refused);
    qsnapfix_json_int(b, "errors", s->errors);
    qsnapfix_json_int(b, "full_walks", s->full_walks);
    qsnapfix_json_int(b, "fix_bytes", s->fix_bytes);
    qsnapfix_json_bool(b, "fix_bytes_exact", !s->fix_bytes_estimated);
    qsnapfix_json_int(b, "bytes_read", s->bytes_read);
    json_builder_end_object(b);
}
