/*
 * The POSIX Qcow2IO: pread/pwrite/fdatasync on one file descriptor.
 *
 * Reads and writes loop over EINTR and short transfers; a read that hits
 * the end of the file is an error (callers check table bounds against the
 * file size first, so this only happens on a file that shrank under us).
 *
 * Locking: the lock op is a no-op for read-only opens (reading never
 * needs QEMU's permissions; an image in use is still readable, as with
 * qemu-img -U). Writers take QEMU's OFD byte-range locks (lock-ofd.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "write-internal.h"

typedef struct PosixIO {
    Qcow2IO base;
    int fd;
    bool writable;
} PosixIO;

static PosixIO *posix_io(Qcow2IO *io)
{
    return (PosixIO *)io;
}

static Qcow2ErrorCode errno_code(int err)
{
    return (err == ENOSPC || err == EDQUOT) ? QCOW2_ERROR_NO_SPACE
                                            : QCOW2_ERROR_IO;
}

static bool posix_pread(Qcow2IO *io, void *buf, size_t len, uint64_t off,
                        GError **errp)
{
    PosixIO *p = posix_io(io);
    uint8_t *dst = buf;
    size_t done = 0;

    if (off > INT64_MAX || len > INT64_MAX - off) {
        qcow2_error_named(errp, io->name, QCOW2_ERROR_IO, "read", off,
                          "offset out of range");
        return false;
    }
    while (done < len) {
        ssize_t n = pread(p->fd, dst + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            qcow2_error_named(errp, io->name, errno_code(errno), "read",
                              off + done, "%s", g_strerror(errno));
            return false;
        }
        if (n == 0) {
            qcow2_error_named(
                errp, io->name, QCOW2_ERROR_IO, "read", off + done,
                "unexpected end of file (%zu of %zu bytes read)", done, len);
            return false;
        }
        done += (size_t)n;
    }
    return true;
}

static bool posix_pwrite(Qcow2IO *io, const void *buf, size_t len, uint64_t off,
                         GError **errp)
{
    PosixIO *p = posix_io(io);
    const uint8_t *src = buf;
    size_t done = 0;

    if (!p->writable) {
        qcow2_error_named(errp, io->name, QCOW2_ERROR_INVALID, "write", off,
                          "the file was opened read-only");
        return false;
    }
    if (off > INT64_MAX || len > INT64_MAX - off) {
        qcow2_error_named(errp, io->name, QCOW2_ERROR_IO, "write", off,
                          "offset out of range");
        return false;
    }
    while (done < len) {
        ssize_t n = pwrite(p->fd, src + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            qcow2_error_named(errp, io->name, errno_code(errno), "write",
                              off + done, "%s", g_strerror(errno));
            return false;
        }
        if (n == 0) {
            /* pwrite returning 0 for a non-zero length: treat as full. */
            qcow2_error_named(errp, io->name, QCOW2_ERROR_NO_SPACE, "write",
                              off + done, "no progress writing %zu bytes",
                              len - done);
            return false;
        }
        done += (size_t)n;
    }
    return true;
}

static bool posix_copy(Qcow2IO *io, uint64_t src, uint64_t dst, size_t len,
                       bool *copied, GError **errp)
{
    PosixIO *p = posix_io(io);
    size_t done = 0;

    *copied = false;
    if (!p->writable || src > INT64_MAX || dst > INT64_MAX ||
        len > INT64_MAX - MAX(src, dst)) {
        return true;
    }
    while (done < len) {
        loff_t in = (loff_t)(src + done), out = (loff_t)(dst + done);
        ssize_t n = copy_file_range(p->fd, &in, p->fd, &out, len - done, 0);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        /*
         * Not possible here (or the source ends early): the caller writes
         * the bytes itself, over whatever part was copied.
         */
        if (n == 0 || (n < 0 && (errno == EXDEV || errno == ENOSYS ||
                                 errno == EOPNOTSUPP || errno == EINVAL ||
                                 errno == EBADF))) {
            return true;
        }
        if (n < 0) {
            qcow2_error_named(errp, io->name, errno_code(errno), "write",
                              dst + done, "%s", g_strerror(errno));
            return false;
        }
        done += (size_t)n;
    }
    *copied = true;
    return true;
}

static bool posix_flush(Qcow2IO *io, GError **errp)
{
    PosixIO *p = posix_io(io);

    while (fdatasync(p->fd) < 0) {
        if (errno == EINTR) {
            continue;
        }
        qcow2_error_named(errp, io->name, errno_code(errno), NULL, 0,
                          "flush failed: %s", g_strerror(errno));
        return false;
    }
    return true;
}

static bool posix_get_size(Qcow2IO *io, uint64_t *size, GError **errp)
{
    PosixIO *p = posix_io(io);
    off_t end;

    end = lseek(p->fd, 0, SEEK_END);
    if (end < 0) {
        qcow2_error_named(errp, io->name, QCOW2_ERROR_IO, NULL, 0,
                          "cannot determine the file size: %s",
                          g_strerror(errno));
        return false;
    }
    *size = (uint64_t)end;
    return true;
}

static bool posix_truncate(Qcow2IO *io, uint64_t size, GError **errp)
{
    PosixIO *p = posix_io(io);

    while (ftruncate(p->fd, (off_t)size) < 0) {
        if (errno == EINTR) {
            continue;
        }
        qcow2_error_named(errp, io->name, errno_code(errno), NULL, 0,
                          "cannot cut the file to %" PRIu64 " bytes: %s", size,
                          g_strerror(errno));
        return false;
    }
    return true;
}

static bool posix_discard(Qcow2IO *io, uint64_t off, uint64_t len, bool *done,
                          GError **errp)
{
    PosixIO *p = posix_io(io);

    *done = false;
#ifdef FALLOC_FL_PUNCH_HOLE
    if (fallocate(p->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
                  (off_t)len) == 0) {
        *done = true;
    } else if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL &&
               errno != ENODEV) {
        qcow2_error_named(errp, io->name, errno_code(errno), "discard", off,
                          "%s", g_strerror(errno));
        return false;
    }
#else
    (void)p;
    (void)off;
    (void)len;
    (void)errp;
#endif
    return true;
}

static bool posix_space(Qcow2IO *io, uint64_t *allocated, uint64_t *available,
                        GError **errp)
{
    PosixIO *p = posix_io(io);
    struct statvfs vfs;
    struct stat st;

    if (fstat(p->fd, &st) < 0) {
        qcow2_error_named(errp, io->name, QCOW2_ERROR_IO, NULL, 0, "%s",
                          g_strerror(errno));
        return false;
    }
    *allocated = (uint64_t)st.st_blocks * 512;
    *available = fstatvfs(p->fd, &vfs) == 0
                     ? (uint64_t)vfs.f_bavail * vfs.f_frsize
                     : UINT64_MAX;
    return true;
}

static bool posix_lock(Qcow2IO *io, Qcow2LockMode mode, GError **errp)
{
    PosixIO *p = posix_io(io);

    /* Readers take no locks: see the comment at the top of this file. */
    if (!p->writable) {
        return true;
    }
    return qcow2_ofd_lock(p->fd, io->name, mode, errp);
}

static void posix_close(Qcow2IO *io)
{
    PosixIO *p = posix_io(io);

    if (p->fd >= 0) {
        close(p->fd);
    }
    g_free(io->name);
    g_free(p);
}

static const Qcow2IOOps posix_ops = {
    .pread = posix_pread,
    .pwrite = posix_pwrite,
    .flush = posix_flush,
    .get_size = posix_get_size,
    .lock = posix_lock,
    .close = posix_close,
    .copy = posix_copy,
    .truncate = posix_truncate,
    .discard = posix_discard,
    .space = posix_space,
};

Qcow2IO *qcow2_io_posix_open(const char *path, bool writable, GError **errp)
{
    PosixIO *p;
    struct stat st;
    int fd;

    do {
        fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        qcow2_error_named(errp, path, QCOW2_ERROR_IO, NULL, 0,
                          "cannot open: %s", g_strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
        qcow2_error_named(errp, path, QCOW2_ERROR_IO, NULL, 0,
                          "not a regular file or block device");
        close(fd);
        return NULL;
    }
    p = g_new0(PosixIO, 1);
    p->base.ops = &posix_ops;
    p->base.name = g_strdup(path);
    p->fd = fd;
    p->writable = writable;
    return &p->base;
}

void qcow2_io_close(Qcow2IO *io)
{
    if (io) {
        io->ops->close(io);
    }
}
