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

/* ---- JSON ------------------------------------------------------------------
 */

void fix_json_reason(JsonBuilder *b, const AppOutcome *out)
{
    if (out->status == APP_REFUSED || out->status == APP_ERROR) {
        g_autofree char *reason = app_outcome_reason(out);
        qsnapfix_json_str(b, "reason", reason);
    }
}

void fix_json_writer(JsonBuilder *b, const VmsWriterInfo *w)
{
    json_builder_set_member_name(b, "writer");
    if (!w) {
        json_builder_add_null_value(b);
        return;
    }
    json_builder_begin_object(b);
    qsnapfix_json_str(b, "program", w->program);
    qsnapfix_json_str(b, "version", w->version);
    qsnapfix_json_bool(b, "translated", w->translated);
    qsnapfix_json_str(b, "translated_for", w->translated_for);
    qsnapfix_json_str(b, "accel", w->accel);
    qsnapfix_json_str(b, "machine", w->machine);
    qsnapfix_json_strings(b, "machine_hints", w->machine_hints);
    qsnapfix_json_strings(b, "evidence", w->evidence);
    json_builder_end_object(b);
}

void fix_json_rules(JsonBuilder *b, const TrResult *r, bool edit_counts)
{
    qsnapfix_json_begin_array(b, "rules");
    for (guint i = 0; r && i < r->findings->len; i++) {
        const TrFinding *f = g_ptr_array_index(r->findings, i);
        json_builder_begin_object(b);
        qsnapfix_json_str(b, "id", f->rule);
        qsnapfix_json_str(b, "title", f->title);
        qsnapfix_json_str(b, "action", tr_action_name(f->action));
        qsnapfix_json_str(b, "subject", f->subject);
        qsnapfix_json_str(b, "evidence", f->evidence);
        qsnapfix_json_str(b, "change", f->change);
        json_builder_set_member_name(b, "way_out");
        if (f->action == TR_ACTION_REFUSE) {
            json_builder_begin_object(b);
            qsnapfix_json_str(b, "option", f->way_out);
            qsnapfix_json_str(b, "risk", f->risk);
            qsnapfix_json_str(b, "why_none", f->no_way_out);
            json_builder_end_object(b);
        } else {
            json_builder_add_null_value(b);
        }
        if (edit_counts) {
            qsnapfix_json_int(b, "edits", f->n_edits);
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static void json_edits(JsonBuilder *b, const TrResult *r)
{
    qsnapfix_json_begin_array(b, "edits");
    for (guint i = 0; r && i < r->edits->len; i++) {
        const TrEdit *e = &g_array_index(r->edits, TrEdit, i);
        json_builder_begin_object(b);
        qsnapfix_json_int(b, "offset", e->offset);
        qsnapfix_json_int(b, "old_length", e->old_length);
        qsnapfix_json_int(b, "length", g_bytes_get_size(e->data));
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

void fix_json_recipe(JsonBuilder *b, const TrResult *r)
{
    const TrRecipe *rc = r->recipe;
    g_autofree char *line = tr_recipe_command_line(rc);
    g_autoptr(GPtrArray) args = tr_recipe_qemu_args(rc);
    g_autoptr(GPtrArray) xml = qsnapfix_libvirt_xml(rc);

    qsnapfix_json_begin_object(b, "recipe");
    qsnapfix_json_str(b, "target", tr_target_name(r->target));
    qsnapfix_json_str(b, "machine", rc->machine);
    qsnapfix_json_str(b, "accel", rc->accel);
    qsnapfix_json_str(b, "accel_reason", rc->accel_reason);
    qsnapfix_json_strings(b, "qemu_args", args);
    qsnapfix_json_str(b, "command_line", line);
    qsnapfix_json_begin_array(b, "files");
    for (guint i = 0; i < rc->files->len; i++) {
        const TrFile *f = g_ptr_array_index(rc->files, i);
        json_builder_begin_object(b);
        qsnapfix_json_str(b, "kind", tr_file_kind_name(f->kind));
        qsnapfix_json_str(b, "block", f->block);
        qsnapfix_json_str(b, "path", f->path);
        qsnapfix_json_int(b, "length", f->length);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "cpu");
    if (rc->cpu_model) {
        json_builder_begin_object(b);
        qsnapfix_json_str(b, "model", rc->cpu_model);
        qsnapfix_json_str(b, "model_id", rc->cpu_model_id);
        qsnapfix_json_str(b, "reason", rc->cpu_reason);
        json_builder_end_object(b);
    } else {
        json_builder_add_null_value(b);
    }
    qsnapfix_json_strings(b, "libvirt_xml", xml);
    qsnapfix_json_strings(b, "notes", rc->notes);
    qsnapfix_json_begin_array(b, "expected_warnings");
    for (guint i = 0; i < rc->warnings->len; i++) {
        const TrWarning *w = g_ptr_array_index(rc->warnings, i);
        json_builder_begin_object(b);
        qsnapfix_json_str(b, "message", w->message);
        qsnapfix_json_str(b, "why", w->why);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
}

static void json_outcome(JsonBuilder *b, const AppOutcome *out)
{
    const TrResult *r = out->result;

    json_builder_begin_object(b);
    qsnapfix_json_str(b, "id", out->id);
    qsnapfix_json_str(b, "name", out->name);
    qsnapfix_json_str(b, "status", app_status_name(out->status));
    qsnapfix_json_int(b, "exit_code", (uint64_t)app_outcome_exit_code(out));
    fix_json_writer(b, out->writer);
    fix_json_rules(b, r, true);
    json_edits(b, r);
    qsnapfix_json_begin_object(b, "vm_state_size");
    qsnapfix_json_int(b, "old", out->old_size);
    qsnapfix_json_int(b, "new", out->new_size);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "write");
    if (out->write.have_stats) {
        json_builder_begin_object(b);
        qsnapfix_json_bool(b, "done", out->write.wrote);
        qsnapfix_json_int(b, "clusters_written", out->write.clusters_written);
        qsnapfix_json_int(b, "clusters_shared", out->write.clusters_shared);
        qsnapfix_json_int(b, "clusters_freed", out->write.clusters_freed);
        qsnapfix_json_int(b, "metadata_clusters", out->write.metadata_clusters);
        qsnapfix_json_int(b, "bytes_written", out->write.bytes_written);
        qsnapfix_json_str(b, "kept_original_as", out->write.kept_as);
        fix_json_space(b, &out->write);
        json_builder_end_object(b);
    } else {
        json_builder_add_null_value(b);
    }
    if (r && (out->status == APP_FIXED || out->status == APP_COMPATIBLE)) {
        fix_json_recipe(b, r);
    } else {
        qsnapfix_json_null(b, "recipe");
    }
    if (out->container_changes->len) { /* a save image's domain XML */
        qsnapfix_json_strings(b, "domain_changes", out->container_changes);
    }
    fix_json_reason(b, out);
    json_builder_end_object(b);
}

void fix_print_json_report(JsonBuilder *b, const AppOptions *o,
                           AppOutcome *const *outcomes, guint n, int rc)
{
    qsnapfix_json_str(b, "target", tr_target_name(o->target));
    qsnapfix_json_bool(b, "dry_run", o->dry_run);
    qsnapfix_json_begin_array(b, "snapshots");
    for (guint i = 0; i < n; i++) {
        json_outcome(b, outcomes[i]);
    }
    json_builder_end_array(b);
    qsnapfix_json_int(b, "exit_code", rc);
    qsnapfix_print_json_object(b);
}
