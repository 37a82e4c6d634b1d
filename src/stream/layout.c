/*
 * The layout interpreter: one walk over a payload driven by a table.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tables.h"

#include <stdarg.h>
#include <string.h>

typedef struct WalkValue {
    const char *name; /* in w->names: callers may pass names built on
                         their stack */
    uint64_t value;
    guint depth;
} WalkValue;

typedef struct WalkPart {
    const char *name; /* valid while the part is pushed */
    int64_t index;    /* -1: none */
} WalkPart;

void vms_walk_init(VmsWalk *w, VmsReader *r, VmsFieldVisitor fn, void *opaque)
{
    memset(w, 0, sizeof(*w));
    w->r = r;
    w->payload_start = r->pos;
    w->fn = fn;
    w->opaque = opaque;
    w->path = g_string_new(NULL);
    w->parts = g_array_new(FALSE, FALSE, sizeof(WalkPart));
    w->scope = g_array_new(FALSE, FALSE, sizeof(WalkValue));
    w->names = g_string_chunk_new(256);
}

void vms_walk_cleanup(VmsWalk *w)
{
    g_string_chunk_free(w->names);
    g_string_free(w->path, TRUE);
    g_array_free(w->parts, TRUE);
    g_array_free(w->scope, TRUE);
}

static void append_part(GString *path, const char *name, int64_t index)
{
    if (path->len && name[0] != '[') {
        g_string_append_c(path, '.');
    }
    g_string_append(path, name);
    if (index >= 0) {
        g_string_append_printf(path, "[%" PRId64 "]", index);
    }
}

/* The path of the field being walked, for a message. */
static const char *path_str(VmsWalk *w)
{
    if (!w->fn) { /* not kept while nobody watches: build it now */
        g_string_truncate(w->path, 0);
        for (guint i = 0; i < w->parts->len; i++) {
            const WalkPart *p = &g_array_index(w->parts, WalkPart, i);
            append_part(w->path, p->name, p->index);
        }
    }
    return w->path->str;
}

bool vms_walk_fail(VmsWalk *w, GError **errp, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    path_str(w);
    g_set_error(errp, VMS_ERROR, VMS_ERROR_BAD_PAYLOAD,
                "offset 0x%" PRIx64 ": %s%s%s", w->r->pos + w->base,
                w->path->len ? w->path->str : "", w->path->len ? ": " : "",
                msg);
    g_free(msg);
    return false;
}

static gsize path_push(VmsWalk *w, const char *name, int64_t index)
{
    WalkPart part = {.name = name, .index = index};
    gsize old = w->path->len;

    g_array_append_val(w->parts, part);
    if (w->fn) {
        append_part(w->path, name, index);
    }
    return old;
}

static void path_pop(VmsWalk *w, gsize old)
{
    g_array_set_size(w->parts, w->parts->len - 1);
    if (w->fn) {
        g_string_truncate(w->path, old);
    }
}

static const char *last_component(const VmsWalk *w)
{
    const char *dot = strrchr(w->path->str, '.');
    return dot ? dot + 1 : w->path->str;
}

static bool emit(VmsWalk *w, VmsFieldEvent *ev)
{
    if (!w->fn || w->stopped) {
        return true;
    }
    ev->offset += w->base;
    ev->path = w->path->str;
    ev->name = last_component(w);
    ev->depth = w->depth;
    if (!w->fn(w->opaque, ev)) {
        w->stopped = true;
    }
    return true;
}

static void remember(VmsWalk *w, const char *name, uint64_t value)
{
    WalkValue v = {.name = g_string_chunk_insert(w->names, name),
                   .value = value,
                   .depth = w->depth};
    g_array_append_val(w->scope, v);
}

static void forget_depth(VmsWalk *w, guint depth)
{
    while (w->scope->len &&
           g_array_index(w->scope, WalkValue, w->scope->len - 1).depth >=
               depth) {
        g_array_set_size(w->scope, w->scope->len - 1);
    }
}

bool vms_walk_lookup(VmsWalk *w, const char *name, uint64_t *value)
{
    for (guint i = w->scope->len; i-- > 0;) {
        WalkValue *v = &g_array_index(w->scope, WalkValue, i);
        if (!strcmp(v->name, name)) {
            *value = v->value;
            return true;
        }
    }
    return false;
}

static uint64_t decode_int(const uint8_t *p, unsigned size, bool le,
                           bool is_signed)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        unsigned shift = le ? 8 * i : 8 * (size - 1 - i);
        v |= (uint64_t)p[i] << shift;
    }
    if (is_signed && size < 8 && (v >> (8 * size - 1)) & 1) {
        v |= ~(uint64_t)0 << (8 * size);
    }
    return v;
}

static bool read_int(VmsWalk *w, const char *name, unsigned size,
                     unsigned flags, uint64_t *value, GError **errp)
{
    VmsFieldEvent ev = {.kind = VMS_FIELD_INT};
    const uint8_t *p;
    gsize old = path_push(w, name, -1);

    ev.offset = w->r->pos;
    p = vms_reader_peek(w->r, size, errp);
    if (!p) {
        g_prefix_error(errp, "field '%s': ", path_str(w));
        path_pop(w, old);
        return false;
    }
    *value = decode_int(p, size, flags & VF_LE, flags & VF_SIGNED);
    w->r->pos += size;
    ev.size = ev.elem_size = size;
    ev.is_signed = flags & VF_SIGNED;
    ev.little_endian = flags & VF_LE;
    ev.value = *value;
    emit(w, &ev);
    path_pop(w, old);
    remember(w, name, *value);
    return true;
}

bool vms_walk_int(VmsWalk *w, const char *name, unsigned size, bool is_signed,
                  uint64_t *value, GError **errp)
{
    uint64_t dummy;
    return read_int(w, name, size, is_signed ? VF_SIGNED : 0,
                    value ? value : &dummy, errp);
}

/* Bytes [pos, pos+size) as one event; out gets a copy if non-NULL. */
static bool read_bytes(VmsWalk *w, VmsFieldEventKind kind, const char *name,
                       int64_t index, uint64_t size, uint32_t elem_size,
                       unsigned flags, uint8_t *out, GError **errp)
{
    VmsFieldEvent ev = {.kind = kind};
    gsize old = path_push(w, name, index);
    bool ok;

    ev.offset = w->r->pos;
    ev.size = size;
    ev.elem_size = elem_size;
    ev.count = elem_size ? (uint32_t)(size / elem_size) : 0;
    ev.is_signed = flags & VF_SIGNED;
    ev.little_endian = flags & VF_LE;
    if (w->fn && !w->stopped && size <= VMS_EVENT_BYTES_MAX) {
        ev.bytes = vms_reader_peek(w->r, size, errp);
        if (!ev.bytes) {
            goto fail;
        }
    }
    emit(w, &ev);
    ok = out ? vms_reader_read(w->r, out, size, errp)
             : vms_reader_skip(w->r, size, errp);
    if (!ok) {
        goto fail;
    }
    path_pop(w, old);
    return true;
fail:
    g_prefix_error(errp, "field '%s': ", path_str(w));
    path_pop(w, old);
    return false;
}

bool vms_walk_buffer(VmsWalk *w, const char *name, uint64_t size, uint8_t *out,
                     GError **errp)
{
    return read_bytes(w, VMS_FIELD_BUFFER, name, -1, size, 0, 0, out, errp);
}

static bool walk_fields(VmsWalk *w, const VmsField *fields, uint32_t version,
                        GError **errp);
static bool walk_subsections(VmsWalk *w, const VmsLayout *l, GError **errp);

static bool walk_group(VmsWalk *w, const char *name, int64_t index,
                       const VmsField *f, const VmsLayout *sub, GError **errp)
{
    VmsFieldEvent ev = {.kind = VMS_FIELD_STRUCT_BEGIN};
    gsize old = path_push(w, name, index);
    uint64_t start = w->r->pos;
    bool ok;

    ev.offset = start;
    emit(w, &ev);
    w->depth++;
    if (sub) {
        ok = walk_fields(w, sub->fields, sub->max_version, errp) &&
             walk_subsections(w, sub, errp);
    } else {
        ok = f->custom(w, f, errp);
    }
    forget_depth(w, w->depth);
    w->depth--;
    if (ok) {
        ev.kind = VMS_FIELD_STRUCT_END;
        ev.offset = start;
        ev.size = w->r->pos - start;
        emit(w, &ev);
    }
    path_pop(w, old);
    return ok;
}

bool vms_walk_struct(VmsWalk *w, const char *name, const VmsLayout *l,
                     GError **errp)
{
    return walk_group(w, name, -1, NULL, l, errp);
}

static bool field_present(VmsWalk *w, const VmsField *f, uint32_t version,
                          GError **errp, bool *present)
{
    uint64_t v;

    *present = false;
    if (f->since && version < f->since) {
        return true;
    }
    if (f->until && version > f->until) {
        return true;
    }
    if (f->present_if) {
        if (!vms_walk_lookup(w, f->present_if, &v)) {
            return vms_walk_fail(w, errp, "table error: '%s' needs '%s'",
                                 f->name, f->present_if);
        }
        if (!v) {
            return true;
        }
    }
    *present = true;
    return true;
}

static bool walk_field(VmsWalk *w, const VmsField *f, uint32_t version,
                       GError **errp)
{
    bool present;
    bool is_array = f->count || f->count_from;
    uint64_t count = f->count;

    if (!field_present(w, f, version, errp, &present)) {
        return false;
    }
    if (!present) {
        return true;
    }
    if (f->count_from) {
        if (!vms_walk_lookup(w, f->count_from, &count)) {
            return vms_walk_fail(w, errp, "table error: '%s' needs '%s'",
                                 f->name, f->count_from);
        }
        if (count > (1u << 20)) {
            return vms_walk_fail(w, errp,
                                 "'%s' = %" PRIu64 ": implausible count for "
                                 "'%s'",
                                 f->count_from, count, f->name);
        }
    }

    switch (f->type) {
    case VF_INT:
        if (is_array) {
            return read_bytes(w, VMS_FIELD_INT_ARRAY, f->name, -1,
                              count * f->size, f->size, f->flags, NULL, errp);
        } else {
            uint64_t v;
            if (!read_int(w, f->name, f->size, f->flags, &v, errp)) {
                return false;
            }
            if (f->check_equal && (int64_t)v != f->equal) {
                w->r->pos -= f->size;
                return vms_walk_fail(w, errp,
                                     "'%s' is %" PRId64 ", this layout needs "
                                     "%" PRId64,
                                     f->name, (int64_t)v, f->equal);
            }
            return true;
        }
    case VF_BUFFER:
    case VF_UNUSED:
        return read_bytes(
            w, f->type == VF_BUFFER ? VMS_FIELD_BUFFER : VMS_FIELD_UNUSED,
            f->name, -1, (is_array ? count : 1) * f->size, 0, 0, NULL, errp);
    case VF_STRUCT:
    case VF_CUSTOM:
        if (!is_array) {
            return walk_group(w, f->name, -1, f, f->sub, errp);
        }
        for (uint64_t i = 0; i < count; i++) {
            if (!walk_group(w, f->name, (int64_t)i, f, f->sub, errp)) {
                return false;
            }
        }
        return true;
    default:
        return vms_walk_fail(w, errp, "table error: field type %d", f->type);
    }
}

static bool walk_fields(VmsWalk *w, const VmsField *fields, uint32_t version,
                        GError **errp)
{
    for (const VmsField *f = fields; f && f->type != VF_END; f++) {
        if (w->stopped) {
            return true; /* the visitor has what it wanted */
        }
        if (!walk_field(w, f, version, errp)) {
            return false;
        }
    }
    return true;
}

static const VmsLayout *find_subsection(const VmsLayout *l, const uint8_t *name,
                                        size_t len)
{
    for (const VmsLayout *const *s = l->subsections; s && *s; s++) {
        if (strlen((*s)->name) == len && !memcmp((*s)->name, name, len)) {
            return *s;
        }
    }
    return NULL;
}

/* Subsections as QEMU's loader sees them: 0x05, then a name "<l>/..." */
static bool walk_subsections(VmsWalk *w, const VmsLayout *l, GError **errp)
{
    size_t prefix = strlen(l->name);

    for (;;) {
        uint64_t at = w->r->pos;
        const uint8_t *p = vms_reader_peek_at(w->r, at, 2);
        const uint8_t *name;
        const VmsLayout *sub;
        VmsSubsection rec = {0};
        VmsFieldEvent ev = {.kind = VMS_FIELD_SUBSECTION_BEGIN};
        uint32_t version;
        gsize old;
        bool ok;
        char *bracket;

        if (!p || p[0] != VMS_SUBSECTION || p[1] < prefix + 1) {
            return true;
        }
        name = vms_reader_peek_at(w->r, at + 2, p[1]);
        if (!name || memcmp(name, l->name, prefix)) {
            return true;
        }
        sub = find_subsection(l, name, p[1]);
        if (!sub) {
            return vms_walk_fail(w, errp,
                                 "unknown subsection '%.*s' of '%s' (its "
                                 "length cannot be known)",
                                 (int)p[1], (const char *)name, l->name);
        }
        rec.name = g_strdup(sub->name);
        rec.offset = at;
        w->r->pos = at + 2 + p[1];
        rec.version_offset = w->r->pos;
        if (!vms_reader_be32(w->r, &version, errp)) {
            g_free(rec.name);
            return false;
        }
        if (version > sub->max_version || version < sub->min_version) {
            g_free(rec.name);
            w->r->pos = at;
            return vms_walk_fail(
                w, errp, "subsection '%s' version %u, known: %u..%u", sub->name,
                version, sub->min_version, sub->max_version);
        }
        rec.version = version;
        rec.payload_offset = w->r->pos;

        bracket = g_strdup_printf("[%s]", sub->name);
        old = path_push(w, bracket, -1);
        g_free(bracket);
        ev.offset = at;
        ev.version = version;
        emit(w, &ev);
        w->depth++;
        ok = walk_fields(w, sub->fields, version, errp) &&
             walk_subsections(w, sub, errp);
        forget_depth(w, w->depth);
        w->depth--;
        if (!ok) {
            path_pop(w, old);
            g_free(rec.name);
            return false;
        }
        ev.kind = VMS_FIELD_SUBSECTION_END;
        ev.size = w->r->pos - at;
        emit(w, &ev);
        path_pop(w, old);
        rec.payload_len = w->r->pos - rec.payload_offset;
        rec.offset += w->base;
        rec.version_offset += w->base;
        rec.payload_offset += w->base;
        if (w->subsections) {
            g_array_append_val(w->subsections, rec);
        } else {
            g_free(rec.name);
        }
    }
}

bool vms_walk_layout(VmsWalk *w, const VmsLayout *l, uint32_t version,
                     GError **errp)
{
    if (w->depth == 0) {
        w->version = version;
    }
    return walk_fields(w, l->fields, version, errp) &&
           walk_subsections(w, l, errp);
}

bool vms_walk_at_boundary(VmsWalk *w, uint64_t pos)
{
    const uint8_t *p = vms_reader_peek_at(w->r, pos, 2);

    if (pos == w->r->limit) {
        return true;
    }
    if (p && p[0] == VMS_SUBSECTION && p[1] > 1) {
        const uint8_t *name = vms_reader_peek_at(w->r, pos + 2, p[1]);
        bool printable = name != NULL;
        for (unsigned i = 0; name && i < p[1]; i++) {
            printable &= name[i] > 0x20 && name[i] < 0x7f;
        }
        if (printable && memchr(name, '/', p[1])) {
            return true;
        }
    }
    return w->boundary && w->boundary(w->boundary_ctx, pos + w->base);
}

uint64_t vms_layout_fixed_size(const VmsLayout *l)
{
    uint64_t total = 0;

    if (l->subsections) {
        return 0;
    }
    for (const VmsField *f = l->fields; f->type != VF_END; f++) {
        uint64_t n = f->count ? f->count : 1, one;
        if (f->count_from || f->present_if || f->since || f->until) {
            return 0;
        }
        switch (f->type) {
        case VF_INT:
        case VF_BUFFER:
        case VF_UNUSED:
            one = f->size;
            break;
        case VF_STRUCT:
            one = vms_layout_fixed_size(f->sub);
            if (!one) {
                return 0;
            }
            break;
        default:
            return 0;
        }
        total += n * one;
    }
    return total;
}

/*
 * An array whose length QEMU keeps in memory only (hotplug slots, CPU
 * count): the smallest length after which the payload can end or a
 * subsection starts.
 */
bool vms_custom_fit_array(VmsWalk *w, const VmsField *f, GError **errp)
{
    const VmsLayout *elem = f->arg;
    uint64_t size = vms_layout_fixed_size(elem);
    uint64_t start = w->r->pos;

    if (!size) {
        return vms_walk_fail(w, errp,
                             "table error: '%s' needs fixed-size "
                             "elements",
                             f->name);
    }
    for (uint64_t n = 0; n <= 4096 && start + n * size <= w->r->limit; n++) {
        if (!vms_walk_at_boundary(w, start + n * size)) {
            continue;
        }
        for (uint64_t i = 0; i < n; i++) {
            if (!walk_group(w, "dev", (int64_t)i, NULL, elem, errp)) {
                return false;
            }
        }
        return true;
    }
    return vms_walk_fail(w, errp, "no length of '%s' ends at a boundary",
                         f->name);
}
