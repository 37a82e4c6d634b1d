/*
 * Unit tests of the section rules (R1, R2, R3, R8, R9, R16, --drop-section,
 * the target check) and the machine/environment rules, on synthetic
 * streams made by the stream builder. Every rule: it fires on its
 * evidence, it does not fire on the look-alike, and a second run over the
 * result finds nothing left to do.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "streams.h"

static const VmsBlockSpec small_ram[] = {{"pc.ram", KiB(64)}};

static uint32_t section_version(const VmsStream *s, const char *idstr)
{
    const VmsSection *sec = vms_stream_find_section(s, idstr, -1);
    g_assert_nonnull(sec);
    return sec->version_id;
}

/* ---- R1 -------------------------------------------------------------------
 */

static void test_r1_qemu_kvm_piix4_pm_becomes_v3(void)
{
    TsDev d[] = {{"0000:00:01.3/piix4_pm", 0, 2, NULL, 312}};
    g_autoptr(GBytes) in = ts_stream_with(d, 1);
    g_autoptr(TsRun) run = ts_run(in, NULL);
    const TrFinding *f = ts_finding(run->r, "R1", NULL);

    g_assert_nonnull(f);
    g_assert_cmpint(f->action, ==, TR_ACTION_EDIT);
    g_assert_nonnull(strstr(f->evidence, "312 bytes"));
    g_assert_cmpuint(run->r->edits->len, ==, 1);
    g_assert_cmpuint(run->r->new_size, ==, run->r->old_size);

    g_autoptr(TsRun) again = ts_rerun(run, NULL);
    g_assert_cmpuint(section_version(again->s, "0000:00:01.3/piix4_pm"), ==, 3);
    g_assert_null(ts_finding(again->r, "R1", NULL));
}

static void test_r1_ignores_upstream_v2_of_324_bytes(void)
{
    TsDev d[] = {{"0000:00:01.3/piix4_pm", 0, 2, NULL, 324}};
    g_autoptr(GBytes) in = ts_stream_with(d, 1);
    g_autoptr(TsRun) run = ts_run(in, NULL);
    const TrFinding *t = ts_finding(run->r, "target", NULL);

    g_assert_null(ts_finding(run->r, "R1", NULL));
    /* 7.2 has no loader for v2 at all: refused, with the reason */
    g_assert_nonnull(t);
    g_assert_cmpint(t->action, ==, TR_ACTION_REFUSE);
    g_assert_nonnull(strstr(t->evidence, "versions 3..3"));
    g_assert_true(run->r->refused);
    g_assert_cmpuint(run->r->edits->len, ==, 0);
}

static void test_r1_ignores_v3(void)
{
    TsDev d[] = {{"0000:00:01.3/piix4_pm", 0, 3, NULL, 312}};
    g_autoptr(GBytes) in = ts_stream_with(d, 1);
    g_autoptr(TsRun) run = ts_run(in, NULL);

    g_assert_null(ts_finding(run->r, "R1", NULL));
    g_assert_false(run->r->refused);
    g_assert_cmpuint(run->r->edits->len, ==, 0);
}

/* ---- R2 -------------------------------------------------------------------
 */

static void test_r2_qemu_kvm_i8254_becomes_v3(void)
{
    TsDev d[] = {{"i8254", 0, 2, NULL, 108}};
    g_autoptr(GBytes) in = ts_stream_with(d, 1);
    g_autoptr(TsRun) run = ts_run(in, NULL);
    const TrFinding *f = ts_finding(run->r, "R2", "i8254");

    g_assert_nonnull(f);
    g_assert_nonnull(strstr(f->evidence, "108 bytes"));
    g_autoptr(TsRun) again = ts_rerun(run, NULL);
    g_assert_cmpuint(section_version(again->s, "i8254"), ==, 3);
}

static void test_r2_ignores_upstream_v2_of_104_bytes(void)
{
    TsDev d[] = {{"i8254", 0, 2, NULL, 104}};
    g_autoptr(GBytes) in = ts_stream_with(d, 1);
    g_autoptr(TsRun) run = ts_run(in, NULL);

    g_assert_null(ts_finding(run->r, "R2", NULL));
    /* upstream v2 is what 7.2 reads as v2: nothing to do */
    g_assert_false(run->r->refused);
    g_assert_cmpuint(run->r->edits->len, ==, 0);
}

/* ---- R3 -------------------------------------------------------------------
 */

static void test_r3_usb_port_name_gets_controller_path(void)
{
    g_autoptr(GBytes) uhci = ts_uhci_v2();
    TsDev d[] = {{"0000:00:01.2/uhci", 0, 2, uhci, 0},
                 {"1/usb-ptr", 0, 1, NULL, 298}};
    g_autoptr(GBytes) in = ts_stream_with(d, 2);
    g_autoptr(TsRun) run = ts_run(in, NULL);
    const TrFinding *f = ts_finding(run->r, "R3", "1/usb-ptr");

    g_assert_nonnull(f);
    g_assert_cmpint(f->action, ==, TR_ACTION_EDIT);
    /* the idstr grows by "0000:00:01.2/" */
    g_assert_cmpuint(run->r->new_size, ==, run->r->old_size + 13);
    g_autoptr(TsRun) again = ts_rerun(run, NULL);
    g_assert_nonnull(
        vms_stream_find_section(again->s, "0000:00:01.2/1/usb-ptr", 0));
    g_assert_null(vms_stream_find_section(again->s, "1/usb-ptr", -1));
}

static void test_r3_refuses_without_a_controller(void)
{
    TsDev d[] = {{"1/usb-ptr", 0, 1, NULL, 298}};
    g_autoptr(GBytes) in = ts_stream_with(d, 1);
    g_autoptr(TsRun) run = ts_run(in, NULL);
    const TrFinding *f = ts_finding(run->r, "R3", NULL);

    g_assert_nonnull(f);
    g_assert_cmpint(f->action, ==, TR_ACTION_REFUSE);
    g_assert_true(run->r->refused);
}

static void test_r3_ignores_full_paths(void)
{
    g_autoptr(GBytes) uhci = ts_uhci_v2();
    TsDev d[] = {{"0000:00:01.2/uhci", 0, 2, uhci, 0},
                 {"0000:00:01.2/1/usb-ptr", 0, 1, NULL, 298}};
    g_autoptr(GBytes) in = ts_stream_with(d, 2);
    g_autoptr(TsRun) run = ts_run(in, NULL);

    g_assert_null(ts_finding(run->r, "R3", NULL));
    g_assert_cmpuint(run->r->edits->len, ==, 0);
}

/* ---- R8 and R9: live sections ----------------------------------------------
 */

static GBytes *live_stream(uint32_t ram_id, bool block, bool block_data)
{
    g_autoptr(GByteArray) out = g_byte_array_new();
    VmsBuilder *b = vms_builder_new_bytes(out);

    vms_builder_header(b);
    if (block) {
        vms_builder_section(b, VMS_SECTION_START, 1, "block", 0, 1);
        if (block_data) {
            vms_builder_be64(b, 0x4); /* a progress record, then EOS */
        }
        vms_builder_block_eos(b);
    }
    vms_builder_section(b, VMS_SECTION_START, ram_id, "ram", 0, 4);
    vms_builder_ram_mem_size(b, small_ram, 1);
    vms_builder_ram_eos(b);
    if (block) {
        vms_builder_section(b, VMS_SECTION_PART, 1, NULL, 0, 0);
        vms_builder_block_eos(b);
    }
    vms_builder_section(b, VMS_SECTION_PART, ram_id, NULL, 0, 0);
    vms_builder_ram_fill(b, "pc.ram", 0, 0);
    vms_builder_ram_eos(b);
    if (block) {
        vms_builder_section(b, VMS_SECTION_END, 1, NULL, 0, 0);
        vms_builder_block_eos(b);
    }
    vms_builder_section(b, VMS_SECTION_END, ram_id, NULL, 0, 0);
    vms_builder_ram_eos(b);
    uint8_t timer[24] = {0};
    ts_full(b, 7, "timer", 0, 2, timer, sizeof(timer));
    return ts_finish(b, out);
}

static void test_r8_renumbers_live_section_id_0(void)
{
    g_autoptr(GBytes) in = live_stream(0, false, false);
    g_autoptr(TsRun) run = ts_run(in, NULL);
    const TrFinding *f = ts_finding(run->r, "R8", "ram");

    g_assert_nonnull(f);
    g_assert_nonnull(strstr(f->change, "0 -> 8"));
    g_assert_cmpuint(f->n_edits, ==, 3); /* START, PART, END */
    g_autoptr(TsRun) again = ts_rerun(run, NULL);
    for (guint i = 0; i < again->s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(again->s, i);
        if (sec->kind == VMS_KIND_RAM) {
            g_assert_cmpuint(sec->section_id, ==, 8);
        }
    }
}

static void test_r8_leaves_nonzero_ids_and_old_targets(void)
{
    g_autoptr(GBytes) in = live_stream(3, false, false);
    g_autoptr(TsRun) run = ts_run(in, NULL);
    g_autoptr(GBytes) zero = live_stream(0, false, false);
    TrOptions o = {.target = tr_target_find("qemu-2.0")};
    g_autoptr(TsRun) old = ts_run(zero, &o);

    g_assert_null(ts_finding(run->r, "R8", NULL));
    /* 2.0 looks PART/END up among the STARTs it saw: id 0 is fine */
    g_assert_null(ts_finding(old->r, "R8", NULL));
}

static void test_r9_drops_empty_block_sections(void)
{
    g_autoptr(GBytes) in = live_stream(2, true, false);
    g_autoptr(TsRun) run = ts_run(in, NULL);
    const TrFinding *f = ts_finding(run->r, "R9", "block");

    g_assert_nonnull(f);
    g_assert_cmpuint(f->n_edits, ==, 3);
    g_autoptr(TsRun) again = ts_rerun(run, NULL);
    g_assert_null(vms_stream_find_section(again->s, "block", -1));
    g_assert_nonnull(vms_stream_find_section(again->s, "timer", 0));
}

static void test_r9_keep_block_sections_option(void)
{
    g_autoptr(GBytes) in = live_stream(2, true, false);
    TrOptions o = {.keep_block_sections = true};
    g_autoptr(TsRun) run = ts_run(in, &o);
    const TrFinding *f = ts_finding(run->r, "R9", "block");

    g_assert_nonnull(f);
    g_assert_cmpint(f->action, ==, TR_ACTION_NOTE);
    g_assert_cmpuint(run->r->edits->len, ==, 0);
}

static void test_r9_keeps_block_sections_with_records(void)
{
    g_autoptr(GBytes) in = live_stream(2, true, true);
    g_autoptr(TsRun) run = ts_run(in, NULL);

    g_assert_null(ts_finding(run->r, "R9", NULL));
}

/* ---- R16 ---------------------------------------------------------------- */

static void test_r16_balloon_class_rewritten_for_72(void)
{
    g_autoptr(GBytes) balloon = ts_virtio_balloon(0x0500);
    TsDev d[] = {{"0000:00:05.0/virtio-balloon", 0, 1, balloon, 0}};
    g_autoptr(GBytes) in = ts_stream_with(d, 1);
    g_autoptr(TsRun) run = ts_run(in, NULL);
    const TrFinding *f = ts_finding(run->r, "R16", NULL);

    g_assert_nonnull(f);
    g_assert_cmpint(f->action, ==, TR_ACTION_EDIT);
    g_autoptr(TsRun) again = ts_rerun(run, NULL);
    const VmsSection *sec =
        vms_stream_find_section(again->s, "0000:00:05.0/virtio-balloon", 0);
    gsize len;
    const uint8_t *p = g_bytes_get_data(sec->payload, &len);
    g_assert_cmphex(p[4 + 0x0a], ==, 0xff);
    g_assert_cmphex(p[4 + 0x0b], ==, 0x00);
}

static void test_r16_balloon_class_is_a_setting_for_20(void)
{
    g_autoptr(GBytes) balloon = ts_virtio_balloon(0x0500);
    TsDev d[] = {{"0000:00:05.0/virtio-balloon", 0, 1, balloon, 0}};
    g_autoptr(GBytes) in = ts_stream_with(d, 1);
    TrOptions o = {.target = tr_target_find("qemu-2.0")};
    g_autoptr(TsRun) run = ts_run(in, &o);
    const TrFinding *f = ts_finding(run->r, "R16", NULL);
    g_autofree char *line = tr_recipe_command_line(run->r->recipe);

    g_assert_nonnull(f);
    g_assert_cmpint(f->action, ==, TR_ACTION_SETTING);
    g_assert_cmpuint(run->r->edits->len, ==, 0);
    g_assert_nonnull(strstr(line, "-global virtio-balloon-pci.class=0x0500"));
}

static void test_r16_ignores_class_00ff(void)
{
    g_autoptr(GBytes) balloon = ts_virtio_balloon(0x00ff);
    TsDev d[] = {{"0000:00:05.0/virtio-balloon", 0, 1, balloon, 0}};
    g_autoptr(GBytes) in = ts_stream_with(d, 1);
    g_autoptr(TsRun) run = ts_run(in, NULL);

    g_assert_null(ts_finding(run->r, "R16", NULL));
    g_assert_cmpuint(run->r->edits->len, ==, 0);
}

/* ---- what the target cannot load ---------------------------------------- */

static void test_unknown_device_is_refused_with_its_name(void)
{
    TsDev d[] = {{"0000:00:06.0/pci-assign", 0, 1, NULL, 16}};
    g_autoptr(GBytes) in = ts_stream_with(d, 1);
    g_autoptr(TsRun) run = ts_run(in, NULL);
    const TrFinding *f = tr_result_refusal(run->r);

    g_assert_nonnull(f);
    g_assert_cmpstr(f->subject, ==, "0000:00:06.0/pci-assign");
    g_assert_nonnull(strstr(f->evidence, "no device that loads it"));
    g_assert_cmpstr(f->way_out, ==, "--drop-section '0000:00:06.0/pci-assign'");
    g_assert_nonnull(
        strstr(f->risk, "0000:00:06.0/pci-assign' (16 bytes) is lost"));
    g_assert_cmpuint(run->r->edits->len, ==, 0);
}

static void test_drop_section_removes_it_as_a_loss(void)
{
    TsDev d[] = {{"0000:00:06.0/pci-assign", 0, 1, NULL, 16},
                 {"i8254", 0, 3, NULL, 108}};
    g_autoptr(GBytes) in = ts_stream_with(d, 2);
    const char *const drop[] = {"pci-assign", NULL};
    TrOptions o = {.drop_sections = drop};
    g_autoptr(TsRun) run = ts_run(in, &o);
    const TrFinding *f = ts_finding(run->r, "drop-section", NULL);

    g_assert_nonnull(f);
    g_assert_cmpint(f->action, ==, TR_ACTION_LOSS);
    g_assert_false(run->r->refused);
    g_autoptr(TsRun) again = ts_rerun(run, &o);
    g_assert_null(
        vms_stream_find_section(again->s, "0000:00:06.0/pci-assign", -1));
    g_assert_nonnull(vms_stream_find_section(again->s, "i8254", 0));
}

static void test_misfit_payload_of_a_known_device_is_refused(void)
{
    /* port92 v1 is one byte; five cannot be what the target expects. */
    TsDev d[] = {{"port92", 0, 1, NULL, 5}, {"i8254", 0, 3, NULL, 108}};
    g_autoptr(GBytes) in = ts_stream_with(d, 2);
    g_autoptr(TsRun) run = ts_run(in, NULL);
    const TrFinding *f = tr_result_refusal(run->r);

    g_assert_true(
        vms_stream_find_section(run->s, "port92", 0)->located_by_resync);
    g_assert_nonnull(f);
    g_assert_cmpstr(f->rule, ==, "layout");
    g_assert_cmpstr(f->subject, ==, "port92");
    g_assert_nonnull(strstr(f->evidence, "5-byte payload"));
    g_assert_cmpstr(f->way_out, ==, "--drop-section 'port92'");
    g_assert_cmpuint(run->r->edits->len, ==, 0);

    const char *const drop[] = {"port92", NULL};
    TrOptions o = {.drop_sections = drop};
    g_autoptr(TsRun) dropped = ts_run(in, &o);
    g_assert_false(dropped->r->refused);
    g_assert_null(ts_finding(dropped->r, "layout", NULL));
}

static void test_device_without_a_table_passes_with_a_note(void)
{
    /* The target loads xhci; qsnapfix has no table for it. */
    TsDev d[] = {{"0000:00:05.0/xhci", 0, 1, NULL, 40},
                 {"i8254", 0, 3, NULL, 108}};
    g_autoptr(GBytes) in = ts_stream_with(d, 2);
    g_autoptr(TsRun) run = ts_run(in, NULL);
    const TrFinding *f = ts_finding(run->r, "layout", "0000:00:05.0/xhci");

    g_assert_nonnull(f);
    g_assert_cmpint(f->action, ==, TR_ACTION_NOTE);
    g_assert_nonnull(strstr(f->evidence, "no layout for 'xhci'"));
    g_assert_false(run->r->refused);
    g_assert_cmpuint(run->r->edits->len, ==, 0);
}

static void test_version_too_new_is_refused(void)
{
    TsDev d[] = {{"0000:00:03.0/rtl8139", 0, 6, NULL, 646}};
    g_autoptr(GBytes) in = ts_stream_with(d, 1);
    g_autoptr(TsRun) run = ts_run(in, NULL);
    const TrFinding *f = tr_result_refusal(run->r);

    g_assert_nonnull(f);
    g_assert_nonnull(strstr(f->evidence, "versions 3..5"));
}

/* ---- machine and environment ----------------------------------------------
 */

static void test_kvmclock_needs_kvm_and_no_hpet_means_hpet_off(void)
{
    TsDev d[] = {{"kvmclock", 0, 1, NULL, 8}, {"mc146818rtc", 0, 2, NULL, 205}};
    g_autoptr(GBytes) in = ts_stream_with(d, 2);
    g_autoptr(TsRun) run = ts_run(in, NULL);
    g_autofree char *line = tr_recipe_command_line(run->r->recipe);

    g_assert_cmpstr(run->r->recipe->accel, ==, "kvm");
    g_assert_nonnull(ts_finding(run->r, "kvm", NULL));
    g_assert_nonnull(ts_finding(run->r, "hpet", NULL));
    g_assert_cmpstr(line, ==, "-M pc-i440fx-1.4 -accel kvm -machine hpet=off");
    g_assert_cmpuint(run->r->edits->len, ==, 0);
}

static void test_hpet_present_adds_nothing(void)
{
    TsDev d[] = {{"hpet", 0, 2, NULL, 151}, {"mc146818rtc", 0, 2, NULL, 205}};
    g_autoptr(GBytes) in = ts_stream_with(d, 2);
    g_autoptr(TsRun) run = ts_run(in, NULL);

    g_assert_null(ts_finding(run->r, "hpet", NULL));
    g_assert_null(run->r->recipe->accel);
    g_assert_cmpuint(run->r->recipe->settings->len, ==, 0);
}

static void test_configuration_record_sets_the_machine(void)
{
    g_autoptr(GByteArray) out = g_byte_array_new();
    VmsBuilder *b = vms_builder_new_bytes(out);

    vms_builder_header(b);
    vms_builder_configuration(b, "pc-i440fx-7.2");
    vms_builder_section(b, VMS_SECTION_START, 2, "ram", 0, 4);
    vms_builder_ram_mem_size(b, small_ram, 1);
    vms_builder_ram_eos(b);
    g_autoptr(GBytes) in = ts_finish(b, out);
    g_autoptr(TsRun) run = ts_run(in, NULL);
    TrOptions o20 = {.target = tr_target_find("qemu-2.0")};
    g_autoptr(TsRun) old = ts_run(in, &o20);

    g_assert_cmpstr(run->r->recipe->machine, ==, "pc-i440fx-7.2");
    g_assert_false(run->r->refused);
    /* 2.0 reads no CONFIGURATION record and has no such machine: the
     * record goes, and the recipe says the stream names none it has */
    const TrFinding *f = ts_finding(old->r, "R18", NULL);
    g_assert_nonnull(f);
    g_assert_nonnull(strstr(f->change, "CONFIGURATION record removed"));
    g_assert_cmpstr(old->r->recipe->machine, ==, "pc");
    g_assert_nonnull(
        strstr(g_ptr_array_index(old->r->recipe->notes, 0),
               "written for 'pc-i440fx-7.2', which qemu-2.0 does not have"));
    g_autoptr(TsRun) again = ts_rerun(old, &o20);
    g_assert_null(ts_finding(again->r, "R18", NULL));
}

static void test_qemu20_uses_the_writers_machine_type(void)
{
    /* qemu-kvm 1.0: piix4_pm v2 of 312 bytes, i8254 v2 of 108, i8259 0/1 */
    TsDev d[] = {{"0000:00:01.3/piix4_pm", 0, 2, NULL, 312},
                 {"i8254", 0, 2, NULL, 108},
                 {"i8259", 0, 1, NULL, 16},
                 {"i8259", 1, 1, NULL, 16}};
    g_autoptr(GBytes) in = ts_stream_with(d, G_N_ELEMENTS(d));
    TrOptions o = {.target = tr_target_find("qemu-2.0")};
    g_autoptr(TsRun) run = ts_run(in, &o);
    g_autoptr(TsRun) run72 = ts_run(in, NULL);

    g_assert_cmpstr(run->r->recipe->machine, ==, "pc-1.0");
    g_assert_nonnull(ts_finding(run->r, "R15", "machine"));
    /* R1 and R2 fire for 2.0 too: it would misparse qemu-kvm's v2 */
    g_assert_nonnull(ts_finding(run->r, "R1", NULL));
    g_assert_nonnull(ts_finding(run->r, "R2", NULL));
    g_assert_cmpstr(run->r->recipe->cpu_model, ==, "qemu64");
    g_assert_cmpstr(run->r->recipe->cpu_model_id, ==,
                    "QEMU Virtual CPU version 1.0");
    /* 7.2 always uses its oldest i440fx machine */
    g_assert_cmpstr(run72->r->recipe->machine, ==, "pc-i440fx-1.4");
    g_assert_null(ts_finding(run72->r, "R15", NULL));
    g_autoptr(TsRun) again = ts_rerun(run, &o);
    g_assert_null(ts_finding(again->r, "R1", NULL));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/r1/qemu-kvm-piix4_pm-becomes-v3",
                    test_r1_qemu_kvm_piix4_pm_becomes_v3);
    g_test_add_func("/r1/ignores-upstream-v2-of-324-bytes",
                    test_r1_ignores_upstream_v2_of_324_bytes);
    g_test_add_func("/r1/ignores-v3", test_r1_ignores_v3);
    g_test_add_func("/r2/qemu-kvm-i8254-becomes-v3",
                    test_r2_qemu_kvm_i8254_becomes_v3);
    g_test_add_func("/r2/ignores-upstream-v2-of-104-bytes",
                    test_r2_ignores_upstream_v2_of_104_bytes);
    g_test_add_func("/r3/usb-port-name-gets-controller-path",
                    test_r3_usb_port_name_gets_controller_path);
    g_test_add_func("/r3/refuses-without-a-controller",
                    test_r3_refuses_without_a_controller);
    g_test_add_func("/r3/ignores-full-paths", test_r3_ignores_full_paths);
    g_test_add_func("/r8/renumbers-live-section-id-0",
                    test_r8_renumbers_live_section_id_0);
    g_test_add_func("/r8/leaves-nonzero-ids-and-old-targets",
                    test_r8_leaves_nonzero_ids_and_old_targets);
    g_test_add_func("/r9/drops-empty-block-sections",
                    test_r9_drops_empty_block_sections);
    g_test_add_func("/r9/keep-block-sections-option",
                    test_r9_keep_block_sections_option);
    g_test_add_func("/r9/keeps-block-sections-with-records",
                    test_r9_keeps_block_sections_with_records);
    g_test_add_func("/r16/balloon-class-rewritten-for-7.2",
                    test_r16_balloon_class_rewritten_for_72);
    g_test_add_func("/r16/balloon-class-is-a-setting-for-2.0",
                    test_r16_balloon_class_is_a_setting_for_20);
    g_test_add_func("/r16/ignores-class-00ff", test_r16_ignores_class_00ff);
    g_test_add_func("/target/unknown-device-is-refused-with-its-name",
                    test_unknown_device_is_refused_with_its_name);
    g_test_add_func("/target/drop-section-removes-it-as-a-loss",
                    test_drop_section_removes_it_as_a_loss);
    g_test_add_func("/layout/misfit-payload-of-a-known-device-is-refused",
                    test_misfit_payload_of_a_known_device_is_refused);
    g_test_add_func("/layout/device-without-a-table-passes-with-a-note",
                    test_device_without_a_table_passes_with_a_note);
    g_test_add_func("/target/version-too-new-is-refused",
                    test_version_too_new_is_refused);
    g_test_add_func("/machine/kvmclock-needs-kvm-and-no-hpet-means-hpet-off",
                    test_kvmclock_needs_kvm_and_no_hpet_means_hpet_off);
    g_test_add_func("/machine/hpet-present-adds-nothing",
                    test_hpet_present_adds_nothing);
    g_test_add_func("/machine/configuration-record-sets-the-machine",
                    test_configuration_record_sets_the_machine);
    g_test_add_func("/machine/qemu-2.0-uses-the-writers-machine-type",
                    test_qemu20_uses_the_writers_machine_type);
    return g_test_run();
}
