/*
 * A qcow2 snapshot's VM state as a source, and the copy-on-write splice
 * of that snapshot as its sink (io.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "io.h"
#include "record.h"

/* ---- the VM state as a byte source ------------------------------------ */

typedef struct VmstateReader {
    Qcow2Image *img;
    const Qcow2Snapshot *sn;
} VmstateReader;

static bool vmstate_read(VmsSource *src, uint64_t offset, void *buf, size_t len,
                         GError **errp)
{
    VmstateReader *r = src->opaque;
    return qcow2_read_vmstate(r->img, r->sn, offset, buf, len, errp);
}

static void vmstate_close(VmsSource *src)
{
    g_free(src->opaque);
}

static const VmsSourceOps vmstate_ops = {
    .read = vmstate_read,
    .close = vmstate_close,
};

VmsSource *app_qcow2_vmstate_source(Qcow2Image *img, const Qcow2Snapshot *sn,
                                    GError **errp)
{
    VmstateReader *r;
    g_autofree char *name = NULL;

    if (!sn->vm_state_size) {
        g_set_error(errp, QCOW2_ERROR, QCOW2_ERROR_NOT_FOUND,
                    "%s: snapshot %s \"%s\" has no VM state (disk-only "
                    "snapshot)",
                    qcow2_name(img), sn->id, sn->name);
        return NULL;
    }
    r = g_new0(VmstateReader, 1);
    r->img = img;
    r->sn = sn;
    name = g_strdup_printf("%s: snapshot %s \"%s\"", qcow2_name(img), sn->id,
                           sn->name);
    return vms_source_new(&vmstate_ops, r, sn->vm_state_size, name);
}

/* ---- the snapshot, by its place in the table --------------------------- */

/*
 * IDs need not be unique: looking an entry up again by its ID can find
 * another one. Its place in the table stays the same across a splice.
 */
typedef struct Snapshot {
    Qcow2Image *img;
    guint index;
    /* The sink's: the image's consistency check, while it describes the
     * image (a plan and then the write check once). */
    Qcow2CheckReport *checked;
} Snapshot;

static Snapshot *snapshot_new(Qcow2Image *img, guint index)
{
    Snapshot *s = g_new0(Snapshot, 1);

    s->img = img;
    s->index = index;
    return s;
}

static char *snapshot_label(Qcow2Image *img, guint index)
{
    const Qcow2Snapshot *sn = qcow2_snapshot_get(img, index);

    return g_strdup_printf("%s: snapshot %s \"%s\"", qcow2_name(img),
                           sn ? sn->id : "?", sn ? sn->name : "?");
}

static void snapshot_free(Snapshot *s)
{
    qcow2_check_report_free(s->checked);
    g_free(s);
}

/* The entry as the image holds it now (a splice re-reads the table). */
static const Qcow2Snapshot *snapshot_now(Snapshot *s, GError **errp)
{
    const Qcow2Snapshot *sn = qcow2_snapshot_get(s->img, s->index);

    if (!sn) {
        g_set_error(errp, QCOW2_ERROR, QCOW2_ERROR_IO,
                    "%s: the snapshot table could not be read again",
                    qcow2_name(s->img));
    }
    return sn;
}

/* Its VM state as the image holds it now. */
static VmsSource *snapshot_open(Snapshot *s, GError **errp)
{
    const Qcow2Snapshot *sn = snapshot_now(s, errp);

    return sn ? app_qcow2_vmstate_source(s->img, sn, errp) : NULL;
}

static VmsSource *source_open(AppSource *source, GError **errp)
{
    return snapshot_open(source->opaque, errp);
}

static void source_close(AppSource *source)
{
    snapshot_free(source->opaque);
}

static const AppSourceOps source_ops = {
    .open = source_open,
    .close = source_close,
};

AppSource *app_source_qcow2(Qcow2Image *img, guint index)
{
    g_autofree char *name = snapshot_label(img, index);

    return app_source_new(&source_ops, snapshot_new(img, index), name);
}

/* ---- the splice as a sink --------------------------------------------- */

static AppWriteEnd write_end(Qcow2SpliceEnd end)
{
    switch (end) {
    case QCOW2_SPLICE_UNTOUCHED:
        return APP_WRITE_NOTHING;
    case QCOW2_SPLICE_GIVEN_BACK:
        return APP_WRITE_GIVEN_BACK;
    case QCOW2_SPLICE_OLD_LEAKED:
        return APP_WRITE_LEAKED;
    case QCOW2_SPLICE_UNCONFIRMED:
        return APP_WRITE_UNCONFIRMED;
    case QCOW2_SPLICE_COMMITTED:
        return APP_WRITE_COMMITTED;
    }
    return APP_WRITE_UNCONFIRMED;
}

static void take_stats(AppWriteStats *st, const Qcow2SpliceStats *s)
{
    st->have_stats = true;
    st->end = write_end(s->end);
    st->old_size = s->old_size;
    st->new_size = s->new_size;
    st->clusters_written = s->clusters_written;
    st->clusters_shared = s->clusters_shared;
    st->clusters_freed = s->clusters_freed;
    st->metadata_clusters = s->metadata_clusters;
    st->bytes_written = s->bytes_written;
    st->writes = s->writes;
    st->flushes = s->flushes;
    st->active_entries_dropped = s->active_entries_dropped;
    st->leaked_clusters = s->leaked_clusters;
    st->file_size_before = s->file_size_before;
    st->file_size_after = s->file_size_after;
    st->allocated_before = s->allocated_before;
    st->allocated_after = s->allocated_after;
    st->discarded_bytes = s->discarded_bytes;
    st->space_needed = s->space_needed;
    st->space_available = s->space_available;
}

/* The edit list as qcow2_splice_vmstate() takes it (borrows the bytes). */
static Qcow2Edit *qcow2_edits(const GArray *edits)
{
    Qcow2Edit *e = g_new0(Qcow2Edit, MAX(edits->len, 1));

    for (guint i = 0; i < edits->len; i++) {
        const TrEdit *t = &g_array_index(edits, TrEdit, i);
        gsize len;
        e[i].offset = t->offset;
        e[i].old_length = t->old_length;
        e[i].data = g_bytes_get_data(t->data, &len);
        e[i].length = len;
    }
    return e;
}

/*
 * The unknown extra data of the fixed snapshot (its record) and, when
 * the original is kept, of the original (marked as such): both keep
 * what another writer put in sn's.
 */
static bool record_extra(const Qcow2Snapshot *sn, const AppRecord *record,
                         const char *keep, GBytes **extra,
                         GBytes **original_extra, GError **errp)
{
    AppRecord mark;

    *extra = app_record_extra(sn, record, errp);
    if (!*extra || !keep) {
        return *extra != NULL;
    }
    app_record_for_original(&mark, record, sn->id, sn->name);
    *original_extra = app_record_extra(sn, &mark, errp);
    app_record_clear(&mark);
    return *original_extra != NULL;
}

static void set_extra(Qcow2ExtraUpdate *x, GBytes *bytes)
{
    if (bytes) {
        x->set = true;
        x->data = g_bytes_get_data(bytes, &x->len);
    }
}

static bool sink_write(AppSink *sink, const AppWrite *w, AppWriteStats *st,
                       GError **errp)
{
    Snapshot *s = sink->opaque;
    const Qcow2Snapshot *sn = snapshot_now(s, errp);
    g_autofree Qcow2Edit *edits = qcow2_edits(w->edits);
    g_autofree char *keep = NULL;
    Qcow2SpliceOptions so = {
        .dry_run = w->dry_run,
        .cancel = w->cancel,
        .progress = w->progress,
        .progress_opaque = w->progress_opaque,
    };
    Qcow2SpliceStats done = {0};
    Qcow2CheckReport *fresh = NULL;
    g_autoptr(GBytes) extra = NULL;
    g_autoptr(GBytes) original_extra = NULL;
    bool ok;

    g_autofree char *id = NULL;

    if (!sn) {
        return false;
    }
    /* A plan's check serves the write that follows (the library tells
     * whether the report still describes the image). */
    so.checked = s->checked;
    so.check_report = &fresh;
    id = g_strdup(sn->id); /* sn is stale once the splice wrote */
    if (w->keep_original) {
        keep = w->keep_original_name ? g_strdup(w->keep_original_name)
                                     : g_strdup_printf("%s.orig", sn->name);
        so.keep_original_name = keep;
    }
    if (w->record &&
        !record_extra(sn, w->record, keep, &extra, &original_extra, errp)) {
        return false;
    }
    set_extra(&so.extra, extra);
    set_extra(&so.original_extra, original_extra);
    ok = qcow2_splice_vmstate(s->img, sn, edits, w->edits->len, &so, &done,
                              errp);
    if (fresh) {
        qcow2_check_report_free(s->checked);
        s->checked = fresh;
    }
    if (!w->dry_run) { /* stale now: the file changed (or may have) */
        g_clear_pointer(&s->checked, qcow2_check_report_free);
    }
    /* Also after a failure that got as far as measuring the file: what
     * was written and given back, the space. */
    if (ok || done.file_size_before) {
        take_stats(st, &done);
    }
    st->end = write_end(done.end);
    if (!ok) {
        return false;
    }
    st->wrote = !w->dry_run;
    st->kept_as = g_steal_pointer(&keep);
    if (w->new_size && done.new_size != w->new_size) {
        g_set_error(errp, TR_ERROR, TR_ERROR_STREAM,
                    "%s: snapshot %s: the write produced %" PRIu64
                    " bytes of VM state, %" PRIu64 " planned",
                    qcow2_name(s->img), id, done.new_size, w->new_size);
        return false;
    }
    return true;
}

static VmsSource *sink_read_back(AppSink *sink, GError **errp)
{
    return snapshot_open(sink->opaque, errp);
}

static void sink_close(AppSink *sink)
{
    snapshot_free(sink->opaque);
}

static const AppSinkOps sink_ops = {
    .write = sink_write,
    .read_back = sink_read_back,
    .close = sink_close,
};

AppSink *app_sink_qcow2(Qcow2Image *img, guint index)
{
    g_autofree char *name = snapshot_label(img, index);
    AppSink *sink = app_sink_new(&sink_ops, snapshot_new(img, index), name);

    sink->in_place = true;
    sink->write_unit = qcow2_header(img)->cluster_size;
    sink->no_sharing = qcow2_header(img)->refcount_bits == 1;
    return sink;
}
