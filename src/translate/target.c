/*
 * Target profiles: what a QEMU build creates and accepts, as data.
 *
 * Sources: vmstate-reference.md §2.3/§3/§6 and research/devices.md; the
 * qemu-7.2 figures were checked against Debian's qemu-system-x86_64 7.2
 * (streams written with `migrate "exec:cat > FILE"`); qemu-2.1 figures come
 * from reading the upstream 2.x sources (pc_sysfw.c, cirrus_vga.c,
 * virtio-pci.c) and are marked "build dependent" (length 0) where a
 * distribution's ROM files decide.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>

#include "target_ram.h"

/* Vmstates of a QEMU 2.1 PC (name, min, max), from the 2.x sources and the
 * version tables of vmstate-reference.md §3 and §6.4. */
#define COMMON_SECTIONS                                                        \
    {"timer", 1, 2}, {"cpu_common", 1, 1}, {"cpu", 11, 12},                    \
        {"kvm-tpr-opt", 1, 1}, {"apic", 3, 3}, {"kvmclock", 1, 1},             \
        {"fw_cfg", 1, 2}, {"PCIBUS", 1, 1}, {"I440FX", 3, 3}, {"PIIX3", 2, 3}, \
        {"dma", 1, 1}, {"i8259", 1, 1}, {"ioapic", 1, 3},                      \
        {"cirrus_vga", 1, 2}, {"vga", 2, 2}, {"hpet", 1, 2},                   \
        {"mc146818rtc", 1, 3}, {"i8254", 2, 3}, {"serial", 2, 3},              \
        {"fdc", 2, 2}, {"ps2kbd", 2, 3}, {"ps2mouse", 2, 2}, {"pckbd", 3, 3},  \
        {"vmmouse", 0, 0}, {"port92", 1, 1}, {"rtl8139", 3, 5},                \
        {"e1000", 1, 2}, {"ne2000", 0, 3}, {"pcnet", 2, 3}, {"ide", 0, 3},     \
        {"i2c_bus", 1, 1}, {"uhci", 1, 3}, {"ehci", 2, 2}, {"usb-ptr", 1, 1},  \
        {"usb-kbd", 1, 1}, {"usb-hub", 1, 1}, {"virtio-net", 11, 11},          \
        {"virtio-blk", 2, 2}, {"virtio-balloon", 1, 1},                        \
        {"virtio-console", 3, 3}, {"qxl", 21, 21}, {"vmware_vga", 0, 0},       \
        {"ac97", 2, 3}, {"es1370", 2, 2}, {"intel-hda", 1, 1},                 \
        {"hda-audio", 0, 2}, {"sb16", 1, 1}, {"cs4231a", 1, 1}, {"gus", 2, 2}, \
        {"i6300esb_wdt", 1, 10000}, {"ib700_wdt", 0, 0}, {"ram", 4, 4},        \
    {                                                                          \
        "block", 1, 1                                                          \
    }

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

static const TrSectionSpec qemu21_sections[] = {
    COMMON_SECTIONS,
    {"slirp", 0, 3},
    {"piix4_pm", 1, 3}, /* v2 goes to load_state_old, which misparses
                           qemu-kvm's layout: R1 fires anyway */
    {NULL, 0, 0},
};

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

/*
 * Stock QEMU 2.1 (Fedora 21) with the source's own machine type. Sizes
 * that its ROM packages decide are 0 ("build dependent"): the rules then
 * always hand over the stream's own ROM, which fits whatever the build.
 */
static const TrRamSpec qemu21_ram[] = {
    {.match = "pc.ram", .kind = TR_RAM_ANY},
    {.match = "pc.bios", .kind = TR_RAM_BIOS, .length = KiB(128), .rule = "R7"},
    {.match = "pc.rom", .kind = TR_RAM_FIXED, .length = KiB(128)},
    /* std VGA, vmware-svga, qxl: 16 MiB for pc-1.2+, 8 MiB for pc-1.0/1.1
     * (pc_compat_1_1): it depends on the machine type, so always say it.
     * The qxl ROM: rom_size exists only in Fedora's patched builds, so
     * stock 8 KiB (in TR_RAM_DISPLAY). */
    TR_RAM_DISPLAY(MiB(8), 0, 0, 0),
    TR_RAM_NIC_ROMS(0),
    /* 2.x pc_sysfw.c names flash units "system.flash%d" too. */
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

static const TrTarget qemu21 = {
    .name = "qemu-2.1",
    .description = "stock upstream QEMU 1.7-2.2 (Fedora 21: 2.1) with the "
                   "source's own machine type",
    .machine = NULL,
    .sections = qemu21_sections,
    .ram = qemu21_ram,
    .hpet_syntax = TR_HPET_NO_HPET_OPTION,
    .balloon_class_property = true, /* "class" accepts 0x0500 (qemu < 1.1) */
    .live_id_zero_ok = true, /* PART/END looked up among the STARTs seen */
    .qxl_default_revision = 4,
    .pflash_block = "system.flash0",
};

static const TrTarget *const all_targets[] = {&qemu72, &tr_target_qemu10,
                                              &qemu21, NULL};

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

bool tr_target_has_machine(const TrTarget *t, const char *machine)
{
    for (const TrMachineRange *m = t->machines; m && m->prefix; m++) {
        unsigned major, minor;
        char end;
        if (!g_str_has_prefix(machine, m->prefix) ||
            sscanf(machine + strlen(m->prefix), "%u.%u%c", &major, &minor,
                   &end) != 2) {
            continue;
        }
        unsigned v = major * 1000 + minor;
        if (v >= m->oldest_major * 1000 + m->oldest_minor &&
            v <= m->newest_major * 1000 + m->newest_minor) {
            return true;
        }
    }
    return false;
}

/*
 * Is the device of this vmsd in the stream? Its section says so; so does
 * its PCI option ROM's RAM block ("0000:00:02.0/cirrus_vga.rom"), which
 * QEMU names after the same vmsd and which the block list at the head of
 * the stream carries: a stream read as it flows (no device sections yet)
 * sees the display device there.
 */
static bool stream_has_vmsd(const VmsStream *s, const char *vmsd)
{
    g_autofree char *rom = g_strdup_printf("/%s.rom", vmsd);

    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        if (sec->idstr && !strcmp(vms_section_vmsd_name(sec), vmsd)) {
            return true;
        }
    }
    for (guint i = 0; i < s->ram_blocks->len; i++) {
        if (g_str_has_suffix(vms_stream_block(s, i)->id, rom)) {
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
