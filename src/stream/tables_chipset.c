/*
 * Layouts: PCI core, i440FX/PIIX and Q35/ICH9 chipsets with their ACPI
 * power management.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tables.h"

/* ---- PCI core ------------------------------------------------------------ */

/*
 * version_id is VMSTATE_INT32_LE: "LE" means "less or equal" (the loader
 * accepts a stream value <= its own), not little-endian: it is a be32 on
 * the wire, like every other integer (00 00 00 02 in every stream seen).
 */
const VmsLayout vms_pci_device = {
    .name = "PCIDevice",
    .min_version = 2,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            I32("version_id"),
            BUFFER("config", 256),
            I32_ARRAY("irq_state", 4),
            END_FIELDS,
        },
};
const VmsLayout vms_pcie_device = {
    .name = "PCIEDevice",
    .min_version = 2,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            I32("version_id"),
            BUFFER("config", 4096),
            I32_ARRAY("irq_state", 4),
            END_FIELDS,
        },
};

/* nirq is 4 on i440FX and 8 on Q35; the loader checks it against its own. */
const VmsLayout vms_pcibus = {
    .name = "PCIBUS",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            I32("nirq"),
            I32_ARRAY("irq_count", 0, .count_from = "nirq"),
            END_FIELDS,
        },
};

const VmsLayout vms_i440fx = {
    .name = "I440FX",
    .min_version = 3,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            STRUCT("parent_obj", vms_pci_device),
            U8("smm_enabled"),
            END_FIELDS,
        },
};

static const VmsLayout piix3_rcr = {
    .name = "PIIX3/rcr",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U8("rcr"), END_FIELDS},
};
const VmsLayout vms_piix3 = {
    .name = "PIIX3",
    .min_version = 2,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            STRUCT("dev", vms_pci_device),
            I32_ARRAY("pci_irq_levels", 4, .since = 3),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(&piix3_rcr),
};

/* ---- ACPI power management (piix4_pm, ICH9) ------------------------------ */

static const VmsLayout apm_state = {
    .name = "APM State",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U8("apmc"), U8("apms"), END_FIELDS},
};
/* qemu-kvm and upstream >= 1.3: one be16 each (VMSTATE_GPE_ARRAY). */
static const VmsLayout gpe_v3 = {
    .name = "gpe",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U16("sts"), U16("en"), END_FIELDS},
};
/* upstream 1.0-1.2: GPE_LEN (4) be16 each. */
static const VmsLayout gpe_upstream_v2 = {
    .name = "gpe",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U16_ARRAY("sts", 4),
            U16_ARRAY("en", 4),
            END_FIELDS,
        },
};
static const VmsLayout pci_status = {
    .name = "pci_status",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U32("up"), U32("down"), END_FIELDS},
};
const VmsLayout vms_pmsmb = {
    .name = "pmsmb",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U8("smb_stat"),
            U8("smb_ctl"),
            U8("smb_cmd"),
            U8("smb_addr"),
            U8("smb_data0"),
            U8("smb_data1"),
            U32("smb_index"),
            U8_ARRAY("smb_data", 32),
            U8("smb_auxctl"),
            U8("smb_blkdata"),
            BOOL("i2c_enable"),
            BOOL("op_done"),
            BOOL("in_i2c_block_read"),
            BOOL("start_transaction_on_status_read"),
            END_FIELDS,
        },
};
static const VmsLayout memhp_status = {
    .name = "memory hotplug device state",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            BOOL("is_enabled"),
            BOOL("is_inserting"),
            U32("ost_event"),
            U32("ost_status"),
            END_FIELDS,
        },
};
/* The device arrays' lengths live in memory only (slots, max CPUs): they
 * are sized by what follows them. */
static const VmsLayout memhp_state = {
    .name = "memory hotplug state",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U32("selector"),
            CUSTOM("devs", vms_custom_fit_array, .arg = &memhp_status),
            END_FIELDS,
        },
};
static const VmsLayout cpuhp_status = {
    .name = "CPU hotplug device state",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            BOOL("is_inserting"),
            BOOL("is_removing"),
            U32("ost_event"),
            U32("ost_status"),
            END_FIELDS,
        },
};
static const VmsLayout cpuhp_state = {
    .name = "CPU hotplug state",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U32("selector"),
            U8("command"),
            CUSTOM("devs", vms_custom_fit_array, .arg = &cpuhp_status),
            END_FIELDS,
        },
};
static const VmsLayout piix4_memhp = {
    .name = "piix4_pm/memhp",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT("acpi_memory_hotplug", memhp_state),
            END_FIELDS,
        },
};
static const VmsLayout piix4_cpuhp = {
    .name = "piix4_pm/cpuhp",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){STRUCT("cpuhp_state", cpuhp_state), END_FIELDS},
};

#define PIIX4_PM_HEAD                                                          \
    STRUCT("parent_obj", vms_pci_device), U16("ar.pm1.evt.sts"),               \
        U16("ar.pm1.evt.en"), U16("ar.pm1.cnt.cnt"), STRUCT("apm", apm_state)
#define PIIX4_PM_TIMER TIMER("ar.tmr.timer"), I64("ar.tmr.overflow_time")
#define PCIHP_BRIDGE                                                           \
    U32("acpi_pci_hotplug.hotplug_select"),                                    \
        STRUCT_ARRAY("acpi_pci_hotplug.acpi_pcihp_pci_status", 256,            \
                     pci_status)
#define PIIX4_PM_SUBSECTIONS SUBSECTIONS(&piix4_memhp, &piix4_cpuhp)

/*
 * R1: qemu-kvm (0.15, 1.0, 1.2) says version 2 but writes the version-3
 * layout (GPE sts/en one be16 each): 312 bytes. Upstream 1.0-1.2 v2 wrote
 * 4 be16 each: 324 bytes.
 */
const VmsLayout vms_piix4_pm_v2_qemu_kvm = {
    .name = "piix4_pm",
    .variant = "qemu-kvm",
    .min_version = 2,
    .max_version = 2,
    .note = "R1: qemu-kvm writes the v3 layout under version 2 (312 bytes)",
    .fields =
        (const VmsField[]){
            PIIX4_PM_HEAD,
            PIIX4_PM_TIMER,
            STRUCT("ar.gpe", gpe_v3),
            STRUCT("pci0_status", pci_status),
            END_FIELDS,
        },
};
const VmsLayout vms_piix4_pm_v2_upstream = {
    .name = "piix4_pm",
    .variant = "upstream",
    .min_version = 2,
    .max_version = 2,
    .note = "upstream 1.0-1.2 version 2 (324 bytes)",
    .fields =
        (const VmsField[]){
            PIIX4_PM_HEAD,
            PIIX4_PM_TIMER,
            STRUCT("ar.gpe", gpe_upstream_v2),
            STRUCT("pci0_status", pci_status),
            END_FIELDS,
        },
};
/* Version 3: which optional parts are present depends on the machine type
 * (not on the version), so each combination is a variant. */
const VmsLayout vms_piix4_pm_v3_pci0 = {
    .name = "piix4_pm",
    .variant = "pc-1.3..1.7",
    .min_version = 3,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            PIIX4_PM_HEAD,
            PIIX4_PM_TIMER,
            STRUCT("ar.gpe", gpe_v3),
            STRUCT("acpi_pci_hotplug.acpi_pcihp_pci_status[0]", pci_status),
            END_FIELDS,
        },
    .subsections = PIIX4_PM_SUBSECTIONS,
};
const VmsLayout vms_piix4_pm_v3_bridge = {
    .name = "piix4_pm",
    .variant = "pc-2.0..",
    .min_version = 3,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            PIIX4_PM_HEAD,
            PIIX4_PM_TIMER,
            STRUCT("ar.gpe", gpe_v3),
            PCIHP_BRIDGE,
            END_FIELDS,
        },
    .subsections = PIIX4_PM_SUBSECTIONS,
};
const VmsLayout vms_piix4_pm_v3_smb_index = {
    .name = "piix4_pm",
    .variant = "pc-6.1..",
    .min_version = 3,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            PIIX4_PM_HEAD,
            STRUCT("smb", vms_pmsmb),
            PIIX4_PM_TIMER,
            STRUCT("ar.gpe", gpe_v3),
            PCIHP_BRIDGE,
            U32("acpi_pci_hotplug.acpi_index"),
            END_FIELDS,
        },
    .subsections = PIIX4_PM_SUBSECTIONS,
};
const VmsLayout vms_piix4_pm_v3_smb = {
    .name = "piix4_pm",
    .variant = "pc-2.x..6.0",
    .min_version = 3,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            PIIX4_PM_HEAD,
            STRUCT("smb", vms_pmsmb),
            PIIX4_PM_TIMER,
            STRUCT("ar.gpe", gpe_v3),
            PCIHP_BRIDGE,
            END_FIELDS,
        },
    .subsections = PIIX4_PM_SUBSECTIONS,
};
const VmsLayout vms_piix4_pm_v3_smb_pci0 = {
    .name = "piix4_pm",
    .variant = "no bridge hotplug",
    .min_version = 3,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            PIIX4_PM_HEAD,
            STRUCT("smb", vms_pmsmb),
            PIIX4_PM_TIMER,
            STRUCT("ar.gpe", gpe_v3),
            STRUCT("acpi_pci_hotplug.acpi_pcihp_pci_status[0]", pci_status),
            END_FIELDS,
        },
    .subsections = PIIX4_PM_SUBSECTIONS,
};

/* ICH9 (Q35) LPC with its ACPI block */
static const VmsLayout tco_state = {
    .name = "tco io device status",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U16("tco.rld"),
            U8("tco.din"),
            U8("tco.dout"),
            U16("tco.sts1"),
            U16("tco.sts2"),
            U16("tco.cnt1"),
            U16("tco.cnt2"),
            U8("tco.msg1"),
            U8("tco.msg2"),
            U8("tco.wdcnt"),
            U16("tco.tmr"),
            U8("sw_irq_gen"),
            TIMER("tco_timer"),
            I64("expire_time"),
            U8("timeouts_no"),
            END_FIELDS,
        },
};
static const VmsLayout ich9_memhp = {
    .name = "ich9_pm/memhp",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT("acpi_memory_hotplug", memhp_state),
            END_FIELDS,
        },
};
static const VmsLayout ich9_tco = {
    .name = "ich9_pm/tco",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){STRUCT("tco_regs", tco_state), END_FIELDS},
};
static const VmsLayout ich9_cpuhp = {
    .name = "ich9_pm/cpuhp",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){STRUCT("cpuhp_state", cpuhp_state), END_FIELDS},
};
static const VmsLayout ich9_pcihp = {
    .name = "ich9_pm/pcihp",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            PCIHP_BRIDGE,
            U32("acpi_pci_hotplug.acpi_index"),
            END_FIELDS,
        },
};
static const VmsLayout ich9_pm = {
    .name = "ich9_pm",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U16("acpi_regs.pm1.evt.sts"),
            U16("acpi_regs.pm1.evt.en"),
            U16("acpi_regs.pm1.cnt.cnt"),
            TIMER("acpi_regs.tmr.timer"),
            I64("acpi_regs.tmr.overflow_time"),
            U8_ARRAY("acpi_regs.gpe.sts", 16),
            U8_ARRAY("acpi_regs.gpe.en", 16),
            U32("smi_en"),
            U32("smi_sts"),
            END_FIELDS,
        },
    .subsections =
        SUBSECTIONS(&ich9_memhp, &ich9_tco, &ich9_cpuhp, &ich9_pcihp),
};
static const VmsLayout ich9lpc_rst_cnt = {
    .name = "ICH9LPC/rst_cnt",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U8("rst_cnt"), END_FIELDS},
};
static const VmsLayout ich9lpc_smi_feat = {
    .name = "ICH9LPC/smi_feat",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U8_ARRAY("smi_guest_features_le", 8),
            U8("smi_features_ok"),
            U64("smi_negotiated_features"),
            END_FIELDS,
        },
};
const VmsLayout vms_ich9lpc = {
    .name = "ICH9LPC",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT("d", vms_pci_device),
            STRUCT("apm", apm_state),
            STRUCT("pm", ich9_pm),
            U8_ARRAY("chip_config", 16384),
            U32("sci_level"),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(&ich9lpc_rst_cnt, &ich9lpc_smi_feat),
};
const VmsLayout vms_ich9_smb = {
    .name = "ich9_smb",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT("dev", vms_pci_device),
            BOOL("irq_enabled"),
            STRUCT("smb", vms_pmsmb),
            END_FIELDS,
        },
};
const VmsLayout vms_mch = {
    .name = "mch",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT("parent_obj", vms_pci_device),
            UNUSED(1),
            END_FIELDS,
        },
};
