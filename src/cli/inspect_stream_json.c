/*
 * The JSON form of qsnapfix inspect --snapshot/--stream (docs/json.md).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "app/inspect.h"
#include "fix.h"
#include "inspect_stream.h"

static void add_blocks(JsonBuilder *b, const VmsStream *s)
{
    qsnapfix_json_begin_array(b, "ram_blocks");
    for (guint i = 0; i < s->ram_blocks->len; i++) {
        const VmsRamBlock *blk = vms_stream_block(s, i);
        json_builder_begin_object(b);
        qsnapfix_json_str(b, "id", blk->id);
        qsnapfix_json_int(b, "length", (int64_t)blk->length);
        qsnapfix_json_int(b, "entry_offset", (int64_t)blk->entry_offset);
        qsnapfix_json_int(b, "length_offset", (int64_t)blk->length_offset);
        if (!s->tail_path) {
            qsnapfix_json_int(b, "full_pages", (int64_t)blk->full_pages);
            qsnapfix_json_int(b, "fill_pages", (int64_t)blk->fill_pages);
            qsnapfix_json_begin_object(b, "fill_bytes");
            for (unsigned v = 0; v < 256; v++) {
                if (blk->fill_by_byte[v]) {
                    char key[8];
                    g_snprintf(key, sizeof(key), "%u", v);
                    qsnapfix_json_int(b, key, (int64_t)blk->fill_by_byte[v]);
                }
            }
            json_builder_end_object(b);
            json_builder_set_member_name(b, "highest_page");
            if (blk->has_pages) {
                json_builder_add_int_value(b, (int64_t)blk->highest_page);
            } else {
                json_builder_add_null_value(b);
            }
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static const char *kind_name(VmsSectionKind k)
{
    static const char *const names[] = {
        [VMS_KIND_DEVICE] = "device",
        [VMS_KIND_RAM] = "ram",
        [VMS_KIND_BLOCK] = "block",
        [VMS_KIND_OPAQUE] = "opaque",
        [VMS_KIND_CONFIGURATION] = "configuration",
        [VMS_KIND_COMMAND] = "command",
    };
    return names[k];
}

static const char *type_name(VmsRecordType t)
{
    switch (t) {
    case VMS_SECTION_START:
        return "start";
    case VMS_SECTION_PART:
        return "part";
    case VMS_SECTION_END:
        return "end";
    case VMS_SECTION_FULL:
        return "full";
    case VMS_CONFIGURATION:
        return "configuration";
    case VMS_COMMAND:
        return "command";
    default:
        return "?";
    }
}

typedef struct FieldsCtx {
    JsonBuilder *b;
    const VmsSection *sec;
} FieldsCtx;

static const char *event_kind(VmsFieldEventKind k)
{
    switch (k) {
    case VMS_FIELD_INT:
        return "int";
    case VMS_FIELD_INT_ARRAY:
        return "int_array";
    case VMS_FIELD_BUFFER:
        return "buffer";
    case VMS_FIELD_UNUSED:
        return "unused";
    case VMS_FIELD_STRUCT_BEGIN:
        return "struct";
    case VMS_FIELD_SUBSECTION_BEGIN:
        return "subsection";
    default:
        return "end";
    }
}

static bool fields_visitor(void *opaque, const VmsFieldEvent *ev)
{
    FieldsCtx *c = opaque;
    JsonBuilder *b = c->b;

    if (ev->kind == VMS_FIELD_STRUCT_END ||
        ev->kind == VMS_FIELD_SUBSECTION_END) {
        return true;
    }
    json_builder_begin_object(b);
    qsnapfix_json_str(b, "path", ev->path);
    qsnapfix_json_str(b, "kind", event_kind(ev->kind));
    qsnapfix_json_int(b, "offset", (int64_t)ev->offset);
    qsnapfix_json_int(b, "payload_offset",
                      (int64_t)(ev->offset - c->sec->payload_offset));
    if (ev->kind != VMS_FIELD_STRUCT_BEGIN &&
        ev->kind != VMS_FIELD_SUBSECTION_BEGIN) {
        qsnapfix_json_int(b, "size", (int64_t)ev->size);
    }
    if (ev->kind == VMS_FIELD_INT) {
        qsnapfix_json_int(b, "value", (int64_t)ev->value);
    } else if (ev->kind == VMS_FIELD_SUBSECTION_BEGIN) {
        qsnapfix_json_int(b, "version", ev->version);
    } else if (ev->bytes && ev->size <= 256) {
        g_autoptr(GString) hex = g_string_new(NULL);
        for (uint64_t i = 0; i < ev->size; i++) {
            g_string_append_printf(hex, "%02x", ev->bytes[i]);
        }
        qsnapfix_json_str(b, "hex", hex->str);
    }
    json_builder_end_object(b);
    return true;
}

static void add_ram(JsonBuilder *b, const VmsSection *sec)
{
    const VmsRamSection *r = &sec->ram;

    qsnapfix_json_begin_object(b, "ram");
    if (r->has_mem_size) {
        qsnapfix_json_int(b, "mem_size_offset", (int64_t)r->mem_size_offset);
        qsnapfix_json_int(b, "mem_size_total", (int64_t)r->mem_size_total);
    }
    qsnapfix_json_int(b, "pages", r->n_pages);
    qsnapfix_json_int(b, "full_pages", (int64_t)r->full_pages);
    qsnapfix_json_int(b, "fill_pages", (int64_t)r->fill_pages);
    if (r->has_eos) {
        qsnapfix_json_int(b, "eos_offset", (int64_t)r->eos_offset);
    }
    json_builder_end_object(b);
}

static void add_section(JsonBuilder *b, const VmsStream *s,
                        const VmsSection *sec, const char *fields_of)
{
    g_autofree char *summary = qsnapfix_section_summary(s, sec);
    bool header = sec->type != VMS_CONFIGURATION && sec->type != VMS_COMMAND;

    json_builder_begin_object(b);
    qsnapfix_json_str(b, "type", type_name(sec->type));
    if (header) {
        qsnapfix_json_int(b, "section_id", sec->section_id);
    }
    qsnapfix_json_str(b, "idstr", sec->idstr);
    qsnapfix_json_int(b, "instance", sec->instance_id);
    qsnapfix_json_int(b, "version", sec->version_id);
    qsnapfix_json_int(b, "offset", (int64_t)sec->offset);
    qsnapfix_json_int(b, "size", (int64_t)(sec->end - sec->offset));
    qsnapfix_json_str(b, "kind", kind_name(sec->kind));
    if (sec->section_id_offset) {
        qsnapfix_json_int(b, "section_id_offset",
                          (int64_t)sec->section_id_offset);
    }
    if (sec->idstr_offset) {
        qsnapfix_json_int(b, "idstr_offset", (int64_t)sec->idstr_offset);
        qsnapfix_json_int(b, "instance_offset", (int64_t)sec->instance_offset);
        qsnapfix_json_int(b, "version_offset", (int64_t)sec->version_offset);
    }
    qsnapfix_json_int(b, "payload_offset", (int64_t)sec->payload_offset);
    qsnapfix_json_int(b, "payload_size", (int64_t)sec->payload_len);
    if (sec->has_footer) {
        qsnapfix_json_int(b, "footer_offset", (int64_t)sec->footer_offset);
    }
    if (sec->layout) {
        qsnapfix_json_str(b, "layout", vms_layout_name(sec->layout));
        qsnapfix_json_str(b, "variant", vms_layout_variant(sec->layout));
    }
    qsnapfix_json_bool(b, "located_by_resync", sec->located_by_resync);
    if (sec->subsections && sec->subsections->len) {
        qsnapfix_json_begin_array(b, "subsections");
        for (guint i = 0; i < sec->subsections->len; i++) {
            const VmsSubsection *sub =
                &g_array_index(sec->subsections, VmsSubsection, i);
            json_builder_begin_object(b);
            qsnapfix_json_str(b, "name", sub->name);
            qsnapfix_json_int(b, "offset", (int64_t)sub->offset);
            qsnapfix_json_int(b, "version", sub->version);
            qsnapfix_json_int(b, "payload_offset",
                              (int64_t)sub->payload_offset);
            qsnapfix_json_int(b, "payload_size", (int64_t)sub->payload_len);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
    }
    if (sec->kind == VMS_KIND_RAM) {
        add_ram(b, sec);
    }
    qsnapfix_json_str(b, "summary", summary);
    if (fields_of && app_section_matches(sec, fields_of) && sec->layout) {
        FieldsCtx c = {.b = b, .sec = sec};
        qsnapfix_json_begin_array(b, "fields");
        vms_section_walk(sec, fields_visitor, &c, NULL);
        json_builder_end_array(b);
    }
    json_builder_end_object(b);
}

JsonNode *qsnapfix_stream_json(const VmsStream *s, const VmsWriterInfo *w,
                               const StreamInspectOptions *o,
                               uint64_t bytes_read, GError **errp)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    guint matched = 0;

    for (guint i = 0; o->sections && i < s->sections->len; i++) {
        matched += app_section_matches(vms_stream_section(s, i), o->sections);
    }
    if (o->sections && !matched) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_NOT_FOUND,
                    "%s: no section named '%s'", s->name, o->sections);
        return NULL;
    }
    json_builder_begin_object(b);
    qsnapfix_json_begin_object(b, "source");
    if (o->stream) {
        qsnapfix_json_str(b, "stream", o->stream);
    } else {
        qsnapfix_json_str(b, "image", o->image);
        qsnapfix_json_str(b, "snapshot", o->snapshot);
    }
    json_builder_end_object(b);
    qsnapfix_json_int(b, "size", (int64_t)s->size);
    qsnapfix_json_begin_object(b, "parse");
    qsnapfix_json_str(b, "path", s->tail_path ? "tail" : "full");
    qsnapfix_json_int(b, "bytes_read", (int64_t)bytes_read);
    qsnapfix_json_int(b, "resynced", s->n_resynced);
    if (s->tail_path) {
        qsnapfix_json_int(b, "skipped_from", (int64_t)s->skipped_from);
        qsnapfix_json_int(b, "skipped_to", (int64_t)s->skipped_to);
    }
    json_builder_end_object(b);
    fix_json_writer(b, w);
    add_blocks(b, s);
    qsnapfix_json_begin_array(b, "sections");
    for (guint i = 0; i < s->sections->len; i++) {
        add_section(b, s, vms_stream_section(s, i), o->sections);
    }
    json_builder_end_array(b);
    qsnapfix_json_int(b, "eof_offset", (int64_t)s->eof_offset);
    json_builder_set_member_name(b, "vmdesc");
    if (s->has_vmdesc) {
        json_builder_begin_object(b);
        qsnapfix_json_int(b, "offset", (int64_t)s->vmdesc_offset);
        qsnapfix_json_int(b, "size", s->vmdesc_len);
        json_builder_end_object(b);
    } else {
        json_builder_add_null_value(b);
    }
    qsnapfix_json_int(b, "trailer_size",
                      s->trailer ? (int64_t)g_bytes_get_size(s->trailer) : 0);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}
