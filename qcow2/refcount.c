/*
 * Refcounts: the refcount table (loaded once, validated per entry when
 * used) and refcount blocks through the LRU cache, at every width from
 * 1 to 64 bits. Widths below 8 bits are packed LSB-first in each byte;
 * 8 bits and wider are big-endian integers (as QEMU's get_refcount_roN).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>

#include "qcow2-internal.h"

uint64_t qcow2_refcount_entry_get(const void *block, uint32_t refcount_order,
                                  uint64_t index)
{
    const uint8_t *b = block;

    switch (refcount_order) {
    case 0:
    case 1:
    case 2: {
        uint32_t width = 1u << refcount_order;
        uint32_t per_byte = 8 / width;
        uint32_t shift = width * (uint32_t)(index % per_byte);
        return (b[index / per_byte] >> shift) & ((1u << width) - 1);
    }
    case 3:
        return b[index];
    case 4:
        return qcow2_be16(b + 2 * index);
    case 5:
        return qcow2_be32(b + 4 * index);
    default:
        return qcow2_be64(b + 8 * index);
    }
}

void qcow2_refcount_entry_set(void *block, uint32_t refcount_order,
                              uint64_t index, uint64_t value)
{
    uint8_t *b = block;

    switch (refcount_order) {
    case 0:
    case 1:
    case 2: {
        uint32_t width = 1u << refcount_order;
        uint32_t per_byte = 8 / width;
        uint32_t shift = width * (uint32_t)(index % per_byte);
        uint8_t mask = (uint8_t)(((1u << width) - 1) << shift);
        uint8_t *p = &b[index / per_byte];
        *p = (uint8_t)((*p & ~mask) | ((value << shift) & mask));
        break;
    }
    case 3:
        b[index] = (uint8_t)value;
        break;
    case 4:
        b[2 * index] = (uint8_t)(value >> 8);
        b[2 * index + 1] = (uint8_t)value;
        break;
    case 5:
        qcow2_put_be32(b + 4 * index, (uint32_t)value);
        break;
    default:
        qcow2_put_be64(b + 8 * index, value);
        break;
    }
}

bool qcow2_load_refcount_table(Qcow2Image *img, GError **errp)
{
    const Qcow2Header *h = &img->header;
    uint64_t bytes = (uint64_t)h->refcount_table_clusters * img->cluster_size;
    uint64_t *t;

    if (img->refcount_table_loaded) {
        return true;
    }
    /* Size and bounds were checked at open. */
    t = g_malloc(bytes);
    if (!qcow2_pread(img, t, bytes, h->refcount_table_offset, errp)) {
        g_free(t);
        return false;
    }
    qcow2_table_from_disk(t, bytes / QCOW2_ENTRY_BYTES);
    img->refcount_table = t;
    img->refcount_table_entries = bytes / QCOW2_ENTRY_BYTES;
    img->refcount_table_loaded = true;
    return true;
}

bool qcow2_get_refcount_block(Qcow2Image *img, uint64_t table_index,
                              const uint8_t **block, GError **errp)
{
    uint64_t entry, where, offset, cs = img->cluster_size;
    uint8_t *b;

    *block = NULL;
    if (!qcow2_load_refcount_table(img, errp)) {
        return false;
    }
    if (table_index >= img->refcount_table_entries) {
        return true; /* beyond the table: refcount 0 */
    }
    entry = img->refcount_table[table_index];
    where = qcow2_entry_offset(img->header.refcount_table_offset, table_index);
    offset = entry & QCOW2_REFT_OFFSET_MASK;
    if (entry & ~QCOW2_REFT_OFFSET_MASK) {
        qcow2_error(errp, img, QCOW2_ERROR_REFCOUNT, "refcount table entry",
                    where, "reserved bits set in 0x%016" PRIx64, entry);
        return false;
    }
    if (!offset) {
        return true; /* no block: every refcount it would hold is 0 */
    }
    b = qcow2_cache_lookup(&img->refblock_cache, offset);
    if (b) {
        *block = b;
        return true;
    }
    if (offset % cs || !qcow2_range_within(offset, cs, img->header.file_size)) {
        qcow2_error(
            errp, img, QCOW2_ERROR_REFCOUNT, "refcount table entry", where,
            "refcount block at 0x%" PRIx64
            " is misaligned or past the end of the file (0x%" PRIx64 " bytes)",
            offset, img->header.file_size);
        return false;
    }
    if (!qcow2_check_no_fixed_overlap(img, offset, cs, QCOW2_ERROR_REFCOUNT,
                                      "refcount table entry", where, errp)) {
        return false;
    }
    b = qcow2_cache_insert(&img->refblock_cache, offset);
    if (!qcow2_pread(img, b, cs, offset, errp)) {
        qcow2_cache_invalidate(&img->refblock_cache, offset);
        return false;
    }
    *block = b;
    return true;
}

bool qcow2_get_cluster_refcount(Qcow2Image *img, uint64_t cluster_index,
                                uint64_t *refcount, GError **errp)
{
    uint64_t table_index = cluster_index >> img->refcount_block_bits;
    uint64_t block_index =
        cluster_index & ((1ULL << img->refcount_block_bits) - 1);
    const uint8_t *block;

    *refcount = 0;
    if (!qcow2_load_refcount_table(img, errp)) {
        return false;
    }
    if (table_index >= img->refcount_table_entries) {
        return true;
    }
    if (!qcow2_get_refcount_block(img, table_index, &block, errp)) {
        return false;
    }
    if (block) {
        *refcount = qcow2_refcount_entry_get(block, img->header.refcount_order,
                                             block_index);
    }
    return true;
}

bool qcow2_get_refcount(Qcow2Image *img, uint64_t host_offset,
                        uint64_t *refcount, GError **errp)
{
    return qcow2_get_cluster_refcount(
        img, host_offset >> img->header.cluster_bits, refcount, errp);
}
