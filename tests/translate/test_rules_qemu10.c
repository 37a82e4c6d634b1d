/*
 * Unit tests of the qemu-10.0 target's rules on builder-made streams:
 * R18 (CONFIGURATION), R19 (section footers), R20 (fill pages expanded),
 * R21 (piix4_pm PCI hotplug layout), R22 (std VGA revision). Each: it
 * fires on its evidence, it does not fire on the look-alike (or for the
 * qemu-7.2 target), and a second run over the result has nothing to do.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "streams.h"
#include "translate/rules.h"

static const VmsBlockSpec small_ram[] = {{"pc.ram", KiB(64)}};

static TrOptions q10(void)
{
    return ts_target("qemu-10.0");
}

/*
 * header [CONFIGURATION] START ram, PART ram (pages), END ram, FULL timer,
 * optional block sections (qemu-kvm 0.15/1.0), optional footers.
 */
typedef struct Shape {
    const char *machine; /* CONFIGURATION, or NULL */
    bool footers;
    bool block;
    uint32_t ram_id;
} Shape;

static void end_section(VmsBuilder *b, const Shape *sh, uint32_t id)
{
    if (sh->footers) {
        vms_builder_footer(b, id);
    }
}

static GBytes *shaped_stream(const Shape *sh)
{
    g_autoptr(GByteArray) out = g_byte_array_new();
    VmsBuilder *b = vms_builder_new_bytes(out);
    uint8_t timer[24] = {0};

    vms_builder_header(b);
    if (sh->machine) {
        vms_builder_configuration(b, sh->machine);
    }
    if (sh->block) {
        vms_builder_section(b, VMS_SECTION_START, 1, "block", 0, 1);
        vms_builder_block_eos(b);
    }
    vms_builder_section(b, VMS_SECTION_START, sh->ram_id, "ram", 0, 4);
    vms_builder_ram_mem_size(b, small_ram, 1);
    vms_builder_ram_eos(b);
    end_section(b, sh, sh->ram_id);
    vms_builder_section(b, VMS_SECTION_PART, sh->ram_id, NULL, 0, 0);
    vms_builder_ram_fill(b, "pc.ram", 0, 0);
    vms_builder_ram_eos(b);
    end_section(b, sh, sh->ram_id);
    if (sh->block) {
        vms_builder_section(b, VMS_SECTION_END, 1, NULL, 0, 0);
        vms_builder_block_eos(b);
    }
    vms_builder_section(b, VMS_SECTION_END, sh->ram_id, NULL, 0, 0);
    vms_builder_ram_eos(b);
    end_section(b, sh, sh->ram_id);
    ts_full(b, 7, "timer", 0, 2, timer, sizeof(timer));
    end_section(b, sh, 7);
    return ts_finish(b, out);
}

static guint count_sections(const VmsStream *s)
{
    guint n = 0;

    for (guint i = 0; i < s->sections->len; i++) {
        VmsRecordType t = vms_stream_section(s, i)->type;
        n += t >= VMS_SECTION_START && t <= VMS_SECTION_FULL;
    }
    return n;
}

/* ---- R18 / R19 ------------------------------------------------------------
 */

static void test_r18_r19_frame_an_old_stream(void)
{
    Shape sh = {.ram_id = 2};
    g_autoptr(GBytes) in = shaped_stream(&sh);
    TrOptions o = q10();
    g_autoptr(TsRun) run = ts_run(in, &o);
    const TrFinding *conf = ts_finding(run->r, "R18", NULL);
    const TrFinding *foot = ts_finding(run->r, "R19", NULL);
    guint n = count_sections(run->s);

    g_assert_nonnull(conf);
    g_assert_cmpint(conf->action, ==, TR_ACTION_EDIT);
    g_assert_nonnull(strstr(conf->evidence, "no CONFIGURATION record"));
    g_assert_nonnull(foot);
    g_assert_nonnull(strstr(foot->evidence, "4 of 4 section records"));
    g_assert_cmpuint(n, ==, 4);
    /* 07 + be32 13 + "pc-i440fx-2.4", and 7e + be32 id per section */
    g_assert_cmpuint(run->r->new_size, ==, run->r->old_size + 18 + 5 * n);
    g_assert_cmpstr(run->r->recipe->machine, ==, "pc-i440fx-2.4");

    g_autoptr(TsRun) again = ts_rerun(run, &o);
    g_autofree char *machine = vms_stream_machine(again->s);
    g_assert_cmpstr(machine, ==, "pc-i440fx-2.4");
    g_assert_true(again->s->has_footers);
    for (guint i = 0; i < again->s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(again->s, i);
        if (sec->type >= VMS_SECTION_START && sec->type <= VMS_SECTION_FULL) {
            g_assert_true(sec->has_footer);
        }
    }
}

static void test_r18_renames_a_machine_the_target_lacks(void)
{
    Shape sh = {.machine = "pc-i440fx-2.3", .footers = true, .ram_id = 2};
    g_autoptr(GBytes) in = shaped_stream(&sh);
    TrOptions o = q10();
    g_autoptr(TsRun) run = ts_run(in, &o);
    const TrFinding *f = ts_finding(run->r, "R18", NULL);

    g_assert_nonnull(f);
    g_assert_nonnull(strstr(f->evidence, "'pc-i440fx-2.3'"));
    g_assert_null(ts_finding(run->r, "R19", NULL));
    g_assert_cmpuint(run->r->new_size, ==, run->r->old_size); /* 13 chars */
    g_autoptr(TsRun) again = ts_rerun(run, &o);
    g_autofree char *machine = vms_stream_machine(again->s);
    g_assert_cmpstr(machine, ==, "pc-i440fx-2.4");
}

static void test_r18_r19_leave_a_stream_for_a_kept_machine(void)
{
    Shape sh = {.machine = "pc-i440fx-7.2", .footers = true, .ram_id = 2};
    g_autoptr(GBytes) in = shaped_stream(&sh);
    TrOptions o = q10();
    g_autoptr(TsRun) run = ts_run(in, &o);

    g_assert_null(ts_finding(run->r, "R18", NULL));
    g_assert_null(ts_finding(run->r, "R19", NULL));
    g_assert_cmpuint(run->r->edits->len, ==, 0);
    g_assert_cmpstr(run->r->recipe->machine, ==, "pc-i440fx-7.2");
}

static void test_r18_r19_not_for_qemu72(void)
{
    Shape sh = {.ram_id = 2};
    g_autoptr(GBytes) in = shaped_stream(&sh);
    g_autoptr(TsRun) run = ts_run(in, NULL);

    g_assert_null(ts_finding(run->r, "R18", NULL));
    g_assert_null(ts_finding(run->r, "R19", NULL));
    g_assert_cmpuint(run->r->edits->len, ==, 0);
}

static void test_r19_footers_carry_r8_ids_and_skip_dropped_blocks(void)
{
    Shape sh = {.ram_id = 0, .block = true};
    g_autoptr(GBytes) in = shaped_stream(&sh);
    TrOptions o = q10();
    g_autoptr(TsRun) run = ts_run(in, &o);

    g_assert_nonnull(ts_finding(run->r, "R8", "ram"));
    g_assert_nonnull(ts_finding(run->r, "R9", "block"));
    /* ram START/PART/END + timer; the two block records are dropped */
    g_assert_nonnull(strstr(ts_finding(run->r, "R19", NULL)->evidence,
                            "4 of 4 section records"));

    g_autoptr(TsRun) again = ts_rerun(run, &o);
    for (guint i = 0; i < again->s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(again->s, i);
        g_assert_true(sec->kind != VMS_KIND_BLOCK);
        if (sec->kind == VMS_KIND_RAM) {
            g_assert_cmpuint(sec->section_id, ==, 8);
            g_assert_true(sec->has_footer);
        }
    }
}

/* ---- R20 -------------------------------------------------------------------
 */

static GBytes *fill_stream(void)
{
    static const VmsBlockSpec blocks[] = {{"pc.ram", KiB(64)},
                                          {"vga.vram", KiB(16)}};
    g_autoptr(GByteArray) out = g_byte_array_new();
    VmsBuilder *b = ts_begin(out, 2, blocks, G_N_ELEMENTS(blocks));
    uint8_t page[4096];

    memset(page, 0x5a, sizeof(page));
    vms_builder_ram_fill(b, "pc.ram", 0, 0xcc);       /* named */
    vms_builder_ram_fill(b, "pc.ram", KiB(4), 0xcc);  /* CONTINUE */
    vms_builder_ram_fill(b, "pc.ram", KiB(8), 0);     /* stays */
    vms_builder_ram_page(b, "pc.ram", KiB(12), page); /* stays */
    vms_builder_ram_fill(b, "vga.vram", 0, 0xff);     /* named */
    ts_ram_end(b);
    return ts_finish(b, out);
}

static void assert_block_bytes(const TsRun *run, const char *id, uint64_t at,
                               uint8_t value)
{
    g_autoptr(GError) err = NULL;
    int i = vms_stream_find_block(run->s, id);
    g_assert_cmpint(i, >=, 0);
    g_autoptr(GBytes) block = tr_extract_block(run->s, run->src, i, &err);
    g_assert_no_error(err);
    const uint8_t *p = g_bytes_get_data(block, NULL);
    for (uint64_t k = 0; k < 4096; k++) {
        g_assert_cmpuint(p[at + k], ==, value);
    }
}

static void test_r20_expands_nonzero_fill_pages_exactly(void)
{
    g_autoptr(GBytes) in = fill_stream();
    TrOptions o = q10();
    g_autoptr(TsRun) run = ts_run(in, &o);
    const TrFinding *ram = ts_finding(run->r, "R20", "pc.ram");
    const TrFinding *vram = ts_finding(run->r, "R20", "vga.vram");

    g_assert_nonnull(ram);
    g_assert_nonnull(vram);
    g_assert_nonnull(strstr(ram->evidence, "2 fill page record(s)"));
    g_assert_nonnull(strstr(ram->evidence, "0xcc: 2"));
    g_assert_nonnull(strstr(ram->change, "grows by 8190 bytes"));
    g_assert_nonnull(strstr(vram->change, "grows by 4095 bytes"));
    g_assert_cmpuint(run->r->new_size, ==,
                     run->r->old_size + 3 * 4095 + 18 + 5);
    /* the two 0xcc pages share one buffer: no edit larger than a page */
    for (guint i = 0; i < run->r->edits->len; i++) {
        const TrEdit *e = &g_array_index(run->r->edits, TrEdit, i);
        g_assert_cmpuint(g_bytes_get_size(e->data), <=, 4096);
    }

    g_autoptr(TsRun) again = ts_rerun(run, &o);
    g_assert_null(ts_finding(again->r, "R20", NULL));
    const GArray *pages = again->s->pages;
    g_assert_cmpuint(pages->len, ==, 5);
    const VmsPage *p = (const VmsPage *)pages->data;
    const VmsPage *before = (const VmsPage *)run->s->pages->data;
    for (guint i = 0; i < 5; i++) {
        /* CONTINUE exactly as written; FILL -> PAGE where the byte was not
         * 0 */
        g_assert_cmpuint(p[i].flags & VMS_RAM_CONTINUE, ==,
                         before[i].flags & VMS_RAM_CONTINUE);
        g_assert_cmpuint(p[i].addr, ==, before[i].addr);
    }
    g_assert_true(p[0].flags & VMS_RAM_PAGE);
    g_assert_true(p[1].flags & VMS_RAM_PAGE);
    g_assert_true(p[2].flags & VMS_RAM_FILL);
    g_assert_true(p[4].flags & VMS_RAM_PAGE);
    assert_block_bytes(again, "pc.ram", 0, 0xcc);
    assert_block_bytes(again, "pc.ram", KiB(4), 0xcc);
    assert_block_bytes(again, "pc.ram", KiB(12), 0x5a);
    assert_block_bytes(again, "vga.vram", 0, 0xff);
}

static void test_r20_not_for_qemu72_nor_zero_fill(void)
{
    g_autoptr(GBytes) in = fill_stream();
    g_autoptr(TsRun) run = ts_run(in, NULL);
    Shape sh = {.ram_id = 2}; /* only a fill-0 page */
    g_autoptr(GBytes) zero = shaped_stream(&sh);
    TrOptions o = q10();
    g_autoptr(TsRun) z = ts_run(zero, &o);

    g_assert_null(ts_finding(run->r, "R20", NULL));
    g_assert_null(ts_finding(z->r, "R20", NULL));
}

static void test_r20_is_undecided_without_page_data(void)
{
    g_autoptr(GBytes) in = fill_stream();
    Shape sh = {.ram_id = 2}; /* only a fill-0 page */
    g_autoptr(GBytes) zero = shaped_stream(&sh);
    TrOptions o = q10();
    g_autoptr(TsRun) full = ts_run(in, &o);
    g_autoptr(TsRun) tail = ts_run_without_pages(in, &o);
    g_autoptr(TsRun) zero_full = ts_run(zero, &o);
    g_autoptr(TsRun) zero_tail = ts_run_without_pages(zero, &o);
    g_autoptr(TsRun) q72_full = ts_run(in, NULL);
    g_autoptr(TsRun) q72_tail = ts_run_without_pages(in, NULL);

    /* both blocks have non-zero fill pages: one undecided R20 each */
    g_assert_cmpuint(ts_assert_decided_alike(full, tail), ==, 2);
    g_assert_cmpstr(tr_result_undecided(tail->r)->rule, ==, "R20");
    g_assert_nonnull(
        strstr(ts_finding(tail->r, "R20", "vga.vram")->evidence, "not read"));
    /* none: it takes the page records to know */
    g_assert_null(ts_finding(zero_full->r, "R20", NULL));
    g_assert_cmpstr(tr_result_undecided(zero_tail->r)->rule, ==, "R20");
    /* qemu-7.2 loads any fill byte */
    g_assert_cmpuint(ts_assert_decided_alike(q72_full, q72_tail), ==, 0);
}

/* ---- R21 / R22 -------------------------------------------------------------
 */

/* piix4_pm v3: the legacy layout ends with bus 0's {up, down}; the bridge
 * layout with hotplug_select and 256 of them. */
#define PIIX4_LEGACY_LEN 312
#define PIIX4_BRIDGE_LEN (304 + 4 + 256 * 8)
/* PCI std VGA: PCIDevice + VGACommonState */
#define VGA_COMMON_LEN 1131

static GBytes *device_stream(const char *idstr, uint32_t version,
                             GBytes *payload)
{
    g_autoptr(GByteArray) out = g_byte_array_new();
    VmsBuilder *b = ts_begin(out, 2, small_ram, G_N_ELEMENTS(small_ram));
    gsize len;
    const void *p = g_bytes_get_data(payload, &len);

    vms_builder_ram_fill(b, "pc.ram", 0, 0);
    ts_ram_end(b);
    ts_full(b, 10, idstr, 0, version, p, len);
    return ts_finish(b, out);
}

static GBytes *zeros(size_t len)
{
    return g_bytes_new_take(g_malloc0(len), len);
}

static void test_r21_legacy_pcihp_gets_bridge_support_off(void)
{
    g_autoptr(GBytes) payload = zeros(PIIX4_LEGACY_LEN);
    g_autoptr(GBytes) in = device_stream("0000:00:01.3/piix4_pm", 3, payload);
    TrOptions o = q10();
    g_autoptr(TsRun) run = ts_run(in, &o);
    const TrFinding *f = ts_finding(run->r, "R21", NULL);
    g_autofree char *line = tr_recipe_command_line(run->r->recipe);

    g_assert_nonnull(f);
    g_assert_cmpint(f->action, ==, TR_ACTION_SETTING);
    g_assert_nonnull(strstr(
        line, "-global PIIX4_PM.acpi-pci-hotplug-with-bridge-support=off"));
    /* on 7.2's pc-i440fx-1.4 the legacy layout is the default */
    g_autoptr(TsRun) old = ts_run(in, NULL);
    g_assert_null(ts_finding(old->r, "R21", NULL));
    g_autoptr(TsRun) again = ts_rerun(run, &o);
    g_assert_nonnull(ts_finding(again->r, "R21", NULL)); /* still a setting */
}

static void test_r21_bridge_layout_needs_nothing_on_qemu10(void)
{
    g_autoptr(GBytes) payload = zeros(PIIX4_BRIDGE_LEN);
    g_autoptr(GBytes) in = device_stream("0000:00:01.3/piix4_pm", 3, payload);
    TrOptions o = q10();
    g_autoptr(TsRun) run = ts_run(in, &o);

    g_assert_null(ts_finding(run->r, "R21", NULL));
}

static void test_r22_vga_revision_0_gets_extended_regs_off(void)
{
    g_autoptr(GBytes) rev0 =
        ts_pci_device(0x1234, 0x1111, 0x0300, 0, VGA_COMMON_LEN);
    g_autoptr(GBytes) rev2 =
        ts_pci_device(0x1234, 0x1111, 0x0300, 2, VGA_COMMON_LEN);
    g_autoptr(GBytes) in0 = device_stream("0000:00:02.0/vga", 2, rev0);
    g_autoptr(GBytes) in2 = device_stream("0000:00:02.0/vga", 2, rev2);
    TrOptions o = q10();
    g_autoptr(TsRun) run0 = ts_run(in0, &o);
    g_autoptr(TsRun) run2 = ts_run(in2, &o);
    g_autoptr(TsRun) old0 = ts_run(in0, NULL);
    const TrFinding *f = ts_finding(run0->r, "R22", NULL);
    g_autofree char *line = tr_recipe_command_line(run0->r->recipe);

    g_assert_nonnull(f);
    g_assert_nonnull(strstr(f->evidence, "revision is 0"));
    g_assert_nonnull(strstr(line, "-global VGA.qemu-extended-regs=off"));
    g_assert_null(ts_finding(run2->r, "R22", NULL));
    g_assert_null(ts_finding(old0->r, "R22", NULL));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/r18-r19/frame-an-old-stream",
                    test_r18_r19_frame_an_old_stream);
    g_test_add_func("/r18/renames-a-machine-the-target-lacks",
                    test_r18_renames_a_machine_the_target_lacks);
    g_test_add_func("/r18-r19/leave-a-stream-for-a-kept-machine",
                    test_r18_r19_leave_a_stream_for_a_kept_machine);
    g_test_add_func("/r18-r19/not-for-qemu72", test_r18_r19_not_for_qemu72);
    g_test_add_func("/r19/footers-carry-r8-ids-and-skip-dropped-blocks",
                    test_r19_footers_carry_r8_ids_and_skip_dropped_blocks);
    g_test_add_func("/r20/expands-nonzero-fill-pages-exactly",
                    test_r20_expands_nonzero_fill_pages_exactly);
    g_test_add_func("/r20/not-for-qemu72-nor-zero-fill",
                    test_r20_not_for_qemu72_nor_zero_fill);
    g_test_add_func("/r20/undecided-without-page-data",
                    test_r20_is_undecided_without_page_data);
    g_test_add_func("/r21/legacy-pcihp-gets-bridge-support-off",
                    test_r21_legacy_pcihp_gets_bridge_support_off);
    g_test_add_func("/r21/bridge-layout-needs-nothing-on-qemu10",
                    test_r21_bridge_layout_needs_nothing_on_qemu10);
    g_test_add_func("/r22/vga-revision-0-gets-extended-regs-off",
                    test_r22_vga_revision_0_gets_extended_regs_off);
    return g_test_run();
}
