/*
 * After the commit: dropping the old snapshot's references, and keeping
 * the active L1's COPIED flags right while doing it.
 *
 * qemu-img check wants, for every L2 table and data cluster the active
 * L1 reaches, COPIED set exactly when the refcount is 1. Dropping the old
 * snapshot's reference to a cluster the active L1 also reaches (after a
 * revert or with old qemu-kvm, the active L1 still maps the VM state) can
 * take its refcount from 2 to 1. The refcount and the flag live in
 * different clusters, so no order of two writes keeps check happy at
 * every instant. Instead we drop the active L1's own mapping of that
 * span first: it maps guest offsets past the end of the virtual disk,
 * which the guest never reads, and which QEMU itself discards after
 * every savevm (loadvm replaces the active L1 before reading the VM
 * state). One in-place write of L1 entries, each 8 bytes inside one
 * sector: before it the old mapping is counted (a leak at worst), after
 * it nothing active points there. Then the refcounts go down, and no
 * active entry is involved any more.
 *
 * The same situation inside the virtual disk (a snapshot older than a
 * disk resize) cannot be handled that way: there the active side moves to
 * fresh copies instead (relocate.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "write-internal.h"

uint64_t qcow2_active_vmstate_index(const Qcow2Image *img)
{
    uint64_t span = qcow2_l2_span(img);

    return (img->header.size + span - 1) / span;
}

bool qcow2_is_copied_cluster(const Qcow2Mapping *m)
{
    /* COPIED matters for normal and preallocated zero clusters only. */
    return m->kind != QCOW2_MAP_COMPRESSED && m->host_offset;
}

bool qcow2_l2_copied_clusters(Qcow2Image *img, uint64_t l2, uint64_t where,
                              GHashTable **set, GError **errp)
{
    g_autofree uint64_t *t = g_malloc(img->cluster_size);

    *set = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    if (!qcow2_copy_l2(img, l2, where, t, errp)) {
        return false;
    }
    for (uint64_t j = 0; j < img->l2_entries; j++) {
        Qcow2Mapping m;

        if (!qcow2_decode_entry_at(img, t, l2, j, &m, errp)) {
            return false;
        }
        if (qcow2_is_copied_cluster(&m)) {
            g_hash_table_add(*set, g_memdup2(&m.host_offset, 8));
        }
    }
    return true;
}

/*
 * Would dropping the old table's references of this span leave an
 * active-reachable cluster at refcount 1 (its COPIED flag then wrong)?
 */
static bool would_need_copied(Qcow2Splice *s, const Qcow2SpanChange *c,
                              uint64_t active_l2, uint64_t where, bool *need,
                              GError **errp)
{
    Qcow2Image *img = s->img;
    uint32_t bits = img->header.cluster_bits;
    g_autoptr(GHashTable) active = NULL;
    g_autofree uint64_t *old_t = NULL;
    uint64_t rc;

    *need = false;
    if (!c->old_l2) {
        return true;
    }
    if (active_l2 == c->old_l2) {
        if (!qcow2_refs_get(&s->refs, active_l2 >> bits, &rc, errp)) {
            return false;
        }
        if (rc == 2) {
            *need = true;
            return true;
        }
    } else if (!qcow2_l2_copied_clusters(img, active_l2, where, &active,
                                         errp)) {
        return false;
    }
    old_t = g_malloc(s->cs);
    if (!qcow2_copy_l2(img, c->old_l2, where, old_t, errp)) {
        return false;
    }
    for (uint64_t j = 0; j < img->l2_entries && !*need; j++) {
        Qcow2Mapping m;

        if (!qcow2_span_dropped(c, j)) {
            continue;
        }
        if (!qcow2_decode_entry_at(img, old_t, c->old_l2, j, &m, errp)) {
            return false;
        }
        if (!qcow2_is_copied_cluster(&m) ||
            (active && !g_hash_table_contains(active, &m.host_offset))) {
            continue;
        }
        if (!qcow2_refs_get(&s->refs, m.host_offset >> bits, &rc, errp)) {
            return false;
        }
        *need = rc == 2;
    }
    return true;
}

bool qcow2_splice_drop_path(Qcow2Splice *s, uint64_t l2, uint64_t where,
                            GError **errp)
{
    Qcow2Image *img = s->img;
    g_autofree uint64_t *t = g_malloc(s->cs);

    if (!qcow2_copy_l2(img, l2, where, t, errp)) {
        return false;
    }
    for (uint64_t j = 0; j < img->l2_entries; j++) {
        Qcow2Mapping m;

        if (!qcow2_decode_entry_at(img, t, l2, j, &m, errp)) {
            return false;
        }
        if (m.kind == QCOW2_MAP_COMPRESSED) {
            if (!qcow2_refs_add_range(&s->refs, m.host_offset,
                                      m.compressed_length, -1, errp)) {
                return false;
            }
        } else if (m.host_offset &&
                   !qcow2_refs_add(&s->refs,
                                   m.host_offset >> img->header.cluster_bits,
                                   -1, errp)) {
            return false;
        }
    }
    return qcow2_refs_add(&s->refs, l2 >> img->header.cluster_bits, -1, errp);
}

/*
 * Spans where dropping the old references would leave an active COPIED
 * flag wrong: past the virtual disk, the active mapping is dropped
 * (drops); inside it, the active side moves to copies (moves).
 */
static bool plan_active_changes(Qcow2Splice *s, const Qcow2L1 *act,
                                GArray *drops, GArray *moves, GError **errp)
{
    uint64_t first_vmstate = qcow2_active_vmstate_index(s->img);

    for (guint n = 0; n < s->changes->len; n++) {
        const Qcow2SpanChange *c =
            &g_array_index(s->changes, Qcow2SpanChange, n);
        uint32_t i = c->l1_index;
        uint64_t a, where = qcow2_entry_offset(act->offset, i);
        bool need;

        if (i >= act->size || !(a = act->entries[i] & QCOW2_L1E_OFFSET_MASK)) {
            continue;
        }
        if (!would_need_copied(s, c, a, where, &need, errp)) {
            return false;
        }
        if (need) {
            g_array_append_val(i < first_vmstate ? moves : drops, n);
        }
    }
    return true;
}

static uint32_t change_index(const Qcow2Splice *s, GArray *list, guint n)
{
    guint k = g_array_index(list, guint, n);

    return g_array_index(s->changes, Qcow2SpanChange, k).l1_index;
}

/* Clear the active L1 entries in place: one write per run of indices. */
static bool clear_active_entries(Qcow2Splice *s, const Qcow2L1 *act,
                                 GArray *drops, GError **errp)
{
    static const uint8_t zeros[64];

    for (guint n = 0; n < drops->len;) {
        uint32_t first = change_index(s, drops, n);
        guint run = 1;

        while (n + run < drops->len &&
               run < sizeof(zeros) / QCOW2_ENTRY_BYTES &&
               change_index(s, drops, n + run) == first + run) {
            run++;
        }
        if (!qcow2_wio_write(&s->w, zeros, qcow2_table_bytes(run),
                             qcow2_entry_offset(act->offset, first), errp)) {
            return false;
        }
        n += run;
    }
    return !drops->len || qcow2_wio_flush(&s->w, errp);
}

bool qcow2_splice_release(Qcow2Splice *s, GError **errp)
{
    Qcow2Image *img = s->img;
    const Qcow2Snapshot *snap = s->snap;
    g_autoptr(GArray) drops = g_array_new(false, false, sizeof(guint));
    g_autoptr(GArray) moves = g_array_new(false, false, sizeof(guint));
    /* active L2 tables whose active path goes: (table, L1 entry offset) */
    g_autoptr(GArray) gone = g_array_new(false, false, sizeof(uint64_t));
    const Qcow2L1 *act;

    if (!s->keep) {
        if (!qcow2_get_l1(img, NULL, &act, errp) ||
            !plan_active_changes(s, act, drops, moves, errp) ||
            !clear_active_entries(s, act, drops, errp)) {
            return false;
        }
        s->stats->active_entries_dropped = drops->len;
        for (guint n = 0; n < drops->len; n++) {
            uint32_t i = change_index(s, drops, n);
            uint64_t pair[2] = {act->entries[i] & QCOW2_L1E_OFFSET_MASK,
                                qcow2_entry_offset(act->offset, i)};
            g_array_append_vals(gone, pair, 2);
        }
        for (guint n = 0; n < moves->len; n++) {
            const Qcow2SpanChange *c = &g_array_index(
                s->changes, Qcow2SpanChange, g_array_index(moves, guint, n));
            uint64_t pair[2] = {0,
                                qcow2_entry_offset(act->offset, c->l1_index)};

            if (!qcow2_splice_relocate_active(s, c, act, &pair[0], errp)) {
                return false;
            }
            if (pair[0]) {
                g_array_append_vals(gone, pair, 2);
            }
        }
        for (guint n = 0; n < s->changes->len; n++) {
            const Qcow2SpanChange *c =
                &g_array_index(s->changes, Qcow2SpanChange, n);
            uint64_t where =
                qcow2_entry_offset(snap->l1_table_offset, c->l1_index);

            if (c->old_l2 &&
                !qcow2_splice_drop_path(s, c->old_l2, where, errp)) {
                return false;
            }
        }
        for (guint n = 0; n < gone->len; n += 2) {
            if (!qcow2_splice_drop_path(s, g_array_index(gone, uint64_t, n),
                                        g_array_index(gone, uint64_t, n + 1),
                                        errp)) {
                return false;
            }
        }
        if (!qcow2_refs_add_range(&s->refs, snap->l1_table_offset,
                                  qcow2_table_bytes(snap->l1_size), -1, errp)) {
            return false;
        }
    }
    if (!qcow2_refs_add_range(&s->refs, img->header.snapshots_offset,
                              img->snapshot_table_length, -1, errp)) {
        return false;
    }
    return qcow2_refs_write_dirty(&s->refs, errp) &&
           qcow2_wio_flush(&s->w, errp);
}
