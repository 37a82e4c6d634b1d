/*
 * Building blocks of the targets' RAM tables (target.c, target_qemu10.c).
 *
 * The PC's RAM blocks are the same on every target; what differs is the
 * size each one gets (a firmware package's ROM sizes, a machine type's
 * VGA memory). These entries take that size as a parameter so that a
 * profile states only its own numbers; 0 means "build dependent".
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TR_TARGET_RAM_H
#define TR_TARGET_RAM_H

#include "target.h"

#define KiB(n) ((uint64_t)(n)*1024)
#define MiB(n) ((uint64_t)(n)*1024 * 1024)

/* vga.vram of the display device whose section is in the stream (newer
 * machine types name it after the device: "0000:00:02.0/vga.vram"). */
#define TR_RAM_VRAM_AS(pattern, section, drv, len, rule_id, ...)               \
    {                                                                          \
        .match = pattern, .with_section = section, .kind = TR_RAM_VGAMEM,      \
        .length = len, .driver = drv, .rule = rule_id, .vgamem_mb = {          \
            __VA_ARGS__                                                        \
        }                                                                      \
    }
#define TR_RAM_VRAM(section, drv, len, rule_id, ...)                           \
    TR_RAM_VRAM_AS("vga.vram", section, drv, len, rule_id, __VA_ARGS__),       \
        TR_RAM_VRAM_AS("/vga.vram", section, drv, len, rule_id, __VA_ARGS__)

/* A PCI option ROM: romfile= gives a block of the file's size. */
#define TR_RAM_ROM(suffix, drv, len)                                           \
    {                                                                          \
        .match = suffix, .kind = TR_RAM_ROMFILE, .length = len, .driver = drv, \
        .rule = "R6"                                                           \
    }

/*
 * The display devices' blocks: cirrus VRAM (R4) first; vmware-svga and qxl
 * before std VGA, since they have a "vga" section too. `cirrus`: cirrus
 * VRAM; `vram`: the others' (qxl's fixed 64 MiB aside); `rom`: VGA BIOSes.
 */
#define TR_RAM_DISPLAY(cirrus, vram, qxl_vram, rom)                            \
    TR_RAM_VRAM("cirrus_vga", "cirrus-vga", cirrus, "R4", 4, 8, 16),           \
        TR_RAM_VRAM("vmware_vga", "vmware-svga", vram, "R5", 8, 16, 32, 64),   \
        {.match = "vga.vram",                                                  \
         .with_section = "qxl",                                                \
         .kind = TR_RAM_VGAMEM,                                                \
         .length = qxl_vram,                                                   \
         .driver = "qxl-vga",                                                  \
         .property = "ram_size_mb",                                            \
         .rule = "R5",                                                         \
         .vgamem_mb = {32, 64, 128, 256}},                                     \
        TR_RAM_VRAM("vga", "VGA", vram, "R5", 8, 16, 32, 64),                  \
        /* vmware-svga's command FIFO: SVGA_FIFO_SIZE in every QEMU */         \
        {.match = "vmsvga.fifo", .kind = TR_RAM_FIXED, .length = KiB(64)},     \
        {.match = "/qxl.vram",                                                 \
         .kind = TR_RAM_VGAMEM,                                                \
         .length = qxl_vram,                                                   \
         .driver = "qxl-vga",                                                  \
         .property = "vram_size_mb",                                           \
         .rule = "R5",                                                         \
         .vgamem_mb = {16, 32, 64, 128, 256}},                                 \
        {.match = "/qxl.vrom",                                                 \
         .kind = TR_RAM_QXL_ROM,                                               \
         .length = KiB(8),                                                     \
         .rule = "R10"},                                                       \
        TR_RAM_ROM("/qxl.rom", "qxl-vga", rom),                                \
        TR_RAM_ROM("/cirrus_vga.rom", "cirrus-vga", rom),                      \
        TR_RAM_ROM("/vga.rom", "VGA", rom),                                    \
        TR_RAM_ROM("/vmware_vga.rom", "vmware-svga", rom)

/* Firmware blobs QEMU builds itself (ACPI tables and their loader
 * script, machines >= 1.7): resizeable blocks, so any length loads. */
#define TR_RAM_ACPI_BLOBS                                                      \
    {.match = "//rom@etc/acpi/tables", .kind = TR_RAM_ANY},                    \
        {.match = "//rom@etc/table-loader", .kind = TR_RAM_ANY},               \
    {                                                                          \
        .match = "//rom@etc/acpi/rsdp", .kind = TR_RAM_ANY                     \
    }

/* The NICs' PXE ROMs, all of one size on a given target. */
#define TR_RAM_NIC_ROMS(len)                                                   \
    TR_RAM_ROM("/e1000.rom", "e1000", len),                                    \
        TR_RAM_ROM("/rtl8139.rom", "rtl8139", len),                            \
        TR_RAM_ROM("/virtio-net-pci.rom", "virtio-net-pci", len),              \
        TR_RAM_ROM("/ne2000.rom", "ne2k_pci", len),                            \
        TR_RAM_ROM("/ne2k_pci.rom", "ne2k_pci", len),                          \
        TR_RAM_ROM("/pcnet.rom", "pcnet", len)

/* The eepro100 models libvirt offers: their PXE ROMs (pxe-eepro100.rom
 * on 7.2 and 10.0 alike, 128 KiB there). */
#define TR_RAM_EEPRO100_ROMS(len)                                              \
    TR_RAM_ROM("/i82551.rom", "i82551", len),                                  \
        TR_RAM_ROM("/i82557b.rom", "i82557b", len),                            \
        TR_RAM_ROM("/i82559er.rom", "i82559er", len)

/* qemu-kvm 1.2 under TCG: the BIOS as flash (R17). */
#define TR_RAM_FLASH_BIOS                                                      \
    {.match = "system.flash",                                                  \
     .kind = TR_RAM_RENAMED,                                                   \
     .rule = "R17",                                                            \
     .rename_to = "system.flash0"},                                            \
        {.match = "system.flash0", .kind = TR_RAM_PFLASH, .rule = "R17"},      \
    {                                                                          \
        .match = "isa-bios", .kind = TR_RAM_PFLASH_SHADOW, .rule = "R17"       \
    }

#endif
