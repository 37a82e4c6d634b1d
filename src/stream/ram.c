/*
 * The live "ram" and "block" section payloads.
 *
 * A ram payload is a sequence of be64 (offset | flags) records ending with
 * EOS. MEM_SIZE carries the block list; page records name their block
 * unless CONTINUE says "same block as the previous page", a state that
 * carries across sections (QEMU's loaders keep it for the whole stream).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "parser.h"

#include <stdarg.h>
#include <string.h>

#define FLAG_MASK ((uint64_t)VMS_PAGE_SIZE - 1)

static bool ram_error(Parser *p, uint64_t at, VmsErrorCode code, GError **errp,
                      const char *fmt, ...) G_GNUC_PRINTF(5, 6);

static bool ram_error(Parser *p, uint64_t at, VmsErrorCode code, GError **errp,
                      const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(errp, VMS_ERROR, code, "offset 0x%" PRIx64 ": %s", at, msg);
    g_free(msg);
    (void)p;
    return false;
}

/* Did a section parsed before carry the RAM block list? */
static bool earlier_mem_size(const VmsStream *s)
{
    for (guint i = 0; i < s->sections->len; i++) {
        if (vms_stream_section(s, i)->ram.has_mem_size) {
            return true;
        }
    }
    return false;
}

static bool parse_mem_size(Parser *p, VmsSection *sec, uint64_t at,
                           uint64_t total, GError **errp)
{
    VmsReader *r = &p->r;
    VmsStream *s = p->s;
    uint64_t left = total;

    if (s->ram_blocks->len || sec->ram.has_mem_size ||
        earlier_mem_size(s)) {
        /* (an empty first list counts too: the writer keeps one list) */
        return ram_error(p, at, VMS_ERROR_UNSUPPORTED, errp,
                         "a second RAM block list (MEM_SIZE): not written "
                         "by savevm");
    }
    sec->ram.has_mem_size = true;
    sec->ram.mem_size_offset = at;
    sec->ram.mem_size_total = total;
    while (left) {
        VmsRamBlock b = {0};
        uint8_t len;
        const uint8_t *name;

        b.entry_offset = r->pos;
        if (!vms_reader_u8(r, &len, errp)) {
            return false;
        }
        name = vms_reader_peek(r, len, errp);
        if (!name) {
            return false;
        }
        b.id = g_strndup((const char *)name, len);
        r->pos += len;
        b.length_offset = r->pos;
        if (!vms_reader_be64(r, &b.length, errp)) {
            g_free(b.id);
            return false;
        }
        if (!len || strlen(b.id) != len) {
            g_free(b.id);
            return ram_error(p, b.entry_offset, VMS_ERROR_BAD_RAM, errp,
                             "RAM block list: an empty or binary block name");
        }
        if (b.length > left) {
            ram_error(p, b.entry_offset, VMS_ERROR_BAD_RAM, errp,
                      "RAM block list: block '%s' of 0x%" PRIx64
                      " bytes exceeds what is left of the announced total "
                      "(0x%" PRIx64 " of 0x%" PRIx64 ")",
                      b.id, b.length, left, total);
            g_free(b.id);
            return false;
        }
        if (vms_stream_find_block(s, b.id) >= 0) {
            ram_error(p, b.entry_offset, VMS_ERROR_BAD_RAM, errp,
                      "RAM block list names '%s' twice", b.id);
            g_free(b.id);
            return false;
        }
        left -= b.length;
        g_array_append_val(s->ram_blocks, b);
    }
    sec->ram.mem_size_end = r->pos;
    return true;
}

static bool parse_page(Parser *p, VmsSection *sec, uint64_t at, uint64_t addr,
                       unsigned flags, GError **errp)
{
    VmsReader *r = &p->r;
    VmsStream *s = p->s;
    VmsRamBlock *b;
    int block = p->last_block;
    uint8_t fill = 0;

    if (flags & VMS_RAM_CONTINUE) {
        if (block < 0) {
            return ram_error(p, at, VMS_ERROR_BAD_RAM, errp,
                             "page record says CONTINUE (same block as the "
                             "previous page) but no page came before");
        }
    } else {
        uint8_t len;
        const uint8_t *name;

        if (!vms_reader_u8(r, &len, errp)) {
            return false;
        }
        name = vms_reader_peek(r, len, errp);
        if (!name) {
            return false;
        }
        block = -1;
        for (guint i = 0; i < s->ram_blocks->len; i++) {
            const char *id = vms_stream_block(s, i)->id;
            if (strlen(id) == len && !memcmp(id, name, len)) {
                block = (int)i;
                break;
            }
        }
        if (block < 0) {
            return ram_error(p, at, VMS_ERROR_BAD_RAM, errp,
                             "page for RAM block '%.*s', which the block "
                             "list does not have",
                             (int)len, (const char *)name);
        }
        r->pos += len;
    }
    b = vms_stream_block(s, (guint)block);
    if (addr >= b->length) {
        return ram_error(p, at, VMS_ERROR_BAD_RAM, errp,
                         "page at 0x%" PRIx64 " of RAM block '%s' lies "
                         "beyond its length 0x%" PRIx64,
                         addr, b->id, b->length);
    }
    if (flags & VMS_RAM_FILL) {
        if (!vms_reader_u8(r, &fill, errp)) {
            return false;
        }
        b->fill_pages++;
        b->fill_by_byte[fill]++;
        sec->ram.fill_pages++;
    } else {
        if (!vms_reader_skip(r, VMS_PAGE_SIZE, errp)) {
            return false;
        }
        b->full_pages++;
        sec->ram.full_pages++;
    }
    if (!b->has_pages || addr > b->highest_page) {
        b->highest_page = addr;
    }
    b->has_pages = true;
    p->last_block = block;
    sec->ram.n_pages++;
    if (s->pages) {
        VmsPage pg = {.offset = at,
                      .addr = addr,
                      .block = (uint32_t)block,
                      .flags = (uint16_t)flags,
                      .fill = fill};
        g_array_append_val(s->pages, pg);
    }
    return true;
}

bool vms_parse_ram_payload(Parser *p, VmsSection *sec, GError **errp)
{
    VmsReader *r = &p->r;

    sec->kind = VMS_KIND_RAM;
    sec->ram.first_page = p->s->pages ? p->s->pages->len : 0;
    for (;;) {
        uint64_t at = r->pos;
        uint64_t word, addr;
        unsigned flags;
        const uint8_t *q;

        /* Hot loop: one peek per record, the page data is skipped. */
        q = vms_reader_peek(r, 8, errp);
        if (!q) {
            return false;
        }
        word = vms_be64(q);
        flags = (unsigned)(word & FLAG_MASK);
        addr = word & ~FLAG_MASK;
        if ((flags & (VMS_RAM_PAGE | VMS_RAM_FILL)) &&
            sec->type == VMS_SECTION_START) {
            p->s->first_page_in_start = true;
        }
        if (p->stop_at_pages && (flags & (VMS_RAM_PAGE | VMS_RAM_FILL))) {
            /* Tail path: the head ends where the pages begin. */
            p->stopped = true;
            p->stop_offset = at;
            return true;
        }
        r->pos += 8;
        switch (flags & ~(unsigned)VMS_RAM_CONTINUE) {
        case VMS_RAM_MEM_SIZE:
            if (!parse_mem_size(p, sec, at, addr, errp)) {
                return false;
            }
            break;
        case VMS_RAM_FILL:
        case VMS_RAM_PAGE:
            if (!parse_page(p, sec, at, addr, flags, errp)) {
                return false;
            }
            break;
        case VMS_RAM_EOS:
            sec->ram.has_eos = true;
            sec->ram.eos_offset = at;
            sec->ram.eos_word = word;
            sec->payload_len = r->pos - sec->payload_offset;
            return true;
        case VMS_RAM_XBZRLE:
            return ram_error(p, at, VMS_ERROR_UNSUPPORTED, errp,
                             "XBZRLE-encoded page: savevm never writes "
                             "these (a live-migration stream?)");
        case VMS_RAM_COMPRESS_PAGE:
            return ram_error(p, at, VMS_ERROR_UNSUPPORTED, errp,
                             "zlib-compressed page (multi-thread "
                             "compression): savevm never writes these");
        case VMS_RAM_HOOK:
            return ram_error(p, at, VMS_ERROR_UNSUPPORTED, errp,
                             "RAM hook record (RDMA migration): not in a "
                             "savevm stream");
        default:
            return ram_error(p, at, VMS_ERROR_BAD_RAM, errp,
                             "RAM record flags 0x%x are not a known "
                             "combination",
                             flags);
        }
    }
}

/* Block migration: be64 (sector << 9 | flags) records, EOS-terminated. */
enum {
    BLK_DEVICE_BLOCK = 0x01,
    BLK_EOS = 0x02,
    BLK_PROGRESS = 0x04,
    BLK_ZERO_BLOCK = 0x08,
};
#define BLK_CHUNK ((uint64_t)1 << 20)

bool vms_parse_block_payload(Parser *p, VmsSection *sec, GError **errp)
{
    VmsReader *r = &p->r;

    sec->kind = VMS_KIND_BLOCK;
    for (;;) {
        uint64_t at = r->pos, word;
        unsigned flags;

        if (!vms_reader_be64(r, &word, errp)) {
            return false;
        }
        flags = (unsigned)(word & 0x1ff);
        if (flags & BLK_EOS) {
            sec->payload_len = r->pos - sec->payload_offset;
            return true;
        }
        if (flags & BLK_DEVICE_BLOCK) {
            uint8_t len;
            if (!vms_reader_u8(r, &len, errp) ||
                !vms_reader_skip(r, len, errp)) {
                return false;
            }
            if (!(flags & BLK_ZERO_BLOCK) &&
                !vms_reader_skip(r, BLK_CHUNK, errp)) {
                return false;
            }
        } else if (!(flags & BLK_PROGRESS)) {
            return ram_error(p, at, VMS_ERROR_BAD_RECORD, errp,
                             "block migration record flags 0x%x are not "
                             "known",
                             flags);
        }
    }
}
