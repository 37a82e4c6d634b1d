/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "reader.h"

#include <string.h>

#include "stream.h"

#define AHEAD_MIN ((size_t)4096)
#define AHEAD_MAX ((size_t)1 << 20)
#define PEEK_MAX  ((size_t)1 << 20)

void vms_reader_init(VmsReader *r, VmsSource *src)
{
    memset(r, 0, sizeof(*r));
    r->src = src;
    r->limit = src->size;
    r->ahead = AHEAD_MIN;
    if (src->mapped) {
        r->data = src->mapped;
        r->data_start = 0;
        r->data_len = src->size;
    }
}

void vms_reader_cleanup(VmsReader *r)
{
    g_free(r->buf);
    r->buf = NULL;
}

void vms_reader_seek(VmsReader *r, uint64_t pos)
{
    r->pos = pos;
}

static bool buffered(const VmsReader *r, uint64_t pos, size_t n)
{
    return pos >= r->data_start && pos - r->data_start <= r->data_len &&
           r->data_len - (pos - r->data_start) >= n;
}

/* Make [pos, pos+n) available in the buffer; pos+n <= limit. */
static bool fill(VmsReader *r, uint64_t pos, size_t n, GError **errp)
{
    bool sequential = r->data_len && pos >= r->data_start &&
                      pos <= r->data_start + r->data_len + AHEAD_MAX;
    size_t want;

    if (r->src->mapped) {
        return true; /* everything is there */
    }
    if (sequential) {
        r->ahead = MIN(r->ahead * 2, AHEAD_MAX);
    } else {
        r->ahead = AHEAD_MIN;
    }
    want = MAX(n, r->ahead);
    if (want > r->limit - pos) {
        want = r->limit - pos;
    }
    if (want > r->buf_cap) {
        g_free(r->buf);
        r->buf_cap = MAX(want, AHEAD_MIN);
        r->buf = g_malloc(r->buf_cap);
        r->data_len = 0;
    }
    /* Keep bytes we already have when the window slides forward. */
    if (r->data == r->buf && buffered(r, pos, 0) && r->data_len) {
        size_t keep = r->data_start + r->data_len - pos;
        memmove(r->buf, r->buf + (pos - r->data_start), keep);
        if (keep < want && !vms_source_read(r->src, pos + keep, r->buf + keep,
                                            want - keep, errp)) {
            r->data_len = 0;
            return false;
        }
    } else if (!vms_source_read(r->src, pos, r->buf, want, errp)) {
        r->data_len = 0;
        return false;
    }
    r->data = r->buf;
    r->data_start = pos;
    r->data_len = want;
    return true;
}

static bool truncated(VmsReader *r, uint64_t n, GError **errp)
{
    g_set_error(errp, VMS_ERROR, VMS_ERROR_TRUNCATED,
                "offset 0x%" PRIx64 ": stream ends after 0x%" PRIx64
                " bytes, %" PRIu64 " more needed (truncated VM state?)",
                r->pos, r->limit, n - vms_reader_left(r));
    return false;
}

const uint8_t *vms_reader_peek(VmsReader *r, size_t n, GError **errp)
{
    g_assert(n <= PEEK_MAX);
    if (vms_reader_left(r) < n) {
        truncated(r, n, errp);
        return NULL;
    }
    if (!buffered(r, r->pos, n) && !fill(r, r->pos, n, errp)) {
        return NULL;
    }
    return r->data + (r->pos - r->data_start);
}

const uint8_t *vms_reader_peek_at(VmsReader *r, uint64_t pos, size_t n)
{
    if (pos > r->limit || r->limit - pos < n || n > PEEK_MAX) {
        return NULL;
    }
    if (!buffered(r, pos, n) && !fill(r, pos, n, NULL)) {
        return NULL;
    }
    return r->data + (pos - r->data_start);
}

bool vms_reader_u8(VmsReader *r, uint8_t *v, GError **errp)
{
    const uint8_t *p = vms_reader_peek(r, 1, errp);
    if (!p) {
        return false;
    }
    *v = p[0];
    r->pos += 1;
    return true;
}

bool vms_reader_be16(VmsReader *r, uint16_t *v, GError **errp)
{
    const uint8_t *p = vms_reader_peek(r, 2, errp);
    if (!p) {
        return false;
    }
    *v = vms_be16(p);
    r->pos += 2;
    return true;
}

bool vms_reader_be32(VmsReader *r, uint32_t *v, GError **errp)
{
    const uint8_t *p = vms_reader_peek(r, 4, errp);
    if (!p) {
        return false;
    }
    *v = vms_be32(p);
    r->pos += 4;
    return true;
}

bool vms_reader_be64(VmsReader *r, uint64_t *v, GError **errp)
{
    const uint8_t *p = vms_reader_peek(r, 8, errp);
    if (!p) {
        return false;
    }
    *v = vms_be64(p);
    r->pos += 8;
    return true;
}

bool vms_reader_read(VmsReader *r, void *dst, uint64_t n, GError **errp)
{
    uint8_t *out = dst;

    if (vms_reader_left(r) < n) {
        return truncated(r, n, errp);
    }
    while (n) {
        size_t chunk = (size_t)MIN(n, (uint64_t)PEEK_MAX);
        const uint8_t *p = vms_reader_peek(r, chunk, errp);
        if (!p) {
            return false;
        }
        memcpy(out, p, chunk);
        out += chunk;
        r->pos += chunk;
        n -= chunk;
    }
    return true;
}

bool vms_reader_skip(VmsReader *r, uint64_t n, GError **errp)
{
    if (vms_reader_left(r) < n) {
        return truncated(r, n, errp);
    }
    r->pos += n;
    return true;
}

GBytes *vms_reader_bytes_at(VmsReader *r, uint64_t offset, uint64_t n,
                            GError **errp)
{
    uint64_t saved = r->pos;
    uint8_t *copy;

    if (r->src->mapped && offset <= r->limit && r->limit - offset >= n) {
        return g_bytes_new(r->src->mapped + offset, n);
    }
    copy = g_malloc(n ? n : 1);
    r->pos = offset;
    if (!vms_reader_read(r, copy, n, errp)) {
        r->pos = saved;
        g_free(copy);
        return NULL;
    }
    r->pos = saved;
    return g_bytes_new_take(copy, n);
}
