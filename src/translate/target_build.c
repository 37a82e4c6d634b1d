/*
 * A target profile built from a QEMU's facts (target_facts.h): what
 * --target=auto / --qemu=PATH use for a QEMU qsnapfix has no profile of,
 * and what the tests compare with the shipped profiles (built from the
 * facts of 7.2 and 10.0, it must answer as they do).
 *
 * The facts say what the binary registers and creates; what a fact means
 * for the rules is the same for every PC QEMU and lives here and in
 * target_ram.h: which setting changes a RAM block's size, which vmstates
 * outside device classes have which minimum version, which vmstates need
 * a backend. A built profile never claims more than the facts show:
 * sizes that were not measured stay 0 ("build dependent": the rules then
 * hand over the stream's own ROM), and a vmstate outside the dump that
 * the sources say nothing about takes only the version the target wrote.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>

#include "target_facts.h"
#include "target_ram.h"

/* A built profile and everything it points to. */
typedef struct BuiltTarget {
    TrTarget t; /* first: tr_target_free() gets &t */
    GPtrArray *owned;
} BuiltTarget;

const char *tr_facts_prop(const TrTargetFacts *f, const char *name)
{
    for (const TrPropFact *p = f->props; p && p->name; p++) {
        if (!strcmp(p->name, name)) {
            return p->value;
        }
    }
    return NULL;
}

uint64_t tr_facts_ram(const TrTargetFacts *f, const char *config,
                      const char *block)
{
    for (const TrRamFact *r = f->ram; r && r->block; r++) {
        if ((!config || !strcmp(r->config, config)) &&
            tr_ram_block_matches(block, r->block)) {
            return r->length;
        }
    }
    return 0;
}

static gpointer own(BuiltTarget *b, gpointer p)
{
    g_ptr_array_add(b->owned, p);
    return p;
}

static const TrSectionSpec *find_spec(const TrSectionSpec *table,
                                      const char *vmsd)
{
    for (const TrSectionSpec *s = table; s && s->vmsd; s++) {
        if (!strcmp(s->vmsd, vmsd)) {
            return s;
        }
    }
    return NULL;
}

/*
 * Besides the dump: the vmstates of its own streams (minimum from the
 * sources where they say one, else only the version it wrote), the ones
 * it loaded when probed, and the dump's ranges the rules narrow (ehci).
 */
static TrSectionSpec *sections_outside(BuiltTarget *b, const TrTargetFacts *f)
{
    GArray *a = g_array_new(TRUE, TRUE, sizeof(TrSectionSpec));

    for (const TrStreamedFact *s = f->streamed; s && s->vmsd; s++) {
        const TrSectionSpec *known =
            find_spec(tr_pc_sections_outside_devices, s->vmsd);
        TrSectionSpec spec = {s->vmsd, s->version, s->version};
        if (known && known->min_version <= s->version) {
            spec.min_version = known->min_version;
        }
        g_array_append_val(a, spec);
    }
    for (const TrProbedFact *p = f->probed; p && p->vmsd; p++) {
        TrSectionSpec spec = {p->vmsd, p->min_version, p->max_version};
        g_array_append_val(a, spec);
    }
    for (const TrSectionSpec *d = f->vmsds; d && d->vmsd; d++) {
        const TrSectionSpec *narrowed =
            find_spec(tr_pc_sections_outside_devices, d->vmsd);
        if (narrowed && narrowed->max_version == d->max_version) {
            g_array_append_val(a, *narrowed);
        }
    }
    return own(b, g_array_free(a, FALSE));
}

static TrSectionNeed *section_needs(BuiltTarget *b, const TrTargetFacts *f)
{
    GArray *a = g_array_new(TRUE, TRUE, sizeof(TrSectionNeed));

    for (const TrProbedFact *p = f->probed; p && p->vmsd; p++) {
        const char *needs = NULL;
        if (p->loads_without) {
            continue;
        }
        for (const TrSectionNeed *n = tr_pc_section_needs; n->vmsd; n++) {
            needs = strcmp(n->vmsd, p->vmsd) ? needs : n->needs;
        }
        TrSectionNeed need = {
            p->vmsd,
            needs ? needs
                  : own(b, g_strdup_printf("the devices of configuration "
                                           "'%s'",
                                           p->with))};
        g_array_append_val(a, need);
    }
    return own(b, g_array_free(a, FALSE));
}

/* The length a configuration's stream gave a block (0: not measured). */
#define FACT(config, block) tr_facts_ram(f, config, block)

static TrRamSpec *ram_table(BuiltTarget *b, const TrTargetFacts *f)
{
    const TrRamSpec common[] = {
        {.match = "pc.ram", .kind = TR_RAM_ANY},
        {.match = "pc.bios",
         .kind = TR_RAM_BIOS,
         .length = FACT(NULL, "pc.bios"),
         .rule = "R7"},
        {.match = "pc.rom",
         .kind = TR_RAM_FIXED,
         .length = FACT(NULL, "pc.rom")},
        TR_RAM_DISPLAY(FACT("cirrus-rtl8139", "vga.vram"),
                       FACT("std-e1000-usb", "vga.vram"),
                       FACT("qxl", "vga.vram"),
                       FACT("std-e1000-usb", "/vga.rom")),
        TR_RAM_ROM("/e1000.rom", "e1000", FACT(NULL, "/e1000.rom")),
        TR_RAM_ROM("/rtl8139.rom", "rtl8139", FACT(NULL, "/rtl8139.rom")),
        TR_RAM_ROM("/virtio-net-pci.rom", "virtio-net-pci",
                   FACT(NULL, "/virtio-net-pci.rom")),
        TR_RAM_ROM("/ne2000.rom", "ne2k_pci", FACT(NULL, "/ne2000.rom")),
        TR_RAM_ROM("/ne2k_pci.rom", "ne2k_pci", FACT(NULL, "/ne2000.rom")),
        TR_RAM_ROM("/pcnet.rom", "pcnet", FACT(NULL, "/pcnet.rom")),
        TR_RAM_ROM("/i82551.rom", "i82551", FACT(NULL, "/i82551.rom")),
        TR_RAM_ROM("/i82557b.rom", "i82557b", FACT(NULL, "/i82557b.rom")),
        TR_RAM_ROM("/i82559er.rom", "i82559er", FACT(NULL, "/i82559er.rom")),
        TR_RAM_FLASH_BIOS,
        TR_RAM_ACPI_BLOBS,
    };
    GArray *a = g_array_new(TRUE, TRUE, sizeof(TrRamSpec));

    g_array_append_vals(a, common, G_N_ELEMENTS(common));
    /* other firmware blobs QEMU builds itself ("/rom@etc/..."), as its
     * streams show them: resizeable, so any length loads */
    for (const TrRamFact *r = f->ram; r && r->block; r++) {
        bool known = false;
        for (guint i = 0; i < G_N_ELEMENTS(common); i++) {
            known = known ||
                    (common[i].match[0] == '/' && common[i].match[1] == '/' &&
                     !strcmp(common[i].match + 1, r->block));
        }
        if (g_str_has_prefix(r->block, "/rom@") && !known) {
            TrRamSpec blob = {.match = own(b, g_strdup_printf("/%s", r->block)),
                              .kind = TR_RAM_ANY};
            g_array_append_val(a, blob);
        }
    }
    return own(b, g_array_free(a, FALSE));
}

#undef FACT

/* "pc-i440fx-" and "pc-q35-" machines, oldest to newest. */
static TrMachineRange *machine_ranges(BuiltTarget *b, const TrTargetFacts *f)
{
    static const char *const prefixes[] = {"pc-i440fx-", "pc-q35-"};
    GArray *a = g_array_new(TRUE, TRUE, sizeof(TrMachineRange));

    for (guint p = 0; p < G_N_ELEMENTS(prefixes); p++) {
        TrMachineRange r = {.prefix = prefixes[p], .oldest_major = G_MAXUINT};
        for (const char *const *m = f->machines; m && *m; m++) {
            unsigned major, minor;
            char end;
            if (!g_str_has_prefix(*m, r.prefix) ||
                sscanf(*m + strlen(r.prefix), "%u.%u%c", &major, &minor,
                       &end) != 2) {
                continue;
            }
            if (major < r.oldest_major ||
                (major == r.oldest_major && minor < r.oldest_minor)) {
                r.oldest_major = major;
                r.oldest_minor = minor;
            }
            if (major > r.newest_major ||
                (major == r.newest_major && minor > r.newest_minor)) {
                r.newest_major = major;
                r.newest_minor = minor;
            }
        }
        if (r.oldest_major != G_MAXUINT) {
            g_array_append_val(a, r);
        }
    }
    return own(b, g_array_free(a, FALSE));
}

/* "QEMU emulator version 8.2.1 (...)" -> 8002 */
static unsigned version_number(const char *line)
{
    const char *v = line ? strstr(line, "version ") : NULL;
    unsigned major, minor;

    return v && sscanf(v + 8, "%u.%u", &major, &minor) == 2
               ? major * 1000 + minor
               : 0;
}

static bool prop_on(const TrTargetFacts *f, const char *name)
{
    const char *v = tr_facts_prop(f, name);
    return v && !strcmp(v, "on");
}

TrTarget *tr_target_build(const TrTargetFacts *f, GError **errp)
{
    BuiltTarget *b;
    const char *qxl_revision;

    if (!f->machine || !f->vmsds || !f->vmsds->vmsd) {
        g_set_error(errp, TR_ERROR, TR_ERROR_INVALID,
                    "%s: no machine or no -dump-vmstate (QEMU < 2.1 has "
                    "none): a profile needs both",
                    f->name ? f->name : "target");
        return NULL;
    }
    if (!tr_facts_ram(f, NULL, "pc.ram")) {
        g_set_error(errp, TR_ERROR, TR_ERROR_INVALID,
                    "%s: no stream of its own was measured (no pc.ram)",
                    f->name ? f->name : "target");
        return NULL;
    }
    b = g_new0(BuiltTarget, 1);
    b->owned = g_ptr_array_new_with_free_func(g_free);
    b->t.name = own(b, g_strdup(f->name));
    b->t.description =
        own(b, g_strdup_printf("%s with -M %s (profile built from the "
                               "binary)",
                               f->version ? f->version : f->name, f->machine));
    b->t.machine = own(b, g_strdup(f->machine));
    b->t.qemu_version =
        own(b, g_strdup_printf("%u.%u", version_number(f->version) / 1000,
                               version_number(f->version) % 1000));
    b->t.sections = f->vmsds;
    b->t.sections_added = sections_outside(b, f);
    b->t.section_needs = section_needs(b, f);
    b->t.ram = ram_table(b, f);
    b->t.hpet_syntax = TR_HPET_MACHINE_PROPERTY;
    /* a "class" property of virtio-balloon-pci that keeps 0x0500 */
    b->t.balloon_class_property =
        tr_facts_prop(f, "virtio-balloon-pci.class") != NULL;
    b->t.live_id_zero_ok = false; /* PART/END by load_section_id (>= 2.x) */
    qxl_revision = tr_facts_prop(f, "qxl-vga.revision");
    b->t.qxl_default_revision =
        qxl_revision ? (uint8_t)g_ascii_strtoull(qxl_revision, NULL, 10) : 4;
    b->t.pflash_block = "system.flash0";
    b->t.facts = f;
    b->t.needs_configuration = f->configuration;
    b->t.needs_footers = f->footers;
    b->t.reads_configuration = version_number(f->version) >= 2004;
    b->t.reads_vmdesc = version_number(f->version) >= 2003;
    b->t.machines = machine_ranges(b, f);
    /* fill bytes other than 0 refused since 8.2 */
    b->t.zero_pages_only = version_number(f->version) >= 8002;
    /* clearing XSAVE components the guest never enabled is invisible to
     * it, and today's KVM refuses them: assume it for a QEMU not run */
    b->t.xstate_within_xcr0 = true;
    b->t.defaults_known = true;
    b->t.piix4_pcihp_bridge =
        prop_on(f, "PIIX4_PM.acpi-pci-hotplug-with-bridge-support");
    b->t.vga_revision = prop_on(f, "VGA.qemu-extended-regs") ? 2 : 0;
    return &b->t;
}

void tr_target_free(TrTarget *t)
{
    BuiltTarget *b = (BuiltTarget *)t;

    if (!b) {
        return;
    }
    g_ptr_array_unref(b->owned);
    g_free(b);
}
