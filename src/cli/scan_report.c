/*
 * What `qsnapfix scan` prints for people: per image a header line and a
 * table of its snapshots aligned like `qemu-img snapshot -l`, the rules
 * that would fire under each snapshot that needs something; a summary at
 * the end. (JSON for scripts: app/report_scan.c.)
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "scan.h"

/* ---- human ------------------------------------------------------------- */

static char *writer_str(const AppScanSnapshot *ss)
{
    const VmsWriterInfo *w =
        ss->judged.outcome ? ss->judged.outcome->writer : NULL;

    return w ? cli_writer_str(w) : g_strdup("-");
}

static char *image_line(const AppScanImage *im)
{
    GString *g = g_string_new(NULL);
    g_autofree char *cs = qsnapfix_size_to_str(im->cluster_size);
    guint n = im->snapshots->len;

    if (im->libvirt_save) {
        g_autofree char *dom =
            qsnapfix_printable(im->domain ? im->domain : "?");
        g_string_append_printf(g,
                               "libvirt save image v%u (%s stream), domain "
                               "'%s'",
                               im->save_version, im->save_compression, dom);
        return g_string_free(g, FALSE);
    }

    g_string_append_printf(g,
                           "qcow2 v%u (compat %s), %s clusters, %u "
                           "snapshot%s",
                           im->version, im->compat, cs, n, n == 1 ? "" : "s");
    if (im->backing_file) {
        g_autofree char *b = qsnapfix_printable(im->backing_file);
        g_string_append_printf(g, ", backing file %s", b);
    }
    if (im->dirty) {
        g_string_append(g, ", dirty");
    }
    if (im->corrupt) {
        g_string_append(g, ", corrupt");
    }
    if (app_locks_in_use(&im->locks)) {
        g_string_append_printf(g, ", IN USE by %s",
                               app_locks_holder_program(&im->locks));
    } else if (!im->locks.probed) {
        g_string_append_printf(g, ", in use: unknown (%s)", im->locks.error);
    }
    return g_string_free(g, FALSE);
}

static void print_rules(const TrResult *r)
{
    for (guint i = 0; i < r->findings->len; i++) {
        const TrFinding *f = g_ptr_array_index(r->findings, i);
        cli_print_finding(stdout, "      ", f, f->evidence);
    }
}

static void print_recipe(const TrRecipe *r)
{
    g_autofree char *line = tr_recipe_command_line(r);

    printf("      %-16s %s\n", "recipe", line);
    for (guint i = 0; i < r->files->len; i++) {
        const TrFile *f = g_ptr_array_index(r->files, i);
        g_autofree char *size = qsnapfix_size_to_str(f->length);
        printf("      %-16s %s of %s from RAM block '%s'\n", "needs file",
               tr_file_kind_name(f->kind), size, f->block);
    }
}

static void print_write(const AppScanSnapshot *ss, bool whole_file)
{
    const AppWritePlan *w = &ss->judged.write;
    g_autofree char *bytes = qsnapfix_size_to_str(w->bytes_written);

    if (!w->have) {
        return;
    }
    if (whole_file) { /* a save image is written anew */
        printf("      %-16s a new image beside it: about %s of stream\n",
               "fix writes", bytes);
        return;
    }
    if (w->exact) {
        g_autofree char *space = qsnapfix_size_to_str(w->space_needed);
        printf("      %-16s %" PRIu64 " data cluster(s), %" PRIu64
               " shared, %" PRIu64 " metadata: %s (up to %s of free space "
               "while it runs)\n",
               "fix writes", w->clusters_written, w->clusters_shared,
               w->metadata_clusters, bytes, space);
    } else {
        printf("      %-16s about %" PRIu64 " data cluster(s), %" PRIu64
               " shared: %s (estimated from the edits; --full for the exact "
               "plan)\n",
               "fix writes", w->clusters_written, w->clusters_shared, bytes);
    }
    if (!w->clusters_shared && w->clusters_written > 1) {
        printf("      %-16s the whole VM state anew: while fix runs it needs "
               "free space for a second copy\n",
               "note");
    }
}

static void print_snapshot(const AppScanSnapshot *ss, bool whole_file)
{
    g_autofree char *id = qsnapfix_printable(ss->id);
    g_autofree char *name = qsnapfix_printable(ss->name);
    g_autofree char *size = qsnapfix_size_to_str(ss->vm_state_size);
    g_autofree char *writer = writer_str(ss);
    const AppOutcome *out = ss->judged.outcome;
    const TrResult *r = out ? out->result : NULL;

    printf("  %-9s %-16s %9s  %-24s %s\n", id, name, size, writer,
           app_verdict_name(ss->judged.verdict));
    cli_print_record(&ss->record, "      ");
    switch (ss->judged.verdict) {
    case APP_VERDICT_DISK_ONLY:
    case APP_VERDICT_ORIGINAL:
        return;
    case APP_VERDICT_ERROR: {
        g_autofree char *msg =
            qsnapfix_printable(out->error ? out->error->message : "?");
        printf("      %-16s %s\n", "error", msg);
        return;
    }
    case APP_VERDICT_REFUSED: {
        const TrFinding *f = tr_result_refusal(r);
        g_autofree char *subject = qsnapfix_printable(f->subject);
        g_autofree char *change = qsnapfix_printable(f->change);
        print_rules(r);
        printf("      %-16s %s %s: %s\n", "refused by", f->rule, subject,
               change);
        if (f->way_out) {
            g_autofree char *risk = qsnapfix_printable(f->risk);
            printf("      %-16s %s (risk: %s)\n", "way out", f->way_out, risk);
        } else if (f->no_way_out) {
            g_autofree char *why = qsnapfix_printable(f->no_way_out);
            printf("      %-16s %s\n", "no way out", why);
        }
        return;
    }
    case APP_VERDICT_COMPATIBLE:
        print_rules(r);
        if (tr_result_count_actions(r)) { /* settings, maybe -M */
            print_recipe(r->recipe);
        }
        return;
    case APP_VERDICT_FIXABLE:
        print_rules(r);
        print_recipe(r->recipe);
        print_write(ss, whole_file);
        return;
    }
}

void scan_print_image_human(const AppScanImage *im)
{
    g_autofree char *path = qsnapfix_printable(im->path);
    g_autofree char *facts = NULL;

    if (im->error) {
        printf("%s: cannot be scanned: %s\n", path, im->error->message);
        return;
    }
    facts = image_line(im);
    printf("%s: %s\n", path, facts);
    if (im->blocker.message) {
        g_autofree char *msg = qsnapfix_printable(im->blocker.message);
        printf("  fix blocked: %s (fix exits %d)\n", msg,
               im->blocker.exit_code);
    }
    if (im->leaks_known && im->leaked_clusters) {
        g_autofree char *bytes =
            qsnapfix_size_to_str(im->leaked_clusters * im->cluster_size);
        printf("  warning: %" PRIu64 " leaked cluster%s (%s) already in the "
               "image, not used by anything; qemu-img check -r leaks %s "
               "reclaims them\n",
               im->leaked_clusters, im->leaked_clusters == 1 ? "" : "s", bytes,
               path);
    }
    scan_print_guest_human("  ", &im->guest);
    if (!im->snapshots->len) {
        return;
    }
    printf("  %-9s %-16s %9s  %-24s %s\n", "ID", "TAG", "VM SIZE", "WRITTEN BY",
           "VERDICT");
    for (guint i = 0; i < im->snapshots->len; i++) {
        const AppScanSnapshot *ss = g_ptr_array_index(im->snapshots, i);
        print_snapshot(ss, im->libvirt_save);
        scan_print_guest_human("      ", &ss->guest);
    }
}

void scan_print_entry_human(const AppScanEntry *e)
{
    g_autofree char *path = qsnapfix_printable(e->path);

    if (e->kind == APP_ENTRY_ERROR) {
        printf("%s: cannot be scanned: %s\n", path, e->reason);
    } else if (e->kind == APP_ENTRY_SKIPPED) {
        printf("%s: skipped: %s\n", path, e->reason);
    }
}

void scan_print_summary_human(const AppScanSummary *s, const AppScanOptions *o)
{
    g_autofree char *fix = qsnapfix_size_to_str(s->fix_bytes);
    g_autofree char *read = qsnapfix_size_to_str(s->bytes_read);
    g_autofree char *per =
        qsnapfix_size_to_str(s->scanned ? s->bytes_read / s->scanned : 0);

    printf("\nSummary (target %s, %s): %u image%s scanned",
           tr_target_name(o->fix.target),
           o->full ? "--full: every record read" : "tail path", s->scanned,
           s->scanned == 1 ? "" : "s");
    printf(", %u could not be read, %u file%s skipped\n", s->unreadable,
           s->skipped, s->skipped == 1 ? "" : "s");
    printf("  snapshots:  %u: %u compatible, %u fixable, %u refused, %u "
           "error%s, %u disk-only, %u original%s kept by a fix\n",
           s->snapshots, s->compatible, s->fixable, s->refused, s->errors,
           s->errors == 1 ? "" : "s", s->disk_only, s->originals,
           s->originals == 1 ? "" : "s");
    printf("  images:     %u in use by a running QEMU, ",
           s->in_use - s->in_use_by_qsnapfix);
    if (s->in_use_by_qsnapfix) {
        printf("%u being fixed by another qsnapfix, ", s->in_use_by_qsnapfix);
    }
    printf("%u where a fix is blocked now\n", s->blocked);
    printf("  a fix would write %s%s; read %s (%s per image)",
           s->fix_bytes_estimated ? "about " : "", fix, read, per);
    if (!o->full) {
        printf("; %u snapshot%s needed the full walk", s->full_walks,
               s->full_walks == 1 ? "" : "s");
    }
    printf("\n");
}
