/*
 * RAM block rules: every block of the stream's MEM_SIZE list must exist on
 * the target with exactly its length, or the load fails ("Size mismatch",
 * "Unknown ramblock"). Per block, the target profile says how the target
 * sizes it and which setting changes that; the rule of that spec acts:
 *
 *   R4/R5  vga.vram: -global <vga>.vgamem_mb=N, or (--shrink-vram, cirrus)
 *          cut the block when every page beyond the cut is a fill page
 *   R6     option ROMs: the stream's own ROM bytes in a file + romfile=,
 *          or (--drop-roms) the block removed
 *   R7     pc.bios: the stream's BIOS in a file + -bios
 *   R10    qxl.vrom larger than the target's 8 KiB: cut it when the ROM's
 *          own header shows its content ends below the cut
 *   R17    system.flash -> system.flash0 + a pflash drive with its bytes
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "rules.h"
#include "stream/bytes.h"

typedef struct PageCensus {
    uint64_t full, fill;
    uint64_t fill_by_byte[256];
} PageCensus;

/* Page records of a block at or beyond offset. */
static void census(const VmsStream *s, guint block, uint64_t from,
                   PageCensus *c)
{
    memset(c, 0, sizeof(*c));
    for (guint i = 0; i < s->pages->len; i++) {
        const VmsPage *pg = &g_array_index(s->pages, VmsPage, i);
        if (pg->block != block || pg->addr < from) {
            continue;
        }
        if (pg->flags & VMS_RAM_FILL) {
            c->fill++;
            c->fill_by_byte[pg->fill]++;
        } else {
            c->full++;
        }
    }
}

static char *census_str(const PageCensus *c)
{
    GString *g = g_string_new(NULL);
    bool first = true;

    g_string_append_printf(g,
                           "%" PRIu64 " data page(s), %" PRIu64 " fill page(s)",
                           c->full, c->fill);
    for (guint b = 0; b < 256; b++) {
        if (c->fill_by_byte[b]) {
            g_string_append_printf(g, "%s0x%02x: %" PRIu64, first ? " (" : ", ",
                                   b, c->fill_by_byte[b]);
            first = false;
        }
    }
    if (!first) {
        g_string_append_c(g, ')');
    }
    return g_string_free(g, FALSE);
}

static bool judged_by_profile(const TrContext *ctx)
{
    g_autofree char *machine = vms_stream_machine(ctx->stream);

    /* A stream that names its machine type (QEMU >= 2.4) was sized for that
     * machine; the profile describes the target's default machine. */
    return !machine || !ctx->target->machine ||
           !strcmp(machine, ctx->target->machine) ||
           !tr_machine_kept(ctx->target, machine);
}

static bool allowed_mb(const TrRamSpec *spec, uint64_t length)
{
    if (length % (1024 * 1024)) {
        return false;
    }
    for (guint i = 0; i < G_N_ELEMENTS(spec->vgamem_mb) && spec->vgamem_mb[i];
         i++) {
        if (spec->vgamem_mb[i] == length / (1024 * 1024)) {
            return true;
        }
    }
    return false;
}

static bool flash_in_stream(const VmsStream *s, uint64_t *length)
{
    for (guint i = 0; i < s->ram_blocks->len; i++) {
        const VmsRamBlock *b = vms_stream_block(s, i);
        if (!strcmp(b->id, "system.flash") || !strcmp(b->id, "system.flash0")) {
            *length = b->length;
            return true;
        }
    }
    return false;
}

/* ---- detect: one hit per block whose size or name needs something ------- */

static void ram_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;

    if (!judged_by_profile(ctx)) {
        return;
    }
    for (guint i = 0; i < s->ram_blocks->len; i++) {
        const VmsRamBlock *b = vms_stream_block(s, i);
        const TrRamSpec *spec = tr_target_ram(ctx->target, b->id, s);
        g_autofree char *have = tr_size_str(b->length);
        g_autofree char *want = spec ? tr_size_str(spec->length) : NULL;
        char *evidence = NULL;
        uint64_t flash_len;

        if (!spec) {
            TrFinding *f = tr_hit_add(
                ctx, hits, &tr_rule_ram_blocks, i, i, 0, b->id,
                g_strdup_printf("RAM block '%s' (%s) is not in the %s "
                                "profile",
                                b->id, have, ctx->target->name));
            tr_finding_rule(f, "ram");
            continue;
        }
        switch (spec->kind) {
        case TR_RAM_ANY:
            continue;
        case TR_RAM_FIXED:
        case TR_RAM_BIOS:
        case TR_RAM_QXL_ROM:
            if (b->length == spec->length) {
                continue;
            }
            evidence = g_strdup_printf("RAM block '%s' is %s; %s creates %s",
                                       b->id, have, ctx->target->name, want);
            break;
        case TR_RAM_VGAMEM:
        case TR_RAM_ROMFILE:
            if (spec->length && b->length == spec->length) {
                continue;
            }
            evidence =
                spec->length
                    ? g_strdup_printf("RAM block '%s' is %s; %s creates %s",
                                      b->id, have, ctx->target->name, want)
                    : g_strdup_printf("RAM block '%s' is %s; its size on %s "
                                      "depends on the build or machine type",
                                      b->id, have, ctx->target->name);
            break;
        case TR_RAM_RENAMED:
            evidence = g_strdup_printf("RAM block '%s' (%s): %s names it "
                                       "'%s'",
                                       b->id, have, ctx->target->name,
                                       spec->rename_to);
            break;
        case TR_RAM_PFLASH:
            evidence = g_strdup_printf("RAM block '%s' (%s): %s creates it "
                                       "only for a pflash drive",
                                       b->id, have, ctx->target->name);
            break;
        case TR_RAM_PFLASH_SHADOW:
            if (flash_in_stream(s, &flash_len) &&
                b->length == MIN(flash_len, 128 * 1024)) {
                continue; /* comes with the flash drive of R17 */
            }
            evidence = g_strdup_printf("RAM block '%s' (%s) without a flash "
                                       "block of matching size",
                                       b->id, have);
            break;
        }
        TrFinding *f = tr_hit_add(ctx, hits, &tr_rule_ram_blocks, i, i, 0,
                                  b->id, evidence);
        tr_finding_rule(f, spec->rule ? spec->rule : "ram");
    }
}

/* ---- plan, per kind --------------------------------------------------------
 */

/* --shrink-vram cuts this block (if the pages above the cut allow it). */
static bool cuts_vram(const TrContext *ctx, const TrRamSpec *spec,
                      const VmsRamBlock *b)
{
    return ctx->opts->shrink_vram && !strcmp(spec->driver, "cirrus-vga") &&
           spec->length && b->length > spec->length;
}

static bool plan_vgamem(TrContext *ctx, const TrHit *hit, const TrRamSpec *spec)
{
    const VmsStream *s = ctx->stream;
    const VmsRamBlock *b = vms_stream_block(s, hit->block);
    const char *prop = spec->property ? spec->property : "vgamem_mb";

    if (cuts_vram(ctx, spec, b)) {
        PageCensus c;
        census(s, hit->block, spec->length, &c);
        g_autofree char *pages = census_str(&c);
        g_autofree char *cut = tr_size_str(spec->length);
        if (c.full) {
            tr_finding_set(hit->finding, TR_ACTION_REFUSE,
                           g_strdup_printf("--shrink-vram: at or above %s "
                                           "the block holds %s; shrinking "
                                           "would lose them (run without "
                                           "--shrink-vram: the recipe sets "
                                           "%s.%s instead)",
                                           cut, pages, spec->driver, prop));
            return true;
        }
        tr_plan_ram_resize(ctx->plan, hit->finding, hit->block, spec->length);
        tr_finding_set(hit->finding, TR_ACTION_EDIT,
                       g_strdup_printf("--shrink-vram: block cut to %s; "
                                       "dropped at or above it: %s (cirrus "
                                       "addresses only its first 4 MiB)",
                                       cut, pages));
        return true;
    }
    if (!allowed_mb(spec, b->length)) {
        g_autofree char *have = tr_size_str(b->length);
        tr_finding_set(hit->finding, TR_ACTION_REFUSE,
                       g_strdup_printf("%s.%s cannot be set to %s on %s",
                                       spec->driver, prop, have,
                                       ctx->target->name));
        return true;
    }
    g_autofree char *mb =
        g_strdup_printf("%" PRIu64, b->length / (1024 * 1024));
    tr_recipe_add_global(ctx->recipe, spec->driver, prop, mb);
    tr_finding_set(hit->finding, TR_ACTION_SETTING,
                   g_strdup_printf("-global %s.%s=%s makes the target's "
                                   "block the same size",
                                   spec->driver, prop, mb));
    return true;
}

static bool plan_romfile(TrContext *ctx, const TrHit *hit,
                         const TrRamSpec *spec)
{
    const VmsRamBlock *b = vms_stream_block(ctx->stream, hit->block);

    if (ctx->opts->drop_roms) {
        tr_plan_ram_drop(ctx->plan, hit->finding, hit->block);
        tr_finding_set(hit->finding, TR_ACTION_LOSS,
                       g_strdup_printf("--drop-roms: block and its pages "
                                       "removed; the guest finds the "
                                       "target's own %s ROM in its place",
                                       spec->driver));
        return true;
    }
    if (b->length & (b->length - 1)) {
        tr_finding_set(hit->finding, TR_ACTION_REFUSE,
                       g_strdup_printf("the block is not a power of two long: "
                                       "no ROM file makes %s create it",
                                       ctx->target->name));
        return true;
    }
    const char *path =
        tr_recipe_add_file(ctx, TR_FILE_ROM, hit->block, b->id, b->length);
    tr_recipe_add_global(ctx->recipe, spec->driver, "romfile", path);
    tr_finding_set(hit->finding, TR_ACTION_SETTING,
                   g_strdup_printf("the stream's own ROM extracted to %s; "
                                   "-global %s.romfile= gives a block of "
                                   "the same size and content",
                                   path, spec->driver));
    return true;
}

static bool plan_bios(TrContext *ctx, const TrHit *hit)
{
    const VmsRamBlock *b = vms_stream_block(ctx->stream, hit->block);
    const char *path =
        tr_recipe_add_file(ctx, TR_FILE_BIOS, hit->block, b->id, b->length);

    tr_recipe_add_bios(ctx->recipe, path);
    tr_finding_set(hit->finding, TR_ACTION_SETTING,
                   g_strdup_printf("the stream's BIOS extracted to %s; -bios "
                                   "gives a block of the same size",
                                   path));
    return true;
}

static void add_pflash(TrContext *ctx, guint block, const char *id,
                       uint64_t length, const char **path_out)
{
    const char *path =
        tr_recipe_add_file(ctx, TR_FILE_PFLASH, block, id, length);

    tr_recipe_add_pflash(ctx->recipe, path);
    *path_out = path;
}

static bool plan_flash(TrContext *ctx, const TrHit *hit, const TrRamSpec *spec)
{
    const VmsRamBlock *b = vms_stream_block(ctx->stream, hit->block);
    const char *id = b->id;
    const char *path;

    if (spec->kind == TR_RAM_RENAMED) {
        tr_plan_ram_rename(ctx->plan, hit->finding, hit->block,
                           spec->rename_to);
        id = spec->rename_to;
    }
    if (b->length % 4096) {
        tr_finding_set(hit->finding, TR_ACTION_REFUSE,
                       g_strdup("a pflash drive must be a multiple of 4 KiB "
                                "long"));
        return true;
    }
    add_pflash(ctx, hit->block, id, b->length, &path);
    tr_finding_set(
        hit->finding,
        spec->kind == TR_RAM_RENAMED ? TR_ACTION_EDIT : TR_ACTION_SETTING,
        spec->kind == TR_RAM_RENAMED
            ? g_strdup_printf("block renamed '%s' -> '%s' (list and page "
                              "records); its bytes extracted to %s for a "
                              "pflash drive",
                              b->id, id, path)
            : g_strdup_printf("its bytes extracted to %s for a pflash drive",
                              path));
    return true;
}

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

static bool plan_qxl_rom(TrContext *ctx, const TrHit *hit,
                         const TrRamSpec *spec, GError **errp)
{
    const VmsStream *s = ctx->stream;
    const VmsRamBlock *b = vms_stream_block(s, hit->block);
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
    PageCensus c;
    census(s, hit->block, spec->length, &c);
    if (c.full || c.fill != c.fill_by_byte[0]) {
        g_autofree char *pages = census_str(&c);
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

static bool needs_file(TrRamKind k)
{
    return k == TR_RAM_ROMFILE || k == TR_RAM_BIOS || k == TR_RAM_RENAMED ||
           k == TR_RAM_PFLASH || k == TR_RAM_QXL_ROM;
}

/* Refused before anything else: not a ROM, BIOS or flash image. */
static bool too_large_to_hand_over(const TrContext *ctx, const TrRamSpec *spec,
                                   const VmsRamBlock *b)
{
    return spec && needs_file(spec->kind) && b->length > TR_EXTRACT_MAX &&
           !(spec->kind == TR_RAM_ROMFILE && ctx->opts->drop_roms);
}

static bool ram_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsStream *s = ctx->stream;
    const VmsRamBlock *b = vms_stream_block(s, hit->block);
    const TrRamSpec *spec = tr_target_ram(ctx->target, b->id, s);

    if (too_large_to_hand_over(ctx, spec, b)) {
        g_autofree char *size = tr_size_str(b->length);
        tr_finding_set(hit->finding, TR_ACTION_REFUSE,
                       g_strdup_printf("a %s block is not a ROM, BIOS or "
                                       "flash image qsnapfix can hand over",
                                       size));
        return true;
    }

    if (!spec) {
        tr_finding_set(hit->finding, TR_ACTION_NOTE,
                       g_strdup("left as it is: the load fails with "
                                "\"Unknown ramblock\" unless the target's "
                                "devices create it with this size"));
        return true;
    }
    switch (spec->kind) {
    case TR_RAM_VGAMEM:
        return plan_vgamem(ctx, hit, spec);
    case TR_RAM_ROMFILE:
        return plan_romfile(ctx, hit, spec);
    case TR_RAM_BIOS:
        return plan_bios(ctx, hit);
    case TR_RAM_RENAMED:
    case TR_RAM_PFLASH:
        return plan_flash(ctx, hit, spec);
    case TR_RAM_QXL_ROM:
        return plan_qxl_rom(ctx, hit, spec, errp);
    case TR_RAM_FIXED:
        tr_finding_set(hit->finding, TR_ACTION_REFUSE,
                       g_strdup("no setting changes its size on the target"));
        return true;
    case TR_RAM_PFLASH_SHADOW:
        tr_finding_set(hit->finding, TR_ACTION_REFUSE,
                       g_strdup("the target creates it only as the copy of "
                                "a pflash drive's last 128 KiB"));
        return true;
    case TR_RAM_ANY:
        break;
    }
    return true;
}

/* R10 reads the qxl ROM's header and the pages past the cut; R4 with
 * --shrink-vram the pages past the cut. */
static bool ram_reads_pages(const TrContext *ctx, const TrHit *hit)
{
    const VmsRamBlock *b = vms_stream_block(ctx->stream, hit->block);
    const TrRamSpec *spec = tr_target_ram(ctx->target, b->id, ctx->stream);

    if (!spec || too_large_to_hand_over(ctx, spec, b)) {
        return false;
    }
    return (spec->kind == TR_RAM_VGAMEM && cuts_vram(ctx, spec, b)) ||
           (spec->kind == TR_RAM_QXL_ROM && qxl_rom_cut(spec, b));
}

const TrRule tr_rule_ram_blocks = {
    .id = "ram",
    .title = "RAM block the target sizes or names differently",
    .detect = ram_detect,
    .plan = ram_plan,
    .reads_pages = ram_reads_pages,
};
