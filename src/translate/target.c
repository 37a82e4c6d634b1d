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

#include "target_facts.h"
#include "target_ram.h"

static const TrSectionSpec qemu72_sections_outside_devices[] = {
    TR_PC_SECTIONS_OUTSIDE_DEVICES,
    /* block migration's live section, never in a savevm stream */
    {"block", 0, 1},
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
    TR_RAM_EEPRO100_ROMS(KiB(128)),
    TR_RAM_FLASH_BIOS,
    TR_RAM_ACPI_BLOBS,
    {.match = NULL},
};

static const TrTarget qemu72 = {
    .name = "qemu-7.2",
    .description = "QEMU 7.2 (Debian 12) with its oldest i440fx machine, "
                   "pc-i440fx-1.4",
    .qemu_version = "7.2",
    .facts = &tr_facts_qemu72,
    .machine = "pc-i440fx-1.4",
    .sections = tr_facts_qemu72_vmsds,
    .sections_added = qemu72_sections_outside_devices,
    .section_needs = tr_pc_section_needs,
    .ram = qemu72_ram,
    .hpet_syntax = TR_HPET_MACHINE_PROPERTY,
    .balloon_class_property = false, /* realize forces 0x00ff */
    .live_id_zero_ok = false,        /* PART/END id 0 goes to "timer" */
    .qxl_default_revision = 4,
    .pflash_block = "system.flash0",
    .reads_configuration = true,
    .reads_vmdesc = true,
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

const char *tr_target_qemu_version(const TrTarget *t)
{
    return t->qemu_version;
}

const TrSectionSpec tr_pc_sections_outside_devices[] = {
    TR_PC_SECTIONS_OUTSIDE_DEVICES,
    {NULL, 0, 0},
};

const TrSectionNeed tr_pc_section_needs[] = {
    {"audio", "an audio backend"},
    {NULL, NULL},
};

const char *tr_target_section_needs(const TrTarget *t, const char *vmsd)
{
    for (const TrSectionNeed *n = t->section_needs; n && n->vmsd; n++) {
        if (!strcmp(n->vmsd, vmsd)) {
            return n->needs;
        }
    }
    return NULL;
}

const TrSectionSpec *tr_target_section(const TrTarget *t, const char *vmsd)
{
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

bool tr_ram_block_matches(const char *pattern, const char *id)
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

static bool listed(const char *const *names, const char *name)
{
    for (guint i = 0; names && names[i]; i++) {
        if (!strcmp(names[i], name)) {
            return true;
        }
    }
    return false;
}

bool tr_target_has_machine(const TrTarget *t, const char *machine)
{
    if (t->facts && t->facts->machines) {
        return listed(t->facts->machines, machine);
    }
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

bool tr_target_machine_deprecated(const TrTarget *t, const char *machine)
{
    return machine && t->facts &&
           listed(t->facts->deprecated_machines, machine);
}

/* The version of a PC machine type ("pc-1.0", "pc-i440fx-2.4", "pc-q35-
 * 2.4": major * 1000 + minor), or false for one without ("pc", "q35"). */
static bool pc_machine_version(const char *machine, unsigned *v)
{
    return machine && (machine_version(machine, "pc-i440fx-", v) ||
                       machine_version(machine, "pc-q35-", v) ||
                       machine_version(machine, "pc-", v));
}

bool tr_machine_gigabyte_aligned(const char *machine)
{
    unsigned v;

    /* pc_i440fx_1_7 / pc_q35_1_7 machine options switch gigabyte_align
     * off; "pc" and "q35" are aliases of the newest machines */
    if (machine && (!strcmp(machine, "pc") || !strcmp(machine, "q35"))) {
        return true;
    }
    return pc_machine_version(machine, &v) && v >= 2000;
}

bool tr_target_has_isapc(const TrTarget *t)
{
    /* every PC QEMU has it; a measured target says so itself */
    return !t->facts || listed(t->facts->machines, "isapc");
}

void tr_target_framing(const TrTarget *t, const char *machine,
                       bool *configuration, bool *footers)
{
    unsigned v;

    if (t->machine && machine && !strcmp(machine, t->machine)) {
        *configuration = t->needs_configuration;
        *footers = t->needs_footers;
        return;
    }
    /* send-configuration and send-section-footer: off in hw_compat_2_3 */
    *configuration = *footers = t->reads_configuration &&
                                (!pc_machine_version(machine, &v) || v >= 2004);
}

const TrCompatProp tr_pc_compat[] = {
    /* pc_compat_1_7: the bridge hotplug came with 2.0 */
    {1, 7, "PIIX4_PM", "acpi-pci-hotplug-with-bridge-support", "off"},
    /* hw_compat_2_1: the extended registers (PCI revision 2) with 2.2 */
    {2, 1, "VGA", "qemu-extended-regs", "off"},
    {2, 1, "secondary-vga", "qemu-extended-regs", "off"},
    /* hw_compat_2_1: the HDA MSI capability moved from 0x50 to 0x60 with
     * 2.2 (QEMU 2.0 has no property: always 0x50) */
    {2, 1, "intel-hda", "old_msi_addr", "on"},
    {2, 1, "ich9-intel-hda", "old_msi_addr", "on"},
    {0, 0, NULL, NULL, NULL},
};

/* Of the entries of table that cover machine version v, the one of the
 * oldest machines (QEMU applies an old machine's own entries after the
 * ones it inherits from newer machines). */
static const TrCompatProp *compat_entry(const TrCompatProp *table, unsigned v,
                                        const char *driver,
                                        const char *property)
{
    const TrCompatProp *best = NULL;

    for (const TrCompatProp *c = table; c && c->driver; c++) {
        unsigned newest = c->newest_major * 1000 + c->newest_minor;
        if (v <= newest && !strcmp(c->driver, driver) &&
            !strcmp(c->property, property) &&
            (!best ||
             newest < best->newest_major * 1000 + best->newest_minor)) {
            best = c;
        }
    }
    return best;
}

const char *tr_target_compat(const TrTarget *t, const char *machine,
                             const char *driver, const char *property)
{
    unsigned v;
    const TrCompatProp *c;

    if (!pc_machine_version(machine, &v)) {
        return NULL;
    }
    c = compat_entry(t->compat, v, driver, property);
    return c ? c->value : NULL;
}

const char *tr_machine_default(const TrTarget *t, const char *machine,
                               const char *driver, const char *property)
{
    unsigned v;
    const char *own = tr_target_compat(t, machine, driver, property);
    const TrCompatProp *c;

    if (own) {
        return own;
    }
    if (t->machine && machine && !strcmp(machine, t->machine) &&
        t->defaults_known) {
        if (!strcmp(driver, "PIIX4_PM")) {
            return t->piix4_pcihp_bridge ? "on" : "off";
        }
        if (!strcmp(driver, "VGA") || !strcmp(driver, "secondary-vga")) {
            return t->vga_revision ? "on" : "off";
        }
        /* what the profile measured on its own machine (qom-get) */
        if (t->facts) {
            g_autofree char *name = g_strdup_printf("%s.%s", driver, property);
            const char *measured = tr_facts_prop(t->facts, name);
            if (measured) {
                return measured;
            }
        }
    }
    if (!pc_machine_version(machine, &v)) {
        return NULL;
    }
    c = compat_entry(tr_pc_compat, v, driver, property);
    return c ? c->value : NULL;
}

bool tr_compat_is_off(const char *value)
{
    return value && (!strcmp(value, "off") || !strcmp(value, "no") ||
                     !strcmp(value, "false") || !strcmp(value, "0"));
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
        if (tr_ram_block_matches(r->match, block_id) &&
            (!r->with_section || stream_has_vmsd(s, r->with_section))) {
            return r;
        }
    }
    return NULL;
}
