/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stream.h"

G_DEFINE_QUARK(vms - error - quark, vms_error)

VmsSource *vms_source_new(const VmsSourceOps *ops, void *opaque, uint64_t size,
                          const char *name)
{
    VmsSource *src = g_new0(VmsSource, 1);
    src->ops = ops;
    src->opaque = opaque;
    src->size = size;
    src->name = g_strdup(name ? name : "stream");
    return src;
}

bool vms_source_read(VmsSource *src, uint64_t offset, void *buf, size_t len,
                     GError **errp)
{
    if (offset > src->size || src->size - offset < len) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_TRUNCATED,
                    "read of %zu bytes at 0x%" PRIx64
                    " goes past the end (0x%" PRIx64 ")",
                    len, offset, src->size);
        return false;
    }
    src->bytes_read += len;
    src->read_calls++;
    if (src->mapped) {
        memcpy(buf, src->mapped + offset, len);
    } else if (!src->ops->read(src, offset, buf, len, errp)) {
        return false;
    }
    if (src->on_read) {
        src->on_read(src, offset + len, src->on_read_opaque);
    }
    return true;
}

int vms_source_fd(VmsSource *src, uint64_t *base)
{
    *base = 0;
    return src->ops && src->ops->fd ? src->ops->fd(src, base) : -1;
}

void vms_source_free(VmsSource *src)
{
    if (!src) {
        return;
    }
    if (src->ops && src->ops->close) {
        src->ops->close(src);
    }
    g_free(src->name);
    g_free(src);
}

/* ---- memory -------------------------------------------------------------- */

static void bytes_close(VmsSource *src)
{
    if (src->opaque) {
        g_bytes_unref(src->opaque);
    }
}

static const VmsSourceOps memory_ops = {.close = bytes_close};

VmsSource *vms_source_new_memory(const void *data, size_t len, const char *name)
{
    VmsSource *src = vms_source_new(&memory_ops, NULL, len, name);
    src->mapped = data;
    return src;
}

VmsSource *vms_source_new_bytes(GBytes *bytes, const char *name)
{
    gsize len;
    const void *data = g_bytes_get_data(bytes, &len);
    VmsSource *src = vms_source_new(&memory_ops, g_bytes_ref(bytes), len, name);
    src->mapped = data ? data : (const uint8_t *)"";
    return src;
}

/* ---- file ---------------------------------------------------------------- */

typedef struct FileData {
    int fd;
    uint64_t base; /* the source's offset 0 in the file */
} FileData;

static bool file_read(VmsSource *src, uint64_t offset, void *buf, size_t len,
                      GError **errp)
{
    FileData *fd = src->opaque;
    uint8_t *p = buf;

    while (len) {
        ssize_t n = pread(fd->fd, p, len, (off_t)(fd->base + offset));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            g_set_error(errp, VMS_ERROR, VMS_ERROR_IO,
                        "%s: read at 0x%" PRIx64 " failed: %s", src->name,
                        offset, n < 0 ? g_strerror(errno) : "unexpected end");
            return false;
        }
        p += n;
        offset += (uint64_t)n;
        len -= (size_t)n;
    }
    return true;
}

static void file_close(VmsSource *src)
{
    FileData *fd = src->opaque;
    if (fd->fd >= 0) {
        close(fd->fd);
    }
    g_free(fd);
}

static int file_fd(VmsSource *src, uint64_t *base)
{
    FileData *fd = src->opaque;

    *base = fd->base;
    return fd->fd;
}

static const VmsSourceOps file_ops = {
    .read = file_read, .close = file_close, .fd = file_fd};

static VmsSource *source_from_fd(int fd, const char *name, GError **errp)
{
    struct stat st;

    if (fstat(fd, &st) < 0) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_IO, "%s: %s", name,
                    g_strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_IO,
                    "%s: not a regular file or block device", name);
        close(fd);
        return NULL;
    }
    if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(fd, 0, SEEK_END);
        st.st_size = end < 0 ? 0 : end;
    }
    return vms_source_new_fd(fd, 0, (uint64_t)st.st_size, name);
}

VmsSource *vms_source_new_fd(int fd, uint64_t base, uint64_t size,
                             const char *name)
{
    FileData *data = g_new0(FileData, 1);

    data->fd = fd;
    data->base = base;
    return vms_source_new(&file_ops, data, size, name);
}

VmsSource *vms_source_open_file(const char *path, GError **errp)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_IO, "%s: %s", path,
                    g_strerror(errno));
        return NULL;
    }
    return source_from_fd(fd, path, errp);
}

/* Copy a pipe into an unlinked temporary file: the parser seeks. */
static int spool_stdin(GError **errp)
{
    char tmpl[] = "/tmp/qsnapfix-stdin-XXXXXX";
    int fd = g_mkstemp(tmpl);
    char *buf;

    if (fd < 0) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_IO,
                    "stdin: cannot create a temporary file: %s",
                    g_strerror(errno));
        return -1;
    }
    unlink(tmpl);
    buf = g_malloc(1 << 20);
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, 1 << 20);
        ssize_t done = 0;
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            g_set_error(errp, VMS_ERROR, VMS_ERROR_IO, "stdin: %s",
                        g_strerror(errno));
            goto fail;
        }
        if (n == 0) {
            break;
        }
        while (done < n) {
            ssize_t w = write(fd, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR) {
                continue;
            }
            if (w < 0) {
                g_set_error(errp, VMS_ERROR, VMS_ERROR_IO,
                            "stdin: spooling to a temporary file: %s",
                            g_strerror(errno));
                goto fail;
            }
            done += w;
        }
    }
    g_free(buf);
    return fd;
fail:
    g_free(buf);
    close(fd);
    return -1;
}

VmsSource *vms_source_open_stdin(GError **errp)
{
    struct stat st;
    int fd;

    if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
        fd = dup(STDIN_FILENO);
    } else {
        fd = spool_stdin(errp);
        if (fd < 0) {
            return NULL;
        }
    }
    if (fd < 0) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_IO, "stdin: %s",
                    g_strerror(errno));
        return NULL;
    }
    return source_from_fd(fd, "stdin", errp);
}
