/*
 * The refcount journal of one splice: every refcount block the splice
 * changes is loaded once, changed in memory, and written back whole at
 * the barriers the commit order asks for (qcow2_refs_write_dirty, then a
 * flush, before anything that points at the clusters is written).
 *
 * Refcounts are per reference path, as QEMU counts them: a data cluster
 * reached through an L2 table that two L1 tables share has refcount 2.
 *
 * Blocks stay in memory until the splice ends, so that a dry run, which
 * writes nothing, still sees its own changes: memory is a few bytes per
 * cluster the splice touches (2 bytes for 16-bit refcounts).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "write-internal.h"

/* Adjacent dirty blocks written together, up to this many at once. */
#define RUN_BLOCKS 64

typedef struct JournalBlock {
    uint64_t index; /* hash key */
    Qcow2RefBlock b;
} JournalBlock;

static void free_block(gpointer p)
{
    JournalBlock *jb = p;

    g_free(jb->b.data);
    g_free(jb->b.orig);
    g_free(jb);
}

bool qcow2_refs_init(Qcow2Refs *r, Qcow2Image *img, Qcow2WriteIO *w,
                     GError **errp)
{
    const Qcow2Header *h = &img->header;

    memset(r, 0, sizeof(*r));
    r->img = img;
    r->w = w;
    r->order = h->refcount_order;
    r->block_bits = img->refcount_block_bits;
    r->max = img->refcount_max;
    r->blocks =
        g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, free_block);
    if (!qcow2_load_refcount_table(img, errp)) {
        return false;
    }
    r->table_entries = img->refcount_table_entries;
    r->table =
        g_memdup2(img->refcount_table, qcow2_table_bytes(r->table_entries));
    r->table_offset = h->refcount_table_offset;
    r->table_clusters = h->refcount_table_clusters;
    r->orig_table = g_memdup2(r->table, qcow2_table_bytes(r->table_entries));
    r->orig_table_entries = r->table_entries;
    r->orig_table_offset = r->table_offset;
    r->orig_table_clusters = r->table_clusters;
    r->freed_list = g_array_new(false, false, sizeof(uint64_t));
    r->taken_list = g_array_new(false, false, sizeof(uint64_t));
    r->end = (h->file_size + img->cluster_size - 1) >> h->cluster_bits;
    r->orig_end = r->end;
    return true;
}

void qcow2_refs_destroy(Qcow2Refs *r)
{
    if (r->blocks) {
        g_hash_table_destroy(r->blocks);
    }
    g_free(r->table);
    g_free(r->orig_table);
    g_free(r->counted);
    if (r->freed_list) {
        g_array_free(r->freed_list, true);
    }
    if (r->taken_list) {
        g_array_free(r->taken_list, true);
    }
    memset(r, 0, sizeof(*r));
}

static Qcow2RefBlock *journal_lookup(Qcow2Refs *r, uint64_t index)
{
    JournalBlock *jb = g_hash_table_lookup(r->blocks, &index);

    return jb ? &jb->b : NULL;
}

Qcow2RefBlock *qcow2_refs_new_block(Qcow2Refs *r, uint64_t index,
                                    uint64_t offset)
{
    JournalBlock *jb = g_new0(JournalBlock, 1);

    jb->index = index;
    jb->b.offset = offset;
    jb->b.data = g_malloc0(r->img->cluster_size);
    jb->b.dirty = true;
    g_hash_table_replace(r->blocks, &jb->index, jb);
    return &jb->b;
}

/* The block of table entry index, loaded into the journal to change it. */
static bool journal_load(Qcow2Refs *r, uint64_t index, Qcow2RefBlock **out,
                         GError **errp)
{
    Qcow2Image *img = r->img;
    uint64_t cs = img->cluster_size;
    uint64_t entry = index < r->table_entries ? r->table[index] : 0;
    uint64_t offset = entry & QCOW2_REFT_OFFSET_MASK;
    uint64_t where = qcow2_entry_offset(r->table_offset, index);
    JournalBlock *jb;

    *out = journal_lookup(r, index);
    if (*out) {
        return true;
    }
    if (!offset) {
        qcow2_error(errp, img, QCOW2_ERROR_INVALID, "refcount table entry",
                    where,
                    "no refcount block describes clusters from 0x%" PRIx64
                    " (internal error: room was not prepared)",
                    (index << r->block_bits) * cs);
        return false;
    }
    if ((entry & ~QCOW2_REFT_OFFSET_MASK) || offset % cs ||
        !qcow2_range_within(offset, cs, img->header.file_size)) {
        qcow2_error(errp, img, QCOW2_ERROR_REFCOUNT, "refcount table entry",
                    where,
                    "refcount block 0x%016" PRIx64
                    " is misaligned, has reserved bits or is past the end of "
                    "the file",
                    entry);
        return false;
    }
    if (!qcow2_check_no_fixed_overlap(img, offset, cs, QCOW2_ERROR_REFCOUNT,
                                      "refcount table entry", where, errp)) {
        return false;
    }
    jb = g_new0(JournalBlock, 1);
    jb->index = index;
    jb->b.offset = offset;
    jb->b.data = g_malloc(cs);
    if (!qcow2_pread(img, jb->b.data, cs, offset, errp)) {
        free_block(jb);
        return false;
    }
    jb->b.orig = g_memdup2(jb->b.data, cs);
    /* The read path's copy would go stale once we change this block. */
    qcow2_cache_invalidate(&img->refblock_cache, offset);
    g_hash_table_replace(r->blocks, &jb->index, jb);
    *out = &jb->b;
    return true;
}

bool qcow2_refs_get(Qcow2Refs *r, uint64_t cluster, uint64_t *rc, GError **errp)
{
    uint64_t index = cluster >> r->block_bits;
    Qcow2RefBlock *b = journal_lookup(r, index);

    if (b) {
        *rc = qcow2_refcount_entry_get(b->data, r->order,
                                       cluster & ((1ULL << r->block_bits) - 1));
        return true;
    }
    if (index >= r->table_entries || !r->table[index]) {
        *rc = 0;
        return true;
    }
    /* Unchanged block: the read path and its cache. */
    return qcow2_get_cluster_refcount(r->img, cluster, rc, errp);
}

bool qcow2_refs_get_orig(Qcow2Refs *r, uint64_t cluster, uint64_t *rc,
                         GError **errp)
{
    uint64_t index = cluster >> r->block_bits;
    Qcow2RefBlock *b = journal_lookup(r, index);

    if (b) { /* a block the splice created covered nothing before */
        *rc = b->orig ? qcow2_refcount_entry_get(
                            b->orig, r->order,
                            cluster & ((1ULL << r->block_bits) - 1))
                      : 0;
        return true;
    }
    if (index >= r->orig_table_entries || !r->orig_table[index]) {
        *rc = 0;
        return true;
    }
    return qcow2_get_cluster_refcount(r->img, cluster, rc, errp);
}

/*
 * The references of cluster, kept in step with its refcount: the new
 * count, or false when the refcount would fall below it (a table would
 * still use a cluster whose refcount says it is free).
 */
static bool count_references(Qcow2Refs *r, uint64_t cluster, int64_t delta,
                             uint64_t rc, GError **errp)
{
    uint64_t refs;

    if (cluster >= r->counted_n) {
        uint64_t n = MAX(cluster + 1, r->counted_n + r->counted_n / 2);

        r->counted = g_renew(uint32_t, r->counted, n);
        memset(r->counted + r->counted_n, 0,
               (n - r->counted_n) * sizeof(*r->counted));
        r->counted_n = n;
    }
    refs = r->counted[cluster];
    refs = delta < 0 ? (refs >= (uint64_t)-delta ? refs + (uint64_t)delta : 0)
                     : refs + (uint64_t)delta;
    r->counted[cluster] = (uint32_t)MIN(refs, UINT32_MAX);
    if (refs > rc) {
        qcow2_error(errp, r->img, QCOW2_ERROR_INCONSISTENT, "cluster",
                    cluster << r->img->header.cluster_bits,
                    "internal error: refcount %" PRIu64 " would be lower "
                    "than its %" PRIu64 " references",
                    rc, refs);
        return false;
    }
    return true;
}

bool qcow2_refs_add(Qcow2Refs *r, uint64_t cluster, int64_t delta,
                    GError **errp)
{
    uint64_t cs = r->img->cluster_size;
    uint64_t index = cluster >> r->block_bits;
    uint64_t slot = cluster & ((1ULL << r->block_bits) - 1);
    Qcow2RefBlock *b;
    uint64_t rc, mag;

    if (!journal_load(r, index, &b, errp)) {
        return false;
    }
    rc = qcow2_refcount_entry_get(b->data, r->order, slot);
    mag = delta < 0 ? (uint64_t) - (delta + 1) + 1 : (uint64_t)delta;
    if (delta > 0 && rc > r->max - mag) {
        qcow2_error(errp, r->img, QCOW2_ERROR_UNSUPPORTED, "cluster",
                    cluster * cs,
                    "refcount %" PRIu64 " + %" PRIu64
                    " exceeds the maximum of %u-bit refcounts (%" PRIu64 ")",
                    rc, mag, r->img->header.refcount_bits, r->max);
        return false;
    }
    if (delta < 0 && rc < mag) {
        qcow2_error(errp, r->img, QCOW2_ERROR_NEEDS_REPAIR, "cluster",
                    cluster * cs,
                    "refcount %" PRIu64 " is lower than the references to "
                    "it; run: qemu-img check -r all %s",
                    rc, r->img->name);
        return false;
    }
    if (rc == 0 && delta > 0 && cluster < r->orig_end) {
        g_array_append_val(r->taken_list, cluster);
    }
    rc = delta < 0 ? rc - mag : rc + mag;
    if (r->counted && !count_references(r, cluster, delta, rc, errp)) {
        return false;
    }
    qcow2_refcount_entry_set(b->data, r->order, slot, rc);
    b->dirty = true;
    if (rc == 0) {
        /* Nothing reachable uses it any more: it may be allocated again. */
        r->freed++;
        g_array_append_val(r->freed_list, cluster);
        if (cluster < r->free_hint) {
            r->free_hint = cluster;
        }
    }
    return true;
}

bool qcow2_refs_lower_to(Qcow2Refs *r, uint64_t cluster, uint64_t floor,
                         GError **errp)
{
    uint32_t refs = cluster < r->counted_n ? r->counted[cluster] : 0;
    uint64_t rc;

    floor = MAX(floor, refs);
    if (!qcow2_refs_get(r, cluster, &rc, errp)) {
        return false;
    }
    if (rc <= floor) {
        return true;
    }
    /* qcow2_refs_add drops a path: here no reference goes with it. */
    if (!qcow2_refs_add(r, cluster, -(int64_t)(rc - floor), errp)) {
        return false;
    }
    if (cluster < r->counted_n) {
        r->counted[cluster] = refs;
    }
    return true;
}

bool qcow2_refs_unalloc(Qcow2Refs *r, uint64_t cluster, GError **errp)
{
    if (!qcow2_refs_add(r, cluster, -1, errp)) {
        return false;
    }
    r->freed--; /* it was never in use */
    r->allocated--;
    return true;
}

bool qcow2_refs_add_range(Qcow2Refs *r, uint64_t offset, uint64_t len,
                          int64_t delta, GError **errp)
{
    uint32_t bits = r->img->header.cluster_bits;

    if (!len) {
        return true;
    }
    for (uint64_t c = offset >> bits; c <= (offset + len - 1) >> bits; c++) {
        if (!qcow2_refs_add(r, c, delta, errp)) {
            return false;
        }
    }
    return true;
}

bool qcow2_refs_room(Qcow2Refs *r, uint64_t offset, uint64_t len,
                     uint64_t delta, bool *room, GError **errp)
{
    uint32_t bits = r->img->header.cluster_bits;

    *room = true;
    if (!len) {
        return true;
    }
    for (uint64_t c = offset >> bits; c <= (offset + len - 1) >> bits; c++) {
        uint64_t rc;

        if (!qcow2_refs_get(r, c, &rc, errp)) {
            return false;
        }
        if (rc > r->max - delta) {
            *room = false;
            return true;
        }
    }
    return true;
}

static gint by_offset(gconstpointer a, gconstpointer b)
{
    const Qcow2RefBlock *x = *(Qcow2RefBlock *const *)a;
    const Qcow2RefBlock *y = *(Qcow2RefBlock *const *)b;

    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/*
 * Write blocks in file order (sequential, and the same order on every
 * run), blocks that follow each other in one write: the changed ones, or
 * (restore) every one the splice wrote, with its old content.
 */
static bool write_blocks(Qcow2Refs *r, bool restore, GError **errp)
{
    uint64_t cs = r->img->cluster_size;
    g_autoptr(GPtrArray) todo = g_ptr_array_new();
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, r->blocks);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        Qcow2RefBlock *b = &((JournalBlock *)value)->b;
        if (restore ? b->written && b->orig : b->dirty) {
            g_ptr_array_add(todo, b);
        }
    }
    g_ptr_array_sort(todo, by_offset);
    for (guint i = 0; i < todo->len;) {
        Qcow2RefBlock *first = g_ptr_array_index(todo, i);
        guint n = 1;
        g_autofree uint8_t *run = NULL;

        while (i + n < todo->len && n < RUN_BLOCKS &&
               ((Qcow2RefBlock *)g_ptr_array_index(todo, i + n))->offset ==
                   first->offset + n * cs) {
            n++;
        }
        run = g_malloc(n * cs);
        for (guint k = 0; k < n; k++) {
            Qcow2RefBlock *b = g_ptr_array_index(todo, i + k);
            memcpy(run + k * cs, restore ? b->orig : b->data, cs);
            b->dirty = false;
            b->written = true; /* even a failed write may have landed */
        }
        if (!qcow2_wio_write(r->w, run, n * cs, first->offset, errp)) {
            return false;
        }
        i += n;
    }
    return true;
}

bool qcow2_refs_write_dirty(Qcow2Refs *r, GError **errp)
{
    return write_blocks(r, false, errp);
}

bool qcow2_refs_restore_blocks(Qcow2Refs *r, GError **errp)
{
    return write_blocks(r, true, errp);
}
