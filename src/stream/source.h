/*
 * Byte sources: where the stream parser gets its bytes from.
 *
 * The stream model never does I/O of its own; it asks a VmsSource for
 * "len bytes at offset". A raw migration file, a buffer in memory and a
 * qcow2 snapshot's VM state (adapter in src/app/io_qcow2.c) all look the same.
 * Read-ahead lives in the parser's reader, not here, so every source
 * profits from it and the statistics below count real fetches.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VMS_SOURCE_H
#define VMS_SOURCE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct VmsSource VmsSource;

typedef struct VmsSourceOps {
    /* Read exactly len bytes at offset (the caller checked the bounds). */
    bool (*read)(VmsSource *src, uint64_t offset, void *buf, size_t len,
                 GError **errp);
    void (*close)(VmsSource *src);
    /* Optional: the bytes are those of a file descriptor from *base on
     * (writers may then copy them in the kernel); -1: they are not. */
    int (*fd)(VmsSource *src, uint64_t *base);
} VmsSourceOps;

struct VmsSource {
    const VmsSourceOps *ops;
    uint64_t size;
    char *name;            /* for messages; owned by the source */
    const uint8_t *mapped; /* all bytes in memory (zero-copy), or NULL */
    void *opaque;          /* implementation data */
    /* Statistics: what went through read() (the tail path is judged by
     * bytes_read). */
    uint64_t bytes_read;
    uint64_t read_calls;
    /* Told after each read, with where it ended (a progress line watches
     * this way); NULL: nobody. */
    void (*on_read)(const VmsSource *src, uint64_t end, void *opaque);
    void *on_read_opaque;
};

/* Borrow len bytes of memory (they must outlive the source). */
VmsSource *vms_source_new_memory(const void *data, size_t len,
                                 const char *name);
/* Keep a reference to bytes. */
VmsSource *vms_source_new_bytes(GBytes *bytes, const char *name);
/* A regular file, read with pread. */
VmsSource *vms_source_open_file(const char *path, GError **errp);
/* Bytes [base, base + size) of fd, read with pread; fd is the source's. */
VmsSource *vms_source_new_fd(int fd, uint64_t base, uint64_t size,
                             const char *name);
/*
 * Standard input: a regular file is read in place; a pipe is spooled to an
 * unlinked temporary file first (the parser needs random access).
 */
VmsSource *vms_source_open_stdin(GError **errp);
/*
 * A source built from callbacks (e.g. a qcow2 snapshot's VM state).
 * name is copied; opaque is passed back through src->opaque.
 */
VmsSource *vms_source_new(const VmsSourceOps *ops, void *opaque, uint64_t size,
                          const char *name);

/* Bounds-checked read that keeps the statistics. */
bool vms_source_read(VmsSource *src, uint64_t offset, void *buf, size_t len,
                     GError **errp);
void vms_source_free(VmsSource *src);
/*
 * The descriptor holding the source's bytes (offset 0 of the source is
 * *base in it), for copy_file_range(); -1 if the source is not one.
 * The descriptor stays the source's.
 */
int vms_source_fd(VmsSource *src, uint64_t *base);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmsSource, vms_source_free)

G_END_DECLS

#endif
