/*
 * The stream in flight: head, pages, tail (pipe.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "pipe.h"

#include <inttypes.h>
#include <string.h>

#include "plan.h"
#include "stream/writer.h"

/* The bytes of one block, gathered from its pages as they pass (for the
 * recipe's files). */
typedef struct Capture {
    guint block;
    uint8_t *buf;
    uint64_t len;
} Capture;

typedef struct Pipe {
    const LiveOptions *o;
    const LiveHooks *h;
    LiveResult *res;
    VmsBuilder *out;
    LivePlan *plan;
    GBytes *head; /* the input's head, for the run with the tail */
    LiveHead lh;
    const LiveTemplate *cur;
    int last_out; /* block (new index) of the last page record written */
    GArray *captures;
    uint8_t fill_page[VMS_PAGE_SIZE];
    int fill_byte;
} Pipe;

static bool sink(void *opaque, const void *data, size_t len, GError **errp)
{
    Pipe *p = opaque;

    p->res->stats.bytes_out += len;
    return p->h->write(p->h->opaque, data, len, errp);
}

static void put(Pipe *p, GBytes *b)
{
    gsize len;
    const void *data = b ? g_bytes_get_data(b, &len) : NULL;

    if (data && len) {
        vms_builder_bytes(p->out, data, len);
    }
}

static void capture_init(Pipe *p, const TrRecipe *r)
{
    p->captures = g_array_new(FALSE, TRUE, sizeof(Capture));
    for (guint i = 0; i < r->files->len; i++) {
        const TrFile *f = g_ptr_array_index(r->files, i);
        Capture c = {.block = f->block_index,
                     .buf = g_malloc0(MAX(f->length, 1)),
                     .len = f->length};
        g_array_append_val(p->captures, c);
    }
}

static void capture_page(Pipe *p, const VmsLiveEvent *ev)
{
    for (guint i = 0; i < p->captures->len; i++) {
        Capture *c = &g_array_index(p->captures, Capture, i);
        uint64_t n;

        if (c->block != ev->page.block || ev->page.addr >= c->len) {
            continue;
        }
        n = MIN((uint64_t)VMS_PAGE_SIZE, c->len - ev->page.addr);
        if (ev->page.flags & VMS_RAM_FILL) {
            memset(c->buf + ev->page.addr, ev->page.fill, n);
        } else {
            memcpy(c->buf + ev->page.addr, ev->page_data, n);
        }
    }
}

static bool head(Pipe *p, const VmsLiveEvent *ev, GError **errp)
{
    gint64 t0 = g_get_monotonic_time();

    p->head = g_bytes_new(ev->data, ev->len);
    p->lh =
        (LiveHead){.bytes = g_bytes_get_data(p->head, NULL),
                   .len = ev->len,
                   .s = ev->head,
                   .open = ev->head_open,
                   .has_footers = ev->footers_known && ev->head->has_footers};
    p->plan = live_plan_new(&p->lh, NULL, p->o, errp);
    if (!p->plan) {
        g_prefix_error(errp, "the stream's head: ");
        return false;
    }
    capture_init(p, p->plan->result->recipe);
    p->res->stats.head_usec = g_get_monotonic_time() - t0;
    if (p->h->head && !p->h->head(p->h->opaque, p->plan->result, errp)) {
        return false;
    }
    put(p, p->plan->head_out);
    return vms_builder_finish(p->out, errp);
}

static const LiveTemplate *template_of(Pipe *p, const VmsLiveEvent *ev)
{
    for (guint i = 0; i < p->plan->n_live; i++) {
        if (p->plan->live_id[i] == ev->section_id) {
            return ev->type == VMS_SECTION_END ? &p->plan->end[i]
                                               : &p->plan->part[i];
        }
    }
    return NULL;
}

static bool record(Pipe *p, const VmsLiveEvent *ev, GError **errp)
{
    p->res->stats.records++;
    p->cur = template_of(p, ev);
    if (!p->cur) {
        g_set_error(errp, LIVE_ERROR, LIVE_ERROR_TOO_LATE,
                    "offset 0x%" PRIx64 ": a record of section id %u, "
                    "which the head did not start",
                    ev->offset, ev->section_id);
        return false;
    }
    if (!p->cur->drop) {
        put(p, p->cur->prefix);
        put(p, p->cur->header);
    }
    return true;
}

static const uint8_t *fill_page(Pipe *p, uint8_t byte)
{
    if (p->fill_byte != byte) {
        memset(p->fill_page, byte, sizeof(p->fill_page));
        p->fill_byte = byte;
    }
    return p->fill_page;
}

static bool page(Pipe *p, const VmsLiveEvent *ev, GError **errp)
{
    const LiveBlockOp *op = &p->plan->blocks[ev->page.block];
    unsigned flags = ev->page.flags;
    bool cont = flags & VMS_RAM_CONTINUE;
    bool expand =
        p->plan->expand_fills && (flags & VMS_RAM_FILL) && ev->page.fill != 0;
    bool name = !cont || p->last_out != (int)op->index;

    p->res->stats.pages++;
    capture_page(p, ev);
    if (p->cur->drop) {
        g_set_error(errp, LIVE_ERROR, LIVE_ERROR_TOO_LATE,
                    "offset 0x%" PRIx64 ": a page in a record of section "
                    "id %u, whose records the translation drops",
                    ev->offset, ev->section_id);
        return false;
    }
    if (op->drop || (op->cut && ev->page.addr >= op->cut)) {
        p->res->stats.pages_dropped++;
        return true;
    }
    if (!expand && (cont ? !name : !op->renamed)) {
        vms_builder_bytes(p->out, ev->data, ev->len);
    } else {
        unsigned kind =
            expand ? VMS_RAM_PAGE : flags & (VMS_RAM_PAGE | VMS_RAM_FILL);
        vms_builder_ram_record(p->out, op->name, ev->page.addr,
                               kind | (name ? 0 : VMS_RAM_CONTINUE),
                               expand ? fill_page(p, ev->page.fill)
                                      : ev->page_data);
        p->res->stats.pages_rewritten++;
    }
    p->last_out = (int)op->index;
    return true;
}

static bool data(Pipe *p, const VmsLiveEvent *ev, GError **errp)
{
    if (p->cur->drop) {
        g_set_error(errp, LIVE_ERROR, LIVE_ERROR_TOO_LATE,
                    "offset 0x%" PRIx64 ": block migration data in a "
                    "record of section id %u, which the translation drops "
                    "as empty (give --keep-block-sections)",
                    ev->offset, ev->section_id);
        return false;
    }
    vms_builder_bytes(p->out, ev->data, ev->len);
    return true;
}

static bool record_end(Pipe *p, const VmsLiveEvent *ev, GError **errp)
{
    if (ev->type == VMS_SECTION_START && ev->len > 8) {
        g_set_error(errp, LIVE_ERROR, LIVE_ERROR_TOO_LATE,
                    "offset 0x%" PRIx64 ": a START record with pages and a "
                    "section footer: no QEMU writes that",
                    ev->offset);
        return false;
    }
    if (!p->cur->drop) {
        vms_builder_bytes(p->out, ev->data, 8); /* the EOS as it came */
        put(p, p->cur->trailer);
    }
    return vms_builder_finish(p->out, errp);
}

/* The recipe of the run with the device state is the one written at the
 * head (with the settings the user added). */
static bool same_recipe(Pipe *p, const TrRecipe *final, GError **errp)
{
    const TrRecipe *first = p->plan->result->recipe;
    g_autoptr(GPtrArray) had = live_recipe_units(first, p->o->also);
    g_autoptr(GPtrArray) want = live_recipe_units(final, NULL);
    g_autoptr(GString) missing = g_string_new(NULL);

    for (guint i = 0; i < want->len; i++) {
        const char *u = g_ptr_array_index(want, i);
        if (!g_ptr_array_find_with_equal_func(had, u, g_str_equal, NULL)) {
            g_string_append_printf(missing, "%s'%s'", missing->len ? ", " : "",
                                   u);
        }
    }
    if (missing->len) {
        g_set_error(errp, LIVE_ERROR, LIVE_ERROR_CHANGED,
                    "the device state asks for %s, which the recipe written "
                    "at the head lacks (the head cannot show it): start the "
                    "target with it, give it to qsnapfix with --also, and "
                    "migrate again",
                    missing->str);
        return false;
    }
    if (first->files->len != final->files->len) {
        g_set_error(errp, LIVE_ERROR, LIVE_ERROR_CHANGED,
                    "the device state changes the recipe's files");
        return false;
    }
    return true;
}

static bool tail(Pipe *p, const VmsLiveEvent *ev, VmsLive *l, GError **errp)
{
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(LivePlan) full = NULL;
    g_autofree char *differs = NULL;

    if (p->lh.open && vms_live_has_footers(l) != p->lh.has_footers) {
        g_set_error(errp, LIVE_ERROR, LIVE_ERROR_TOO_LATE,
                    "a START record with pages and section footers: no "
                    "QEMU writes that");
        return false;
    }
    full = live_plan_new(&p->lh, ev->tail, p->o, errp);
    if (!full) {
        g_prefix_error(errp, "the device state: ");
        return false;
    }
    differs = live_plan_differs(p->plan, full);
    if (differs) {
        g_set_error(errp, LIVE_ERROR, LIVE_ERROR_CHANGED,
                    "the device state changes what was decided at the "
                    "head: %s",
                    differs);
        return false;
    }
    if (!same_recipe(p, full->result->recipe, errp)) {
        return false;
    }
    put(p, full->tail_out);
    if (!vms_builder_finish(p->out, errp)) {
        return false;
    }
    p->res->stats.tail_usec = g_get_monotonic_time() - t0;
    p->res->result = g_steal_pointer(&full->result);
    return true;
}

static void finish_files(Pipe *p)
{
    const TrRecipe *r = p->res->result->recipe;

    p->res->files =
        g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    for (guint i = 0; i < r->files->len && i < p->captures->len; i++) {
        Capture *c = &g_array_index(p->captures, Capture, i);
        g_ptr_array_add(p->res->files, g_bytes_new_take(c->buf, c->len));
        c->buf = NULL;
    }
}

bool live_translate(VmsChannel *in, const LiveOptions *o, const LiveHooks *h,
                    LiveResult *res, GError **errp)
{
    g_autoptr(VmsLive) l = vms_live_new(in, NULL);
    Pipe p = {.o = o, .h = h, .res = res, .last_out = -1, .fill_byte = -1};
    VmsLiveEvent ev;
    bool ok = true;

    memset(res, 0, sizeof(*res));
    p.out = vms_builder_new(sink, &p);
    while (ok) {
        ok = vms_live_next(l, &ev, errp);
        if (!ok || ev.kind == VMS_LIVE_DONE) {
            break;
        }
        switch (ev.kind) {
        case VMS_LIVE_HEAD:
            ok = head(&p, &ev, errp);
            break;
        case VMS_LIVE_CONTINUE:
            p.cur = &p.plan->start_rest;
            break;
        case VMS_LIVE_RECORD:
            ok = record(&p, &ev, errp);
            break;
        case VMS_LIVE_PAGE:
            ok = page(&p, &ev, errp);
            break;
        case VMS_LIVE_DATA:
            ok = data(&p, &ev, errp);
            break;
        case VMS_LIVE_RECORD_END:
            ok = record_end(&p, &ev, errp);
            break;
        case VMS_LIVE_TAIL:
            ok = tail(&p, &ev, l, errp);
            break;
        case VMS_LIVE_DONE:
            break;
        }
    }
    res->stats.bytes_in = vms_channel_offset(in);
    if (ok && !res->result) {
        g_set_error(errp, LIVE_ERROR, LIVE_ERROR_TOO_LATE,
                    "the stream ended before its device state");
        ok = false;
    }
    if (ok) {
        finish_files(&p);
    }
    for (guint i = 0; p.captures && i < p.captures->len; i++) {
        g_free(g_array_index(p.captures, Capture, i).buf);
    }
    if (p.captures) {
        g_array_free(p.captures, TRUE);
    }
    vms_builder_free(p.out);
    live_plan_free(p.plan);
    if (p.head) {
        g_bytes_unref(p.head);
    }
    return ok;
}

void live_result_clear(LiveResult *r)
{
    tr_result_free(r->result);
    if (r->files) {
        g_ptr_array_unref(r->files);
    }
    memset(r, 0, sizeof(*r));
}
