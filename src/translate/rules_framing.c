/*
 * How the stream is framed for the target's machine type. Machines from
 * pc-i440fx-2.4 on (send-configuration, send-section-footer) expect:
 *
 *   R18  a CONFIGURATION record naming the machine type right after the
 *        file header ("Configuration section missing", "Machine type
 *        received is 'X' and local is 'Y'");
 *   R19  a SECTION_FOOTER (0x7e + the section id) after every START, PART,
 *        END and FULL record ("Missing section footer for <idstr>").
 *
 * Both insert bytes all through the stream: the plan keeps them as
 * insertions into the original, and the write path streams the shifted
 * rest.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "rules.h"

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

/* The machine type the translated stream runs on. */
static const char *wanted_machine(const TrContext *ctx)
{
    return ctx->opts->machine ? ctx->opts->machine : ctx->target->machine;
}

/* ---- R18: CONFIGURATION ---------------------------------------------------
 */

static void r18_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;
    g_autofree char *named = vms_stream_machine(s);

    if (!ctx->target->needs_configuration || !wanted_machine(ctx)) {
        return;
    }
    if (named && tr_machine_kept(ctx->target, named)) {
        return; /* written for a machine the target has: leave it */
    }
    tr_hit_add(ctx, hits, G_MAXUINT, G_MAXUINT, 0, "configuration",
               named
                   ? g_strdup_printf("the CONFIGURATION record names "
                                     "machine type '%s', which %s does "
                                     "not have",
                                     named, ctx->target->name)
                   : g_strdup_printf("no CONFIGURATION record (written for "
                                     "a machine type older than 2.4); %s "
                                     "-M %s refuses a stream without one",
                                     ctx->target->name, ctx->target->machine));
}

static bool r18_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsSection *config = configuration_record(ctx->stream);
    const char *machine = wanted_machine(ctx);
    VmsBuilder *w = vms_builder_new_memory();
    uint64_t len;

    if (config) {
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
    .title = "CONFIGURATION record with the target's machine type",
    .fixes = "no CONFIGURATION record, or one naming a machine type the "
             "target lacks: a >= 2.4 machine refuses the stream "
             "(\"Configuration section missing\")",
    .actions = TR_MAY_EDIT,
    .detect = r18_detect,
    .plan = r18_plan,
};

/* ---- R19: section footers -------------------------------------------------
 */

static bool needs_footer(const TrContext *ctx, guint i)
{
    const VmsSection *sec = vms_stream_section(ctx->stream, i);

    return !tr_section_dropped(ctx, i) && !sec->has_footer &&
           (sec->type == VMS_SECTION_START || sec->type == VMS_SECTION_PART ||
            sec->type == VMS_SECTION_END || sec->type == VMS_SECTION_FULL);
}

static void r19_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;
    guint missing = 0, records = 0;

    if (!ctx->target->needs_footers) {
        return;
    }
    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        records += !tr_section_dropped(ctx, i) &&
                   sec->type >= VMS_SECTION_START &&
                   sec->type <= VMS_SECTION_FULL;
        missing += needs_footer(ctx, i);
    }
    if (!missing) {
        return;
    }
    tr_hit_add(ctx, hits, G_MAXUINT, G_MAXUINT, missing, "sections",
               g_strdup_printf("%u of %u section records end without a "
                               "SECTION_FOOTER (send-section-footer was off "
                               "for the writer's machine); %s checks one "
                               "after every record",
                               missing, records, ctx->target->name));
}

static bool r19_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsStream *s = ctx->stream;

    for (guint i = 0; i < s->sections->len; i++) {
        if (!needs_footer(ctx, i)) {
            continue;
        }
        VmsBuilder *w = vms_builder_new_memory();
        vms_builder_footer(w, tr_section_id(ctx, i));
        tr_plan_put(ctx->plan, hit->finding, vms_stream_section(s, i)->end, 0,
                    w);
    }
    tr_finding_set(hit->finding, TR_ACTION_EDIT,
                   g_strdup_printf("a footer (0x7e + the section id) after "
                                   "each of them: +%" PRIu64 " bytes",
                                   hit->value * 5));
    return true;
}

const TrRule tr_rule_r19_footers = {
    .id = "R19",
    .title = "section footers",
    .fixes = "START/PART/END/FULL records without a SECTION_FOOTER: a >= 2.4 "
             "machine checks one after each (\"Missing section footer\")",
    .actions = TR_MAY_EDIT,
    .needs = TR_NEEDS("drop-section", "R9", "R8"),
    .detect = r19_detect,
    .plan = r19_plan,
};
