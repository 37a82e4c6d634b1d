/*
 * Layouts: local APIC, kvmclock, kvm-tpr-opt (kvmvapic), fw_cfg, the
 * CONFIGURATION record and other small machine-wide sections.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tables.h"

/* ---- apic (v3 everywhere; 181 bytes) ------------------------------------- */
static const VmsLayout apic_sipi = {
    .name = "apic_sipi",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            I32("sipi_vector"),
            I32("wait_for_sipi"),
            END_FIELDS,
        },
};
const VmsLayout vms_apic = {
    .name = "apic",
    .min_version = 3,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            U32("apicbase"),
            U8("id"),
            U8("arb_id"),
            U8("tpr"),
            U32("spurious_vec"),
            U8("log_dest"),
            U8("dest_mode"),
            U32_ARRAY("isr", 8),
            U32_ARRAY("tmr", 8),
            U32_ARRAY("irr", 8),
            U32_ARRAY("lvt", 6),
            U32("esr"),
            U32_ARRAY("icr", 2),
            U32("divide_conf"),
            I32("count_shift"),
            U32("initial_count"),
            I64("initial_count_load_time"),
            I64("next_time"),
            TIMER("timer_expiry"),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(&apic_sipi),
};

/* ---- kvmclock ------------------------------------------------------------ */
static const VmsLayout kvmclock_reliable = {
    .name = "kvmclock/clock_is_reliable",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){BOOL("clock_is_reliable"), END_FIELDS},
};
const VmsLayout vms_kvmclock = {
    .name = "kvmclock",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U64("clock"), END_FIELDS},
    .subsections = SUBSECTIONS(&kvmclock_reliable),
};

/*
 * ---- kvm-tpr-opt --------------------------------------------------------
 * qemu-kvm 0.15/1.0 (kvm-tpr-opt.c) and kvmvapic (1.2+) write the same 144
 * bytes with the same meaning (R12); the names are kvmvapic's.
 */
static const VmsLayout vapic_handlers = {
    .name = "kvmvapic-handlers",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U32("set_tpr"),
            U32("set_tpr_eax"),
            U32_ARRAY("get_tpr", 8),
            U32("get_tpr_stack"),
            END_FIELDS,
        },
};
static const VmsLayout vapic_guest_rom = {
    .name = "kvmvapic-guest-rom",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            BUFFER("signature", 8),
            U32("vaddr"),
            U32("fixup_start"),
            U32("fixup_end"),
            U32("vapic_vaddr"),
            U32("vapic_size"),
            U32("vcpu_shift"),
            U32("real_tpr_addr"),
            STRUCT("up", vapic_handlers),
            STRUCT("mp", vapic_handlers),
            END_FIELDS,
        },
};
const VmsLayout vms_kvm_tpr_opt = {
    .name = "kvm-tpr-opt",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT("rom_state", vapic_guest_rom),
            U32("state"),
            U32("real_tpr_addr"),
            U32("rom_state_vaddr"),
            U32("vapic_paddr"),
            U32("rom_state_paddr"),
            END_FIELDS,
        },
};

/* ---- fw_cfg -------------------------------------------------------------- */
static const VmsLayout fw_cfg_dma = {
    .name = "fw_cfg/dma",
    .min_version = 0,
    .max_version = 0,
    .fields = (const VmsField[]){U64("dma_addr"), END_FIELDS},
};
static const VmsLayout fw_cfg_acpi_mr = {
    .name = "fw_cfg/acpi_mr",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U64("table_mr_size"),
            U64("linker_mr_size"),
            U64("rsdp_mr_size"),
            END_FIELDS,
        },
};
const VmsLayout vms_fw_cfg = {
    .name = "fw_cfg",
    .min_version = 1,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            U16("cur_entry"),
            UNUSED(2, .until = 1),
            U32("cur_offset", .since = 2),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(&fw_cfg_dma, &fw_cfg_acpi_mr),
};

/* ---- the CONFIGURATION record (machine types >= 2.4) --------------------- */
static const VmsLayout config_page_bits = {
    .name = "configuration/target-page-bits",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U32("target_page_bits"), END_FIELDS},
};
static const VmsLayout capability = {
    .name = "capability",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U8("len"),
            U8_ARRAY("name", 0, .count_from = "len"),
            END_FIELDS,
        },
};
static const VmsLayout config_capabilities = {
    .name = "configuration/capabilities",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U32("caps_count"),
            STRUCT_ARRAY("capabilities", 0, capability,
                         .count_from = "caps_count"),
            END_FIELDS,
        },
};
static const VmsLayout config_uuid = {
    .name = "configuration/uuid",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){BUFFER("uuid", 16), END_FIELDS},
};
const VmsLayout vms_configuration = {
    .name = "configuration",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U32("len"),
            U8_ARRAY("name", 0, .count_from = "len"),
            END_FIELDS,
        },
    .subsections =
        SUBSECTIONS(&config_page_bits, &config_capabilities, &config_uuid),
};

/* ---- small machine-wide sections ----------------------------------------- */
static const VmsLayout globalstate_uuid = {
    .name = "globalstate/uuid",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){BUFFER("uuid", 16), END_FIELDS},
};
const VmsLayout vms_globalstate = {
    .name = "globalstate",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U32("size"),
            BUFFER("runstate", 100),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(&globalstate_uuid),
};
const VmsLayout vms_acpi_build = {
    .name = "acpi_build",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U8("patched"), END_FIELDS},
};
const VmsLayout vms_pcihost = {
    .name = "PCIHost",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U32("config_reg"), END_FIELDS},
};
const VmsLayout vms_pcspk = {
    .name = "pcspk",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U8("data_on"),
            U8("dummy_refresh_clock"),
            END_FIELDS,
        },
};
const VmsLayout vms_i2c_bus = {
    .name = "i2c_bus",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U8("saved_address"), END_FIELDS},
};
const VmsLayout vms_port92 = {
    .name = "port92",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U8("outport"), END_FIELDS},
};
