/*
 * Reports of `fix` and `translate`: one block of text per snapshot (or
 * stream file) on stdout, or one JSON object per outcome (docs/json.md).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "fix.h"
#include "libvirt/render.h"

static void print_wrapped(const char *label, const char *text)
{
    printf("      %-5s %s\n", label, text ? text : "");
}

static void print_findings(const TrResult *r)
{
    for (guint i = 0; i < r->findings->len; i++) {
        const TrFinding *f = g_ptr_array_index(r->findings, i);
        g_autofree char *subject = qsnapfix_printable(f->subject);
        printf("  %-7s %-8s %s: %s\n", f->rule, tr_action_name(f->action),
               subject, f->title);
        print_wrapped("why:", f->evidence);
        print_wrapped(f->action == TR_ACTION_REFUSE ? "why not:" : "does:",
                      f->change);
        if (f->way_out) {
            g_autofree char *line =
                g_strdup_printf("%s (risk: %s)", f->way_out, f->risk);
            print_wrapped("way out:", line);
        } else if (f->no_way_out) {
            print_wrapped("no way out:", f->no_way_out);
        }
    }
}

/* "; way out: OPTION (risk: ...)" or "; no way out: WHY" */
static char *way_out_str(const TrFinding *f)
{
    if (f->way_out) {
        return g_strdup_printf("; way out: %s (risk: %s)", f->way_out, f->risk);
    }
    if (f->no_way_out) {
        return g_strdup_printf("; no way out: %s", f->no_way_out);
    }
    return g_strdup("");
}

static void print_recipe(const TrRecipe *r, const char *target,
                         const char *load_hint)
{
    g_autofree char *line = tr_recipe_command_line(r);
    g_autoptr(GPtrArray) xml = qsnapfix_libvirt_xml(r);

    printf("  resume on %s:\n", target);
    if (g_str_has_prefix(load_hint, "virsh ")) {
        /* a libvirt save image: its domain XML carries the recipe */
        printf("    %s   (the domain XML in the file has the recipe; or:)\n",
               load_hint);
    }
    printf("    qemu-system-x86_64 %s <the VM's own device options>%s%s\n",
           line, g_str_has_prefix(load_hint, "virsh ") ? "" : " ",
           g_str_has_prefix(load_hint, "virsh ") ? "" : load_hint);
    if (r->accel_reason) {
        printf("    accel:  %s (%s)\n", r->accel, r->accel_reason);
    }
    if (r->cpu_model) {
        printf("    cpu:    %s: %s\n", r->cpu_model, r->cpu_reason);
    }
    for (guint i = 0; i < r->files->len; i++) {
        const TrFile *f = g_ptr_array_index(r->files, i);
        g_autofree char *size = qsnapfix_size_to_str(f->length);
        printf("    file:   %s (%s of RAM block '%s', %s)\n", f->path,
               tr_file_kind_name(f->kind), f->block, size);
    }
    for (guint i = 0; i < xml->len; i++) {
        printf("    %s %s\n",
               i ? "       " : "libvirt:", (char *)g_ptr_array_index(xml, i));
    }
    for (guint i = 0; i < r->notes->len; i++) {
        printf("    note:   %s\n", (char *)g_ptr_array_index(r->notes, i));
    }
    for (guint i = 0; i < r->warnings->len; i++) {
        const TrWarning *w = g_ptr_array_index(r->warnings, i);
        printf("    expect: \"%s\": %s\n", w->message, w->why);
    }
}

void fix_print_human(const AppOutcome *out, const char *what,
                     const char *load_hint, bool dry_run)
{
    const TrResult *r = out->result;

    if (out->writer) {
        g_autofree char *who = vms_writer_describe(out->writer);
        printf("%s: written by %s, %s\n", what, who, out->writer->accel);
        for (guint i = 0; i < out->writer->evidence->len && i < 4; i++) {
            printf("  (%s)\n",
                   (char *)g_ptr_array_index(out->writer->evidence, i));
        }
    } else {
        printf("%s:\n", what);
    }
    if (r) {
        print_findings(r);
    }
    switch (out->status) {
    case APP_FIXED: {
        g_autofree char *old = qsnapfix_size_to_str(out->old_size);
        g_autofree char *new = qsnapfix_size_to_str(out->new_size);
        printf("  %s: %u edit(s); VM state %s -> %s",
               dry_run ? "would fix" : "fixed", r->edits->len, old, new);
        if (out->write.have_stats && !out->id) { /* a file: bytes */
            g_autofree char *bytes =
                qsnapfix_size_to_str(out->write.bytes_written);
            printf("; %s %s", dry_run ? "would write" : "wrote", bytes);
        } else if (out->write.have_stats) {
            g_autofree char *bytes =
                qsnapfix_size_to_str(out->write.bytes_written);
            printf("; %s %" PRIu64 " data cluster(s), %" PRIu64
                   " shared, %" PRIu64 " metadata, %s%s",
                   dry_run ? "would write" : "wrote",
                   out->write.clusters_written, out->write.clusters_shared,
                   out->write.metadata_clusters, bytes,
                   dry_run ? " planned" : " written");
        }
        printf("\n");
        fix_print_space_human(&out->write, dry_run);
        for (guint i = 0; dry_run && i < r->edits->len; i++) {
            const TrEdit *e = &g_array_index(r->edits, TrEdit, i);
            printf("    edit at 0x%08" PRIx64 ": %" PRIu64
                   " byte(s) replaced by %zu\n",
                   e->offset, e->old_length, g_bytes_get_size(e->data));
        }
        break;
    }
    case APP_COMPATIBLE:
        printf("  compatible: no edits needed%s\n",
               r && r->recipe->settings->len ? " (with the settings below)"
                                             : "");
        break;
    case APP_REFUSED: {
        const TrFinding *f = tr_result_refusal(r);
        g_autofree char *way = way_out_str(f);
        printf("  refused: %s %s: %s (nothing written)%s\n", f->rule,
               f->subject, f->change, way);
        break;
    }
    case APP_ERROR:
        printf("  error: %s\n", out->error ? out->error->message : "?");
        break;
    }
    for (guint i = 0; i < out->container_changes->len; i++) {
        printf("  %s %s\n", i ? "          " : "domain XML:",
               (char *)g_ptr_array_index(out->container_changes, i));
    }
    if (out->write.kept_as) {
        printf(out->id ? "  the original is kept as snapshot \"%s\"\n"
                       : "  the original is kept as %s\n",
               out->write.kept_as);
    }
    if (r && (out->status == APP_FIXED || out->status == APP_COMPATIBLE)) {
        print_recipe(r->recipe, tr_target_name(r->target), load_hint);
    }
}

void fix_print_failure(const AppOutcome *out, const char *what)
{
    if (out->status == APP_REFUSED) {
        const TrFinding *f = tr_result_refusal(out->result);
        g_autofree char *way = way_out_str(f);
        fprintf(stderr, "qsnapfix: %s: refused by %s (%s): %s; %s%s\n", what,
                f->rule, f->subject, f->evidence, f->change, way);
    } else if (out->status == APP_ERROR) {
        fprintf(stderr, "qsnapfix: %s\n",
                out->error ? out->error->message : "internal error");
    }
}

/* ---- JSON ------------------------------------------------------------- */

void fix_json_reason(QjValue *o, const AppOutcome *out)
{
    if (out->status == APP_REFUSED || out->status == APP_ERROR) {
        g_autofree char *reason = app_outcome_reason(out);
        qj_set_str(o, "reason", reason);
    }
}

void fix_json_writer(QjValue *o, const VmsWriterInfo *w)
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

void fix_json_rules(QjValue *o, const TrResult *r, bool edit_counts)
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

static void json_edits(QjValue *o, const TrResult *r)
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

void fix_json_recipe(QjValue *o, const TrResult *r)
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

static void json_write_stats(QjValue *o, const AppOutcome *out)
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
    fix_json_space(write, &out->write);
}

static void json_outcome(QjValue *snapshots, const AppOutcome *out)
{
    const TrResult *r = out->result;
    QjValue *o = qj_append_object(snapshots);
    QjValue *size;

    qj_set_str(o, "id", out->id);
    qj_set_str(o, "name", out->name);
    qj_set_str(o, "status", app_status_name(out->status));
    qj_set_int(o, "exit-code", app_outcome_exit_code(out));
    fix_json_writer(o, out->writer);
    fix_json_rules(o, r, true);
    json_edits(o, r);
    size = qj_set_object(o, "vm-state-size");
    qj_set_int(size, "old", out->old_size);
    qj_set_int(size, "new", out->new_size);
    json_write_stats(o, out);
    if (r && (out->status == APP_FIXED || out->status == APP_COMPATIBLE)) {
        fix_json_recipe(o, r);
    } else {
        qj_set_null(o, "recipe");
    }
    if (out->container_changes->len) { /* a save image's domain XML */
        qj_set_strings(o, "domain-changes", out->container_changes);
    }
    fix_json_reason(o, out);
}

void fix_print_json_report(QjValue *report, const AppOptions *o,
                           AppOutcome *const *outcomes, guint n, int rc)
{
    QjValue *snapshots;
    bool changed = false;

    qj_set_str(report, "target", tr_target_name(o->target));
    qj_set_bool(report, "dry-run", o->dry_run);
    snapshots = qj_set_array(report, "snapshots");
    for (guint i = 0; i < n; i++) {
        json_outcome(snapshots, outcomes[i]);
        changed |= outcomes[i]->status == APP_FIXED;
    }
    /* Whether anything was written (dry run: would be), as Ansible asks. */
    qj_set_bool(report, "changed", changed);
    qj_set_int(report, "exit-code", rc);
    qj_print(report);
}
