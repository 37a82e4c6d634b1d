/*
 * RAM block rules: every block of the stream's MEM_SIZE list must exist on
 * the target with exactly its length, or the load fails ("Size mismatch",
 * "Unknown ramblock"). Per block, the target profile says how the target
 * sizes it and which rule explains a difference (TrRamSpec.rule); these
 * rules form one walk over the block list (tr_ram_detect_block):
 *
 *   R4/R5  vga.vram: -global <vga>.vgamem_mb=N, or (--shrink-vram, cirrus)
 *          cut the block when every page beyond the cut is a fill page
 *   R6     option ROMs: the stream's own ROM bytes in a file + romfile=,
 *          or (--drop-roms) the block removed
 *   R7     pc.bios: the stream's BIOS in a file + -bios
 *   R10    qxl.vrom (rules_qxl.c)
 *   R17    system.flash -> system.flash0 + a pflash drive with its bytes
 *   ram    a block the profile does not know (a note), or one it creates
 *          with a fixed other size (refused)
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "rules.h"

#define KIND(k) (1u << (k))

void tr_page_census(const VmsStream *s, guint block, uint64_t from,
                    TrPageCensus *c)
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

char *tr_page_census_str(const TrPageCensus *c)
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

/* ---- the walk: is this block one for the running rule? ------------------- */

/* Why the target will not load the block as the stream has it, or NULL. */
static char *mismatch(const TrContext *ctx, const VmsRamBlock *b,
                      const TrRamSpec *spec)
{
    const VmsStream *s = ctx->stream;
    const char *target = ctx->target->name;
    g_autofree char *have = tr_size_str(b->length);
    g_autofree char *want = spec ? tr_size_str(spec->length) : NULL;
    uint64_t flash_len;

    if (!spec) {
        return g_strdup_printf("RAM block '%s' (%s) is not in the %s profile",
                               b->id, have, target);
    }
    switch (spec->kind) {
    case TR_RAM_ANY:
        return NULL;
    case TR_RAM_FIXED:
    case TR_RAM_BIOS:
    case TR_RAM_QXL_ROM:
        if (b->length == spec->length) {
            return NULL;
        }
        return g_strdup_printf("RAM block '%s' is %s; %s creates %s", b->id,
                               have, target, want);
    case TR_RAM_VGAMEM:
    case TR_RAM_ROMFILE:
        if (spec->length && b->length == spec->length) {
            return NULL;
        }
        return spec->length
                   ? g_strdup_printf("RAM block '%s' is %s; %s creates %s",
                                     b->id, have, target, want)
                   : g_strdup_printf("RAM block '%s' is %s; its size on %s "
                                     "depends on the build or machine type",
                                     b->id, have, target);
    case TR_RAM_RENAMED:
        return g_strdup_printf("RAM block '%s' (%s): %s names it '%s'", b->id,
                               have, target, spec->rename_to);
    case TR_RAM_PFLASH:
        return g_strdup_printf("RAM block '%s' (%s): %s creates it only for "
                               "a pflash drive",
                               b->id, have, target);
    case TR_RAM_PFLASH_SHADOW:
        if (flash_in_stream(s, &flash_len) &&
            b->length == MIN(flash_len, 128 * 1024)) {
            return NULL; /* comes with the flash drive of R17 */
        }
        return g_strdup_printf("RAM block '%s' (%s) without a flash block of "
                               "matching size",
                               b->id, have);
    }
    return NULL;
}

void tr_ram_detect_block(TrContext *ctx, guint block, GArray *hits)
{
    const VmsRamBlock *b = vms_stream_block(ctx->stream, block);
    const TrRamSpec *spec = tr_target_ram(ctx->target, b->id, ctx->stream);
    const char *rule = spec && spec->rule ? spec->rule : "ram";
    char *evidence;

    if (strcmp(rule, ctx->rule->id) || !judged_by_profile(ctx)) {
        return;
    }
    evidence = mismatch(ctx, b, spec);
    if (evidence) {
        tr_hit_add(ctx, hits, block, block, 0, b->id, evidence);
    }
}

const TrRamSpec *tr_ram_spec(const TrContext *ctx, const TrHit *hit)
{
    const VmsRamBlock *b = vms_stream_block(ctx->stream, hit->block);

    return tr_target_ram(ctx->target, b->id, ctx->stream);
}

bool tr_ram_refuse_too_large(TrContext *ctx, const TrHit *hit)
{
    const VmsRamBlock *b = vms_stream_block(ctx->stream, hit->block);

    if (b->length <= TR_EXTRACT_MAX) {
        return false;
    }
    g_autofree char *size = tr_size_str(b->length);
    tr_finding_set(hit->finding, TR_ACTION_REFUSE,
                   g_strdup_printf("a %s block is not a ROM, BIOS or flash "
                                   "image qsnapfix can hand over",
                                   size));
    return true;
}

/* What no setting of the target changes (a spec of another kind). */
static bool refuse_fixed(const TrHit *hit)
{
    tr_finding_set(hit->finding, TR_ACTION_REFUSE,
                   g_strdup("no setting changes its size on the target"));
    return true;
}

/* ---- R4, R5: video memory ------------------------------------------------ */

/* --shrink-vram cuts this block (if the pages above the cut allow it). */
static bool cuts_vram(const TrContext *ctx, const TrRamSpec *spec,
                      const VmsRamBlock *b)
{
    return ctx->opts->shrink_vram && !strcmp(spec->driver, "cirrus-vga") &&
           spec->length && b->length > spec->length;
}

static bool vgamem_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsStream *s = ctx->stream;
    const VmsRamBlock *b = vms_stream_block(s, hit->block);
    const TrRamSpec *spec = tr_ram_spec(ctx, hit);

    if (spec->kind != TR_RAM_VGAMEM) {
        return refuse_fixed(hit);
    }
    const char *prop = spec->property ? spec->property : "vgamem_mb";
    if (cuts_vram(ctx, spec, b)) {
        TrPageCensus c;
        tr_page_census(s, hit->block, spec->length, &c);
        g_autofree char *pages = tr_page_census_str(&c);
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

/* R4 with --shrink-vram reads the pages past the cut. */
static bool vgamem_reads_pages(const TrContext *ctx, const TrHit *hit)
{
    const TrRamSpec *spec = tr_ram_spec(ctx, hit);

    return spec->kind == TR_RAM_VGAMEM &&
           cuts_vram(ctx, spec, vms_stream_block(ctx->stream, hit->block));
}

/* R4 — qemu-kvm's 16 MiB cirrus VRAM.
 * Evidence: RAM block "vga.vram" of 16 MiB with a "cirrus_vga" section;
 * 7.2 creates 8 MiB. Setting: -global cirrus-vga.vgamem_mb=16; or
 * (--shrink-vram) the block cut when only fill pages lie above the cut. */
const TrRule tr_rule_r4_cirrus_vram = {
    .id = "R4",
    .title = "cirrus vga.vram larger than the target's",
    .fixes = "a cirrus machine's 'vga.vram' longer than the target's "
             "default (qemu-kvm: 16 MiB; 7.2: 8 MiB): \"Size mismatch\"",
    .actions = TR_MAY_SET | TR_MAY_EDIT | TR_MAY_REFUSE | TR_MAY_NOTE,
    .detect_block = tr_ram_detect_block,
    .ram_kinds = KIND(TR_RAM_VGAMEM),
    .plan = vgamem_plan,
    .reads_pages = vgamem_reads_pages,
};

/* R5 — video memory of std VGA, vmware-svga or qxl of another size.
 * Evidence: "vga.vram" (or "…/qxl.vram") of another length than the
 * target's default for the display in the stream.
 * Setting: -global VGA.vgamem_mb=N (vmware-svga.vgamem_mb,
 * qxl-vga.ram_size_mb, qxl-vga.vram_size_mb). */
const TrRule tr_rule_r5_vga_memory = {
    .id = "R5",
    .title = "VGA memory of another size",
    .fixes = "a std VGA, vmware-svga or qxl video memory block of another "
             "length than the target creates: \"Size mismatch\"",
    .actions = TR_MAY_SET | TR_MAY_REFUSE,
    .detect_block = tr_ram_detect_block,
    .ram_kinds = KIND(TR_RAM_VGAMEM),
    .plan = vgamem_plan,
};

/* ---- R6: option ROMs ----------------------------------------------------- */

static bool romfile_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsRamBlock *b = vms_stream_block(ctx->stream, hit->block);
    const TrRamSpec *spec = tr_ram_spec(ctx, hit);

    if (spec->kind != TR_RAM_ROMFILE) {
        return refuse_fixed(hit);
    }
    if (ctx->opts->drop_roms) {
        tr_plan_ram_drop(ctx->plan, hit->finding, hit->block);
        tr_give_dropped_block(ctx, hit->block);
        tr_finding_set(hit->finding, TR_ACTION_LOSS,
                       g_strdup_printf("--drop-roms: block and its pages "
                                       "removed; the guest finds the "
                                       "target's own %s ROM in its place",
                                       spec->driver));
        return true;
    }
    if (tr_ram_refuse_too_large(ctx, hit)) {
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

/* R6 — a PCI option ROM of another size than the target's ROM file.
 * Evidence: "…/rtl8139.rom", "…/e1000.rom", ... of another length.
 * Setting: the block's bytes in a file + -global DRIVER.romfile=FILE; or
 * (--drop-roms) the block removed, a loss. */
const TrRule tr_rule_r6_option_rom = {
    .id = "R6",
    .title = "option ROM of another size",
    .fixes = "a PCI option ROM block ('…/rtl8139.rom', 'e1000.rom', …) of "
             "another length than the target's ROM file: \"Size mismatch\"",
    .actions = TR_MAY_SET | TR_MAY_LOSE | TR_MAY_REFUSE,
    .gives = TR_GIVES_DROPPED_BLOCKS,
    .detect_block = tr_ram_detect_block,
    .ram_kinds = KIND(TR_RAM_ROMFILE),
    .plan = romfile_plan,
};

/* ---- R7: the BIOS -------------------------------------------------------- */

static bool bios_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsRamBlock *b = vms_stream_block(ctx->stream, hit->block);

    if (tr_ram_spec(ctx, hit)->kind != TR_RAM_BIOS) {
        return refuse_fixed(hit);
    }
    if (tr_ram_refuse_too_large(ctx, hit)) {
        return true;
    }
    const char *path =
        tr_recipe_add_file(ctx, TR_FILE_BIOS, hit->block, b->id, b->length);
    tr_recipe_add_bios(ctx->recipe, path);
    tr_finding_set(hit->finding, TR_ACTION_SETTING,
                   g_strdup_printf("the stream's BIOS extracted to %s; -bios "
                                   "gives a block of the same size",
                                   path));
    return true;
}

/* R7 — the BIOS of another size.
 * Evidence: "pc.bios" of another length than the target's default BIOS.
 * Setting: the block's bytes in a file + -bios FILE. */
const TrRule tr_rule_r7_bios = {
    .id = "R7",
    .title = "BIOS of another size",
    .fixes = "'pc.bios' of another length than the target's default BIOS "
             "(QEMU 10's machines load the 256 KiB bios-256k.bin): \"Size "
             "mismatch\"",
    .actions = TR_MAY_SET | TR_MAY_REFUSE,
    .detect_block = tr_ram_detect_block,
    .ram_kinds = KIND(TR_RAM_BIOS),
    .plan = bios_plan,
};

/* ---- R17: the BIOS as flash ---------------------------------------------- */

static bool flash_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsRamBlock *b = vms_stream_block(ctx->stream, hit->block);
    const TrRamSpec *spec = tr_ram_spec(ctx, hit);
    const char *id = b->id;

    if (spec->kind == TR_RAM_PFLASH_SHADOW) {
        tr_finding_set(hit->finding, TR_ACTION_REFUSE,
                       g_strdup("the target creates it only as the copy of "
                                "a pflash drive's last 128 KiB"));
        return true;
    }
    if (spec->kind != TR_RAM_RENAMED && spec->kind != TR_RAM_PFLASH) {
        return refuse_fixed(hit);
    }
    if (tr_ram_refuse_too_large(ctx, hit)) {
        return true;
    }
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
    const char *path =
        tr_recipe_add_file(ctx, TR_FILE_PFLASH, hit->block, id, b->length);
    tr_recipe_add_pflash(ctx->recipe, path);
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

/* R17 — qemu-kvm 1.2's BIOS mapped as flash (under TCG).
 * Evidence: RAM block "system.flash" (with "isa-bios").
 * Edit: renamed "system.flash0" in the list and in every page record that
 * names it; setting: its bytes in a file + -drive if=pflash,unit=0. */
const TrRule tr_rule_r17_flash = {
    .id = "R17",
    .title = "BIOS mapped as flash (qemu-kvm 1.2 under TCG)",
    .fixes = "a 'system.flash' block (qemu-kvm 1.2 under TCG, with "
             "'isa-bios'): the target names the flash 'system.flash0' and "
             "creates it only for a pflash drive (\"Unknown ramblock\")",
    .actions = TR_MAY_EDIT | TR_MAY_SET | TR_MAY_REFUSE,
    .detect_block = tr_ram_detect_block,
    .ram_kinds =
        KIND(TR_RAM_RENAMED) | KIND(TR_RAM_PFLASH) | KIND(TR_RAM_PFLASH_SHADOW),
    .plan = flash_plan,
};

/* ---- ram: what the profile does not size --------------------------------- */

static bool unknown_block_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    if (tr_ram_spec(ctx, hit)) {
        return refuse_fixed(hit);
    }
    tr_finding_set(hit->finding, TR_ACTION_NOTE,
                   g_strdup("left as it is: the load fails with \"Unknown "
                            "ramblock\" unless the target's devices create it "
                            "with this size"));
    return true;
}

/* ram — a RAM block the target profile does not know, or sizes fixed.
 * Evidence: a block id no spec of the target matches (a note: the target's
 * devices decide), or one of a fixed length ("pc.rom") that differs. */
const TrRule tr_rule_ram_unknown = {
    .id = "ram",
    .title = "RAM block unknown to the target profile",
    .fixes = "a RAM block the target profile does not know, or one the "
             "target always creates with another length (\"Unknown "
             "ramblock\", \"Size mismatch\")",
    .actions = TR_MAY_NOTE | TR_MAY_REFUSE,
    .detect_block = tr_ram_detect_block,
    .ram_kinds = KIND(TR_RAM_FIXED),
    .plan = unknown_block_plan,
};
