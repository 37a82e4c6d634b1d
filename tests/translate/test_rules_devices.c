/*
 * Unit tests of the device-coverage rules on builder-made streams (the
 * layouts they carry are the ones docs/device-coverage.md read in the old
 * sources): R26 (ehci version 1), R27 (intel-hda MSI address), R28 (the
 * RAM split below 4 GiB), R29 (virtio-pci MSI-X vectors), -M isapc (R15)
 * and a PC without ACPI (acpi).
 * Each: it fires on its evidence, not on the look-alike or for a target
 * that loads the stream as it is, and a second run over the result has
 * nothing left to do.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "streams.h"
#include "translate/rules.h"

/* ---- R26: ehci version 1 ------------------------------------------------- */

#define EHCI_V1_LEN 368
#define PCI_LEN     276

/* QEMU 1.2's "ehci" v1: PCI device, then usbcmd, usbsts, usbintr, ... */
static GBytes *ehci_v1(uint32_t usbintr)
{
    gsize len;
    g_autofree uint8_t *p = g_bytes_unref_to_data(
        ts_pci_device(0x8086, 0x293a, 0x0c03, 3, EHCI_V1_LEN - PCI_LEN), &len);
    uint8_t *intr = p + PCI_LEN + 8;

    intr[0] = usbintr >> 24;
    intr[1] = usbintr >> 16;
    intr[2] = usbintr >> 8;
    intr[3] = usbintr;
    return g_bytes_new(p, len);
}

static void test_r26_ehci_v1_becomes_v2(void)
{
    const char *const targets[] = {"qemu-7.2", "qemu-10.0", "qemu-2.0"};

    for (guint t = 0; t < G_N_ELEMENTS(targets); t++) {
        g_autoptr(GBytes) payload = ehci_v1(0x3f);
        TsDev d[] = {{"0000:00:1d.7/ehci", 0, 1, payload, 0}};
        g_autoptr(GBytes) in = ts_stream_with(d, 1);
        TrOptions o = ts_target(targets[t]);
        g_autoptr(TsRun) run = ts_run(in, &o);
        const TrFinding *f = ts_finding(run->r, "R26", "0000:00:1d.7/ehci");

        g_assert_nonnull(f);
        g_assert_cmpint(f->action, ==, TR_ACTION_EDIT);
        g_assert_nonnull(strstr(f->evidence, "version 1 (368 bytes"));
        g_assert_false(run->r->refused);
        /* no "target" refusal: R26 gave the version the target loads */
        g_assert_null(ts_finding(run->r, "target", NULL));

        g_autoptr(TsRun) again = ts_rerun(run, &o);
        const VmsSection *sec =
            vms_stream_find_section(again->s, "0000:00:1d.7/ehci", -1);
        g_assert_cmpuint(sec->version_id, ==, 2);
        g_assert_cmpuint(sec->payload_len, ==, EHCI_V1_LEN + 8);
        g_assert_cmpuint(ts_field_value(again->s, "0000:00:1d.7/ehci", -1,
                                        "ehci.usbsts_pending"),
                         ==, 0);
        g_assert_cmpuint(ts_field_value(again->s, "0000:00:1d.7/ehci", -1,
                                        "ehci.usbsts_frindex"),
                         ==, 0);
        /* the registers after the insertion are where v2 reads them */
        g_assert_cmpuint(
            ts_field_value(again->s, "0000:00:1d.7/ehci", -1, "ehci.usbintr"),
            ==, 0x3f);
        g_assert_null(ts_finding(again->r, "R26", NULL));
    }
}

static void test_r26_leaves_v2(void)
{
    TsDev d[] = {{"0000:00:1d.7/ehci", 0, 2, NULL, EHCI_V1_LEN + 8}};
    g_autoptr(GBytes) in = ts_stream_with(d, 1);
    g_autoptr(TsRun) run = ts_run(in, NULL);

    g_assert_null(ts_finding(run->r, "R26", NULL));
    g_assert_false(run->r->refused);
    g_assert_cmpuint(run->r->edits->len, ==, 0);
}

/* ---- R27: intel-hda MSI capability address ------------------------------- */

/* PCIDevice + 25 registers + 8 streams of 7 + rirb_count + wall_base_ns */
#define HDA_LEN (PCI_LEN + 25 * 4 + 8 * 7 * 4 + 4 + 8)

/* An ICH6 HDA whose MSI capability sits at msi (0: none, msi=off). */
static GBytes *intel_hda(uint8_t msi)
{
    gsize len;
    g_autofree uint8_t *p = g_bytes_unref_to_data(
        ts_pci_device(0x8086, 0x2668, 0x0403, 1, HDA_LEN - PCI_LEN), &len);
    uint8_t *config = p + 4;

    if (msi) {
        config[0x06] = 0x10; /* capability list */
        config[0x34] = msi;
        config[msi] = 0x05; /* MSI */
        config[msi + 1] = 0;
    }
    return g_bytes_new(p, len);
}

static TsRun *hda_run(uint8_t msi, const char *target)
{
    g_autoptr(GBytes) payload = intel_hda(msi);
    TsDev d[] = {{"0000:00:04.0/intel-hda", 0, 1, payload, 0}};
    g_autoptr(GBytes) in = ts_stream_with(d, 1);
    TrOptions o = ts_target(target);

    return ts_run(in, &o);
}

static void test_r27_qemu_kvm_msi_address_on_qemu10(void)
{
    g_autoptr(TsRun) run = hda_run(0x50, "qemu-10.0");
    const TrFinding *f = ts_finding(run->r, "R27", "0000:00:04.0/intel-hda");
    g_autofree char *line = tr_recipe_command_line(run->r->recipe);

    g_assert_nonnull(f);
    g_assert_cmpint(f->action, ==, TR_ACTION_SETTING);
    g_assert_nonnull(strstr(f->evidence, "at 0x50"));
    g_assert_nonnull(strstr(f->evidence, "at 0x60"));
    g_assert_nonnull(strstr(line, "-global intel-hda.old_msi_addr=on"));
}

static void test_r27_nothing_where_the_machine_agrees(void)
{
    /* 7.2's pc-i440fx-1.4 (measured: old_msi_addr on), 2.0's pc-1.0 */
    const char *const targets[] = {"qemu-7.2", "qemu-2.0"};

    for (guint t = 0; t < G_N_ELEMENTS(targets); t++) {
        g_autoptr(TsRun) run = hda_run(0x50, targets[t]);
        g_assert_null(ts_finding(run->r, "R27", NULL));
    }
}

static void test_r27_new_address_on_an_old_machine(void)
{
    g_autoptr(TsRun) run = hda_run(0x60, "qemu-7.2");
    g_autofree char *line = tr_recipe_command_line(run->r->recipe);

    g_assert_nonnull(ts_finding(run->r, "R27", NULL));
    g_assert_nonnull(strstr(line, "-global intel-hda.old_msi_addr=off"));
}

static void test_r27_no_msi_capability(void)
{
    g_autoptr(TsRun) run = hda_run(0, "qemu-10.0");
    g_autofree char *line = tr_recipe_command_line(run->r->recipe);

    g_assert_nonnull(ts_finding(run->r, "R27", NULL));
    g_assert_nonnull(strstr(line, "-global intel-hda.msi=off"));
}

/* ---- R29: virtio-pci MSI-X vectors ----------------------------------- */

static void put_be(GByteArray *a, uint64_t v, unsigned n)
{
    for (unsigned i = n; i-- > 0;) {
        uint8_t b = (uint8_t)(v >> (8 * i));
        g_byte_array_append(a, &b, 1);
    }
}

/* A virtio-serial-pci (vmsd "virtio-console" v3) with `vectors` MSI-X
 * entries (0: no MSI-X capability), no queue and no port. */
static GBytes *virtio_console(unsigned vectors)
{
    gsize len;
    g_autofree uint8_t *pci = g_bytes_unref_to_data(
        ts_pci_device(0x1af4, 0x1003, 0x0780, 0, 0), &len);
    GByteArray *a = g_byte_array_new();
    uint8_t *config = pci + 4;

    if (vectors) {
        config[0x06] = 0x10;
        config[0x34] = 0x40;
        config[0x40] = 0x11; /* MSI-X */
        config[0x42] = (uint8_t)(vectors - 1);
        config[0x43] = (uint8_t)((vectors - 1) >> 8);
    }
    g_byte_array_append(a, pci, (guint)len);
    if (vectors) {
        guint n = vectors * 16 + (vectors + 7) / 8; /* table and PBA */
        g_autofree uint8_t *table = g_malloc0(n);
        g_byte_array_append(a, table, n);
        put_be(a, 0xffff, 2); /* config_vector */
    }
    put_be(a, 0, 1);  /* status */
    put_be(a, 0, 1);  /* isr */
    put_be(a, 0, 2);  /* queue_sel */
    put_be(a, 0, 4);  /* guest_features */
    put_be(a, 8, 4);  /* config_len */
    put_be(a, 0, 8);  /* config */
    put_be(a, 0, 4);  /* num_queues */
    put_be(a, 80, 2); /* cols */
    put_be(a, 25, 2); /* rows */
    put_be(a, 31, 4); /* max_nr_ports */
    put_be(a, 0, 4);  /* ports_map */
    put_be(a, 0, 4);  /* nr_active_ports */
    return g_byte_array_free_to_bytes(a);
}

static TsRun *console_run(unsigned vectors, const char *target)
{
    g_autoptr(GBytes) payload = virtio_console(vectors);
    TsDev d[] = {{"0000:00:05.0/virtio-console", 0, 3, payload, 0}};
    g_autoptr(GBytes) in = ts_stream_with(d, 1);
    TrOptions o = ts_target(target);

    return ts_run(in, &o);
}

static void test_r29_qemu_kvm_serial_vectors_on_qemu10(void)
{
    g_autoptr(TsRun) run = console_run(32, "qemu-10.0");
    const TrFinding *f =
        ts_finding(run->r, "R29", "0000:00:05.0/virtio-console");
    g_autofree char *line = tr_recipe_command_line(run->r->recipe);
    const VmsSection *sec =
        vms_stream_find_section(run->s, "0000:00:05.0/virtio-console", -1);

    g_assert_nonnull(f);
    g_assert_cmpint(f->action, ==, TR_ACTION_SETTING);
    g_assert_nonnull(strstr(f->evidence, "32 MSI-X vectors"));
    g_assert_nonnull(strstr(line, "-global virtio-serial-pci.vectors=32"));
    /* the payload parsed: its MSI-X table is where the layout says */
    g_assert_nonnull(sec->layout);
}

static void test_r29_nothing_where_the_machine_agrees(void)
{
    g_autoptr(TsRun) run = console_run(32, "qemu-7.2");
    g_assert_null(ts_finding(run->r, "R29", NULL));
}

static void test_r29_pc_0_12_serial_without_msix(void)
{
    /* qemu-kvm -M pc-0.12: virtio-serial-pci vectors=0 */
    g_autoptr(TsRun) run = console_run(0, "qemu-7.2");
    g_autofree char *line = tr_recipe_command_line(run->r->recipe);

    g_assert_nonnull(ts_finding(run->r, "R29", NULL));
    g_assert_nonnull(strstr(line, "-global virtio-serial-pci.vectors=0"));
}

/* ---- R28: the RAM split below 4 GiB -------------------------------------- */

/* A qemu-kvm 1.0 stream (piix4_pm v2 of 312 bytes, i8254 v2 of 108) with a
 * pc.ram of `ram` bytes. */
static GBytes *qemu_kvm_stream(uint64_t ram)
{
    const VmsBlockSpec blocks[] = {{"pc.ram", ram}};
    g_autoptr(GByteArray) out = g_byte_array_new();
    VmsBuilder *b = ts_begin(out, 2, blocks, G_N_ELEMENTS(blocks));
    g_autofree uint8_t *zeros = g_malloc0(312);

    vms_builder_ram_fill(b, "pc.ram", 0, 0);
    ts_ram_end(b);
    ts_full(b, 10, "0000:00:01.3/piix4_pm", 0, 2, zeros, 312);
    ts_full(b, 11, "i8254", 0, 2, zeros, 108);
    return ts_finish(b, out);
}

static void test_r28_refuses_35g_split_on_a_gigabyte_aligned_machine(void)
{
    g_autoptr(GBytes) in = qemu_kvm_stream(MiB(4096));
    TrOptions o = ts_target("qemu-10.0");
    g_autoptr(TsRun) run = ts_run(in, &o);
    const TrFinding *f = ts_finding(run->r, "R28", "pc.ram");

    g_assert_nonnull(f);
    g_assert_cmpint(f->action, ==, TR_ACTION_REFUSE);
    g_assert_nonnull(strstr(f->evidence, "4 GiB"));
    g_assert_nonnull(strstr(f->evidence, "qemu-kvm 1.0"));
    g_assert_nonnull(f->no_way_out);
    g_assert_nonnull(strstr(f->no_way_out, "--target qemu-7.2"));
    g_assert_true(run->r->refused);
}

static void test_r28_not_below_35g_nor_on_old_machines(void)
{
    /* just below 3.5 GiB: every machine maps it all below 4 GiB */
    g_autoptr(GBytes) small = qemu_kvm_stream(MiB(3583));
    TrOptions o10 = ts_target("qemu-10.0");
    g_autoptr(TsRun) run = ts_run(small, &o10);
    g_assert_null(ts_finding(run->r, "R28", NULL));

    /* 7.2's pc-i440fx-1.4 splits at 3.5 GiB as qemu-kvm did */
    g_autoptr(GBytes) big = qemu_kvm_stream(MiB(3584));
    g_autoptr(TsRun) on72 = ts_run(big, NULL);
    g_assert_null(ts_finding(on72->r, "R28", NULL));
    g_assert_false(on72->r->refused);

    /* ... but not with a machine of 2.0 or later */
    TrOptions m = {.machine = "pc-i440fx-2.0"};
    g_autoptr(TsRun) newer = ts_run(big, &m);
    g_assert_nonnull(ts_finding(newer->r, "R28", NULL));
}

/* ---- R15: -M isapc ------------------------------------------------------- */

static void test_isa_only_pc_runs_isapc(void)
{
    const char *const targets[] = {"qemu-7.2", "qemu-10.0", "qemu-2.0"};

    for (guint t = 0; t < G_N_ELEMENTS(targets); t++) {
        TsDev d[] = {{"mc146818rtc", 0, 2, NULL, 205},
                     {"isa-ide", 0, 3, NULL, 58},
                     {"0000:00:01.3/piix4_pm", 0, 2, NULL, 312}};
        g_autoptr(GBytes) in = ts_stream_with(d, G_N_ELEMENTS(d));
        TrOptions o = ts_target(targets[t]);
        g_autoptr(TsRun) run = ts_run(in, &o);
        const TrFinding *f = ts_finding(run->r, "R15", "machine");

        g_assert_nonnull(f);
        g_assert_nonnull(strstr(f->evidence, "-M isapc"));
        g_assert_cmpstr(run->r->recipe->machine, ==, "isapc");
        g_assert_cmpstr(run->r->recipe->cpu_model, ==, "486");
        /* an ISA PC has no HPET anywhere: no hpet=off */
        g_assert_null(ts_finding(run->r, "hpet", NULL));
        g_assert_null(ts_finding(run->r, "target", NULL));
    }
}

static void test_pci_pc_keeps_its_machine(void)
{
    static const uint8_t four_irqs[20] = {0, 0, 0, 4};
    g_autoptr(GBytes) pcibus = g_bytes_new_static(four_irqs, 20);
    TsDev d[] = {{"PCIBUS", 0, 1, pcibus, 0}, {"isa-ide", 0, 3, NULL, 58}};
    g_autoptr(GBytes) in = ts_stream_with(d, G_N_ELEMENTS(d));
    g_autoptr(TsRun) run = ts_run(in, NULL);

    g_assert_cmpstr(run->r->recipe->machine, ==, "pc-i440fx-1.4");
}

/* ---- acpi ---------------------------------------------------------------- */

static void test_piix3_without_piix4_pm_is_no_acpi(void)
{
    g_autoptr(GBytes) piix3 = ts_pci_device(0x8086, 0x7000, 0x0601, 0, 16);
    TsDev d[] = {{"0000:00:01.0/PIIX3", 0, 3, piix3, 0}};
    g_autoptr(GBytes) in = ts_stream_with(d, G_N_ELEMENTS(d));
    g_autoptr(TsRun) run = ts_run(in, NULL);
    const TrFinding *f = ts_finding(run->r, "acpi", "piix4_pm");

    g_assert_nonnull(f);
    g_assert_cmpint(f->action, ==, TR_ACTION_NOTE);
    g_assert_nonnull(strstr(f->change, "-machine acpi=off"));
    g_assert_false(run->r->refused);
    g_assert_cmpuint(run->r->edits->len, ==, 0);

    TsDev with_pm[] = {{"0000:00:01.0/PIIX3", 0, 3, piix3, 0},
                       {"0000:00:01.3/piix4_pm", 0, 3, NULL, 312}};
    g_autoptr(GBytes) in2 = ts_stream_with(with_pm, G_N_ELEMENTS(with_pm));
    g_autoptr(TsRun) run2 = ts_run(in2, NULL);
    g_assert_null(ts_finding(run2->r, "acpi", NULL));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/r26/ehci-v1-becomes-v2", test_r26_ehci_v1_becomes_v2);
    g_test_add_func("/r26/leaves-v2", test_r26_leaves_v2);
    g_test_add_func("/r27/qemu-kvm-msi-address-on-qemu10",
                    test_r27_qemu_kvm_msi_address_on_qemu10);
    g_test_add_func("/r27/nothing-where-the-machine-agrees",
                    test_r27_nothing_where_the_machine_agrees);
    g_test_add_func("/r27/new-address-on-an-old-machine",
                    test_r27_new_address_on_an_old_machine);
    g_test_add_func("/r27/no-msi-capability", test_r27_no_msi_capability);
    g_test_add_func("/r29/qemu-kvm-serial-vectors-on-qemu10",
                    test_r29_qemu_kvm_serial_vectors_on_qemu10);
    g_test_add_func("/r29/nothing-where-the-machine-agrees",
                    test_r29_nothing_where_the_machine_agrees);
    g_test_add_func("/r29/pc-0.12-serial-without-msix",
                    test_r29_pc_0_12_serial_without_msix);
    g_test_add_func("/r28/refuses-35g-split-on-a-gigabyte-aligned-machine",
                    test_r28_refuses_35g_split_on_a_gigabyte_aligned_machine);
    g_test_add_func("/r28/not-below-35g-nor-on-old-machines",
                    test_r28_not_below_35g_nor_on_old_machines);
    g_test_add_func("/r15/isa-only-pc-runs-isapc", test_isa_only_pc_runs_isapc);
    g_test_add_func("/r15/pci-pc-keeps-its-machine",
                    test_pci_pc_keeps_its_machine);
    g_test_add_func("/acpi/piix3-without-piix4-pm-is-no-acpi",
                    test_piix3_without_piix4_pm_is_no_acpi);
    return g_test_run();
}
