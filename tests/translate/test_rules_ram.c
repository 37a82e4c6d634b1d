/*
 * Unit tests of the RAM block rules (R4, R6, R7, R10, R17), the qxl
 * revision (R24) and of the page record re-encoding behind them (block
 * list total, CONTINUE chain, block renames), on synthetic streams made
 * by the stream builder; and what they decide without page data
 * (TrOptions.no_page_data, as `scan` runs them).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "streams.h"
#include "stream/bytes.h"
#include "stream/layout.h"

static uint8_t page_of(uint8_t seed, uint8_t *buf)
{
    for (guint i = 0; i < 4096; i++) {
        buf[i] = (uint8_t)(seed + i * 7);
    }
    return seed;
}

static void add_cirrus(VmsBuilder *b, uint32_t id)
{
    g_autoptr(GBytes) cirrus = ts_pci_device(0x1013, 0x00b8, 0x0300, 0, 1594);
    gsize len;
    const void *p = g_bytes_get_data(cirrus, &len);

    ts_full(b, id, "0000:00:02.0/cirrus_vga", 0, 2, p, len);
}

static int block_index(const VmsStream *s, const char *id)
{
    return vms_stream_find_block(s, id);
}

static guint pages_of(const VmsStream *s, const char *id)
{
    int i = vms_stream_find_block(s, id);
    guint n = 0;

    g_assert_cmpint(i, >=, 0);
    for (guint p = 0; p < s->pages->len; p++) {
        n += g_array_index(s->pages, VmsPage, p).block == (guint)i;
    }
    return n;
}

/* ---- R4: cirrus vga.vram ----------------------------------------------------
 */

/*
 * vga.vram pages: 0 (data), 8 MiB (fill 0xff), then pc.ram, then 12 MiB
 * (data or fill), then 4 KiB, which follows the 12 MiB page in the same
 * block and so says CONTINUE. Shrinking drops the 8 and 12 MiB records:
 * the 4 KiB record then follows pc.ram and must name its block again.
 */
static GBytes *cirrus_stream(uint64_t vram, bool data_above_8m)
{
    const VmsBlockSpec blocks[] = {{"pc.ram", KiB(64)}, {"vga.vram", vram}};
    g_autoptr(GByteArray) out = g_byte_array_new();
    VmsBuilder *b = ts_begin(out, 2, blocks, G_N_ELEMENTS(blocks));
    uint8_t page[4096];

    page_of(1, page);
    vms_builder_ram_page(b, "vga.vram", 0, page);
    if (vram > MiB(8)) {
        vms_builder_ram_fill(b, "vga.vram", MiB(8), 0xff);
    }
    vms_builder_ram_page(b, "pc.ram", 0, page);
    if (vram > MiB(8)) {
        if (data_above_8m) {
            vms_builder_ram_page(b, "vga.vram", MiB(12), page);
        } else {
            vms_builder_ram_fill(b, "vga.vram", MiB(12), 0x00);
        }
    }
    vms_builder_ram_page(b, "vga.vram", KiB(4), page);
    ts_ram_end(b);
    add_cirrus(b, 3);
    return ts_finish(b, out);
}

static void test_r4_cirrus_16m_asks_for_vgamem_16(void)
{
    g_autoptr(GBytes) in = cirrus_stream(MiB(16), true);
    g_autoptr(TsRun) run = ts_run(in, NULL);
    const TrFinding *f = ts_finding(run->r, "R4", "vga.vram");
    g_autofree char *line = tr_recipe_command_line(run->r->recipe);

    g_assert_nonnull(f);
    g_assert_cmpint(f->action, ==, TR_ACTION_SETTING);
    g_assert_nonnull(strstr(f->evidence, "16 MiB"));
    g_assert_nonnull(strstr(line, "-global cirrus-vga.vgamem_mb=16"));
    g_assert_cmpuint(run->r->edits->len, ==, 0);
}

/*
 * The head of a stream (what a relay has when the target must start): the
 * block list names the cirrus ROM, no device section has come yet. R4
 * decides from the ROM block as it does from the cirrus section.
 */
static void test_r4_decides_from_the_cirrus_rom_block_alone(void)
{
    const VmsBlockSpec blocks[] = {{"pc.ram", KiB(64)},
                                   {"vga.vram", MiB(16)},
                                   {"0000:00:02.0/cirrus_vga.rom", KiB(64)}};
    g_autoptr(GByteArray) out = g_byte_array_new();
    VmsBuilder *b = ts_begin(out, 2, blocks, G_N_ELEMENTS(blocks));
    g_autoptr(GBytes) in = NULL;
    g_autoptr(TsRun) run = NULL;
    g_autofree char *line = NULL;

    ts_ram_end(b);
    in = ts_finish(b, out);
    run = ts_run(in, NULL);
    line = tr_recipe_command_line(run->r->recipe);
    g_assert_nonnull(ts_finding(run->r, "R4", "vga.vram"));
    g_assert_nonnull(strstr(line, "-global cirrus-vga.vgamem_mb=16"));
    g_assert_null(strstr(line, "VGA.vgamem_mb"));
}

static void test_r4_shrink_drops_fill_pages_and_mends_the_chain(void)
{
    g_autoptr(GBytes) in = cirrus_stream(MiB(16), false);
    TrOptions o = {.shrink_vram = true};
    g_autoptr(TsRun) run = ts_run(in, &o);
    const TrFinding *f = ts_finding(run->r, "R4", "vga.vram");

    g_assert_nonnull(f);
    g_assert_cmpint(f->action, ==, TR_ACTION_EDIT);
    g_assert_nonnull(strstr(f->change, "2 fill page(s)"));
    g_assert_cmpuint(run->r->new_size, <, run->r->old_size);

    g_autoptr(TsRun) again = ts_rerun(run, &o);
    int vram = block_index(again->s, "vga.vram");
    g_assert_cmpuint(vms_stream_block(again->s, vram)->length, ==, MiB(8));
    g_assert_cmpuint(pages_of(again->s, "vga.vram"), ==, 2);
    /* the 4 KiB record now names its block (pc.ram came before it) */
    const VmsPage *last =
        &g_array_index(again->s->pages, VmsPage, again->s->pages->len - 1);
    g_assert_cmpuint(last->addr, ==, KiB(4));
    g_assert_false(last->flags & VMS_RAM_CONTINUE);
    /* the block list total follows the new length */
    for (guint i = 0; i < again->s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(again->s, i);
        if (sec->kind == VMS_KIND_RAM && sec->ram.has_mem_size) {
            g_assert_cmpuint(sec->ram.mem_size_total, ==, KiB(64) + MiB(8));
        }
    }
    /* the page data below the cut is untouched */
    g_autoptr(GError) err = NULL;
    g_autoptr(GBytes) before = tr_extract_block(
        run->s, run->src, block_index(run->s, "vga.vram"), &err);
    g_autoptr(GBytes) after =
        tr_extract_block(again->s, again->src, vram, &err);
    g_assert_no_error(err);
    g_assert_cmpmem(g_bytes_get_data(before, NULL), MiB(8),
                    g_bytes_get_data(after, NULL), MiB(8));
}

static void test_r4_shrink_refuses_data_above_the_cut(void)
{
    g_autoptr(GBytes) in = cirrus_stream(MiB(16), true);
    TrOptions o = {.shrink_vram = true};
    g_autoptr(TsRun) run = ts_run(in, &o);
    const TrFinding *f = tr_result_refusal(run->r);

    g_assert_nonnull(f);
    g_assert_cmpstr(f->rule, ==, "R4");
    g_assert_nonnull(strstr(f->change, "1 data page(s)"));
    g_assert_cmpuint(run->r->edits->len, ==, 0);
}

static void test_r4_ignores_8m_cirrus(void)
{
    g_autoptr(GBytes) in = cirrus_stream(MiB(8), false);
    g_autoptr(TsRun) run = ts_run(in, NULL);

    g_assert_null(ts_finding(run->r, "R4", NULL));
    g_assert_cmpuint(run->r->recipe->settings->len, ==, 0);
}

/* ---- R6 / R7: ROMs and the BIOS --------------------------------------------
 */

static GBytes *rom_stream(uint64_t rom_len, uint64_t bios_len)
{
    const VmsBlockSpec blocks[] = {{"pc.ram", KiB(64)},
                                   {"pc.bios", bios_len},
                                   {"0000:00:03.0/rtl8139.rom", rom_len}};
    g_autoptr(GByteArray) out = g_byte_array_new();
    VmsBuilder *b = ts_begin(out, 2, blocks, G_N_ELEMENTS(blocks));
    uint8_t page[4096];

    vms_builder_ram_fill(b, "pc.ram", 0, 0);
    vms_builder_ram_page(b, "pc.bios", 0, (page_of(9, page), page));
    vms_builder_ram_page(b, "0000:00:03.0/rtl8139.rom", 0,
                         (page_of(3, page), page));
    vms_builder_ram_fill(b, "0000:00:03.0/rtl8139.rom", KiB(8), 0xaa);
    vms_builder_ram_page(b, "pc.ram", KiB(4), page);
    ts_ram_end(b);
    return ts_finish(b, out);
}

static void test_r6_rom_extracted_to_a_file_of_block_length(void)
{
    g_autoptr(GBytes) in = rom_stream(KiB(64), KiB(128));
    TrOptions o = {.file_dir = "/images", .file_prefix = "vm.qcow2.s1"};
    g_autoptr(TsRun) run = ts_run(in, &o);
    const TrFinding *f = ts_finding(run->r, "R6", NULL);
    g_autofree char *line = tr_recipe_command_line(run->r->recipe);
    g_autoptr(GError) err = NULL;

    g_assert_nonnull(f);
    g_assert_cmpint(f->action, ==, TR_ACTION_SETTING);
    g_assert_cmpuint(run->r->recipe->files->len, ==, 1);
    const TrFile *file = g_ptr_array_index(run->r->recipe->files, 0);
    g_assert_cmpstr(file->path, ==,
                    "/images/vm.qcow2.s1.0000-00-03.0-rtl8139.rom");
    g_assert_cmpuint(file->length, ==, KiB(64));
    g_assert_nonnull(
        strstr(line, "-global rtl8139.romfile=/images/vm.qcow2.s1.0000-00-03.0-"
                     "rtl8139.rom"));

    /* the file: the page, then the 0xaa fill page, zeros elsewhere */
    g_autoptr(GBytes) rom =
        tr_extract_block(run->s, run->src, file->block_index, &err);
    g_assert_no_error(err);
    const uint8_t *p = g_bytes_get_data(rom, NULL);
    uint8_t page[4096];
    page_of(3, page);
    g_assert_cmpuint(g_bytes_get_size(rom), ==, KiB(64));
    g_assert_cmpmem(p, 4096, page, 4096);
    g_assert_cmphex(p[KiB(4)], ==, 0);
    g_assert_cmphex(p[KiB(8)], ==, 0xaa);
    g_assert_cmphex(p[KiB(12) - 1], ==, 0xaa);
    g_assert_cmphex(p[KiB(64) - 1], ==, 0);
    g_assert_cmpuint(run->r->edits->len, ==, 0);
}

static void test_r6_drop_roms_removes_block_and_pages(void)
{
    g_autoptr(GBytes) in = rom_stream(KiB(64), KiB(128));
    TrOptions o = {.drop_roms = true};
    g_autoptr(TsRun) run = ts_run(in, &o);
    const TrFinding *f = ts_finding(run->r, "R6", NULL);

    g_assert_nonnull(f);
    g_assert_cmpint(f->action, ==, TR_ACTION_LOSS);
    g_assert_cmpuint(run->r->recipe->files->len, ==, 0);
    g_autoptr(TsRun) again = ts_rerun(run, &o);
    g_assert_cmpint(block_index(again->s, "0000:00:03.0/rtl8139.rom"), ==, -1);
    /* pc.ram's second page came right after the dropped ROM pages */
    g_assert_cmpuint(pages_of(again->s, "pc.ram"), ==, 2);
}

static void test_r6_r7_ignore_matching_sizes(void)
{
    g_autoptr(GBytes) in = rom_stream(KiB(128), KiB(128));
    g_autoptr(TsRun) run = ts_run(in, NULL);

    g_assert_null(ts_finding(run->r, "R6", NULL));
    g_assert_null(ts_finding(run->r, "R7", NULL));
    g_assert_cmpuint(run->r->recipe->files->len, ==, 0);
}

static void test_r7_bios_of_256k_gets_bios_option(void)
{
    g_autoptr(GBytes) in = rom_stream(KiB(128), KiB(256));
    TrOptions o = {.file_dir = "/d", .file_prefix = "x"};
    g_autoptr(TsRun) run = ts_run(in, &o);
    const TrFinding *f = ts_finding(run->r, "R7", "pc.bios");
    g_autofree char *line = tr_recipe_command_line(run->r->recipe);

    g_assert_nonnull(f);
    g_assert_nonnull(strstr(line, "-bios /d/x.pc.bios"));
}

/* ---- R10: the qxl ROM ------------------------------------------------------
 */

static GBytes *qxl_stream(uint64_t vrom, uint32_t n_modes, bool data_above,
                          uint8_t revision)
{
    const VmsBlockSpec blocks[] = {{"pc.ram", KiB(64)},
                                   {"0000:00:02.0/qxl.vrom", vrom}};
    g_autoptr(GByteArray) out = g_byte_array_new();
    VmsBuilder *b = ts_begin(out, 2, blocks, G_N_ELEMENTS(blocks));
    g_autofree uint8_t *rom = ts_qxl_rom_page(1160, n_modes);
    uint8_t page[4096];

    vms_builder_ram_page(b, "0000:00:02.0/qxl.vrom", 0, rom);
    vms_builder_ram_page(b, "0000:00:02.0/qxl.vrom", KiB(4),
                         (page_of(5, page), page));
    if (vrom > KiB(8)) {
        if (data_above) {
            vms_builder_ram_page(b, "0000:00:02.0/qxl.vrom", KiB(8), page);
        } else {
            vms_builder_ram_fill(b, "0000:00:02.0/qxl.vrom", KiB(8), 0);
        }
        vms_builder_ram_fill(b, "0000:00:02.0/qxl.vrom", KiB(12), 0);
    }
    vms_builder_ram_fill(b, "pc.ram", 0, 0);
    ts_ram_end(b);
    gsize len;
    g_autofree uint8_t *p = g_bytes_unref_to_data(
        ts_pci_device(0x1b36, 0x0100, 0x0300, revision, 9835 - 276), &len);
    /* The _EQUAL num_memslots (8) and 1024 surfaces, as qxl writes them. */
    p[1430] = 8;
    p[1633] = 1024 >> 8;
    ts_full(b, 3, "0000:00:02.0/qxl", 0, 21, p, len);
    return ts_finish(b, out);
}

static void test_r10_cuts_a_16k_rom_whose_content_ends_below_8k(void)
{
    /* 1160 + 4 + 200 * 32 = 7564 < 8192 */
    g_autoptr(GBytes) in = qxl_stream(KiB(16), 200, false, 4);
    g_autoptr(TsRun) run = ts_run(in, NULL);
    const TrFinding *f = ts_finding(run->r, "R10", "0000:00:02.0/qxl.vrom");

    g_assert_nonnull(f);
    g_assert_cmpint(f->action, ==, TR_ACTION_EDIT);
    g_assert_nonnull(strstr(f->change, "ends at 7564"));
    g_autoptr(TsRun) again = ts_rerun(run, NULL);
    int i = block_index(again->s, "0000:00:02.0/qxl.vrom");
    g_assert_cmpuint(vms_stream_block(again->s, i)->length, ==, KiB(8));
    g_assert_cmpuint(pages_of(again->s, "0000:00:02.0/qxl.vrom"), ==, 2);
}

static void test_r10_refuses_mode_list_past_8k(void)
{
    /* 1160 + 4 + 224 * 32 = 8332: the qemu-kvm 1.2 case */
    g_autoptr(GBytes) in = qxl_stream(KiB(16), 224, true, 4);
    g_autoptr(TsRun) run = ts_run(in, NULL);
    const TrFinding *f = tr_result_refusal(run->r);

    g_assert_nonnull(f);
    g_assert_cmpstr(f->rule, ==, "R10");
    g_assert_nonnull(strstr(f->change, "ends at 8332"));
    g_assert_cmpuint(run->r->edits->len, ==, 0);
}

static void test_r10_refuses_data_pages_above_8k(void)
{
    g_autoptr(GBytes) in = qxl_stream(KiB(16), 200, true, 4);
    g_autoptr(TsRun) run = ts_run(in, NULL);
    const TrFinding *f = tr_result_refusal(run->r);

    g_assert_nonnull(f);
    g_assert_nonnull(strstr(f->change, "1 data page(s)"));
}

static void test_r10_refusal_names_accept_loss_and_the_modes_lost(void)
{
    g_autoptr(GBytes) in = qxl_stream(KiB(16), 224, true, 4);
    g_autoptr(TsRun) run = ts_run(in, NULL);
    const TrFinding *f = tr_result_refusal(run->r);

    /* (8192 - 1160 - 4) / 32 = 219 modes fit */
    g_assert_cmpstr(f->way_out, ==, "--accept-loss=R10");
    g_assert_nonnull(strstr(f->risk, "keeps 219 of its 224 modes"));
    g_assert_null(f->no_way_out);
}

static const char *const accept_r10[] = {"R10", NULL};

static void test_r10_accept_loss_cuts_and_lowers_the_mode_count(void)
{
    g_autoptr(GBytes) in = qxl_stream(KiB(16), 224, true, 4);
    TrOptions o = {.accept_loss = accept_r10};
    g_autoptr(TsRun) run = ts_run(in, &o);
    const TrFinding *f = ts_finding(run->r, "R10", "0000:00:02.0/qxl.vrom");
    g_autoptr(GError) err = NULL;

    g_assert_false(run->r->refused);
    g_assert_cmpint(f->action, ==, TR_ACTION_LOSS);
    g_assert_nonnull(strstr(f->change, "modes 219..223 lost"));
    g_autoptr(TsRun) again = ts_rerun(run, &o);
    int i = block_index(again->s, "0000:00:02.0/qxl.vrom");
    g_assert_cmpuint(vms_stream_block(again->s, i)->length, ==, KiB(8));
    g_assert_null(ts_finding(again->r, "R10", NULL));
    g_autoptr(GBytes) rom = tr_extract_block(again->s, again->src, i, &err);
    g_assert_no_error(err);
    const uint8_t *p = g_bytes_get_data(rom, NULL);
    g_assert_cmpuint(vms_le32(p + 1160), ==, 219);
    g_assert_cmpuint(vms_le32(p), ==, 0x4f525851);
}

static void test_r10_accept_loss_takes_data_pages_above_8k(void)
{
    g_autoptr(GBytes) in = qxl_stream(KiB(16), 200, true, 4);
    TrOptions o = {.accept_loss = accept_r10};
    g_autoptr(TsRun) run = ts_run(in, &o);
    const TrFinding *f = ts_finding(run->r, "R10", NULL);

    g_assert_cmpint(f->action, ==, TR_ACTION_LOSS);
    g_assert_nonnull(strstr(f->change, "1 data page(s)"));
    g_autoptr(TsRun) again = ts_rerun(run, &o);
    g_assert_cmpuint(pages_of(again->s, "0000:00:02.0/qxl.vrom"), ==, 2);
}

/* The guest runs a mode (qxl "mode" COMPAT, shadow_rom.mode) past the cut:
 * QEMU sets it again on load, so no option lets the cut through. */
static void test_r10_mode_in_use_past_the_cut_has_no_way_out(void)
{
    g_autoptr(GBytes) in = qxl_stream(KiB(16), 224, true, 4);
    g_autoptr(TsRun) parsed = ts_run(in, NULL);
    const VmsSection *qxl =
        vms_stream_find_section(parsed->s, "0000:00:02.0/qxl", 0);
    VmsFieldLoc mode, shadow;
    gsize len;
    const void *bytes = g_bytes_get_data(in, &len);
    g_autofree uint8_t *data = g_memdup2(bytes, len);

    g_assert_true(vms_section_find_field(qxl, "mode", &mode, NULL));
    g_assert_true(
        vms_section_find_field(qxl, "shadow_rom.mode", &shadow, NULL));
    vms_put_be32(data + mode.offset, 2);
    vms_put_be32(data + shadow.offset, 220);
    g_autoptr(GBytes) compat = g_bytes_new(data, len);
    TrOptions o = {.accept_loss = accept_r10};
    g_autoptr(TsRun) run = ts_run(compat, &o);
    const TrFinding *f = tr_result_refusal(run->r);

    g_assert_nonnull(f);
    g_assert_cmpstr(f->rule, ==, "R10");
    g_assert_null(f->way_out);
    g_assert_nonnull(strstr(f->change, "the guest runs mode 220"));
    g_assert_nonnull(f->no_way_out);
}

static void test_r24_revision_from_pci_config(void)
{
    g_autoptr(GBytes) in = qxl_stream(KiB(8), 100, false, 3);
    g_autoptr(TsRun) run = ts_run(in, NULL);
    g_autofree char *line = tr_recipe_command_line(run->r->recipe);
    g_autoptr(GBytes) same = qxl_stream(KiB(8), 100, false, 4);
    g_autoptr(TsRun) run4 = ts_run(same, NULL);

    g_assert_nonnull(strstr(line, "-global qxl-vga.revision=3"));
    g_assert_cmpuint(run->r->edits->len, ==, 0);
    g_assert_cmpint(ts_finding(run->r, "R24", NULL)->action, ==,
                    TR_ACTION_SETTING);
    g_assert_null(ts_finding(run->r, "R10", NULL));
    g_assert_null(ts_finding(run4->r, "R24", NULL));
}

/* ---- R17: BIOS as flash
 * ------------------------------------------------------ */

static GBytes *flash_stream(void)
{
    const VmsBlockSpec blocks[] = {{"isa-bios", KiB(128)},
                                   {"pc.ram", KiB(64)},
                                   {"system.flash", KiB(128)}};
    g_autoptr(GByteArray) out = g_byte_array_new();
    VmsBuilder *b = ts_begin(out, 3, blocks, G_N_ELEMENTS(blocks));
    uint8_t page[4096];

    vms_builder_ram_fill(b, "isa-bios", 0, 0xff);
    vms_builder_ram_page(b, "system.flash", 0, (page_of(7, page), page));
    vms_builder_ram_fill(b, "system.flash", KiB(4), 0xff);
    vms_builder_ram_page(b, "system.flash", KiB(124), page);
    vms_builder_ram_fill(b, "pc.ram", 0, 0);
    ts_ram_end(b);
    vms_builder_section(b, VMS_SECTION_PART, 3, NULL, 0, 0);
    vms_builder_ram_fill(b, "system.flash", KiB(8), 0x00);
    ts_ram_end(b);
    return ts_finish(b, out);
}

static void test_r17_renames_flash_and_adds_pflash_drive(void)
{
    g_autoptr(GBytes) in = flash_stream();
    TrOptions o = {.file_dir = "/d", .file_prefix = "vm"};
    g_autoptr(TsRun) run = ts_run(in, &o);
    const TrFinding *f = ts_finding(run->r, "R17", "system.flash");
    g_autofree char *line = tr_recipe_command_line(run->r->recipe);

    g_assert_nonnull(f);
    g_assert_cmpint(f->action, ==, TR_ACTION_EDIT);
    g_assert_null(ts_finding(run->r, "R17", "isa-bios"));
    g_assert_nonnull(
        strstr(line, "-drive if=pflash,format=raw,unit=0,readonly=on,file=/d/"
                     "vm.system.flash0.fd"));
    /* "system.flash" -> "system.flash0": +1 byte in the list and in each
     * of the two records that name the block */
    g_assert_cmpuint(run->r->new_size, ==, run->r->old_size + 3);

    g_autoptr(TsRun) again = ts_rerun(run, &o);
    g_assert_cmpint(block_index(again->s, "system.flash"), ==, -1);
    g_assert_cmpuint(pages_of(again->s, "system.flash0"), ==, 4);
    g_autofree char *line2 = tr_recipe_command_line(again->r->recipe);
    g_assert_cmpstr(line, ==, line2);

    /* the flash file holds the block as the stream had it */
    g_autoptr(GError) err = NULL;
    g_autoptr(GBytes) a = tr_extract_block(
        run->s, run->src, block_index(run->s, "system.flash"), &err);
    g_autoptr(GBytes) b = tr_extract_block(
        again->s, again->src, block_index(again->s, "system.flash0"), &err);
    g_assert_no_error(err);
    g_assert_true(g_bytes_equal(a, b));
}

static void test_isa_bios_without_flash_is_refused(void)
{
    const VmsBlockSpec blocks[] = {{"isa-bios", KiB(128)}, {"pc.ram", KiB(64)}};
    g_autoptr(GByteArray) out = g_byte_array_new();
    VmsBuilder *b = ts_begin(out, 3, blocks, G_N_ELEMENTS(blocks));
    ts_ram_end(b);
    g_autoptr(GBytes) in = ts_finish(b, out);
    g_autoptr(TsRun) run = ts_run(in, NULL);

    g_assert_true(run->r->refused);
    g_assert_cmpstr(tr_result_refusal(run->r)->subject, ==, "isa-bios");
}

/* ---- without page data (what `scan` decides from the tail) ----------------
 */

static void test_r10_cut_is_undecided_without_page_data(void)
{
    g_autoptr(GBytes) in = qxl_stream(KiB(16), 200, false, 4);
    g_autoptr(TsRun) full = ts_run(in, NULL);
    g_autoptr(TsRun) tail = ts_run_without_pages(in, NULL);
    const TrFinding *f = tr_result_undecided(tail->r);

    g_assert_cmpuint(ts_assert_decided_alike(full, tail), ==, 1);
    g_assert_nonnull(f);
    g_assert_cmpstr(f->rule, ==, "R10");
    g_assert_cmpstr(f->subject, ==, "0000:00:02.0/qxl.vrom");
    g_assert_cmpuint(full->r->edits->len, >, 0);
    g_assert_cmpuint(tail->r->edits->len, ==, 0); /* the cut is not planned */
}

static void test_r10_refusal_is_undecided_without_page_data(void)
{
    g_autoptr(GBytes) in = qxl_stream(KiB(16), 224, true, 4);
    g_autoptr(TsRun) full = ts_run(in, NULL);
    g_autoptr(TsRun) tail = ts_run_without_pages(in, NULL);

    g_assert_true(full->r->refused);
    g_assert_cmpuint(ts_assert_decided_alike(full, tail), ==, 1);
    g_assert_false(tail->r->refused);
    g_assert_cmpstr(tr_result_undecided(tail->r)->rule, ==, "R10");
}

static void test_r24_revision_is_decided_without_page_data(void)
{
    g_autoptr(GBytes) in = qxl_stream(KiB(8), 100, false, 3);
    g_autoptr(TsRun) full = ts_run(in, NULL);
    g_autoptr(TsRun) tail = ts_run_without_pages(in, NULL);
    g_autofree char *line = tr_recipe_command_line(tail->r->recipe);

    g_assert_cmpuint(ts_assert_decided_alike(full, tail), ==, 0);
    g_assert_nonnull(strstr(line, "qxl-vga.revision=3"));
}

static void test_r4_is_undecided_without_page_data_only_when_shrinking(void)
{
    g_autoptr(GBytes) in = cirrus_stream(MiB(16), false);
    TrOptions shrink = {.shrink_vram = true};
    g_autoptr(TsRun) full = ts_run(in, NULL);
    g_autoptr(TsRun) tail = ts_run_without_pages(in, NULL);
    g_autoptr(TsRun) full_cut = ts_run(in, &shrink);
    g_autoptr(TsRun) tail_cut = ts_run_without_pages(in, &shrink);

    g_assert_cmpuint(ts_assert_decided_alike(full, tail), ==, 0);
    g_assert_cmpint(ts_finding(tail->r, "R4", NULL)->action, ==,
                    TR_ACTION_SETTING);
    g_assert_cmpuint(ts_assert_decided_alike(full_cut, tail_cut), ==, 1);
    g_assert_cmpstr(tr_result_undecided(tail_cut->r)->rule, ==, "R4");
}

static void test_r6_drop_without_page_data_leaves_the_records_out(void)
{
    g_autoptr(GBytes) in = rom_stream(KiB(64), KiB(128));
    TrOptions o = {.drop_roms = true};
    g_autoptr(TsRun) full = ts_run(in, &o);
    g_autoptr(TsRun) tail = ts_run_without_pages(in, &o);

    g_assert_cmpuint(ts_assert_decided_alike(full, tail), ==, 0);
    g_assert_cmpint(ts_finding(tail->r, "R6", NULL)->action, ==,
                    TR_ACTION_LOSS);
    /* the block list entry goes in both; its two page records only here */
    g_assert_cmpuint(tail->r->new_size, <, tail->r->old_size);
    g_assert_cmpuint(full->r->new_size, <, tail->r->new_size);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/r4/cirrus-16m-asks-for-vgamem-16",
                    test_r4_cirrus_16m_asks_for_vgamem_16);
    g_test_add_func("/r4/shrink-drops-fill-pages-and-mends-the-chain",
                    test_r4_shrink_drops_fill_pages_and_mends_the_chain);
    g_test_add_func("/r4/shrink-refuses-data-above-the-cut",
                    test_r4_shrink_refuses_data_above_the_cut);
    g_test_add_func("/r4/ignores-8m-cirrus", test_r4_ignores_8m_cirrus);
    g_test_add_func("/r4/decides-from-the-cirrus-rom-block-alone",
                    test_r4_decides_from_the_cirrus_rom_block_alone);
    g_test_add_func("/r6/rom-extracted-to-a-file-of-block-length",
                    test_r6_rom_extracted_to_a_file_of_block_length);
    g_test_add_func("/r6/drop-roms-removes-block-and-pages",
                    test_r6_drop_roms_removes_block_and_pages);
    g_test_add_func("/r6/r7-ignore-matching-sizes",
                    test_r6_r7_ignore_matching_sizes);
    g_test_add_func("/r7/bios-of-256k-gets-bios-option",
                    test_r7_bios_of_256k_gets_bios_option);
    g_test_add_func("/r10/cuts-a-16k-rom-whose-content-ends-below-8k",
                    test_r10_cuts_a_16k_rom_whose_content_ends_below_8k);
    g_test_add_func("/r10/refuses-mode-list-past-8k",
                    test_r10_refuses_mode_list_past_8k);
    g_test_add_func("/r10/refuses-data-pages-above-8k",
                    test_r10_refuses_data_pages_above_8k);
    g_test_add_func("/r10/refusal-names-accept-loss-and-the-modes-lost",
                    test_r10_refusal_names_accept_loss_and_the_modes_lost);
    g_test_add_func("/r10/accept-loss-cuts-and-lowers-the-mode-count",
                    test_r10_accept_loss_cuts_and_lowers_the_mode_count);
    g_test_add_func("/r10/accept-loss-takes-data-pages-above-8k",
                    test_r10_accept_loss_takes_data_pages_above_8k);
    g_test_add_func("/r10/mode-in-use-past-the-cut-has-no-way-out",
                    test_r10_mode_in_use_past_the_cut_has_no_way_out);
    g_test_add_func("/r24/revision-from-pci-config",
                    test_r24_revision_from_pci_config);
    g_test_add_func("/r17/renames-flash-and-adds-pflash-drive",
                    test_r17_renames_flash_and_adds_pflash_drive);
    g_test_add_func("/r17/isa-bios-without-flash-is-refused",
                    test_isa_bios_without_flash_is_refused);
    g_test_add_func("/no-page-data/r10-cut-is-undecided",
                    test_r10_cut_is_undecided_without_page_data);
    g_test_add_func("/no-page-data/r10-refusal-is-undecided",
                    test_r10_refusal_is_undecided_without_page_data);
    g_test_add_func("/no-page-data/r24-revision-is-decided",
                    test_r24_revision_is_decided_without_page_data);
    g_test_add_func("/no-page-data/r4-undecided-only-when-shrinking",
                    test_r4_is_undecided_without_page_data_only_when_shrinking);
    g_test_add_func("/no-page-data/r6-drop-leaves-the-records-out",
                    test_r6_drop_without_page_data_leaves_the_records_out);
    return g_test_run();
}
