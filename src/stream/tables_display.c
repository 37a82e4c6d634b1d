/*
 * Layouts: VGA (std, ISA), Cirrus, QXL, VMware SVGA, and watchdogs.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tables.h"

static const VmsLayout vga_endian = {
    .name = "vga.endian",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){BOOL("big_endian_fb"), END_FIELDS},
};
/*
 * VGACommonState ("vga" v2): 1131 bytes. is_vbe_vmstate is an _EQUAL
 * field, but what it must equal depends on the device (1 for PCI VGA and
 * qxl-vga, 0 for 7.2's isa-vga and a secondary qxl), so it is not checked.
 */
const VmsLayout vms_vga_common = {
    .name = "vga",
    .min_version = 2,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            U32("latch"),
            U8("sr_index"),
            BUFFER("sr", 8),
            U8("gr_index"),
            BUFFER("gr", 16),
            U8("ar_index"),
            BUFFER("ar", 21),
            I32("ar_flip_flop"),
            U8("cr_index"),
            BUFFER("cr", 256),
            U8("msr"),
            U8("fcr"),
            U8("st00"),
            U8("st01"),
            U8("dac_state"),
            U8("dac_sub_index"),
            U8("dac_read_index"),
            U8("dac_write_index"),
            BUFFER("dac_cache", 3),
            BUFFER("palette", 768),
            I32("bank_offset"),
            U8("is_vbe_vmstate"),
            U16("vbe_index"),
            U16_ARRAY("vbe_regs", 10),
            U32("vbe_start_addr"),
            U32("vbe_line_offset"),
            U32("vbe_bank_mask"),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(&vga_endian),
};
/* PCI std VGA (1407 bytes). */
const VmsLayout vms_vga_pci = {
    .name = "vga",
    .variant = "PCI",
    .min_version = 2,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            STRUCT("dev", vms_pci_device),
            STRUCT("vga", vms_vga_common),
            END_FIELDS,
        },
};
/* ISA VGA, and the "vga" section vmware-svga registers (1131 bytes). */
const VmsLayout vms_vga_isa = {
    .name = "vga",
    .variant = "ISA",
    .min_version = 2,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            U32("latch"),
            U8("sr_index"),
            BUFFER("sr", 8),
            U8("gr_index"),
            BUFFER("gr", 16),
            U8("ar_index"),
            BUFFER("ar", 21),
            I32("ar_flip_flop"),
            U8("cr_index"),
            BUFFER("cr", 256),
            U8("msr"),
            U8("fcr"),
            U8("st00"),
            U8("st01"),
            U8("dac_state"),
            U8("dac_sub_index"),
            U8("dac_read_index"),
            U8("dac_write_index"),
            BUFFER("dac_cache", 3),
            BUFFER("palette", 768),
            I32("bank_offset"),
            U8("is_vbe_vmstate"),
            U16("vbe_index"),
            U16_ARRAY("vbe_regs", 10),
            U32("vbe_start_addr"),
            U32("vbe_line_offset"),
            U32("vbe_bank_mask"),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(&vga_endian),
};

/* Cirrus CLGD 54xx: 1594 bytes of registers (no is_vbe_vmstate). */
static const VmsLayout cirrus_state = {
    .name = "cirrus_vga",
    .min_version = 1,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            U32("vga.latch"),
            U8("vga.sr_index"),
            BUFFER("vga.sr", 256),
            U8("vga.gr_index"),
            U8("cirrus_shadow_gr0"),
            U8("cirrus_shadow_gr1"),
            BUFFER("vga.gr", 254),
            U8("vga.ar_index"),
            BUFFER("vga.ar", 21),
            I32("vga.ar_flip_flop"),
            U8("vga.cr_index"),
            BUFFER("vga.cr", 256),
            U8("vga.msr"),
            U8("vga.fcr"),
            U8("vga.st00"),
            U8("vga.st01"),
            U8("vga.dac_state"),
            U8("vga.dac_sub_index"),
            U8("vga.dac_read_index"),
            U8("vga.dac_write_index"),
            BUFFER("vga.dac_cache", 3),
            BUFFER("vga.palette", 768),
            I32("vga.bank_offset"),
            U8("cirrus_hidden_dac_lockindex"),
            U8("cirrus_hidden_dac_data"),
            U32("vga.hw_cursor_x"),
            U32("vga.hw_cursor_y"),
            END_FIELDS,
        },
};
const VmsLayout vms_cirrus_pci = {
    .name = "cirrus_vga",
    .variant = "PCI",
    .min_version = 2,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            STRUCT("dev", vms_pci_device),
            STRUCT("cirrus_vga", cirrus_state),
            END_FIELDS,
        },
};
const VmsLayout vms_cirrus_isa = {
    .name = "cirrus_vga",
    .variant = "ISA",
    .min_version = 1,
    .max_version = 2,
    .fields =
        (const VmsField[]){STRUCT("cirrus_vga", cirrus_state), END_FIELDS},
};

/* QXL (QXL_SAVE_VERSION 21 in every era): 9835 bytes with 1024 surfaces. */
static const VmsLayout qxl_memslot = {
    .name = "qxl-memslot",
    .min_version = 21,
    .max_version = 21,
    .fields =
        (const VmsField[]){
            U64("slot.mem_start"),
            U64("slot.mem_end"),
            U32("active"),
            END_FIELDS,
        },
};
static const VmsLayout qxl_surface = {
    .name = "qxl-surface",
    .min_version = 21,
    .max_version = 21,
    .fields =
        (const VmsField[]){
            U32("width"),
            U32("height"),
            I32("stride"),
            U32("format"),
            U32("position"),
            U32("mouse_mode"),
            U32("flags"),
            U32("type"),
            U64("mem"),
            END_FIELDS,
        },
};
static const VmsLayout qxl_monitors_config = {
    .name = "qxl/monitors-config",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U64("guest_monitors_config"), END_FIELDS},
};
const VmsLayout vms_qxl = {
    .name = "qxl",
    .min_version = 21,
    .max_version = 21,
    .fields =
        (const VmsField[]){
            STRUCT("pci", vms_pci_device),
            STRUCT("vga", vms_vga_common),
            U32("shadow_rom.mode"),
            U32("num_free_res"),
            U32("last_release_offset"),
            U32("mode"),
            U32("ssd.unique"),
            I32("num_memslots", EQ(8)),
            STRUCT_ARRAY("guest_slots", 8, qxl_memslot),
            STRUCT("guest_primary.surface", qxl_surface),
            I32("num_surfaces"),
            U64_ARRAY("guest_surfaces.cmds", 0, .count_from = "num_surfaces"),
            U64("guest_cursor"),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(&qxl_monitors_config),
};

/* VMware SVGA: this section plus a separate path-less "vga" section. */
static const VmsLayout vmware_vga_internal = {
    .name = "vmware_vga_internal",
    .min_version = 0,
    .max_version = 0,
    .fields =
        (const VmsField[]){
            I32("depth"),
            I32("enable"),
            I32("config"),
            I32("cursor.id"),
            I32("cursor.x"),
            I32("cursor.y"),
            I32("cursor.on"),
            I32("index"),
            U32_ARRAY("scratch", 0x8000),
            I32("new_width"),
            I32("new_height"),
            U32("guest"),
            U32("svgaid"),
            I32("syncing"),
            I32("fb_size"),
            END_FIELDS,
        },
};
const VmsLayout vms_vmware_vga = {
    .name = "vmware_vga",
    .min_version = 0,
    .max_version = 0,
    .fields =
        (const VmsField[]){
            STRUCT("parent_obj", vms_pci_device),
            STRUCT("chip", vmware_vga_internal),
            END_FIELDS,
        },
};

/* ---- watchdogs ----------------------------------------------------------- */

/* i6300esb: versions up to 10000 (old builds wrote sizeof(state)). */
const VmsLayout vms_i6300esb = {
    .name = "i6300esb_wdt",
    .min_version = 1,
    .max_version = 10000,
    .fields =
        (const VmsField[]){
            STRUCT("dev", vms_pci_device),
            I32("reboot_enabled"),
            I32("clock_scale"),
            I32("int_type"),
            I32("free_run"),
            I32("locked"),
            I32("enabled"),
            TIMER("timer"),
            U32("timer1_preload"),
            U32("timer2_preload"),
            I32("stage"),
            I32("unlock_state"),
            I32("previous_reboot_flag"),
            END_FIELDS,
        },
};
const VmsLayout vms_ib700 = {
    .name = "ib700_wdt",
    .min_version = 0,
    .max_version = 0,
    .fields = (const VmsField[]){TIMER("timer"), END_FIELDS},
};
