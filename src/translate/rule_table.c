/*
 * The rule table: every rule, in the order they run. This list is the
 * only one; each entry (rules_*.c) says what its rule fixes, what its
 * findings may do and which earlier rules' results it reads.
 *
 * The order follows from those needs and from the report, which lists
 * findings in run order:
 *   drop-section      first: every rule that looks at sections skips the
 *                     ones the user dropped;
 *   R15, kvm, hpet,   the machine around the devices (recipe settings
 *   acpi, R24, R25,   and notes, R28's refusal; R3, R25 and R28 read
 *   R28               R15's machine type);
 *   R9, R8            before the rules on section records: R8 skips the
 *                     block sections R9 removes, R19 gives R8's ids to
 *                     the footers it adds;
 *   R1 ... R16, R26   section headers and payload bytes;
 *   R4 ... ram        one walk over the RAM block list (detect_block);
 *   R20               after R6, whose dropped ROMs it leaves alone;
 *   R18, R19          the framing of the recipe's machine (R15's);
 *   R21 R22 R27 R29   device defaults;
 *   R23               CPU state;
 *   target, layout    last: what the target still cannot load, after
 *                     the versions R1/R2/R26 set.
 *
 * Not rules (vmstate-reference.md §0): R11 (no VM description: QEMU loads
 * without it), R12 (kvm-tpr-opt: the same layout; R25 is about the device
 * that loads it), R13 (a stale PIC: not
 * visible in the stream), R14 (virtio features: a -netdev choice).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "rules.h"

#define TR_RULES(X)                                                            \
    X(drop_section)                                                            \
    X(r15_machine)                                                             \
    X(kvm)                                                                     \
    X(hpet)                                                                    \
    X(acpi)                                                                    \
    X(r24_qxl_revision)                                                        \
    X(r25_vapic)                                                               \
    X(r28_ram_split)                                                           \
    X(r9_block)                                                                \
    X(r8_live_ids)                                                             \
    X(r1_piix4_pm)                                                             \
    X(r2_i8254)                                                                \
    X(r3_usb_path)                                                             \
    X(r16_balloon_class)                                                       \
    X(r26_ehci)                                                                \
    X(r4_cirrus_vram)                                                          \
    X(r5_vga_memory)                                                           \
    X(r6_option_rom)                                                           \
    X(r7_bios)                                                                 \
    X(r10_qxl_rom)                                                             \
    X(r17_flash)                                                               \
    X(ram_unknown)                                                             \
    X(r20_fill_pages)                                                          \
    X(r18_configuration)                                                       \
    X(r19_footers)                                                             \
    X(r21_piix4_pcihp)                                                         \
    X(r22_vga_revision)                                                        \
    X(r27_hda_msi)                                                             \
    X(r29_virtio_vectors)                                                      \
    X(r23_xstate)                                                              \
    X(unknown_section)                                                         \
    X(opaque_section)

#define DECLARE(name) extern const TrRule tr_rule_##name;
TR_RULES(DECLARE)

#define ENTRY(name) &tr_rule_##name,
static const TrRule *const table[] = {TR_RULES(ENTRY)};

const TrRule *const *tr_rule_table(guint *n)
{
    *n = G_N_ELEMENTS(table);
    return table;
}

const TrRule *tr_rule_find(const char *id)
{
    for (guint i = 0; i < G_N_ELEMENTS(table); i++) {
        if (!strcmp(table[i]->id, id)) {
            return table[i];
        }
    }
    return NULL;
}
