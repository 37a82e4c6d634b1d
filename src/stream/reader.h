/*
 * A buffered, bounds-checked cursor over a VmsSource (internal).
 *
 * Read-ahead grows while reads stay sequential (4 KiB up to 1 MiB), so a
 * head-only parse fetches little and a full walk fetches in large blocks.
 * Skips never copy: skipping past the buffer just moves the position.
 * Every failure is a GError naming the stream and the offset.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VMS_READER_H
#define VMS_READER_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "bytes.h"
#include "source.h"

typedef struct VmsReader {
    VmsSource *src;
    uint64_t pos;
    uint64_t limit;      /* reads stop here (normally src->size) */
    const uint8_t *data; /* buffered bytes [data_start, data_start+data_len) */
    uint64_t data_start;
    size_t data_len;
    uint8_t *buf; /* owned buffer (NULL for mapped sources) */
    size_t buf_cap;
    size_t ahead; /* current read-ahead size */
} VmsReader;

void vms_reader_init(VmsReader *r, VmsSource *src);
void vms_reader_cleanup(VmsReader *r);
void vms_reader_seek(VmsReader *r, uint64_t pos);

static inline uint64_t vms_reader_left(const VmsReader *r)
{
    return r->pos < r->limit ? r->limit - r->pos : 0;
}

/*
 * Pointer to n bytes at the position (valid until the next call), or NULL
 * with a TRUNCATED error if the stream ends first. n <= 1 MiB.
 */
const uint8_t *vms_reader_peek(VmsReader *r, size_t n, GError **errp);
/* Like peek, but at pos + skip, and without an error (NULL = not there). */
const uint8_t *vms_reader_peek_at(VmsReader *r, uint64_t pos, size_t n);

bool vms_reader_u8(VmsReader *r, uint8_t *v, GError **errp);
bool vms_reader_be16(VmsReader *r, uint16_t *v, GError **errp);
bool vms_reader_be32(VmsReader *r, uint32_t *v, GError **errp);
bool vms_reader_be64(VmsReader *r, uint64_t *v, GError **errp);
/* Copy n bytes (any size) into dst. */
bool vms_reader_read(VmsReader *r, void *dst, uint64_t n, GError **errp);
/* Move over n bytes without reading them. */
bool vms_reader_skip(VmsReader *r, uint64_t n, GError **errp);
/* A new GBytes with the n bytes at offset. */
GBytes *vms_reader_bytes_at(VmsReader *r, uint64_t offset, uint64_t n,
                            GError **errp);

#endif
