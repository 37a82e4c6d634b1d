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

typedef struct MemIO {
    Qcow2IO base;
    const uint8_t *data;
    size_t size;
} MemIO;

static bool mem_pread(Qcow2IO *io, void *buf, size_t len, uint64_t off,
                      GError **errp)
{
    MemIO *m = (MemIO *)io;

    if (off > m->size || len > m->size - off) {
        g_set_error(errp, QCOW2_ERROR, QCOW2_ERROR_IO, "short read");
        return false;
    }
    memcpy(buf, m->data + off, len);
    return true;
}

static bool mem_pwrite(Qcow2IO *io, const void *buf, size_t len, uint64_t off,
                       GError **errp)
{
    g_set_error(errp, QCOW2_ERROR, QCOW2_ERROR_IO, "read-only");
    return false;
}

static bool mem_flush(Qcow2IO *io, GError **errp)
{
    return true;
}

static bool mem_get_size(Qcow2IO *io, uint64_t *size, GError **errp)
{
    *size = ((MemIO *)io)->size;
    return true;
}

static bool mem_lock(Qcow2IO *io, Qcow2LockMode mode, GError **errp)
{
    return true;
}

static void mem_close(Qcow2IO *io)
{
    g_free(io->name);
    g_free(io);
}

static const Qcow2IOOps mem_ops = {
    .pread = mem_pread,
    .pwrite = mem_pwrite,
    .flush = mem_flush,
    .get_size = mem_get_size,
    .lock = mem_lock,
    .close = mem_close,
};

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
        GArray *all = qcow2_all_metadata(img, &err);
        if (all) {
            g_array_free(all, true);
        }
        g_clear_error(&err);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    MemIO *io = g_new0(MemIO, 1);
    GError *err = NULL;
    Qcow2Image *img;

    io->base.ops = &mem_ops;
    io->base.name = g_strdup("fuzz.qcow2");
    io->data = data;
    io->size = size;
    img = qcow2_open_io(&io->base, NULL, "fuzz.qcow2", QCOW2_OPEN_READ_ONLY,
                        &err);
    if (!img) {
        g_assert(err && err->domain == QCOW2_ERROR && err->message[0]);
        g_error_free(err);
        return 0;
    }
    exercise(img);
    qcow2_close(img);
    return 0;
}
