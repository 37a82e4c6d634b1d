/*
 * The qemu-2.0 target: upstream QEMU 2.0 (Ubuntu 14.04 ships 2.0.0) with
 * the source's own machine type (pc-0.15, pc-1.0, pc-1.2: 2.0 still has
 * them), proven by loading every real qemu-kvm snapshot in the upstream
 * 2.0.2 of ../shared/qemu-2.0 (tests/targets/).
 *
 * 2.0 has no -dump-vmstate (it came with 2.1), so the section table is
 * from the 2.x sources and is checked by loading. Keeping the source's
 * machine type keeps its devices as they were (VGA memory, PCI classes,
 * virtio features), but it also brings the machine's compat properties,
 * and two of them change what the loader accepts (R3, R25 below).
 *
 * QEMU 2.1 and 2.2 (Fedora 21, 22) keep the same old machine types, whose
 * compat properties exist precisely so that they migrate from 2.0; none of
 * them was run here, so there is no target of their own: use qemu-2.0.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target_facts.h"
#include "target_ram.h"

/* Vmstates of a QEMU 2.0 PC (name, min, max), from the 2.x sources and the
 * version tables of vmstate-reference.md §3 and §6.4. */
static const TrSectionSpec qemu20_sections[] = {
    {"timer", 1, 2},
    {"cpu_common", 1, 1},
    {"cpu", 11, 12},
    {"kvm-tpr-opt", 1, 1},
    {"apic", 3, 3},
    {"kvmclock", 1, 1},
    {"fw_cfg", 1, 2},
    {"PCIBUS", 1, 1},
    {"I440FX", 3, 3},
    {"PIIX3", 2, 3},
    {"dma", 1, 1},
    {"i8259", 1, 1},
    {"ioapic", 1, 3},
    {"cirrus_vga", 1, 2},
    {"vga", 2, 2},
    {"hpet", 1, 2},
    {"mc146818rtc", 1, 3},
    {"i8254", 2, 3},
    {"serial", 2, 3},
    {"fdc", 2, 2},
    {"ps2kbd", 2, 3},
    {"ps2mouse", 2, 2},
    {"pckbd", 3, 3},
    {"vmmouse", 0, 0},
    {"port92", 1, 1},
    {"rtl8139", 3, 5},
    {"e1000", 1, 2},
    {"ne2000", 0, 3},
    {"pcnet", 2, 3},
    {"ide", 0, 3},
    {"i2c_bus", 1, 1},
    {"uhci", 1, 3},
    {"ehci", 2, 2},
    {"usb-ptr", 1, 1},
    {"usb-kbd", 1, 1},
    {"usb-hub", 1, 1},
    {"virtio-net", 11, 11},
    {"virtio-blk", 2, 2},
    {"virtio-balloon", 1, 1},
    {"virtio-console", 3, 3},
    {"qxl", 21, 21},
    {"vmware_vga", 0, 0},
    {"ac97", 2, 3},
    {"es1370", 2, 2},
    {"intel-hda", 1, 1},
    {"hda-audio", 0, 2},
    {"sb16", 1, 1},
    {"cs4231a", 1, 1},
    {"gus", 2, 2},
    {"i6300esb_wdt", 1, 10000},
    {"ib700_wdt", 0, 0},
    {"lsiscsi", 0, 0},
    {"scsi-disk", 1, 1},
    {"virtio-scsi", 1, 1},
    {"usb-storage", 1, 1},
    {"i82551", 2, 3},
    {"i82557b", 2, 3},
    {"i82559er", 2, 3},
    {"eeprom", 20061112, 20061113},
    {"isa-ide", 0, 3},
    {"ram", 4, 4},
    {"block", 1, 1},
    {"slirp", 0, 3},
    /* registered by audio_init with the first sound card; never sent */
    {"audio", 1, 1},
    /* v2 goes to load_state_old, which misparses qemu-kvm's layout: R1
     * fires anyway */
    {"piix4_pm", 1, 3},
    {NULL, 0, 0},
};

/*
 * Sizes that a distribution's ROM packages decide are 0 ("build
 * dependent"): the rules then always hand over the stream's own ROM, which
 * fits whatever the build.
 */
static const TrRamSpec qemu20_ram[] = {
    {.match = "pc.ram", .kind = TR_RAM_ANY},
    /* bios.bin for machines before pc-i440fx-2.0 (bios-256k.bin there) */
    {.match = "pc.bios", .kind = TR_RAM_BIOS, .length = KiB(128), .rule = "R7"},
    {.match = "pc.rom", .kind = TR_RAM_FIXED, .length = KiB(128)},
    /* std VGA, vmware-svga, qxl: 16 MiB for pc-1.2+, 8 MiB for pc-1.0/1.1
     * (compat 1.1): it depends on the machine type, so always say it. The
     * qxl ROM: rom_size exists only in Fedora's patched builds, so stock
     * 8 KiB (in TR_RAM_DISPLAY). */
    TR_RAM_DISPLAY(MiB(8), 0, 0, 0),
    TR_RAM_NIC_ROMS(0),
    TR_RAM_EEPRO100_ROMS(0),
    /* pc_sysfw.c names flash units "system.flash%d" */
    TR_RAM_FLASH_BIOS,
    {.match = NULL},
};

/*
 * The compat properties of the old machine types that rules read (2.0's
 * hw/i386/pc_piix.c, PC_COMPAT_1_0, shared by pc-0.15 and older):
 *
 * - apic.vapic=off: the TCG APIC ("apic") creates no kvmvapic device, so
 *   the "kvm-tpr-opt" section that qemu-kvm 0.15/1.0 wrote has no loader
 *   ("Unknown savevm section or instance 'kvm-tpr-opt' 0"); KVM's APIC is
 *   another type ("kvm-apic") and keeps it (R25).
 * - usb-device.full-path=no: USB devices are named by port only ("1/usb-
 *   ptr"), as qemu-kvm 0.15/1.0 named them (R3).
 */
static const TrCompatProp qemu20_compat[] = {
    {1, 0, "apic", "vapic", "off"},
    {1, 0, "usb-device", "full-path", "no"},
    {1, 0, "virtio-balloon-pci", "class", "0x0500"},
    {0, 0, NULL, NULL, NULL},
};

const TrTarget tr_target_qemu20 = {
    .name = "qemu-2.0",
    .description = "upstream QEMU 2.0 (Ubuntu 14.04; proven on 2.0.2) with "
                   "the source's own machine type",
    .qemu_version = "2.0",
    .machine = NULL,
    .sections = qemu20_sections,
    .section_needs = tr_pc_section_needs,
    .ram = qemu20_ram,
    .hpet_syntax = TR_HPET_NO_HPET_OPTION,
    .accel_machine_property = true,
    .balloon_class_property = true, /* "class" accepts 0x0500 (qemu < 1.1) */
    .live_id_zero_ok = true, /* PART/END looked up among the STARTs seen */
    .qxl_default_revision = 4,
    .pflash_block = "system.flash0",
    /* run: the 4 KVM snapshots loaded without an error and never ran;
     * KVM_SET_XSAVE failed with EINVAL (xstate_bv 0x200 with xcr0 1),
     * which 2.0 ignores, leaving the vCPU's segments at reset; with the
     * bit cleared all four resumed */
    .xstate_within_xcr0 = true,
    .compat = qemu20_compat,
};
