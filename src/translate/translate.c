/*
 * The translator's driver: run every rule over the stream, collect the
 * findings, compose the edit list and the recipe.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "recipe.h"
#include "rules.h"

G_DEFINE_QUARK(qsnapfix - translate - error - quark, tr_error)

/*
 * Order matters: drops first (later rules skip dropped sections), the
 * version check last (it sees the versions R1/R2 planned).
 */
static const TrRule *const rules[] = {
    &tr_rule_drop_section, &tr_rule_machine,         &tr_rule_environment,
    &tr_rule_r9_block,     &tr_rule_r8_live_ids,     &tr_rule_r1_piix4_pm,
    &tr_rule_r2_i8254,     &tr_rule_r3_usb_path,     &tr_rule_r16_balloon_class,
    &tr_rule_ram_blocks,   &tr_rule_r20_fill_pages,  &tr_rule_r18_configuration,
    &tr_rule_r19_footers,  &tr_rule_r21_piix4_pcihp, &tr_rule_r22_vga_revision,
    &tr_rule_r23_xstate,   &tr_rule_unknown_section, &tr_rule_opaque_section,
};

static const struct {
    const char *id;
    const char *title;
} titles[] = {
    {"R4", "cirrus vga.vram larger than the target's"},
    {"R5", "VGA memory of another size"},
    {"R6", "option ROM of another size"},
    {"R7", "BIOS of another size"},
    {"R10", "qxl ROM and PCI revision"},
    {"R12", "kvm-tpr-opt on a machine without vapic"},
    {"R17", "BIOS mapped as flash (qemu-kvm 1.2 under TCG)"},
    {"kvm", "stream written under KVM"},
    {"hpet", "source machine without HPET"},
    {"ram", "RAM block unknown to the target profile"},
};

const char *tr_action_name(TrAction a)
{
    switch (a) {
    case TR_ACTION_EDIT:
        return "edit";
    case TR_ACTION_SETTING:
        return "setting";
    case TR_ACTION_LOSS:
        return "loss";
    case TR_ACTION_REFUSE:
        return "refuse";
    case TR_ACTION_NOTE:
        return "note";
    }
    return "?";
}

static void finding_free(gpointer data)
{
    TrFinding *f = data;
    g_free(f->subject);
    g_free(f->evidence);
    g_free(f->change);
    g_free(f);
}

static void edit_clear(gpointer data)
{
    TrEdit *e = data;
    g_bytes_unref(e->data);
}

TrResult *tr_result_new(const TrTarget *target, uint64_t size)
{
    TrResult *r = g_new0(TrResult, 1);

    r->target = target;
    r->findings = g_ptr_array_new_with_free_func(finding_free);
    r->edits = g_array_new(FALSE, TRUE, sizeof(TrEdit));
    g_array_set_clear_func(r->edits, edit_clear);
    r->recipe = tr_recipe_new();
    r->old_size = r->new_size = size;
    return r;
}

TrFinding *tr_result_add_finding(TrResult *r, const char *rule,
                                 const char *title, const char *subject,
                                 char *evidence)
{
    TrFinding *f = g_new0(TrFinding, 1);

    f->rule = rule;
    f->title = title;
    f->action = TR_ACTION_EDIT;
    f->subject = g_strdup(subject);
    f->evidence = evidence;
    g_ptr_array_add(r->findings, f);
    return f;
}

TrFinding *tr_hit_add(TrContext *ctx, GArray *hits, const TrRule *rule,
                      guint section, guint block, uint64_t value,
                      const char *subject, char *evidence)
{
    TrFinding *f = tr_result_add_finding(ctx->result, rule->id, rule->title,
                                         subject, evidence);
    TrHit h = {
        .finding = f, .section = section, .block = block, .value = value};

    g_array_append_val(hits, h);
    return f;
}

void tr_finding_rule(TrFinding *f, const char *rule)
{
    f->rule = rule;
    for (guint i = 0; i < G_N_ELEMENTS(titles); i++) {
        if (!strcmp(titles[i].id, rule)) {
            f->title = titles[i].title;
        }
    }
}

void tr_finding_set(TrFinding *f, TrAction action, char *change)
{
    f->action = action;
    g_free(f->change);
    f->change = change;
}

bool tr_section_live(const TrContext *ctx, guint i)
{
    const VmsSection *sec = vms_stream_section(ctx->stream, i);

    return !ctx->dropped[i] && sec->idstr &&
           (sec->type == VMS_SECTION_START || sec->type == VMS_SECTION_FULL);
}

const char *tr_vmsd(const VmsSection *sec)
{
    return sec->idstr ? vms_section_vmsd_name(sec) : "";
}

const uint8_t *tr_payload(const VmsSection *sec, size_t *len)
{
    gsize n = 0;
    const uint8_t *p = sec->payload ? g_bytes_get_data(sec->payload, &n) : NULL;

    *len = n;
    return p;
}

char *tr_size_str(uint64_t bytes)
{
    if (bytes && !(bytes % (1024 * 1024))) {
        return g_strdup_printf("%" PRIu64 " MiB", bytes / (1024 * 1024));
    }
    if (bytes && !(bytes % 1024)) {
        return g_strdup_printf("%" PRIu64 " KiB", bytes / 1024);
    }
    return g_strdup_printf("%" PRIu64 " bytes", bytes);
}

void tr_result_free(TrResult *r)
{
    if (!r) {
        return;
    }
    g_free(r->writer);
    g_ptr_array_unref(r->findings);
    g_array_unref(r->edits);
    tr_recipe_free(r->recipe);
    g_free(r);
}

guint tr_result_count_actions(const TrResult *r)
{
    guint n = 0;

    for (guint i = 0; i < r->findings->len; i++) {
        const TrFinding *f = g_ptr_array_index(r->findings, i);
        n += f->action != TR_ACTION_NOTE;
    }
    return n;
}

const TrFinding *tr_result_refusal(const TrResult *r)
{
    for (guint i = 0; i < r->findings->len; i++) {
        const TrFinding *f = g_ptr_array_index(r->findings, i);
        if (f->action == TR_ACTION_REFUSE) {
            return f;
        }
    }
    return NULL;
}

const TrFinding *tr_result_undecided(const TrResult *r)
{
    for (guint i = 0; i < r->findings->len; i++) {
        const TrFinding *f = g_ptr_array_index(r->findings, i);
        if (f->needs_pages) {
            return f;
        }
    }
    return NULL;
}

static bool check_stream(const VmsStream *s, const TrOptions *opts,
                         GError **errp)
{
    /* Without page data the rules read no page record: any parse does. */
    bool needs_records = !opts->no_page_data;

    if (needs_records && s->tail_path) {
        g_set_error(errp, TR_ERROR, TR_ERROR_INVALID,
                    "%s: parsed by the tail path; the translator needs "
                    "every record",
                    s->name);
        return false;
    }
    if (needs_records && !s->pages && s->ram_blocks->len) {
        g_set_error(errp, TR_ERROR, TR_ERROR_INVALID,
                    "%s: parsed without VMS_PARSE_RECORD_PAGES", s->name);
        return false;
    }
    if (!s->has_eof) {
        g_set_error(errp, TR_ERROR, TR_ERROR_STREAM,
                    "%s: the stream has no end-of-file record", s->name);
        return false;
    }
    return true;
}

static void leave_undecided(TrFinding *f)
{
    f->needs_pages = true;
    tr_finding_set(f, TR_ACTION_NOTE,
                   g_strdup("undecided: the decision reads RAM page records, "
                            "which were not read"));
}

TrResult *tr_translate(const VmsStream *s, VmsSource *src,
                       const TrOptions *opts, GError **errp)
{
    static const TrOptions defaults = {0};
    g_autoptr(TrResult) r = NULL;
    TrContext ctx = {0};
    guint n = s->sections->len;
    bool ok = true;

    opts = opts ? opts : &defaults;
    if (!check_stream(s, opts, errp)) {
        return NULL;
    }
    r = tr_result_new(opts->target ? opts->target : tr_target_default(),
                      s->size);

    ctx.stream = s;
    ctx.source = src;
    ctx.opts = opts;
    ctx.target = r->target;
    ctx.result = r;
    ctx.recipe = r->recipe;
    ctx.plan = tr_plan_new(s, !opts->no_page_data);
    ctx.dropped = g_new0(bool, n ? n : 1);
    ctx.version = g_new0(uint32_t, n ? n : 1);
    ctx.idstr = g_new0(char *, n ? n : 1);
    ctx.section_id = g_new0(uint32_t, n ? n : 1);
    for (guint i = 0; i < n; i++) {
        ctx.version[i] = vms_stream_section(s, i)->version_id;
        ctx.section_id[i] = vms_stream_section(s, i)->section_id;
    }

    for (guint i = 0; ok && i < G_N_ELEMENTS(rules); i++) {
        g_autoptr(GArray) hits = g_array_new(FALSE, FALSE, sizeof(TrHit));
        rules[i]->detect(&ctx, hits);
        for (guint j = 0; ok && j < hits->len; j++) {
            const TrHit *hit = &g_array_index(hits, TrHit, j);
            if (opts->no_page_data && rules[i]->reads_pages &&
                rules[i]->reads_pages(&ctx, hit)) {
                leave_undecided(hit->finding);
                continue;
            }
            ok = rules[i]->plan(&ctx, hit, errp);
        }
    }
    r->refused = ok && tr_result_refusal(r) != NULL;
    if (ok && !r->refused) {
        ok = tr_plan_build(ctx.plan, r->edits, &r->new_size, errp);
    }
    if (ok) {
        tr_recipe_finish(r->recipe);
    }

    tr_plan_free(ctx.plan);
    g_free(ctx.dropped);
    g_free(ctx.version);
    for (guint i = 0; i < n; i++) {
        g_free(ctx.idstr[i]);
    }
    g_free(ctx.idstr);
    g_free(ctx.section_id);
    return ok ? g_steal_pointer(&r) : NULL;
}
