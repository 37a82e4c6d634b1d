/*
 * Reading a migration stream as it flows (live.h): a buffered channel and
 * the forward-only decoder of its head, live records and tail.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "live.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "parser.h"

/* ---- channel ----------------------------------------------------------- */

/* Room for the largest record read in one piece: a block-migration chunk
 * (1 MiB) with its header; the buffer grows beyond it only for the head. */
#define CHANNEL_BUF  ((size_t)4 << 20)
#define BLOCK_CHUNK  ((size_t)1 << 20)
#define HEAD_FIRST   ((size_t)64 << 10)
#define FOOTER_LEN   5
#define FLAG_MASK    ((uint64_t)VMS_PAGE_SIZE - 1)
#define BLK_DEVICE   0x01
#define BLK_EOS      0x02
#define BLK_PROGRESS 0x04
#define BLK_ZERO     0x08

struct VmsChannel {
    VmsChannelReadFn read;
    void *opaque;
    char *name;
    uint8_t *buf;
    size_t cap;
    size_t start, end; /* valid bytes: buf[start, end) */
    uint64_t consumed;
    bool eof;
    GDestroyNotify destroy; /* of opaque, or NULL */
};

VmsChannel *vms_channel_new(VmsChannelReadFn read, void *opaque,
                            const char *name)
{
    VmsChannel *c = g_new0(VmsChannel, 1);

    c->read = read;
    c->opaque = opaque;
    c->name = g_strdup(name ? name : "stream");
    c->cap = CHANNEL_BUF;
    c->buf = g_malloc(c->cap);
    return c;
}

static gssize fd_read(void *opaque, void *buf, size_t len, GError **errp)
{
    int fd = GPOINTER_TO_INT(opaque);

    for (;;) {
        ssize_t n = read(fd, buf, len);
        if (n >= 0) {
            return n;
        }
        if (errno != EINTR) {
            g_set_error(errp, VMS_ERROR, VMS_ERROR_IO, "read: %s",
                        g_strerror(errno));
            return -1;
        }
    }
}

VmsChannel *vms_channel_new_fd(int fd, const char *name)
{
    return vms_channel_new(fd_read, GINT_TO_POINTER(fd), name);
}

typedef struct MemoryInput {
    const uint8_t *data;
    size_t len, pos, chunk;
} MemoryInput;

static gssize memory_read(void *opaque, void *buf, size_t len, GError **errp)
{
    MemoryInput *m = opaque;
    size_t n = MIN(MIN(len, m->chunk), m->len - m->pos);

    (void)errp;
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return (gssize)n;
}

VmsChannel *vms_channel_new_memory(const void *data, size_t len, size_t chunk,
                                   const char *name)
{
    MemoryInput *m = g_new0(MemoryInput, 1);
    VmsChannel *c = vms_channel_new(memory_read, m, name);

    m->data = data;
    m->len = len;
    m->chunk = chunk ? chunk : len;
    c->destroy = g_free;
    return c;
}

void vms_channel_free(VmsChannel *c)
{
    if (c) {
        if (c->destroy) {
            c->destroy(c->opaque);
        }
        g_free(c->buf);
        g_free(c->name);
        g_free(c);
    }
}

uint64_t vms_channel_offset(const VmsChannel *c)
{
    return c->consumed;
}

/*
 * Have at least n bytes buffered, unless the input ends first: returns the
 * bytes available (< n only at the end), or -1 on a read error.
 */
static gssize channel_ensure(VmsChannel *c, size_t n, GError **errp)
{
    while (c->end - c->start < n && !c->eof) {
        gssize got;

        if (c->cap - c->start < n) {
            /* make room: move the valid bytes down, grow if still short */
            memmove(c->buf, c->buf + c->start, c->end - c->start);
            c->end -= c->start;
            c->start = 0;
            if (c->cap < n) {
                c->cap = MAX(n, c->cap * 2);
                c->buf = g_realloc(c->buf, c->cap);
            }
        }
        got = c->read(c->opaque, c->buf + c->end, c->cap - c->end, errp);
        if (got < 0) {
            g_prefix_error(errp, "%s: offset 0x%" PRIx64 ": ", c->name,
                           c->consumed + (c->end - c->start));
            return -1;
        }
        if (got == 0) {
            c->eof = true;
        }
        c->end += (size_t)got;
    }
    return (gssize)MIN(n, c->end - c->start);
}

static const uint8_t *channel_peek(VmsChannel *c, size_t n, GError **errp)
{
    gssize got = channel_ensure(c, n, errp);

    if (got < 0) {
        return NULL;
    }
    if ((size_t)got < n) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_TRUNCATED,
                    "%s: offset 0x%" PRIx64 ": the stream ends %zu bytes "
                    "into a record of %zu (the sender stopped?)",
                    c->name, c->consumed, (size_t)got, n);
        return NULL;
    }
    return c->buf + c->start;
}

static void channel_consume(VmsChannel *c, size_t n)
{
    g_assert(n <= c->end - c->start);
    c->start += n;
    c->consumed += n;
}

/* ---- decoder ----------------------------------------------------------- */

typedef enum {
    STATE_HEAD,
    STATE_CONTINUE, /* HEAD given; the open START goes on */
    STATE_RECORDS,  /* between records */
    STATE_IN_RAM,
    STATE_IN_BLOCK,
    STATE_DONE,
} State;

typedef struct LiveInfo {
    VmsSectionKind kind;
    guint start_index;
} LiveInfo;

struct VmsLive {
    VmsChannel *in;
    VmsParseOptions opts;
    State state;
    size_t pending; /* bytes of the last event, consumed on the next call */
    VmsStream *head;
    bool head_open;
    GHashTable *live;   /* section id -> LiveInfo */
    GHashTable *blocks; /* block id -> index + 1 */
    int last_block;     /* block of the previous page record (CONTINUE) */
    bool footers_known;
    bool has_footers;
    /* the record being read */
    VmsRecordType type;
    uint32_t id;
    const LiveInfo *info;
    GBytes *tail;
};

VmsLive *vms_live_new(VmsChannel *in, const VmsParseOptions *opts)
{
    VmsLive *l = g_new0(VmsLive, 1);

    l->in = in;
    if (opts) {
        l->opts = *opts;
    }
    l->live =
        g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    l->blocks = g_hash_table_new(g_str_hash, g_str_equal);
    l->last_block = -1;
    return l;
}

void vms_live_free(VmsLive *l)
{
    if (!l) {
        return;
    }
    g_hash_table_destroy(l->blocks);
    g_hash_table_destroy(l->live);
    vms_stream_free(l->head);
    if (l->tail) {
        g_bytes_unref(l->tail);
    }
    g_free(l);
}

bool vms_live_has_footers(const VmsLive *l)
{
    return l->has_footers;
}

static bool fail_at(VmsLive *l, uint64_t at, VmsErrorCode code, GError **errp,
                    const char *fmt, ...) G_GNUC_PRINTF(5, 6);

static bool fail_at(VmsLive *l, uint64_t at, VmsErrorCode code, GError **errp,
                    const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(errp, VMS_ERROR, code, "%s: offset 0x%" PRIx64 ": %s",
                l->in->name, at, msg);
    l->state = STATE_DONE;
    return false;
}

/*
 * Parse the head from the first n buffered bytes: the batch parser, told
 * to stop at the first page record. *more: it ran out of bytes.
 */
static VmsStream *parse_head(VmsLive *l, size_t n, uint64_t *head_end,
                             bool *more, GError **errp)
{
    VmsSource *src =
        vms_source_new_memory(l->in->buf + l->in->start, n, l->in->name);
    VmsStream *s = vms_stream_new(src);
    GError *err = NULL;
    Parser p;
    bool ok;

    *more = false;
    vms_parser_init(&p, src, s,
                    (l->opts.flags & ~VMS_PARSE_RECORD_PAGES) |
                        VMS_PARSE_NO_RESYNC,
                    l->opts.layouts);
    p.stop_at_pages = true;
    ok = vms_parse_header(&p, &err) && vms_parse_records(&p, &err);
    if (ok && !p.stopped) {
        g_set_error(&err, VMS_ERROR, VMS_ERROR_UNSUPPORTED,
                    "the stream ends without any RAM page record or live "
                    "section record: nothing to read as it flows");
        ok = false;
    }
    if (ok) {
        GHashTableIter it;
        gpointer key, value;
        VmsSection *last = s->sections->len
                               ? vms_stream_section(s, s->sections->len - 1)
                               : NULL;

        *head_end = p.stop_offset;
        l->head_open = last && !last->end;
        if (l->head_open) { /* the START "ram" goes on with its pages */
            last->end = p.stop_offset;
            last->payload_len = p.stop_offset - last->payload_offset;
        }
        l->footers_known = p.footers_decided;
        l->has_footers = s->has_footers;
        g_hash_table_iter_init(&it, p.live);
        while (g_hash_table_iter_next(&it, &key, &value)) {
            const LiveSection *ls = value;
            LiveInfo *info = g_new0(LiveInfo, 1);
            info->kind = ls->kind;
            info->start_index = ls->start_index;
            g_hash_table_insert(l->live, key, info);
        }
    }
    vms_parser_cleanup(&p);
    vms_source_free(src);
    if (!ok) {
        /* a short buffer fails in many ways: more bytes decide */
        *more = !l->in->eof && n < VMS_LIVE_HEAD_MAX;
        if (*more) {
            g_clear_error(&err);
        } else {
            g_propagate_prefixed_error(errp, err, "%s: ", l->in->name);
        }
        vms_stream_free(s);
        return NULL;
    }
    return s;
}

static bool read_head(VmsLive *l, VmsLiveEvent *ev, GError **errp)
{
    size_t want = HEAD_FIRST;
    uint64_t head_end = 0;

    for (;;) {
        gssize got = channel_ensure(l->in, want, errp);
        bool more;

        if (got < 0) {
            return false;
        }
        l->head = parse_head(l, (size_t)got, &head_end, &more, errp);
        if (l->head) {
            break;
        }
        if (!more) {
            l->state = STATE_DONE;
            return false;
        }
        if ((size_t)got < want && l->in->eof) {
            return fail_at(l, (uint64_t)got, VMS_ERROR_TRUNCATED, errp,
                           "the stream ends inside its head");
        }
        want = MIN(want * 2, VMS_LIVE_HEAD_MAX);
    }
    for (guint i = 0; i < l->head->ram_blocks->len; i++) {
        g_hash_table_insert(l->blocks, vms_stream_block(l->head, i)->id,
                            GUINT_TO_POINTER(i + 1));
    }
    ev->kind = VMS_LIVE_HEAD;
    ev->offset = 0;
    ev->data = l->in->buf + l->in->start;
    ev->len = (size_t)head_end;
    ev->head = l->head;
    ev->head_open = l->head_open;
    ev->footers_known = l->footers_known;
    l->pending = (size_t)head_end;
    l->state = l->head_open ? STATE_CONTINUE : STATE_RECORDS;
    return true;
}

static void describe_record(VmsLive *l, VmsLiveEvent *ev)
{
    ev->type = l->type;
    ev->section_id = l->id;
    ev->section_kind = l->info->kind;
    ev->start_index = l->info->start_index;
}

/* The EOS of the record being read, with its footer. */
static bool record_end(VmsLive *l, VmsLiveEvent *ev, uint64_t at, GError **errp)
{
    size_t n = 8;
    const uint8_t *p;

    if (!l->footers_known || l->has_footers) {
        gssize got = channel_ensure(l->in, 8 + FOOTER_LEN, errp);
        if (got < 0) {
            return false;
        }
        p = l->in->buf + l->in->start;
        bool footer = got == 8 + FOOTER_LEN && p[8] == VMS_SECTION_FOOTER &&
                      vms_be32(p + 9) == l->id;
        if (!l->footers_known) {
            l->footers_known = true;
            l->has_footers = footer;
        } else if (!footer) {
            return fail_at(l, at + 8, VMS_ERROR_BAD_RECORD, errp,
                           "section footer expected (0x7e + id %u)", l->id);
        }
        n += footer ? FOOTER_LEN : 0;
    }
    describe_record(l, ev);
    ev->kind = VMS_LIVE_RECORD_END;
    ev->data = l->in->buf + l->in->start;
    ev->len = n;
    l->pending = n;
    l->state = STATE_RECORDS;
    return true;
}

static bool ram_record(VmsLive *l, VmsLiveEvent *ev, GError **errp)
{
    uint64_t at = vms_channel_offset(l->in);
    const uint8_t *p = channel_peek(l->in, 8, errp);
    uint64_t word, addr;
    unsigned flags;
    size_t need = 8;
    int block = l->last_block;
    const VmsRamBlock *b;

    if (!p) {
        l->state = STATE_DONE;
        return false;
    }
    word = vms_be64(p);
    flags = (unsigned)(word & FLAG_MASK);
    addr = word & ~FLAG_MASK;
    switch (flags & ~(unsigned)VMS_RAM_CONTINUE) {
    case VMS_RAM_EOS:
        return record_end(l, ev, at, errp);
    case VMS_RAM_FILL:
    case VMS_RAM_PAGE:
        break;
    case VMS_RAM_MEM_SIZE:
        return fail_at(l, at, VMS_ERROR_UNSUPPORTED, errp,
                       "a second RAM block list (MEM_SIZE)");
    case VMS_RAM_XBZRLE:
        return fail_at(l, at, VMS_ERROR_UNSUPPORTED, errp,
                       "XBZRLE-encoded page: migrate without the xbzrle "
                       "capability");
    case VMS_RAM_COMPRESS_PAGE:
        return fail_at(l, at, VMS_ERROR_UNSUPPORTED, errp,
                       "zlib-compressed page: migrate without the "
                       "compress capability");
    default:
        return fail_at(l, at, VMS_ERROR_BAD_RAM, errp,
                       "RAM record flags 0x%x are not a known combination",
                       flags);
    }
    if (!(flags & VMS_RAM_CONTINUE)) {
        if (!(p = channel_peek(l->in, 9, errp))) {
            l->state = STATE_DONE;
            return false;
        }
        need += 1 + p[8];
    }
    need += (flags & VMS_RAM_FILL) ? 1 : VMS_PAGE_SIZE;
    if (!(p = channel_peek(l->in, need, errp))) {
        l->state = STATE_DONE;
        return false;
    }
    if (!(flags & VMS_RAM_CONTINUE)) {
        g_autofree char *name = g_strndup((const char *)p + 9, p[8]);
        block = GPOINTER_TO_INT(g_hash_table_lookup(l->blocks, name)) - 1;
        if (block < 0) {
            return fail_at(l, at, VMS_ERROR_BAD_RAM, errp,
                           "page for RAM block '%s', which the block list "
                           "does not have",
                           name);
        }
    } else if (block < 0) {
        return fail_at(l, at, VMS_ERROR_BAD_RAM, errp,
                       "page record says CONTINUE but no page came before");
    }
    b = vms_stream_block(l->head, (guint)block);
    if (addr >= b->length) {
        return fail_at(l, at, VMS_ERROR_BAD_RAM, errp,
                       "page at 0x%" PRIx64 " of RAM block '%s' lies beyond "
                       "its length 0x%" PRIx64,
                       addr, b->id, b->length);
    }
    l->last_block = block;
    describe_record(l, ev);
    ev->kind = VMS_LIVE_PAGE;
    ev->data = p;
    ev->len = need;
    ev->page = (VmsPage){.offset = at,
                         .addr = addr,
                         .block = (uint32_t)block,
                         .flags = (uint16_t)flags,
                         .fill = (flags & VMS_RAM_FILL) ? p[need - 1] : 0};
    ev->page_data = p + need - ((flags & VMS_RAM_FILL) ? 1 : VMS_PAGE_SIZE);
    l->pending = need;
    return true;
}

static bool block_record(VmsLive *l, VmsLiveEvent *ev, GError **errp)
{
    uint64_t at = vms_channel_offset(l->in);
    const uint8_t *p = channel_peek(l->in, 8, errp);
    unsigned flags;
    size_t need = 8;

    if (!p) {
        l->state = STATE_DONE;
        return false;
    }
    flags = (unsigned)(vms_be64(p) & 0x1ff);
    if (flags & BLK_EOS) {
        return record_end(l, ev, at, errp);
    }
    if (flags & BLK_DEVICE) {
        if (!(p = channel_peek(l->in, 9, errp))) {
            l->state = STATE_DONE;
            return false;
        }
        need += 1 + p[8] + ((flags & BLK_ZERO) ? 0 : BLOCK_CHUNK);
    } else if (!(flags & BLK_PROGRESS)) {
        return fail_at(l, at, VMS_ERROR_BAD_RECORD, errp,
                       "block migration record flags 0x%x are not known",
                       flags);
    }
    if (!(p = channel_peek(l->in, need, errp))) {
        l->state = STATE_DONE;
        return false;
    }
    describe_record(l, ev);
    ev->kind = VMS_LIVE_DATA;
    ev->data = p;
    ev->len = need;
    l->pending = need;
    return true;
}

/* Everything from here to the end of the input. */
static bool read_tail(VmsLive *l, VmsLiveEvent *ev, GError **errp)
{
    uint64_t at = vms_channel_offset(l->in);
    GByteArray *t = g_byte_array_new();

    for (;;) {
        gssize got = channel_ensure(l->in, l->in->cap - l->in->start, errp);
        if (got < 0) {
            g_byte_array_unref(t);
            l->state = STATE_DONE;
            return false;
        }
        if (t->len + (size_t)got > VMS_LIVE_TAIL_MAX) {
            g_byte_array_unref(t);
            return fail_at(l, at, VMS_ERROR_UNSUPPORTED, errp,
                           "more than %zu MiB of device state after the "
                           "RAM: too much to hold",
                           VMS_LIVE_TAIL_MAX >> 20);
        }
        g_byte_array_append(t, l->in->buf + l->in->start, (guint)got);
        channel_consume(l->in, (size_t)got);
        if (l->in->eof && l->in->start == l->in->end) {
            break;
        }
    }
    l->tail = g_byte_array_free_to_bytes(t);
    ev->kind = VMS_LIVE_TAIL;
    ev->offset = at;
    ev->tail = l->tail;
    ev->data = g_bytes_get_data(l->tail, &ev->len);
    l->state = STATE_DONE;
    return true;
}

static bool next_record(VmsLive *l, VmsLiveEvent *ev, GError **errp)
{
    uint64_t at = vms_channel_offset(l->in);
    gssize got = channel_ensure(l->in, 5, errp);
    const uint8_t *p = l->in->buf + l->in->start;

    if (got < 0) {
        l->state = STATE_DONE;
        return false;
    }
    if (got == 0) {
        return fail_at(l, at, VMS_ERROR_TRUNCATED, errp,
                       "the stream ends without an EOF record");
    }
    if (p[0] != VMS_SECTION_PART && p[0] != VMS_SECTION_END) {
        return read_tail(l, ev, errp);
    }
    if (got < 5) {
        return fail_at(l, at, VMS_ERROR_TRUNCATED, errp,
                       "the stream ends inside a record header");
    }
    l->type = p[0];
    l->id = vms_be32(p + 1);
    l->info = g_hash_table_lookup(l->live, GUINT_TO_POINTER(l->id));
    if (!l->info) {
        return fail_at(l, at, VMS_ERROR_BAD_RECORD, errp,
                       "%s for section id %u, which no START announced",
                       vms_record_type_name(l->type), l->id);
    }
    if (l->info->kind != VMS_KIND_RAM && l->info->kind != VMS_KIND_BLOCK) {
        return fail_at(l, at, VMS_ERROR_UNSUPPORTED, errp,
                       "live section '%s' (id %u) is not 'ram' or 'block': its "
                       "records cannot be delimited as they flow",
                       vms_stream_section(l->head, l->info->start_index)->idstr,
                       l->id);
    }
    describe_record(l, ev);
    ev->kind = VMS_LIVE_RECORD;
    ev->data = p;
    ev->len = 5;
    l->pending = 5;
    l->state = l->info->kind == VMS_KIND_RAM ? STATE_IN_RAM : STATE_IN_BLOCK;
    return true;
}

bool vms_live_next(VmsLive *l, VmsLiveEvent *ev, GError **errp)
{
    memset(ev, 0, sizeof(*ev));
    channel_consume(l->in, l->pending);
    l->pending = 0;
    ev->offset = vms_channel_offset(l->in);
    switch (l->state) {
    case STATE_HEAD:
        return read_head(l, ev, errp);
    case STATE_CONTINUE: {
        VmsSection *start =
            vms_stream_section(l->head, l->head->sections->len - 1);
        l->type = VMS_SECTION_START;
        l->id = start->section_id;
        l->info = g_hash_table_lookup(l->live, GUINT_TO_POINTER(l->id));
        describe_record(l, ev);
        ev->kind = VMS_LIVE_CONTINUE;
        l->state = STATE_IN_RAM;
        return true;
    }
    case STATE_RECORDS:
        return next_record(l, ev, errp);
    case STATE_IN_RAM:
        return ram_record(l, ev, errp);
    case STATE_IN_BLOCK:
        return block_record(l, ev, errp);
    case STATE_DONE:
        ev->kind = VMS_LIVE_DONE;
        return true;
    }
    return true;
}
