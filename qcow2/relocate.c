/*
 * After the commit, when the old VM state lies inside the active virtual
 * disk (a snapshot older than a disk resize) and shares clusters with it:
 * keep the active layer's COPIED flags right while the old snapshot's
 * references go, without changing what the guest reads.
 *
 * A cluster the active L1 reaches must carry COPIED exactly when its
 * refcount is 1. A flag and a refcount cannot change in one write, but an
 * L2 entry can change its target and its flag in one write. So every
 * active cluster whose refcount would end at 1 gets a fresh copy, whose
 * refcount is 1 from the start, and the active entry moves to it:
 *   - an active L2 table that others share (refcount >= 2) is copied as a
 *     whole (new table, refcount 1), the active L1 entry switched to it in
 *     one 8-byte write; its entries keep their clusters (COPIED clear,
 *     refcount at least 2 until the end) except those moved to copies;
 *   - an active L2 table of its own (refcount 1) is rewritten in place,
 *     each changed entry being one 8- or 16-byte part of one sector.
 * Copies and their refcounts are written and flushed before the entries
 * that point at them. Then the caller drops the old paths.
 *
 * Only clusters the old snapshot shared are ever copied: a few at most,
 * since this only happens for the VM state clusters the edits replaced.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "write-internal.h"

static bool is_data_cluster(const Qcow2Mapping *m)
{
    return m->kind != QCOW2_MAP_COMPRESSED && m->host_offset;
}

/* Host clusters the old table maps (their old-snapshot path goes). */
static bool old_clusters(Qcow2Splice *s, uint64_t l2, uint64_t where,
                         GHashTable *set, GError **errp)
{
    g_autofree uint64_t *t = g_malloc(s->cs);

    if (!qcow2_copy_l2(s->img, l2, where, t, errp)) {
        return false;
    }
    for (uint64_t j = 0; j < s->img->l2_entries; j++) {
        Qcow2Mapping m;

        if (!qcow2_decode_entry_at(s->img, t, l2, j, &m, errp)) {
            return false;
        }
        if (is_data_cluster(&m)) {
            g_hash_table_add(set, g_memdup2(&m.host_offset, 8));
        }
    }
    return true;
}

/* A fresh copy of host cluster from, refcount 1. */
static bool copy_cluster(Qcow2Splice *s, uint64_t from, uint64_t *to,
                         GError **errp)
{
    uint64_t size = s->img->header.file_size;
    uint64_t avail = from < size ? MIN(s->cs, size - from) : 0;

    memset(s->oldbuf, 0, s->cs);
    if (avail && !qcow2_pread(s->img, s->oldbuf, avail, from, errp)) {
        return false;
    }
    if (!qcow2_refs_alloc(&s->refs, 1, to, errp) ||
        !qcow2_wio_write_data(&s->w, s->oldbuf, s->cs, *to,
                              avail == s->cs ? from : QCOW2_NO_SOURCE, errp)) {
        return false;
    }
    s->stats->clusters_written++;
    return true;
}

/*
 * Rewrite the entries of table t (entries host-endian) for the active
 * layer. cow: t becomes a new table, every kept cluster gains a path.
 */
static bool rework_entries(Qcow2Splice *s, uint64_t *t, uint64_t l2,
                           GHashTable *old, bool cow, bool *changed,
                           GError **errp)
{
    Qcow2Image *img = s->img;
    uint32_t bits = img->header.cluster_bits;
    uint64_t words = img->header.extended_l2 ? 2 : 1;

    *changed = false;
    for (uint64_t j = 0; j < img->l2_entries; j++) {
        uint64_t rc, to, final;
        Qcow2Mapping m;

        if (!qcow2_decode_entry_at(img, t, l2, j, &m, errp)) {
            return false;
        }
        if (m.kind == QCOW2_MAP_COMPRESSED) {
            if (cow && !qcow2_refs_add_range(&s->refs, m.host_offset,
                                             m.compressed_length, 1, errp)) {
                return false;
            }
            continue;
        }
        if (!is_data_cluster(&m)) {
            continue;
        }
        if (!qcow2_refs_get(&s->refs, m.host_offset >> bits, &rc, errp)) {
            return false;
        }
        /* Its refcount once the old snapshot's path is gone. */
        final = rc - g_hash_table_contains(old, &m.host_offset);
        if (final == 1 && (cow || g_hash_table_contains(old, &m.host_offset))) {
            if (!copy_cluster(s, m.host_offset, &to, errp)) {
                return false;
            }
            t[j * words] = (t[j * words] & ~QCOW2_L2E_OFFSET_MASK) | to |
                           QCOW2_OFLAG_COPIED;
            *changed = true;
        } else if (cow) {
            t[j * words] &= ~QCOW2_OFLAG_COPIED;
            if (!qcow2_refs_add(&s->refs, m.host_offset >> bits, 1, errp)) {
                return false;
            }
        }
    }
    return true;
}

static bool write_table(Qcow2Splice *s, const uint64_t *t, uint64_t offset,
                        GError **errp)
{
    g_autofree uint8_t *b = g_malloc(s->cs);

    qcow2_table_to_disk(b, t, s->cs / QCOW2_ENTRY_BYTES);
    /* What the entries point at, durable first. */
    return qcow2_wio_drain(&s->w, errp) &&
           qcow2_refs_write_dirty(&s->refs, errp) &&
           qcow2_wio_flush(&s->w, errp) &&
           qcow2_wio_write(&s->w, b, s->cs, offset, errp) &&
           qcow2_wio_flush(&s->w, errp);
}

bool qcow2_splice_relocate_active(Qcow2Splice *s, const Qcow2SpanChange *c,
                                  const Qcow2L1 *act, uint64_t *replaced,
                                  GError **errp)
{
    Qcow2Image *img = s->img;
    uint32_t i = c->l1_index;
    uint64_t where = qcow2_entry_offset(act->offset, i);
    uint64_t a = act->entries[i] & QCOW2_L1E_OFFSET_MASK;
    g_autoptr(GHashTable) old =
        g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    g_autofree uint64_t *t = g_malloc(s->cs);
    uint64_t rc, copy;
    uint8_t entry[8];
    bool changed;

    *replaced = 0;
    if (!old_clusters(s, c->old_l2,
                      qcow2_entry_offset(s->snap->l1_table_offset, i), old,
                      errp) ||
        !qcow2_copy_l2(img, a, where, t, errp) ||
        !qcow2_refs_get(&s->refs, a >> img->header.cluster_bits, &rc, errp)) {
        return false;
    }
    if (rc == 1) {
        /* The table is the active layer's own: change entries in place. */
        return rework_entries(s, t, a, old, false, &changed, errp) &&
               (!changed || write_table(s, t, a, errp));
    }
    if (!rework_entries(s, t, a, old, true, &changed, errp) ||
        !qcow2_refs_alloc(&s->refs, 1, &copy, errp)) {
        return false;
    }
    s->stats->metadata_clusters++;
    qcow2_put_be64(entry, copy | QCOW2_OFLAG_COPIED);
    if (!write_table(s, t, copy, errp) ||
        !qcow2_wio_write(&s->w, entry, sizeof(entry), where, errp) ||
        !qcow2_wio_flush(&s->w, errp)) {
        return false;
    }
    *replaced = a; /* the caller drops the active layer's old path */
    return true;
}
