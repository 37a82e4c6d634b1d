/*
 * A Qcow2IO over a byte array in memory: for fuzzers, tests and programs
 * that hold an image in memory. Writes past the end grow the array (up to
 * a limit, past which they fail with QCOW2_ERROR_NO_SPACE); locks and
 * flushes have nothing to do.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "qcow2.h"

typedef struct MemoryIO {
    Qcow2IO base;
    GByteArray *file; /* the caller's */
    bool writable;
    uint64_t max_size;
} MemoryIO;

static bool memory_pread(Qcow2IO *io, void *buf, size_t len, uint64_t off,
                         GError **errp)
{
    GByteArray *f = ((MemoryIO *)io)->file;

    if (off > f->len || len > f->len - off) {
        g_set_error(errp, QCOW2_ERROR, QCOW2_ERROR_IO,
                    "%s: read of %zu bytes at 0x%" G_GINT64_MODIFIER
                    "x past the end (0x%x)",
                    io->name, len, off, f->len);
        return false;
    }
    memcpy(buf, f->data + off, len);
    return true;
}

static bool memory_pwrite(Qcow2IO *io, const void *buf, size_t len,
                          uint64_t off, GError **errp)
{
    MemoryIO *m = (MemoryIO *)io;
    GByteArray *f = m->file;

    if (!m->writable) {
        g_set_error(errp, QCOW2_ERROR, QCOW2_ERROR_IO, "%s: read-only",
                    io->name);
        return false;
    }
    if (off > m->max_size || len > m->max_size - off) {
        g_set_error(errp, QCOW2_ERROR, QCOW2_ERROR_NO_SPACE,
                    "%s: no space for %zu bytes at 0x%" G_GINT64_MODIFIER "x",
                    io->name, len, off);
        return false;
    }
    if (off + len > f->len) {
        guint old = f->len;
        g_byte_array_set_size(f, (guint)(off + len));
        memset(f->data + old, 0, f->len - old);
    }
    memcpy(f->data + off, buf, len);
    return true;
}

static bool memory_flush(Qcow2IO *io, GError **errp)
{
    return true;
}

static bool memory_get_size(Qcow2IO *io, uint64_t *size, GError **errp)
{
    *size = ((MemoryIO *)io)->file->len;
    return true;
}

static bool memory_truncate(Qcow2IO *io, uint64_t size, GError **errp)
{
    GByteArray *f = ((MemoryIO *)io)->file;

    if (size < f->len) {
        g_byte_array_set_size(f, (guint)size);
    }
    return true;
}

/* A hole reads as zeros; memory has no space to give back. */
static bool memory_discard(Qcow2IO *io, uint64_t off, uint64_t len, bool *done,
                           GError **errp)
{
    GByteArray *f = ((MemoryIO *)io)->file;

    if (off < f->len) {
        memset(f->data + off, 0, (size_t)MIN(len, f->len - off));
    }
    *done = true;
    return true;
}

static bool memory_space(Qcow2IO *io, uint64_t *allocated, uint64_t *available,
                         GError **errp)
{
    MemoryIO *m = (MemoryIO *)io;

    *allocated = m->file->len;
    *available = m->max_size - MIN(m->max_size, (uint64_t)m->file->len);
    return true;
}

static bool memory_lock(Qcow2IO *io, Qcow2LockMode mode, GError **errp)
{
    return true;
}

static void memory_close(Qcow2IO *io)
{
    g_free(io->name);
    g_free(io);
}

static const Qcow2IOOps memory_ops = {
    .pread = memory_pread,
    .pwrite = memory_pwrite,
    .flush = memory_flush,
    .get_size = memory_get_size,
    .lock = memory_lock,
    .close = memory_close,
    .truncate = memory_truncate,
    .discard = memory_discard,
    .space = memory_space,
};

Qcow2IO *qcow2_io_memory_new(GByteArray *file, bool writable, uint64_t max_size,
                             const char *name)
{
    MemoryIO *m = g_new0(MemoryIO, 1);

    m->base.ops = &memory_ops;
    m->base.name = g_strdup(name);
    m->file = file;
    m->writable = writable;
    m->max_size = MIN(max_size, (uint64_t)G_MAXUINT);
    return &m->base;
}
