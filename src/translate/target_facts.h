/*
 * What a target QEMU says about itself, as plain data, and the profile
 * built from it (docs/targets.md).
 *
 * The facts come from running the binary (never from here: translate
 * does no I/O): its version, machine types, -dump-vmstate for the
 * profile's machine, its own streams written paused for a set of device
 * configurations (sections and RAM blocks), sections it registers but
 * never sends (found by loading them) and the property values its
 * machine gives devices. scripts/target-profile writes them as C for the
 * targets qsnapfix ships (target_facts_qemu72.c, target_facts_qemu10.c);
 * --target=auto / --qemu=PATH will gather them at run time (the
 * application layer) and hand them to tr_target_build().
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TR_TARGET_FACTS_H
#define TR_TARGET_FACTS_H

#include "target.h"

/* A vmstate outside the dump, seen in the target's own streams. */
typedef struct TrStreamedFact {
    const char *vmsd;
    uint32_t version; /* the version it writes */
} TrStreamedFact;

/* A vmstate the target registers but never sends: the versions it
 * loaded, with the device configuration `with`; loads_without: also
 * without that configuration's backend. */
typedef struct TrProbedFact {
    const char *vmsd;
    uint32_t min_version, max_version;
    const char *with;
    bool loads_without;
} TrProbedFact;

/* A RAM block of the target's own stream for a device configuration. */
typedef struct TrRamFact {
    const char *config; /* "cirrus-rtl8139" */
    const char *block;  /* "0000:00:02.0/cirrus_vga.rom" */
    uint64_t length;
} TrRamFact;

/* A property value the machine gives a device type; value NULL: the
 * device has no such property. Booleans are "on"/"off". */
typedef struct TrPropFact {
    const char *name; /* "PIIX4_PM.acpi-pci-hotplug-with-bridge-support" */
    const char *value;
} TrPropFact;

typedef struct TrTargetFacts {
    const char *name;            /* "qemu-7.2", or one for a binary */
    const char *version;         /* its -version line */
    const char *machine;         /* the machine the facts are for */
    const char *const *machines; /* -M help, NULL-terminated */
    /* those -M help marks "(deprecated)": QEMU warns when one starts */
    const char *const *deprecated_machines;
    const TrSectionSpec *vmsds;     /* -dump-vmstate (vmsd == NULL ends) */
    const TrStreamedFact *streamed; /* (vmsd == NULL ends each table) */
    const TrProbedFact *probed;
    const TrRamFact *ram;
    const TrPropFact *props;
    bool configuration; /* its streams carry a CONFIGURATION record */
    bool footers;       /* and a SECTION_FOOTER after every section */
} TrTargetFacts;

/*
 * What QEMU 7.2 and 10.0 register besides their device classes' vmsds
 * (target_facts_*.c list those from -dump-vmstate): the vmstates of their
 * own streams outside the dump (versions measured there, minimums from
 * the sources: cpu has taken 11 and 12 since QEMU 1.x; the eepro100 NICs,
 * named after their model at realize, 2 and 3; their EEPROM, versioned by
 * date, 20061112 and 20061113; ISA IDE 0 to 3), the ones they
 * register but never send (audio: measured by loading it), and one
 * deliberate narrowing of the dump's range: ehci. The dump says 1..2, but
 * a v1 section makes the loader skip the nested "ehci-core" struct (field
 * version 2) and take the next byte for the end of the stream: 7.2
 * "loads" it and leaves every later device at reset (research/devices.md
 * §7.6).
 */
/* clang-format off */
#define TR_PC_SECTIONS_OUTSIDE_DEVICES                                         \
    {"PCIBUS", 1, 1}, {"acpi_build", 1, 1}, {"apic", 3, 3},                    \
        {"cpu", 11, 12}, {"cpu_common", 1, 1}, {"globalstate", 1, 1},          \
        {"i2c_bus", 1, 1}, {"ide", 0, 3}, {"ram", 4, 4}, {"slirp", 0, 4},      \
        {"timer", 1, 2}, {"audio", 1, 1}, {"ehci", 2, 2},                     \
        {"i82551", 2, 3}, {"i82557b", 2, 3}, {"i82559er", 2, 3},               \
        {"eeprom", 20061112, 20061113}, {"isa-ide", 0, 3}
/* clang-format on */

/* The same as a table, and the vmstates registered only with something:
 * audio with an audio backend (audio_init); measured on 7.2 and 10.0 by
 * loading it with and without one. */
extern const TrSectionSpec tr_pc_sections_outside_devices[];
extern const TrSectionNeed tr_pc_section_needs[];

/* The facts of the targets qsnapfix ships (generated files). */
extern const TrTargetFacts tr_facts_qemu72;
extern const TrTargetFacts tr_facts_qemu10;
/* Their vmsds, for the static profiles' tables. */
extern const TrSectionSpec tr_facts_qemu72_vmsds[];
extern const TrSectionSpec tr_facts_qemu10_vmsds[];

/* The value of a measured property, or NULL (not measured, or absent). */
const char *tr_facts_prop(const TrTargetFacts *f, const char *name);
/* The length of a block in the target's own streams, or 0 if never seen;
 * config NULL: any configuration. */
uint64_t tr_facts_ram(const TrTargetFacts *f, const char *config,
                      const char *block);

/*
 * A profile for a QEMU known only by its facts (target_build.c): its
 * machine, the sections the facts show (with what the sources say about
 * the vmstates outside the dump), RAM sizes as measured, defaults as its
 * machine sets them. NULL with errp set when the facts cannot support
 * one (no i440fx machine, no -dump-vmstate, no measured stream).
 */
TrTarget *tr_target_build(const TrTargetFacts *f, GError **errp);
void tr_target_free(TrTarget *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TrTarget, tr_target_free)

#endif
