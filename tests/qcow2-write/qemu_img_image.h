/*
 * Test images made by qemu-img, for C tests that hold an image in
 * memory (tests/qcow2-write, tests/app).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TEST_QEMU_IMG_IMAGE_H
#define TEST_QEMU_IMG_IMAGE_H

#include <glib.h>

/*
 * The bytes of an empty qcow2 image of size ("16M") with one disk-only
 * snapshot named snapshot, as qemu-img makes them. When qemu-img cannot,
 * the test is skipped: TAP's skip line, exit 77.
 */
GBytes *test_qemu_img_image(const char *size, const char *snapshot);

#endif
