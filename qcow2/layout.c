/*
 * Where a snapshot's VM state lives (what inspect reports): cluster kinds,
 * sharing by refcount, L2 tables. Walks L1 entries, not clusters, and
 * summarizes each distinct L2 table once, so the work is bounded by the
 * metadata actually present in the file whatever vm_state_size claims.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "qcow2-internal.h"

/* Counts of one run of L2 entries (a whole table is memoized). */
typedef struct L2Summary {
    uint64_t normal, compressed, zero, unallocated, shared;
    uint64_t first_host_offset;
} L2Summary;

static bool summarize_entries(Qcow2Image *img, uint64_t l2_offset,
                              uint64_t where_l1, uint64_t from, uint64_t to,
                              L2Summary *sum, GError **errp)
{
    const uint64_t *t;

    memset(sum, 0, sizeof(*sum));
    /* Refcount lookups below use their own cache: t stays valid. */
    if (!qcow2_get_l2(img, l2_offset, where_l1, &t, errp)) {
        return false;
    }
    for (uint64_t i = from; i < to; i++) {
        uint64_t word, bitmap = 0, rc;
        Qcow2Mapping m = {0};

        if (img->header.extended_l2) {
            word = t[2 * i];
            bitmap = t[2 * i + 1];
        } else {
            word = t[i];
        }
        if (!qcow2_decode_l2_entry(img, word, bitmap,
                                   l2_offset + i * img->l2_entry_bytes, &m,
                                   errp)) {
            return false;
        }
        switch (m.kind) {
        case QCOW2_MAP_UNALLOCATED:
            sum->unallocated++;
            break;
        case QCOW2_MAP_ZERO:
            sum->zero++;
            break;
        case QCOW2_MAP_COMPRESSED:
            /* Refcounts of packed compressed data do not show sharing. */
            sum->compressed++;
            break;
        case QCOW2_MAP_NORMAL:
            sum->normal++;
            if (!sum->first_host_offset) {
                sum->first_host_offset = m.host_offset;
            }
            if (m.in_data_file) {
                break; /* data-file clusters are not refcounted */
            }
            if (!qcow2_get_refcount(img, m.host_offset, &rc, errp)) {
                return false;
            }
            sum->shared += rc > 1;
            break;
        }
    }
    return true;
}

static void add_summary(Qcow2VmstateLayout *layout, const L2Summary *s)
{
    layout->normal += s->normal;
    layout->compressed += s->compressed;
    layout->zero += s->zero;
    layout->unallocated += s->unallocated;
    layout->shared += s->shared;
    if (!layout->first_host_offset) {
        layout->first_host_offset = s->first_host_offset;
    }
}

typedef struct LayoutWalk {
    Qcow2Image *img;
    Qcow2VmstateLayout *layout;
    GHashTable *tables; /* l2 offset -> L2Summary of the whole table */
} LayoutWalk;

/* Clusters [from, to) of the L2 table behind L1 entry l1e. */
static bool walk_l2(LayoutWalk *w, uint64_t l1e, uint64_t where, uint64_t from,
                    uint64_t to, GError **errp)
{
    Qcow2Image *img = w->img;
    uint64_t l2 = l1e & QCOW2_L1E_OFFSET_MASK;
    bool whole = from == 0 && to == img->l2_entries;
    L2Summary sum, *memo;
    gpointer value = NULL;
    const uint64_t *t;
    uint64_t rc;
    bool seen;

    if (l1e & QCOW2_L1E_RESERVED_MASK) {
        qcow2_error(errp, img, QCOW2_ERROR_MAPPING, "L1 entry", where,
                    "reserved bits set in 0x%016" PRIx64, l1e);
        return false;
    }
    if (!l2) {
        w->layout->unallocated += to - from;
        return true;
    }
    seen = g_hash_table_lookup_extended(w->tables, &l2, NULL, &value);
    memo = value;
    if (memo && whole) {
        add_summary(w->layout, memo);
        return true;
    }
    if (!seen) {
        /* First sight of this table: validate it, count it once. */
        if (!qcow2_get_l2(img, l2, where, &t, errp) ||
            !qcow2_get_refcount(img, l2, &rc, errp)) {
            return false;
        }
        w->layout->l2_tables++;
        w->layout->l2_shared += rc > 1;
    }
    if (!summarize_entries(img, l2, where, from, to, &sum, errp)) {
        return false;
    }
    add_summary(w->layout, &sum);
    if (whole) {
        g_hash_table_replace(w->tables, g_memdup2(&l2, sizeof(l2)),
                             g_memdup2(&sum, sizeof(sum)));
    } else if (!seen) {
        /* Partial first/last table: counted, but no summary to reuse. */
        g_hash_table_insert(w->tables, g_memdup2(&l2, sizeof(l2)), NULL);
    }
    return true;
}

bool qcow2_vmstate_layout(Qcow2Image *img, const Qcow2Snapshot *snap,
                          Qcow2VmstateLayout *layout, GError **errp)
{
    uint64_t cs = img->cluster_size;
    uint64_t first = qcow2_vmstate_base(img, snap) / cs;
    uint64_t end = first + (snap->vm_state_size + cs - 1) / cs;
    g_autoptr(GHashTable) tables =
        g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    LayoutWalk w = {.img = img, .layout = layout, .tables = tables};
    const Qcow2L1 *l1;
    uint64_t c = first;

    memset(layout, 0, sizeof(*layout));
    if (!qcow2_snapshot_usable(snap, errp)) {
        return false;
    }
    layout->clusters = end - first;
    if (!qcow2_get_l1(img, snap, &l1, errp)) {
        return false;
    }
    while (c < end) {
        uint64_t l1_index = c >> img->l2_bits;
        uint64_t from = c & (img->l2_entries - 1);
        uint64_t to = MIN(img->l2_entries, from + (end - c));

        if (l1_index >= l1->size) {
            /* Everything from here on lies past the L1 table. */
            layout->past_l1 += end - c;
            layout->unallocated += end - c;
            break;
        }
        if (!walk_l2(&w, l1->entries[l1_index],
                     qcow2_entry_offset(l1->offset, l1_index), from, to,
                     errp)) {
            return false;
        }
        c += to - from;
    }
    return true;
}
