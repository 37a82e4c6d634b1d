/*
 * The rules on a stream's skeleton, and what their edits mean for the
 * records still to come (plan.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "plan.h"
#include "stream/writer.h"

G_DEFINE_QUARK(qsnapfix - live - error - quark, live_error)

static bool is_live_start(const VmsSection *sec)
{
    return sec->type == VMS_SECTION_START &&
           (sec->kind == VMS_KIND_RAM || sec->kind == VMS_KIND_BLOCK);
}

static void put_eos(VmsBuilder *b, VmsSectionKind kind)
{
    if (kind == VMS_KIND_RAM) {
        vms_builder_ram_eos(b);
    } else {
        vms_builder_block_eos(b);
    }
}

/* The head, the open START closed, one PART and END per live section, the
 * tail or EOF. */
static GBytes *build_skeleton(const LiveHead *h, GBytes *tail)
{
    GByteArray *out = g_byte_array_sized_new((guint)h->len + 512);
    VmsBuilder *b;
    const VmsSection *last = vms_stream_section(h->s, h->s->sections->len - 1);

    g_byte_array_append(out, h->bytes, (guint)h->len);
    b = vms_builder_new_bytes(out);
    if (h->open) {
        vms_builder_ram_eos(b);
        if (h->has_footers) {
            vms_builder_footer(b, last->section_id);
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        for (guint i = 0; i < h->s->sections->len; i++) {
            const VmsSection *sec = vms_stream_section(h->s, i);
            if (!is_live_start(sec)) {
                continue;
            }
            vms_builder_section(b, pass ? VMS_SECTION_END : VMS_SECTION_PART,
                                sec->section_id, NULL, 0, 0);
            put_eos(b, sec->kind);
            if (h->has_footers) {
                vms_builder_footer(b, sec->section_id);
            }
        }
    }
    if (tail) {
        gsize len;
        const void *data = g_bytes_get_data(tail, &len);
        vms_builder_bytes(b, data, len);
    } else {
        vms_builder_eof(b);
    }
    vms_builder_finish(b, NULL); /* a byte array does not fail */
    vms_builder_free(b);
    return g_byte_array_free_to_bytes(out);
}

static VmsStream *parse_skeleton(GBytes *bytes, const char *what,
                                 VmsSource **src_out, GError **errp)
{
    VmsSource *src = vms_source_new_bytes(bytes, what);
    VmsParseOptions po = {.flags = VMS_PARSE_RECORD_PAGES};
    VmsStream *s = vms_stream_parse(src, &po, errp);

    if (!s) {
        vms_source_free(src);
        return NULL;
    }
    *src_out = src;
    return s;
}

static bool same_record(const VmsSection *a, const VmsSection *b)
{
    if (a->type != b->type || g_strcmp0(a->idstr, b->idstr)) {
        return false;
    }
    return a->type == VMS_SECTION_PART || a->type == VMS_SECTION_END ||
           a->instance_id == b->instance_id;
}

static GBytes *slice(GBytes *all, uint64_t from, uint64_t to)
{
    return g_bytes_new_from_bytes(all, (gsize)from, (gsize)(to - from));
}

/* Where a live record's EOS word is (its payload is nothing else). */
static uint64_t eos_offset(const VmsSection *sec)
{
    return sec->kind == VMS_KIND_RAM ? sec->ram.eos_offset
                                     : sec->payload_offset;
}

static void template_clear(LiveTemplate *t)
{
    g_clear_pointer(&t->prefix, g_bytes_unref);
    g_clear_pointer(&t->header, g_bytes_unref);
    g_clear_pointer(&t->trailer, g_bytes_unref);
}

void live_plan_free(LivePlan *p)
{
    if (!p) {
        return;
    }
    tr_result_free(p->result);
    g_clear_pointer(&p->head_out, g_bytes_unref);
    g_clear_pointer(&p->tail_out, g_bytes_unref);
    for (guint i = 0; i < p->n_live; i++) {
        template_clear(&p->part[i]);
        template_clear(&p->end[i]);
    }
    template_clear(&p->start_rest);
    g_free(p->part);
    g_free(p->end);
    g_free(p->live_id);
    for (guint i = 0; i < p->n_blocks; i++) {
        g_free(p->blocks[i].name);
    }
    g_free(p->blocks);
    g_free(p);
}

/* Old blocks to new: same name (maybe cut), renamed in order, or gone. */
static void block_ops(LivePlan *p, const VmsStream *old, const VmsStream *new)
{
    g_autoptr(GArray) fresh = g_array_new(FALSE, FALSE, sizeof(guint));
    guint next_fresh = 0;

    for (guint j = 0; j < new->ram_blocks->len; j++) {
        if (vms_stream_find_block(old, vms_stream_block(new, j)->id) < 0) {
            g_array_append_val(fresh, j);
        }
    }
    p->n_blocks = old->ram_blocks->len;
    p->blocks = g_new0(LiveBlockOp, p->n_blocks ? p->n_blocks : 1);
    for (guint i = 0; i < p->n_blocks; i++) {
        const VmsRamBlock *b = vms_stream_block(old, i);
        LiveBlockOp *op = &p->blocks[i];
        int j = vms_stream_find_block(new, b->id);

        if (j < 0 && next_fresh < fresh->len) {
            j = (int)g_array_index(fresh, guint, next_fresh++);
            op->renamed = true;
        }
        if (j < 0) {
            op->drop = true;
            continue;
        }
        op->index = (guint)j;
        op->name = g_strdup(vms_stream_block(new, (guint)j)->id);
        if (vms_stream_block(new, (guint)j)->length < b->length) {
            op->cut = vms_stream_block(new, (guint)j)->length;
        }
    }
}

/*
 * The rules' verdicts that a stream in flight cannot wait for: a refusal
 * stops it; a decision that reads page data cannot be made before the
 * pages pass, except R20's, which is made on each page as it passes.
 */
static bool check_findings(LivePlan *p, GError **errp)
{
    const TrFinding *refusal = tr_result_refusal(p->result);

    if (refusal) {
        g_set_error(errp, LIVE_ERROR, LIVE_ERROR_REFUSED,
                    "refused by %s (%s): %s; %s", refusal->rule,
                    refusal->subject, refusal->evidence,
                    refusal->change ? refusal->change : "");
        return false;
    }
    for (guint i = 0; i < p->result->findings->len; i++) {
        const TrFinding *f = g_ptr_array_index(p->result->findings, i);
        if (!f->needs_pages) {
            continue;
        }
        if (!strcmp(f->rule, "R20")) {
            p->expand_fills = true;
            continue;
        }
        g_set_error(errp, LIVE_ERROR, LIVE_ERROR_TOO_LATE,
                    "%s (%s): %s: the decision reads RAM page data, which "
                    "a stream in flight only brings after the target has "
                    "started; translate the stream as a file instead",
                    f->rule, f->subject, f->evidence);
        return false;
    }
    return true;
}

static TrResult *run_rules(const VmsStream *s, VmsSource *src,
                           const LiveOptions *o, GError **errp)
{
    TrOptions t = o->tr;

    if (o->backwards) {
        return tr_backwards(s, src, o->backwards, errp);
    }
    t.no_page_data = true;
    return tr_translate(s, src, &t, errp);
}

/*
 * Match the edited skeleton's records with the old ones and cut it into
 * the head, the templates and the tail.
 */
static bool partition(LivePlan *p, const LiveHead *h, const VmsStream *old,
                      const VmsStream *new, GBytes *nb, bool with_tail,
                      GError **errp)
{
    guint n_head = h->s->sections->len;
    guint n_old = MIN(old->sections->len, n_head + 2 * p->n_live);
    g_autofree int *match = g_new(int, n_old ? n_old : 1);
    guint k = 0;
    uint64_t prev_end = 0, head_end = 0;
    bool head_seen = false;

    for (guint i = 0; i < n_old; i++) {
        const VmsSection *a = vms_stream_section(old, i);
        match[i] = -1;
        for (guint j = k; j < new->sections->len; j++) {
            if (same_record(a, vms_stream_section(new, j))) {
                match[i] = (int)j;
                k = j + 1;
                break;
            }
        }
    }
    for (guint i = 0; i < n_old; i++) {
        const VmsSection *img;
        LiveTemplate *t;
        guint live;

        if (match[i] < 0) {
            if (i >= n_head) {
                live = (i - n_head) % p->n_live;
                t = i - n_head < p->n_live ? &p->part[live] : &p->end[live];
                t->drop = true;
            }
            continue;
        }
        img = vms_stream_section(new, (guint)match[i]);
        if (i < n_head) {
            head_seen = true;
            head_end = img->end;
            if (h->open && i == n_head - 1) {
                head_end = img->ram.eos_offset;
                p->start_rest.trailer =
                    slice(nb, eos_offset(img) + 8, img->end);
            }
            prev_end = img->end;
            continue;
        }
        live = (i - n_head) % p->n_live;
        t = i - n_head < p->n_live ? &p->part[live] : &p->end[live];
        if (eos_offset(img) != img->payload_offset) {
            g_set_error(errp, LIVE_ERROR, LIVE_ERROR_TOO_LATE,
                        "the translation puts bytes into the payload of "
                        "every %s record of '%s': not possible in flight",
                        vms_record_type_name(img->type), img->idstr);
            return false;
        }
        t->prefix = slice(nb, prev_end, img->offset);
        t->header = slice(nb, img->offset, img->payload_offset);
        t->trailer = slice(nb, eos_offset(img) + 8, img->end);
        prev_end = img->end;
    }
    if (!head_seen) {
        g_set_error(errp, LIVE_ERROR, LIVE_ERROR_TOO_LATE,
                    "the translation leaves nothing of the stream's head");
        return false;
    }
    p->head_out = slice(nb, 0, head_end);
    if (with_tail) {
        p->tail_out = slice(nb, prev_end, g_bytes_get_size(nb));
    }
    return true;
}

LivePlan *live_plan_new(const LiveHead *h, GBytes *tail, const LiveOptions *o,
                        GError **errp)
{
    g_autoptr(LivePlan) p = g_new0(LivePlan, 1);
    g_autoptr(GBytes) skel = build_skeleton(h, tail);
    g_autoptr(GBytes) nb = NULL;
    VmsSource *src = NULL, *nsrc = NULL;
    g_autoptr(VmsStream) s = NULL;
    g_autoptr(VmsStream) ns = NULL;
    gsize len;
    const uint8_t *data = g_bytes_get_data(skel, &len);
    bool ok;

    for (guint i = 0; i < h->s->sections->len; i++) {
        p->n_live += is_live_start(vms_stream_section(h->s, i));
    }
    p->live_id = g_new0(uint32_t, p->n_live + 1);
    p->part = g_new0(LiveTemplate, p->n_live + 1);
    p->end = g_new0(LiveTemplate, p->n_live + 1);
    for (guint i = 0, k = 0; i < h->s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(h->s, i);
        if (is_live_start(sec)) {
            p->live_id[k++] = sec->section_id;
        }
    }
    s = parse_skeleton(skel, tail ? "stream skeleton" : "stream head", &src,
                       errp);
    if (!s) {
        return NULL;
    }
    p->result = run_rules(s, src, o, errp);
    ok = p->result && check_findings(p, errp);
    if (ok) {
        nb = tr_apply_edits(data, len, p->result->edits, errp);
        ns = nb ? parse_skeleton(nb, "translated skeleton", &nsrc, errp) : NULL;
        ok = ns && partition(p, h, s, ns, nb, tail != NULL, errp);
    }
    if (ok) {
        block_ops(p, s, ns);
    }
    vms_source_free(src);
    vms_source_free(nsrc);
    return ok ? g_steal_pointer(&p) : NULL;
}

static bool same_bytes(GBytes *a, GBytes *b)
{
    if (!a || !b) {
        return !a == !b;
    }
    return g_bytes_equal(a, b);
}

static bool same_template(const LiveTemplate *a, const LiveTemplate *b)
{
    return a->drop == b->drop && same_bytes(a->prefix, b->prefix) &&
           same_bytes(a->header, b->header) &&
           same_bytes(a->trailer, b->trailer);
}

char *live_plan_differs(const LivePlan *head, const LivePlan *full)
{
    if (!same_bytes(head->head_out, full->head_out)) {
        return g_strdup("the translated head (header, START records, RAM "
                        "block list) differs");
    }
    if (head->n_live != full->n_live || head->n_blocks != full->n_blocks) {
        return g_strdup("the live sections or RAM blocks differ");
    }
    if (!same_template(&head->start_rest, &full->start_rest)) {
        return g_strdup("the end of the first START record differs");
    }
    for (guint i = 0; i < head->n_live; i++) {
        if (!same_template(&head->part[i], &full->part[i]) ||
            !same_template(&head->end[i], &full->end[i])) {
            return g_strdup_printf("the PART/END records of section id %u "
                                   "are translated differently",
                                   head->live_id[i]);
        }
    }
    for (guint i = 0; i < head->n_blocks; i++) {
        const LiveBlockOp *a = &head->blocks[i], *b = &full->blocks[i];
        if (a->drop != b->drop || a->cut != b->cut || a->index != b->index ||
            g_strcmp0(a->name, b->name)) {
            return g_strdup_printf("RAM block %u is treated differently", i);
        }
    }
    if (head->expand_fills != full->expand_fills) {
        return g_strdup("R20's fill page expansion differs");
    }
    return NULL;
}

static gint compare_strings(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

/* argv as option units: "-global X=Y", "-no-hpet" */
static void add_units(GPtrArray *units, GPtrArray *args)
{
    for (guint i = 0; i < args->len; i++) {
        const char *a = g_ptr_array_index(args, i);
        const char *next =
            i + 1 < args->len ? g_ptr_array_index(args, i + 1) : NULL;
        if (a[0] == '-' && next && next[0] != '-') {
            g_ptr_array_add(units, g_strdup_printf("%s %s", a, next));
            i++;
        } else {
            g_ptr_array_add(units, g_strdup(a));
        }
    }
}

GPtrArray *live_recipe_units(const TrRecipe *r, const char *const *also)
{
    GPtrArray *units = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) args = tr_recipe_qemu_args(r);

    if (r->machine) {
        g_ptr_array_add(units, g_strdup_printf("-M %s", r->machine));
    }
    if (r->accel) {
        g_ptr_array_add(units, g_strdup_printf("-accel %s", r->accel));
    }
    add_units(units, args);
    if (also) {
        g_autoptr(GPtrArray) extra = g_ptr_array_new();
        for (guint i = 0; also[i]; i++) {
            g_ptr_array_add(extra, (gpointer)also[i]);
        }
        add_units(units, extra);
    }
    g_ptr_array_sort(units, compare_strings);
    return units;
}
