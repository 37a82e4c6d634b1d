/*
 * Changing the snapshot table without writing VM state: a snapshot given
 * back the VM state a splice kept as its original (restore), and a
 * snapshot removed (delete). Both are the splice's last three phases on
 * a table built here (splice.c gives the order):
 *
 *   1. the new snapshot table in fresh clusters                   ->
 *   2. the 12-byte header write at offset 60: the commit point     ->
 *   3. the released snapshot's references dropped, where an active
 *      COPIED flag would go wrong the active side first (release.c,
 *      relocate.c)                                                 ->
 *
 * The released tree is the one the snapshot had: for restore, the fixed
 * VM state (the original's L1 table now belongs to the restored entry,
 * its references unchanged); for delete, the snapshot's own. Every L1
 * entry of it is one path fewer to an L2 table and everything that table
 * maps, exactly as QEMU's snapshot delete counts (qcow2_update_snapshot_
 * refcount with -1). A crash before 2 leaves the old table, after it the
 * new one; at most clusters leak.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "write-internal.h"

typedef struct TableOp {
    Qcow2Splice s;
    Qcow2SpliceOptions so;
} TableOp;

static void op_init(TableOp *op, Qcow2Image *img, const Qcow2Snapshot *snap,
                    const Qcow2TableOptions *opts, Qcow2SpliceStats *stats)
{
    Qcow2Splice *s = &op->s;

    memset(op, 0, sizeof(*op));
    op->so.dry_run = opts->dry_run;
    s->img = img;
    s->snap = snap; /* the entry whose tree is released */
    s->opts = &op->so;
    s->stats = stats;
    s->cs = img->cluster_size;
    s->removed = 1;
    qcow2_wio_init(&s->w, img, opts->dry_run, stats);
    s->oldbuf = g_malloc(s->cs); /* relocate.c copies clusters through it */
    s->changes = g_array_new(false, false, sizeof(Qcow2SpanChange));
    s->pending = g_array_new(false, false, sizeof(Qcow2PendingTable));
}

static void op_destroy(TableOp *op)
{
    Qcow2Splice *s = &op->s;

    for (guint i = 0; i < s->changes->len; i++) {
        g_free(g_array_index(s->changes, Qcow2SpanChange, i).dropped);
    }
    g_array_free(s->changes, true);
    g_array_free(s->pending, true);
    qcow2_refs_destroy(&s->refs);
    qcow2_wio_destroy(&s->w);
    g_free(s->oldbuf);
    g_free(s->new_table);
}

static void pad8(GByteArray *t)
{
    static const uint8_t zeros[8];

    g_byte_array_append(t, zeros, (8 - t->len % 8) % 8);
}

/* original's entry under snap's ID and name, with snap's unknown extra
 * data unless opts say otherwise. */
static bool append_restored(const TableOp *op, GByteArray *t,
                            const uint8_t *snap_e, const uint8_t *orig_e,
                            const Qcow2Snapshot *snap,
                            const Qcow2TableOptions *opts, GError **errp)
{
    uint32_t extra =
        (uint32_t)QCOW2_GET(orig_e, Qcow2DiskSnapshot, extra_data_size);
    uint64_t id_len = QCOW2_GET(snap_e, Qcow2DiskSnapshot, id_str_size);
    uint64_t name_len = QCOW2_GET(snap_e, Qcow2DiskSnapshot, name_size);
    const uint8_t *names =
        snap_e + qcow2_snapshot_entry_length(snap_e) - id_len - name_len;
    uint8_t fixed[sizeof(Qcow2DiskSnapshot)];
    Qcow2ExtraUpdate own = {.set = true};
    guint at;

    memcpy(fixed, orig_e, sizeof(fixed));
    QCOW2_PUT(fixed, Qcow2DiskSnapshot, id_str_size, id_len);
    QCOW2_PUT(fixed, Qcow2DiskSnapshot, name_size, name_len);
    pad8(t);
    at = t->len;
    g_byte_array_append(t, fixed, sizeof(fixed));
    g_byte_array_append(t, orig_e + sizeof(Qcow2DiskSnapshot), extra);
    g_byte_array_append(t, names, (guint)id_len + name_len);
    own.data = qcow2_snapshot_unknown_extra(snap, &own.len);
    return qcow2_entry_set_unknown_extra(
        op->s.img, t, at, opts->extra.set ? &opts->extra : &own, errp);
}

/* The table without original (restore) or snap (delete). */
static bool build_table(TableOp *op, const Qcow2Snapshot *snap,
                        const Qcow2Snapshot *original,
                        const Qcow2TableOptions *opts, GError **errp)
{
    Qcow2Image *img = op->s.img;
    uint64_t table_off = img->header.snapshots_offset;
    g_autofree uint8_t *old = g_malloc(MAX(img->snapshot_table_length, 1));
    g_autoptr(GByteArray) t = g_byte_array_new();
    const uint8_t *orig_e = NULL;

    if (!qcow2_pread(img, old, img->snapshot_table_length, table_off, errp)) {
        return false;
    }
    if (original) {
        orig_e = old + (original->table_offset - table_off);
    }
    for (guint i = 0; i < img->nb_snapshots; i++) {
        const Qcow2Snapshot *sn = &img->snapshots[i];
        const uint8_t *e = old + (sn->table_offset - table_off);

        if (sn == original || (!original && sn == snap)) {
            continue;
        }
        if (sn == snap) {
            if (!append_restored(op, t, e, orig_e, snap, opts, errp)) {
                return false;
            }
            continue;
        }
        pad8(t);
        g_byte_array_append(t, e, (guint)qcow2_snapshot_entry_length(e));
    }
    op->s.new_table_len = t->len;
    op->s.new_table = g_byte_array_steal(t, NULL);
    return true;
}

/* Every L2 table snap's L1 reaches: a path that goes. */
static bool plan_release(TableOp *op, GError **errp)
{
    Qcow2Splice *s = &op->s;
    const Qcow2L1 *l1;
    uint64_t entries = s->img->l2_entries;

    if (!qcow2_get_l1(s->img, s->snap, &l1, errp)) {
        return false;
    }
    for (uint32_t i = 0; i < l1->size; i++) {
        Qcow2SpanChange c = {
            .l1_index = i,
            .old_l2 = l1->entries[i] & QCOW2_L1E_OFFSET_MASK,
        };

        if (!c.old_l2) {
            continue;
        }
        c.dropped = g_malloc(entries / 8 + 1);
        memset(c.dropped, 0xff, entries / 8 + 1);
        g_array_append_val(s->changes, c);
    }
    return true;
}

/* The splice's consistency check: anything wrong, nothing written. */
static bool check_image(TableOp *op, GError **errp)
{
    g_autoptr(Qcow2CheckReport) report =
        qcow2_check_run(op->s.img, NULL, false, errp);

    if (!report || !qcow2_check_report_ok(op->s.img, report, errp)) {
        return false;
    }
    op->s.stats->leaked_clusters = report->leaks;
    qcow2_refs_take_counts(&op->s.refs, report);
    return true;
}

static bool run(TableOp *op, const Qcow2Snapshot *original,
                const Qcow2TableOptions *opts, GError **errp)
{
    Qcow2Splice *s = &op->s;
    uint64_t clusters;

    if (!qcow2_refs_init(&s->refs, s->img, &s->w, errp) ||
        !check_image(op, errp) ||
        !build_table(op, s->snap, original, opts, errp) ||
        !plan_release(op, errp) ||
        !qcow2_clear_unknown_autoclear(s->img, &s->w, errp)) {
        return false;
    }
    s->refs.grow_hint = 64;
    clusters = MAX((s->new_table_len + s->cs - 1) / s->cs, 1);
    if (!qcow2_refs_alloc(&s->refs, clusters, &s->new_table_offset, errp)) {
        return false;
    }
    s->stats->metadata_clusters += clusters;
    return qcow2_splice_commit(s, errp) && qcow2_splice_release(s, errp) &&
           qcow2_splice_discard_freed(s, errp);
}

static bool owns(const Qcow2Image *img, const Qcow2Snapshot *sn)
{
    return sn && sn->index < img->nb_snapshots &&
           sn == &img->snapshots[sn->index];
}

static bool table_op(Qcow2Image *img, const Qcow2Snapshot *snap,
                     const Qcow2Snapshot *original,
                     const Qcow2TableOptions *opts, Qcow2SpliceStats *stats,
                     GError **errp)
{
    static const Qcow2TableOptions defaults;
    Qcow2SpliceStats ignored;
    TableOp op;
    bool ok, wrote;

    opts = opts ? opts : &defaults;
    stats = stats ? stats : &ignored;
    memset(stats, 0, sizeof(*stats));
    if (!owns(img, snap) || (original && !owns(img, original)) ||
        snap == original) {
        qcow2_error(errp, img, QCOW2_ERROR_INVALID, NULL, 0,
                    "snapshot handle does not belong to this image");
        return false;
    }
    if (original && original->disk_size != snap->disk_size) {
        qcow2_error(errp, img, QCOW2_ERROR_INVALID, NULL, 0,
                    "snapshot %s has a disk of %" PRIu64 " bytes, snapshot "
                    "%s of %" PRIu64 ": not the same snapshot's states",
                    snap->id, snap->disk_size, original->id,
                    original->disk_size);
        return false;
    }
    if (!qcow2_snapshot_usable(snap, errp) ||
        (original && !qcow2_snapshot_usable(original, errp)) ||
        !qcow2_check_writable(img, snap, opts->dry_run, errp)) {
        return false;
    }
    op_init(&op, img, snap, opts, stats);
    /* The length a failed run gives the file back (space.c). */
    qcow2_space_measure(img, &stats->file_size_before, &stats->allocated_before,
                        &stats->space_available);
    ok = run(&op, original, opts, errp);
    stats->clusters_freed = op.s.refs.freed;
    wrote = op.s.w.wrote;
    if (!ok && wrote && !opts->dry_run && errp && *errp) {
        GError *undo_err = NULL;
        bool landed = op.s.committed || qcow2_splice_commit_landed(&op.s);
        bool given_back = !landed && qcow2_splice_give_back(&op.s, &undo_err);
        char *msg = g_strdup_printf(
            "%s (%s%s)", (*errp)->message,
            landed ? "the new snapshot table may be the one committed"
                   : "the old snapshot table is intact",
            given_back ? "; what the run had allocated was given back"
                       : "; leaked clusters may remain: qemu-img check -r "
                         "leaks");

        g_clear_error(&undo_err);
        g_free((*errp)->message);
        (*errp)->message = msg;
    }
    op_destroy(&op);
    if (wrote && !opts->dry_run) {
        GError *reload_err = NULL;

        if (!qcow2_reload(img, ok ? errp : &reload_err)) {
            g_clear_error(&reload_err);
            return false;
        }
    }
    return ok;
}

bool qcow2_snapshot_restore(Qcow2Image *img, const Qcow2Snapshot *snap,
                            const Qcow2Snapshot *original,
                            const Qcow2TableOptions *opts,
                            Qcow2SpliceStats *stats, GError **errp)
{
    if (!original) {
        qcow2_error(errp, img, QCOW2_ERROR_INVALID, NULL, 0,
                    "restore needs the snapshot to restore from");
        return false;
    }
    return table_op(img, snap, original, opts, stats, errp);
}

bool qcow2_snapshot_delete(Qcow2Image *img, const Qcow2Snapshot *snap,
                           const Qcow2TableOptions *opts,
                           Qcow2SpliceStats *stats, GError **errp)
{
    return table_op(img, snap, NULL, opts, stats, errp);
}
