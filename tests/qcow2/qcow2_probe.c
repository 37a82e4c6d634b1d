/*
 * qcow2-probe: a test helper that drives the qcow2 library directly, for
 * what the qsnapfix program does not expose.
 *
 *   qcow2-probe guest IMAGE SNAPSHOT|- OFFSET LENGTH OUT
 *       write guest bytes read through SNAPSHOT's L1 table (- = active)
 *   qcow2-probe vmstate IMAGE SNAPSHOT OFFSET LENGTH OUT
 *       write VM state bytes [OFFSET, OFFSET + LENGTH) of SNAPSHOT
 *   qcow2-probe extra IMAGE SNAPSHOT
 *       print the snapshot's extra data in hex
 *   qcow2-probe map IMAGE SNAPSHOT|- OFFSET
 *       print how one guest cluster is mapped: KIND HOST_OFFSET
 *   qcow2-probe audit IMAGE
 *       recompute every cluster's expected refcount from the metadata
 *       (as qemu-img check does) and compare it with the refcount the
 *       library reads; prints "clusters=N mismatches=M"
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2-internal.h"

static int fail(GError *err)
{
    fprintf(stderr, "qcow2-probe: %s\n", err->message);
    g_error_free(err);
    return 1;
}

static int cmd_guest(char **argv)
{
    GError *err = NULL;
    Qcow2Image *img = qcow2_open(argv[0], QCOW2_OPEN_READ_ONLY, &err);
    const Qcow2Snapshot *sn = NULL;
    uint64_t off = g_ascii_strtoull(argv[2], NULL, 0);
    uint64_t len = g_ascii_strtoull(argv[3], NULL, 0);
    g_autofree uint8_t *buf = g_malloc(1 << 20);
    FILE *out;

    if (!img) {
        return fail(err);
    }
    if (strcmp(argv[1], "-") &&
        !(sn = qcow2_snapshot_find(img, argv[1], &err))) {
        qcow2_close(img);
        return fail(err);
    }
    out = fopen(argv[4], "wb");
    if (!out) {
        perror(argv[4]);
        qcow2_close(img);
        return 1;
    }
    while (len) {
        size_t n = (size_t)MIN(len, (uint64_t)(1 << 20));
        if (!qcow2_read_guest(img, sn, off, buf, n, &err)) {
            fclose(out);
            qcow2_close(img);
            return fail(err);
        }
        fwrite(buf, 1, n, out);
        off += n;
        len -= n;
    }
    fclose(out);
    qcow2_close(img);
    return 0;
}

static int cmd_vmstate(char **argv)
{
    GError *err = NULL;
    Qcow2Image *img = qcow2_open(argv[0], QCOW2_OPEN_READ_ONLY, &err);
    const Qcow2Snapshot *sn;
    uint64_t off = g_ascii_strtoull(argv[2], NULL, 0);
    size_t len = (size_t)g_ascii_strtoull(argv[3], NULL, 0);
    g_autofree uint8_t *buf = g_malloc(MAX(len, 1));
    bool ok;

    if (!img) {
        return fail(err);
    }
    sn = qcow2_snapshot_find(img, argv[1], &err);
    ok = sn && qcow2_read_vmstate(img, sn, off, buf, len, &err) &&
         g_file_set_contents(argv[4], (const char *)buf, (gssize)len, &err);
    qcow2_close(img);
    return ok ? 0 : fail(err);
}

static int cmd_extra(char **argv)
{
    GError *err = NULL;
    Qcow2Image *img = qcow2_open(argv[0], QCOW2_OPEN_READ_ONLY, &err);
    const Qcow2Snapshot *sn;

    if (!img) {
        return fail(err);
    }
    sn = qcow2_snapshot_find(img, argv[1], &err);
    if (!sn) {
        qcow2_close(img);
        return fail(err);
    }
    for (uint32_t i = 0; i < sn->extra_data_size; i++) {
        printf("%02x", sn->extra_data[i]);
    }
    printf("\n");
    qcow2_close(img);
    return 0;
}

static int cmd_map(char **argv)
{
    static const char *const kinds[] = {"unallocated", "zero", "normal",
                                        "compressed"};
    GError *err = NULL;
    Qcow2Image *img = qcow2_open(argv[0], QCOW2_OPEN_READ_ONLY, &err);
    const Qcow2Snapshot *sn = NULL;
    Qcow2Mapping m;

    if (!img) {
        return fail(err);
    }
    if ((strcmp(argv[1], "-") &&
         !(sn = qcow2_snapshot_find(img, argv[1], &err))) ||
        !qcow2_map_cluster(img, sn, g_ascii_strtoull(argv[2], NULL, 0), &m,
                           &err)) {
        qcow2_close(img);
        return fail(err);
    }
    printf("%s 0x%" PRIx64 "\n", kinds[m.kind], m.host_offset);
    qcow2_close(img);
    return 0;
}

typedef struct Audit {
    Qcow2Image *img;
    uint64_t *expected;
    uint64_t n_clusters;
} Audit;

static void ref_range(Audit *a, uint64_t off, uint64_t len)
{
    uint64_t cs = a->img->cluster_size;

    if (!len) {
        return;
    }
    for (uint64_t c = off / cs; c <= (off + len - 1) / cs; c++) {
        if (c < a->n_clusters) {
            a->expected[c]++;
        }
    }
}

static bool audit_l2(Audit *a, uint64_t l2_offset, uint64_t where,
                     GError **errp)
{
    Qcow2Image *img = a->img;
    bool data_file =
        img->header.incompatible_features & QCOW2_INCOMPAT_DATA_FILE;
    const uint64_t *t;

    if (!qcow2_get_l2(img, l2_offset, where, &t, errp)) {
        return false;
    }
    for (uint64_t i = 0; i < img->l2_entries; i++) {
        uint64_t word = img->header.extended_l2 ? t[2 * i] : t[i];
        uint64_t bitmap = img->header.extended_l2 ? t[2 * i + 1] : 0;
        Qcow2Mapping m;

        if (!qcow2_decode_l2_entry(img, word, bitmap,
                                   l2_offset + i * img->l2_entry_bytes, &m,
                                   errp)) {
            return false;
        }
        if (m.kind == QCOW2_MAP_COMPRESSED) {
            /* Every host cluster the sector span touches, per entry. */
            ref_range(a, m.host_offset & ~511ULL,
                      m.compressed_length + (m.host_offset & 511));
        } else if (m.host_offset && !data_file) {
            /* normal, zero-with-offset, extended with no subcluster */
            ref_range(a, m.host_offset, img->cluster_size);
        }
    }
    return true;
}

static bool audit_l1(Audit *a, const Qcow2Snapshot *sn, GError **errp)
{
    const Qcow2L1 *l1;

    if (!qcow2_get_l1(a->img, sn, &l1, errp)) {
        return false;
    }
    ref_range(a, l1->offset, (uint64_t)l1->size * 8);
    for (uint32_t i = 0; i < l1->size; i++) {
        uint64_t l2 = l1->entries[i] & QCOW2_L1E_OFFSET_MASK;
        if (!l2) {
            continue;
        }
        ref_range(a, l2, a->img->cluster_size);
        if (!audit_l2(a, l2, l1->offset + 8ULL * i, errp)) {
            return false;
        }
    }
    return true;
}

static int cmd_audit(char **argv)
{
    GError *err = NULL;
    Audit a = {0};
    const Qcow2Header *h;
    uint64_t mismatches = 0;

    a.img = qcow2_open(argv[0], QCOW2_OPEN_READ_ONLY, &err);
    if (!a.img) {
        return fail(err);
    }
    h = &a.img->header;
    a.n_clusters =
        (h->file_size + a.img->cluster_size - 1) / a.img->cluster_size;
    a.expected = g_new0(uint64_t, a.n_clusters);
    ref_range(&a, 0, a.img->cluster_size);
    ref_range(&a, h->refcount_table_offset,
              (uint64_t)h->refcount_table_clusters * a.img->cluster_size);
    ref_range(&a, h->snapshots_offset, a.img->snapshot_table_length);
    ref_range(&a, a.img->crypto_offset, a.img->crypto_length);
    if (!qcow2_load_refcount_table(a.img, &err)) {
        goto out;
    }
    for (uint64_t i = 0; i < a.img->refcount_table_entries; i++) {
        ref_range(&a, a.img->refcount_table[i] & QCOW2_REFT_OFFSET_MASK,
                  a.img->refcount_table[i] ? a.img->cluster_size : 0);
    }
    if (!audit_l1(&a, NULL, &err)) {
        goto out;
    }
    for (guint s = 0; s < qcow2_snapshot_count(a.img); s++) {
        if (!audit_l1(&a, qcow2_snapshot_get(a.img, s), &err)) {
            goto out;
        }
    }
    for (uint64_t c = 0; c < a.n_clusters; c++) {
        uint64_t rc;
        if (!qcow2_get_cluster_refcount(a.img, c, &rc, &err)) {
            goto out;
        }
        if (rc != a.expected[c]) {
            if (mismatches++ < 10) {
                printf("cluster %" PRIu64 " (0x%" PRIx64 "): refcount %" PRIu64
                       ", referenced %" PRIu64 "\n",
                       c, c * a.img->cluster_size, rc, a.expected[c]);
            }
        }
    }
    printf("clusters=%" PRIu64 " mismatches=%" PRIu64 " refcount_bits=%" PRIu32
           "\n",
           a.n_clusters, mismatches, h->refcount_bits);
out:
    g_free(a.expected);
    qcow2_close(a.img);
    return err ? fail(err) : mismatches != 0;
}

int main(int argc, char **argv)
{
    if (argc == 7 && !strcmp(argv[1], "guest")) {
        return cmd_guest(argv + 2);
    }
    if (argc == 7 && !strcmp(argv[1], "vmstate")) {
        return cmd_vmstate(argv + 2);
    }
    if (argc == 4 && !strcmp(argv[1], "extra")) {
        return cmd_extra(argv + 2);
    }
    if (argc == 5 && !strcmp(argv[1], "map")) {
        return cmd_map(argv + 2);
    }
    if (argc == 3 && !strcmp(argv[1], "audit")) {
        return cmd_audit(argv + 2);
    }
    fprintf(stderr, "usage: qcow2-probe guest IMAGE SNAP|- OFF LEN OUT\n"
                    "       qcow2-probe vmstate IMAGE SNAP OFF LEN OUT\n"
                    "       qcow2-probe extra IMAGE SNAP\n"
                    "       qcow2-probe map IMAGE SNAP|- OFF\n"
                    "       qcow2-probe audit IMAGE\n");
    return 2;
}
