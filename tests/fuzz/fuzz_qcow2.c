/*
 * libFuzzer target: the qcow2 header, its extensions, the snapshot table
 * and L1/L2 mapping, from an image held in memory. Everything the read
 * path does on open, inspect and extract runs here, with reads bounded so
 * that one input stays fast.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <string.h>

#include "qcow2-internal.h"

static void exercise(Qcow2Image *img)
{
    uint8_t buf[4096];
    GError *err = NULL;

    for (guint i = 0; i < qcow2_snapshot_count(img) && i < 8; i++) {
        const Qcow2Snapshot *sn = qcow2_snapshot_get(img, i);
        Qcow2VmstateLayout layout;
        size_t n = (size_t)MIN(sn->vm_state_size, sizeof(buf));

        /* Bounded by the metadata present, whatever the sizes claim. */
        if (!qcow2_vmstate_layout(img, sn, &layout, &err)) {
            g_clear_error(&err);
        }
        if (n && !qcow2_read_vmstate(img, sn, 0, buf, n, &err)) {
            g_clear_error(&err);
        }
        if (sn->vm_state_size > n &&
            !qcow2_read_vmstate(img, sn, sn->vm_state_size - n, buf, n, &err)) {
            g_clear_error(&err);
        }
    }
    if (!qcow2_read_guest(img, NULL, 0, buf, sizeof(buf), &err)) {
        g_clear_error(&err);
    }
    if (qcow2_header(img)->l1_size <= 4096) {
        Qcow2CheckReport *all = qcow2_check(img, NULL, &err);
        if (all) {
            qcow2_check_report_free(all);
        }
        g_clear_error(&err);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GByteArray *file = g_byte_array_sized_new((guint)size);
    GError *err = NULL;
    Qcow2Image *img;

    g_byte_array_append(file, data, (guint)size);
    img = qcow2_open_io(qcow2_io_memory_new(file, false, 0, "fuzz.qcow2"), NULL,
                        "fuzz.qcow2", QCOW2_OPEN_READ_ONLY, &err);
    if (!img) {
        g_assert(err && err->domain == QCOW2_ERROR && err->message[0]);
        g_error_free(err);
    } else {
        exercise(img);
        qcow2_close(img);
    }
    g_byte_array_unref(file);
    return 0;
}
