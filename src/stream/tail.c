/*
 * The tail fast path: the device sections without walking the RAM pages.
 *
 * The head gives the header, the live sections' START records and the RAM
 * block list; it stops where the first page record (or the first PART of
 * "ram") begins. The device sections sit after the last END of a live
 * section, which (for a savevm stream) carries no pages: "03, id, EOS".
 * Candidates for it are searched from the end of a window at the tail of
 * the stream, latest first; one is accepted only if everything after it
 * parses on to EOF. The window grows (64 KiB to 4 MiB) while nothing fits;
 * then the caller falls back to the full walk.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "parser.h"

#include <string.h>

#define WINDOW_FIRST ((uint64_t)64 << 10)
#define WINDOW_LAST  ((uint64_t)4 << 20)
#define BLOCK_EOS    0x2

/* A source that serves one window from memory and the rest from inner. */
typedef struct Window {
    VmsSource *inner;
    uint64_t start;
    uint8_t *buf;
    size_t len;
} Window;

static bool window_read(VmsSource *src, uint64_t off, void *buf, size_t len,
                        GError **errp)
{
    Window *w = src->opaque;
    if (off >= w->start && off - w->start + len <= w->len) {
        memcpy(buf, w->buf + (off - w->start), len);
        return true;
    }
    return vms_source_read(w->inner, off, buf, len, errp);
}

static const VmsSourceOps window_ops = {.read = window_read};

/* Grow the window to start at new_start (reading only the new bytes). */
static bool window_grow(Window *w, uint64_t new_start, GError **errp)
{
    size_t extra = (size_t)(w->start - new_start);
    uint8_t *buf = g_malloc(w->len + extra);

    if (!vms_source_read(w->inner, new_start, buf, extra, errp)) {
        g_free(buf);
        return false;
    }
    if (w->len) {
        memcpy(buf + extra, w->buf, w->len);
    }
    g_free(w->buf);
    w->buf = buf;
    w->len += extra;
    w->start = new_start;
    return true;
}

static gpointer copy_live(gconstpointer src, gpointer unused)
{
    (void)unused;
    return g_memdup2(src, sizeof(LiveSection));
}

/* Parse from `at` to EOF into a fresh stream sharing the head's state. */
static VmsStream *parse_from(Parser *head, VmsSource *src, uint64_t at)
{
    VmsStream *t = vms_stream_new(src);
    Parser p;
    GHashTableIter it;
    gpointer key, value;
    bool ok;

    vms_parser_init(&p, src, t, head->flags & ~VMS_PARSE_RECORD_PAGES,
                    head->layouts);
    p.footers_decided = head->footers_decided;
    t->has_footers = head->s->has_footers;
    for (guint i = 0; i < head->s->ram_blocks->len; i++) {
        VmsRamBlock b = *vms_stream_block(head->s, i);
        b.id = g_strdup(b.id);
        g_array_append_val(t->ram_blocks, b);
    }
    g_hash_table_iter_init(&it, head->live);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        g_hash_table_insert(p.live, key, copy_live(value, NULL));
    }
    vms_reader_seek(&p.r, at);
    ok = vms_parse_records(&p, NULL);
    vms_parser_cleanup(&p);
    if (!ok) {
        vms_stream_free(t);
        return NULL;
    }
    return t;
}

/* Is there an empty END/PART of a live section at buf[q]? Its length. */
static size_t empty_live_record(Parser *head, const uint8_t *buf, size_t len,
                                size_t q)
{
    size_t n = 13 + (head->s->has_footers ? 5 : 0);
    LiveSection *live;
    uint64_t eos;

    if (q + n > len ||
        (buf[q] != VMS_SECTION_END && buf[q] != VMS_SECTION_PART)) {
        return 0;
    }
    /* The cheap test first: the end-of-section mark of RAM or block. */
    eos = vms_be64(buf + q + 5);
    if (eos != VMS_RAM_EOS && eos != BLOCK_EOS) {
        return 0;
    }
    live = g_hash_table_lookup(head->live,
                               GUINT_TO_POINTER(vms_be32(buf + q + 1)));
    if (!live || eos != (live->kind == VMS_KIND_RAM     ? VMS_RAM_EOS
                         : live->kind == VMS_KIND_BLOCK ? BLOCK_EOS
                                                        : 0)) {
        return 0;
    }
    if (head->s->has_footers &&
        (buf[q + 13] != VMS_SECTION_FOOTER ||
         vms_be32(buf + q + 14) != vms_be32(buf + q + 1))) {
        return 0;
    }
    return n;
}

/* Search the window, latest candidate first. */
static VmsStream *search(Parser *head, Window *w, VmsSource *wsrc,
                         uint64_t head_end)
{
    for (size_t q = w->len; q-- > 0;) {
        const uint8_t *end_mark = memrchr(w->buf, VMS_SECTION_END, q + 1);
        uint64_t at;
        VmsStream *t;

        if (!end_mark) {
            break;
        }
        q = (size_t)(end_mark - w->buf);
        at = w->start + q;
        if (at < head_end || !empty_live_record(head, w->buf, w->len, q)) {
            continue;
        }
        /* Take in the empty live records just before it (END block). */
        while (q >= 13 && w->start + q - 13 >= head_end) {
            size_t m = 13 + (head->s->has_footers ? 5 : 0);
            if (q < m || !empty_live_record(head, w->buf, w->len, q - m)) {
                break;
            }
            q -= m;
        }
        at = w->start + q;
        t = parse_from(head, wsrc, at);
        if (t) {
            t->skipped_to = at;
            return t;
        }
        q = (size_t)(at - w->start); /* resume just before it */
    }
    return NULL;
}

static void merge(VmsStream *s, VmsStream *t, uint64_t head_end)
{
    while (t->sections->len) {
        VmsSection *sec = g_ptr_array_steal_index(t->sections, 0);
        sec->index = s->sections->len;
        g_ptr_array_add(s->sections, sec);
    }
    s->has_eof = t->has_eof;
    s->eof_offset = t->eof_offset;
    /* the head may stop inside its first record, before its footer: the
     * tail's records say whether the stream has them */
    s->has_footers = s->has_footers || t->has_footers;
    s->has_vmdesc = t->has_vmdesc;
    s->vmdesc_offset = t->vmdesc_offset;
    s->vmdesc_len = t->vmdesc_len;
    s->vmdesc_json = g_steal_pointer(&t->vmdesc_json);
    s->trailer = g_steal_pointer(&t->trailer);
    s->trailer_offset = t->trailer_offset;
    s->n_resynced += t->n_resynced;
    s->tail_path = true;
    s->skipped_from = head_end;
    s->skipped_to = t->skipped_to;
}

VmsStream *vms_parse_tail(VmsSource *src, const VmsParseOptions *opts,
                          GError **errp)
{
    VmsStream *s = vms_stream_new(src);
    VmsStream *t = NULL;
    VmsSource *wsrc = NULL;
    Window w = {.inner = src, .start = src->size};
    Parser p;
    uint64_t head_end;

    vms_parser_init(&p, src, s, opts->flags & ~VMS_PARSE_RECORD_PAGES,
                    opts->layouts);
    p.stop_at_pages = true;
    if (!vms_parse_header(&p, errp) || !vms_parse_records(&p, errp)) {
        g_prefix_error(errp, "%s: ", src->name);
        goto fail;
    }
    if (!p.stopped) {
        /* No RAM pages at all: the head was the whole stream. */
        vms_parser_cleanup(&p);
        return s;
    }
    head_end = p.stop_offset;
    if (s->sections->len) {
        VmsSection *last = vms_stream_section(s, s->sections->len - 1);
        if (!last->end) { /* cut where the pages begin */
            last->end = head_end;
            last->payload_len = head_end - last->payload_offset;
        }
    }
    wsrc = vms_source_new(&window_ops, &w, src->size, src->name);
    for (uint64_t size = WINDOW_FIRST; !t; size *= 2) {
        uint64_t start = src->size > size ? src->size - size : 0;
        start = MAX(start, head_end);
        if (start < w.start && !window_grow(&w, start, errp)) {
            goto fail;
        }
        t = search(&p, &w, wsrc, head_end);
        if (t || start == head_end || size >= WINDOW_LAST) {
            break;
        }
    }
    if (!t) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_BAD_PAYLOAD,
                    "%s: tail path: no device sections found in the last "
                    "0x%zx bytes",
                    src->name, w.len);
        goto fail;
    }
    merge(s, t, head_end);
    vms_stream_free(t);
    vms_source_free(wsrc);
    g_free(w.buf);
    vms_parser_cleanup(&p);
    return s;
fail:
    vms_source_free(wsrc);
    g_free(w.buf);
    vms_parser_cleanup(&p);
    vms_stream_free(s);
    return NULL;
}
