/*
 * R20: RAM pages sent as one fill byte that is not 0.
 *
 * qemu-kvm 0.15-1.2 (and QEMU up to 2.x) sent any page whose words were
 * all equal as a "compress" record: flag 0x02 and the one byte. QEMU 8.2
 * renamed the flag ZERO and rejects any other byte ("Found a zero page
 * with value 204"). The page is exact as a full PAGE record of that byte;
 * the block name and the CONTINUE chain stay as they were. It costs 4095
 * bytes per page, so the finding says how many pages and bytes.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "rules.h"

static char *byte_census(const VmsRamBlock *b)
{
    GString *g = g_string_new(NULL);
    guint shown = 0;

    for (guint v = 1; v < 256; v++) {
        if (!b->fill_by_byte[v]) {
            continue;
        }
        if (shown++ == 4) {
            g_string_append(g, ", ...");
            break;
        }
        g_string_append_printf(g, "%s0x%02x: %" PRIu64, shown > 1 ? ", " : "",
                               v, b->fill_by_byte[v]);
    }
    return g_string_free(g, FALSE);
}

static void r20_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;

    if (!ctx->target->zero_pages_only) {
        return;
    }
    for (guint i = 0; i < s->ram_blocks->len; i++) {
        const VmsRamBlock *b = vms_stream_block(s, i);
        if (ctx->opts->no_page_data) {
            /* Its fill pages were not counted: any block may have some. */
            tr_hit_add(ctx, hits, G_MAXUINT, i, 0, b->id,
                       g_strdup_printf("RAM block '%s': its page records "
                                       "were not read (fill pages with a byte "
                                       "other than 0 not counted)",
                                       b->id));
            continue;
        }
        uint64_t nonzero = b->fill_pages - b->fill_by_byte[0];
        if (!nonzero) {
            continue;
        }
        g_autofree char *bytes = byte_census(b);
        tr_hit_add(ctx, hits, G_MAXUINT, i, nonzero, b->id,
                   g_strdup_printf("RAM block '%s' has %" PRIu64 " fill page "
                                   "record(s) with a byte other than 0 (%s); "
                                   "%s loads only fill byte 0",
                                   b->id, nonzero, bytes, ctx->target->name));
    }
}

static bool r20_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    if (tr_block_dropped(ctx, hit->block)) {
        tr_finding_set(hit->finding, TR_ACTION_NOTE,
                       g_strdup("the block is dropped: nothing to expand"));
        return true;
    }
    uint64_t n = tr_plan_ram_expand_fills(ctx->plan, hit->finding, hit->block);
    uint64_t grown = n * (VMS_PAGE_SIZE - 1);
    tr_finding_set(hit->finding, TR_ACTION_EDIT,
                   g_strdup_printf("%" PRIu64 " record(s) rewritten as full "
                                   "pages of their byte: the stream grows by "
                                   "%" PRIu64 " bytes (%.1f MiB)",
                                   n, grown, grown / 1048576.0));
    return true;
}

/* Counting and expanding fill pages reads every page record. */
static bool r20_reads_pages(const TrContext *ctx, const TrHit *hit)
{
    (void)ctx;
    (void)hit;
    return true;
}

const TrRule tr_rule_r20_fill_pages = {
    .id = "R20",
    .title = "RAM fill pages with a non-zero byte",
    .fixes = "fill ('zero') page records with a byte other than 0, as "
             "qemu-kvm wrote any uniform page: QEMU >= 8.2 refuses them "
             "(\"Found a zero page with value N\")",
    .actions = TR_MAY_EDIT | TR_MAY_NOTE,
    .needs = TR_NEEDS("R6", "ram"),
    .detect = r20_detect,
    .plan = r20_plan,
    .reads_pages = r20_reads_pages,
};
