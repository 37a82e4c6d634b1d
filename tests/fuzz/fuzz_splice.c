/*
 * libFuzzer target: the qcow2 write path on an image held in memory. The
 * first 8 bytes of the input choose an edit (where, how much is replaced,
 * how much is inserted, dry run or not, keep-original or not); the rest
 * is the image. Every snapshot with a small VM state is spliced. Besides
 * "no crash, no leak, no undefined behaviour", a splice that succeeds must
 * leave an image that opens again, whose snapshot reads exactly the old
 * VM state with the edit applied, and a dry run must report what a real
 * run of the same splice writes. Every splice first runs the consistency
 * check (the same one qcow2_check() runs), so that runs here too.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <string.h>

#include "qcow2-internal.h"

#define MAX_VMSTATE (256u * 1024)
#define MAX_FILE    (64u * 1024 * 1024)

static Qcow2Image *open_mem(GByteArray *file, bool writable)
{
    return qcow2_open_io(
        qcow2_io_memory_new(file, writable, MAX_FILE, "fuzz.qcow2"), NULL,
        "fuzz.qcow2", writable ? QCOW2_OPEN_WRITABLE : QCOW2_OPEN_READ_ONLY,
        NULL);
}

typedef struct Plan {
    uint32_t at, cut, add;
    bool dry_run, keep;
} Plan;

static Plan plan_from(const uint8_t *p)
{
    Plan pl = {
        .at = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2],
        .cut = (uint32_t)p[3] << 8 | p[4],
        .add = (uint32_t)p[5] << 8 | p[6],
        .dry_run = p[7] & 1,
        .keep = p[7] & 2,
    };
    return pl;
}

/* A dry run writes nothing and predicts the real run's statistics. */
static void check_dry_run(GByteArray *file, Qcow2Image *img,
                          const Qcow2Snapshot *sn, const Qcow2Edit *e,
                          const Qcow2SpliceOptions *real, Qcow2SpliceStats *dry,
                          bool *dry_ok)
{
    Qcow2SpliceOptions opts = *real;
    g_autofree uint8_t *before = g_memdup2(file->data, file->len);
    guint len = file->len;

    opts.dry_run = true;
    *dry_ok = qcow2_splice_vmstate(img, sn, e, 1, &opts, dry, NULL);
    g_assert_cmpuint(file->len, ==, len);
    g_assert_true(memcmp(file->data, before, len) == 0);
}

/* What a dry run predicts of the real run (space is measured, not
 * planned: the allocated bytes of a real run are the file system's). */
static void assert_same_plan(const Qcow2SpliceStats *d,
                             const Qcow2SpliceStats *r)
{
    g_assert_cmpuint(d->old_size, ==, r->old_size);
    g_assert_cmpuint(d->new_size, ==, r->new_size);
    g_assert_cmpuint(d->clusters_shared, ==, r->clusters_shared);
    g_assert_cmpuint(d->clusters_written, ==, r->clusters_written);
    g_assert_cmpuint(d->clusters_freed, ==, r->clusters_freed);
    g_assert_cmpuint(d->metadata_clusters, ==, r->metadata_clusters);
    g_assert_cmpuint(d->bytes_written, ==, r->bytes_written);
    g_assert_cmpuint(d->writes, ==, r->writes);
    g_assert_cmpuint(d->flushes, ==, r->flushes);
    g_assert_cmpuint(d->active_entries_dropped, ==, r->active_entries_dropped);
    g_assert_cmpuint(d->leaked_clusters, ==, r->leaked_clusters);
    g_assert_cmpuint(d->file_size_before, ==, r->file_size_before);
    g_assert_cmpuint(d->file_size_after, ==, r->file_size_after);
    g_assert_cmpuint(d->discarded_bytes, ==, r->discarded_bytes);
    g_assert_cmpuint(d->space_needed, ==, r->space_needed);
}

/* Splice snapshot i; check the result against the expected bytes. */
static void splice_one(GByteArray *file, guint i, const Plan *pl)
{
    Qcow2Image *img = open_mem(file, true);
    const Qcow2Snapshot *sn;
    Qcow2SpliceOptions opts = {0};
    Qcow2SpliceStats st, dry;
    g_autofree uint8_t *old = NULL, *want = NULL, *add = NULL;
    g_autofree char *id = NULL;
    uint64_t size, at, cut, new_size;
    bool dry_ok = false;
    Qcow2Edit e;

    if (!img || !(sn = qcow2_snapshot_get(img, i)) ||
        sn->vm_state_size > MAX_VMSTATE) {
        qcow2_close(img);
        return;
    }
    size = sn->vm_state_size;
    old = g_malloc(size + 1);
    if (!qcow2_read_vmstate(img, sn, 0, old, size, NULL)) {
        qcow2_close(img);
        return;
    }
    at = size ? pl->at % (size + 1) : 0;
    cut = MIN((uint64_t)pl->cut, size - at);
    add = g_malloc(pl->add + 1);
    memset(add, 0xa5, pl->add);
    e = (Qcow2Edit){at, cut, add, pl->add};
    opts.keep_original_name = pl->keep ? "fuzz.orig" : NULL;
    id = g_strdup(sn->id);
    if (pl->dry_run) {
        check_dry_run(file, img, sn, &e, &opts, &dry, &dry_ok);
    }
    if (!qcow2_splice_vmstate(img, sn, &e, 1, &opts, &st, NULL)) {
        qcow2_close(img);
        return;
    }
    qcow2_close(img);
    if (dry_ok) {
        assert_same_plan(&dry, &st);
    }

    /* What it wrote must read back as the edited VM state. */
    new_size = size - cut + pl->add;
    want = g_malloc(new_size + 1);
    memcpy(want, old, at);
    memcpy(want + at, add, pl->add);
    memcpy(want + at + pl->add, old + at + cut, size - at - cut);
    img = open_mem(file, false);
    g_assert_nonnull(img);
    /* The entry keeps its place in the table (IDs need not be unique). */
    sn = qcow2_snapshot_get(img, i);
    g_assert_nonnull(sn);
    g_assert_cmpstr(sn->id, ==, id);
    g_assert_cmpuint(sn->vm_state_size, ==, new_size);
    g_free(old);
    old = g_malloc(new_size + 1);
    g_assert_true(qcow2_read_vmstate(img, sn, 0, old, new_size, NULL));
    g_assert_true(memcmp(old, want, new_size) == 0);
    qcow2_close(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Plan pl;
    Qcow2Image *img;
    guint n;

    if (size < 8 + 72 || size > (4u << 20)) {
        return 0;
    }
    pl = plan_from(data);
    {
        GByteArray *probe = g_byte_array_new();

        g_byte_array_append(probe, data + 8, (guint)(size - 8));
        img = open_mem(probe, false);
        n = img ? MIN(qcow2_snapshot_count(img), 4) : 0;
        qcow2_close(img);
        g_byte_array_free(probe, true);
    }
    for (guint i = 0; i < n; i++) {
        GByteArray *file = g_byte_array_new();

        g_byte_array_append(file, data + 8, (guint)(size - 8));
        splice_one(file, i, &pl);
        g_byte_array_free(file, true);
    }
    return 0;
}
