/*
 * Guest -> host mapping through an L1 table (the active one or a
 * snapshot's): L1 loading, L2 tables through the LRU cache, and decoding
 * of standard, extended (subcluster) and compressed L2 entries.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "qcow2-internal.h"

static bool load_l1(Qcow2Image *img, Qcow2L1 *l1, uint64_t offset,
                    uint32_t size, GError **errp)
{
    uint64_t *e;

    /* Bounds and size were checked at open (header / snapshot entry). */
    e = g_new(uint64_t, MAX(size, 1));
    if (size &&
        !qcow2_pread(img, e, (size_t)qcow2_table_bytes(size), offset, errp)) {
        g_free(e);
        return false;
    }
    qcow2_table_from_disk(e, size);
    l1->entries = e;
    l1->size = size;
    l1->offset = offset;
    return true;
}

bool qcow2_get_l1(Qcow2Image *img, const Qcow2Snapshot *snap,
                  const Qcow2L1 **l1, GError **errp)
{
    Qcow2L1 *slot;

    if (!snap) {
        if (!img->active_l1_loaded) {
            if (!load_l1(img, &img->active_l1, img->header.l1_table_offset,
                         img->header.l1_size, errp)) {
                return false;
            }
            img->active_l1_loaded = true;
        }
        *l1 = &img->active_l1;
        return true;
    }
    if (snap->index >= img->nb_snapshots ||
        snap != &img->snapshots[snap->index]) {
        qcow2_error(errp, img, QCOW2_ERROR_INVALID, NULL, 0,
                    "snapshot handle does not belong to this image");
        return false;
    }
    if (snap->l1_unusable) {
        return qcow2_snapshot_usable(snap, errp);
    }
    slot = &img->snapshot_l1[snap->index];
    if (!slot->entries &&
        !load_l1(img, slot, snap->l1_table_offset, snap->l1_size, errp)) {
        return false;
    }
    *l1 = slot;
    return true;
}

/* An L2 table may be used: aligned, inside the file, not over metadata. */
static bool check_l2(Qcow2Image *img, uint64_t l2_offset, uint64_t l1_entry_off,
                     GError **errp)
{
    size_t cs = img->cluster_size;

    if (l2_offset % cs) {
        qcow2_error(errp, img, QCOW2_ERROR_MAPPING, "L1 entry", l1_entry_off,
                    "L2 table offset 0x%" PRIx64 " is not cluster aligned",
                    l2_offset);
        return false;
    }
    if (!qcow2_range_within(l2_offset, cs, img->header.file_size)) {
        qcow2_error(errp, img, QCOW2_ERROR_MAPPING, "L1 entry", l1_entry_off,
                    "L2 table at 0x%" PRIx64
                    " is past the end of the file (0x%" PRIx64 " bytes)",
                    l2_offset, img->header.file_size);
        return false;
    }
    return qcow2_check_no_fixed_overlap(img, l2_offset, cs, QCOW2_ERROR_MAPPING,
                                        "L1 entry", l1_entry_off, errp);
}

bool qcow2_get_l2(Qcow2Image *img, uint64_t l2_offset, uint64_t l1_entry_off,
                  const uint64_t **table, GError **errp)
{
    size_t cs = img->cluster_size;
    uint64_t *t;

    t = qcow2_cache_lookup(&img->l2_cache, l2_offset);
    if (t) {
        *table = t;
        return true;
    }
    if (!check_l2(img, l2_offset, l1_entry_off, errp)) {
        return false;
    }
    t = qcow2_cache_insert(&img->l2_cache, l2_offset);
    if (!qcow2_pread(img, t, cs, l2_offset, errp)) {
        qcow2_cache_invalidate(&img->l2_cache, l2_offset);
        return false;
    }
    qcow2_table_from_disk(t, cs / QCOW2_ENTRY_BYTES);
    *table = t;
    return true;
}

/*
 * Guest data never lives inside the header, the L1/refcount/snapshot
 * tables or another fixed structure; pointing there is corruption (and
 * what a loop through a bogus L2 entry looks like).
 */
static bool data_outside_metadata(const Qcow2Image *img, uint64_t host,
                                  uint64_t len, uint64_t where, GError **errp)
{
    if (!img->fixed_meta) {
        return true; /* not opened from a file (unit tests) */
    }
    return qcow2_check_no_fixed_overlap(img, host, len, QCOW2_ERROR_MAPPING,
                                        "L2 entry", where, errp);
}

static bool decode_compressed(const Qcow2Image *img, uint64_t word,
                              uint64_t bitmap, uint64_t where,
                              Qcow2Mapping *map, GError **errp)
{
    uint64_t host = word & img->offset_mask_compressed;
    uint64_t sectors = ((word >> img->csize_shift) & img->csize_mask) + 1;

    if (img->header.incompatible_features & QCOW2_INCOMPAT_DATA_FILE) {
        qcow2_error(errp, img, QCOW2_ERROR_COMPRESSED, "L2 entry", where,
                    "compressed cluster in an image with an external data "
                    "file");
        return false;
    }
    if (img->header.extended_l2 && bitmap) {
        qcow2_error(errp, img, QCOW2_ERROR_COMPRESSED, "L2 entry", where,
                    "compressed cluster with a non-zero subcluster bitmap "
                    "0x%016" PRIx64,
                    bitmap);
        return false;
    }
    if (host >= QCOW2_MAX_HOST_OFFSET || host < img->cluster_size) {
        qcow2_error(errp, img, QCOW2_ERROR_COMPRESSED, "L2 entry", where,
                    "compressed data offset 0x%" PRIx64 " is impossible", host);
        return false;
    }
    map->kind = QCOW2_MAP_COMPRESSED;
    map->host_offset = host;
    map->compressed_length = sectors * 512 - (host & 511);
    return data_outside_metadata(img, host, map->compressed_length, where,
                                 errp);
}

static bool decode_bitmap(const Qcow2Image *img, uint64_t bitmap,
                          bool allocated, uint64_t where, Qcow2Mapping *map,
                          GError **errp)
{
    uint32_t alloc = (uint32_t)bitmap;
    uint32_t zero = (uint32_t)(bitmap >> 32);

    if (alloc & zero) {
        qcow2_error(errp, img, QCOW2_ERROR_MAPPING, "L2 entry", where,
                    "subclusters both allocated and zero (bitmap 0x%016" PRIx64
                    ")",
                    bitmap);
        return false;
    }
    if (!allocated && alloc) {
        qcow2_error(errp, img, QCOW2_ERROR_MAPPING, "L2 entry", where,
                    "unallocated cluster with allocated subclusters (bitmap "
                    "0x%016" PRIx64 ")",
                    bitmap);
        return false;
    }
    if (!allocated) {
        map->kind = zero == UINT32_MAX ? QCOW2_MAP_ZERO : QCOW2_MAP_UNALLOCATED;
    } else if (alloc == 0) {
        /* Cluster reserved but no subcluster holds data (yet). */
        map->kind = zero == UINT32_MAX ? QCOW2_MAP_ZERO : QCOW2_MAP_UNALLOCATED;
    }
    return true;
}

bool qcow2_decode_l2_entry(const Qcow2Image *img, uint64_t word,
                           uint64_t bitmap, uint64_t where, Qcow2Mapping *map,
                           GError **errp)
{
    bool data_file =
        img->header.incompatible_features & QCOW2_INCOMPAT_DATA_FILE;
    uint64_t reserved = img->header.extended_l2
                            ? (QCOW2_L2E_STD_RESERVED_MASK & ~1ULL)
                            : QCOW2_L2E_STD_RESERVED_MASK;
    uint64_t host;
    bool allocated;

    map->l2_entry = word;
    map->l2_bitmap = bitmap;
    map->in_data_file = false;
    map->compressed_length = 0;
    if (word & QCOW2_OFLAG_COMPRESSED) {
        return decode_compressed(img, word, bitmap, where, map, errp);
    }
    if (word & reserved) {
        qcow2_error(errp, img, QCOW2_ERROR_MAPPING, "L2 entry", where,
                    "reserved bits set in 0x%016" PRIx64, word);
        return false;
    }
    host = word & QCOW2_L2E_OFFSET_MASK;
    if (host % img->cluster_size) {
        qcow2_error(errp, img, QCOW2_ERROR_MAPPING, "L2 entry", where,
                    "data cluster offset 0x%" PRIx64 " is not cluster aligned",
                    host);
        return false;
    }
    /* With a data file, offset 0 + COPIED is a real cluster at 0. */
    allocated = host || (data_file && (word & QCOW2_OFLAG_COPIED));
    map->host_offset = host;
    map->in_data_file = allocated && data_file;
    if (host && !data_file &&
        !data_outside_metadata(img, host, img->cluster_size, where, errp)) {
        return false;
    }
    if (img->header.extended_l2) {
        map->kind = allocated ? QCOW2_MAP_NORMAL : QCOW2_MAP_UNALLOCATED;
        return decode_bitmap(img, bitmap, allocated, where, map, errp);
    }
    if (word & QCOW2_OFLAG_ZERO) {
        map->kind = QCOW2_MAP_ZERO; /* host may be kept as preallocation */
    } else {
        map->kind = allocated ? QCOW2_MAP_NORMAL : QCOW2_MAP_UNALLOCATED;
    }
    return true;
}

/*
 * Entry index of the L2 table at l2_offset, for a lookup of one cluster:
 * from the whole table when it is cached, else from a piece of it
 * (L2_PIECE bytes: 512 entries, 32 MiB of guest offsets with 64 KiB
 * clusters), so that mapping the head and the tail of a VM state costs a
 * few KiB instead of whole tables. Pieces share the table cache under
 * keys no table has (offset + 1 + the piece's start).
 */
#define L2_PIECE 4096u

static bool l2_entry(Qcow2Image *img, uint64_t l2_offset, uint64_t where,
                     uint64_t index, uint64_t *word, uint64_t *bitmap,
                     GError **errp)
{
    uint64_t words = img->header.extended_l2 ? 2 : 1;
    uint64_t piece = MIN((uint64_t)L2_PIECE, img->cluster_size);
    uint64_t at = index * words * 8;
    uint64_t start = at - at % piece;
    uint64_t key = l2_offset + 1 + start;
    const uint64_t *t = qcow2_cache_lookup(&img->l2_cache, l2_offset);
    uint64_t *p;

    *bitmap = 0;
    if (t) {
        *word = t[index * words];
        *bitmap = words == 2 ? t[index * words + 1] : 0;
        return true;
    }
    p = qcow2_cache_lookup(&img->l2_cache, key);
    if (!p) {
        if (!check_l2(img, l2_offset, where, errp)) {
            return false;
        }
        p = qcow2_cache_insert(&img->l2_cache, key);
        if (!qcow2_pread(img, p, piece, l2_offset + start, errp)) {
            qcow2_cache_invalidate(&img->l2_cache, key);
            return false;
        }
        for (uint64_t i = 0; i < piece / 8; i++) {
            p[i] = qcow2_be64((const uint8_t *)&p[i]);
        }
    }
    *word = p[(at - start) / 8];
    *bitmap = words == 2 ? p[(at - start) / 8 + 1] : 0;
    return true;
}

bool qcow2_map_cluster(Qcow2Image *img, const Qcow2Snapshot *snap,
                       uint64_t guest_offset, Qcow2Mapping *map, GError **errp)
{
    const Qcow2L1 *l1;
    uint64_t l1_index, l2_index, l1e, l2_offset, where, word, bitmap = 0;

    memset(map, 0, sizeof(*map));
    map->kind = QCOW2_MAP_UNALLOCATED;
    if (!qcow2_get_l1(img, snap, &l1, errp)) {
        return false;
    }
    l1_index = qcow2_l1_index(img, guest_offset);
    if (l1_index >= l1->size) {
        return true; /* past the L1 table: reads as unallocated, as QEMU */
    }
    l1e = l1->entries[l1_index];
    where = qcow2_entry_offset(l1->offset, l1_index);
    if (l1e & QCOW2_L1E_RESERVED_MASK) {
        qcow2_error(errp, img, QCOW2_ERROR_MAPPING, "L1 entry", where,
                    "reserved bits set in 0x%016" PRIx64, l1e);
        return false;
    }
    l2_offset = l1e & QCOW2_L1E_OFFSET_MASK;
    if (!l2_offset) {
        return true;
    }
    l2_index = qcow2_l2_index(img, guest_offset);
    if (!l2_entry(img, l2_offset, where, l2_index, &word, &bitmap, errp)) {
        return false;
    }
    where = l2_offset + l2_index * img->l2_entry_bytes;
    if (!qcow2_decode_l2_entry(img, word, bitmap, where, map, errp)) {
        return false;
    }
    map->l2_table_offset = l2_offset;
    return true;
}
