/*
 * The translator's driver: run the rule table over the stream, collect
 * the findings, hand each rule's results on to the rules that need them,
 * compose the edit list and the recipe.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "recipe.h"
#include "rules.h"
#include "stream/fingerprint.h"

G_DEFINE_QUARK(qsnapfix - translate - error - quark, tr_error)

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
    g_free(f->way_out);
    g_free(f->risk);
    g_free(f->no_way_out);
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

TrFinding *tr_hit_add(TrContext *ctx, GArray *hits, guint section, guint block,
                      uint64_t value, const char *subject, char *evidence)
{
    const TrRule *rule = ctx->rule;
    TrFinding *f = tr_result_add_finding(ctx->result, rule->id, rule->title,
                                         subject, evidence);
    TrHit h = {.rule = rule,
               .finding = f,
               .section = section,
               .block = block,
               .value = value};

    g_array_append_val(hits, h);
    return f;
}

void tr_finding_set(TrFinding *f, TrAction action, char *change)
{
    f->action = action;
    g_free(f->change);
    f->change = change;
}

void tr_refuse(TrFinding *f, char *change, const char *way_out, char *risk)
{
    tr_finding_set(f, TR_ACTION_REFUSE, change);
    g_free(f->way_out);
    g_free(f->risk);
    f->way_out = g_strdup(way_out);
    f->risk = risk;
}

void tr_refuse_no_way_out(TrFinding *f, char *change, char *why_none)
{
    tr_finding_set(f, TR_ACTION_REFUSE, change);
    g_free(f->no_way_out);
    f->no_way_out = why_none;
}

char *tr_drop_section_option(const VmsSection *sec)
{
    return g_strdup_printf("--drop-section '%s'", sec->idstr);
}

char *tr_section_loss(const VmsSection *sec)
{
    return g_strdup_printf("the state of '%s' (%" PRIu64 " bytes) is lost: "
                           "the target keeps the device as reset, under a "
                           "guest that had set it up",
                           sec->idstr, sec->payload_len);
}

bool tr_loss_accepted(const TrContext *ctx, const char *rule)
{
    const char *const *ids = ctx->opts->accept_loss;

    for (guint i = 0; ids && ids[i]; i++) {
        if (!strcmp(ids[i], rule)) {
            return true;
        }
    }
    return false;
}

char **tr_loss_rules(void)
{
    guint n;
    const TrRule *const *table = tr_rule_table(&n);
    GPtrArray *a = g_ptr_array_new();

    for (guint i = 0; i < n; i++) {
        if (table[i]->loss) {
            g_ptr_array_add(
                a, g_strdup_printf("%s: %s", table[i]->id, table[i]->loss));
        }
    }
    g_ptr_array_add(a, NULL);
    return (char **)g_ptr_array_free(a, FALSE);
}

bool tr_loss_rule_check(const char *id, GError **errp)
{
    const TrRule *rule = tr_rule_find(id);
    guint n;
    const TrRule *const *table = tr_rule_table(&n);
    g_autoptr(GString) ids = g_string_new(NULL);

    if (rule && rule->loss) {
        return true;
    }
    for (guint i = 0; i < n; i++) {
        if (table[i]->loss) {
            g_string_append_printf(ids, "%s%s", ids->len ? ", " : "",
                                   table[i]->id);
        }
    }
    g_set_error(errp, TR_ERROR, TR_ERROR_INVALID,
                rule ? "rule '%s' takes no loss (rules that do: %s)"
                     : "no rule '%s' (rules that take a loss: %s)",
                id, ids->str);
    return false;
}

bool tr_section_live(const TrContext *ctx, guint i)
{
    const VmsSection *sec = vms_stream_section(ctx->stream, i);

    return !tr_section_dropped(ctx, i) && sec->idstr &&
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

const VmsSection *tr_live_device(const TrContext *ctx, guint i,
                                 const char *vmsd)
{
    const VmsSection *sec = vms_stream_section(ctx->stream, i);

    return tr_section_live(ctx, i) && !strcmp(tr_vmsd(sec), vmsd) ? sec : NULL;
}

const uint8_t *tr_live_device_payload(const TrContext *ctx, guint i,
                                      const char *vmsd, size_t min_len,
                                      const VmsSection **sec)
{
    size_t len;
    const uint8_t *p;

    *sec = tr_live_device(ctx, i, vmsd);
    p = *sec ? tr_payload(*sec, &len) : NULL;
    return p && len >= min_len ? p : NULL;
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

/* ---- results handed on --------------------------------------------------- */

typedef struct TrGiven {
    TrGives what;
    guint index;    /* a section or a block */
    uint32_t value; /* the version or section id */
} TrGiven;

struct TrForward {
    const TrRule *const *table;
    guint n_rules;
    GArray **given; /* per rule of the table: TrGiven it handed on */
    guint running;  /* the running rule's index in the table */
    /* The table indices of the running rule's needs, in table order, and
     * what they give between them. */
    guint *needs;
    guint n_needs;
    unsigned needs_give;
};

static TrForward *forward_new(void)
{
    TrForward *f = g_new0(TrForward, 1);

    f->table = tr_rule_table(&f->n_rules);
    f->given = g_new0(GArray *, f->n_rules);
    f->needs = g_new0(guint, f->n_rules);
    for (guint i = 0; i < f->n_rules; i++) {
        f->given[i] = g_array_new(FALSE, FALSE, sizeof(TrGiven));
    }
    return f;
}

static void forward_free(TrForward *f)
{
    for (guint i = 0; i < f->n_rules; i++) {
        g_array_unref(f->given[i]);
    }
    g_free(f->given);
    g_free(f->needs);
    g_free(f);
}

/* Rule i runs now: it sees what the rules it needs handed on. */
static void set_running(TrContext *ctx, guint i)
{
    TrForward *f = ctx->forward;
    const TrRule *rule = f->table[i];

    ctx->rule = rule;
    f->running = i;
    f->n_needs = 0;
    f->needs_give = 0;
    for (guint j = 0; j < i; j++) {
        for (const char *const *n = rule->needs; n && *n; n++) {
            if (!strcmp(*n, f->table[j]->id)) {
                f->needs[f->n_needs++] = j;
                f->needs_give |= f->table[j]->gives;
                break;
            }
        }
    }
}

/* What the needed rules handed on about index (the latest), or NULL. */
static const TrGiven *given(const TrContext *ctx, TrGives what, guint index)
{
    const TrForward *f = ctx->forward;
    const TrGiven *found = NULL;

    /* asking for what no needed rule gives is a missing `needs` entry */
    g_assert(f->needs_give & what);
    for (guint k = 0; k < f->n_needs; k++) {
        GArray *a = f->given[f->needs[k]];
        for (guint j = 0; j < a->len; j++) {
            const TrGiven *g = &g_array_index(a, TrGiven, j);
            if (g->what == what && g->index == index) {
                found = g;
            }
        }
    }
    return found;
}

static void give(TrContext *ctx, TrGives what, guint index, uint32_t value)
{
    TrForward *f = ctx->forward;
    TrGiven g = {.what = what, .index = index, .value = value};

    /* handing on what the rule does not declare would stay unseen */
    g_assert(ctx->rule->gives & what);
    g_array_append_val(f->given[f->running], g);
}

bool tr_section_dropped(const TrContext *ctx, guint section)
{
    return given(ctx, TR_GIVES_DROPPED_SECTIONS, section) != NULL;
}

uint32_t tr_section_version(const TrContext *ctx, guint section)
{
    const TrGiven *g = given(ctx, TR_GIVES_SECTION_VERSIONS, section);

    return g ? g->value : vms_stream_section(ctx->stream, section)->version_id;
}

uint32_t tr_section_id(const TrContext *ctx, guint section)
{
    const TrGiven *g = given(ctx, TR_GIVES_SECTION_IDS, section);

    return g ? g->value : vms_stream_section(ctx->stream, section)->section_id;
}

bool tr_block_dropped(const TrContext *ctx, guint block)
{
    return given(ctx, TR_GIVES_DROPPED_BLOCKS, block) != NULL;
}

void tr_give_dropped_section(TrContext *ctx, guint section)
{
    give(ctx, TR_GIVES_DROPPED_SECTIONS, section, 0);
}

void tr_give_section_version(TrContext *ctx, guint section, uint32_t version)
{
    give(ctx, TR_GIVES_SECTION_VERSIONS, section, version);
}

void tr_give_section_id(TrContext *ctx, guint section, uint32_t id)
{
    give(ctx, TR_GIVES_SECTION_IDS, section, id);
}

void tr_give_dropped_block(TrContext *ctx, guint block)
{
    give(ctx, TR_GIVES_DROPPED_BLOCKS, block, 0);
}

/* ---- running the table --------------------------------------------------- */

static guint index_of(const TrForward *f, const TrRule *rule)
{
    guint i = 0;

    while (f->table[i] != rule) {
        i++;
    }
    return i;
}

static bool plan_hits(TrContext *ctx, GArray *hits, GError **errp)
{
    for (guint j = 0; j < hits->len; j++) {
        const TrHit *hit = &g_array_index(hits, TrHit, j);
        set_running(ctx, index_of(ctx->forward, hit->rule));
        if (ctx->opts->no_page_data && hit->rule->reads_pages &&
            hit->rule->reads_pages(ctx, hit)) {
            leave_undecided(hit->finding);
            continue;
        }
        if (!hit->rule->plan(ctx, hit, errp)) {
            return false;
        }
    }
    return true;
}

/*
 * Run the rules [first, end) of the table; when they have detect_block,
 * as one walk over the block list, each block by every one of them. Their
 * hits are planned afterwards, in the order they were found.
 */
static bool run_rules(TrContext *ctx, guint first, guint end, GError **errp)
{
    g_autoptr(GArray) hits = g_array_new(FALSE, FALSE, sizeof(TrHit));

    if (!ctx->forward->table[first]->detect_block) {
        set_running(ctx, first);
        ctx->rule->detect(ctx, hits);
        return plan_hits(ctx, hits, errp);
    }
    for (guint b = 0; b < ctx->stream->ram_blocks->len; b++) {
        for (guint i = first; i < end; i++) {
            set_running(ctx, i);
            ctx->rule->detect_block(ctx, b, hits);
        }
    }
    return plan_hits(ctx, hits, errp);
}

static bool run_table(TrContext *ctx, GError **errp)
{
    const TrForward *f = ctx->forward;
    bool ok = true;

    for (guint i = 0; ok && i < f->n_rules;) {
        guint end = i + 1;
        while (f->table[i]->detect_block && end < f->n_rules &&
               f->table[end]->detect_block) {
            end++;
        }
        ok = run_rules(ctx, i, end, errp);
        i = end;
    }
    ctx->rule = NULL;
    return ok;
}

TrResult *tr_translate(const VmsStream *s, VmsSource *src,
                       const TrOptions *opts, GError **errp)
{
    static const TrOptions defaults = {0};
    g_autoptr(TrResult) r = NULL;
    TrContext ctx = {0};
    bool ok;

    opts = opts ? opts : &defaults;
    if (!check_stream(s, opts, errp)) {
        return NULL;
    }
    r = tr_result_new(opts->target ? opts->target : tr_target_default(),
                      s->size);
    g_autoptr(VmsWriterInfo) writer = vms_fingerprint(s);

    ctx.stream = s;
    ctx.writer = writer;
    ctx.source = src;
    ctx.opts = opts;
    ctx.target = r->target;
    ctx.result = r;
    ctx.recipe = r->recipe;
    ctx.plan = tr_plan_new(s, !opts->no_page_data);
    ctx.forward = forward_new();

    ok = run_table(&ctx, errp);
    r->refused = ok && tr_result_refusal(r) != NULL;
    if (ok) {
        tr_recipe_expect_warnings(r->recipe, r->target, s);
    }
    if (ok && !r->refused) {
        ok = tr_plan_build(ctx.plan, r->edits, &r->new_size, errp);
    }

    tr_plan_free(ctx.plan);
    forward_free(ctx.forward);
    return ok ? g_steal_pointer(&r) : NULL;
}
