/*
 * Unit tests of the library's pure helpers: refcount packing at every
 * width, the LRU table cache, and L2 entry decoding (standard, zero,
 * compressed, extended bitmaps), against values worked out by hand from
 * the qcow2 specification.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "qcow2-internal.h"

static void test_refcount_packing_known_bytes(void)
{
    uint8_t b[16];

    /* 1-bit: entry 9 is bit 1 of byte 1 (LSB first). */
    memset(b, 0, sizeof(b));
    qcow2_refcount_entry_set(b, 0, 9, 1);
    g_assert_cmphex(b[1], ==, 0x02);
    /* 2-bit: entry 1 is bits 2..3 of byte 0. */
    memset(b, 0, sizeof(b));
    qcow2_refcount_entry_set(b, 1, 1, 3);
    g_assert_cmphex(b[0], ==, 0x0c);
    /* 4-bit: entry 3 is the high nibble of byte 1. */
    memset(b, 0, sizeof(b));
    qcow2_refcount_entry_set(b, 2, 3, 0xa);
    g_assert_cmphex(b[1], ==, 0xa0);
    /* 16-bit big-endian. */
    memset(b, 0, sizeof(b));
    qcow2_refcount_entry_set(b, 4, 1, 0x1234);
    g_assert_cmphex(b[2], ==, 0x12);
    g_assert_cmphex(b[3], ==, 0x34);
    /* 64-bit big-endian. */
    memset(b, 0, sizeof(b));
    qcow2_refcount_entry_set(b, 6, 1, 0x0102030405060708ULL);
    g_assert_cmphex(b[8], ==, 0x01);
    g_assert_cmphex(b[15], ==, 0x08);
}

static void test_refcount_roundtrip_every_width(void)
{
    for (uint32_t order = 0; order <= 6; order++) {
        uint32_t bits = 1u << order;
        uint64_t max = bits == 64 ? UINT64_MAX : (1ULL << bits) - 1;
        uint64_t entries = 64 * 8 / bits;
        uint8_t block[64];

        memset(block, 0, sizeof(block));
        for (uint64_t i = 0; i < entries; i++) {
            qcow2_refcount_entry_set(block, order, i, (i * 7 + 3) & max);
        }
        for (uint64_t i = 0; i < entries; i++) {
            g_assert_cmpuint(qcow2_refcount_entry_get(block, order, i), ==,
                             (i * 7 + 3) & max);
        }
        /* Setting one entry leaves its neighbours alone. */
        qcow2_refcount_entry_set(block, order, 5, max);
        g_assert_cmpuint(qcow2_refcount_entry_get(block, order, 4), ==,
                         (4 * 7 + 3) & max);
        g_assert_cmpuint(qcow2_refcount_entry_get(block, order, 6), ==,
                         (6 * 7 + 3) & max);
        g_assert_cmpuint(qcow2_refcount_entry_get(block, order, 5), ==, max);
    }
}

static void test_cache_evicts_least_recently_used(void)
{
    Qcow2Cache c;

    qcow2_cache_init(&c, 2, 64);
    memset(qcow2_cache_insert(&c, 0x10000), 1, 64);
    memset(qcow2_cache_insert(&c, 0x20000), 2, 64);
    g_assert_nonnull(qcow2_cache_lookup(&c, 0x10000)); /* 0x10000 is fresh */
    memset(qcow2_cache_insert(&c, 0x30000), 3, 64);    /* evicts 0x20000 */
    g_assert_null(qcow2_cache_lookup(&c, 0x20000));
    g_assert_cmpint(((uint8_t *)qcow2_cache_lookup(&c, 0x10000))[0], ==, 1);
    g_assert_cmpint(((uint8_t *)qcow2_cache_lookup(&c, 0x30000))[0], ==, 3);
    qcow2_cache_invalidate(&c, 0x30000);
    g_assert_null(qcow2_cache_lookup(&c, 0x30000));
    qcow2_cache_destroy(&c);
}

/* An image with just the geometry decoding needs (as header.c derives). */
static void fake_image(Qcow2Image *img, uint32_t cluster_bits, bool xl2)
{
    memset(img, 0, sizeof(*img));
    img->name = (char *)"fake.qcow2";
    img->header.version = 3;
    img->header.cluster_bits = cluster_bits;
    img->header.extended_l2 = xl2;
    img->cluster_size = 1ULL << cluster_bits;
    img->l2_entry_bytes = xl2 ? 16 : 8;
    img->csize_shift = 62 - (cluster_bits - 8);
    img->csize_mask = (1ULL << (cluster_bits - 8)) - 1;
    img->offset_mask_compressed = (1ULL << img->csize_shift) - 1;
}

static void test_decode_compressed_descriptor(void)
{
    Qcow2Image img;
    Qcow2Mapping m;
    GError *err = NULL;

    /* 64 KiB clusters: offset in bits 0..53, sector count in 54..61. */
    fake_image(&img, 16, false);
    g_assert_true(qcow2_decode_l2_entry(
        &img, (1ULL << 62) | (1ULL << 54) | 0x5004f, 0, 0, &m, &err));
    g_assert_cmpint(m.kind, ==, QCOW2_MAP_COMPRESSED);
    g_assert_cmphex(m.host_offset, ==, 0x5004f);
    g_assert_cmpuint(m.compressed_length, ==, 2 * 512 - 0x4f);

    /* 2 MiB clusters: sector count from bit 49. */
    fake_image(&img, 21, false);
    g_assert_true(qcow2_decode_l2_entry(
        &img, (1ULL << 62) | (5ULL << 49) | 0x400200, 0, 0, &m, &err));
    g_assert_cmphex(m.host_offset, ==, 0x400200);
    g_assert_cmpuint(m.compressed_length, ==, 6 * 512);

    /* A compressed entry pointing into the header cluster is refused. */
    fake_image(&img, 16, false);
    g_assert_false(
        qcow2_decode_l2_entry(&img, (1ULL << 62) | 0x100, 0, 0x42, &m, &err));
    g_assert_error(err, QCOW2_ERROR, QCOW2_ERROR_COMPRESSED);
    g_assert_nonnull(strstr(err->message, "L2 entry at 0x42"));
    g_clear_error(&err);
}

static void test_decode_standard_entries(void)
{
    Qcow2Image img;
    Qcow2Mapping m;
    GError *err = NULL;

    fake_image(&img, 16, false);
    g_assert_true(qcow2_decode_l2_entry(&img, 0, 0, 0, &m, &err));
    g_assert_cmpint(m.kind, ==, QCOW2_MAP_UNALLOCATED);
    g_assert_true(qcow2_decode_l2_entry(&img, 1, 0, 0, &m, &err));
    g_assert_cmpint(m.kind, ==, QCOW2_MAP_ZERO);
    g_assert_true(qcow2_decode_l2_entry(&img, (1ULL << 63) | 0x50000 | 1, 0, 0,
                                        &m, &err));
    g_assert_cmpint(m.kind, ==, QCOW2_MAP_ZERO); /* zero, preallocated */
    g_assert_cmphex(m.host_offset, ==, 0x50000);
    g_assert_true(
        qcow2_decode_l2_entry(&img, (1ULL << 63) | 0x50000, 0, 0, &m, &err));
    g_assert_cmpint(m.kind, ==, QCOW2_MAP_NORMAL);
    /* Misaligned data cluster and reserved bits are errors. */
    g_assert_false(qcow2_decode_l2_entry(&img, 0x50200, 0, 0, &m, &err));
    g_assert_error(err, QCOW2_ERROR, QCOW2_ERROR_MAPPING);
    g_clear_error(&err);
    g_assert_false(
        qcow2_decode_l2_entry(&img, 0x50000 | (1ULL << 57), 0, 0, &m, &err));
    g_assert_error(err, QCOW2_ERROR, QCOW2_ERROR_MAPPING);
    g_clear_error(&err);
}

static void test_decode_extended_bitmaps(void)
{
    Qcow2Image img;
    Qcow2Mapping m;
    GError *err = NULL;

    fake_image(&img, 16, true);
    /* Unallocated, all subclusters zero. */
    g_assert_true(
        qcow2_decode_l2_entry(&img, 0, 0xffffffff00000000ULL, 0, &m, &err));
    g_assert_cmpint(m.kind, ==, QCOW2_MAP_ZERO);
    /* Partially allocated cluster (as QEMU leaves after a short write). */
    g_assert_true(qcow2_decode_l2_entry(&img, 0x70000, 0xfc00000003ffffffULL, 0,
                                        &m, &err));
    g_assert_cmpint(m.kind, ==, QCOW2_MAP_NORMAL);
    /* Allocated and zero at once; allocated bits without a cluster. */
    g_assert_false(qcow2_decode_l2_entry(&img, 0x70000, 0x0000000100000001ULL,
                                         0, &m, &err));
    g_assert_error(err, QCOW2_ERROR, QCOW2_ERROR_MAPPING);
    g_clear_error(&err);
    g_assert_false(qcow2_decode_l2_entry(&img, 0, 1, 0, &m, &err));
    g_assert_error(err, QCOW2_ERROR, QCOW2_ERROR_MAPPING);
    g_clear_error(&err);
}

/* QEMU's lookup: ID first, then name, first match in table order. */
static void test_snapshot_lookup_and_duplicates(void)
{
    Qcow2Snapshot sn[] = {
        {.index = 0, .id = (char *)"1", .name = (char *)"d1"},
        {.index = 1, .id = (char *)"1", .name = (char *)"s1"},
        {.index = 2, .id = (char *)"3", .name = (char *)"s1"},
        {.index = 3, .id = (char *)"4", .name = (char *)"3"},
    };
    Qcow2Image img = {.name = (char *)"t.qcow2",
                      .snapshots = sn,
                      .nb_snapshots = G_N_ELEMENTS(sn)};
    g_autoptr(GArray) d = qcow2_snapshot_duplicates(&img);
    const Qcow2SnapshotDuplicate *x;

    g_assert_true(qcow2_snapshot_find(&img, "1", NULL) == &sn[0]);
    g_assert_true(qcow2_snapshot_find(&img, "s1", NULL) == &sn[1]);
    g_assert_true(qcow2_snapshot_find(&img, "3", NULL) == &sn[2]);
    g_assert_true(qcow2_snapshot_find(&img, "4", NULL) == &sn[3]);
    g_assert_null(qcow2_snapshot_find(&img, "nosuch", NULL));
    /* entry 1's ID is entry 0's, entry 2's name is entry 1's, entry 3's
     * name is entry 2's ID */
    g_assert_cmpuint(d->len, ==, 3);
    x = &g_array_index(d, Qcow2SnapshotDuplicate, 0);
    g_assert_true(x->index == 1 && x->shadow == 0 && x->by_id);
    x = &g_array_index(d, Qcow2SnapshotDuplicate, 1);
    g_assert_true(x->index == 2 && x->shadow == 1 && !x->by_id);
    x = &g_array_index(d, Qcow2SnapshotDuplicate, 2);
    g_assert_true(x->index == 3 && x->shadow == 2 && !x->by_id);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qcow2/refcount/packing-known-bytes",
                    test_refcount_packing_known_bytes);
    g_test_add_func("/qcow2/refcount/roundtrip-every-width",
                    test_refcount_roundtrip_every_width);
    g_test_add_func("/qcow2/cache/evicts-lru",
                    test_cache_evicts_least_recently_used);
    g_test_add_func("/qcow2/l2/compressed-descriptor",
                    test_decode_compressed_descriptor);
    g_test_add_func("/qcow2/l2/standard-entries", test_decode_standard_entries);
    g_test_add_func("/qcow2/l2/extended-bitmaps", test_decode_extended_bitmaps);
    g_test_add_func("/qcow2/snapshot/lookup-and-duplicates",
                    test_snapshot_lookup_and_duplicates);
    return g_test_run();
}
