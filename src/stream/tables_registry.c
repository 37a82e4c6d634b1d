/*
 * The registry of built-in layouts and layout sets (a set may hide one
 * vmsd, so that tests can force the resync path).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tables.h"

#include <string.h>

extern const VmsLayout vms_audio;
extern const VmsLayout vms_ac97;
extern const VmsLayout vms_es1370;
extern const VmsLayout vms_intel_hda;
extern const VmsLayout vms_hda_audio;
extern const VmsLayout vms_sb16;
extern const VmsLayout vms_cs4231a;
extern const VmsLayout vms_gus;
extern const VmsLayout vms_pcibus;
extern const VmsLayout vms_i440fx;
extern const VmsLayout vms_piix3;
extern const VmsLayout vms_piix4_pm_v2_qemu_kvm;
extern const VmsLayout vms_piix4_pm_v2_upstream;
extern const VmsLayout vms_piix4_pm_v3_pci0;
extern const VmsLayout vms_piix4_pm_v3_bridge;
extern const VmsLayout vms_piix4_pm_v3_smb_index;
extern const VmsLayout vms_piix4_pm_v3_smb;
extern const VmsLayout vms_piix4_pm_v3_smb_pci0;
extern const VmsLayout vms_ich9lpc;
extern const VmsLayout vms_ich9_smb;
extern const VmsLayout vms_mch;
extern const VmsLayout vms_i8259;
extern const VmsLayout vms_ioapic;
extern const VmsLayout vms_i8254_v2_qemu_kvm;
extern const VmsLayout vms_i8254_v2_upstream;
extern const VmsLayout vms_i8254_v3;
extern const VmsLayout vms_hpet_v2;
extern const VmsLayout vms_hpet_v1;
extern const VmsLayout vms_rtc_v2;
extern const VmsLayout vms_rtc_v3;
extern const VmsLayout vms_dma;
extern const VmsLayout vms_timer;
extern const VmsLayout vms_cpu_common;
extern const VmsLayout vms_cpu;
extern const VmsLayout vms_apic;
extern const VmsLayout vms_kvmclock;
extern const VmsLayout vms_kvm_tpr_opt;
extern const VmsLayout vms_fw_cfg;
extern const VmsLayout vms_configuration;
extern const VmsLayout vms_globalstate;
extern const VmsLayout vms_acpi_build;
extern const VmsLayout vms_pcihost;
extern const VmsLayout vms_pcspk;
extern const VmsLayout vms_i2c_bus;
extern const VmsLayout vms_port92;
extern const VmsLayout vms_vga_pci;
extern const VmsLayout vms_vga_isa;
extern const VmsLayout vms_cirrus_pci;
extern const VmsLayout vms_cirrus_isa;
extern const VmsLayout vms_qxl;
extern const VmsLayout vms_vmware_vga;
extern const VmsLayout vms_i6300esb;
extern const VmsLayout vms_ib700;
extern const VmsLayout vms_ide;
extern const VmsLayout vms_isa_ide;
extern const VmsLayout vms_ich9_ahci;
extern const VmsLayout vms_fdc;
extern const VmsLayout vms_serial;
extern const VmsLayout vms_serial_pci;
extern const VmsLayout vms_parallel_isa;
extern const VmsLayout vms_ps2kbd;
extern const VmsLayout vms_ps2mouse;
extern const VmsLayout vms_pckbd;
extern const VmsLayout vms_vmmouse;
extern const VmsLayout vms_uhci;
extern const VmsLayout vms_ehci;
extern const VmsLayout vms_ehci_v1;
extern const VmsLayout vms_usb_ptr;
extern const VmsLayout vms_usb_kbd;
extern const VmsLayout vms_usb_hub;
extern const VmsLayout vms_e1000;
extern const VmsLayout vms_rtl8139;
extern const VmsLayout vms_ne2000_pci;
extern const VmsLayout vms_ne2000_isa;
extern const VmsLayout vms_pcnet;
extern const VmsLayout vms_i82550;
extern const VmsLayout vms_i82551;
extern const VmsLayout vms_i82557a;
extern const VmsLayout vms_i82557b;
extern const VmsLayout vms_i82557c;
extern const VmsLayout vms_i82558a;
extern const VmsLayout vms_i82558b;
extern const VmsLayout vms_i82559a;
extern const VmsLayout vms_i82559b;
extern const VmsLayout vms_i82559c;
extern const VmsLayout vms_i82559er;
extern const VmsLayout vms_i82562;
extern const VmsLayout vms_i82801;
extern const VmsLayout vms_eeprom93xx;
extern const VmsLayout vms_slirp;
extern const VmsLayout vms_lsiscsi;
extern const VmsLayout vms_scsi_disk;
extern const VmsLayout vms_usb_storage;
extern const VmsLayout vms_virtio_scsi;
extern const VmsLayout vms_virtio_net;
extern const VmsLayout vms_virtio_blk;
extern const VmsLayout vms_virtio_balloon;
extern const VmsLayout vms_virtio_serial;

/* Order matters where several layouts fit one (name, version): the first
 * whose payload ends at a plausible record wins. */
const VmsLayout *const vms_builtin_layouts[] = {
    &vms_audio,
    &vms_ac97,
    &vms_es1370,
    &vms_intel_hda,
    &vms_hda_audio,
    &vms_sb16,
    &vms_cs4231a,
    &vms_gus,
    &vms_pcibus,
    &vms_i440fx,
    &vms_piix3,
    &vms_piix4_pm_v2_qemu_kvm,
    &vms_piix4_pm_v2_upstream,
    &vms_piix4_pm_v3_pci0,
    &vms_piix4_pm_v3_bridge,
    &vms_piix4_pm_v3_smb_index,
    &vms_piix4_pm_v3_smb,
    &vms_piix4_pm_v3_smb_pci0,
    &vms_ich9lpc,
    &vms_ich9_smb,
    &vms_mch,
    &vms_i8259,
    &vms_ioapic,
    &vms_i8254_v2_qemu_kvm,
    &vms_i8254_v2_upstream,
    &vms_i8254_v3,
    &vms_hpet_v2,
    &vms_hpet_v1,
    &vms_rtc_v2,
    &vms_rtc_v3,
    &vms_dma,
    &vms_timer,
    &vms_cpu_common,
    &vms_cpu,
    &vms_apic,
    &vms_kvmclock,
    &vms_kvm_tpr_opt,
    &vms_fw_cfg,
    &vms_configuration,
    &vms_globalstate,
    &vms_acpi_build,
    &vms_pcihost,
    &vms_pcspk,
    &vms_i2c_bus,
    &vms_port92,
    &vms_vga_pci,
    &vms_vga_isa,
    &vms_cirrus_pci,
    &vms_cirrus_isa,
    &vms_qxl,
    &vms_vmware_vga,
    &vms_i6300esb,
    &vms_ib700,
    &vms_ide,
    &vms_isa_ide,
    &vms_ich9_ahci,
    &vms_fdc,
    &vms_serial,
    &vms_serial_pci,
    &vms_parallel_isa,
    &vms_ps2kbd,
    &vms_ps2mouse,
    &vms_pckbd,
    &vms_vmmouse,
    &vms_uhci,
    &vms_ehci,
    &vms_ehci_v1,
    &vms_usb_ptr,
    &vms_usb_kbd,
    &vms_usb_hub,
    &vms_e1000,
    &vms_rtl8139,
    &vms_ne2000_pci,
    &vms_ne2000_isa,
    &vms_pcnet,
    &vms_i82550,
    &vms_i82551,
    &vms_i82557a,
    &vms_i82557b,
    &vms_i82557c,
    &vms_i82558a,
    &vms_i82558b,
    &vms_i82559a,
    &vms_i82559b,
    &vms_i82559c,
    &vms_i82559er,
    &vms_i82562,
    &vms_i82801,
    &vms_eeprom93xx,
    &vms_slirp,
    &vms_lsiscsi,
    &vms_scsi_disk,
    &vms_usb_storage,
    &vms_virtio_scsi,
    &vms_virtio_net,
    &vms_virtio_blk,
    &vms_virtio_balloon,
    &vms_virtio_serial,
    NULL,
};

struct VmsLayoutSet {
    const VmsLayout *const *list;
    char *hidden; /* vmsd name this set does not know, or NULL */
};

static const VmsLayoutSet builtin = {.list = vms_builtin_layouts};

const VmsLayoutSet *vms_layouts_builtin(void)
{
    return &builtin;
}

VmsLayoutSet *vms_layouts_without(const VmsLayoutSet *set,
                                  const char *vmsd_name)
{
    VmsLayoutSet *copy = g_new0(VmsLayoutSet, 1);
    copy->list = set->list;
    copy->hidden = g_strdup(vmsd_name);
    return copy;
}

void vms_layouts_free(VmsLayoutSet *set)
{
    if (set && set != &builtin) {
        g_free(set->hidden);
        g_free(set);
    }
}

guint vms_layouts_lookup(const VmsLayoutSet *set, const char *vmsd_name,
                         uint32_t version, const VmsLayout **out, guint max)
{
    guint n = 0;

    if (set->hidden && !strcmp(set->hidden, vmsd_name)) {
        return 0;
    }
    for (const VmsLayout *const *l = set->list; *l && n < max; l++) {
        /* the first byte first: a stream looks up every section here */
        if ((*l)->name[0] == vmsd_name[0] && !strcmp((*l)->name, vmsd_name) &&
            version >= (*l)->min_version && version <= (*l)->max_version) {
            out[n++] = *l;
        }
    }
    return n;
}
