/*
 * Is a QEMU holding this image? QEMU (2.10 and later) marks each opener's
 * block permissions with open-file-description (OFD) read locks on the
 * image file: byte 100 + n while it holds permission n, byte 200 + n while
 * it refuses to share n (bits: 0 consistent read, 1 write, 2 write
 * unchanged, 3 resize, 4 graph-mod in QEMU <= 6.1). See
 * qcow2-reference.md §7 and qcow2/lock-ofd.c, which takes these locks for
 * `fix`.
 *
 * A scan must not disturb the VM, so it only asks: F_OFD_GETLK with an
 * exclusive probe on each byte, from a descriptor of its own, and takes
 * nothing. (A classic POSIX lock would even be worse than disturbing: the
 * process would lose it when any descriptor of the file is closed.)
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "scan.h"

#define LOCK_PERM_BASE   100
#define LOCK_SHARED_BASE 200
#define LOCK_BITS        5

enum {
    PERM_WRITE = 1,
    PERM_RESIZE = 3,
};

/* 1 if another open file description holds a lock on byte, 0 if not. */
static int byte_taken(int fd, off_t byte)
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

void scan_probe_locks(const char *path, ScanLocks *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    memset(out, 0, sizeof(*out));
    if (fd < 0) {
        out->error = g_strdup_printf("cannot open: %s", g_strerror(errno));
        return;
    }
    for (int n = 0; n < LOCK_BITS; n++) {
        int held = byte_taken(fd, LOCK_PERM_BASE + n);
        int denied = held < 0 ? held : byte_taken(fd, LOCK_SHARED_BASE + n);

        if (held < 0 || denied < 0) {
            int err = held < 0 ? -held : -denied;
            out->error = g_strdup_printf("cannot probe QEMU's lock bytes: %s",
                                         g_strerror(err));
            close(fd);
            return;
        }
        out->held |= (uint32_t)held << n;
        out->denied |= (uint32_t)denied << n;
    }
    close(fd);
    out->probed = true;
}

bool scan_locks_in_use(const ScanLocks *l)
{
    /*
     * `fix` takes a QEMU writer's locks (holds read, write and resize;
     * shares read and write-unchanged): it conflicts with anyone refusing
     * to share what it holds, or holding what it refuses. A qemu-img -U
     * reader only holds byte 100 and does not count.
     */
    const uint32_t fix_holds = 1u << 0 | 1u << PERM_WRITE | 1u << PERM_RESIZE;
    const uint32_t fix_refuses = 1u << PERM_WRITE | 1u << PERM_RESIZE;

    return l->probed && ((l->denied & fix_holds) || (l->held & fix_refuses));
}

char *scan_locks_bytes_str(const ScanLocks *l)
{
    GString *g = g_string_new(NULL);

    for (int n = 0; n < LOCK_BITS; n++) {
        if (l->held & (1u << n)) {
            g_string_append_printf(g, "%s%d", g->len ? " " : "",
                                   LOCK_PERM_BASE + n);
        }
    }
    for (int n = 0; n < LOCK_BITS; n++) {
        if (l->denied & (1u << n)) {
            g_string_append_printf(g, "%s%d", g->len ? " " : "",
                                   LOCK_SHARED_BASE + n);
        }
    }
    return g_string_free(g, FALSE);
}

void scan_locks_clear(ScanLocks *l)
{
    g_free(l->error);
    l->error = NULL;
}
