/*
 * Growing the refcount structures so that every cluster the splice may
 * allocate is described by a refcount block.
 *
 * New blocks (and, when the table is too short, a new larger table) are
 * placed together in free clusters at the end of what is used; they
 * describe themselves wherever their own clusters fall. Order, so that a
 * crash only ever leaks:
 *   1. write the new blocks (and any existing block whose counts for
 *      the new clusters changed) and the new table; flush;
 *   2. hook them in: either the 8-byte table entries in place, or one
 *      12-byte header write switching to the new table; flush;
 *   3. the old table's clusters are released (written at the splice's
 *      next refcount barrier).
 * Until step 2 nothing reachable points at the new clusters.
 *
 * Also here: giving it all back when the splice fails before its commit
 * (qcow2_refs_give_back), in the reverse order:
 *   1. the old table as it was (new blocks may have been hooked into
 *      it, or, once the header had left it, its clusters freed and
 *      reused), then the header back on it;
 *   2. every refcount block the splice wrote, as it was;
 *   3. the file cut back to its old length.
 * Each step is flushed before the next; a crash in between leaks at worst:
 * every new cluster lies unreferenced behind the old structures, which
 * are complete at every step.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "write-internal.h"

typedef struct GrowPlan {
    uint64_t start; /* first cluster of the new metadata */
    uint64_t count; /* clusters: table + blocks */
    uint64_t table_clusters;
    uint64_t table_entries; /* of the new table; 0 = keep the table */
    uint64_t blocks;        /* new blocks */
    uint64_t cover;         /* table indices that must have a block */
} GrowPlan;

/* Free for new metadata: refcount 0 (or no block yet) and unused. */
static bool free_for_metadata(Qcow2Refs *r, uint64_t c, bool *free,
                              GError **errp)
{
    uint64_t rc = 0;

    *free = false;
    if (qcow2_refs_in_use(r, c)) {
        return true;
    }
    if (qcow2_refs_covered(r, c) && !qcow2_refs_get(r, c, &rc, errp)) {
        return false;
    }
    *free = rc == 0;
    return true;
}

static bool find_free_run(Qcow2Refs *r, uint64_t from, uint64_t n,
                          uint64_t *start, GError **errp)
{
    uint64_t run = 0;

    for (uint64_t c = from; run < n; c++) {
        bool free;

        if (!free_for_metadata(r, c, &free, errp)) {
            return false;
        }
        run = free ? run + 1 : 0;
        *start = c + 1 - run;
    }
    if (!n) {
        *start = from;
    }
    return true;
}

static uint64_t missing_blocks(const Qcow2Refs *r, uint64_t indices)
{
    uint64_t n = 0;

    for (uint64_t ti = 0; ti < indices; ti++) {
        if (ti >= r->table_entries || !r->table[ti]) {
            n++;
        }
    }
    return n;
}

/* Where the new metadata goes and how much there is: a fixpoint, since
 * the new clusters must be described too. */
static bool plan_growth(Qcow2Refs *r, uint64_t upto, GrowPlan *p, GError **errp)
{
    uint64_t per_block = 1ULL << r->block_bits;
    uint64_t per_table_cluster = r->img->cluster_size / QCOW2_ENTRY_BYTES;

    memset(p, 0, sizeof(*p));
    for (int round = 0; round < 64; round++) {
        uint64_t end, count;

        if (!find_free_run(r, r->end, p->count, &p->start, errp)) {
            return false;
        }
        end = MAX(upto, p->start + p->count);
        p->cover = (end + per_block - 1) / per_block;
        p->blocks = missing_blocks(r, p->cover);
        p->table_entries = 0;
        p->table_clusters = 0;
        if (p->cover > r->table_entries) {
            /* A quarter more than needed, so it is not grown every time. */
            uint64_t want = p->cover + p->cover / 4 + 1;
            p->table_clusters =
                (want + per_table_cluster - 1) / per_table_cluster;
            p->table_entries = p->table_clusters * per_table_cluster;
        }
        count = p->blocks + p->table_clusters;
        if (count == p->count) {
            return true;
        }
        p->count = count;
    }
    qcow2_error(errp, r->img, QCOW2_ERROR_INVALID, NULL, 0,
                "internal error: refcount growth does not converge");
    return false;
}

/* Big-endian copy of table entries [first, first + n). */
static uint8_t *table_bytes(const uint64_t *table, uint64_t first, uint64_t n)
{
    uint8_t *b = g_malloc(qcow2_table_bytes(n));

    qcow2_table_to_disk(b, table + first, n);
    return b;
}

/* Hook the new blocks into the existing table, one write per run. */
static bool hook_in_place(Qcow2Refs *r, uint64_t first_new_index,
                          const uint8_t *is_new, uint64_t cover, GError **errp)
{
    for (uint64_t ti = first_new_index; ti < cover;) {
        uint64_t end = ti;
        g_autofree uint8_t *b = NULL;

        if (!is_new[ti]) {
            ti++;
            continue;
        }
        while (end < cover && is_new[end]) {
            end++;
        }
        b = table_bytes(r->table, ti, end - ti);
        r->orig_table_written |= r->table_offset == r->orig_table_offset;
        if (!qcow2_wio_write(r->w, b, qcow2_table_bytes(end - ti),
                             qcow2_entry_offset(r->table_offset, ti), errp)) {
            return false;
        }
        ti = end;
    }
    return qcow2_wio_flush(r->w, errp);
}

static bool switch_table(Qcow2Refs *r, uint64_t offset, uint32_t clusters,
                         GError **errp);

/* Switch the header to the new table; release the old one. */
static bool hook_new_table(Qcow2Refs *r, uint64_t offset, uint64_t clusters,
                           GError **errp)
{
    uint64_t cs = r->img->cluster_size;
    uint64_t old_offset = r->table_offset;
    uint64_t old_bytes = (uint64_t)r->table_clusters * cs;

    r->header_switched = true; /* even a failed write may have landed */
    if (!switch_table(r, offset, (uint32_t)clusters, errp)) {
        return false;
    }
    r->table_offset = offset;
    r->table_clusters = (uint32_t)clusters;
    return qcow2_refs_add_range(r, old_offset, old_bytes, -1, errp);
}

bool qcow2_refs_ensure_room(Qcow2Refs *r, uint64_t upto, GError **errp)
{
    uint64_t cs = r->img->cluster_size;
    uint64_t old_entries = r->table_entries;
    g_autofree uint8_t *is_new = NULL;
    uint64_t pos, table_offset = 0;
    GrowPlan p;

    if (!plan_growth(r, upto, &p, errp)) {
        return false;
    }
    if (!p.blocks && !p.table_entries) {
        return true;
    }
    if (qcow2_table_bytes(p.table_entries) > QCOW2_MAX_REFTABLE_BYTES) {
        qcow2_error(errp, r->img, QCOW2_ERROR_UNSUPPORTED, "refcount table",
                    r->table_offset,
                    "would need %" PRIu64 " entries, more than QEMU's %u-byte "
                    "limit",
                    p.table_entries, QCOW2_MAX_REFTABLE_BYTES);
        return false;
    }
    if (p.table_entries) {
        uint64_t *t = g_new0(uint64_t, p.table_entries);

        memcpy(t, r->table, qcow2_table_bytes(r->table_entries));
        g_free(r->table);
        r->table = t;
        r->table_entries = p.table_entries;
        table_offset = p.start * cs;
    }
    /* Blocks after the table, one per missing index, in index order. */
    is_new = g_malloc0(p.cover);
    pos = p.start + p.table_clusters;
    for (uint64_t ti = 0; ti < p.cover; ti++) {
        if (!r->table[ti]) {
            r->table[ti] = pos * cs;
            qcow2_refs_new_block(r, ti, pos * cs);
            is_new[ti] = 1;
            pos++;
        }
    }
    r->end = MAX(r->end, p.start + p.count);
    r->w->stats->metadata_clusters += p.count;
    for (uint64_t c = p.start; c < p.start + p.count; c++) {
        if (!qcow2_refs_add(r, c, 1, errp)) {
            return false;
        }
    }
    if (!qcow2_refs_write_dirty(r, errp)) {
        return false;
    }
    if (p.table_entries) {
        g_autofree uint8_t *b = table_bytes(r->table, 0, r->table_entries);

        return qcow2_wio_write(r->w, b, qcow2_table_bytes(r->table_entries),
                               table_offset, errp) &&
               qcow2_wio_flush(r->w, errp) &&
               hook_new_table(r, table_offset, p.table_clusters, errp);
    }
    return qcow2_wio_flush(r->w, errp) &&
           hook_in_place(r, 0, is_new, MIN(p.cover, old_entries), errp);
}

/* The header's refcount table fields, one write. */
static bool switch_table(Qcow2Refs *r, uint64_t offset, uint32_t clusters,
                         GError **errp)
{
    uint8_t hdr[sizeof(Qcow2DiskHeader)];

    QCOW2_PUT(hdr, Qcow2DiskHeader, refcount_table_offset, offset);
    QCOW2_PUT(hdr, Qcow2DiskHeader, refcount_table_clusters, clusters);
    return qcow2_wio_write(r->w, hdr + QCOW2_REFTABLE_SWITCH_OFFSET,
                           QCOW2_REFTABLE_SWITCH_BYTES,
                           QCOW2_REFTABLE_SWITCH_OFFSET, errp) &&
           qcow2_wio_flush(r->w, errp);
}

bool qcow2_refs_give_back(Qcow2Refs *r, uint64_t old_size, GError **errp)
{
    Qcow2IO *io = r->img->io;
    uint64_t size;

    /* Rewritten where new blocks were hooked into it, and once the header
     * left it: its clusters were freed then, and may have been reused. */
    if (r->orig_table_written || r->header_switched) {
        g_autofree uint8_t *b =
            table_bytes(r->orig_table, 0, r->orig_table_entries);

        if (!qcow2_wio_write(r->w, b, qcow2_table_bytes(r->orig_table_entries),
                             r->orig_table_offset, errp) ||
            !qcow2_wio_flush(r->w, errp)) {
            return false;
        }
    }
    if (r->header_switched &&
        !switch_table(r, r->orig_table_offset, r->orig_table_clusters, errp)) {
        return false;
    }
    if (!qcow2_refs_restore_blocks(r, errp) || !qcow2_wio_flush(r->w, errp) ||
        !io->ops->get_size(io, &size, errp)) {
        return false;
    }
    return size <= old_size || !io->ops->truncate ||
           (io->ops->truncate(io, old_size, errp) &&
            qcow2_wio_flush(r->w, errp));
}
