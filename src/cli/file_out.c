/*
 * Writing output files: every byte or a one-line error, and files that
 * appear complete or not at all (a temporary beside the target, renamed
 * into place once written). A target that exists and is not a regular
 * file (/dev/null, a FIFO, a tape) is written in place instead: renaming
 * over it would replace the device node with an ordinary file.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
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

static bool write_in_place(const char *path, QsnapfixFileWriter write_fn,
                           void *opaque, GError **errp)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    bool ok;

    if (fd < 0) {
        set_file_error(errp, errno, path, "cannot open");
        return false;
    }
    ok = write_fn(fd, path, opaque, errp);
    if (close(fd) < 0 && ok) {
        set_file_error(errp, errno, path, "cannot write");
        ok = false;
    }
    return ok;
}

bool qsnapfix_write_file_atomic(const char *path, bool sync,
                                QsnapfixFileWriter write_fn, void *opaque,
                                GError **errp)
{
    struct stat st;

    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode)) {
            set_file_error(errp, EISDIR, path, "cannot write");
            return false;
        }
        return write_in_place(path, write_fn, opaque, errp);
    }

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
