/*
 * The report of one migration stream, inspect --snapshot/--stream
 * (docs/json.md): who wrote it, its RAM blocks, every section with its
 * offsets and a one-line summary, and with --sections one device's
 * fields.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "inspect.h"
#include "report.h"
#include "stream/layout.h"

/* ---- one-line summaries -------------------------------------------------- */

typedef struct SummaryCtx {
    GString *out;
    guint ints;
    bool pci_done;
} SummaryCtx;

static bool summary_visitor(void *opaque, const VmsFieldEvent *ev)
{
    SummaryCtx *c = opaque;

    if (ev->kind == VMS_FIELD_BUFFER && !c->pci_done &&
        !strcmp(ev->name, "config") && ev->size >= 256 && ev->bytes) {
        const uint8_t *p = ev->bytes;
        g_string_append_printf(c->out, " pci %02x%02x:%02x%02x class %02x%02x",
                               p[1], p[0], p[3], p[2], p[0xb], p[0xa]);
        c->pci_done = true;
        return true;
    }
    if (ev->kind == VMS_FIELD_SUBSECTION_BEGIN) {
        g_string_append_printf(c->out, " +%s", strrchr(ev->path, '[') + 1);
        g_string_truncate(c->out, c->out->len - 1); /* the ']' */
        return true;
    }
    if (ev->kind != VMS_FIELD_INT || c->ints >= 4 ||
        !strcmp(ev->name, "version_id") || strchr(ev->path, '[')) {
        return true;
    }
    c->ints++;
    g_string_append_printf(c->out, " %s=", ev->name);
    if (ev->is_signed) {
        g_string_append_printf(c->out, "%" PRId64, (int64_t)ev->value);
    } else if (ev->value < 10) {
        g_string_append_printf(c->out, "%" PRIu64, ev->value);
    } else {
        g_string_append_printf(c->out, "0x%" PRIx64, ev->value);
    }
    return true;
}

char *app_section_summary(const VmsStream *s, const VmsSection *sec)
{
    GString *out = g_string_new(NULL);

    switch (sec->kind) {
    case VMS_KIND_RAM: {
        const VmsRamSection *r = &sec->ram;
        if (r->has_mem_size) {
            g_string_append_printf(out, "%u RAM blocks, 0x%" PRIx64 " bytes; ",
                                   s->ram_blocks->len, r->mem_size_total);
        }
        g_string_append_printf(out,
                               "%u pages (%" PRIu64 " full, %" PRIu64 " fill)",
                               r->n_pages, r->full_pages, r->fill_pages);
        if (r->has_eos) {
            g_string_append(out, ", EOS");
        }
        break;
    }
    case VMS_KIND_BLOCK:
        g_string_append_printf(out, "block migration, %" PRIu64 " bytes%s",
                               sec->payload_len,
                               sec->payload_len == 8 ? " (EOS only)" : "");
        break;
    case VMS_KIND_OPAQUE:
        g_string_append(out, "not understood: located by resync, never "
                             "edited");
        break;
    case VMS_KIND_CONFIGURATION: {
        uint32_t len = 0;
        const char *name = vms_section_machine(sec, &len);
        g_string_append_printf(out, "machine %.*s", (int)len, name ? name : "");
        break;
    }
    case VMS_KIND_COMMAND:
        g_string_append_printf(out, "command %u, %" PRIu64 " bytes",
                               sec->command, sec->payload_len);
        break;
    case VMS_KIND_DEVICE: {
        SummaryCtx c = {.out = out};
        const char *variant = vms_layout_variant(sec->layout);
        g_string_append(out, vms_layout_name(sec->layout));
        if (variant) {
            g_string_append_printf(out, " (%s)", variant);
        }
        g_string_append_c(out, ':');
        vms_section_walk(sec, summary_visitor, &c, NULL);
        break;
    }
    }
    return g_string_free(out, FALSE);
}

/* ---- JSON -------------------------------------------------------------- */

static void add_blocks(QjValue *o, const VmsStream *s)
{
    QjValue *blocks = qj_set_array(o, "ram-blocks");

    for (guint i = 0; i < s->ram_blocks->len; i++) {
        const VmsRamBlock *blk = vms_stream_block(s, i);
        QjValue *b = qj_append_object(blocks);
        qj_set_str(b, "id", blk->id);
        qj_set_uint(b, "length", blk->length);
        qj_set_uint(b, "entry-offset", blk->entry_offset);
        qj_set_uint(b, "length-offset", blk->length_offset);
        if (!s->tail_path) {
            QjValue *fill;
            qj_set_uint(b, "full-pages", blk->full_pages);
            qj_set_uint(b, "fill-pages", blk->fill_pages);
            fill = qj_set_object(b, "fill-bytes");
            for (unsigned v = 0; v < 256; v++) {
                if (blk->fill_by_byte[v]) {
                    char key[8];
                    g_snprintf(key, sizeof(key), "%u", v);
                    qj_set_int(fill, key, (int64_t)blk->fill_by_byte[v]);
                }
            }
            if (blk->has_pages) {
                qj_set_uint(b, "highest-page", blk->highest_page);
            } else {
                qj_set_null(b, "highest-page");
            }
        }
    }
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
    QjValue *fields; /* array */
    const VmsSection *sec;
} FieldsCtx;

static const char *event_kind(VmsFieldEventKind k)
{
    switch (k) {
    case VMS_FIELD_INT:
        return "int";
    case VMS_FIELD_INT_ARRAY:
        return "int-array";
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
    QjValue *b;

    if (ev->kind == VMS_FIELD_STRUCT_END ||
        ev->kind == VMS_FIELD_SUBSECTION_END) {
        return true;
    }
    b = qj_append_object(c->fields);
    qj_set_str(b, "path", ev->path);
    qj_set_str(b, "kind", event_kind(ev->kind));
    qj_set_uint(b, "offset", ev->offset);
    qj_set_uint(b, "payload-offset", (ev->offset - c->sec->payload_offset));
    if (ev->kind != VMS_FIELD_STRUCT_BEGIN &&
        ev->kind != VMS_FIELD_SUBSECTION_BEGIN) {
        qj_set_uint(b, "size", ev->size);
    }
    if (ev->kind == VMS_FIELD_INT) {
        qj_set_uint(b, "value", ev->value);
    } else if (ev->kind == VMS_FIELD_SUBSECTION_BEGIN) {
        qj_set_int(b, "version", ev->version);
    } else if (ev->bytes && ev->size <= 256) {
        g_autoptr(GString) hex = g_string_new(NULL);
        for (uint64_t i = 0; i < ev->size; i++) {
            g_string_append_printf(hex, "%02x", ev->bytes[i]);
        }
        qj_set_str(b, "hex", hex->str);
    }
    return true;
}

static void add_ram(QjValue *o, const VmsSection *sec)
{
    const VmsRamSection *r = &sec->ram;
    QjValue *b = qj_set_object(o, "ram");

    if (r->has_mem_size) {
        qj_set_uint(b, "mem-size-offset", r->mem_size_offset);
        qj_set_uint(b, "mem-size-total", r->mem_size_total);
    }
    qj_set_int(b, "pages", r->n_pages);
    qj_set_uint(b, "full-pages", r->full_pages);
    qj_set_uint(b, "fill-pages", r->fill_pages);
    if (r->has_eos) {
        qj_set_uint(b, "eos-offset", r->eos_offset);
    }
}

static void add_section(QjValue *sections, const VmsStream *s,
                        const VmsSection *sec, const char *fields_of)
{
    g_autofree char *summary = app_section_summary(s, sec);
    bool header = sec->type != VMS_CONFIGURATION && sec->type != VMS_COMMAND;
    QjValue *b = qj_append_object(sections);

    qj_set_str(b, "type", type_name(sec->type));
    if (header) {
        qj_set_int(b, "section-id", sec->section_id);
    }
    qj_set_str(b, "idstr", sec->idstr);
    qj_set_int(b, "instance", sec->instance_id);
    qj_set_int(b, "version", sec->version_id);
    qj_set_uint(b, "offset", sec->offset);
    qj_set_uint(b, "size", (sec->end - sec->offset));
    qj_set_str(b, "kind", kind_name(sec->kind));
    if (sec->section_id_offset) {
        qj_set_uint(b, "section-id-offset", sec->section_id_offset);
    }
    if (sec->idstr_offset) {
        qj_set_uint(b, "idstr-offset", sec->idstr_offset);
        qj_set_uint(b, "instance-offset", sec->instance_offset);
        qj_set_uint(b, "version-offset", sec->version_offset);
    }
    qj_set_uint(b, "payload-offset", sec->payload_offset);
    qj_set_uint(b, "payload-size", sec->payload_len);
    if (sec->has_footer) {
        qj_set_uint(b, "footer-offset", sec->footer_offset);
    }
    if (sec->layout) {
        qj_set_str(b, "layout", vms_layout_name(sec->layout));
        qj_set_str(b, "variant", vms_layout_variant(sec->layout));
    }
    qj_set_bool(b, "located-by-resync", sec->located_by_resync);
    if (sec->subsections && sec->subsections->len) {
        QjValue *subs = qj_set_array(b, "subsections");
        for (guint i = 0; i < sec->subsections->len; i++) {
            const VmsSubsection *sub =
                &g_array_index(sec->subsections, VmsSubsection, i);
            QjValue *sb = qj_append_object(subs);
            qj_set_str(sb, "name", sub->name);
            qj_set_uint(sb, "offset", sub->offset);
            qj_set_int(sb, "version", sub->version);
            qj_set_uint(sb, "payload-offset", sub->payload_offset);
            qj_set_uint(sb, "payload-size", sub->payload_len);
        }
    }
    if (sec->kind == VMS_KIND_RAM) {
        add_ram(b, sec);
    }
    qj_set_str(b, "summary", summary);
    if (fields_of && app_section_matches(sec, fields_of) && sec->layout) {
        FieldsCtx c = {.fields = qj_set_array(b, "fields"), .sec = sec};
        vms_section_walk(sec, fields_visitor, &c, NULL);
    }
}

QjValue *app_report_stream_source(const char *image, const char *snapshot,
                                  const char *stream)
{
    QjValue *report = app_report_new();
    QjValue *source = qj_set_object(report, "source");

    if (stream) {
        qj_set_str(source, "stream", stream);
    } else {
        qj_set_str(source, "image", image);
        qj_set_str(source, "snapshot", snapshot);
    }
    return report;
}

QjValue *app_report_stream(QjValue *report, const VmsStream *s,
                           const VmsWriterInfo *w, const char *fields_of,
                           uint64_t bytes_read, GError **errp)
{
    g_autoptr(QjValue) b = report;
    QjValue *parse, *sections;
    guint matched = 0;

    for (guint i = 0; fields_of && i < s->sections->len; i++) {
        matched += app_section_matches(vms_stream_section(s, i), fields_of);
    }
    if (fields_of && !matched) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_NOT_FOUND,
                    "%s: no section named '%s'", s->name, fields_of);
        return NULL;
    }
    qj_set_uint(b, "size", s->size);
    parse = qj_set_object(b, "parse");
    qj_set_str(parse, "path", s->tail_path ? "tail" : "full");
    qj_set_uint(parse, "bytes-read", bytes_read);
    qj_set_int(parse, "resynced", s->n_resynced);
    if (s->tail_path) {
        qj_set_uint(parse, "skipped-from", s->skipped_from);
        qj_set_uint(parse, "skipped-to", s->skipped_to);
    }
    app_report_writer(b, w);
    add_blocks(b, s);
    sections = qj_set_array(b, "sections");
    for (guint i = 0; i < s->sections->len; i++) {
        add_section(sections, s, vms_stream_section(s, i), fields_of);
    }
    qj_set_uint(b, "eof-offset", s->eof_offset);
    if (s->has_vmdesc) {
        QjValue *vmdesc = qj_set_object(b, "vmdesc");
        qj_set_uint(vmdesc, "offset", s->vmdesc_offset);
        qj_set_int(vmdesc, "size", s->vmdesc_len);
    } else {
        qj_set_null(b, "vmdesc");
    }
    qj_set_int(b, "trailer-size",
               s->trailer ? (int64_t)g_bytes_get_size(s->trailer) : 0);
    return g_steal_pointer(&b);
}
