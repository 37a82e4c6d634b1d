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

#include "layout.h"
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

/* qxl's run mode (QEMU's enum qxl_mode): in COMPAT the ROM's mode
 * shadow_rom.mode is set again on load. */
#define QXL_MODE_COMPAT 2

/* The qxl device section that owns a ROM block ("<path>/qxl.vrom"). */
static const VmsSection *qxl_section_of(const TrContext *ctx,
                                        const VmsRamBlock *b)
{
    const VmsStream *s = ctx->stream;
    const char *slash = strrchr(b->id, '/');
    size_t path_len = slash ? (size_t)(slash - b->id) : 0;

    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        if (tr_section_live(ctx, i) && !strcmp(tr_vmsd(sec), "qxl") &&
            !strncmp(sec->idstr, b->id, path_len) &&
            sec->idstr[path_len] == '/') {
            return sec;
        }
    }
    return NULL;
}

/* "the last 5 (1920x1200, 2560x1600, ...)": the modes [from, n) of a ROM,
 * by their resolutions. */
static char *lost_modes(const uint8_t *p, size_t len, uint32_t modes_offset,
                        uint32_t from, uint32_t n)
{
    g_autoptr(GString) g = g_string_new(NULL);
    guint shown = 0;

    for (uint32_t m = from; m < n; m++) {
        uint64_t at = (uint64_t)modes_offset + 4 + (uint64_t)m * QXL_MODE_SIZE;
        if (at + 12 > len) {
            break;
        }
        g_autofree char *res = g_strdup_printf("%ux%u", vms_le32(p + at + 4),
                                               vms_le32(p + at + 8));
        if (strstr(g->str, res)) {
            continue;
        }
        if (shown++ == 4) {
            g_string_append(g, ", ...");
            break;
        }
        g_string_append_printf(g, "%s%s", shown > 1 ? ", " : "", res);
    }
    return g_strdup_printf("the last %u (%s)", n - from, g->str);
}

/*
 * Cut past the mode list: the ROM keeps the modes that fit, and its mode
 * count is lowered to them, so that neither the guest nor QEMU looks for
 * a mode past the end of the target's ROM. Refused (no way out) when the
 * guest runs one of the modes cut off, or the count cannot be patched.
 */
static bool r10_cut_modes(TrContext *ctx, const TrHit *hit,
                          uint32_t modes_offset, uint32_t kept,
                          const char *where)
{
    const VmsStream *s = ctx->stream;
    const VmsRamBlock *b = vms_stream_block(s, hit->block);
    const VmsSection *qxl = qxl_section_of(ctx, b);
    const VmsPage *pg =
        vms_stream_find_page(s, hit->block, modes_offset & ~(uint64_t)4095);
    VmsFieldLoc mode, shadow;
    uint8_t count[4];

    if (qxl && vms_section_find_field(qxl, "mode", &mode, NULL) &&
        vms_section_find_field(qxl, "shadow_rom.mode", &shadow, NULL) &&
        mode.value == QXL_MODE_COMPAT && shadow.value >= kept) {
        tr_refuse_no_way_out(
            hit->finding,
            g_strdup_printf("%s; the guest runs mode %" PRIu64
                            ", past the %u that fit",
                            where, shadow.value, kept),
            g_strdup("the mode the guest runs would be cut off; QEMU sets "
                     "it again on load"));
        return false;
    }
    if (!pg || (pg->flags & VMS_RAM_FILL) || (modes_offset % 4096) + 4 > 4096) {
        tr_refuse_no_way_out(
            hit->finding,
            g_strdup_printf("%s; the mode count at 0x%x is not in a data "
                            "page of the stream",
                            where, modes_offset),
            g_strdup("the ROM's mode count cannot be lowered to the modes "
                     "that fit, and QEMU would look for the others past the "
                     "ROM's end"));
        return false;
    }
    vms_put_le32(count, kept);
    tr_plan_patch(ctx->plan, hit->finding,
                  vms_page_data_offset(s, pg) + modes_offset % 4096, 4, count,
                  4);
    return true;
}

static bool r10_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsStream *s = ctx->stream;
    const VmsRamBlock *b = vms_stream_block(s, hit->block);
    const TrRamSpec *spec = tr_ram_spec(ctx, hit);
    bool accepted = tr_loss_accepted(ctx, "R10");

    if (spec->kind != TR_RAM_QXL_ROM) {
        return tr_ram_refuse_fixed(ctx, hit);
    }
    if (tr_ram_refuse_too_large(ctx, hit, NULL, NULL)) {
        return true;
    }
    g_autofree char *cut = tr_size_str(spec->length);
    if (!qxl_rom_cut(spec, b)) {
        tr_refuse_no_way_out(
            hit->finding,
            g_strdup_printf("a qxl ROM smaller than the target's %s", cut),
            g_strdup("growing it would put the target's ROM bytes after "
                     "the guest's: a ROM of two builds"));
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
        tr_refuse_no_way_out(
            hit->finding,
            g_strdup_printf("no qxl ROM header in the block (magic 0x%08x, "
                            "modes at 0x%x)",
                            magic, modes_offset),
            g_strdup("without the ROM's header, what a cut would lose "
                     "cannot be known"));
        return true;
    }
    uint32_t n_modes = vms_le32(p + modes_offset);
    uint64_t end =
        (uint64_t)modes_offset + 4 + (uint64_t)n_modes * QXL_MODE_SIZE;
    uint32_t kept =
        spec->length > (uint64_t)modes_offset + 4
            ? (uint32_t)MIN(n_modes,
                            (spec->length - modes_offset - 4) / QXL_MODE_SIZE)
            : 0;
    g_autofree char *where = g_strdup_printf(
        "the ROM header puts its mode list at 0x%x with %u modes: content "
        "ends at %" PRIu64,
        modes_offset, n_modes, end);
    TrPageCensus c;
    tr_page_census(s, hit->block, spec->length, &c);
    bool data_above = c.full || c.fill != c.fill_by_byte[0];
    g_autofree char *pages = tr_page_census_str(&c);

    if (end > spec->length && !accepted) {
        g_autofree char *lost = lost_modes(p, len, modes_offset, kept, n_modes);
        tr_refuse(hit->finding,
                  g_strdup_printf("%s, past the %s the target has; cutting "
                                  "would lose modes",
                                  where, cut),
                  "--accept-loss=R10",
                  g_strdup_printf("the ROM is cut to %s and keeps %u of its "
                                  "%u modes: %s are lost to the guest's "
                                  "driver (the mode it runs is kept)",
                                  cut, kept, n_modes, lost));
        return true;
    }
    if (data_above && !accepted) {
        tr_refuse(hit->finding,
                  g_strdup_printf("%s, but at or above %s the block holds %s",
                                  where, cut, pages),
                  "--accept-loss=R10",
                  g_strdup_printf("the ROM is cut to %s: the %s past its "
                                  "mode list are lost (no ROM field refers "
                                  "to them)",
                                  cut, pages));
        return true;
    }
    if (end > spec->length &&
        !r10_cut_modes(ctx, hit, modes_offset, kept, where)) {
        return true;
    }
    tr_plan_ram_resize(ctx->plan, hit->finding, hit->block, spec->length);
    if (end > spec->length || data_above) {
        g_autofree char *lost =
            end > spec->length
                ? g_strdup_printf("; modes %u..%u lost, mode count %u -> %u",
                                  kept, n_modes - 1, n_modes, kept)
                : g_strdup("");
        tr_finding_set(hit->finding, TR_ACTION_LOSS,
                       g_strdup_printf("--accept-loss=R10: %s; block cut to "
                                       "%s (dropped at or above it: %s)%s",
                                       where, cut, pages, lost));
        return true;
    }
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
 * refused otherwise, with --accept-loss=R10 as the way out: the cut
 * anyway, the ROM's mode count lowered to the modes that fit (a loss). */
const TrRule tr_rule_r10_qxl_rom = {
    .id = "R10",
    .title = "qxl ROM larger than the target's",
    .fixes = "a qxl ROM block ('…/qxl.vrom') of another length than the "
             "target computes (qemu-kvm 1.2: 16 KiB; 7.2: 8 KiB, with no "
             "property to change it): \"Size mismatch\"",
    .actions = TR_MAY_EDIT | TR_MAY_LOSE | TR_MAY_REFUSE | TR_MAY_NOTE,
    .loss = "cut a qxl ROM past its end: the modes past the cut are lost",
    .needs = TR_NEEDS("drop-section"),
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
        const VmsSection *sec;
        const uint8_t *p =
            tr_live_device_payload(ctx, i, "qxl", CONFIG_AT + 0x0c, &sec);
        if (!p) {
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
