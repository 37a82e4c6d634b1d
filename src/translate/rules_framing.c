/*
 * How the stream is framed for the recipe's machine type (R15's). Machines
 * from pc-i440fx-2.4 on (send-configuration, send-section-footer) expect:
 *
 *   R18  a CONFIGURATION record naming the machine type right after the
 *        file header ("Configuration section missing", "Machine type
 *        received is 'X' and local is 'Y'");
 *   R19  a SECTION_FOOTER (0x7e + the section id) after every START, PART,
 *        END and FULL record ("Missing section footer for <idstr>").
 *
 * Older machines, and QEMU < 2.4, read neither: a stream framed for a
 * >= 2.4 machine (one qsnapfix translated for qemu-10.0, say) loses both
 * when the recipe runs it on such a machine.
 *
 * Both insert (or remove) bytes all through the stream: the plan keeps
 * them as insertions into the original, and the write path streams the
 * shifted rest.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "rules.h"
#include "stream/vmdesc.h"

static const VmsSection *configuration_record(const VmsStream *s)
{
    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        if (sec->kind == VMS_KIND_CONFIGURATION) {
            return sec;
        }
    }
    return NULL;
}

/* The machine type the translated stream runs on: R15's, which runs
 * first. */
static const char *recipe_machine(const TrContext *ctx)
{
    return ctx->recipe->machine;
}

/* ---- R18: CONFIGURATION ---------------------------------------------------
 */

/* hit values: what R18 does with the record */
enum { R18_INSERT, R18_RENAME, R18_REMOVE };

static void r18_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;
    g_autofree char *named = vms_stream_machine(s);
    const char *machine = recipe_machine(ctx);
    const char *target = ctx->target->name;
    bool want, footers;

    tr_target_framing(ctx->target, machine, &want, &footers);
    if (want && !named) {
        tr_hit_add(ctx, hits, G_MAXUINT, G_MAXUINT, R18_INSERT, "configuration",
                   g_strdup_printf("no CONFIGURATION record (written for a "
                                   "machine type older than 2.4); %s -M %s "
                                   "refuses a stream without one",
                                   target, machine));
    } else if (want && strcmp(named, machine)) {
        tr_hit_add(ctx, hits, G_MAXUINT, G_MAXUINT, R18_RENAME, "configuration",
                   g_strdup_printf("the CONFIGURATION record names machine "
                                   "type '%s'; %s runs it as '%s'",
                                   named, target, machine));
    } else if (!want && named) {
        tr_hit_add(ctx, hits, G_MAXUINT, G_MAXUINT, R18_REMOVE, "configuration",
                   g_strdup_printf("a CONFIGURATION record naming '%s'; %s -M "
                                   "%s reads none (\"Unknown savevm section "
                                   "type 7\")",
                                   named, target, machine));
    }
}

/*
 * A stream with a VM description (QEMU >= 2.3 wrote it) framed for another
 * machine than its writer's keeps a record of it there (vmdesc.h), so that
 * a later judge knows its devices are not that machine's.
 */
static void mark_vm_description(TrContext *ctx, const TrHit *hit,
                                const char *machine)
{
    const VmsStream *s = ctx->stream;
    g_autofree char *json = NULL;
    VmsBuilder *w;

    if (!s->has_vmdesc) {
        return;
    }
    json = vms_vmdesc_mark_framed(s->vmdesc_json, machine);
    w = vms_builder_new_memory();
    vms_builder_vmdesc(w, json, strlen(json));
    tr_plan_put(ctx->plan, hit->finding, s->vmdesc_offset,
                5 + (uint64_t)s->vmdesc_len, w);
}

static bool r18_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsSection *config = configuration_record(ctx->stream);
    const char *machine = recipe_machine(ctx);
    VmsBuilder *w;
    uint64_t len;

    if (hit->value == R18_REMOVE) {
        tr_plan_drop(ctx->plan, hit->finding, config->offset,
                     config->end - config->offset);
        tr_finding_set(hit->finding, TR_ACTION_EDIT,
                       g_strdup_printf("CONFIGURATION record removed (%" PRIu64
                                       " bytes)",
                                       config->end - config->offset));
        return true;
    }
    mark_vm_description(ctx, hit, machine);
    w = vms_builder_new_memory();
    if (hit->value == R18_RENAME) {
        /* the name only: optional subsections after it stay */
        uint32_t n = 0;
        vms_section_machine(config, &n);
        vms_builder_string32(w, machine);
        tr_plan_put(ctx->plan, hit->finding, config->payload_offset,
                    4 + (uint64_t)n, w);
        tr_finding_set(hit->finding, TR_ACTION_EDIT,
                       g_strdup_printf("machine type in the CONFIGURATION "
                                       "record -> '%s'",
                                       machine));
        return true;
    }
    vms_builder_configuration(w, machine);
    len = vms_builder_offset(w);
    tr_plan_put(ctx->plan, hit->finding, VMS_FILE_HEADER_LEN, 0, w);
    tr_finding_set(hit->finding, TR_ACTION_EDIT,
                   g_strdup_printf("CONFIGURATION record '%s' inserted after "
                                   "the file header (%" PRIu64 " bytes)",
                                   machine, len));
    return true;
}

const TrRule tr_rule_r18_configuration = {
    .id = "R18",
    .title = "CONFIGURATION record for the recipe's machine type",
    .fixes = "no CONFIGURATION record, or one naming another machine type "
             "than the recipe's: a >= 2.4 machine refuses the stream "
             "(\"Configuration section missing\"); or one where the "
             "machine (< 2.4, or QEMU < 2.4) reads none",
    .actions = TR_MAY_EDIT,
    .detect = r18_detect,
    .plan = r18_plan,
};

/* ---- R19: section footers -------------------------------------------------
 */

static bool is_record(const TrContext *ctx, guint i)
{
    const VmsSection *sec = vms_stream_section(ctx->stream, i);

    return !tr_section_dropped(ctx, i) &&
           (sec->type == VMS_SECTION_START || sec->type == VMS_SECTION_PART ||
            sec->type == VMS_SECTION_END || sec->type == VMS_SECTION_FULL);
}

/*
 * Does record i need its footer added (want) or removed (!want)? The
 * parser holds a stream to footers on every record once its first record
 * has one; the tail path leaves the live record it stopped in without
 * its end (and footer), which such a stream has all the same.
 */
static bool footer_to_change(const TrContext *ctx, guint i, bool want)
{
    const VmsStream *s = ctx->stream;
    bool has = vms_stream_section(s, i)->has_footer ||
               (s->tail_path && s->has_footers);

    return is_record(ctx, i) && has != want;
}

static void r19_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;
    guint change = 0, records = 0;
    bool configuration, want;

    tr_target_framing(ctx->target, recipe_machine(ctx), &configuration, &want);
    for (guint i = 0; i < s->sections->len; i++) {
        records += is_record(ctx, i);
        change += footer_to_change(ctx, i, want);
    }
    if (!change) {
        return;
    }
    tr_hit_add(
        ctx, hits, G_MAXUINT, G_MAXUINT, change, "sections",
        want ? g_strdup_printf("%u of %u section records end without a "
                               "SECTION_FOOTER (send-section-footer was off "
                               "for the writer's machine); %s -M %s checks "
                               "one after every record",
                               change, records, ctx->target->name,
                               recipe_machine(ctx))
             : g_strdup_printf("%u of %u section records end with a "
                               "SECTION_FOOTER; %s -M %s reads none (it "
                               "would take the footer for the next record)",
                               change, records, ctx->target->name,
                               recipe_machine(ctx)));
}

static bool r19_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsStream *s = ctx->stream;
    bool configuration, want;

    tr_target_framing(ctx->target, recipe_machine(ctx), &configuration, &want);
    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        if (!footer_to_change(ctx, i, want)) {
            continue;
        }
        if (!want) {
            tr_plan_drop(ctx->plan, hit->finding, sec->footer_offset, 5);
            continue;
        }
        VmsBuilder *w = vms_builder_new_memory();
        vms_builder_footer(w, tr_section_id(ctx, i));
        tr_plan_put(ctx->plan, hit->finding, sec->end, 0, w);
    }
    tr_finding_set(
        hit->finding, TR_ACTION_EDIT,
        want ? g_strdup_printf("a footer (0x7e + the section id) after each "
                               "of them: +%" PRIu64 " bytes",
                               hit->value * 5)
             : g_strdup_printf("their footers removed: -%" PRIu64 " bytes",
                               hit->value * 5));
    return true;
}

const TrRule tr_rule_r19_footers = {
    .id = "R19",
    .title = "section footers",
    .fixes = "START/PART/END/FULL records without a SECTION_FOOTER: a >= 2.4 "
             "machine checks one after each (\"Missing section footer\"); "
             "or with one, where the machine reads none",
    .actions = TR_MAY_EDIT,
    .needs = TR_NEEDS("drop-section", "R9", "R8"),
    .detect = r19_detect,
    .plan = r19_plan,
};
