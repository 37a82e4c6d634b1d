/*
 * Cluster allocation for the splice.
 *
 * A cluster is free when its refcount is 0 *and* no table of the image
 * uses it: before the first allocation we walk every L1 table (active and
 * snapshots), every L2 table and entry, and every fixed structure, and
 * mark the host clusters they use. So a metadata cluster is never handed
 * out, and neither is a live data cluster whose refcount a damaged image
 * understates (the refcount alone would say "free"); such an image is
 * refused instead.
 *
 * Placement is first fit from the lowest index that may be free, as
 * QEMU's allocator does; past the last used cluster the file grows. When
 * no refcount block describes the next candidate, refgrow.c prepares room
 * first.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "write-internal.h"

static void mark(Qcow2Refs *r, uint64_t cluster)
{
    if (cluster < r->in_use_clusters) {
        r->in_use[cluster >> 3] |= (uint8_t)(1u << (cluster & 7));
    } else {
        g_hash_table_add(r->in_use_far, g_memdup2(&cluster, sizeof(cluster)));
    }
}

static void mark_bytes(Qcow2Refs *r, uint64_t offset, uint64_t len)
{
    uint32_t bits = r->img->header.cluster_bits;

    if (!len) {
        return;
    }
    for (uint64_t c = offset >> bits; c <= (offset + len - 1) >> bits; c++) {
        mark(r, c);
    }
}

bool qcow2_refs_in_use(const Qcow2Refs *r, uint64_t cluster)
{
    if (cluster < r->in_use_clusters) {
        return (r->in_use[cluster >> 3] >> (cluster & 7)) & 1;
    }
    return g_hash_table_contains(r->in_use_far, &cluster);
}

void qcow2_refs_forget_use(Qcow2Refs *r, uint64_t cluster)
{
    if (cluster < r->in_use_clusters) {
        r->in_use[cluster >> 3] &= (uint8_t) ~(1u << (cluster & 7));
    } else if (r->in_use_far) {
        g_hash_table_remove(r->in_use_far, &cluster);
    }
}

bool qcow2_refs_covered(const Qcow2Refs *r, uint64_t cluster)
{
    uint64_t index = cluster >> r->block_bits;

    return index < r->table_entries && r->table[index];
}

/* The data clusters of one L2 table. */
static bool mark_l2_entries(Qcow2Refs *r, uint64_t l2, uint64_t where,
                            GError **errp)
{
    Qcow2Image *img = r->img;
    const uint64_t *t;
    uint64_t words = img->header.extended_l2 ? 2 : 1;

    if (!qcow2_get_l2(img, l2, where, &t, errp)) {
        return false;
    }
    for (uint64_t j = 0; j < img->l2_entries; j++) {
        uint64_t word = t[j * words];
        uint64_t bitmap = words == 2 ? t[j * words + 1] : 0;
        Qcow2Mapping m;

        if (!word && !bitmap) {
            continue;
        }
        if (!qcow2_decode_l2_entry(img, word, bitmap,
                                   l2 + j * img->l2_entry_bytes, &m, errp)) {
            return false;
        }
        if (m.kind == QCOW2_MAP_COMPRESSED) {
            mark_bytes(r, m.host_offset, m.compressed_length);
        } else if (m.host_offset) {
            /* normal, or zero / subclusters with a preallocated cluster */
            mark(r, m.host_offset >> img->header.cluster_bits);
        }
    }
    return true;
}

static bool mark_tree(Qcow2Refs *r, const Qcow2Snapshot *snap, GHashTable *seen,
                      GError **errp)
{
    const Qcow2L1 *l1;

    if (!qcow2_get_l1(r->img, snap, &l1, errp)) {
        return false;
    }
    for (uint32_t i = 0; i < l1->size; i++) {
        uint64_t l2 = l1->entries[i] & QCOW2_L1E_OFFSET_MASK;

        if (l1->entries[i] & QCOW2_L1E_RESERVED_MASK) {
            qcow2_error(errp, r->img, QCOW2_ERROR_MAPPING, "L1 entry",
                        qcow2_entry_offset(l1->offset, i),
                        "reserved bits set in 0x%016" PRIx64, l1->entries[i]);
            return false;
        }
        if (!l2 || g_hash_table_contains(seen, &l2)) {
            continue;
        }
        g_hash_table_add(seen, g_memdup2(&l2, sizeof(l2)));
        if (!mark_l2_entries(r, l2, qcow2_entry_offset(l1->offset, i), errp)) {
            return false;
        }
    }
    return true;
}

bool qcow2_refs_scan_in_use(Qcow2Refs *r, GError **errp)
{
    Qcow2Image *img = r->img;
    g_autoptr(GHashTable) seen =
        g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    GArray *meta;

    r->in_use_clusters = (r->end + 64) & ~7ULL;
    r->in_use = g_malloc0(r->in_use_clusters / 8);
    r->in_use_far =
        g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);

    /* Header, tables, every L2 table and refcount block. */
    meta = qcow2_all_metadata(img, errp);
    if (!meta) {
        return false;
    }
    for (guint i = 0; i < meta->len; i++) {
        const Qcow2MetaRange *m = &g_array_index(meta, Qcow2MetaRange, i);
        mark_bytes(r, m->offset, m->length);
    }
    g_array_free(meta, true);

    if (!mark_tree(r, NULL, seen, errp)) {
        return false;
    }
    for (guint i = 0; i < img->nb_snapshots; i++) {
        if (!mark_tree(r, &img->snapshots[i], seen, errp)) {
            return false;
        }
    }
    return true;
}

/* Free: refcount 0 and unused by any table. */
static bool cluster_free(Qcow2Refs *r, uint64_t c, bool *free, GError **errp)
{
    uint64_t rc;

    if (!qcow2_refs_get(r, c, &rc, errp)) {
        return false;
    }
    if (rc == 0 && qcow2_refs_in_use(r, c)) {
        qcow2_error(errp, r->img, QCOW2_ERROR_NEEDS_REPAIR, "cluster",
                    c << r->img->header.cluster_bits,
                    "in use but its refcount is 0; run: qemu-img check -r "
                    "all %s",
                    r->img->name);
        return false;
    }
    *free = rc == 0;
    return true;
}

bool qcow2_refs_alloc(Qcow2Refs *r, uint64_t n, uint64_t *offset, GError **errp)
{
    uint64_t start = 0, run = 0, first_free = UINT64_MAX;
    uint64_t c = r->free_hint;

    g_assert(n > 0);
    while (run < n) {
        bool free;

        if (!qcow2_refs_covered(r, c)) {
            /* Make room for this request and a good part of the next. */
            if (!qcow2_refs_ensure_room(r, c + MAX(n, r->grow_hint), errp)) {
                return false;
            }
            g_assert(qcow2_refs_covered(r, c));
        }
        if (!cluster_free(r, c, &free, errp)) {
            return false;
        }
        if (free) {
            if (!run) {
                start = c;
            }
            run++;
            first_free = MIN(first_free, c);
        } else {
            run = 0;
        }
        c++;
    }
    for (uint64_t i = 0; i < n; i++) {
        if (!qcow2_refs_add(r, start + i, 1, errp)) {
            return false;
        }
    }
    r->free_hint = first_free == start ? start + n : first_free;
    r->end = MAX(r->end, start + n);
    r->allocated += n;
    *offset = start << r->img->header.cluster_bits;
    return true;
}
