/*
 * Unit tests of the write path's pure parts: the edit map (segments, new
 * size, which clusters are dirty, edit-list validation) against values
 * worked out by hand, on an image handle built in memory (64 KiB
 * clusters, a VM state of 10 clusters + 100 bytes).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "write-internal.h"

#define CS   65536ULL
#define SIZE (10 * CS + 100)

typedef struct Fake {
    Qcow2Image img;
    Qcow2Snapshot snap;
} Fake;

static void fake_init(Fake *f)
{
    memset(f, 0, sizeof(*f));
    f->img.name = (char *)"fake.qcow2";
    f->img.cluster_size = CS;
    f->img.header.cluster_bits = 16;
    f->img.header.size = 16 << 20;
    f->img.l2_bits = 13;
    f->img.l2_entries = 8192;
    f->snap.vm_state_size = SIZE;
    f->snap.disk_size = 16 << 20;
    f->snap.id = (char *)"1";
}

/* The dirty ranges as a flat list, for comparing. */
static void assert_dirty(const Qcow2EditMap *m, const uint64_t *want, guint n)
{
    g_assert_cmpuint(m->dirty->len, ==, n);
    for (guint i = 0; i < n; i++) {
        g_assert_cmpuint(g_array_index(m->dirty, uint64_t, i), ==, want[i]);
    }
}

static void test_same_length_patch_dirties_its_clusters_only(void)
{
    Fake f;
    Qcow2EditMap m;
    const uint8_t data[4] = {1, 2, 3, 4};
    /* 4 bytes straddling the end of cluster 3 */
    Qcow2Edit e = {4 * CS - 2, 4, data, 4};
    const uint64_t want[] = {3, 5};

    fake_init(&f);
    g_assert_true(qcow2_editmap_build(&m, &f.img, &f.snap, &e, 1, NULL));
    g_assert_cmpuint(m.new_size, ==, SIZE);
    assert_dirty(&m, want, 2);
    g_assert_false(qcow2_editmap_dirty(&m, 2));
    g_assert_true(qcow2_editmap_dirty(&m, 3));
    g_assert_true(qcow2_editmap_dirty(&m, 4));
    g_assert_false(qcow2_editmap_dirty(&m, 5));
    g_assert_true(qcow2_editmap_any_dirty(&m, 0, 3));
    g_assert_false(qcow2_editmap_any_dirty(&m, 5, 10));
    qcow2_editmap_destroy(&m);
}

static void test_insertion_dirties_everything_after_it(void)
{
    Fake f;
    Qcow2EditMap m;
    const uint8_t data[3] = {7, 8, 9};
    Qcow2Edit e = {2 * CS + 5, 0, data, 3};
    uint64_t old_off;
    const uint64_t want[] = {2, 11};

    fake_init(&f);
    g_assert_true(qcow2_editmap_build(&m, &f.img, &f.snap, &e, 1, NULL));
    g_assert_cmpuint(m.new_size, ==, SIZE + 3);
    assert_dirty(&m, want, 2);
    /* cluster 5 of the new state is old bytes from 3 bytes earlier */
    g_assert_true(qcow2_editmap_old_range(&m, 5 * CS, CS, &old_off));
    g_assert_cmpuint(old_off, ==, 5 * CS - 3);
    /* cluster 2 holds edit bytes: not one old range */
    g_assert_false(qcow2_editmap_old_range(&m, 2 * CS, CS, &old_off));
    qcow2_editmap_destroy(&m);
}

static void test_shrink_releases_the_clusters_past_the_new_end(void)
{
    Fake f;
    Qcow2EditMap m;
    /* delete the tail from 3.5 clusters on */
    Qcow2Edit e = {3 * CS + CS / 2, SIZE - (3 * CS + CS / 2), NULL, 0};
    const uint64_t want[] = {4, 11};

    fake_init(&f);
    g_assert_true(qcow2_editmap_build(&m, &f.img, &f.snap, &e, 1, NULL));
    g_assert_cmpuint(m.new_size, ==, 3 * CS + CS / 2);
    /* cluster 3 keeps its first half: not dirty, shared as it is */
    assert_dirty(&m, want, 2);
    qcow2_editmap_destroy(&m);
}

static void test_edits_must_be_sorted_disjoint_and_inside(void)
{
    Fake f;
    Qcow2EditMap m;
    const uint8_t d = 0;
    Qcow2Edit overlap[2] = {{100, 10, NULL, 0}, {105, 1, &d, 1}};
    Qcow2Edit touching[2] = {{100, 10, NULL, 0}, {110, 1, &d, 1}};
    Qcow2Edit outside = {SIZE - 1, 2, NULL, 0};
    Qcow2Edit nodata = {0, 0, NULL, 5};
    GError *err = NULL;

    fake_init(&f);
    g_assert_false(qcow2_editmap_build(&m, &f.img, &f.snap, overlap, 2, &err));
    g_assert_error(err, QCOW2_ERROR, QCOW2_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "overlaps"));
    g_clear_error(&err);
    g_assert_false(qcow2_editmap_build(&m, &f.img, &f.snap, &outside, 1, &err));
    g_assert_error(err, QCOW2_ERROR, QCOW2_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_false(qcow2_editmap_build(&m, &f.img, &f.snap, &nodata, 1, &err));
    g_assert_error(err, QCOW2_ERROR, QCOW2_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_true(qcow2_editmap_build(&m, &f.img, &f.snap, touching, 2, NULL));
    g_assert_cmpuint(m.new_size, ==, SIZE - 10);
    qcow2_editmap_destroy(&m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qcow2-write/editmap/patch",
                    test_same_length_patch_dirties_its_clusters_only);
    g_test_add_func("/qcow2-write/editmap/insertion",
                    test_insertion_dirties_everything_after_it);
    g_test_add_func("/qcow2-write/editmap/shrink",
                    test_shrink_releases_the_clusters_past_the_new_end);
    g_test_add_func("/qcow2-write/editmap/validation",
                    test_edits_must_be_sorted_disjoint_and_inside);
    return g_test_run();
}
