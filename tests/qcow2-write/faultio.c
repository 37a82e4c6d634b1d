/*
 * The fault-injecting Qcow2IO (see faultio.h). It owns a plain file
 * descriptor and takes the same QEMU-compatible locks as the POSIX I/O.
 *
 * Power loss model: a flush makes every earlier write durable. Writes
 * issued since the last flush may each have reached the disk entirely,
 * not at all, or only in some of their 512-byte sectors (a sector is
 * written entirely or not at all, as disks guarantee). To undo a write
 * we remember the bytes it replaced; undoing newest first restores
 * overlapping writes correctly. Bytes past the old end of file read as
 * zeros; the file is cut back to the durable size unless a kept sector
 * lies beyond it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "faultio.h"
#include "write-internal.h"

#define SECTOR 512

typedef struct Undo {
    uint64_t off;
    size_t len;
    uint8_t *old; /* bytes before the write (zeros past the old end) */
} Undo;

typedef struct FaultIO {
    Qcow2IO base;
    int fd;
    FaultMode mode;
    uint64_t n;
    bool dead; /* crashed: nothing reaches the file any more */
    GRand *rng;
    GArray *undo; /* Undo, since the last flush */
    uint64_t durable_size;
    volatile sig_atomic_t *cancel; /* FAULT_CANCEL sets it */
    FaultStats st;
} FaultIO;

static FaultIO *fio(Qcow2IO *io)
{
    return (FaultIO *)io;
}

static bool fail(Qcow2IO *io, GError **errp, Qcow2ErrorCode code,
                 const char *what)
{
    qcow2_error_named(errp, io->name, code, NULL, 0, "%s (injected)", what);
    return false;
}

static bool full_pread(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;

    while (len) {
        ssize_t r = pread(fd, p, len, (off_t)off);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            return false;
        }
        if (r == 0) {
            memset(p, 0, len); /* past the end reads as zeros */
            return true;
        }
        p += r;
        off += (uint64_t)r;
        len -= (size_t)r;
    }
    return true;
}

static bool full_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf;

    while (len) {
        ssize_t r = pwrite(fd, p, len, (off_t)off);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return false;
        }
        p += r;
        off += (uint64_t)r;
        len -= (size_t)r;
    }
    return true;
}

static bool f_pread(Qcow2IO *io, void *buf, size_t len, uint64_t off,
                    GError **errp)
{
    FaultIO *f = fio(io);
    struct stat st;

    if (f->dead) {
        return fail(io, errp, QCOW2_ERROR_IO, "the process has crashed");
    }
    if (fstat(f->fd, &st) < 0 || off > (uint64_t)st.st_size ||
        len > (uint64_t)st.st_size - off) {
        qcow2_error_named(errp, io->name, QCOW2_ERROR_IO, "read", off,
                          "unexpected end of file");
        return false;
    }
    if (!full_pread(f->fd, buf, len, off)) {
        qcow2_error_named(errp, io->name, QCOW2_ERROR_IO, "read", off, "%s",
                          g_strerror(errno));
        return false;
    }
    return true;
}

static bool do_write(FaultIO *f, const void *buf, size_t len, uint64_t off,
                     GError **errp)
{
    if (f->mode == FAULT_POWER) {
        Undo u = {.off = off, .len = len, .old = g_malloc(MAX(len, 1))};
        full_pread(f->fd, u.old, len, off);
        g_array_append_val(f->undo, u);
    }
    if (!full_pwrite(f->fd, buf, len, off)) {
        qcow2_error_named(errp, f->base.name, QCOW2_ERROR_IO, "write", off,
                          "%s", g_strerror(errno));
        return false;
    }
    f->st.writes++;
    return true;
}

static bool f_pwrite(Qcow2IO *io, const void *buf, size_t len, uint64_t off,
                     GError **errp)
{
    FaultIO *f = fio(io);
    uint64_t this = f->st.writes + 1;

    if (f->dead) {
        return fail(io, errp, QCOW2_ERROR_IO, "the process has crashed");
    }
    switch (f->mode) {
    case FAULT_CRASH:
    case FAULT_POWER:
        if (this > f->n) {
            f->dead = true;
            f->st.fired = true;
            return fail(io, errp, QCOW2_ERROR_IO, "the process has crashed");
        }
        break;
    case FAULT_EIO:
        if (this == f->n) {
            f->st.fired = true;
            f->st.writes++; /* counted: the next write is number n + 1 */
            return fail(io, errp, QCOW2_ERROR_IO, g_strerror(EIO));
        }
        break;
    case FAULT_CANCEL:
        if (this == f->n && f->cancel) {
            f->st.fired = true;
            *f->cancel = 1;
        }
        break;
    case FAULT_ENOSPC:
        if (this == f->n) {
            size_t part = len / 2 / SECTOR * SECTOR;
            f->st.fired = true;
            if (part && !full_pwrite(f->fd, buf, part, off)) {
                return fail(io, errp, QCOW2_ERROR_IO, "partial write failed");
            }
            f->st.writes++;
            return fail(io, errp, QCOW2_ERROR_NO_SPACE, g_strerror(ENOSPC));
        }
        break;
    default:
        break;
    }
    return do_write(f, buf, len, off, errp);
}

/* A copy inside the file is one more write, with the same faults. */
static bool f_copy(Qcow2IO *io, uint64_t src, uint64_t dst, size_t len,
                   bool *copied, GError **errp)
{
    g_autofree uint8_t *buf = g_malloc(MAX(len, 1));

    *copied = false;
    if (!fio(io)->dead && !full_pread(fio(io)->fd, buf, len, src)) {
        return true; /* let the library write the bytes itself */
    }
    *copied = f_pwrite(io, buf, len, dst, errp);
    return *copied;
}

static bool f_flush(Qcow2IO *io, GError **errp)
{
    FaultIO *f = fio(io);
    struct stat st;

    if (f->dead) {
        return fail(io, errp, QCOW2_ERROR_IO, "the process has crashed");
    }
    if (f->mode == FAULT_FLUSH_EIO && f->st.flushes + 1 == f->n) {
        f->st.fired = true;
        f->st.flushes++;
        return fail(io, errp, QCOW2_ERROR_IO, "flush: Input/output error");
    }
    /* No fdatasync: the model decides what is durable, not the disk. */
    for (guint i = 0; i < f->undo->len; i++) {
        g_free(g_array_index(f->undo, Undo, i).old);
    }
    g_array_set_size(f->undo, 0);
    if (fstat(f->fd, &st) == 0) {
        f->durable_size = (uint64_t)st.st_size;
    }
    f->st.flushes++;
    return true;
}

static bool f_get_size(Qcow2IO *io, uint64_t *size, GError **errp)
{
    struct stat st;

    if (fio(io)->dead) {
        return fail(io, errp, QCOW2_ERROR_IO, "the process has crashed");
    }
    if (fstat(fio(io)->fd, &st) < 0) {
        qcow2_error_named(errp, io->name, QCOW2_ERROR_IO, NULL, 0, "%s",
                          g_strerror(errno));
        return false;
    }
    *size = (uint64_t)st.st_size;
    return true;
}

/*
 * Cutting the file is one more write point (it fails like a write), and
 * in the power model it is durable at once (as metadata journalling
 * makes ftruncate in practice): the durable size follows it down.
 */
static bool f_truncate(Qcow2IO *io, uint64_t size, GError **errp)
{
    FaultIO *f = fio(io);
    uint8_t none = 0;

    if (f->dead) {
        return fail(io, errp, QCOW2_ERROR_IO, "the process has crashed");
    }
    if (!f_pwrite(io, &none, 0, size, errp)) {
        return false; /* the fault hit this point */
    }
    if (ftruncate(f->fd, (off_t)size) < 0) {
        qcow2_error_named(errp, io->name, QCOW2_ERROR_IO, NULL, 0,
                          "truncate: %s", g_strerror(errno));
        return false;
    }
    f->durable_size = MIN(f->durable_size, size);
    return true;
}

/* A discard is a write of zeros, with the same faults. */
static bool f_discard(Qcow2IO *io, uint64_t off, uint64_t len, bool *done,
                      GError **errp)
{
    g_autofree uint8_t *zeros = g_malloc0(MAX(len, 1));

    *done = f_pwrite(io, zeros, len, off, errp);
    return *done;
}

static bool f_space(Qcow2IO *io, uint64_t *allocated, uint64_t *available,
                    GError **errp)
{
    struct stat st;

    if (fstat(fio(io)->fd, &st) < 0) {
        qcow2_error_named(errp, io->name, QCOW2_ERROR_IO, NULL, 0, "%s",
                          g_strerror(errno));
        return false;
    }
    *allocated = (uint64_t)st.st_blocks * 512;
    *available = UINT64_MAX;
    return true;
}

static bool f_lock(Qcow2IO *io, Qcow2LockMode mode, GError **errp)
{
    return qcow2_ofd_lock(fio(io)->fd, io->name, mode, errp);
}

static void f_close(Qcow2IO *io)
{
    FaultIO *f = fio(io);

    for (guint i = 0; i < f->undo->len; i++) {
        g_free(g_array_index(f->undo, Undo, i).old);
    }
    g_array_free(f->undo, true);
    g_rand_free(f->rng);
    close(f->fd);
    g_free(io->name);
    g_free(f);
}

static const Qcow2IOOps fault_ops = {
    .pread = f_pread,
    .pwrite = f_pwrite,
    .flush = f_flush,
    .get_size = f_get_size,
    .lock = f_lock,
    .close = f_close,
    .copy = f_copy,
    .truncate = f_truncate,
    .discard = f_discard,
    .space = f_space,
};

Qcow2IO *fault_io_open(const char *path, FaultMode mode, uint64_t n,
                       uint32_t seed, GError **errp)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    struct stat st;
    FaultIO *f;

    if (fd < 0 || fstat(fd, &st) < 0) {
        qcow2_error_named(errp, path, QCOW2_ERROR_IO, NULL, 0,
                          "cannot open: %s", g_strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    f = g_new0(FaultIO, 1);
    f->base.ops = &fault_ops;
    f->base.name = g_strdup(path);
    f->fd = fd;
    f->mode = mode;
    f->n = n;
    f->rng = g_rand_new_with_seed(seed);
    f->undo = g_array_new(false, false, sizeof(Undo));
    f->durable_size = (uint64_t)st.st_size;
    return &f->base;
}

bool fault_io_power_loss(Qcow2IO *io, GError **errp)
{
    FaultIO *f = fio(io);
    uint64_t keep_end = f->durable_size;

    for (guint i = f->undo->len; i-- > 0;) {
        Undo *u = &g_array_index(f->undo, Undo, i);
        uint32_t fate = (uint32_t)g_rand_int_range(f->rng, 0, 3);
        bool any_kept = false, any_lost = false;

        for (size_t s = 0; s < u->len; s += SECTOR) {
            size_t n = MIN((size_t)SECTOR, u->len - s);
            bool keep = fate == 0 || (fate == 2 && g_rand_boolean(f->rng));

            if (keep) {
                any_kept = true;
                keep_end = MAX(keep_end, u->off + s + n);
                continue;
            }
            any_lost = true;
            if (!full_pwrite(f->fd, u->old + s, n, u->off + s)) {
                qcow2_error_named(errp, io->name, QCOW2_ERROR_IO, NULL, 0,
                                  "undoing a write: %s", g_strerror(errno));
                return false;
            }
        }
        if (any_kept && any_lost) {
            f->st.torn_writes++;
        } else if (any_kept) {
            f->st.kept_writes++;
        } else {
            f->st.lost_writes++;
        }
    }
    if (ftruncate(f->fd, (off_t)keep_end) < 0) {
        qcow2_error_named(errp, io->name, QCOW2_ERROR_IO, NULL, 0,
                          "truncate: %s", g_strerror(errno));
        return false;
    }
    return true;
}

void fault_io_set_cancel_flag(Qcow2IO *io, volatile sig_atomic_t *flag)
{
    fio(io)->cancel = flag;
}

const FaultStats *fault_io_stats(Qcow2IO *io)
{
    return &fio(io)->st;
}

bool fault_mode_parse(const char *s, FaultMode *mode)
{
    static const char *const names[] = {"count",  "crash",     "power", "eio",
                                        "enospc", "flush-eio", "cancel"};

    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        if (!strcmp(s, names[i])) {
            *mode = (FaultMode)i;
            return true;
        }
    }
    return false;
}
