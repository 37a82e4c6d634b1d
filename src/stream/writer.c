/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "writer.h"

#include <string.h>

#include "reader.h"

#define BUF_SIZE (256 * 1024)

struct VmsBuilder {
    VmsSinkFn sink;
    void *opaque;
    uint8_t *buf;
    size_t used;
    uint64_t flushed;
    GError *error;
    char *last_block;   /* for CONTINUE */
    GByteArray *memory; /* vms_builder_new_memory(): appended to directly */
};

static bool bytes_sink(void *opaque, const void *data, size_t len,
                       GError **errp)
{
    (void)errp;
    g_byte_array_append(opaque, data, (guint)len);
    return true;
}

VmsBuilder *vms_builder_new(VmsSinkFn sink, void *opaque)
{
    VmsBuilder *b = g_new0(VmsBuilder, 1);
    b->sink = sink;
    b->opaque = opaque;
    b->buf = g_malloc(BUF_SIZE);
    return b;
}

VmsBuilder *vms_builder_new_bytes(GByteArray *out)
{
    return vms_builder_new(bytes_sink, out);
}

VmsBuilder *vms_builder_new_memory(void)
{
    VmsBuilder *b = g_new0(VmsBuilder, 1);
    b->memory = g_byte_array_new();
    return b;
}

GBytes *vms_builder_free_to_bytes(VmsBuilder *b)
{
    GBytes *bytes = g_byte_array_free_to_bytes(b->memory);

    b->memory = NULL;
    vms_builder_free(b);
    return bytes;
}

static void flush(VmsBuilder *b)
{
    if (b->used && !b->error) {
        b->sink(b->opaque, b->buf, b->used, &b->error);
    }
    b->flushed += b->used;
    b->used = 0;
}

void vms_builder_bytes(VmsBuilder *b, const void *data, size_t len)
{
    const uint8_t *p = data;

    if (b->memory) {
        g_byte_array_append(b->memory, data, (guint)len);
        return;
    }
    if (b->error) {
        b->flushed += len;
        return;
    }
    if (len >= BUF_SIZE) {
        flush(b);
        if (!b->error) {
            b->sink(b->opaque, data, len, &b->error);
        }
        b->flushed += len;
        return;
    }
    while (len) {
        size_t n = MIN(len, BUF_SIZE - b->used);
        memcpy(b->buf + b->used, p, n);
        b->used += n;
        p += n;
        len -= n;
        if (b->used == BUF_SIZE) {
            flush(b);
        }
    }
}

bool vms_builder_finish(VmsBuilder *b, GError **errp)
{
    flush(b);
    if (b->error) {
        g_propagate_error(errp, b->error);
        b->error = NULL;
        return false;
    }
    return true;
}

void vms_builder_free(VmsBuilder *b)
{
    if (!b) {
        return;
    }
    g_clear_error(&b->error);
    g_free(b->last_block);
    g_free(b->buf);
    if (b->memory) {
        g_byte_array_unref(b->memory);
    }
    g_free(b);
}

uint64_t vms_builder_offset(const VmsBuilder *b)
{
    return b->memory ? b->memory->len : b->flushed + b->used;
}

void vms_builder_u8(VmsBuilder *b, uint8_t v)
{
    vms_builder_bytes(b, &v, 1);
}

void vms_builder_be16(VmsBuilder *b, uint16_t v)
{
    uint8_t p[2];
    vms_put_be16(p, v);
    vms_builder_bytes(b, p, sizeof(p));
}

void vms_builder_be32(VmsBuilder *b, uint32_t v)
{
    uint8_t p[4];
    vms_put_be32(p, v);
    vms_builder_bytes(b, p, sizeof(p));
}

void vms_builder_be64(VmsBuilder *b, uint64_t v)
{
    uint8_t p[8];
    vms_put_be64(p, v);
    vms_builder_bytes(b, p, sizeof(p));
}

void vms_builder_string8(VmsBuilder *b, const char *s)
{
    size_t len = strlen(s);
    g_assert(len <= 255);
    vms_builder_u8(b, (uint8_t)len);
    vms_builder_bytes(b, s, len);
}

void vms_builder_string32(VmsBuilder *b, const char *s)
{
    size_t len = strlen(s);
    vms_builder_be32(b, (uint32_t)len);
    vms_builder_bytes(b, s, len);
}

void vms_builder_header(VmsBuilder *b)
{
    vms_builder_be32(b, VMS_FILE_MAGIC);
    vms_builder_be32(b, VMS_FILE_VERSION);
}

void vms_builder_configuration(VmsBuilder *b, const char *machine)
{
    vms_builder_u8(b, VMS_CONFIGURATION);
    vms_builder_string32(b, machine);
}

void vms_builder_section(VmsBuilder *b, VmsRecordType type, uint32_t section_id,
                         const char *idstr, uint32_t instance, uint32_t version)
{
    vms_builder_u8(b, (uint8_t)type);
    vms_builder_be32(b, section_id);
    if (type == VMS_SECTION_START || type == VMS_SECTION_FULL) {
        vms_builder_string8(b, idstr);
        vms_builder_be32(b, instance);
        vms_builder_be32(b, version);
    }
}

void vms_builder_footer(VmsBuilder *b, uint32_t section_id)
{
    vms_builder_u8(b, VMS_SECTION_FOOTER);
    vms_builder_be32(b, section_id);
}

void vms_builder_subsection(VmsBuilder *b, const char *name, uint32_t version)
{
    vms_builder_u8(b, VMS_SUBSECTION);
    vms_builder_string8(b, name);
    vms_builder_be32(b, version);
}

void vms_builder_eof(VmsBuilder *b)
{
    vms_builder_u8(b, VMS_EOF);
}

void vms_builder_vmdesc(VmsBuilder *b, const char *json, size_t len)
{
    vms_builder_u8(b, VMS_VMDESCRIPTION);
    vms_builder_be32(b, (uint32_t)len);
    vms_builder_bytes(b, json, len);
}

void vms_builder_ram_mem_size(VmsBuilder *b, const VmsBlockSpec *blocks,
                              guint n)
{
    uint64_t total = 0;
    for (guint i = 0; i < n; i++) {
        total += blocks[i].length;
    }
    vms_builder_be64(b, total | VMS_RAM_MEM_SIZE);
    for (guint i = 0; i < n; i++) {
        vms_builder_string8(b, blocks[i].id);
        vms_builder_be64(b, blocks[i].length);
    }
}

void vms_builder_ram_header(VmsBuilder *b, const char *block, uint64_t addr,
                            uint64_t flags)
{
    vms_builder_be64(b, addr | flags);
    if (!(flags & VMS_RAM_CONTINUE)) {
        vms_builder_string8(b, block);
    }
    if (!b->last_block || strcmp(b->last_block, block)) {
        g_free(b->last_block);
        b->last_block = g_strdup(block);
    }
}

void vms_builder_ram_record(VmsBuilder *b, const char *block, uint64_t addr,
                            unsigned flags, const uint8_t *data)
{
    vms_builder_ram_header(b, block, addr, flags);
    vms_builder_bytes(b, data, (flags & VMS_RAM_PAGE) ? VMS_PAGE_SIZE : 1);
}

static unsigned continue_flag(VmsBuilder *b, const char *block)
{
    return b->last_block && !strcmp(b->last_block, block) ? VMS_RAM_CONTINUE
                                                          : 0;
}

void vms_builder_ram_page(VmsBuilder *b, const char *block, uint64_t addr,
                          const uint8_t *data)
{
    vms_builder_ram_record(b, block, addr,
                           VMS_RAM_PAGE | continue_flag(b, block), data);
}

void vms_builder_ram_fill(VmsBuilder *b, const char *block, uint64_t addr,
                          uint8_t fill)
{
    vms_builder_ram_record(b, block, addr,
                           VMS_RAM_FILL | continue_flag(b, block), &fill);
}

void vms_builder_ram_eos(VmsBuilder *b)
{
    vms_builder_be64(b, VMS_RAM_EOS);
}

void vms_builder_block_eos(VmsBuilder *b)
{
    vms_builder_be64(b, 0x2);
}

/* ---- serialising --------------------------------------------------------- */

static void payload(VmsBuilder *b, GBytes *bytes)
{
    gsize len = 0;
    const void *data = bytes ? g_bytes_get_data(bytes, &len) : NULL;
    vms_builder_bytes(b, data, len);
}

static bool write_ram(const VmsStream *s, const VmsSection *sec, VmsReader *r,
                      VmsBuilder *b, GError **errp)
{
    if (sec->ram.has_mem_size) {
        vms_builder_be64(b, sec->ram.mem_size_total | VMS_RAM_MEM_SIZE);
        for (guint i = 0; i < s->ram_blocks->len; i++) {
            const VmsRamBlock *blk = vms_stream_block(s, i);
            vms_builder_string8(b, blk->id);
            vms_builder_be64(b, blk->length);
        }
    }
    if (sec->ram.n_pages && !s->pages) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_INVALID,
                    "%s: page records were not kept (parse with "
                    "VMS_PARSE_RECORD_PAGES to write the stream)",
                    s->name);
        return false;
    }
    for (guint i = 0; i < sec->ram.n_pages; i++) {
        const VmsPage *pg =
            &g_array_index(s->pages, VmsPage, sec->ram.first_page + i);
        const char *id = vms_stream_block(s, pg->block)->id;
        const uint8_t *data = &pg->fill;

        if (pg->flags & VMS_RAM_PAGE) {
            vms_reader_seek(r, vms_page_data_offset(s, pg));
            data = vms_reader_peek(r, VMS_PAGE_SIZE, errp);
            if (!data) {
                g_prefix_error(errp, "%s: page data: ", s->name);
                return false;
            }
        }
        vms_builder_ram_record(b, id, pg->addr, pg->flags, data);
    }
    if (sec->ram.has_eos) {
        vms_builder_be64(b, sec->ram.eos_word);
    }
    return true;
}

bool vms_stream_write(const VmsStream *s, VmsSource *src, VmsBuilder *b,
                      GError **errp)
{
    VmsReader r;
    bool ok = true;

    if (s->tail_path) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_INVALID,
                    "%s: parsed by the tail path; RAM pages were not walked",
                    s->name);
        return false;
    }
    vms_reader_init(&r, src);
    vms_builder_be32(b, VMS_FILE_MAGIC);
    vms_builder_be32(b, s->file_version);
    for (guint i = 0; ok && i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        switch (sec->type) {
        case VMS_CONFIGURATION:
            vms_builder_u8(b, VMS_CONFIGURATION);
            payload(b, sec->payload);
            continue;
        case VMS_COMMAND:
            vms_builder_u8(b, VMS_COMMAND);
            vms_builder_be16(b, sec->command);
            vms_builder_be16(b, (uint16_t)sec->payload_len);
            payload(b, sec->payload);
            continue;
        default:
            break;
        }
        vms_builder_section(b, sec->type, sec->section_id, sec->idstr,
                            sec->instance_id, sec->version_id);
        if (sec->kind == VMS_KIND_RAM) {
            ok = write_ram(s, sec, &r, b, errp);
        } else {
            payload(b, sec->payload);
        }
        if (sec->has_footer) {
            vms_builder_footer(b, sec->section_id);
        }
    }
    if (ok && s->has_eof) {
        vms_builder_eof(b);
    }
    if (ok && s->has_vmdesc) {
        vms_builder_vmdesc(b, s->vmdesc_json, s->vmdesc_len);
    }
    if (ok) {
        payload(b, s->trailer);
    }
    vms_reader_cleanup(&r);
    return ok;
}
