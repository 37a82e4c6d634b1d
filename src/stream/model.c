/*
 * The stream model: allocation and queries (no parsing).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "parser.h"

#include <string.h>

VmsStream *vms_stream_new(VmsSource *src)
{
    VmsStream *s = g_new0(VmsStream, 1);
    s->name = g_strdup(src->name);
    s->size = src->size;
    s->sections =
        g_ptr_array_new_with_free_func((GDestroyNotify)vms_section_free);
    s->ram_blocks = g_array_new(FALSE, TRUE, sizeof(VmsRamBlock));
    return s;
}

void vms_section_free(VmsSection *sec)
{
    if (!sec) {
        return;
    }
    g_free(sec->idstr);
    if (sec->payload) {
        g_bytes_unref(sec->payload);
    }
    if (sec->subsections) {
        for (guint i = 0; i < sec->subsections->len; i++) {
            g_free(g_array_index(sec->subsections, VmsSubsection, i).name);
        }
        g_array_free(sec->subsections, TRUE);
    }
    g_free(sec);
}

void vms_stream_free(VmsStream *s)
{
    if (!s) {
        return;
    }
    g_ptr_array_free(s->sections, TRUE);
    for (guint i = 0; i < s->ram_blocks->len; i++) {
        g_free(vms_stream_block(s, i)->id);
    }
    g_array_free(s->ram_blocks, TRUE);
    if (s->pages) {
        g_array_free(s->pages, TRUE);
    }
    g_free(s->vmdesc_json);
    if (s->trailer) {
        g_bytes_unref(s->trailer);
    }
    g_free(s->name);
    g_free(s);
}

const char *vms_record_type_name(VmsRecordType type)
{
    switch (type) {
    case VMS_EOF:
        return "EOF";
    case VMS_SECTION_START:
        return "START";
    case VMS_SECTION_PART:
        return "PART";
    case VMS_SECTION_END:
        return "END";
    case VMS_SECTION_FULL:
        return "FULL";
    case VMS_SUBSECTION:
        return "SUBSECTION";
    case VMS_VMDESCRIPTION:
        return "VMDESCRIPTION";
    case VMS_CONFIGURATION:
        return "CONFIGURATION";
    case VMS_COMMAND:
        return "COMMAND";
    case VMS_SECTION_FOOTER:
        return "FOOTER";
    }
    return "?";
}

char *vms_section_describe(const VmsSection *sec)
{
    if (sec->type == VMS_CONFIGURATION || sec->type == VMS_COMMAND) {
        return g_strdup_printf("%s record at 0x%" PRIx64,
                               vms_record_type_name(sec->type), sec->offset);
    }
    return g_strdup_printf("section %u '%s' (%s at 0x%" PRIx64 ")",
                           sec->section_id, sec->idstr ? sec->idstr : "?",
                           vms_record_type_name(sec->type), sec->offset);
}

const char *vms_section_vmsd_name(const VmsSection *sec)
{
    const char *slash;
    if (!sec->idstr) {
        return "";
    }
    slash = strrchr(sec->idstr, '/');
    return slash ? slash + 1 : sec->idstr;
}

/* ---- queries ------------------------------------------------------------- */

const char *vms_section_machine(const VmsSection *sec, uint32_t *len)
{
    gsize size = 0;
    const uint8_t *p = sec->kind == VMS_KIND_CONFIGURATION && sec->payload
                           ? g_bytes_get_data(sec->payload, &size)
                           : NULL;

    /* be32 length, then the name (the layout walk checked the length) */
    if (!p || size < 4 || vms_be32(p) > size - 4) {
        return NULL;
    }
    *len = vms_be32(p);
    return (const char *)p + 4;
}

char *vms_stream_machine(const VmsStream *s)
{
    for (guint i = 0; i < s->sections->len; i++) {
        uint32_t len;
        const char *name = vms_section_machine(vms_stream_section(s, i), &len);
        if (name) {
            return len ? g_strndup(name, len) : NULL;
        }
    }
    return NULL;
}

VmsSection *vms_stream_find_section(const VmsStream *s, const char *idstr,
                                    int64_t instance)
{
    for (guint i = 0; i < s->sections->len; i++) {
        VmsSection *sec = vms_stream_section(s, i);
        if (sec->idstr && !strcmp(sec->idstr, idstr) &&
            (instance < 0 || sec->instance_id == (uint64_t)instance)) {
            return sec;
        }
    }
    return NULL;
}

int vms_stream_find_block(const VmsStream *s, const char *id)
{
    for (guint i = 0; i < s->ram_blocks->len; i++) {
        if (!strcmp(vms_stream_block(s, i)->id, id)) {
            return (int)i;
        }
    }
    return -1;
}

bool vms_ram_block_has_page_at_or_beyond(const VmsRamBlock *b, uint64_t offset)
{
    return b->has_pages && b->highest_page >= offset;
}

uint64_t vms_page_data_offset(const VmsStream *s, const VmsPage *pg)
{
    uint64_t at = pg->offset + 8;
    if (!(pg->flags & VMS_RAM_CONTINUE)) {
        at += 1 + strlen(vms_stream_block(s, pg->block)->id);
    }
    return at;
}

uint64_t vms_page_record_len(const VmsStream *s, const VmsPage *pg)
{
    uint64_t data = (pg->flags & VMS_RAM_PAGE) ? VMS_PAGE_SIZE : 1;
    return vms_page_data_offset(s, pg) - pg->offset + data;
}

const VmsPage *vms_stream_find_page(const VmsStream *s, guint block,
                                    uint64_t addr)
{
    /* The last record of a page wins, as in a loader. */
    for (guint i = s->pages ? s->pages->len : 0; i-- > 0;) {
        const VmsPage *pg = &g_array_index(s->pages, VmsPage, i);
        if (pg->block == block && pg->addr == addr) {
            return pg;
        }
    }
    return NULL;
}
