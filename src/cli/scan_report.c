/*
 * What `qsnapfix scan` prints for people: per image a header line and a
 * table of its snapshots aligned like `qemu-img snapshot -l`, the rules
 * that would fire under each snapshot that needs something; a summary at
 * the end. Also the totals and the exit code they give. (JSON for scripts:
 * scan_json.c.)
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "exit_codes.h"
#include "scan.h"

/* ---- totals ------------------------------------------------------------ */

void scan_summary_add_image(ScanSummary *s, const ScanImage *im)
{
    s->images++;
    s->bytes_read += im->bytes_read;
    if (im->error) {
        s->unreadable++;
        return;
    }
    s->scanned++;
    s->in_use += scan_locks_in_use(&im->locks);
    s->blocked += im->blocker.message != NULL;
    for (guint i = 0; i < im->snapshots->len; i++) {
        const ScanSnapshot *ss = g_ptr_array_index(im->snapshots, i);
        s->snapshots++;
        switch (ss->verdict) {
        case SCAN_DISK_ONLY:
            s->disk_only++;
            break;
        case SCAN_COMPATIBLE:
            s->compatible++;
            break;
        case SCAN_FIXABLE:
            s->fixable++;
            s->fix_bytes += ss->write.bytes_written;
            s->fix_bytes_estimated |= !ss->write.exact;
            break;
        case SCAN_REFUSED:
            s->refused++;
            break;
        case SCAN_ERROR:
            s->errors++;
            break;
        }
        s->full_walks += ss->path && !strcmp(ss->path, "full");
    }
}

void scan_summary_add_entry(ScanSummary *s, const ScanEntry *e)
{
    if (e->kind == SCAN_ENTRY_SKIPPED) {
        s->skipped++;
    } else if (e->kind == SCAN_ENTRY_ERROR) {
        s->images++;
        s->unreadable++;
    }
}

int scan_exit_code(const ScanSummary *s)
{
    if (s->unreadable || s->errors) {
        return QSNAPFIX_EXIT_PARTIAL;
    }
    if (s->refused) {
        return QSNAPFIX_EXIT_REFUSED;
    }
    return s->fixable ? QSNAPFIX_EXIT_NEEDS_FIX : QSNAPFIX_EXIT_OK;
}

/* ---- human ------------------------------------------------------------- */

static char *writer_str(const ScanSnapshot *ss)
{
    const VmsWriterInfo *w = ss->outcome ? ss->outcome->writer : NULL;

    if (!w) {
        return g_strdup("-");
    }
    return g_strdup_printf("%s %s, %s", w->program,
                           w->version ? w->version : "?", w->accel);
}

static char *image_line(const ScanImage *im)
{
    GString *g = g_string_new(NULL);
    g_autofree char *cs = qsnapfix_size_to_str(im->cluster_size);
    guint n = im->snapshots->len;

    g_string_append_printf(g,
                           "qcow2 v%u (compat %s), %s clusters, %u "
                           "snapshot%s",
                           im->version, im->version == 2 ? "0.10" : "1.1", cs,
                           n, n == 1 ? "" : "s");
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
    if (scan_locks_in_use(&im->locks)) {
        g_string_append(g, ", IN USE");
    } else if (!im->locks.probed) {
        g_string_append_printf(g, ", in use: unknown (%s)", im->locks.error);
    }
    return g_string_free(g, FALSE);
}

static void print_rules(const TrResult *r)
{
    for (guint i = 0; i < r->findings->len; i++) {
        const TrFinding *f = g_ptr_array_index(r->findings, i);
        g_autofree char *subject = qsnapfix_printable(f->subject);
        g_autofree char *evidence = qsnapfix_printable(f->evidence);
        printf("      %-7s %-8s %s: %s\n", f->rule, tr_action_name(f->action),
               subject, evidence);
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

static void print_write(const ScanSnapshot *ss)
{
    const ScanWritePlan *w = &ss->write;
    g_autofree char *bytes = qsnapfix_size_to_str(w->bytes_written);

    if (!w->have) {
        return;
    }
    if (w->exact) {
        printf("      %-16s %" PRIu64 " data cluster(s), %" PRIu64
               " shared, %" PRIu64 " metadata: %s\n",
               "fix writes", w->clusters_written, w->clusters_shared,
               w->metadata_clusters, bytes);
    } else {
        printf("      %-16s about %" PRIu64 " data cluster(s), %" PRIu64
               " shared: %s (estimated from the edits; --full for the exact "
               "plan)\n",
               "fix writes", w->clusters_written, w->clusters_shared, bytes);
    }
}

static void print_snapshot(const ScanSnapshot *ss)
{
    g_autofree char *id = qsnapfix_printable(ss->id);
    g_autofree char *name = qsnapfix_printable(ss->name);
    g_autofree char *size = qsnapfix_size_to_str(ss->vm_state_size);
    g_autofree char *writer = writer_str(ss);
    const FixOutcome *out = ss->outcome;
    const TrResult *r = out ? out->result : NULL;

    printf("  %-9s %-16s %9s  %-24s %s\n", id, name, size, writer,
           scan_verdict_name(ss->verdict));
    switch (ss->verdict) {
    case SCAN_DISK_ONLY:
        return;
    case SCAN_ERROR: {
        g_autofree char *msg =
            qsnapfix_printable(out->error ? out->error->message : "?");
        printf("      %-16s %s\n", "error", msg);
        return;
    }
    case SCAN_REFUSED: {
        const TrFinding *f = tr_result_refusal(r);
        g_autofree char *subject = qsnapfix_printable(f->subject);
        g_autofree char *change = qsnapfix_printable(f->change);
        print_rules(r);
        printf("      %-16s %s %s: %s\n", "refused by", f->rule, subject,
               change);
        return;
    }
    case SCAN_COMPATIBLE:
        print_rules(r);
        if (tr_result_count_actions(r)) { /* settings, maybe -M */
            print_recipe(r->recipe);
        }
        return;
    case SCAN_FIXABLE:
        print_rules(r);
        print_recipe(r->recipe);
        print_write(ss);
        return;
    }
}

void scan_print_image_human(const ScanImage *im)
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
        printf("  fix blocked: %s (fix exits %d)\n", im->blocker.message,
               im->blocker.exit_code);
    }
    if (!im->snapshots->len) {
        return;
    }
    printf("  %-9s %-16s %9s  %-24s %s\n", "ID", "TAG", "VM SIZE", "WRITTEN BY",
           "VERDICT");
    for (guint i = 0; i < im->snapshots->len; i++) {
        print_snapshot(g_ptr_array_index(im->snapshots, i));
    }
}

void scan_print_entry_human(const ScanEntry *e)
{
    g_autofree char *path = qsnapfix_printable(e->path);

    if (e->kind == SCAN_ENTRY_ERROR) {
        printf("%s: cannot be scanned: %s\n", path, e->reason);
    } else if (e->kind == SCAN_ENTRY_SKIPPED) {
        printf("%s: skipped: %s\n", path, e->reason);
    }
}

void scan_print_summary_human(const ScanSummary *s, const ScanOptions *o)
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
           "error%s, %u disk-only\n",
           s->snapshots, s->compatible, s->fixable, s->refused, s->errors,
           s->errors == 1 ? "" : "s", s->disk_only);
    printf("  images:     %u in use by a running QEMU, %u where a fix is "
           "blocked now\n",
           s->in_use, s->blocked);
    printf("  a fix would write %s%s; read %s (%s per image)",
           s->fix_bytes_estimated ? "about " : "", fix, read, per);
    if (!o->full) {
        printf("; %u snapshot%s needed the full walk", s->full_walks,
               s->full_walks == 1 ? "" : "s");
    }
    printf("\n");
}
