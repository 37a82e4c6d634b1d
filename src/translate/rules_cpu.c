/*
 * R23: XSAVE components marked in use that the guest never enabled.
 *
 * A KVM stream carries the vCPU's XSAVE header (env.xstate_bv) beside the
 * guest's XCR0 (env.xcr0). Written on a host with protection keys, it can
 * say PKRU (bit 9) is in use while the guest enabled x87 only (xcr0 = 1):
 * the host's state leaked into the header. QEMU 10.0 hands the header to
 * KVM as it is, and KVM refuses components outside the guest's CPUID
 * ("Putting registers after init: Failed to set XSAVE: Invalid argument"),
 * where QEMU 7.2 loaded the same stream. A component the guest did not
 * enable in XCR0 is architecturally in its initial state for the guest,
 * so clearing its xstate_bv bit changes nothing the guest can see.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "layout.h"
#include "rules.h"

/* x87 and SSE: always loadable, whatever XCR0 says. */
#define XSTATE_LEGACY 0x3u

static bool cpu_xsave_fields(const VmsSection *sec, VmsFieldLoc *xcr0,
                             VmsFieldLoc *bv)
{
    return sec->layout && vms_section_find_field(sec, "env.xcr0", xcr0, NULL) &&
           vms_section_find_field(sec, "env.xstate_bv", bv, NULL) &&
           xcr0->size == 8 && bv->size == 8;
}

static void r23_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;

    if (!ctx->target->xstate_within_xcr0) {
        return;
    }
    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = tr_live_device(ctx, i, "cpu");
        VmsFieldLoc xcr0, bv;
        if (!sec || !cpu_xsave_fields(sec, &xcr0, &bv)) {
            continue;
        }
        uint64_t stray = bv.value & ~(xcr0.value | XSTATE_LEGACY);
        if (!stray) {
            continue;
        }
        tr_hit_add(ctx, hits, i, G_MAXUINT, stray, sec->idstr,
                   g_strdup_printf("'%s' instance %u: xstate_bv 0x%" PRIx64
                                   " marks components 0x%" PRIx64
                                   " in use that the guest's xcr0 0x%" PRIx64
                                   " never enabled; %s passes the header to "
                                   "KVM, which refuses them",
                                   sec->idstr, sec->instance_id, bv.value,
                                   stray, xcr0.value, ctx->target->name));
    }
}

static bool r23_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsSection *sec = vms_stream_section(ctx->stream, hit->section);
    VmsFieldLoc xcr0, bv;
    VmsBuilder *w;

    if (!cpu_xsave_fields(sec, &xcr0, &bv)) {
        g_set_error(errp, TR_ERROR, TR_ERROR_STREAM,
                    "%s: R23: the xsave fields of '%s' vanished",
                    ctx->stream->name, sec->idstr);
        return false;
    }
    uint64_t v = bv.value & ~hit->value;
    w = vms_builder_new_memory();
    vms_builder_be64(w, v);
    tr_plan_put(ctx->plan, hit->finding, bv.offset, 8, w);
    tr_finding_set(hit->finding, TR_ACTION_EDIT,
                   g_strdup_printf("xstate_bv 0x%" PRIx64 " -> 0x%" PRIx64
                                   ": those components are in their initial "
                                   "state for the guest",
                                   bv.value, v));
    return true;
}

const TrRule tr_rule_r23_xstate = {
    .id = "R23",
    .title = "XSAVE components the guest never enabled",
    .fixes = "a 'cpu' section whose xstate_bv marks components outside the "
             "guest's xcr0: KVM under QEMU 10 refuses them (\"Failed to set "
             "XSAVE: Invalid argument\")",
    .actions = TR_MAY_EDIT,
    .needs = TR_NEEDS("drop-section", "R9"),
    .detect = r23_detect,
    .plan = r23_plan,
};
