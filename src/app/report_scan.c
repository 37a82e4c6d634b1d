/*
 * The report of a scan (docs/json.md, "scan"): one document for the
 * whole scan, or one line per image (JSONL). Writers and recipes have
 * the shape fix reports them in (report_outcome.c), so that one parser
 * reads both; the guests scan --guest found, with what each inspection
 * cost.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "report.h"

/* ---- guests (scan --guest) --------------------------------------------- */

static void report_os(QjValue *list, const AppGuestOs *os)
{
    QjValue *o = qj_append_object(list);

    qj_set_str(o, "root", os->root);
    qj_set_str(o, "type", os->type);
    qj_set_str(o, "distro", os->distro);
    qj_set_str(o, "product-name", os->product_name);
    qj_set_int(o, "major-version", os->major_version);
    qj_set_int(o, "minor-version", os->minor_version);
    qj_set_str(o, "hostname", os->hostname);
    qj_set_str(o, "arch", os->arch);
}

/* A disk's guest: nothing if it was not inspected. */
static void report_guest(QjValue *o, const AppScanGuest *g)
{
    QjValue *guest, *systems;

    if (!g->inspected) {
        return;
    }
    guest = qj_set_object(o, "guest");
    qj_set_str(guest, "status",
               g->error            ? "error"
               : g->found->os->len ? "identified"
                                   : "unknown");
    qj_set(guest, "seconds", qj_double(g->seconds));
    if (g->error) {
        app_report_error(guest, g->error->message, app_exit_code(g->error));
        return;
    }
    systems = qj_set_array(guest, "operating-systems");
    for (guint i = 0; i < g->found->os->len; i++) {
        report_os(systems, g_ptr_array_index(g->found->os, i));
    }
}

static void report_guests(QjValue *report, const AppScanSummary *s,
                          double elapsed)
{
    QjValue *o = qj_set_object(report, "guests");

    qj_set_int(o, "inspected", s->guests);
    qj_set_int(o, "identified", s->guests_identified);
    qj_set_int(o, "unknown", s->guests_unknown);
    qj_set_int(o, "errors", s->guest_errors);
    qj_set(o, "seconds", qj_double(s->guest_seconds));
    qj_set(o, "elapsed-seconds", qj_double(elapsed));
}

/* ---- images ----------------------------------------------------------- */

static void json_write_plan(QjValue *o, const AppScanSnapshot *ss)
{
    const AppWritePlan *w = &ss->judged.write;
    const TrResult *r = ss->judged.outcome->result;
    QjValue *fix = qj_set_object(o, "fix");

    qj_set_int(fix, "edits", r->edits->len);
    qj_set_int(fix, "vm-state-size-after", r->new_size);
    qj_set_bool(fix, "exact", w->exact);
    qj_set_int(fix, "clusters-written", w->clusters_written);
    qj_set_int(fix, "clusters-shared", w->clusters_shared);
    if (w->exact) {
        qj_set_int(fix, "metadata-clusters", (int64_t)w->metadata_clusters);
    } else {
        qj_set_null(fix, "metadata-clusters");
    }
    qj_set_int(fix, "bytes-written", w->bytes_written);
    qj_set_int(fix, "space-needed", w->space_needed);
}

static void json_snapshot(QjValue *snapshots, const AppScanSnapshot *ss)
{
    const AppOutcome *out = ss->judged.outcome;
    const TrResult *r = out ? out->result : NULL;
    QjValue *o = qj_append_object(snapshots);
    QjValue *analysis;

    qj_set_str(o, "id", ss->id);
    qj_set_str(o, "name", ss->name);
    /* qemu-img's names, and its values (QAPI's signed int) */
    qj_set_int(o, "vm-state-size", (int64_t)ss->vm_state_size);
    qj_set_int(o, "date-sec", ss->date_sec);
    qj_set_str(o, "verdict", app_verdict_name(ss->judged.verdict));
    if (ss->record.kind != APP_RECORD_NONE) {
        app_report_record(o, &ss->record);
    }
    report_guest(o, &ss->guest);
    if (ss->judged.verdict == APP_VERDICT_DISK_ONLY ||
        ss->judged.verdict == APP_VERDICT_ORIGINAL) {
        return;
    }
    app_report_writer(o, out->writer);
    app_report_rules(o, r, false); /* docs/json.md: without edit counts */
    if (ss->judged.verdict == APP_VERDICT_FIXABLE ||
        ss->judged.verdict == APP_VERDICT_COMPATIBLE) {
        app_report_recipe(o, r);
    }
    if (ss->judged.verdict == APP_VERDICT_FIXABLE) {
        json_write_plan(o, ss);
    }
    app_report_reason(o, out);
    if (ss->judged.verdict == APP_VERDICT_ERROR) {
        qj_set_int(o, "exit-code", app_outcome_exit_code(out));
    }
    analysis = qj_set_object(o, "analysis");
    qj_set_str(analysis, "path", ss->judged.path);
    qj_set_str(analysis, "full-walk-because", ss->judged.reason);
    qj_set_int(analysis, "bytes-read", ss->judged.bytes_read);
}

/* "lock-holder": who makes the image in use, or null. */
static void json_lock_holder(QjValue *o, const AppLocks *l)
{
    const char *program = app_locks_holder_program(l);
    QjValue *holder, *processes;

    if (!program) {
        qj_set_null(o, "lock-holder");
        return;
    }
    holder = qj_set_object(o, "lock-holder");
    qj_set_str(holder, "program", program);
    processes = qj_set_array(holder, "processes");
    for (guint i = 0; l->holders && i < l->holders->len; i++) {
        const Qcow2LockHolder *h =
            &g_array_index(l->holders, Qcow2LockHolder, i);
        QjValue *p = qj_append_object(processes);
        qj_set_int(p, "pid", h->pid);
        qj_set_str(p, "command", h->command);
    }
}

static void json_locks(QjValue *o, const AppLocks *l)
{
    g_autofree char *bytes = app_locks_bytes_str(l);
    g_auto(GStrv) each = g_strsplit(bytes, " ", -1);
    QjValue *lock_bytes;

    if (l->probed) {
        qj_set_bool(o, "in-use", app_locks_in_use(l));
    } else {
        qj_set_null(o, "in-use");
    }
    lock_bytes = qj_set_array(o, "lock-bytes");
    for (guint i = 0; each[i] && *each[i]; i++) {
        qj_append_int(lock_bytes, g_ascii_strtoll(each[i], NULL, 10));
    }
    if (!l->probed) {
        qj_set_str(o, "lock-error", l->error);
    }
    json_lock_holder(o, l);
}

static void json_format(QjValue *o, const AppScanImage *im)
{
    QjValue *format = qj_set_object(o, "format");

    qj_set_int(format, "version", im->version);
    qj_set_str(format, "compat", im->compat);
    qj_set_int(format, "cluster-size", im->cluster_size);
    qj_set_int(format, "virtual-size", (int64_t)im->virtual_size);
    qj_set_uint(format, "file-size", im->file_size);
    qj_set_int(format, "refcount-bits", im->refcount_bits);
    qj_set_str(format, "compression-type", im->compression);
    qj_set_bool(format, "dirty-flag", im->dirty);
    qj_set_bool(format, "corrupt", im->corrupt);
    qj_set_bool(format, "encrypted", im->encrypted);
    qj_set_bool(format, "lazy-refcounts", im->lazy_refcounts);
    qj_set_bool(format, "extended-l2", im->extended_l2);
    qj_set_str(format, "backing-filename", im->backing_file);
    qj_set_str(format, "data-file", im->data_file);
}

void app_report_scan_image(QjValue *images, const AppScanImage *im)
{
    QjValue *o = qj_append_object(images);
    QjValue *snapshots;

    qj_set_str(o, "path", im->path);
    qj_set_str(o, "status", im->error ? "error" : "scanned");
    if (im->error) {
        app_report_error(o, im->error->message, app_exit_code(im->error));
        qj_set_int(o, "bytes-read", im->bytes_read);
        return;
    }
    if (im->libvirt_save) {
        QjValue *save = qj_set_object(o, "libvirt-save");
        qj_set_int(save, "version", im->save_version);
        qj_set_str(save, "compression", im->save_compression);
        qj_set_str(save, "domain", im->domain);
        qj_set_uint(save, "file-size", im->file_size);
    } else {
        json_format(o, im);
    }
    json_locks(o, &im->locks);
    if (im->blocker.message) {
        QjValue *blocked = qj_set_object(o, "fix-blocked");
        qj_set_str(blocked, "message", im->blocker.message);
        qj_set_int(blocked, "exit-code", im->blocker.exit_code);
    } else {
        qj_set_null(o, "fix-blocked");
    }
    if (im->leaks_known) {
        qj_set_int(o, "leaked-clusters", (int64_t)im->leaked_clusters);
    } else {
        qj_set_null(o, "leaked-clusters");
    }
    report_guest(o, &im->guest);
    snapshots = qj_set_array(o, "snapshots");
    for (guint i = 0; i < im->snapshots->len; i++) {
        json_snapshot(snapshots, g_ptr_array_index(im->snapshots, i));
    }
    qj_set_int(o, "bytes-read", im->bytes_read);
}

void app_report_scan_entry(QjValue *list, const AppScanEntry *e)
{
    QjValue *o = qj_append_object(list);

    qj_set_str(o, "path", e->path);
    if (e->kind == APP_ENTRY_ERROR) {
        qj_set_str(o, "status", "error");
        app_report_error(o, e->reason, e->exit_code);
    } else {
        qj_set_str(o, "reason", e->reason);
    }
}

static void report_summary(QjValue *report, const AppScanSummary *s)
{
    QjValue *o = qj_set_object(report, "summary");

    qj_set_int(o, "images", s->images);
    qj_set_int(o, "scanned", s->scanned);
    qj_set_int(o, "unreadable", s->unreadable);
    qj_set_int(o, "skipped", s->skipped);
    qj_set_int(o, "in-use", s->in_use);
    qj_set_int(o, "fix-blocked", s->blocked);
    qj_set_int(o, "snapshots", s->snapshots);
    qj_set_int(o, "disk-only", s->disk_only);
    qj_set_int(o, "originals", s->originals);
    qj_set_int(o, "compatible", s->compatible);
    qj_set_int(o, "fixable", s->fixable);
    qj_set_int(o, "refused", s->refused);
    qj_set_int(o, "errors", s->errors);
    qj_set_int(o, "full-walks", s->full_walks);
    qj_set_int(o, "fix-bytes", s->fix_bytes);
    qj_set_bool(o, "fix-bytes-exact", !s->fix_bytes_estimated);
    qj_set_int(o, "bytes-read", s->bytes_read);
}

QjValue *app_report_scan_new(const AppScanOptions *o)
{
    QjValue *report = app_report_new();

    qj_set_str(report, "target", tr_target_name(o->fix.target));
    qj_set_str(report, "mode", o->full ? "full" : "tail");
    return report;
}

void app_report_scan_end(QjValue *report, const AppScanOptions *o,
                         const AppScanSummary *s, double elapsed, int rc)
{
    report_summary(report, s);
    if (o->guestfs) {
        report_guests(report, s, elapsed);
    }
    qj_set_int(report, "exit-code", rc);
}
