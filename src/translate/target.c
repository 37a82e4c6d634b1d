/*
 * Target profiles: what a QEMU build creates and accepts, as data.
 *
 * Sources: vmstate-reference.md §2.3/§3/§6 and research/devices.md; the
 * qemu-7.2 figures were checked against Debian's qemu-system-x86_64 7.2
 * (streams written with `migrate "exec:cat > FILE"`). The other targets
 * have files of their own: target_qemu10.c, target_qemu20.c.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>

#include "target_ram.h"

/*
 * Every vmstate QEMU 7.2 registers for a PC: the device vmsds as
 * `qemu-system-x86_64 -M pc-i440fx-1.4 -dump-vmstate FILE` lists them
 * (name, minimum_version_id, version_id; several devices sharing a vmsd
 * name give the widest range), plus the vmstates registered outside
 * devices or by devices the dump leaves out (timer, cpu, apic, PCIBUS,
 * i2c_bus, slirp, ram, block, globalstate, ide, acpi_build), from the 7.2
 * sources and streams it wrote. ehci: see below.
 */
const TrSectionSpec tr_qemu72_sections[] = {
    {"ac97", 2, 3},
    {"acpi-erst", 1, 1},
    {"acpi-ged", 1, 1},
    {"acpi_build", 1, 1},
    {"amd-iommu", 0, 0},
    {"apic", 3, 3},
    {"block", 1, 1},
    {"bochs-display", 0, 0},
    {"ccid-card-passthru", 1, 1},
    {"cirrus_vga", 1, 2},
    {"cpu", 11, 12},
    {"cpu_common", 1, 1},
    {"cs4231a", 1, 1},
    {"ctucan_pci", 1, 1},
    {"dma", 1, 1},
    {"e1000", 1, 2},
    {"e1000e", 1, 1},
    {"ehci", 2, 2},
    {"es1370", 2, 2},
    {"fdc", 2, 2},
    {"fw_cfg", 1, 2},
    {"globalstate", 1, 1},
    {"gpex_root", 1, 1},
    {"gus", 2, 2},
    {"hda-audio", 0, 2},
    {"hpet", 1, 2},
    {"hv-syndbg", 0, 0},
    {"i2c-ddc", 0, 1},
    {"i2c_bus", 1, 1},
    {"I440FX", 3, 3},
    {"i6300esb_wdt", 1, 10000},
    {"i8254", 2, 3},
    {"i8259", 1, 1},
    {"i82801b11_bridge", 0, 0},
    {"ib700_wdt", 0, 0},
    {"ich9_ahci", 0, 1},
    {"ich9_smb", 1, 1},
    {"ICH9LPC", 1, 1},
    {"ide", 0, 3},
    {"imx.usbphy", 1, 1},
    {"intel-hda", 0, 1},
    {"ioapic", 1, 3},
    {"ioh-3240-express-root-port", 1, 1},
    {"iommu-intel", 1, 1},
    {"ipmi-interface-pci-bt", 1, 1},
    {"ipmi-interface-pci-kcs", 1, 1},
    {"ipoctal232", 1, 1},
    {"ivshmem-doorbell", 0, 0},
    {"ivshmem-plain", 0, 0},
    {"kvaser_pci", 1, 1},
    {"kvm-tpr-opt", 1, 1},
    {"kvmclock", 1, 1},
    {"lsiscsi", 0, 1},
    {"mc146818rtc", 1, 3},
    {"mch", 1, 1},
    {"megasas", 0, 0},
    {"megasas-gen2", 0, 0},
    {"mioe3680_pci", 1, 1},
    {"mptsas", 0, 0},
    {"ne2000", 0, 3},
    {"nvme", 0, 0},
    {"ohci", 1, 1},
    {"parallel_isa", 1, 1},
    {"pci-serial", 1, 1},
    {"pci-serial-multi", 1, 1},
    {"pci_bridge", 0, 0},
    {"PCIBUS", 1, 1},
    {"pcie-pci-bridge", 0, 0},
    {"pcie-root-port", 1, 1},
    {"pciespscsi", 1, 2},
    {"PCIHost", 1, 1},
    {"pckbd", 3, 3},
    {"pckbd-mmio", 1, 1},
    {"pcm3680i_pci", 1, 1},
    {"pcnet", 2, 3},
    {"pcspk", 1, 1},
    {"pflash_cfi01", 1, 1},
    {"PIIX3", 2, 3},
    {"piix4_pm", 3, 3},
    {"port92", 1, 1},
    {"ps2kbd", 2, 3},
    {"ps2mouse", 2, 2},
    {"pvpanic-pci", 1, 1},
    {"pvscsi", 0, 0},
    {"qxl", 21, 21},
    {"ram", 4, 4},
    {"rocker", 0, 0},
    {"rtl8139", 3, 5},
    {"sb16", 1, 1},
    {"scsi-disk", 1, 1},
    {"SCSIDevice", 1, 1},
    {"sd-card", 2, 2},
    {"sdhci", 1, 1},
    {"serial", 2, 3},
    {"slirp", 0, 4},
    {"smbus-eeprom", 1, 1},
    {"smbus-ipmi", 1, 1},
    {"sysbus-ahci", 0, 0},
    {"sysbusespscsi", 1, 2},
    {"timer", 1, 2},
    {"tpci200", 1, 1},
    {"tpm-crb", 0, 0},
    {"tpm-tis", 0, 0},
    {"tulip", 0, 0},
    {"u2f-key", 1, 1},
    {"u2f-key-passthru", 1, 1},
    {"uhci", 1, 3},
    {"usb-audio", 0, 0},
    {"usb-ccid", 1, 1},
    {"usb-host", 1, 1},
    {"usb-hub", 1, 1},
    {"usb-kbd", 1, 1},
    {"usb-mtp", 1, 1},
    {"usb-net", 0, 0},
    {"usb-ptr", 1, 1},
    {"usb-redir", 1, 1},
    {"usb-serial", 0, 0},
    {"usb-storage", 1, 1},
    {"usb-uas", 0, 0},
    {"usb-wacom", 0, 0},
    {"vga", 2, 2},
    {"vhost-user-blk", 1, 1},
    {"vhost-user-fs", 0, 0},
    {"vhost-user-gpio", 0, 0},
    {"vhost-user-i2c", 0, 0},
    {"vhost-user-input", 0, 0},
    {"vhost-user-rng", 0, 0},
    {"vhost-user-vsock", 0, 0},
    {"virtio-9p", 1, 1},
    {"virtio-balloon", 1, 1},
    {"virtio-blk", 2, 2},
    {"virtio-console", 3, 3},
    {"virtio-crypto", 1, 1},
    {"virtio-gpu", 1, 1},
    {"virtio-input", 1, 1},
    {"virtio-input-host", 0, 0},
    {"virtio-iommu", 2, 2},
    {"virtio-mem", 1, 1},
    {"virtio-net", 11, 11},
    {"virtio-rng", 1, 1},
    {"virtio-scsi", 1, 1},
    {"virtio-vga", 2, 2},
    {"virtio-vhost_scsi", 1, 1},
    {"virtio-vhost_vsock", 0, 0},
    {"vmbus-bridge", 0, 0},
    {"vmcoreinfo", 1, 1},
    {"vmgenid", 1, 1},
    {"vmmouse", 0, 0},
    {"vmware_vga", 0, 0},
    {"vmxnet3", 1, 1},
    {"xhci", 0, 1},
    {"xhci-sysbus", 0, 1},
    {"xio3130-express-downstream-port", 1, 1},
    {"xio3130-express-upstream-port", 1, 1},
    {NULL, 0, 0},
};
/*
 * ehci: the minimum is 2 in practice. A v1 section makes the loader skip
 * the nested "ehci-core" struct (field version 2) and take the next byte
 * for the end of the stream: 7.2 "loads" it and leaves every later device
 * at reset (research/devices.md §7.6).
 */

/*
 * RAM blocks of QEMU 7.2 with -M pc-i440fx-1.4 (measured: see the table in
 * vmstate-reference.md §2.3). Order matters: the first match wins.
 */
static const TrRamSpec qemu72_ram[] = {
    {.match = "pc.ram", .kind = TR_RAM_ANY},
    {.match = "pc.bios", .kind = TR_RAM_BIOS, .length = KiB(128), .rule = "R7"},
    {.match = "pc.rom", .kind = TR_RAM_FIXED, .length = KiB(128)},
    TR_RAM_DISPLAY(MiB(8), MiB(16), MiB(64), KiB(64)),
    /* Debian's ipxe legacy ROMs (pxe-*.rom, 74-76 KB) give 128 KiB. */
    TR_RAM_NIC_ROMS(KiB(128)),
    TR_RAM_FLASH_BIOS,
    {.match = NULL},
};

static const TrTarget qemu72 = {
    .name = "qemu-7.2",
    .description = "QEMU 7.2 (Debian 12) with its oldest i440fx machine, "
                   "pc-i440fx-1.4",
    .machine = "pc-i440fx-1.4",
    .sections = tr_qemu72_sections,
    .ram = qemu72_ram,
    .hpet_syntax = TR_HPET_MACHINE_PROPERTY,
    .balloon_class_property = false, /* realize forces 0x00ff */
    .live_id_zero_ok = false,        /* PART/END id 0 goes to "timer" */
    .qxl_default_revision = 4,
    .pflash_block = "system.flash0",
    /* hw_compat_1_7 and hw_compat_2_1 of pc-i440fx-1.4 */
    .defaults_known = true,
    .piix4_pcihp_bridge = false,
    .vga_revision = 0,
};

static const TrTarget *const all_targets[] = {&qemu72, &tr_target_qemu10,
                                              &tr_target_qemu20, NULL};

const TrTarget *const *tr_targets(void)
{
    return all_targets;
}

const TrTarget *tr_target_default(void)
{
    return &qemu72;
}

const TrTarget *tr_target_find(const char *name)
{
    for (guint i = 0; all_targets[i]; i++) {
        if (!strcmp(all_targets[i]->name, name)) {
            return all_targets[i];
        }
    }
    return NULL;
}

const char *tr_target_name(const TrTarget *t)
{
    return t->name;
}

const char *tr_target_description(const TrTarget *t)
{
    return t->description;
}

const TrSectionSpec *tr_target_section(const TrTarget *t, const char *vmsd)
{
    for (guint i = 0; t->sections_removed && t->sections_removed[i]; i++) {
        if (!strcmp(t->sections_removed[i], vmsd)) {
            return NULL;
        }
    }
    for (const TrSectionSpec *s = t->sections_added; s && s->vmsd; s++) {
        if (!strcmp(s->vmsd, vmsd)) {
            return s;
        }
    }
    for (const TrSectionSpec *s = t->sections; s->vmsd; s++) {
        if (!strcmp(s->vmsd, vmsd)) {
            return s;
        }
    }
    return NULL;
}

static bool block_matches(const char *pattern, const char *id)
{
    if (pattern[0] != '/') {
        return !strcmp(pattern, id);
    }
    /* "/suffix": "<pci path>/suffix" with a non-empty path; "//name": the
     * path-less "/name" exactly (the "/rom@etc/..." firmware blobs) */
    if (pattern[1] == '/') {
        return !strcmp(pattern + 1, id);
    }
    size_t plen = strlen(pattern), ilen = strlen(id);
    return ilen > plen && !strcmp(id + ilen - plen, pattern);
}

/* "pc-1.0", "pc-i440fx-1.4", "pc-q35-2.0": major * 1000 + minor. */
static bool machine_version(const char *machine, const char *prefix,
                            unsigned *version)
{
    unsigned major, minor;
    char end;

    if (!g_str_has_prefix(machine, prefix) ||
        sscanf(machine + strlen(prefix), "%u.%u%c", &major, &minor, &end) !=
            2) {
        return false;
    }
    *version = major * 1000 + minor;
    return true;
}

bool tr_target_has_machine(const TrTarget *t, const char *machine)
{
    for (const TrMachineRange *m = t->machines; m && m->prefix; m++) {
        unsigned v;
        if (machine_version(machine, m->prefix, &v) &&
            v >= m->oldest_major * 1000 + m->oldest_minor &&
            v <= m->newest_major * 1000 + m->newest_minor) {
            return true;
        }
    }
    return false;
}

const char *tr_target_compat(const TrTarget *t, const char *machine,
                             const char *driver, const char *property)
{
    unsigned v;

    if (!machine || !(machine_version(machine, "pc-i440fx-", &v) ||
                      machine_version(machine, "pc-q35-", &v) ||
                      machine_version(machine, "pc-", &v))) {
        return NULL;
    }
    /* of the entries that cover the machine, the one of the oldest
     * machines wins: QEMU applies an old machine's own entries after the
     * ones it inherits from newer machines */
    const TrCompatProp *best = NULL;
    for (const TrCompatProp *c = t->compat; c && c->driver; c++) {
        unsigned newest = c->newest_major * 1000 + c->newest_minor;
        if (v <= newest && !strcmp(c->driver, driver) &&
            !strcmp(c->property, property) &&
            (!best ||
             newest < best->newest_major * 1000 + best->newest_minor)) {
            best = c;
        }
    }
    return best ? best->value : NULL;
}

bool tr_compat_is_off(const char *value)
{
    return value && (!strcmp(value, "off") || !strcmp(value, "no") ||
                     !strcmp(value, "false") || !strcmp(value, "0"));
}

static bool stream_has_vmsd(const VmsStream *s, const char *vmsd)
{
    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        if (sec->idstr && !strcmp(vms_section_vmsd_name(sec), vmsd)) {
            return true;
        }
    }
    return false;
}

const TrRamSpec *tr_target_ram(const TrTarget *t, const char *block_id,
                               const VmsStream *s)
{
    for (const TrRamSpec *r = t->ram; r->match; r++) {
        if (block_matches(r->match, block_id) &&
            (!r->with_section || stream_has_vmsd(s, r->with_section))) {
            return r;
        }
    }
    return NULL;
}
