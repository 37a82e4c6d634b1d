/*
 * Copy-on-write of the snapshot's L2 tables, one L2 span (the clusters
 * one L1 entry maps) at a time.
 *
 * A span with no dirty cluster keeps its L2 table: the new L1 points at
 * the same table, and since the old L1 stops pointing at it at the same
 * commit, no refcount changes. A changed span gets a new table, built
 * entry by entry:
 *   - a dirty cluster of the new VM state that is old bytes which only
 *     moved (past a length-changing edit) is streamed to a fresh
 *     cluster, copied inside the file where the I/O can;
 *   - a dirty cluster that edit bytes touch is made in memory (old
 *     bytes + edit bytes); if it equals the old cluster at the same
 *     place, that cluster is kept, else it is written to a fresh one;
 *   - a cluster past the new end is released (unallocated entry);
 *   - anything else keeps its old entry.
 * Keeping an entry in a new table is one more reference (refcounts count
 * paths): +1 now, and -1 when the old table goes. When the refcount
 * cannot go higher (1-bit refcounts, or at the maximum), the cluster is
 * copied instead.
 *
 * New tables are written only after the refcounts of everything they
 * point at are written and flushed; they wait in a bounded queue.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "write-internal.h"

#define PENDING_TABLE_BYTES (4u << 20)
#define ALL_SUBCLUSTERS     0x00000000ffffffffULL

typedef struct SpanWork {
    Qcow2Splice *s;
    uint32_t l1_index;
    uint64_t first; /* cluster index of entry 0, from the VM state start */
    uint64_t *old_t, *new_t;
    uint8_t *dropped;
} SpanWork;

bool qcow2_copy_l2(Qcow2Image *img, uint64_t l2_offset, uint64_t where,
                   uint64_t *buf, GError **errp)
{
    const uint64_t *t;

    if (!qcow2_get_l2(img, l2_offset, where, &t, errp)) {
        return false;
    }
    memcpy(buf, t, img->cluster_size);
    return true;
}

bool qcow2_span_dropped(const Qcow2SpanChange *c, uint64_t j)
{
    return (c->dropped[j >> 3] >> (j & 7)) & 1;
}

static uint64_t words_per_entry(const Qcow2Image *img)
{
    return img->header.extended_l2 ? 2 : 1;
}

/* Does the entry hold references (allocated or compressed clusters)? */
static bool has_refs(const Qcow2Mapping *m)
{
    return m->kind == QCOW2_MAP_COMPRESSED || m->host_offset != 0;
}

static void ref_range(const Qcow2Image *img, const Qcow2Mapping *m,
                      uint64_t *offset, uint64_t *len)
{
    *offset = m->host_offset;
    *len = m->kind == QCOW2_MAP_COMPRESSED ? m->compressed_length
                                           : img->cluster_size;
}

bool qcow2_decode_entry_at(Qcow2Image *img, const uint64_t *table,
                           uint64_t table_offset, uint64_t j, Qcow2Mapping *m,
                           GError **errp)
{
    uint64_t words = words_per_entry(img);
    uint64_t word = table[j * words];
    uint64_t bitmap = words == 2 ? table[j * words + 1] : 0;

    memset(m, 0, sizeof(*m));
    m->kind = QCOW2_MAP_UNALLOCATED;
    if (!word && !bitmap) {
        return true;
    }
    return qcow2_decode_l2_entry(
        img, word, bitmap, table_offset + j * img->l2_entry_bytes, m, errp);
}

/*
 * A whole cluster the file holds as plain bytes at host offset *host:
 * allocated (every subcluster, with extended L2), in the image file.
 */
static bool host_backed(Qcow2Splice *s, uint64_t guest, uint64_t *host)
{
    Qcow2Mapping m;

    if (!qcow2_map_cluster(s->img, s->snap, guest, &m, NULL) ||
        m.kind != QCOW2_MAP_NORMAL || m.in_data_file ||
        (s->img->header.extended_l2 && (uint32_t)m.l2_bitmap != UINT32_MAX) ||
        m.host_offset + s->cs > s->img->header.file_size) {
        return false;
    }
    *host = m.host_offset;
    return true;
}

/*
 * Where the file already holds the bytes of new cluster k (old bytes
 * that only moved), so that the I/O can copy them; else QCOW2_NO_SOURCE.
 */
static uint64_t moved_from(Qcow2Splice *s, uint64_t k, uint64_t len)
{
    uint64_t old_off, guest, in, first, second;

    if (len != s->cs ||
        !qcow2_editmap_old_range(&s->map, k * s->cs, len, &old_off)) {
        return QCOW2_NO_SOURCE;
    }
    guest = s->base + old_off;
    in = guest % s->cs;
    if (!host_backed(s, guest - in, &first) ||
        (in && (!host_backed(s, guest - in + s->cs, &second) ||
                second != first + s->cs))) {
        return QCOW2_NO_SOURCE;
    }
    return first + in;
}

/* Write buf (one cluster) to a fresh cluster; the entry that maps it. */
static bool write_fresh(Qcow2Splice *s, const uint8_t *buf, uint64_t src,
                        uint64_t *word, uint64_t *bitmap, GError **errp)
{
    uint64_t off;

    if (!qcow2_refs_alloc(&s->refs, 1, &off, errp) ||
        !qcow2_wio_write_data(&s->w, buf, s->cs, off, src, errp)) {
        return false;
    }
    s->stats->clusters_written++;
    *word = off;
    *bitmap = s->img->header.extended_l2 ? ALL_SUBCLUSTERS : 0;
    return true;
}

/*
 * The new table keeps the old entry j: one more reference, or a copy of
 * the cluster when its refcount is at the maximum.
 */
static bool keep_entry(SpanWork *sw, uint64_t j, const Qcow2Mapping *m,
                       bool *copied, GError **errp)
{
    Qcow2Splice *s = sw->s;
    uint64_t words = words_per_entry(s->img);
    uint64_t off, len, guest, src;
    bool room;

    *copied = false;
    sw->new_t[j * words] = sw->old_t[j * words] & ~QCOW2_OFLAG_COPIED;
    if (words == 2) {
        sw->new_t[j * words + 1] = sw->old_t[j * words + 1];
    }
    if (!has_refs(m)) {
        return true;
    }
    ref_range(s->img, m, &off, &len);
    if (!qcow2_refs_room(&s->refs, off, len, 1, &room, errp)) {
        return false;
    }
    if (room) {
        return qcow2_refs_add_range(&s->refs, off, len, 1, errp);
    }
    /* Cannot share: copy what the cluster reads as. */
    guest = s->base + (sw->first + j) * s->cs;
    *copied = true;
    if (!host_backed(s, guest, &src)) {
        src = QCOW2_NO_SOURCE;
    }
    return qcow2_read_guest(s->img, s->snap, guest, s->oldbuf, s->cs, errp) &&
           write_fresh(s, s->oldbuf, src, &sw->new_t[j * words],
                       words == 2 ? &sw->new_t[j * words + 1] : &(uint64_t){0},
                       errp);
}

/* Cluster k of the new VM state, which the edits touched or moved. */
static bool make_cluster(SpanWork *sw, uint64_t j, const Qcow2Mapping *m,
                         bool *dropped, GError **errp)
{
    Qcow2Splice *s = sw->s;
    uint64_t words = words_per_entry(s->img);
    uint64_t k = sw->first + j;
    uint64_t len = MIN(s->cs, s->map.new_size - k * s->cs);
    uint64_t bitmap = 0, src = moved_from(s, k, len);
    const uint8_t *bytes = NULL;

    /*
     * Old bytes that moved (past a length-changing edit) are streamed to
     * fresh clusters, copied inside the file where the I/O can (DESIGN.md:
     * from the first length-changing edit on, the writer streams). Only
     * touched clusters are made in memory and compared with the old
     * cluster at their place, which they may turn out to equal.
     */
    if (src == QCOW2_NO_SOURCE) {
        if (!qcow2_editmap_fill(&s->map, s->img, s->snap, &s->src, k * s->cs,
                                s->newbuf, len, errp)) {
            return false;
        }
        memset(s->newbuf + len, 0, s->cs - len);
        if (has_refs(m)) {
            if (!qcow2_old_read(s->img, s->snap, &s->cmp, &s->src,
                                s->base + k * s->cs, s->oldbuf, s->cs, errp)) {
                return false;
            }
        } else {
            memset(s->oldbuf, 0, s->cs); /* zero or unallocated */
        }
        if (!memcmp(s->newbuf, s->oldbuf, len)) {
            return keep_entry(sw, j, m, dropped, errp);
        }
        bytes = s->newbuf;
    }
    *dropped = has_refs(m);
    s->fresh_vmstate++;
    if (!write_fresh(s, bytes, src, &sw->new_t[j * words], &bitmap, errp)) {
        return false;
    }
    if (words == 2) {
        sw->new_t[j * words + 1] = bitmap;
    }
    return true;
}

static void queue_table(Qcow2Splice *s, uint64_t offset, const uint64_t *t)
{
    Qcow2PendingTable p = {.offset = offset, .data = g_malloc(s->cs)};

    qcow2_table_to_disk(p.data, t, s->cs / QCOW2_ENTRY_BYTES);
    g_array_append_val(s->pending, p);
    s->pending_bytes += s->cs;
}

bool qcow2_splice_write_pending(Qcow2Splice *s, GError **errp)
{
    /* Everything the tables point at: written, counted, durable. */
    if (!qcow2_wio_drain(&s->w, errp) ||
        !qcow2_refs_write_dirty(&s->refs, errp) ||
        !qcow2_wio_flush(&s->w, errp)) {
        return false;
    }
    /* Tables in consecutive clusters go out in one write. */
    for (guint i = 0; i < s->pending->len;) {
        Qcow2PendingTable *p = &g_array_index(s->pending, Qcow2PendingTable, i);
        guint n = 1;
        g_autofree uint8_t *run = NULL;

        while (i + n < s->pending->len &&
               g_array_index(s->pending, Qcow2PendingTable, i + n).offset ==
                   p->offset + n * s->cs) {
            n++;
        }
        run = g_malloc(n * s->cs);
        for (guint k = 0; k < n; k++) {
            memcpy(run + k * s->cs,
                   g_array_index(s->pending, Qcow2PendingTable, i + k).data,
                   s->cs);
        }
        if (!qcow2_wio_write(&s->w, run, n * s->cs, p->offset, errp)) {
            return false;
        }
        i += n;
    }
    for (guint i = 0; i < s->pending->len; i++) {
        g_free(g_array_index(s->pending, Qcow2PendingTable, i).data);
    }
    g_array_set_size(s->pending, 0);
    s->pending_bytes = 0;
    return true;
}

/* Progress in steps of 16 MiB of new VM state (a span can map 512 MiB). */
static void report_progress(Qcow2Splice *s, uint64_t clusters_done)
{
    uint64_t done = clusters_done * s->cs;
    uint64_t before = done - s->cs; /* clusters_done >= 1 */
    uint64_t step = 16u << 20;

    if (s->opts->progress && done / step != before / step &&
        done < s->map.new_size) {
        s->opts->progress(done, s->map.new_size, s->opts->progress_opaque);
    }
}

static bool build_entries(SpanWork *sw, uint64_t old_l2, GError **errp)
{
    Qcow2Splice *s = sw->s;
    uint64_t entries = s->img->l2_entries;

    for (uint64_t j = 0; j < entries; j++) {
        uint64_t k = sw->first + j;
        bool dropped = false;
        Qcow2Mapping m;

        if (!qcow2_decode_entry_at(s->img, sw->old_t, old_l2, j, &m, errp)) {
            return false;
        }
        if (!qcow2_editmap_dirty(&s->map, k)) {
            if (!keep_entry(sw, j, &m, &dropped, errp)) {
                return false;
            }
        } else if (k < s->new_clusters) {
            if (!make_cluster(sw, j, &m, &dropped, errp)) {
                return false;
            }
        } else {
            dropped = has_refs(&m); /* past the new end: released */
        }
        if (dropped) {
            sw->dropped[j >> 3] |= (uint8_t)(1u << (j & 7));
        }
        report_progress(s, k + 1);
    }
    return true;
}

static bool table_empty(const uint64_t *t, uint64_t words)
{
    for (uint64_t i = 0; i < words; i++) {
        if (t[i]) {
            return false;
        }
    }
    return true;
}

static bool process_span(Qcow2Splice *s, uint32_t l1_index, uint64_t first,
                         uint64_t new_l2, GError **errp)
{
    Qcow2Image *img = s->img;
    const Qcow2L1 *l1 = s->old_l1;
    uint64_t entries = img->l2_entries;
    Qcow2SpanChange c = {.l1_index = l1_index};
    g_autofree uint64_t *old_t = g_malloc0(s->cs);
    g_autofree uint64_t *new_t = g_malloc0(s->cs);
    SpanWork sw = {s, l1_index, first, old_t, new_t, NULL};

    if (l1_index < l1->size) {
        uint64_t e = l1->entries[l1_index];
        if (e & QCOW2_L1E_RESERVED_MASK) {
            qcow2_error(errp, img, QCOW2_ERROR_MAPPING, "L1 entry",
                        qcow2_entry_offset(l1->offset, l1_index),
                        "reserved bits set in 0x%016" PRIx64, e);
            return false;
        }
        c.old_l2 = e & QCOW2_L1E_OFFSET_MASK;
    }
    if (c.old_l2 &&
        !qcow2_copy_l2(img, c.old_l2, qcow2_entry_offset(l1->offset, l1_index),
                       old_t, errp)) {
        return false;
    }
    c.dropped = g_malloc0(entries / 8 + 1);
    sw.dropped = c.dropped;
    if (!build_entries(&sw, c.old_l2, errp)) {
        g_free(c.dropped);
        return false;
    }
    if (!table_empty(new_t, s->cs / QCOW2_ENTRY_BYTES)) {
        c.new_l2 = new_l2;
        queue_table(s, c.new_l2, new_t);
    } else if (!qcow2_refs_unalloc(&s->refs, new_l2 >> img->header.cluster_bits,
                                   errp)) {
        /* Nothing left in the span: no table, its cluster is free again. */
        g_free(c.dropped);
        return false;
    } else {
        s->stats->metadata_clusters--;
    }
    s->new_l1[l1_index] = c.new_l2;
    g_array_append_val(s->changes, c);
    if (s->pending_bytes >= PENDING_TABLE_BYTES) {
        return qcow2_splice_write_pending(s, errp);
    }
    return true;
}

/* L1 index of the first span of the VM state. */
static uint32_t first_span(const Qcow2Splice *s)
{
    return (uint32_t)qcow2_l1_index(s->img, s->base);
}

uint64_t qcow2_splice_span_count(const Qcow2Splice *s)
{
    uint64_t total = MAX(s->old_clusters, s->new_clusters);

    return (total + s->img->l2_entries - 1) / s->img->l2_entries;
}

bool qcow2_splice_span_changes(const Qcow2Splice *s, uint64_t span)
{
    uint64_t entries = s->img->l2_entries;
    uint64_t total = MAX(s->old_clusters, s->new_clusters);
    uint64_t first = span * entries;

    return first < total &&
           qcow2_editmap_any_dirty(&s->map, first,
                                   MIN(first + entries, total) - 1);
}

bool qcow2_splice_stream(Qcow2Splice *s, GError **errp)
{
    uint64_t entries = s->img->l2_entries;
    uint64_t spans = qcow2_splice_span_count(s);
    uint64_t changed = 0, tables = 0;

    /*
     * The new L2 tables in one run of clusters, before any data: the data
     * clusters then follow each other, and so do the tables' writes.
     */
    for (uint64_t span = 0; span < spans; span++) {
        changed += qcow2_splice_span_changes(s, span);
    }
    if (changed && !qcow2_refs_alloc(&s->refs, changed, &tables, errp)) {
        return false;
    }
    s->stats->metadata_clusters += changed;
    for (uint64_t span = 0; span < spans; span++) {
        if (!qcow2_splice_span_changes(s, span)) {
            continue;
        }
        if (!process_span(s, first_span(s) + (uint32_t)span, span * entries,
                          tables, errp)) {
            return false;
        }
        tables += s->cs;
        if (s->opts->progress) {
            uint64_t done = MIN(s->map.new_size, (span + 1) * entries * s->cs);
            s->opts->progress(done, s->map.new_size, s->opts->progress_opaque);
        }
    }
    return true;
}

/* Can every cluster of [off, +len) take one more reference? */
static bool room_for_path(Qcow2Splice *s, uint64_t off, uint64_t len,
                          GError **errp)
{
    bool room;

    if (!qcow2_refs_room(&s->refs, off, len, 1, &room, errp)) {
        return false;
    }
    if (!room) {
        qcow2_error(errp, s->img, QCOW2_ERROR_UNSUPPORTED, "cluster", off,
                    "keeping the original snapshot as \"%s\" shares its "
                    "clusters, but this one's refcount is already the "
                    "largest %u-bit refcounts hold; run: qemu-img amend -o "
                    "refcount_bits=16 %s (or do not keep the original)",
                    s->opts->keep_original_name, s->img->header.refcount_bits,
                    s->img->name);
        return false;
    }
    return qcow2_refs_add_range(&s->refs, off, len, 1, errp);
}

/* One more path to an L2 table and to everything it maps. */
static bool add_path(Qcow2Splice *s, uint64_t l2, uint64_t where, GError **errp)
{
    g_autofree uint64_t *t = g_malloc(s->cs);

    if (!qcow2_copy_l2(s->img, l2, where, t, errp) ||
        !room_for_path(s, l2, s->cs, errp)) {
        return false;
    }
    for (uint64_t j = 0; j < s->img->l2_entries; j++) {
        uint64_t off, len;
        Qcow2Mapping m;

        if (!qcow2_decode_entry_at(s->img, t, l2, j, &m, errp)) {
            return false;
        }
        if (has_refs(&m)) {
            ref_range(s->img, &m, &off, &len);
            if (!room_for_path(s, off, len, errp)) {
                return false;
            }
        }
    }
    return true;
}

bool qcow2_splice_share_unchanged(Qcow2Splice *s, GError **errp)
{
    uint32_t span0 = first_span(s);
    uint64_t spans = qcow2_splice_span_count(s);

    for (uint32_t i = 0; i < s->new_l1_size; i++) {
        uint64_t l2 = s->new_l1[i];

        if (!l2 || (i >= span0 && i - span0 < spans &&
                    qcow2_splice_span_changes(s, i - span0))) {
            continue; /* empty, or gets a new table */
        }
        if (!add_path(s, l2, qcow2_entry_offset(s->old_l1->offset, i), errp)) {
            return false;
        }
    }
    return true;
}
