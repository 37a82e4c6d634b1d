/*
 * The commit: a new L1 table and a new snapshot table in fresh clusters,
 * then the one 12-byte header write (nb_snapshots + snapshots_offset, at
 * offset 60, inside the first sector) that makes them current. Before
 * that write the old snapshot table is current and untouched; after it,
 * the new one.
 *
 * The new table is the old one byte for byte except the spliced entry
 * (L1 offset and size, both VM state size fields) and, with
 * keep-original, one appended copy of the old entry under a new ID and
 * the given name. Unknown extra data is kept verbatim.
 *
 * Also here: re-reading the header and the snapshot table after a write,
 * so the image handle describes the file again.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "write-internal.h"

/* QEMU's rule for a new snapshot ID: one more than the largest. */
static char *next_snapshot_id(const Qcow2Image *img)
{
    uint64_t max = 0;

    for (guint i = 0; i < img->nb_snapshots; i++) {
        uint64_t id = g_ascii_strtoull(img->snapshots[i].id, NULL, 10);
        max = MAX(max, id);
    }
    return g_strdup_printf("%" PRIu64, max + 1);
}

static void pad8(GByteArray *t)
{
    static const uint8_t zeros[8];

    g_byte_array_append(t, zeros, (8 - t->len % 8) % 8);
}

static bool patch_entry(Qcow2Splice *s, uint8_t *e, GError **errp)
{
    uint64_t size = s->map.new_size;
    uint64_t extra = QCOW2_GET(e, Qcow2DiskSnapshot, extra_data_size);
    bool has_large = QCOW2_SNAPSHOT_EXTRA_HAS(extra, vm_state_size_large);

    if (!has_large && size > UINT32_MAX) {
        qcow2_error(errp, s->img, QCOW2_ERROR_UNSUPPORTED,
                    "snapshot table entry", s->snap->table_offset,
                    "has no 64-bit VM state size field for %" PRIu64 " bytes",
                    size);
        return false;
    }
    QCOW2_PUT(e, Qcow2DiskSnapshot, l1_table_offset, s->new_l1_offset);
    QCOW2_PUT(e, Qcow2DiskSnapshot, l1_size, s->new_l1_size);
    /* Too large for the old field: 0, so old readers see no VM state. */
    QCOW2_PUT(e, Qcow2DiskSnapshot, vm_state_size,
              size <= UINT32_MAX ? size : 0);
    if (has_large) {
        QCOW2_PUT(e + sizeof(Qcow2DiskSnapshot), Qcow2DiskSnapshotExtra,
                  vm_state_size_large, size);
    }
    return true;
}

/* The old entry again, as a snapshot of its own: new ID, given name. */
static void append_original(Qcow2Splice *s, GByteArray *t, const uint8_t *e)
{
    g_autofree char *id = next_snapshot_id(s->img);
    const char *name = s->opts->keep_original_name;
    uint64_t extra = QCOW2_GET(e, Qcow2DiskSnapshot, extra_data_size);
    uint8_t fixed[sizeof(Qcow2DiskSnapshot)];

    memcpy(fixed, e, sizeof(fixed));
    QCOW2_PUT(fixed, Qcow2DiskSnapshot, id_str_size, strlen(id));
    QCOW2_PUT(fixed, Qcow2DiskSnapshot, name_size, strlen(name));
    pad8(t);
    g_byte_array_append(t, fixed, sizeof(fixed));
    g_byte_array_append(t, e + sizeof(Qcow2DiskSnapshot), (guint)extra);
    g_byte_array_append(t, (const uint8_t *)id, (guint)strlen(id));
    g_byte_array_append(t, (const uint8_t *)name, (guint)strlen(name));
}

/*
 * The new snapshot table, built (and its limits checked) before the first
 * write; its L1 offset is filled in once the L1 table has its clusters.
 */
bool qcow2_splice_plan_table(Qcow2Splice *s, GError **errp)
{
    Qcow2Image *img = s->img;
    uint64_t table_off = img->header.snapshots_offset;
    g_autofree uint8_t *old = g_malloc(MAX(img->snapshot_table_length, 1));
    GByteArray *t = g_byte_array_new();
    const uint8_t *orig = NULL;

    if (!qcow2_pread(img, old, img->snapshot_table_length, table_off, errp)) {
        g_byte_array_free(t, true);
        return false;
    }
    for (guint i = 0; i < img->nb_snapshots; i++) {
        const uint8_t *e = old + (img->snapshots[i].table_offset - table_off);
        guint at;

        pad8(t);
        at = t->len;
        g_byte_array_append(t, e, (guint)qcow2_snapshot_entry_length(e));
        if (&img->snapshots[i] == s->snap) {
            orig = e;
            s->new_entry_at = at;
            if (!patch_entry(s, t->data + at, errp) ||
                !qcow2_entry_set_unknown_extra(img, t, at, &s->opts->extra,
                                               errp)) {
                g_byte_array_free(t, true);
                return false;
            }
        }
    }
    if (s->keep) {
        guint at;

        pad8(t);
        at = t->len;
        append_original(s, t, orig);
        if (!qcow2_entry_set_unknown_extra(img, t, at, &s->opts->original_extra,
                                           errp)) {
            g_byte_array_free(t, true);
            return false;
        }
    }
    if (t->len > QCOW2_MAX_SNAPSHOT_TABLE_BYTES) {
        qcow2_error(errp, img, QCOW2_ERROR_UNSUPPORTED, "snapshot table",
                    table_off,
                    "would grow to %u bytes, more than QEMU allows (%u)",
                    t->len, QCOW2_MAX_SNAPSHOT_TABLE_BYTES);
        g_byte_array_free(t, true);
        return false;
    }
    s->new_table_len = t->len;
    s->new_table = g_byte_array_free(t, false);
    return true;
}

static uint64_t clusters_for(const Qcow2Splice *s, uint64_t bytes)
{
    return (bytes + s->cs - 1) / s->cs;
}

bool qcow2_splice_prepare_table(Qcow2Splice *s, GError **errp)
{
    uint64_t l1_clusters = clusters_for(s, qcow2_table_bytes(s->new_l1_size));
    uint64_t table_clusters;

    if (l1_clusters) {
        if (!qcow2_refs_alloc(&s->refs, l1_clusters, &s->new_l1_offset, errp)) {
            return false;
        }
        s->stats->metadata_clusters += l1_clusters;
    }
    QCOW2_PUT(s->new_table + s->new_entry_at, Qcow2DiskSnapshot,
              l1_table_offset, s->new_l1_offset);
    table_clusters = clusters_for(s, s->new_table_len);
    if (!qcow2_refs_alloc(&s->refs, table_clusters, &s->new_table_offset,
                          errp)) {
        return false;
    }
    s->stats->metadata_clusters += table_clusters;
    return true;
}

bool qcow2_splice_commit(Qcow2Splice *s, GError **errp)
{
    uint64_t l1_bytes = qcow2_table_bytes(s->new_l1_size);
    g_autofree uint8_t *l1 = g_malloc(MAX(l1_bytes, 1));
    uint32_t nb = s->img->nb_snapshots + (s->keep ? 1 : 0) - s->removed;
    uint8_t hdr[sizeof(Qcow2DiskHeader)];

    /* Refcounts of everything new, durable; then the last L2 tables. */
    if (!qcow2_splice_write_pending(s, errp)) {
        return false;
    }
    qcow2_table_to_disk(l1, s->new_l1, s->new_l1_size);
    if ((l1_bytes &&
         !qcow2_wio_write(&s->w, l1, l1_bytes, s->new_l1_offset, errp)) ||
        !qcow2_wio_flush(&s->w, errp)) {
        return false;
    }
    if (!qcow2_wio_write(&s->w, s->new_table, s->new_table_len,
                         s->new_table_offset, errp) ||
        !qcow2_wio_flush(&s->w, errp)) {
        return false;
    }
    /* The commit point: nb_snapshots and snapshots_offset, one write. */
    QCOW2_PUT(hdr, Qcow2DiskHeader, nb_snapshots, nb);
    QCOW2_PUT(hdr, Qcow2DiskHeader, snapshots_offset, s->new_table_offset);
    /* From here the file may hold either state (see
     * qcow2_splice_commit_landed). */
    if (qcow2_wio_stop_requested(&s->w, errp)) {
        return false;
    }
    s->commit_issued = true;
    if (!qcow2_wio_write(&s->w, hdr + QCOW2_SNAPSHOT_SWITCH_OFFSET,
                         QCOW2_SNAPSHOT_SWITCH_BYTES,
                         QCOW2_SNAPSHOT_SWITCH_OFFSET, errp) ||
        !qcow2_wio_flush(&s->w, errp)) {
        return false;
    }
    s->committed = true;
    s->w.cancellable = false; /* committed: finish the run */
    return true;
}

bool qcow2_splice_commit_landed(Qcow2Splice *s)
{
    uint8_t hdr[sizeof(Qcow2DiskHeader)];

    if (!s->commit_issued) {
        return false;
    }
    /* Unreadable: assume the worst, that the switch is there. */
    if (!qcow2_pread(s->img, hdr + QCOW2_SNAPSHOT_SWITCH_OFFSET,
                     QCOW2_SNAPSHOT_SWITCH_BYTES, QCOW2_SNAPSHOT_SWITCH_OFFSET,
                     NULL)) {
        return true;
    }
    return QCOW2_GET(hdr, Qcow2DiskHeader, snapshots_offset) !=
               s->img->header.snapshots_offset ||
           QCOW2_GET(hdr, Qcow2DiskHeader, nb_snapshots) !=
               s->img->header.nb_snapshots;
}

/* Everything parsed from the header and the tables, dropped. */
static void forget_metadata(Qcow2Image *img)
{
    Qcow2Header *h = &img->header;
    guint l2_slots = img->l2_cache.n_slots;
    guint rb_slots = img->refblock_cache.n_slots;

    if (img->snapshot_l1) {
        for (guint i = 0; i < img->nb_snapshots; i++) {
            g_free(img->snapshot_l1[i].entries);
        }
        g_free(img->snapshot_l1);
        img->snapshot_l1 = NULL;
    }
    qcow2_free_snapshots(img);
    qcow2_forget_warnings_state(img);
    g_free(img->active_l1.entries);
    memset(&img->active_l1, 0, sizeof(img->active_l1));
    img->active_l1_loaded = false;
    g_free(img->refcount_table);
    img->refcount_table = NULL;
    img->refcount_table_entries = 0;
    img->refcount_table_loaded = false;
    qcow2_cache_destroy(&img->l2_cache);
    qcow2_cache_destroy(&img->refblock_cache);
    qcow2_cache_init(&img->l2_cache, l2_slots, img->cluster_size);
    qcow2_cache_init(&img->refblock_cache, rb_slots, img->cluster_size);
    img->zcluster_host = 0;
    if (img->fixed_meta) {
        g_array_free(img->fixed_meta, true);
        img->fixed_meta = NULL;
    }
    g_free(img->features);
    img->features = NULL;
    img->n_features = 0;
    g_array_set_size(img->unknown_extensions, 0);
    g_free(h->backing_file);
    g_free(h->backing_format);
    g_free(h->data_file);
    memset(h, 0, sizeof(*h));
    img->crypto_offset = img->crypto_length = 0;
    img->bitmap_directory_offset = img->bitmap_directory_size = 0;
}

bool qcow2_reload(Qcow2Image *img, GError **errp)
{
    img->generation++; /* the file changed: older check reports are stale */
    forget_metadata(img);
    if (qcow2_parse_header(img, errp) && qcow2_read_snapshot_table(img, errp) &&
        qcow2_build_fixed_metadata(img, errp)) {
        img->snapshot_l1 = g_new0(Qcow2L1, MAX(img->nb_snapshots, 1));
        return true;
    }
    /* Leave a handle that reads nothing and can still be closed. */
    qcow2_free_snapshots(img);
    img->header.l1_size = 0;
    img->header.nb_snapshots = 0;
    if (!img->fixed_meta) {
        img->fixed_meta = g_array_new(false, false, sizeof(Qcow2MetaRange));
    }
    img->snapshot_l1 = g_new0(Qcow2L1, 1);
    return false;
}
