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
 * qcow2_probe_locks() only looks: the same probe from a descriptor of its
 * own, taking nothing, for callers that must not disturb a running VM.
 *
 * Our writers also lock QCOW2_LOCK_TOOL_BYTE (300), a byte QEMU never
 * uses: a writer that finds the image held can tell another of ours from
 * a QEMU, and name the holding process (lock-holders.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "write-internal.h"

static const char *const perm_names[QCOW2_PERM_COUNT] = {
    "consistent read", "write", "write unchanged", "resize", "graph mod",
};

/* What a QEMU writer holds, and what it refuses to share (it shares
 * consistent read and write-unchanged). */
static const uint32_t writer_holds = (1u << QCOW2_PERM_CONSISTENT_READ) |
                                     (1u << QCOW2_PERM_WRITE) |
                                     (1u << QCOW2_PERM_RESIZE);
static const uint32_t writer_refuses =
    (1u << QCOW2_PERM_WRITE) | (1u << QCOW2_PERM_RESIZE);

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

/* 1 if another open file description holds a lock on bytes [byte,
 * byte + len), 0 if not. */
static int ofd_range_taken(int fd, off_t byte, off_t len)
{
    struct flock fl = {
        .l_type = F_WRLCK,
        .l_whence = SEEK_SET,
        .l_start = byte,
        .l_len = len,
    };

    while (fcntl(fd, F_OFD_GETLK, &fl) < 0) {
        if (errno != EINTR) {
            return -errno;
        }
    }
    return fl.l_type != F_UNLCK;
}

static int ofd_byte_taken(int fd, off_t byte)
{
    return ofd_range_taken(fd, byte, 1);
}

/* Every lock byte another open file description holds; -errno on error. */
static int probe_fd(int fd, Qcow2LockProbe *out)
{
    /* Most images of a store are not open: one probe over all the bytes
     * says so (a store scan probes thousands). */
    int any = ofd_range_taken(fd, QCOW2_LOCK_PERM_BASE,
                              QCOW2_LOCK_SHARED_BASE + QCOW2_PERM_COUNT -
                                  QCOW2_LOCK_PERM_BASE);

    memset(out, 0, sizeof(*out));
    if (any <= 0) {
        return any;
    }
    for (int n = 0; n < QCOW2_PERM_COUNT; n++) {
        int held = ofd_byte_taken(fd, QCOW2_LOCK_PERM_BASE + n);
        int denied =
            held < 0 ? held : ofd_byte_taken(fd, QCOW2_LOCK_SHARED_BASE + n);

        if (held < 0 || denied < 0) {
            return held < 0 ? held : denied;
        }
        out->held |= (uint32_t)held << n;
        out->denied |= (uint32_t)denied << n;
    }
    {
        int tool = ofd_byte_taken(fd, QCOW2_LOCK_TOOL_BYTE);
        if (tool < 0) {
            return tool;
        }
        out->tool = tool;
    }
    return 0;
}

/* Permission n a writer cannot take: someone refuses to share what it
 * holds (*denied) or holds what it refuses to share. -1: none. */
static int writer_conflict(const Qcow2LockProbe *p, bool *denied)
{
    for (int n = 0; n < QCOW2_PERM_COUNT; n++) {
        if (p->denied & writer_holds & (1u << n)) {
            *denied = true;
            return n;
        }
        if (p->held & writer_refuses & (1u << n)) {
            *denied = false;
            return n;
        }
    }
    return -1;
}

bool qcow2_locks_conflict_with_writer(const Qcow2LockProbe *p)
{
    bool denied;

    return writer_conflict(p, &denied) >= 0;
}

bool qcow2_probe_locks(const char *path, Qcow2LockProbe *out, GError **errp)
{
    int fd, ret;

    memset(out, 0, sizeof(*out));
    do {
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        qcow2_error_named(errp, path, QCOW2_ERROR_IO, NULL, 0,
                          "cannot open: %s", g_strerror(errno));
        return false;
    }
    ret = probe_fd(fd, out);
    close(fd);
    if (ret < 0) {
        qcow2_error_named(errp, path, QCOW2_ERROR_IO, NULL, 0,
                          "cannot probe QEMU's lock bytes: %s",
                          g_strerror(-ret));
        return false;
    }
    return true;
}

static void unlock_all(int fd)
{
    struct flock fl = {
        .l_type = F_UNLCK,
        .l_whence = SEEK_SET,
        .l_start = QCOW2_LOCK_PERM_BASE,
        .l_len = QCOW2_LOCK_TOOL_BYTE + 1 - QCOW2_LOCK_PERM_BASE,
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
    for (int n = 0; n < QCOW2_PERM_COUNT; n++) {
        int ret = 0;

        if (writer_holds & (1u << n)) {
            ret = ofd_lock_byte(fd, F_RDLCK, QCOW2_LOCK_PERM_BASE + n);
        }
        if (!ret && (writer_refuses & (1u << n))) {
            ret = ofd_lock_byte(fd, F_RDLCK, QCOW2_LOCK_SHARED_BASE + n);
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
    {
        int ret = ofd_lock_byte(fd, F_RDLCK, QCOW2_LOCK_TOOL_BYTE);
        if (ret < 0 && ret != -EAGAIN && ret != -EACCES) {
            unlock_all(fd);
            set_lock_error(errp, name, ret);
            return false;
        }
    }
    return true;
}

/* ", by qemu-system-x86 pid 1234", or "" when the holder is not found. */
static char *holders_of(int fd)
{
    g_autoptr(GArray) holders = qcow2_lock_holders_fd(fd);
    g_autofree char *who = qcow2_lock_holders_str(holders);

    return who ? g_strdup_printf(", by %s", who) : g_strdup("");
}

/* After taking ours: does any other opener conflict with them? */
static bool probe_conflicts(int fd, const char *name, GError **errp)
{
    Qcow2LockProbe p;
    int ret = probe_fd(fd, &p);
    g_autofree char *who = NULL;
    bool denied;
    int n;

    if (ret < 0) {
        set_lock_error(errp, name, ret);
        return false;
    }
    n = writer_conflict(&p, &denied);
    if (n < 0) {
        return true;
    }
    who = holders_of(fd);
    if (p.tool) {
        /* Another writer through this library: not a VM to stop. */
        qcow2_error_named(errp, name, QCOW2_ERROR_IN_USE, NULL, 0,
                          "in use by another qsnapfix writing it (lock byte "
                          "%d%s); wait for it to finish or use --dry-run",
                          QCOW2_LOCK_TOOL_BYTE, who);
    } else if (denied) {
        /* To hold n, nobody may refuse to share it. */
        qcow2_error_named(errp, name, QCOW2_ERROR_IN_USE, NULL, 0,
                          "in use by a running QEMU (another opener does not "
                          "share the \"%s\" permission, lock byte %d%s); "
                          "stop the VM or use --dry-run",
                          perm_names[n], QCOW2_LOCK_SHARED_BASE + n, who);
    } else {
        /* To refuse n to others, nobody may hold it. */
        qcow2_error_named(errp, name, QCOW2_ERROR_IN_USE, NULL, 0,
                          "in use by a running QEMU (%s lock held, lock byte "
                          "%d%s); stop the VM or use --dry-run",
                          perm_names[n], QCOW2_LOCK_PERM_BASE + n, who);
    }
    return false;
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
