/*
 * QEMU's image locking, from the outside: open-file-description (OFD)
 * byte-range locks on the image file, always taken as shared read locks.
 *
 * QEMU (block/file-posix.c, 2.10 and later) describes each opener's block
 * permissions with one lock byte per permission bit n:
 *   byte 100 + n  locked by an opener that holds permission n;
 *   byte 200 + n  locked by an opener that does not share permission n.
 * Bits: 0 consistent read, 1 write, 2 write-unchanged, 3 resize (QEMU 6.1
 * and older also had 4, graph-mod). A conflict is found by asking
 * F_OFD_GETLK whether an exclusive lock on a byte would be granted.
 *
 * We take the locks of a QEMU writer (hold read, write and resize; share
 * read and write-unchanged), so that a QEMU or qemu-img started while we
 * write refuses the image, and like QEMU we lock first and probe second:
 * two openers racing each see the other and both back off. Readers with
 * qemu-img -U (force-share) only hold byte 100 and do not conflict.
 *
 * OFD locks belong to the open file description, so closing the file
 * releases them and closing some other descriptor of the same file does
 * not (unlike classic POSIX locks).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "write-internal.h"

#define LOCK_PERM_BASE   100
#define LOCK_SHARED_BASE 200

enum {
    PERM_CONSISTENT_READ = 0,
    PERM_WRITE = 1,
    PERM_WRITE_UNCHANGED = 2,
    PERM_RESIZE = 3,
    PERM_COUNT = 4,
};

static const char *const perm_names[PERM_COUNT] = {
    "consistent read",
    "write",
    "write unchanged",
    "resize",
};

/* What a QEMU writer holds, and what it lets others hold. */
static const unsigned writer_holds =
    (1u << PERM_CONSISTENT_READ) | (1u << PERM_WRITE) | (1u << PERM_RESIZE);
static const unsigned writer_shares =
    (1u << PERM_CONSISTENT_READ) | (1u << PERM_WRITE_UNCHANGED);

static int ofd_lock_byte(int fd, short type, off_t byte)
{
    struct flock fl = {
        .l_type = type,
        .l_whence = SEEK_SET,
        .l_start = byte,
        .l_len = 1,
    };

    while (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
        if (errno != EINTR) {
            return -errno;
        }
    }
    return 0;
}

/* 1 if another open file description holds a lock on byte, 0 if not. */
static int ofd_byte_taken(int fd, off_t byte)
{
    struct flock fl = {
        .l_type = F_WRLCK,
        .l_whence = SEEK_SET,
        .l_start = byte,
        .l_len = 1,
    };

    while (fcntl(fd, F_OFD_GETLK, &fl) < 0) {
        if (errno != EINTR) {
            return -errno;
        }
    }
    return fl.l_type != F_UNLCK;
}

static void unlock_all(int fd)
{
    struct flock fl = {
        .l_type = F_UNLCK,
        .l_whence = SEEK_SET,
        .l_start = LOCK_PERM_BASE,
        .l_len = LOCK_SHARED_BASE + 8 - LOCK_PERM_BASE,
    };

    (void)fcntl(fd, F_OFD_SETLK, &fl);
}

static void set_lock_error(GError **errp, const char *name, int err)
{
    if (err == -EINVAL || err == -ENOLCK || err == -EOPNOTSUPP) {
        qcow2_error_named(errp, name, QCOW2_ERROR_UNSUPPORTED, NULL, 0,
                          "cannot take QEMU's image locks on this file "
                          "system (%s); it is not safe to write without them",
                          g_strerror(-err));
    } else {
        qcow2_error_named(errp, name, QCOW2_ERROR_IO, NULL, 0,
                          "cannot take QEMU's image locks: %s",
                          g_strerror(-err));
    }
}

static bool take_writer_locks(int fd, const char *name, GError **errp)
{
    for (int n = 0; n < PERM_COUNT; n++) {
        int ret = 0;

        if (writer_holds & (1u << n)) {
            ret = ofd_lock_byte(fd, F_RDLCK, LOCK_PERM_BASE + n);
        }
        if (!ret && !(writer_shares & (1u << n))) {
            ret = ofd_lock_byte(fd, F_RDLCK, LOCK_SHARED_BASE + n);
        }
        if (ret == -EAGAIN || ret == -EACCES) {
            /* Someone holds an exclusive lock there: not QEMU, but busy. */
            unlock_all(fd);
            qcow2_error_named(errp, name, QCOW2_ERROR_IN_USE, NULL, 0,
                              "in use: another process holds an exclusive "
                              "lock on QEMU's lock byte for \"%s\"; stop it "
                              "or use --dry-run",
                              perm_names[n]);
            return false;
        }
        if (ret < 0) {
            unlock_all(fd);
            set_lock_error(errp, name, ret);
            return false;
        }
    }
    return true;
}

/* After taking ours: does any other opener conflict with them? */
static bool probe_conflicts(int fd, const char *name, GError **errp)
{
    for (int n = 0; n < PERM_COUNT; n++) {
        int taken;

        /* To hold n, nobody may refuse to share it. */
        if (writer_holds & (1u << n)) {
            taken = ofd_byte_taken(fd, LOCK_SHARED_BASE + n);
            if (taken < 0) {
                set_lock_error(errp, name, taken);
                return false;
            }
            if (taken) {
                qcow2_error_named(
                    errp, name, QCOW2_ERROR_IN_USE, NULL, 0,
                    "in use by a running QEMU (another opener does not "
                    "share the \"%s\" permission, lock byte %d); stop the "
                    "VM or use --dry-run",
                    perm_names[n], LOCK_SHARED_BASE + n);
                return false;
            }
        }
        /* To refuse n to others, nobody may hold it. */
        if (!(writer_shares & (1u << n))) {
            taken = ofd_byte_taken(fd, LOCK_PERM_BASE + n);
            if (taken < 0) {
                set_lock_error(errp, name, taken);
                return false;
            }
            if (taken) {
                qcow2_error_named(errp, name, QCOW2_ERROR_IN_USE, NULL, 0,
                                  "in use by a running QEMU (%s lock held, "
                                  "lock byte %d); stop the VM or use "
                                  "--dry-run",
                                  perm_names[n], LOCK_PERM_BASE + n);
                return false;
            }
        }
    }
    return true;
}

bool qcow2_ofd_lock(int fd, const char *name, Qcow2LockMode mode, GError **errp)
{
    switch (mode) {
    case QCOW2_LOCK_NONE:
    case QCOW2_LOCK_READER:
        /* Readers share everything, as qemu-img -U: nothing to hold. */
        unlock_all(fd);
        return true;
    case QCOW2_LOCK_WRITER:
        if (!take_writer_locks(fd, name, errp)) {
            return false;
        }
        if (!probe_conflicts(fd, name, errp)) {
            unlock_all(fd);
            return false;
        }
        return true;
    }
    return true;
}
