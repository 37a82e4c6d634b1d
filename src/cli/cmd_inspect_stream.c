/*
 * qsnapfix inspect IMAGE --snapshot ID|NAME, qsnapfix inspect --stream
 * FILE: who wrote the stream, its RAM blocks, and every section with its
 * offset, size, version and a one-line summary; --sections=NAME decodes
 * one device field by field.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "app/inspect.h"
#include "app/report.h"
#include "inspect_stream.h"

/* ---- human output -------------------------------------------------------- */

static void print_writer(const VmsWriterInfo *w)
{
    g_autofree char *who = vms_writer_describe(w);

    printf("writer: %s, %s", who, !strcmp(w->accel, "kvm") ? "KVM" : "TCG");
    if (w->machine) {
        printf(", machine %s", w->machine);
    }
    printf("\n");
    for (guint i = 0; i < w->evidence->len; i++) {
        printf("  - %s\n", (char *)g_ptr_array_index(w->evidence, i));
    }
    for (guint i = 0; i < w->machine_hints->len; i++) {
        printf("  machine: %s\n",
               (char *)g_ptr_array_index(w->machine_hints, i));
    }
}

static void print_blocks(const VmsStream *s)
{
    printf("RAM blocks:\n");
    printf("  %-36s %12s %10s %10s  %s\n", "ID", "LENGTH", "FULL", "FILL",
           "FILL BYTES");
    for (guint i = 0; i < s->ram_blocks->len; i++) {
        const VmsRamBlock *b = vms_stream_block(s, i);
        g_autofree char *id = qsnapfix_printable(b->id);
        GString *fills = g_string_new(NULL);
        for (unsigned v = 0; v < 256; v++) {
            if (b->fill_by_byte[v]) {
                g_string_append_printf(fills, "%s0x%02x:%" PRIu64,
                                       fills->len ? " " : "", v,
                                       b->fill_by_byte[v]);
            }
        }
        if (s->tail_path) {
            printf("  %-36s %#12" PRIx64 " %10s %10s\n", id, b->length, "-",
                   "-");
        } else {
            printf("  %-36s %#12" PRIx64 " %10" PRIu64 " %10" PRIu64 "  %s\n",
                   id, b->length, b->full_pages, b->fill_pages, fills->str);
        }
        g_string_free(fills, TRUE);
    }
}

static void print_sections(const VmsStream *s)
{
    printf("Sections:\n");
    printf("  %-10s %-6s %4s %-32s %5s %4s %9s  %s\n", "OFFSET", "TYPE", "ID",
           "IDSTR", "INST", "VER", "SIZE", "SUMMARY");
    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        g_autofree char *idstr =
            qsnapfix_printable(sec->idstr ? sec->idstr : "");
        g_autofree char *summary = app_section_summary(s, sec);
        char id[16] = "-";
        if (sec->type != VMS_CONFIGURATION && sec->type != VMS_COMMAND) {
            g_snprintf(id, sizeof(id), "%u", sec->section_id);
        }
        printf("  0x%08" PRIx64 " %-6s %4s %-32s %5u %4u %9" PRIu64 "  %s\n",
               sec->offset, vms_record_type_name(sec->type), id, idstr,
               sec->instance_id, sec->version_id, sec->end - sec->offset,
               summary);
        if (s->tail_path && sec->end == s->skipped_from) {
            printf("  %-10s (0x%" PRIx64 " bytes of RAM records not read: "
                   "--tail)\n",
                   "...", s->skipped_to - s->skipped_from);
        }
    }
    printf("  0x%08" PRIx64 " EOF\n", s->eof_offset);
    if (s->has_vmdesc) {
        printf("  0x%08" PRIx64 " VM description, %u bytes of JSON\n",
               s->vmdesc_offset, s->vmdesc_len);
    }
    if (s->trailer && g_bytes_get_size(s->trailer)) {
        printf("  0x%08" PRIx64 " %zu bytes after the stream\n",
               s->trailer_offset, g_bytes_get_size(s->trailer));
    }
}

typedef struct DumpCtx {
    const VmsSection *sec;
} DumpCtx;

static void print_bytes(const VmsFieldEvent *ev)
{
    bool zero = true;
    if (!ev->bytes) {
        printf("(%" PRIu64 " bytes)", ev->size);
        return;
    }
    for (uint64_t i = 0; i < ev->size; i++) {
        zero &= ev->bytes[i] == 0;
    }
    if (zero) {
        printf("%" PRIu64 " zero bytes", ev->size);
        return;
    }
    for (uint64_t i = 0; i < MIN(ev->size, (uint64_t)16); i++) {
        printf("%02x", ev->bytes[i]);
    }
    if (ev->size > 16) {
        printf("... (%" PRIu64 " bytes)", ev->size);
    }
}

static bool dump_visitor(void *opaque, const VmsFieldEvent *ev)
{
    DumpCtx *c = opaque;
    int indent = 2 * (int)ev->depth;

    if (ev->kind == VMS_FIELD_STRUCT_END ||
        ev->kind == VMS_FIELD_SUBSECTION_END) {
        return true;
    }
    printf("  0x%08" PRIx64 " +%-6" PRIu64 " %*s", ev->offset,
           ev->offset - c->sec->payload_offset, indent, "");
    switch (ev->kind) {
    case VMS_FIELD_INT:
        printf("%s = %" PRId64, ev->name,
               ev->is_signed ? (int64_t)ev->value : (int64_t)ev->value);
        if (!ev->is_signed || (int64_t)ev->value >= 0) {
            printf(" (0x%" PRIx64 ")", ev->value);
        }
        break;
    case VMS_FIELD_INT_ARRAY:
        printf("%s = [%u x %u-byte] ", ev->name, ev->count, ev->elem_size);
        print_bytes(ev);
        break;
    case VMS_FIELD_BUFFER:
        printf("%s = ", ev->name);
        print_bytes(ev);
        break;
    case VMS_FIELD_UNUSED:
        printf("(%" PRIu64 " unused bytes)", ev->size);
        break;
    case VMS_FIELD_STRUCT_BEGIN:
        printf("%s:", ev->name);
        break;
    case VMS_FIELD_SUBSECTION_BEGIN:
        printf("subsection %s version %u:", ev->name, ev->version);
        break;
    default:
        break;
    }
    printf("\n");
    return true;
}

static int dump_sections(const VmsStream *s, const char *name)
{
    guint found = 0;

    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        DumpCtx c = {.sec = sec};
        g_autoptr(GError) err = NULL;

        if (!app_section_matches(sec, name)) {
            continue;
        }
        found++;
        printf("%ssection %u '%s' instance %u version %u (%s at 0x%" PRIx64
               "), payload %" PRIu64 " bytes at 0x%" PRIx64 ":\n",
               found > 1 ? "\n" : "", sec->section_id, sec->idstr,
               sec->instance_id, sec->version_id,
               vms_record_type_name(sec->type), sec->offset, sec->payload_len,
               sec->payload_offset);
        if (!vms_section_walk(sec, dump_visitor, &c, &err)) {
            printf("  (%s)\n", err->message);
        }
    }
    if (!found) {
        fprintf(stderr, "qsnapfix: %s: no section named '%s'\n", s->name, name);
        return APP_EXIT_NOT_FOUND;
    }
    return APP_EXIT_OK;
}

/* ---- driver -------------------------------------------------------------- */

static QjValue *source_report(const StreamInspectOptions *o)
{
    return app_report_stream_source(o->image, o->snapshot, o->stream);
}

int qsnapfix_inspect_stream(const StreamInspectOptions *o)
{
    g_autoptr(GError) err = NULL;
    AppStreamFacts f;
    int rc = APP_EXIT_OK;

    if (!app_stream_facts(&f, o->image, o->snapshot, o->stream, o->tail,
                          &err)) {
        return cli_fail(o->command, source_report(o), err);
    }
    if (o->format == QSNAPFIX_OUTPUT_JSON) {
        g_autoptr(QjValue) json =
            app_report_stream(source_report(o), f.s, f.writer, o->sections,
                              f.src->bytes_read, &err);
        if (!json) {
            rc = cli_fail(o->command, source_report(o), err);
            app_stream_facts_clear(&f);
            return rc;
        }
        qj_print(json);
    } else if (o->sections) {
        rc = dump_sections(f.s, o->sections);
    } else {
        printf("stream: %s, %" PRIu64 " bytes%s\n", f.s->name, f.s->size,
               f.s->tail_path ? " (read from the head and the tail)" : "");
        print_writer(f.writer);
        print_blocks(f.s);
        print_sections(f.s);
    }
    if (o->stats) {
        fprintf(stderr,
                "qsnapfix: %s: read %" PRIu64 " bytes in %" PRIu64 " calls\n",
                f.s->name, f.src->bytes_read, f.src->read_calls);
    }
    app_stream_facts_clear(&f);
    return rc;
}
