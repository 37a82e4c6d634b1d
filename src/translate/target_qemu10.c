/*
 * The qemu-10.0 target: QEMU 10.0 (Debian 13) with its oldest i440fx
 * machine, pc-i440fx-2.4 (docs/qemu10-target.md).
 *
 * Compared with QEMU 7.2's pc-i440fx-1.4, the machine is newer than the
 * streams in two ways that matter to the loader: it frames the stream
 * (CONFIGURATION record, section footers: R18/R19), and its devices come
 * with bigger firmware (bios-256k.bin, 256 KiB efi-*.rom NIC ROMs: R6/R7
 * hand over the stream's own) and other defaults (bridge PCI hotplug, the
 * std VGA's extended registers: R21/R22). QEMU 10 also lost the "block"
 * handler (R9) and, since 8.2, rejects ZERO pages with a non-zero fill
 * byte (R20).
 *
 * Figures: target_facts_qemu10.c, measured from Debian's qemu-system-x86
 * 1:10.0.13 by scripts/target-profile: its -dump-vmstate with
 * -M pc-i440fx-2.4 (the sections), and its own streams (the RAM block
 * sizes below, checked by tests/targets/test_profile_facts.py).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target_facts.h"
#include "target_ram.h"

/* Block migration ("block") was removed in 9.1: it loads no "block". qxl
 * is absent from the dump only because Debian ships it in a module
 * package of its own (qemu-system-modules-spice): 7.2's range is kept. */
static const TrSectionSpec qemu10_sections_outside_devices[] = {
    TR_PC_SECTIONS_OUTSIDE_DEVICES,
    {"qxl", 21, 21},
    {NULL, 0, 0},
};

static const TrRamSpec qemu10_ram[] = {
    {.match = "pc.ram", .kind = TR_RAM_ANY},
    /* machines >= 2.0 load bios-256k.bin (run: "Size mismatch: pc.bios:
     * 0x20000 != 0x40000") */
    {.match = "pc.bios", .kind = TR_RAM_BIOS, .length = KiB(256), .rule = "R7"},
    {.match = "pc.rom", .kind = TR_RAM_FIXED, .length = KiB(128)},
    TR_RAM_DISPLAY(MiB(8), MiB(16), MiB(64), KiB(64)),
    /* Debian 13's efi-*.rom NIC ROMs are 256 KiB. */
    TR_RAM_NIC_ROMS(KiB(256)),
    /* but pxe-eepro100.rom (no efi- ROM for these): 128 KiB */
    TR_RAM_EEPRO100_ROMS(KiB(128)),
    TR_RAM_FLASH_BIOS,
    TR_RAM_ACPI_BLOBS,
    {.match = NULL},
};

static const TrMachineRange qemu10_machines[] = {
    {"pc-i440fx-", 2, 4, 10, 0},
    {"pc-q35-", 2, 4, 10, 0},
    {NULL, 0, 0, 0, 0},
};

const TrTarget tr_target_qemu10 = {
    .name = "qemu-10.0",
    .description = "QEMU 10.0 (Debian 13) with its oldest i440fx machine, "
                   "pc-i440fx-2.4",
    .qemu_version = "10.0",
    .facts = &tr_facts_qemu10,
    .machine = "pc-i440fx-2.4",
    .sections = tr_facts_qemu10_vmsds,
    .sections_added = qemu10_sections_outside_devices,
    .section_needs = tr_pc_section_needs,
    .ram = qemu10_ram,
    .hpet_syntax = TR_HPET_MACHINE_PROPERTY,
    .balloon_class_property = false, /* realize forces 0x00ff, as in 7.2 */
    .live_id_zero_ok = false,  /* PART/END are matched by load_section_id */
    .qxl_default_revision = 4, /* hw_compat_3_0 (not run: no qxl module) */
    .pflash_block = "system.flash0",
    .needs_configuration = true, /* send-configuration on for >= 2.4 */
    .needs_footers = true,       /* send-section-footer on for >= 2.4 */
    .reads_configuration = true,
    .reads_vmdesc = true,
    .machines = qemu10_machines,
    .zero_pages_only = true,
    /* run: "Failed to set XSAVE: Invalid argument" for xstate_bv 0x200
     * (PKRU) with xcr0 1, and the load once the bit is cleared */
    .xstate_within_xcr0 = true,
    .defaults_known = true,
    .piix4_pcihp_bridge = true, /* on for >= 2.0 (hw_compat_1_7) */
    .vga_revision = 2,          /* qemu-extended-regs on for >= 2.2 */
};
