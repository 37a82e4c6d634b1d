/*
 * Raw stream files as sources and sinks (io.h): a file or standard input
 * read in place, bytes in memory; a new file written beside its target
 * and renamed into place, or standard output. Writing streams the old
 * bytes with the edits applied in fixed-size chunks: memory stays bounded
 * whatever the size.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"

/* Small enough for the bytes read to be still in the cache when written. */
#define COPY_CHUNK (256u * 1024)
/* copy_file_range() per call: progress stays visible, signals answered. */
#define KERNEL_CHUNK (64u * 1024 * 1024)

/* ---- sources ---------------------------------------------------------- */

static VmsSource *file_open(AppSource *source, GError **errp)
{
    const char *path = source->opaque;

    return !strcmp(path, "-") ? vms_source_open_stdin(errp)
                              : vms_source_open_file(path, errp);
}

static void file_close(AppSource *source)
{
    g_free(source->opaque);
}

static const AppSourceOps file_source_ops = {
    .open = file_open,
    .close = file_close,
};

AppSource *app_source_file(const char *path)
{
    return app_source_new(&file_source_ops, g_strdup(path), path);
}

static VmsSource *bytes_open(AppSource *source, GError **errp)
{
    return vms_source_new_bytes(source->opaque, source->name);
}

static void bytes_close(AppSource *source)
{
    g_bytes_unref(source->opaque);
}

static const AppSourceOps bytes_source_ops = {
    .open = bytes_open,
    .close = bytes_close,
};

AppSource *app_source_bytes(GBytes *bytes, const char *name)
{
    return app_source_new(&bytes_source_ops, g_bytes_ref(bytes), name);
}

/* ---- writing files ---------------------------------------------------- */

void app_file_error(GError **errp, int e, const char *path, const char *what)
{
    g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(e), "%s: %s: %s",
                path, what, g_strerror(e));
}

static bool write_all(int fd, const void *buf, size_t len, const char *path,
                      GError **errp)
{
    const uint8_t *p = buf;

    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            app_file_error(errp, n < 0 ? errno : ENOSPC, path, "cannot write");
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Fills fd with the file's bytes (path for messages). */
typedef bool (*FileWriter)(int fd, const char *path, void *opaque,
                           GError **errp);

static bool write_in_place(const char *path, FileWriter write_fn, void *opaque,
                           GError **errp)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    bool ok;

    if (fd < 0) {
        app_file_error(errp, errno, path, "cannot open");
        return false;
    }
    ok = write_fn(fd, path, opaque, errp);
    if (close(fd) < 0 && ok) {
        app_file_error(errp, errno, path, "cannot write");
        ok = false;
    }
    return ok;
}

/* See app_sink_file(). */
static bool write_file_atomic(const char *path, bool sync, FileWriter write_fn,
                              void *opaque, GError **errp)
{
    struct stat st;

    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode)) {
            app_file_error(errp, EISDIR, path, "cannot write");
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
        app_file_error(errp, errno, path, "cannot write");
        ok = false;
    }
    if (close(fd) < 0 && ok) {
        app_file_error(errp, errno, path, "cannot write");
        ok = false;
    }
    if (ok && rename(tmp, path) < 0) {
        app_file_error(errp, errno, path,
                       "cannot rename the finished file into place");
        ok = false;
    }
    if (!ok) {
        unlink(tmp);
    }
    return ok;
}

bool app_write_cancelled(const AppWrite *w, const char *path, GError **errp)
{
    if (!w->cancel || !*w->cancel) {
        return false;
    }
    g_set_error(errp, QCOW2_ERROR, QCOW2_ERROR_CANCELLED,
                "%s: interrupted before the new file was complete", path);
    return true;
}

/* ---- the old stream with the edits applied, into a descriptor -------- */

typedef struct Copy {
    const AppWrite *w;
    uint8_t *buf;
    GChecksum *sum; /* NULL: not asked for */
    bool no_kernel; /* copy_file_range() refused these descriptors */
} Copy;

static bool put(Copy *c, int fd, const char *path, const void *data, size_t len,
                GError **errp)
{
    if (c->sum) {
        g_checksum_update(c->sum, data, len);
    }
    return write_all(fd, data, len, path, errp);
}

/*
 * Start writing the file's dirty pages to the disk without waiting: the
 * fsync at the end then finds most of them written (cp && sync writes
 * only once the copy is done, and so waits for all of it).
 */
static void start_writeback(int fd)
{
#ifdef SYNC_FILE_RANGE_WRITE
    (void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd;
#endif
}

/*
 * Copy [from, to) in the kernel when the old bytes are a file's and fd is
 * one (as cp does; a reflink where the file system shares extents). Stops
 * early, *from where it got, when the kernel cannot: the caller copies the
 * rest itself.
 */
static bool copy_in_kernel(Copy *c, uint64_t *from, uint64_t to, int fd,
                           const char *path, GError **errp)
{
    uint64_t base;
    int in = c->sum || c->no_kernel ? -1 : vms_source_fd(c->w->old, &base);

    while (in >= 0 && *from < to) {
        loff_t at = (loff_t)(base + *from);

        if (app_write_cancelled(c->w, path, errp)) {
            return false;
        }
        size_t n = (size_t)MIN((uint64_t)KERNEL_CHUNK, to - *from);
        ssize_t done = copy_file_range(in, &at, fd, NULL, n, 0);

        if (done < 0 && errno == EINTR) {
            continue;
        }
        if (done < 0 &&
            (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
             errno == EOPNOTSUPP || errno == EBADF || errno == EPERM)) {
            c->no_kernel = true; /* a pipe, another file system, ... */
            return true;
        }
        if (done <= 0) {
            app_file_error(errp, done < 0 ? errno : EIO, path,
                           done < 0 ? "cannot write"
                                    : "cannot write (the source is shorter)");
            return false;
        }
        *from += (uint64_t)done;
        start_writeback(fd);
    }
    return true;
}

static bool copy_range(Copy *c, uint64_t from, uint64_t to, int fd,
                       const char *path, GError **errp)
{
    if (!copy_in_kernel(c, &from, to, fd, path, errp)) {
        return false;
    }
    while (from < to) {
        size_t n = (size_t)MIN((uint64_t)COPY_CHUNK, to - from);
        if (app_write_cancelled(c->w, path, errp) ||
            !vms_source_read(c->w->old, from, c->buf, n, errp) ||
            !put(c, fd, path, c->buf, n, errp)) {
            return false;
        }
        from += n;
    }
    return true;
}

static bool write_edited(int fd, const char *path, void *opaque, GError **errp)
{
    Copy *c = opaque;
    const GArray *edits = c->w->edits;
    uint64_t pos = 0;

    for (guint i = 0; edits && i < edits->len; i++) {
        const TrEdit *e = &g_array_index(edits, TrEdit, i);
        gsize len;
        const uint8_t *data = g_bytes_get_data(e->data, &len);

        if (!copy_range(c, pos, e->offset, fd, path, errp) ||
            (len && !put(c, fd, path, data, len, errp))) {
            return false;
        }
        pos = e->offset + e->old_length;
    }
    return copy_range(c, pos, c->w->old->size, fd, path, errp);
}

bool app_write_edited(int fd, const char *path, const AppWrite *w,
                      GError **errp)
{
    g_autofree uint8_t *buf = g_malloc(COPY_CHUNK);
    Copy c = {.w = w, .buf = buf};

    return write_edited(fd, path, &c, errp);
}

bool app_write_all(int fd, const void *buf, size_t len, const char *path,
                   GError **errp)
{
    return write_all(fd, buf, len, path, errp);
}

/* ---- the file sink ---------------------------------------------------- */

typedef struct FileSink {
    char *path; /* NULL: standard output, or fd */
    bool sync;
    int fd; /* for a descriptor sink; else -1 */
} FileSink;

static bool file_write(AppSink *sink, const AppWrite *w, AppWriteStats *st,
                       GError **errp)
{
    FileSink *f = sink->opaque;
    g_autofree uint8_t *buf = NULL;
    Copy c = {.w = w};
    struct stat target;
    bool ok, in_place_write;

    if (w->dry_run) { /* nothing to plan: a new file is all new bytes */
        return true;
    }
    in_place_write =
        !f->path || (stat(f->path, &target) == 0 && !S_ISREG(target.st_mode));
    buf = g_malloc(COPY_CHUNK);
    c.buf = buf;
    c.sum = w->want_sha256 ? g_checksum_new(G_CHECKSUM_SHA256) : NULL;
    if (!f->path) {
        ok = write_edited(f->fd >= 0 ? f->fd : STDOUT_FILENO, sink->name, &c,
                          errp);
    } else {
        ok = write_file_atomic(f->path, f->sync, write_edited, &c, errp);
    }
    st->wrote = ok;
    /* A failure leaves the old file (the new one is written beside it and
     * removed), unless the sink wrote in place (stdout, a device). */
    st->end = ok               ? APP_WRITE_COMMITTED
              : in_place_write ? APP_WRITE_UNCONFIRMED
                               : APP_WRITE_GIVEN_BACK;
    if (ok && c.sum) {
        st->sha256 = g_strdup(g_checksum_get_string(c.sum));
    }
    g_clear_pointer(&c.sum, g_checksum_free);
    return ok;
}

static VmsSource *file_read_back(AppSink *sink, GError **errp)
{
    FileSink *f = sink->opaque;
    return vms_source_open_file(f->path, errp);
}

static void file_sink_close(AppSink *sink)
{
    FileSink *f = sink->opaque;
    g_free(f->path);
    g_free(f);
}

static const AppSinkOps file_sink_ops = {
    .write = file_write,
    .read_back = file_read_back,
    .close = file_sink_close,
};

static const AppSinkOps stdout_sink_ops = {
    .write = file_write,
    .close = file_sink_close,
};

static AppSink *file_sink(const AppSinkOps *ops, const char *path, bool sync,
                          const char *name)
{
    FileSink *f = g_new0(FileSink, 1);

    f->path = g_strdup(path);
    f->sync = sync;
    f->fd = -1;
    return app_sink_new(ops, f, name);
}

AppSink *app_sink_file(const char *path, bool sync)
{
    AppSink *sink = file_sink(&file_sink_ops, path, sync, path);

    sink->path = g_strdup(path);
    return sink;
}

AppSink *app_sink_stdout(void)
{
    return file_sink(&stdout_sink_ops, NULL, false, "stdout");
}

AppSink *app_sink_fd(int fd, const char *name)
{
    AppSink *sink = file_sink(&stdout_sink_ops, NULL, false, name);

    ((FileSink *)sink->opaque)->fd = fd;
    return sink;
}
