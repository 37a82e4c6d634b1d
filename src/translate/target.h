/*
 * Target profiles (internal): what a QEMU build creates and accepts, as
 * data. Rules ask "does the target know this section at this version?" and
 * "what RAM block of this name does the target create, and which setting
 * changes its size?"; the answers live in the tables of target.c.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TR_TARGET_H
#define TR_TARGET_H

#include "translate.h"

/* A vmstate the target registers, with the versions its loader takes. */
typedef struct TrSectionSpec {
    const char *vmsd; /* vmsd name: the idstr after its last '/' */
    uint32_t min_version;
    uint32_t max_version;
} TrSectionSpec;

/* A vmstate the target registers only with something the VM must have:
 * `needs`, e.g. "an audio backend" (the recipe says so). */
typedef struct TrSectionNeed {
    const char *vmsd;
    const char *needs;
} TrSectionNeed;

/* How the target sizes a RAM block, and what can change the size. */
typedef enum {
    TR_RAM_ANY,     /* any length (pc.ram follows -m) */
    TR_RAM_FIXED,   /* always `length`; no setting changes it */
    TR_RAM_ROMFILE, /* option ROM: `length` by default; <driver>.romfile=FILE
                       gives the file size rounded up to a power of two */
    TR_RAM_BIOS,    /* `length` by default; -bios FILE gives any size */
    TR_RAM_VGAMEM,  /* `length` by default; -global <driver>.vgamem_mb=N
                       for N in `vgamem_mb` */
    TR_RAM_PFLASH,  /* created only with -drive if=pflash, its size */
    TR_RAM_PFLASH_SHADOW, /* created with the pflash drive: min(size, 128K) */
    TR_RAM_RENAMED,       /* the target names this block `rename_to` (R17) */
    TR_RAM_QXL_ROM,       /* the qxl ROM BAR: always `length` (R10) */
} TrRamKind;

typedef struct TrRamSpec {
    /* Block id: exact ("pc.bios"), or "/suffix" for "<pci path>/suffix". */
    const char *match;
    /* Only when the stream has a section of this vmsd (vga.vram belongs to
     * whichever display device is there); NULL: always. */
    const char *with_section;
    TrRamKind kind;
    uint64_t length;       /* default length; 0 = build dependent, unknown */
    const char *driver;    /* -global driver for romfile=/vgamem_mb= */
    const char *property;  /* TR_RAM_VGAMEM: NULL = "vgamem_mb" */
    const char *rule;      /* the rule that explains a mismatch */
    uint32_t vgamem_mb[6]; /* allowed values in MiB (0-terminated) */
    const char *rename_to; /* TR_RAM_RENAMED */
} TrRamSpec;

/*
 * A compat property of the target's machine types (QEMU's compat_props):
 * machines up to newest (by version: "pc-1.0" and "pc-i440fx-1.0" are
 * 1.0) give driver.property this value instead of the device's default.
 * Listed only where a rule reads it; terminated by driver == NULL.
 */
typedef struct TrCompatProp {
    unsigned newest_major, newest_minor;
    const char *driver;
    const char *property;
    const char *value;
} TrCompatProp;

/* How a -machine option is spelled on this target. */
typedef enum {
    TR_HPET_MACHINE_PROPERTY, /* -machine hpet=off */
    TR_HPET_NO_HPET_OPTION,   /* -no-hpet */
} TrHpetSyntax;

struct TrTarget {
    const char *name;
    const char *description;
    /* The QEMU release it is ("7.2"): a binary that proves a load for it
     * must say that version. */
    const char *qemu_version;
    /* What the binary says about itself (target_facts.h), NULL for a
     * target proven by loading only (qemu-2.0). */
    const struct TrTargetFacts *facts;
    /* -M: a fixed machine type, or NULL = the source's own machine type. */
    const char *machine;
    /* What it registers: for a measured target, `sections` is its
     * -dump-vmstate (target_facts_*.c) and `sections_added` the vmstates
     * outside device classes, each table terminated by vmsd == NULL; an
     * entry of sections_added wins. */
    const TrSectionSpec *sections;
    const TrSectionSpec *sections_added;
    const TrSectionNeed *section_needs; /* vmsd == NULL ends */
    const TrRamSpec *ram;               /* terminated by match == NULL */
    TrHpetSyntax hpet_syntax;
    /* No -accel option (QEMU 2.0): the recipe says -machine accel=. */
    bool accel_machine_property;
    /* virtio-balloon-pci: does the target keep a stream's 0x0500 class
     * through -global virtio-balloon-pci.class (else R16 rewrites it)? */
    bool balloon_class_property;
    /* Does the loader find a PART/END with section id 0 (else R8)? */
    bool live_id_zero_ok;
    /* PCI revision the target gives qxl when not told otherwise. */
    uint8_t qxl_default_revision;
    /* pflash drives on the command line are units 0, 1, ...; the block of
     * unit 0 is named like this. */
    const char *pflash_block;

    /* How the loader frames a stream for `machine` (machines >= 2.4). */
    bool needs_configuration; /* a CONFIGURATION record naming the machine */
    bool needs_footers;       /* a SECTION_FOOTER after every section */
    /* QEMU >= 2.4: machines >= 2.4 read CONFIGURATION records and footers
     * (else the loader knows neither: QEMU 2.0). */
    bool reads_configuration;
    /* QEMU >= 2.3: after EOF the loader reads a VM description (JSON) and
     * warns when there is none. */
    bool reads_vmdesc;
    /* The machine types the target has, for a CONFIGURATION record that
     * names one (NULL: not checked). Terminated by prefix == NULL. */
    const struct TrMachineRange *machines;
    /* ZERO page records must carry fill byte 0 (QEMU >= 8.2, R20). */
    bool zero_pages_only;
    /* KVM takes only XSAVE components within the guest's XCR0 (R23). */
    bool xstate_within_xcr0;
    /* Device defaults of `machine` that show in the stream and that a
     * -global changes (R21, R22); defaults_known false: not judged. */
    bool defaults_known;
    bool piix4_pcihp_bridge; /* acpi-pci-hotplug-with-bridge-support */
    uint8_t vga_revision;    /* std VGA: 2 with qemu-extended-regs, else 0 */
    /* Compat properties of the machine types (NULL: none that a rule
     * reads). */
    const TrCompatProp *compat;
};

/* Machine types "<prefix><major>.<minor>" from oldest to newest. */
typedef struct TrMachineRange {
    const char *prefix; /* "pc-i440fx-" */
    unsigned oldest_major, oldest_minor;
    unsigned newest_major, newest_minor;
} TrMachineRange;

/* Does the target have this machine type (by its class name)? */
bool tr_target_has_machine(const TrTarget *t, const char *machine);
/*
 * Does the machine type split RAM at 3 GiB when the guest has 3.5 GiB or
 * more (gigabyte_align: i440fx and q35 machines >= 2.0), where older ones
 * and every qemu-kvm split it at 3.5 GiB?
 */
bool tr_machine_gigabyte_aligned(const char *machine);
/* Does the target have the ISA-only PC machine (-M isapc)? */
bool tr_target_has_isapc(const TrTarget *t);
/* Does the target mark it deprecated (a warning on every start)? */
bool tr_target_machine_deprecated(const TrTarget *t, const char *machine);
/*
 * How the target's loader frames a stream for this machine type: a
 * CONFIGURATION record and section footers (machines >= 2.4 of a QEMU
 * >= 2.4; the profile's own machine as measured).
 */
void tr_target_framing(const TrTarget *t, const char *machine,
                       bool *configuration, bool *footers);
/*
 * The value the target's machine type gives driver.property when it is
 * not the device's own default: the machine's compat properties (the
 * target's, then those every PC QEMU shares: tr_pc_compat), or for the
 * profile's machine what was measured. NULL: the device's default.
 */
const char *tr_machine_default(const TrTarget *t, const char *machine,
                               const char *driver, const char *property);

/*
 * The value the target's machine type `machine` gives driver.property
 * through its compat properties, or NULL: the device's own default (also
 * for a machine name without a version, such as "pc").
 */
const char *tr_target_compat(const TrTarget *t, const char *machine,
                             const char *driver, const char *property);
/* Is a compat value (or a property's default) a boolean "off"? */
bool tr_compat_is_off(const char *value);

/* The spec of the section's vmsd name, or NULL if the target lacks it. */
const TrSectionSpec *tr_target_section(const TrTarget *t, const char *vmsd);
/* What the VM needs for the target to register vmsd, or NULL: nothing. */
const char *tr_target_section_needs(const TrTarget *t, const char *vmsd);
/* Does a TrRamSpec.match pattern match the block id? */
bool tr_ram_block_matches(const char *pattern, const char *id);
/*
 * The spec that describes a RAM block of this id, given the stream's
 * sections (for with_section), or NULL if the target does not know it.
 */
const TrRamSpec *tr_target_ram(const TrTarget *t, const char *block_id,
                               const VmsStream *s);

/* Compat properties of every PC QEMU since they were added (QEMU's
 * hw_compat_* / pc_compat_*), where a rule reads them. */
extern const TrCompatProp tr_pc_compat[];

extern const TrTarget tr_target_qemu10; /* target_qemu10.c */
extern const TrTarget tr_target_qemu20; /* target_qemu20.c */

#endif
