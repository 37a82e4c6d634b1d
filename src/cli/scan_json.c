/*
 * `qsnapfix scan --output=json`: one document for the whole scan
 * (docs/json.md, "scan"). Writers and recipes have the shape `fix`
 * reports them in (fix_report.c), so that one parser reads both.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "scan.h"

static void add_str(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    if (value) {
        g_autofree char *p = qsnapfix_printable(value);
        json_builder_add_string_value(b, p);
    } else {
        json_builder_add_null_value(b);
    }
}

static void add_int(JsonBuilder *b, const char *name, uint64_t value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, (int64_t)value);
}

static void add_bool(JsonBuilder *b, const char *name, bool value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_boolean_value(b, value);
}

static void add_strings(JsonBuilder *b, const char *name, GPtrArray *a)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_array(b);
    for (guint i = 0; a && i < a->len; i++) {
        g_autofree char *p = qsnapfix_printable(g_ptr_array_index(a, i));
        json_builder_add_string_value(b, p);
    }
    json_builder_end_array(b);
}

static void json_writer(JsonBuilder *b, const VmsWriterInfo *w)
{
    json_builder_set_member_name(b, "writer");
    if (!w) {
        json_builder_add_null_value(b);
        return;
    }
    json_builder_begin_object(b);
    add_str(b, "program", w->program);
    add_str(b, "version", w->version);
    add_str(b, "accel", w->accel);
    add_str(b, "machine", w->machine);
    add_strings(b, "machine_hints", w->machine_hints);
    add_strings(b, "evidence", w->evidence);
    json_builder_end_object(b);
}

static void json_rules(JsonBuilder *b, const TrResult *r)
{
    json_builder_set_member_name(b, "rules");
    json_builder_begin_array(b);
    for (guint i = 0; r && i < r->findings->len; i++) {
        const TrFinding *f = g_ptr_array_index(r->findings, i);
        json_builder_begin_object(b);
        add_str(b, "id", f->rule);
        add_str(b, "title", f->title);
        add_str(b, "action", tr_action_name(f->action));
        add_str(b, "subject", f->subject);
        add_str(b, "evidence", f->evidence);
        add_str(b, "change", f->change);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

/* The recipe in the shape `fix` reports it (fix_report.c). */
static void json_recipe(JsonBuilder *b, const TrResult *r)
{
    const TrRecipe *rc = r->recipe;
    g_autofree char *line = tr_recipe_command_line(rc);

    json_builder_set_member_name(b, "recipe");
    json_builder_begin_object(b);
    add_str(b, "target", tr_target_name(r->target));
    add_str(b, "machine", rc->machine);
    add_str(b, "accel", rc->accel);
    add_str(b, "accel_reason", rc->accel_reason);
    add_strings(b, "qemu_args", rc->qemu_args);
    add_str(b, "command_line", line);
    json_builder_set_member_name(b, "files");
    json_builder_begin_array(b);
    for (guint i = 0; i < rc->files->len; i++) {
        const TrFile *f = g_ptr_array_index(rc->files, i);
        json_builder_begin_object(b);
        add_str(b, "kind", tr_file_kind_name(f->kind));
        add_str(b, "block", f->block);
        add_str(b, "path", f->path);
        add_int(b, "length", f->length);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "cpu");
    if (rc->cpu_model) {
        json_builder_begin_object(b);
        add_str(b, "model", rc->cpu_model);
        add_str(b, "model_id", rc->cpu_model_id);
        add_str(b, "reason", rc->cpu_reason);
        json_builder_end_object(b);
    } else {
        json_builder_add_null_value(b);
    }
    add_strings(b, "libvirt_xml", rc->libvirt_xml);
    add_strings(b, "notes", rc->notes);
    json_builder_end_object(b);
}

static void json_write_plan(JsonBuilder *b, const ScanSnapshot *ss)
{
    const ScanWritePlan *w = &ss->write;
    const TrResult *r = ss->outcome->result;

    json_builder_set_member_name(b, "fix");
    json_builder_begin_object(b);
    add_int(b, "edits", r->edits->len);
    add_int(b, "vm_state_size_after", r->new_size);
    add_bool(b, "exact", w->exact);
    add_int(b, "clusters_written", w->clusters_written);
    add_int(b, "clusters_shared", w->clusters_shared);
    json_builder_set_member_name(b, "metadata_clusters");
    if (w->exact) {
        json_builder_add_int_value(b, (int64_t)w->metadata_clusters);
    } else {
        json_builder_add_null_value(b);
    }
    add_int(b, "bytes_written", w->bytes_written);
    json_builder_end_object(b);
}

static void json_snapshot(JsonBuilder *b, const ScanSnapshot *ss)
{
    const FixOutcome *out = ss->outcome;
    const TrResult *r = out ? out->result : NULL;

    json_builder_begin_object(b);
    add_str(b, "id", ss->id);
    add_str(b, "name", ss->name);
    add_int(b, "vm_state_size", ss->vm_state_size);
    add_int(b, "date_sec", ss->date_sec);
    add_str(b, "verdict", scan_verdict_name(ss->verdict));
    if (ss->verdict == SCAN_DISK_ONLY) {
        json_builder_end_object(b);
        return;
    }
    json_writer(b, out->writer);
    json_rules(b, r);
    if (ss->verdict == SCAN_FIXABLE || ss->verdict == SCAN_COMPATIBLE) {
        json_recipe(b, r);
    }
    if (ss->verdict == SCAN_FIXABLE) {
        json_write_plan(b, ss);
    }
    if (ss->verdict == SCAN_REFUSED) {
        const TrFinding *f = tr_result_refusal(r);
        g_autofree char *reason =
            g_strdup_printf("%s %s: %s", f->rule, f->subject, f->change);
        add_str(b, "reason", reason);
    } else if (ss->verdict == SCAN_ERROR) {
        add_str(b, "reason", out->error ? out->error->message : NULL);
        add_int(b, "exit_code", (uint64_t)fix_outcome_exit_code(out));
    }
    json_builder_set_member_name(b, "analysis");
    json_builder_begin_object(b);
    add_str(b, "path", ss->path);
    add_str(b, "full_walk_because", ss->reason);
    add_int(b, "bytes_read", ss->bytes_read);
    json_builder_end_object(b);
    json_builder_end_object(b);
}

static void json_locks(JsonBuilder *b, const ScanLocks *l)
{
    g_autofree char *bytes = scan_locks_bytes_str(l);
    g_auto(GStrv) each = g_strsplit(bytes, " ", -1);

    json_builder_set_member_name(b, "in_use");
    if (l->probed) {
        json_builder_add_boolean_value(b, scan_locks_in_use(l));
    } else {
        json_builder_add_null_value(b);
    }
    json_builder_set_member_name(b, "lock_bytes");
    json_builder_begin_array(b);
    for (guint i = 0; each[i] && *each[i]; i++) {
        json_builder_add_int_value(b, g_ascii_strtoll(each[i], NULL, 10));
    }
    json_builder_end_array(b);
    if (!l->probed) {
        add_str(b, "lock_error", l->error);
    }
}

static void json_error(JsonBuilder *b, const char *message, int code)
{
    json_builder_set_member_name(b, "error");
    json_builder_begin_object(b);
    add_str(b, "message", message);
    add_int(b, "exit_code", (uint64_t)code);
    json_builder_end_object(b);
}

static void json_format(JsonBuilder *b, const ScanImage *im)
{
    json_builder_set_member_name(b, "format");
    json_builder_begin_object(b);
    add_int(b, "version", im->version);
    add_str(b, "compat", im->version == 2 ? "0.10" : "1.1");
    add_int(b, "cluster_size", im->cluster_size);
    add_int(b, "virtual_size", im->virtual_size);
    add_int(b, "file_size", im->file_size);
    add_int(b, "refcount_bits", im->refcount_bits);
    add_str(b, "compression_type", im->compression);
    add_bool(b, "dirty", im->dirty);
    add_bool(b, "corrupt", im->corrupt);
    add_bool(b, "encrypted", im->encrypted);
    add_bool(b, "lazy_refcounts", im->lazy_refcounts);
    add_bool(b, "extended_l2", im->extended_l2);
    add_str(b, "backing_file", im->backing_file);
    add_str(b, "data_file", im->data_file);
    json_builder_end_object(b);
}

void scan_json_image(JsonBuilder *b, const ScanImage *im)
{
    json_builder_begin_object(b);
    add_str(b, "path", im->path);
    add_str(b, "status", im->error ? "error" : "scanned");
    if (im->error) {
        json_error(b, im->error->message, qsnapfix_exit_code(im->error));
        add_int(b, "bytes_read", im->bytes_read);
        json_builder_end_object(b);
        return;
    }
    json_format(b, im);
    json_locks(b, &im->locks);
    json_builder_set_member_name(b, "fix_blocked");
    if (im->blocker.message) {
        json_builder_begin_object(b);
        add_str(b, "message", im->blocker.message);
        add_int(b, "exit_code", (uint64_t)im->blocker.exit_code);
        json_builder_end_object(b);
    } else {
        json_builder_add_null_value(b);
    }
    json_builder_set_member_name(b, "snapshots");
    json_builder_begin_array(b);
    for (guint i = 0; i < im->snapshots->len; i++) {
        json_snapshot(b, g_ptr_array_index(im->snapshots, i));
    }
    json_builder_end_array(b);
    add_int(b, "bytes_read", im->bytes_read);
    json_builder_end_object(b);
}

void scan_json_entry(JsonBuilder *b, const ScanEntry *e)
{
    json_builder_begin_object(b);
    add_str(b, "path", e->path);
    if (e->kind == SCAN_ENTRY_ERROR) {
        add_str(b, "status", "error");
        json_error(b, e->reason, e->exit_code);
    } else {
        add_str(b, "reason", e->reason);
    }
    json_builder_end_object(b);
}

void scan_json_summary(JsonBuilder *b, const ScanSummary *s)
{
    json_builder_set_member_name(b, "summary");
    json_builder_begin_object(b);
    add_int(b, "images", s->images);
    add_int(b, "scanned", s->scanned);
    add_int(b, "unreadable", s->unreadable);
    add_int(b, "skipped", s->skipped);
    add_int(b, "in_use", s->in_use);
    add_int(b, "fix_blocked", s->blocked);
    add_int(b, "snapshots", s->snapshots);
    add_int(b, "disk_only", s->disk_only);
    add_int(b, "compatible", s->compatible);
    add_int(b, "fixable", s->fixable);
    add_int(b, "refused", s->refused);
    add_int(b, "errors", s->errors);
    add_int(b, "full_walks", s->full_walks);
    add_int(b, "fix_bytes", s->fix_bytes);
    add_bool(b, "fix_bytes_exact", !s->fix_bytes_estimated);
    add_int(b, "bytes_read", s->bytes_read);
    json_builder_end_object(b);
}
