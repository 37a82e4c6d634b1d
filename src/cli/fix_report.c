/*
 * The human reports of `fix` and `translate`: one block of text per
 * snapshot (or stream file) on stdout; their JSON is app/report.h's.
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
        cli_print_finding(stdout, "  ", f, f->title);
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

char *fix_outcome_label(const char *image, const AppOutcome *out)
{
    g_autofree char *path = NULL;

    if (out->id) {
        return cli_snapshot_label(image, out->id, out->name);
    }
    path = qsnapfix_printable(image); /* a libvirt save image */
    return g_strdup_printf("%s (libvirt save image)", path);
}

void fix_print_human(const AppOutcome *out, const char *what,
                     const char *load_hint, bool dry_run)
{
    const TrResult *r = out->result;

    if (out->writer) {
        g_autofree char *who = cli_writer_str(out->writer);
        printf("%s: written by %s\n", what, who);
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
