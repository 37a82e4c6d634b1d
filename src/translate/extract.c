/*
 * Bytes out of a stream: a RAM block's content (for ROM, BIOS and flash
 * files) and the edited stream in memory.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "translate.h"

GBytes *tr_extract_block(const VmsStream *s, VmsSource *src, guint block,
                         GError **errp)
{
    const VmsRamBlock *b;
    uint8_t *buf;

    if (block >= s->ram_blocks->len || !s->pages) {
        g_set_error(errp, TR_ERROR, TR_ERROR_INVALID,
                    "%s: no RAM block %u with recorded pages", s->name, block);
        return NULL;
    }
    b = vms_stream_block(s, block);
    if (b->length > TR_EXTRACT_MAX) {
        g_set_error(errp, TR_ERROR, TR_ERROR_STREAM,
                    "%s: RAM block '%s' is too large to extract (0x%" PRIx64
                    " bytes; ROM, BIOS and flash blocks are far smaller)",
                    s->name, b->id, b->length);
        return NULL;
    }
    buf = g_malloc0(b->length ? b->length : 1);
    for (guint i = 0; i < s->pages->len; i++) {
        const VmsPage *pg = &g_array_index(s->pages, VmsPage, i);
        uint64_t n;

        if (pg->block != block || pg->addr >= b->length) {
            continue;
        }
        n = MIN((uint64_t)VMS_PAGE_SIZE, b->length - pg->addr);
        if (pg->flags & VMS_RAM_FILL) {
            memset(buf + pg->addr, pg->fill, n);
        } else if (!vms_source_read(src, vms_page_data_offset(s, pg),
                                    buf + pg->addr, n, errp)) {
            g_free(buf);
            return NULL;
        }
    }
    return g_bytes_new_take(buf, b->length);
}

GBytes *tr_apply_edits(const uint8_t *data, size_t len, const GArray *edits,
                       GError **errp)
{
    GByteArray *out;
    uint64_t pos = 0;

    if (len >= G_MAXUINT / 2) {
        g_set_error(errp, TR_ERROR, TR_ERROR_INVALID,
                    "a stream of 0x%zx bytes is too large to edit in memory",
                    len);
        return NULL;
    }
    out = g_byte_array_sized_new((guint)(len ? len : 1));

    for (guint i = 0; i < edits->len; i++) {
        const TrEdit *e = &g_array_index(edits, TrEdit, i);
        gsize n;
        const uint8_t *p = g_bytes_get_data(e->data, &n);

        if (e->offset < pos || e->offset + e->old_length > len) {
            g_set_error(errp, TR_ERROR, TR_ERROR_INVALID,
                        "edit %u at 0x%" PRIx64 " (+0x%" PRIx64
                        ") overlaps the previous one or ends past 0x%zx",
                        i, e->offset, e->old_length, len);
            g_byte_array_unref(out);
            return NULL;
        }
        g_byte_array_append(out, data + pos, (guint)(e->offset - pos));
        if (n) {
            g_byte_array_append(out, p, (guint)n);
        }
        pos = e->offset + e->old_length;
    }
    g_byte_array_append(out, data + pos, (guint)(len - pos));
    return g_byte_array_free_to_bytes(out);
}
