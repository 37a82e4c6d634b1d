/*
 * The rules run backwards (backwards.c): a QEMU 7.2 stream reshaped like
 * one qemu-kvm wrote, for the demo and for tests that need old streams
 * without ../shared.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TR_BACKWARDS_H
#define TR_BACKWARDS_H

#include "translate.h"

typedef struct TrBackwardsOptions {
    /* "qemu-kvm-1.0", "qemu-kvm-1.2" or "keep" (only the options below) */
    const char *as;
    /* Give the live "ram" records section id 0 (what R8 repairs). */
    bool ram_id_zero;
    /* Rewrite the qxl ROM's mode count (to make R10 refuse). */
    uint32_t qxl_modes;
    /* Turn vga.vram's fill page record at this offset into a data page (to
     * make --shrink-vram refuse); 0 = no. */
    uint64_t vram_data_at;
    /* Add a FULL section of this idstr before EOF (a device the target
     * lacks); NULL = no. */
    const char *add_section;
    /* The section id of the sections it adds; 0: one past the stream's
     * highest. A stream read as it flows has not shown its highest at the
     * head, where the added START records go: the relay fixes one. */
    uint32_t new_section_id;
} TrBackwardsOptions;

/* The edits (in a TrResult, findings = the steps taken). */
TrResult *tr_backwards(const VmsStream *s, VmsSource *src,
                       const TrBackwardsOptions *o, GError **errp);

#endif
