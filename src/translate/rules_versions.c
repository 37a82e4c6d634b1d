/*
 * Rules that bring a section to the version the target reads, with the
 * fields that version added:
 *
 *   R26  ehci version 1 (QEMU 1.1/1.2 and qemu-kvm 1.2: the PCI device and
 *        the registers in one vmsd, 368 bytes). QEMU >= 1.3 (2.0, 7.2,
 *        10.0) register "ehci" version 2: the PCI device, then the
 *        registers as a nested "ehci-core" struct whose field version is 2
 *        and which adds usbsts_pending and usbsts_frindex after usbsts.
 *        Its minimum version is 1, but for a version-1 stream the loader
 *        skips the nested struct and takes the registers for the next
 *        record: the stream is misread, not refused.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "layout.h"
#include "rules.h"

/* ---- R26: ehci version 1 ------------------------------------------------ */

/* PCIDevice 276 + 8 registers (32) + portsc[6] (24) + frame timer (8) +
 * last_run_ns (8) + async_stepdown (4) + astate, pstate, a/p_fetch_addr
 * (16) */
#define EHCI_V1_LEN 368
/* usbsts_pending, usbsts_frindex: one be32 each */
#define EHCI_V2_ADDED 8

static void r26_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;

    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = tr_live_device(ctx, i, "ehci");
        if (!sec || sec->version_id != 1 || sec->payload_len != EHCI_V1_LEN ||
            !sec->layout) {
            continue;
        }
        tr_hit_add(ctx, hits, i, G_MAXUINT, 0, sec->idstr,
                   g_strdup_printf("'%s' is version 1 (%u bytes: QEMU "
                                   "1.1/1.2 and qemu-kvm 1.2 kept the PCI "
                                   "device and the registers in one vmsd); "
                                   "%s reads version 2, whose nested "
                                   "registers it skips in a version-1 "
                                   "stream",
                                   sec->idstr, EHCI_V1_LEN, ctx->target->name));
    }
}

static bool r26_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsSection *sec = vms_stream_section(ctx->stream, hit->section);
    VmsFieldLoc usbsts;
    VmsBuilder *added;

    if (!vms_section_find_field(sec, "usbsts", &usbsts, errp)) {
        return false;
    }
    tr_plan_patch_be32(ctx->plan, hit->finding, sec->version_offset, 2);
    tr_give_section_version(ctx, hit->section, 2);
    added = vms_builder_new_memory();
    vms_builder_be32(added, 0); /* usbsts_pending */
    vms_builder_be32(added, 0); /* usbsts_frindex */
    tr_plan_put(ctx->plan, hit->finding, usbsts.offset + usbsts.size, 0, added);
    tr_finding_set(hit->finding, TR_ACTION_EDIT,
                   g_strdup_printf("header version 1 -> 2; usbsts_pending "
                                   "and usbsts_frindex (%u bytes of zeros) "
                                   "inserted after usbsts: no status bit "
                                   "waiting for the next frame and no "
                                   "interrupt threshold, as a migration "
                                   "between two QEMU 1.2 started",
                                   EHCI_V2_ADDED));
    return true;
}

/* R26 — ehci version 1 (QEMU 1.1/1.2, qemu-kvm 1.2).
 * Evidence: FULL ".../ehci", version 1, payload 368 bytes.
 * Edit: header version 1 -> 2; 8 bytes (usbsts_pending, usbsts_frindex,
 * both 0) inserted after usbsts. */
const TrRule tr_rule_r26_ehci = {
    .id = "R26",
    .title = "ehci version 1 (registers not yet nested)",
    .fixes = "an 'ehci' section of version 1 (QEMU 1.1/1.2): the target "
             "reads version 2, which nests the registers in a struct with "
             "two more fields, and skips that struct for a version-1 "
             "stream, misreading everything after it",
    .actions = TR_MAY_EDIT,
    .needs = TR_NEEDS("drop-section", "R9"),
    .gives = TR_GIVES_SECTION_VERSIONS,
    .detect = r26_detect,
    .plan = r26_plan,
};
