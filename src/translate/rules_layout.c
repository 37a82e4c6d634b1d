/*
 * Sections the parser could not explain.
 *
 * A payload carries no length: when no layout table fits a section, the
 * parser finds its end by resynchronisation and marks it opaque. Rules
 * never edit inside such a section, and qsnapfix cannot tell whether the
 * target will read it the same way, so:
 * - a device whose layouts qsnapfix knows, but none of which fits, is a
 *   layout the target's loader would most likely misparse (a writer variant
 *   like qemu-kvm's i8254, or damage): refuse, naming the section;
 * - a device qsnapfix has no table for is passed through unchanged, with a
 *   note saying that it was not verified.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>

#include "rules.h"
#include "stream/layout.h"

static bool layout_known(const VmsSection *sec)
{
    const VmsLayout *found[1];

    return vms_layouts_lookup(vms_layouts_builtin(), tr_vmsd(sec),
                              sec->version_id, found, 1) > 0;
}

static void opaque_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;

    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);

        if (!tr_section_live(ctx, i) || !sec->located_by_resync) {
            continue;
        }
        bool known = layout_known(sec);
        tr_hit_add(
            ctx, hits, i, G_MAXUINT, known, sec->idstr,
            g_strdup_printf(known ? "section '%s' version %u: its %" PRIu64
                                    "-byte payload fits no known layout of '%s'"
                                  : "section '%s' version %u (%" PRIu64
                                    " bytes): qsnapfix has no layout for '%s'",
                            sec->idstr, sec->version_id, sec->payload_len,
                            tr_vmsd(sec)));
    }
}

static bool opaque_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsSection *sec = vms_stream_section(ctx->stream, hit->section);

    if (hit->value) {
        g_autofree char *drop = tr_drop_section_option(sec);
        tr_refuse(hit->finding,
                  g_strdup("the target would misread this payload"), drop,
                  tr_section_loss(sec));
    } else {
        tr_finding_set(hit->finding, TR_ACTION_NOTE,
                       g_strdup("passed through unchanged, not verified: "
                                "the target's own loader decides"));
    }
    return true;
}

const TrRule tr_rule_opaque_section = {
    .id = "layout",
    .title = "section no layout table explains",
    .fixes = "a section the parser could only delimit by resynchronisation: "
             "no layout of its device fits the payload, so the target's "
             "loader would most likely misread it",
    .actions = TR_MAY_REFUSE | TR_MAY_NOTE,
    .needs = TR_NEEDS("drop-section", "R9"),
    .detect = opaque_detect,
    .plan = opaque_plan,
};
