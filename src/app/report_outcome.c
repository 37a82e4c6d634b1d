/*
 * A VM state's outcome in JSON: who wrote it, the rules, the edits, the
 * recipe, what the write did with the disk's space; and the whole report
 * of fix and translate. scan, batches and prove report writers, rules
 * and recipes in these same shapes, so that one parser reads them all.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "libvirt/render.h"
#include "report.h"

void app_report_reason(QjValue *o, const AppOutcome *out)
{
    if (out->status == APP_REFUSED || out->status == APP_ERROR) {
        g_autofree char *reason = app_outcome_reason(out);
        qj_set_str(o, "reason", reason);
    }
}

void app_report_writer(QjValue *o, const VmsWriterInfo *w)
{
    QjValue *writer;

    if (!w) {
        qj_set_null(o, "writer");
        return;
    }
    writer = qj_set_object(o, "writer");
    qj_set_str(writer, "program", w->program);
    qj_set_str(writer, "version", w->version);
    qj_set_bool(writer, "translated", w->translated);
    qj_set_str(writer, "translated-for", w->translated_for);
    qj_set_str(writer, "accel", w->accel);
    qj_set_str(writer, "machine", w->machine);
    qj_set_strings(writer, "machine-hints", w->machine_hints);
    qj_set_strings(writer, "evidence", w->evidence);
}

void app_report_rules(QjValue *o, const TrResult *r, bool edit_counts)
{
    QjValue *rules = qj_set_array(o, "rules");

    for (guint i = 0; r && i < r->findings->len; i++) {
        const TrFinding *f = g_ptr_array_index(r->findings, i);
        QjValue *rule = qj_append_object(rules);
        qj_set_str(rule, "id", f->rule);
        qj_set_str(rule, "title", f->title);
        qj_set_str(rule, "action", tr_action_name(f->action));
        qj_set_str(rule, "subject", f->subject);
        qj_set_str(rule, "evidence", f->evidence);
        qj_set_str(rule, "change", f->change);
        if (f->action == TR_ACTION_REFUSE) {
            QjValue *way = qj_set_object(rule, "way-out");
            qj_set_str(way, "option", f->way_out);
            qj_set_str(way, "risk", f->risk);
            qj_set_str(way, "why-none", f->no_way_out);
        } else {
            qj_set_null(rule, "way-out");
        }
        if (edit_counts) {
            qj_set_int(rule, "edits", f->n_edits);
        }
    }
}

static void report_edits(QjValue *o, const TrResult *r)
{
    QjValue *edits = qj_set_array(o, "edits");

    for (guint i = 0; r && i < r->edits->len; i++) {
        const TrEdit *e = &g_array_index(r->edits, TrEdit, i);
        QjValue *edit = qj_append_object(edits);
        qj_set_int(edit, "offset", e->offset);
        qj_set_int(edit, "old-length", e->old_length);
        qj_set_int(edit, "length", g_bytes_get_size(e->data));
    }
}

void app_report_recipe(QjValue *o, const TrResult *r)
{
    const TrRecipe *rc = r->recipe;
    g_autofree char *line = tr_recipe_command_line(rc);
    g_autoptr(GPtrArray) args = tr_recipe_qemu_args(rc);
    g_autoptr(GPtrArray) xml = qsnapfix_libvirt_xml(rc);
    QjValue *recipe = qj_set_object(o, "recipe");
    QjValue *files, *warnings;

    qj_set_str(recipe, "target", tr_target_name(r->target));
    qj_set_str(recipe, "machine", rc->machine);
    qj_set_str(recipe, "accel", rc->accel);
    qj_set_str(recipe, "accel-reason", rc->accel_reason);
    qj_set_strings(recipe, "qemu-args", args);
    qj_set_str(recipe, "command-line", line);
    files = qj_set_array(recipe, "files");
    for (guint i = 0; i < rc->files->len; i++) {
        const TrFile *f = g_ptr_array_index(rc->files, i);
        QjValue *file = qj_append_object(files);
        qj_set_str(file, "kind", tr_file_kind_name(f->kind));
        qj_set_str(file, "block", f->block);
        qj_set_str(file, "path", f->path);
        qj_set_int(file, "length", f->length);
    }
    if (rc->cpu_model) {
        QjValue *cpu = qj_set_object(recipe, "cpu");
        qj_set_str(cpu, "model", rc->cpu_model);
        qj_set_str(cpu, "model-id", rc->cpu_model_id);
        qj_set_str(cpu, "reason", rc->cpu_reason);
    } else {
        qj_set_null(recipe, "cpu");
    }
    qj_set_strings(recipe, "libvirt-xml", xml);
    qj_set_strings(recipe, "notes", rc->notes);
    warnings = qj_set_array(recipe, "expected-warnings");
    for (guint i = 0; i < rc->warnings->len; i++) {
        const TrWarning *w = g_ptr_array_index(rc->warnings, i);
        QjValue *warning = qj_append_object(warnings);
        qj_set_str(warning, "message", w->message);
        qj_set_str(warning, "why", w->why);
    }
}

void app_report_record(QjValue *o, const AppRecord *r)
{
    QjValue *record = qj_set_object(o, "record");

    qj_set_str(record, "kind", app_record_kind_name(r->kind));
    qj_set_str(record, "tool", r->tool);
    qj_set_str(record, "time", r->time);
    if (r->kind == APP_RECORD_FIX) {
        QjValue *rules;
        qj_set_str(record, "target", r->target);
        rules = qj_set_array(record, "rules");
        for (guint i = 0; r->rules && r->rules[i]; i++) {
            qj_append_str(rules, r->rules[i]);
        }
        qj_set_str(record, "recipe", r->recipe);
        if (r->recipe_sha256) {
            qj_set_str(record, "recipe-sha256", r->recipe_sha256);
        }
        qj_set_uint(record, "old-vm-state-size", r->old_size);
        qj_set_uint(record, "new-vm-state-size", r->new_size);
        if (r->batch) {
            qj_set_str(record, "batch", r->batch);
        }
        if (r->kept_as) {
            qj_set_str(record, "kept-as", r->kept_as);
        }
    } else {
        QjValue *of = qj_set_object(record, "original-of");
        qj_set_str(of, "id", r->of_id);
        qj_set_str(of, "name", r->of_name);
        qj_set_uint(record, "vm-state-size", r->size);
    }
}

void app_report_space(QjValue *write, const AppWriteStats *st)
{
    QjValue *space;

    qj_set_str(write, "end", app_write_end_name(st->end));
    qj_set_uint(write, "leaked-clusters", st->leaked_clusters);
    space = qj_set_object(write, "space");
    qj_set_uint(space, "needed", st->space_needed);
    if (st->space_available == UINT64_MAX) {
        qj_set_null(space, "available");
    } else {
        qj_set_uint(space, "available", st->space_available);
    }
    qj_set_bool(space, "full-rewrite", app_write_full_rewrite(st));
    qj_set_uint(space, "file-size-before", st->file_size_before);
    qj_set_uint(space, "file-size-after", st->file_size_after);
    qj_set_uint(space, "allocated-before", st->allocated_before);
    qj_set_uint(space, "allocated-after", st->allocated_after);
    qj_set_uint(space, "released", st->discarded_bytes);
}

static void report_write(QjValue *o, const AppOutcome *out)
{
    QjValue *write;

    if (!out->write.have_stats) {
        qj_set_null(o, "write");
        return;
    }
    write = qj_set_object(o, "write");
    qj_set_bool(write, "done", out->write.wrote);
    qj_set_int(write, "clusters-written", out->write.clusters_written);
    qj_set_int(write, "clusters-shared", out->write.clusters_shared);
    qj_set_int(write, "clusters-freed", out->write.clusters_freed);
    qj_set_int(write, "metadata-clusters", out->write.metadata_clusters);
    qj_set_int(write, "bytes-written", out->write.bytes_written);
    qj_set_str(write, "kept-original-as", out->write.kept_as);
    app_report_space(write, &out->write);
}

static void report_outcome(QjValue *snapshots, const AppOutcome *out)
{
    const TrResult *r = out->result;
    QjValue *o = qj_append_object(snapshots);
    QjValue *size;

    qj_set_str(o, "id", out->id);
    qj_set_str(o, "name", out->name);
    qj_set_str(o, "status", app_status_name(out->status));
    qj_set_int(o, "exit-code", app_outcome_exit_code(out));
    app_report_writer(o, out->writer);
    app_report_rules(o, r, true);
    report_edits(o, r);
    size = qj_set_object(o, "vm-state-size");
    qj_set_int(size, "old", out->old_size);
    qj_set_int(size, "new", out->new_size);
    report_write(o, out);
    if (r && (out->status == APP_FIXED || out->status == APP_COMPATIBLE)) {
        app_report_recipe(o, r);
    } else {
        qj_set_null(o, "recipe");
    }
    if (out->container_changes->len) { /* a save image's domain XML */
        qj_set_strings(o, "domain-changes", out->container_changes);
    }
    app_report_reason(o, out);
}

void app_report_outcomes(QjValue *report, const AppOptions *o,
                         AppOutcome *const *outcomes, guint n, int rc)
{
    QjValue *snapshots;
    bool changed = false;

    qj_set_str(report, "target", tr_target_name(o->target));
    qj_set_bool(report, "dry-run", o->dry_run);
    snapshots = qj_set_array(report, "snapshots");
    for (guint i = 0; i < n; i++) {
        report_outcome(snapshots, outcomes[i]);
        changed |= outcomes[i]->status == APP_FIXED;
    }
    /* Whether anything was written (dry run: would be), as Ansible asks. */
    qj_set_bool(report, "changed", changed);
    qj_set_int(report, "exit-code", rc);
}

QjValue *app_report_fix_new(const char *image)
{
    QjValue *report = app_report_new();
    qj_set_str(report, "image", image);
    return report;
}

void app_report_interrupted(QjValue *report, const char *signal,
                            const char *state)
{
    QjValue *x;

    if (!signal) {
        qj_set_null(report, "interrupted");
        return;
    }
    x = qj_set_object(report, "interrupted");
    qj_set_str(x, "signal", signal);
    qj_set_str(x, "state", state);
}

QjValue *app_report_translate_new(const char *in, const char *out)
{
    QjValue *report = app_report_new();
    qj_set_str(report, "input", in);
    qj_set_str(report, "output", out);
    return report;
}

void app_report_reclaim(QjValue *o, const AppReclaim *r)
{
    if (r->ran) {
        qj_set_uint(o, "leaks-reclaimed", r->found - r->left);
        qj_set_uint(o, "leaks-left", r->left);
    }
}
