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
 *   qcow2-probe check IMAGE
 *       the library's consistency check: one line per problem, then
 *       "corruptions=N leaks=M references=R allocated=A end=E
 *       refcount_bits=B"; exit 1 if it found anything
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

static int cmd_check(char **argv)
{
    GError *err = NULL;
    Qcow2Image *img = qcow2_open(argv[0], QCOW2_OPEN_READ_ONLY, &err);
    g_autoptr(Qcow2CheckReport) r = img ? qcow2_check(img, NULL, &err) : NULL;

    if (!r) {
        qcow2_close(img);
        return fail(err);
    }
    for (guint i = 0; i < r->problems->len; i++) {
        const Qcow2CheckProblem *p = g_ptr_array_index(r->problems, i);
        printf("%s %s\n",
               p->severity == QCOW2_CHECK_CORRUPTION ? "corruption" : "leak",
               p->message);
    }
    printf("corruptions=%" PRIu64 " leaks=%" PRIu64 " references=%" PRIu64
           " allocated=%" PRIu64 " end=%" PRIu64 " refcount_bits=%" PRIu32 "\n",
           r->corruptions, r->leaks, r->references, r->allocated_clusters,
           r->image_end_offset, qcow2_header(img)->refcount_bits);
    qcow2_close(img);
    return r->corruptions || r->leaks;
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
    if (argc == 3 && !strcmp(argv[1], "check")) {
        return cmd_check(argv + 2);
    }
    fprintf(stderr, "usage: qcow2-probe guest IMAGE SNAP|- OFF LEN OUT\n"
                    "       qcow2-probe vmstate IMAGE SNAP OFF LEN OUT\n"
                    "       qcow2-probe extra IMAGE SNAP\n"
                    "       qcow2-probe map IMAGE SNAP|- OFF\n"
                    "       qcow2-probe check IMAGE\n");
    return 2;
}
