/*
 * The qxl display device of the source against the target's:
 *
 *   R10  its ROM BAR ("qxl.vrom") is 16 KiB in qemu-kvm 1.2 (spice headers
 *        with qxl-4) where the target computes 8 KiB and has no property
 *        to change it: the block is cut when the ROM's own header shows
 *        its content ends below the cut and only zero pages lie above it;
 *   R24  its PCI revision (config byte 8), config-checked on load, differs
 *        from the target's default (qemu-kvm's -M pc-0.14 gives 2 or 3, a
 *        7.2 pc-i440fx-1.4 gives 4): -global qxl-vga.revision=N.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "rules.h"
#include "stream/bytes.h"

/* ---- R10: the qxl ROM ---------------------------------------------------- */

/* The qxl ROM (spice QXLRom, little-endian): magic, then modes_offset at 24;
 * the mode list is u32 n_modes + n_modes * 32 bytes. */
#define QXL_ROM_MAGIC        0x4f525851u
#define QXL_ROM_MODES_OFFSET 24
#define QXL_MODE_SIZE        32

/* A qxl ROM at least the target's size is cut, its header permitting. */
static bool qxl_rom_cut(const TrRamSpec *spec, const VmsRamBlock *b)
{
    return b->length >= spec->length;
}

static bool r10_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsStream *s = ctx->stream;
    const VmsRamBlock *b = vms_stream_block(s, hit->block);
    const TrRamSpec *spec = tr_ram_spec(ctx, hit);

    if (spec->kind != TR_RAM_QXL_ROM) {
        tr_finding_set(hit->finding, TR_ACTION_REFUSE,
                       g_strdup("no setting changes its size on the target"));
        return true;
    }
    if (tr_ram_refuse_too_large(ctx, hit)) {
        return true;
    }
    g_autofree char *cut = tr_size_str(spec->length);
    if (!qxl_rom_cut(spec, b)) {
        tr_finding_set(hit->finding, TR_ACTION_REFUSE,
                       g_strdup_printf("a qxl ROM smaller than the target's "
                                       "%s cannot be grown without mixing "
                                       "two ROMs",
                                       cut));
        return true;
    }
    g_autoptr(GBytes) rom = tr_extract_block(s, ctx->source, hit->block, errp);
    if (!rom) {
        return false;
    }
    gsize len;
    const uint8_t *p = g_bytes_get_data(rom, &len);
    uint32_t magic = vms_le32(p);
    uint32_t modes_offset = vms_le32(p + QXL_ROM_MODES_OFFSET);

    if (magic != QXL_ROM_MAGIC || (uint64_t)modes_offset + 4 > len) {
        tr_finding_set(hit->finding, TR_ACTION_REFUSE,
                       g_strdup_printf("no qxl ROM header in the block (magic "
                                       "0x%08x, modes at 0x%x): cannot tell "
                                       "where its content ends",
                                       magic, modes_offset));
        return true;
    }
    uint32_t n_modes = vms_le32(p + modes_offset);
    uint64_t end =
        (uint64_t)modes_offset + 4 + (uint64_t)n_modes * QXL_MODE_SIZE;
    g_autofree char *where = g_strdup_printf(
        "the ROM header puts its mode list at 0x%x with %u modes: content "
        "ends at %" PRIu64,
        modes_offset, n_modes, end);

    if (end > spec->length) {
        tr_finding_set(hit->finding, TR_ACTION_REFUSE,
                       g_strdup_printf("%s, past the %s the target has; "
                                       "cutting would lose modes",
                                       where, cut));
        return true;
    }
    TrPageCensus c;
    tr_page_census(s, hit->block, spec->length, &c);
    if (c.full || c.fill != c.fill_by_byte[0]) {
        g_autofree char *pages = tr_page_census_str(&c);
        tr_finding_set(hit->finding, TR_ACTION_REFUSE,
                       g_strdup_printf("%s, but at or above %s the block "
                                       "holds %s",
                                       where, cut, pages));
        return true;
    }
    tr_plan_ram_resize(ctx->plan, hit->finding, hit->block, spec->length);
    tr_finding_set(hit->finding, TR_ACTION_EDIT,
                   g_strdup_printf("%s; block cut to %s (%" PRIu64
                                   " zero page record(s) dropped)",
                                   where, cut, c.fill));
    return true;
}

/* R10 reads the ROM's header and the pages past the cut. */
static bool r10_reads_pages(const TrContext *ctx, const TrHit *hit)
{
    const VmsRamBlock *b = vms_stream_block(ctx->stream, hit->block);
    const TrRamSpec *spec = tr_ram_spec(ctx, hit);

    return spec->kind == TR_RAM_QXL_ROM && b->length <= TR_EXTRACT_MAX &&
           qxl_rom_cut(spec, b);
}

/* R10 — qemu-kvm 1.2's 16 KiB qxl ROM.
 * Evidence: RAM block "…/qxl.vrom" of 16 KiB; the target creates 8 KiB.
 * Edit: the block cut to 8 KiB when the ROM header (modes_offset + 4 +
 * 32 * n_modes) ends below it and every dropped page is a zero fill page;
 * refused otherwise. */
const TrRule tr_rule_r10_qxl_rom = {
    .id = "R10",
    .title = "qxl ROM larger than the target's",
    .fixes = "a qxl ROM block ('…/qxl.vrom') of another length than the "
             "target computes (qemu-kvm 1.2: 16 KiB; 7.2: 8 KiB, with no "
             "property to change it): \"Size mismatch\"",
    .actions = TR_MAY_EDIT | TR_MAY_REFUSE | TR_MAY_NOTE,
    .detect_block = tr_ram_detect_block,
    .ram_kinds = 1u << TR_RAM_QXL_ROM,
    .plan = r10_plan,
    .reads_pages = r10_reads_pages,
};

/* ---- R24: the qxl PCI revision ------------------------------------------- */

/* PCIDevice: LE32 version, then config: revision at 0x08, class at 0x0a */
#define CONFIG_AT 4

static void r24_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;

    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        size_t len;
        const uint8_t *p = tr_payload(sec, &len);
        if (!tr_section_live(ctx, i) || strcmp(tr_vmsd(sec), "qxl") || !p ||
            len < CONFIG_AT + 0x0c) {
            continue;
        }
        uint8_t rev = p[CONFIG_AT + 0x08];
        if (rev == ctx->target->qxl_default_revision) {
            continue;
        }
        tr_hit_add(ctx, hits, i, G_MAXUINT, rev, sec->idstr,
                   g_strdup_printf("'%s' PCI config revision is %u; %s gives "
                                   "qxl revision %u (the revision is "
                                   "config-checked)",
                                   sec->idstr, rev, ctx->target->name,
                                   ctx->target->qxl_default_revision));
    }
}

static bool r24_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsSection *sec = vms_stream_section(ctx->stream, hit->section);
    size_t len;
    const uint8_t *p = tr_payload(sec, &len);
    /* class 0x0300 (VGA) is the primary qxl-vga; 0x0380 a secondary */
    const char *driver =
        p[CONFIG_AT + 0x0b] == 0x03 && p[CONFIG_AT + 0x0a] == 0x00 ? "qxl-vga"
                                                                   : "qxl";
    g_autofree char *rev = g_strdup_printf("%u", (unsigned)hit->value);

    tr_recipe_add_global(ctx->recipe, driver, "revision", rev);
    tr_finding_set(hit->finding, TR_ACTION_SETTING,
                   g_strdup_printf("-global %s.revision=%s", driver, rev));
    return true;
}

/* R24 — a qxl PCI revision the target does not give by default.
 * Evidence: FULL "…/qxl", config byte 8 (e.g. 3 from qemu-kvm 1.2; 7.2
 * gives 4). Setting: -global qxl-vga.revision=N (qxl for a secondary). */
const TrRule tr_rule_r24_qxl_revision = {
    .id = "R24",
    .title = "qxl PCI revision",
    .fixes = "a 'qxl' section whose PCI revision (config byte 8) is not the "
             "target's default: the revision is config-checked on load",
    .actions = TR_MAY_SET,
    .needs = TR_NEEDS("drop-section"),
    .detect = r24_detect,
    .plan = r24_plan,
};
