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

/*
 * Whose sizes the stream's blocks are judged by. The profile describes
 * the target's own machine; on another machine (a CONFIGURATION record
 * the target keeps, or --machine) the sizes a machine type or the build
 * decides (BIOS, option ROMs, video memory) are not known, so the rules
 * hand over the stream's own -- except for a stream QEMU wrote for that
 * very machine, whose blocks that machine creates (not one qsnapfix
 * translated or framed for it: its blocks are its writer's).
 */
typedef enum {
    RAM_NOT_JUDGED,
    RAM_BY_PROFILE,
    RAM_SIZES_UNKNOWN,
} RamJudged;

static RamJudged ram_judged(const TrContext *ctx)
{
    const TrTarget *t = ctx->target;
    const char *machine = ctx->recipe->machine;
    g_autofree char *named = vms_stream_machine(ctx->stream);

    if (!t->machine || !machine || !strcmp(machine, t->machine)) {
        return RAM_BY_PROFILE;
    }
    if (named && !strcmp(named, machine) && !ctx->writer->translated) {
        return RAM_NOT_JUDGED;
    }
    return RAM_SIZES_UNKNOWN;
}

uint64_t tr_ram_length(const TrContext *ctx, const TrRamSpec *spec)
{
    bool by_machine = spec->kind == TR_RAM_BIOS ||
                      spec->kind == TR_RAM_ROMFILE ||
                      spec->kind == TR_RAM_VGAMEM;

    return by_machine && ram_judged(ctx) == RAM_SIZES_UNKNOWN ? 0
                                                              : spec->length;
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
    uint64_t length = spec ? tr_ram_length(ctx, spec) : 0;
    g_autofree char *have = tr_size_str(b->length);
    g_autofree char *want = spec ? tr_size_str(length) : NULL;
    uint64_t flash_len;

    if (!spec) {
        return g_strdup_printf("RAM block '%s' (%s) is not in the %s profile",
                               b->id, have, target);
    }
    switch (spec->kind) {
    case TR_RAM_ANY:
        return NULL;
    case TR_RAM_FIXED:
    case TR_RAM_QXL_ROM:
        if (b->length == length) {
            return NULL;
        }
        return g_strdup_printf("RAM block '%s' is %s; %s creates %s", b->id,
                               have, target, want);
    case TR_RAM_BIOS:
    case TR_RAM_VGAMEM:
    case TR_RAM_ROMFILE:
        if (length && b->length == length) {
            return NULL;
        }
        return length ? g_strdup_printf("RAM block '%s' is %s; %s creates %s",
                                        b->id, have, target, want)
               : spec->length
                   ? g_strdup_printf("RAM block '%s' is %s; its size on %s "
                                     "-M %s is not known (the profile "
                                     "measured -M %s)",
                                     b->id, have, target, ctx->recipe->machine,
                                     ctx->target->machine)
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

    if (strcmp(rule, ctx->rule->id) || ram_judged(ctx) == RAM_NOT_JUDGED) {
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

bool tr_ram_refuse_too_large(TrContext *ctx, const TrHit *hit,
                             const char *way_out, const char *risk)
{
    const VmsRamBlock *b = vms_stream_block(ctx->stream, hit->block);

    if (b->length <= TR_EXTRACT_MAX) {
        return false;
    }
    g_autofree char *size = tr_size_str(b->length);
    g_autofree char *max = tr_size_str(TR_EXTRACT_MAX);
    char *why = g_strdup_printf("a %s block is not a ROM, BIOS or flash "
                                "image qsnapfix can hand over",
                                size);
    if (way_out) {
        tr_refuse(hit->finding, why, way_out, g_strdup(risk));
    } else {
        tr_refuse_no_way_out(
            hit->finding, why,
            g_strdup_printf("the target creates this block from a file "
                            "only, and qsnapfix extracts at most %s",
                            max));
    }
    return true;
}

/* What no setting of the target changes: a block of a fixed size (the
 * "ram" rule lets the user drop it), or a spec of another rule's kind. */
bool tr_ram_refuse_fixed(TrContext *ctx, const TrHit *hit)
{
    const VmsRamBlock *b = vms_stream_block(ctx->stream, hit->block);
    const TrRamSpec *spec = tr_ram_spec(ctx, hit);
    g_autofree char *have = tr_size_str(b->length);
    g_autofree char *want = tr_size_str(spec->length);
    char *why = g_strdup("no setting changes its size on the target");

    if (spec->kind != TR_RAM_FIXED) {
        tr_refuse_no_way_out(
            hit->finding, why,
            g_strdup_printf("%s sizes '%s' in a way rule %s does not "
                            "handle",
                            ctx->target->name, b->id, ctx->rule->id));
        return true;
    }
    tr_refuse(hit->finding, why, "--accept-loss=ram",
              g_strdup_printf("the block and its pages are removed: the "
                              "guest finds %s's own %s '%s' in place of "
                              "its %s",
                              ctx->target->name, want, b->id, have));
    return true;
}

/* ---- R4, R5: video memory ------------------------------------------------ */

/* --shrink-vram cuts this block (if the pages above the cut allow it). */
static bool cuts_vram(const TrContext *ctx, const TrRamSpec *spec,
                      const VmsRamBlock *b)
{
    uint64_t length = tr_ram_length(ctx, spec);

    return ctx->opts->shrink_vram && !strcmp(spec->driver, "cirrus-vga") &&
           length && b->length > length;
}

static bool vgamem_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsStream *s = ctx->stream;
    const VmsRamBlock *b = vms_stream_block(s, hit->block);
    const TrRamSpec *spec = tr_ram_spec(ctx, hit);

    if (spec->kind != TR_RAM_VGAMEM) {
        return tr_ram_refuse_fixed(ctx, hit);
    }
    const char *prop = spec->property ? spec->property : "vgamem_mb";
    if (cuts_vram(ctx, spec, b)) {
        uint64_t length = tr_ram_length(ctx, spec);
        TrPageCensus c;
        tr_page_census(s, hit->block, length, &c);
        g_autofree char *pages = tr_page_census_str(&c);
        g_autofree char *cut = tr_size_str(length);
        bool accepted = tr_loss_accepted(ctx, "R4");
        if (c.full && !accepted) {
            tr_refuse(hit->finding,
                      g_strdup_printf("--shrink-vram: at or above %s the "
                                      "block holds %s; shrinking would lose "
                                      "them (without --shrink-vram the "
                                      "recipe sets %s.%s instead, losing "
                                      "nothing)",
                                      cut, pages, spec->driver, prop),
                      "--accept-loss=R4",
                      g_strdup_printf("the block is cut to %s anyway: the "
                                      "%" PRIu64 " data page(s) above it are "
                                      "lost (cirrus addresses only its first "
                                      "4 MiB, so the guest never saw them)",
                                      cut, c.full));
            return true;
        }
        tr_plan_ram_resize(ctx->plan, hit->finding, hit->block, length);
        tr_finding_set(hit->finding, c.full ? TR_ACTION_LOSS : TR_ACTION_EDIT,
                       g_strdup_printf("--shrink-vram%s: block cut to %s; "
                                       "dropped at or above it: %s (cirrus "
                                       "addresses only its first 4 MiB)",
                                       c.full ? " --accept-loss=R4" : "", cut,
                                       pages));
        return true;
    }
    if (!allowed_mb(spec, b->length)) {
        g_autofree char *have = tr_size_str(b->length);
        g_autoptr(GString) sizes = g_string_new(NULL);
        for (guint i = 0;
             i < G_N_ELEMENTS(spec->vgamem_mb) && spec->vgamem_mb[i]; i++) {
            g_string_append_printf(sizes, "%s%u", i ? ", " : "",
                                   spec->vgamem_mb[i]);
        }
        tr_refuse_no_way_out(
            hit->finding,
            g_strdup_printf("%s.%s cannot be set to %s on %s", spec->driver,
                            prop, have, ctx->target->name),
            g_strdup_printf("%s.%s takes %s (MiB) only, and video memory "
                            "of another size cannot hold the guest's "
                            "framebuffer",
                            spec->driver, prop, sizes->str));
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
    .actions =
        TR_MAY_SET | TR_MAY_EDIT | TR_MAY_LOSE | TR_MAY_REFUSE | TR_MAY_NOTE,
    .loss = "--shrink-vram over data pages (never seen by the guest)",
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
        return tr_ram_refuse_fixed(ctx, hit);
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
    g_autofree char *risk = g_strdup_printf(
        "the block and its pages are removed: the guest finds %s's own %s "
        "ROM in its place (harmless unless the guest runs the ROM's code "
        "again, e.g. a PXE boot)",
        ctx->target->name, spec->driver);
    if (tr_ram_refuse_too_large(ctx, hit, "--drop-roms", risk)) {
        return true;
    }
    if (b->length & (b->length - 1)) {
        tr_refuse(hit->finding,
                  g_strdup_printf("the block is not a power of two long: "
                                  "no ROM file makes %s create it",
                                  ctx->target->name),
                  "--drop-roms", g_strdup(risk));
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
        return tr_ram_refuse_fixed(ctx, hit);
    }
    if (tr_ram_refuse_too_large(ctx, hit, NULL, NULL)) {
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
        tr_refuse_no_way_out(
            hit->finding,
            g_strdup("the target creates it only as the copy of a pflash "
                     "drive's last 128 KiB"),
            g_strdup("without a flash block of matching size in the stream "
                     "there is no flash drive to give the target"));
        return true;
    }
    if (spec->kind != TR_RAM_RENAMED && spec->kind != TR_RAM_PFLASH) {
        return tr_ram_refuse_fixed(ctx, hit);
    }
    if (tr_ram_refuse_too_large(ctx, hit, NULL, NULL)) {
        return true;
    }
    if (spec->kind == TR_RAM_RENAMED) {
        tr_plan_ram_rename(ctx->plan, hit->finding, hit->block,
                           spec->rename_to);
        id = spec->rename_to;
    }
    if (b->length % 4096) {
        tr_refuse_no_way_out(
            hit->finding,
            g_strdup("a pflash drive must be a multiple of 4 KiB long"),
            g_strdup("the target creates the flash only from a drive, and "
                     "no drive gives a block of this length"));
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
        return tr_ram_refuse_fixed(ctx, hit);
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
    .actions = TR_MAY_NOTE | TR_MAY_LOSE | TR_MAY_REFUSE,
    .loss = "drop a block the target sizes otherwise (its own replaces it)",
    .gives = TR_GIVES_DROPPED_BLOCKS,
    .detect_block = tr_ram_detect_block,
    .ram_kinds = KIND(TR_RAM_FIXED),
    .plan = unknown_block_plan,
};
