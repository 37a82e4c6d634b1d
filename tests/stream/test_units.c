/*
 * Unit tests of the stream model on streams made by the builder: exact
 * offsets, RAM bookkeeping, layout variants chosen by length, resync,
 * errors, and write(parse(x)) == x.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>
#include <string.h>

#include "stream/fingerprint.h"
#include "stream/layout.h"
#include "stream/stream.h"
#include "stream/writer.h"

static void put_zeros(VmsBuilder *b, size_t n)
{
    uint8_t zero[512] = {0};
    while (n) {
        size_t k = MIN(n, sizeof(zero));
        vms_builder_bytes(b, zero, k);
        n -= k;
    }
}

/* PCIDevice: be32 version 2, config (vendor 8086, device 7113), irqs. */
static void put_pci(VmsBuilder *b, uint16_t class_code)
{
    uint8_t config[256] = {0x86, 0x80, 0x13, 0x71};
    config[0x0a] = (uint8_t)class_code;
    config[0x0b] = (uint8_t)(class_code >> 8);
    vms_builder_be32(b, 2);
    vms_builder_bytes(b, config, sizeof(config));
    put_zeros(b, 16);
}

typedef struct Shape {
    bool qemu_kvm;   /* i8254 with flags, piix4_pm v2 with 1-word GPE */
    bool mystery;    /* an unknown device in the middle */
    bool footers;    /* configuration record + section footers */
    size_t truncate; /* cut the stream to this many bytes (0: no) */
} Shape;

static void section(VmsBuilder *b, const Shape *sh, VmsRecordType type,
                    uint32_t id, const char *idstr, uint32_t version)
{
    vms_builder_section(b, type, id, idstr, 0, version);
}

static void end_section(VmsBuilder *b, const Shape *sh, uint32_t id)
{
    if (sh->footers) {
        vms_builder_footer(b, id);
    }
}

static GByteArray *build(const Shape *sh)
{
    GByteArray *out = g_byte_array_new();
    g_autoptr(VmsBuilder) b = vms_builder_new_bytes(out);
    const VmsBlockSpec blocks[] = {{"pc.ram", 0x4000}, {"vga.vram", 0x2000}};
    uint8_t page[VMS_PAGE_SIZE];

    for (size_t i = 0; i < sizeof(page); i++) {
        page[i] = (uint8_t)i;
    }
    vms_builder_header(b);
    if (sh->footers) {
        vms_builder_configuration(b, "pc-i440fx-7.2");
    }
    section(b, sh, VMS_SECTION_START, 3, "ram", 4);
    vms_builder_ram_mem_size(b, blocks, G_N_ELEMENTS(blocks));
    vms_builder_ram_page(b, "pc.ram", 0, page);
    vms_builder_ram_fill(b, "pc.ram", 0x1000, 0xcc);
    vms_builder_ram_eos(b);
    end_section(b, sh, 3);
    section(b, sh, VMS_SECTION_PART, 3, NULL, 0);
    vms_builder_ram_fill(b, "pc.ram", 0x2000, 0x00); /* CONTINUE */
    vms_builder_ram_page(b, "vga.vram", 0x1000, page);
    vms_builder_ram_eos(b);
    end_section(b, sh, 3);
    section(b, sh, VMS_SECTION_END, 3, NULL, 0);
    vms_builder_ram_eos(b);
    end_section(b, sh, 3);

    section(b, sh, VMS_SECTION_FULL, 5, "i8254", 2);
    if (sh->qemu_kvm) {
        vms_builder_be32(b, 1); /* flags */
    }
    for (int ch = 0; ch < 3; ch++) {
        vms_builder_be32(b, 0x10000); /* count */
        put_zeros(b, 28);
    }
    vms_builder_be64(b, 12345); /* irq_timer */
    end_section(b, sh, 5);

    if (sh->mystery) {
        section(b, sh, VMS_SECTION_FULL, 9, "mystery-dev", 1);
        for (int i = 0; i < 50; i++) {
            vms_builder_u8(b, (uint8_t)(0x40 + i));
        }
        end_section(b, sh, 9);
    }

    section(b, sh, VMS_SECTION_FULL, 6, "0000:00:01.3/piix4_pm", 2);
    put_pci(b, 0x0680);
    vms_builder_be16(b, 1);      /* pm1 sts */
    vms_builder_be16(b, 0x20);   /* en */
    vms_builder_be16(b, 1);      /* cnt */
    vms_builder_be16(b, 0xf100); /* apm */
    vms_builder_be64(b, (uint64_t)-1);
    vms_builder_be64(b, 0);
    if (sh->qemu_kvm) {
        vms_builder_be16(b, 0xabcd); /* gpe sts */
        vms_builder_be16(b, 0x1234); /* gpe en */
    } else {
        put_zeros(b, 16);
    }
    vms_builder_be32(b, 0);
    vms_builder_be32(b, 0);
    end_section(b, sh, 6);

    section(b, sh, VMS_SECTION_FULL, 8, "cpu_common", 1);
    vms_builder_be32(b, 1);
    vms_builder_be32(b, 0);
    vms_builder_subsection(b, "cpu_common/exception_index", 1);
    vms_builder_be32(b, (uint32_t)-1);
    end_section(b, sh, 8);
    vms_builder_eof(b);
    g_assert_true(vms_builder_finish(b, NULL));
    if (sh->truncate) {
        g_byte_array_set_size(out, (guint)sh->truncate);
    }
    return out;
}

static VmsStream *parse(GByteArray *bytes, VmsParseFlags flags, GError **errp)
{
    g_autoptr(VmsSource) src =
        vms_source_new_memory(bytes->data, bytes->len, "unit.mig");
    VmsParseOptions o = {.flags = flags};
    return vms_stream_parse(src, &o, errp);
}

static void test_sections_come_with_exact_header_offsets(void)
{
    Shape sh = {.qemu_kvm = true};
    g_autoptr(GByteArray) bytes = build(&sh);
    g_autoptr(GError) err = NULL;
    g_autoptr(VmsStream) s = parse(bytes, VMS_PARSE_RECORD_PAGES, &err);
    VmsSection *start, *part, *pit, *pm, *cc;

    g_assert_no_error(err);
    g_assert_cmpuint(s->sections->len, ==, 6);
    start = vms_stream_section(s, 0);
    g_assert_cmpuint(start->offset, ==, 8);
    g_assert_cmpuint(start->section_id_offset, ==, 9);
    g_assert_cmpuint(start->idstr_offset, ==, 13);
    g_assert_cmpuint(start->instance_offset, ==, 17);
    g_assert_cmpuint(start->version_offset, ==, 21);
    g_assert_cmpuint(start->payload_offset, ==, 25);
    g_assert_cmpuint(start->ram.mem_size_offset, ==, 25);
    g_assert_cmpuint(start->ram.mem_size_total, ==, 0x6000);
    part = vms_stream_section(s, 1);
    g_assert_cmpint(part->type, ==, VMS_SECTION_PART);
    g_assert_cmpstr(part->idstr, ==, "ram");
    g_assert_cmpuint(part->payload_offset, ==, part->offset + 5);
    g_assert_cmpuint(part->start_index, ==, 0);

    pit = vms_stream_find_section(s, "i8254", 0);
    g_assert_nonnull(pit);
    g_assert_cmpuint(pit->payload_len, ==, 108);
    g_assert_cmpstr(vms_layout_variant(pit->layout), ==, "qemu-kvm");
    g_assert_cmpuint(pit->end, ==, pit->payload_offset + 108);
    pm = vms_stream_find_section(s, "0000:00:01.3/piix4_pm", -1);
    g_assert_cmpuint(pm->payload_len, ==, 312);
    g_assert_cmpstr(vms_layout_variant(pm->layout), ==, "qemu-kvm");
    cc = vms_stream_find_section(s, "cpu_common", 0);
    g_assert_cmpuint(cc->subsections->len, ==, 1);
    g_assert_cmpstr(g_array_index(cc->subsections, VmsSubsection, 0).name, ==,
                    "cpu_common/exception_index");
    g_assert_cmpuint(
        g_array_index(cc->subsections, VmsSubsection, 0).payload_len, ==, 4);
    g_assert_cmpuint(s->eof_offset, ==, bytes->len - 1);
}

static void test_ram_blocks_and_pages_are_counted(void)
{
    Shape sh = {.qemu_kvm = true};
    g_autoptr(GByteArray) bytes = build(&sh);
    g_autoptr(VmsStream) s = parse(bytes, VMS_PARSE_RECORD_PAGES, NULL);
    VmsRamBlock *ram = vms_stream_block(s, 0), *vga = vms_stream_block(s, 1);
    VmsPage *pg;

    g_assert_cmpstr(ram->id, ==, "pc.ram");
    g_assert_cmpuint(ram->entry_offset, ==, 33);
    g_assert_cmpuint(ram->length_offset, ==, 33 + 1 + 6);
    g_assert_cmpuint(ram->full_pages, ==, 1);
    g_assert_cmpuint(ram->fill_pages, ==, 2);
    g_assert_cmpuint(ram->fill_by_byte[0xcc], ==, 1);
    g_assert_cmpuint(ram->fill_by_byte[0x00], ==, 1);
    g_assert_cmpuint(ram->highest_page, ==, 0x2000);
    g_assert_true(vms_ram_block_has_page_at_or_beyond(ram, 0x2000));
    g_assert_false(vms_ram_block_has_page_at_or_beyond(ram, 0x3000));
    g_assert_cmpuint(vga->full_pages, ==, 1);
    g_assert_cmpuint(s->pages->len, ==, 4);
    /* The third page follows a pc.ram page from the previous section. */
    pg = &g_array_index(s->pages, VmsPage, 2);
    g_assert_true(pg->flags & VMS_RAM_CONTINUE);
    g_assert_cmpuint(vms_page_record_len(s, pg), ==, 9);
    pg = &g_array_index(s->pages, VmsPage, 3);
    g_assert_false(pg->flags & VMS_RAM_CONTINUE);
    g_assert_cmpuint(vms_page_data_offset(s, pg), ==, pg->offset + 8 + 9);
    g_assert_cmpuint(vms_page_record_len(s, pg), ==, 8 + 9 + VMS_PAGE_SIZE);
    g_assert_true(vms_stream_find_page(s, 1, 0x1000) == pg);
    g_assert_cmpuint(vms_stream_find_page(s, 0, 0x1000)->fill, ==, 0xcc);
    g_assert_null(vms_stream_find_page(s, 0, 0x3000));
}

static void test_fields_are_found_by_path(void)
{
    Shape sh = {.qemu_kvm = true};
    g_autoptr(GByteArray) bytes = build(&sh);
    g_autoptr(VmsStream) s = parse(bytes, 0, NULL);
    VmsSection *pm = vms_stream_find_section(s, "0000:00:01.3/piix4_pm", 0);
    VmsFieldLoc loc;
    g_autoptr(GError) err = NULL;

    g_assert_true(vms_section_find_field(pm, "ar.gpe.sts", &loc, NULL));
    g_assert_cmpuint(loc.payload_offset, ==, 276 + 6 + 2 + 16);
    g_assert_cmpuint(loc.value, ==, 0xabcd);
    g_assert_cmpuint(loc.offset, ==, pm->payload_offset + loc.payload_offset);
    g_assert_true(vms_section_find_field(pm, "parent_obj.config", &loc, NULL));
    g_assert_cmpuint(loc.payload_offset, ==, 4);
    g_assert_cmpuint(loc.size, ==, 256);
    g_assert_cmpuint(bytes->data[loc.offset + 0x0b], ==, 0x06);
    g_assert_false(vms_section_find_field(pm, "no.such", &loc, &err));
    g_assert_error(err, VMS_ERROR, VMS_ERROR_NOT_FOUND);
}

static void test_upstream_v2_layouts_are_told_apart_by_length(void)
{
    Shape sh = {.qemu_kvm = false};
    g_autoptr(GByteArray) bytes = build(&sh);
    g_autoptr(VmsStream) s = parse(bytes, 0, NULL);
    VmsSection *pit = vms_stream_find_section(s, "i8254", 0);
    VmsSection *pm = vms_stream_find_section(s, "0000:00:01.3/piix4_pm", 0);
    g_autoptr(VmsWriterInfo) w = vms_fingerprint(s);

    g_assert_cmpuint(pit->payload_len, ==, 104);
    g_assert_cmpstr(vms_layout_variant(pit->layout), ==, "upstream");
    g_assert_cmpuint(pm->payload_len, ==, 324);
    g_assert_cmpstr(vms_layout_variant(pm->layout), ==, "upstream");
    g_assert_cmpstr(w->program, ==, "qemu");
    g_assert_cmpstr(w->version, ==, "1.0..1.0");
}

static void test_writer_gives_back_the_bytes(void)
{
    for (int shape = 0; shape < 4; shape++) {
        Shape sh = {
            .qemu_kvm = shape & 1, .footers = shape & 2, .mystery = shape & 1};
        g_autoptr(GByteArray) bytes = build(&sh);
        g_autoptr(VmsSource) src =
            vms_source_new_memory(bytes->data, bytes->len, "unit.mig");
        VmsParseOptions o = {.flags = VMS_PARSE_RECORD_PAGES};
        g_autoptr(VmsStream) s = vms_stream_parse(src, &o, NULL);
        g_autoptr(GByteArray) out = g_byte_array_new();
        g_autoptr(VmsBuilder) b = vms_builder_new_bytes(out);

        g_assert_nonnull(s);
        g_assert_true(vms_stream_write(s, src, b, NULL));
        g_assert_true(vms_builder_finish(b, NULL));
        g_assert_cmpmem(out->data, out->len, bytes->data, bytes->len);
    }
}

static void test_footers_and_configuration(void)
{
    Shape sh = {.qemu_kvm = true, .footers = true};
    g_autoptr(GByteArray) bytes = build(&sh);
    g_autoptr(VmsStream) s = parse(bytes, 0, NULL);
    g_autoptr(VmsWriterInfo) w = vms_fingerprint(s);
    VmsSection *pit = vms_stream_find_section(s, "i8254", 0);

    g_assert_true(s->has_footers);
    g_assert_cmpint(vms_stream_section(s, 0)->kind, ==, VMS_KIND_CONFIGURATION);
    g_assert_true(pit->has_footer);
    g_assert_cmpuint(pit->footer_offset, ==, pit->payload_offset + 108);
    g_assert_cmpuint(pit->end, ==, pit->footer_offset + 5);
    g_assert_cmpstr(w->machine, ==, "pc-i440fx-7.2");
}

static void test_unknown_device_is_located_by_resync(void)
{
    Shape sh = {.qemu_kvm = true, .mystery = true};
    g_autoptr(GByteArray) bytes = build(&sh);
    g_autoptr(GError) err = NULL;
    g_autoptr(VmsStream) s = parse(bytes, 0, &err);
    VmsSection *m;
    g_autoptr(VmsStream) strict = NULL;

    g_assert_no_error(err);
    m = vms_stream_find_section(s, "mystery-dev", 0);
    g_assert_nonnull(m);
    g_assert_cmpint(m->kind, ==, VMS_KIND_OPAQUE);
    g_assert_true(m->located_by_resync);
    g_assert_null(m->layout);
    g_assert_cmpuint(m->payload_len, ==, 50);
    g_assert_cmpuint(s->n_resynced, ==, 1);
    g_assert_nonnull(vms_stream_find_section(s, "cpu_common", 0));

    strict = parse(bytes, VMS_PARSE_NO_RESYNC, &err);
    g_assert_null(strict);
    g_assert_error(err, VMS_ERROR, VMS_ERROR_BAD_PAYLOAD);
    g_assert_nonnull(strstr(err->message, "'mystery-dev'"));
}

static void test_truncated_streams_fail_with_offset_and_section(void)
{
    Shape full = {.qemu_kvm = true};
    g_autoptr(GByteArray) whole = build(&full);

    for (size_t cut = 1; cut < whole->len; cut += 97) {
        Shape sh = {.qemu_kvm = true, .truncate = cut};
        g_autoptr(GByteArray) bytes = build(&sh);
        g_autoptr(GError) err = NULL;
        g_autoptr(VmsStream) s = parse(bytes, 0, &err);

        g_assert_null(s);
        g_assert_nonnull(err);
        g_assert_true(g_str_has_prefix(err->message, "unit.mig: "));
        g_assert_nonnull(strstr(err->message, "offset 0x"));
        g_assert_null(strchr(err->message, '\n'));
        if (cut > 8 + 25) {
            g_assert_nonnull(strstr(err->message, "section"));
        }
    }
}

static void test_bad_ram_records_are_refused(void)
{
    static const struct {
        uint64_t word;
        int code;
    } cases[] = {
        {0x1000 | VMS_RAM_XBZRLE, VMS_ERROR_UNSUPPORTED},
        {0x1000 | VMS_RAM_COMPRESS_PAGE, VMS_ERROR_UNSUPPORTED},
        {0x1000 | VMS_RAM_PAGE | VMS_RAM_CONTINUE, VMS_ERROR_BAD_RAM},
        {0x1000 | VMS_RAM_FULL, VMS_ERROR_BAD_RAM},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GByteArray) out = g_byte_array_new();
        g_autoptr(VmsBuilder) b = vms_builder_new_bytes(out);
        const VmsBlockSpec blocks[] = {{"pc.ram", 0x4000}};
        g_autoptr(GError) err = NULL;
        g_autoptr(VmsStream) s = NULL;

        vms_builder_header(b);
        vms_builder_section(b, VMS_SECTION_START, 2, "ram", 0, 4);
        vms_builder_ram_mem_size(b, blocks, 1);
        vms_builder_be64(b, cases[i].word);
        put_zeros(b, 4200);
        g_assert_true(vms_builder_finish(b, NULL));
        s = parse(out, 0, &err);
        g_assert_null(s);
        g_assert_error(err, VMS_ERROR, cases[i].code);
    }
}

static void test_mem_size_entries_must_add_up(void)
{
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autoptr(VmsBuilder) b = vms_builder_new_bytes(out);
    g_autoptr(GError) err = NULL;
    g_autoptr(VmsStream) s = NULL;

    vms_builder_header(b);
    vms_builder_section(b, VMS_SECTION_START, 2, "ram", 0, 4);
    vms_builder_be64(b, 0x2000 | VMS_RAM_MEM_SIZE);
    vms_builder_u8(b, 6);
    vms_builder_bytes(b, "pc.ram", 6);
    vms_builder_be64(b, 0x3000);
    vms_builder_ram_eos(b);
    vms_builder_eof(b);
    g_assert_true(vms_builder_finish(b, NULL));
    s = parse(out, 0, &err);
    g_assert_error(err, VMS_ERROR, VMS_ERROR_BAD_RAM);
    g_assert_nonnull(strstr(err->message, "'pc.ram'"));
}

static void test_tail_path_agrees_or_falls_back(void)
{
    Shape sh = {.qemu_kvm = true};
    g_autoptr(GByteArray) bytes = build(&sh);
    g_autoptr(VmsStream) full = parse(bytes, 0, NULL);
    g_autoptr(VmsStream) tail =
        parse(bytes, VMS_PARSE_TAIL | VMS_PARSE_TAIL_ONLY, NULL);
    g_autoptr(GByteArray) paged = NULL;
    g_autoptr(VmsStream) fallback = NULL;
    g_autoptr(GError) err = NULL;
    guint ft = 0, ff = 0;

    g_assert_nonnull(tail);
    g_assert_true(tail->tail_path);
    while (vms_stream_section(full, ff)->type != VMS_SECTION_FULL) {
        ff++;
    }
    while (vms_stream_section(tail, ft)->type != VMS_SECTION_FULL) {
        ft++;
    }
    g_assert_cmpuint(full->sections->len - ff, ==, tail->sections->len - ft);
    for (guint i = 0; ff + i < full->sections->len; i++) {
        g_assert_cmpuint(vms_stream_section(full, ff + i)->offset, ==,
                         vms_stream_section(tail, ft + i)->offset);
    }
    /* The START carries pages here (0.15/1.0 style): the head ends at the
     * first one, right after the block list. */
    g_assert_cmpuint(tail->skipped_from, ==,
                     vms_stream_section(full, 0)->ram.mem_size_end);
    g_assert_true(tail->first_page_in_start);

    /* Pages in the END record: no empty END to anchor on. */
    paged = g_byte_array_new();
    {
        g_autoptr(VmsBuilder) b = vms_builder_new_bytes(paged);
        const VmsBlockSpec blocks[] = {{"pc.ram", 0x2000}};
        vms_builder_header(b);
        vms_builder_section(b, VMS_SECTION_START, 2, "ram", 0, 4);
        vms_builder_ram_mem_size(b, blocks, 1);
        vms_builder_ram_eos(b);
        vms_builder_section(b, VMS_SECTION_END, 2, NULL, 0, 0);
        vms_builder_ram_fill(b, "pc.ram", 0x1000, 7);
        vms_builder_ram_eos(b);
        vms_builder_section(b, VMS_SECTION_FULL, 3, "port92", 0, 1);
        vms_builder_u8(b, 2);
        vms_builder_eof(b);
        g_assert_true(vms_builder_finish(b, NULL));
    }
    fallback = parse(paged, VMS_PARSE_TAIL | VMS_PARSE_TAIL_ONLY, &err);
    g_assert_null(fallback);
    g_assert_error(err, VMS_ERROR, VMS_ERROR_BAD_PAYLOAD);
    fallback = parse(paged, VMS_PARSE_TAIL, NULL);
    g_assert_nonnull(fallback);
    g_assert_false(fallback->tail_path);
    g_assert_nonnull(vms_stream_find_section(fallback, "port92", 0));
}

static void test_msix_table_size_comes_from_the_capability(void)
{
    uint8_t config[256] = {0};

    g_assert_cmpuint(vms_pci_msix_entries(config, sizeof(config)), ==, 0);
    config[0x06] = 0x10; /* capability list */
    config[0x34] = 0x40;
    config[0x40] = 0x09; /* vendor specific, then MSI-X */
    config[0x41] = 0x50;
    config[0x50] = 0x11;
    config[0x52] = 0x02; /* table size - 1 = 2 */
    config[0x53] = 0x80; /* enabled */
    g_assert_cmpuint(vms_pci_msix_entries(config, sizeof(config)), ==, 3);
    config[0x06] = 0;
    g_assert_cmpuint(vms_pci_msix_entries(config, sizeof(config)), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/stream/sections_come_with_exact_header_offsets",
                    test_sections_come_with_exact_header_offsets);
    g_test_add_func("/stream/ram_blocks_and_pages_are_counted",
                    test_ram_blocks_and_pages_are_counted);
    g_test_add_func("/stream/fields_are_found_by_path",
                    test_fields_are_found_by_path);
    g_test_add_func("/stream/upstream_v2_layouts_are_told_apart_by_length",
                    test_upstream_v2_layouts_are_told_apart_by_length);
    g_test_add_func("/stream/writer_gives_back_the_bytes",
                    test_writer_gives_back_the_bytes);
    g_test_add_func("/stream/footers_and_configuration",
                    test_footers_and_configuration);
    g_test_add_func("/stream/unknown_device_is_located_by_resync",
                    test_unknown_device_is_located_by_resync);
    g_test_add_func("/stream/truncated_streams_fail_with_offset_and_section",
                    test_truncated_streams_fail_with_offset_and_section);
    g_test_add_func("/stream/bad_ram_records_are_refused",
                    test_bad_ram_records_are_refused);
    g_test_add_func("/stream/mem_size_entries_must_add_up",
                    test_mem_size_entries_must_add_up);
    g_test_add_func("/stream/tail_path_agrees_or_falls_back",
                    test_tail_path_agrees_or_falls_back);
    g_test_add_func("/stream/msix_table_size_comes_from_the_capability",
                    test_msix_table_size_comes_from_the_capability);
    return g_test_run();
}
