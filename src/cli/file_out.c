/*
 * Writing output files: every byte or a one-line error, and files that
 * appear complete or not at all (a temporary beside the target, renamed
 * into place once written).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "cli.h"

static void set_file_error(GError **errp, int e, const char *path,
                           const char *what)
{
    g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(e), "%s: %s: %s",
                path, what, g_strerror(e));
}

bool qsnapfix_write_all(int fd, const void *buf, size_t len, const char *path,
                        GError **errp)
{
    const uint8_t *p = buf;

    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            set_file_error(errp, n < 0 ? errno : ENOSPC, path, "cannot write");
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

bool qsnapfix_write_file_atomic(const char *path, bool sync,
                                QsnapfixFileWriter write_fn, void *opaque,
                                GError **errp)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *tmp = g_strdup_printf("%s/.%s.qsnapfix-XXXXXX", dir, base);
    int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0644);
    bool ok;

    if (fd < 0) {
        int e = errno;
        g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(e),
                    "%s: cannot create a file in %s: %s", path, dir,
                    g_strerror(e));
        return false;
    }
    ok = write_fn(fd, path, opaque, errp);
    if (ok && sync && fsync(fd) < 0) {
        set_file_error(errp, errno, path, "cannot write");
        ok = false;
    }
    if (close(fd) < 0 && ok) {
        set_file_error(errp, errno, path, "cannot write");
        ok = false;
    }
    if (ok && rename(tmp, path) < 0) {
        set_file_error(errp, errno, path,
                       "cannot rename the finished file into place");
        ok = false;
    }
    if (!ok) {
        unlink(tmp);
    }
    return ok;
}
