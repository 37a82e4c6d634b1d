/*
 * The consistency check handed from a dry run to the write that follows
 * (Qcow2SpliceOptions.check_report and .checked): `fix` plans first, to
 * decide everything before it writes anything, and must not read the
 * whole image's metadata twice for it; yet a report that no longer
 * describes the image must never stand in for the check.
 *
 * On an image made by qemu-img (16 MiB, snapshot s1) held in memory, with
 * a VM state spliced into s1: what a real splice reads with and without
 * the dry run's report, that both leave byte-identical files, and which
 * reports the library takes as current (not after a write, not a
 * count-only one, not another handle's).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "qcow2.h"
#include "qemu_img_image.h"

#define MAX_IMAGE ((uint64_t)64 << 20)
#define VM_STATE  (300 * 1024)

static GBytes *base_image;

typedef struct Image {
    GByteArray *file;
    Qcow2Image *img;
} Image;

/* The base image with a VM state of VM_STATE bytes in s1. */
static void image_open(Image *im)
{
    g_autoptr(GError) err = NULL;
    g_autofree uint8_t *state = g_malloc(VM_STATE);
    gsize len;
    const uint8_t *base = g_bytes_get_data(base_image, &len);
    Qcow2Edit put = {0, 0, state, VM_STATE};

    for (guint i = 0; i < VM_STATE; i++) {
        state[i] = (uint8_t)(i * 131 + (i >> 12));
    }
    im->file = g_byte_array_new();
    g_byte_array_append(im->file, base, (guint)len);
    im->img = qcow2_open_io(
        qcow2_io_memory_new(im->file, true, MAX_IMAGE, "vm.qcow2"), NULL,
        "vm.qcow2", QCOW2_OPEN_WRITABLE, &err);
    g_assert_no_error(err);
    g_assert_true(qcow2_splice_vmstate(im->img,
                                       qcow2_snapshot_find(im->img, "s1", NULL),
                                       &put, 1, NULL, NULL, &err));
    g_assert_no_error(err);
}

static void image_close(Image *im)
{
    qcow2_close(im->img);
    g_byte_array_unref(im->file);
}

/* A splice of s1 (one byte changed, one inserted: a rewrite from 8 on). */
static bool splice(Image *im, bool dry_run, const Qcow2CheckReport *checked,
                   Qcow2CheckReport **report_out, bool count_only,
                   uint64_t *bytes_read)
{
    static const uint8_t patch[] = {0xaa, 0xbb};
    Qcow2Edit edit = {8, 1, patch, sizeof(patch)};
    Qcow2SpliceOptions o = {
        .dry_run = dry_run,
        .skip_consistency_check = count_only,
        .checked = checked,
        .check_report = report_out,
    };
    g_autoptr(GError) err = NULL;
    uint64_t before = qcow2_io_bytes_read(im->img);
    bool ok =
        qcow2_splice_vmstate(im->img, qcow2_snapshot_find(im->img, "s1", NULL),
                             &edit, 1, &o, NULL, &err);

    g_assert_no_error(err);
    *bytes_read = qcow2_io_bytes_read(im->img) - before;
    return ok;
}

static void test_a_dry_run_hands_its_check_to_the_write(void)
{
    Image a, b;
    g_autoptr(Qcow2CheckReport) report = NULL;
    uint64_t plan_a, plan_b, write_a, write_b;

    image_open(&a);
    image_open(&b);
    /* a: the dry run's report handed to the write */
    g_assert_true(splice(&a, true, NULL, &report, false, &plan_a));
    g_assert_nonnull(report);
    g_assert_true(qcow2_check_report_current(a.img, report));
    g_assert_true(splice(&a, false, report, NULL, false, &write_a));
    /* b: the same without it: the write checks again */
    g_assert_true(splice(&b, true, NULL, NULL, false, &plan_b));
    g_assert_true(splice(&b, false, NULL, NULL, false, &write_b));

    g_assert_cmpuint(plan_a, ==, plan_b);
    /* the second check reads at least the refcount block again (its L2
     * tables the dry run left in the cache) */
    g_assert_cmpuint(write_a + 65536, <=, write_b);
    g_assert_cmpmem(a.file->data, a.file->len, b.file->data, b.file->len);
    /* written: the report describes the image no longer */
    g_assert_false(qcow2_check_report_current(a.img, report));
    image_close(&a);
    image_close(&b);
}

static void test_a_stale_report_is_checked_again(void)
{
    Image a, b;
    g_autoptr(Qcow2CheckReport) stale = NULL;
    uint64_t ignored, with_stale, without;

    image_open(&a);
    image_open(&b);
    g_assert_true(splice(&a, true, NULL, &stale, false, &ignored));
    g_assert_true(splice(&a, false, stale, NULL, false, &ignored));
    g_assert_true(splice(&b, false, NULL, NULL, false, &ignored));
    /* a second rewrite: the first one's report is stale */
    g_assert_false(qcow2_check_report_current(a.img, stale));
    g_assert_true(splice(&a, false, stale, NULL, false, &with_stale));
    g_assert_true(splice(&b, false, NULL, NULL, false, &without));
    g_assert_cmpuint(with_stale, ==, without);
    g_assert_cmpmem(a.file->data, a.file->len, b.file->data, b.file->len);
    image_close(&a);
    image_close(&b);
}

static void test_only_a_full_check_of_this_handle_is_current(void)
{
    Image a, b;
    g_autoptr(Qcow2CheckReport) counted = NULL;
    g_autoptr(Qcow2CheckReport) full = NULL;
    g_autoptr(GError) err = NULL;
    uint64_t ignored;

    image_open(&a);
    image_open(&b);
    g_assert_true(splice(&a, true, NULL, &counted, true, &ignored));
    g_assert_nonnull(counted);
    g_assert_true(counted->counted_only);
    g_assert_false(qcow2_check_report_current(a.img, counted));
    full = qcow2_check(a.img, NULL, &err);
    g_assert_no_error(err);
    g_assert_true(qcow2_check_report_current(a.img, full));
    g_assert_false(qcow2_check_report_current(b.img, full));
    g_assert_false(qcow2_check_report_current(a.img, NULL));
    image_close(&a);
    image_close(&b);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    base_image = test_qemu_img_image("16M", "s1");
    g_test_add_func("/qcow2-write/handover/dry-run-hands-its-check-to-the-"
                    "write",
                    test_a_dry_run_hands_its_check_to_the_write);
    g_test_add_func("/qcow2-write/handover/stale-report-is-checked-again",
                    test_a_stale_report_is_checked_again);
    g_test_add_func("/qcow2-write/handover/only-a-full-check-of-this-handle",
                    test_only_a_full_check_of_this_handle_is_current);
    rc = g_test_run();
    g_bytes_unref(base_image);
    return rc;
}
