/*
 * What `qsnapfix scan` prints: per image a header line and a table of its
 * snapshots aligned like `qemu-img snapshot -l`, the rules that would fire
 * under each snapshot that needs something; a summary at the end. JSON
 * (docs/json.md) says the same for scripts. Also the totals and the exit
 * code they give.
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

void scan_print_image_human(const ScanImage *im, const ScanOptions *o)
{
    g_autofree char *path = qsnapfix_printable(im->path);
    g_autofree char *facts = NULL;

    (void)o;
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

/* ---- JSON -------------------------------------------------------------- */

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
