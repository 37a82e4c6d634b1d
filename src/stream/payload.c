/*
 * Device payloads: choosing the layout that explains a payload, and
 * deciding whether a record could start at an offset (what tells a
 * right layout from a wrong one, and guides resync).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "parser.h"

#include <string.h>

#define MAX_IDSTR_INSTANCE    0xffffU
#define MAX_PLAUSIBLE_VERSION 10000U /* i6300esb_wdt writes 10000 */

/* ---- plausibility of a record start -------------------------------------- */

bool vms_idstr_plausible(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x21 || s[i] > 0x7e) {
            return false;
        }
    }
    return len > 0;
}

static bool eof_plausible(Parser *p, uint64_t at)
{
    VmsReader *r = &p->r;
    const uint8_t *q;

    if (at + 1 == r->limit) {
        return true;
    }
    q = vms_reader_peek_at(r, at + 1, 5);
    if (q && q[0] == VMS_VMDESCRIPTION) {
        uint64_t len = vms_be32(q + 1);
        const uint8_t *j = vms_reader_peek_at(r, at + 6, 1);
        return at + 6 + len <= r->limit && j && j[0] == '{';
    }
    return false;
}

/*
 * Versions are small numbers, except where a table knows a large one: the
 * 93xx EEPROM's vmstate is versioned by date (20061113).
 */
static bool version_plausible(Parser *p, const char *idstr, size_t len,
                              uint32_t version)
{
    const VmsLayout *l;
    const char *slash;
    char name[256];

    if (version <= MAX_PLAUSIBLE_VERSION) {
        return true;
    }
    memcpy(name, idstr, len);
    name[len] = '\0';
    slash = strrchr(name, '/');
    return vms_layouts_lookup(p->layouts, slash ? slash + 1 : name, version, &l,
                              1) > 0;
}

static bool full_header_plausible(Parser *p, uint64_t at)
{
    VmsReader *r = &p->r;
    const uint8_t *q = vms_reader_peek_at(r, at, 6);
    const uint8_t *id;
    size_t len;

    if (!q || vms_be32(q + 1) > MAX_IDSTR_INSTANCE) {
        return false;
    }
    len = q[5];
    id = vms_reader_peek_at(r, at + 6, len + 8);
    if (!id || !vms_idstr_plausible(id, len)) {
        return false;
    }
    return vms_be32(id + len) <= MAX_IDSTR_INSTANCE &&
           version_plausible(p, (const char *)id, len, vms_be32(id + len + 4));
}

bool vms_record_plausible(Parser *p, uint64_t at, uint32_t section_id)
{
    const uint8_t *q = vms_reader_peek_at(&p->r, at, 1);

    if (!q) {
        return false;
    }
    if (p->s->has_footers && section_id != UINT32_MAX) {
        const uint8_t *f = vms_reader_peek_at(&p->r, at, 5);
        if (!f || f[0] != VMS_SECTION_FOOTER || vms_be32(f + 1) != section_id) {
            return false;
        }
        at += 5;
        q = vms_reader_peek_at(&p->r, at, 1);
        if (!q) {
            return false;
        }
    }
    switch (q[0]) {
    case VMS_EOF:
        return eof_plausible(p, at);
    case VMS_SECTION_START:
    case VMS_SECTION_FULL:
        return full_header_plausible(p, at);
    case VMS_SECTION_PART:
    case VMS_SECTION_END: {
        const uint8_t *id = vms_reader_peek_at(&p->r, at + 1, 4);
        return id &&
               g_hash_table_contains(p->live, GUINT_TO_POINTER(vms_be32(id)));
    }
    default:
        /* COMMAND records belong to live migration (postcopy), never to a
         * savevm stream: not a place to resynchronise at. */
        return false;
    }
}

/* ---- device payloads ----------------------------------------------------- */

static void clear_subsections(GArray *subs, guint from)
{
    for (guint i = from; i < subs->len; i++) {
        g_free(g_array_index(subs, VmsSubsection, i).name);
    }
    g_array_set_size(subs, from);
}

typedef struct BoundaryCtx {
    Parser *p;
    uint32_t section_id;
} BoundaryCtx;

static bool record_boundary(void *opaque, uint64_t pos)
{
    BoundaryCtx *ctx = opaque;
    return vms_record_plausible(ctx->p, pos, ctx->section_id);
}

/*
 * Try each layout the tables offer for this (vmsd, version); keep the
 * first whose payload ends where a plausible record starts.
 */
bool vms_parse_device_payload(Parser *p, VmsSection *sec, GError **errp)
{
    const VmsLayout *cands[8];
    guint n = vms_layouts_lookup(p->layouts, vms_section_vmsd_name(sec),
                                 sec->version_id, cands, G_N_ELEMENTS(cands));
    g_autoptr(GError) first_err = NULL;

    sec->subsections = g_array_new(FALSE, FALSE, sizeof(VmsSubsection));
    for (guint i = 0; i < n; i++) {
        VmsWalk w;
        GError *err = NULL;
        bool ok;

        BoundaryCtx ctx = {.p = p, .section_id = sec->section_id};

        vms_reader_seek(&p->r, sec->payload_offset);
        vms_walk_init(&w, &p->r, NULL, NULL);
        w.subsections = sec->subsections;
        w.boundary = record_boundary;
        w.boundary_ctx = &ctx;
        ok = vms_walk_layout(&w, cands[i], sec->version_id, &err);
        vms_walk_cleanup(&w);
        if (ok && p->r.pos >= p->r.limit) {
            ok = false;
            g_set_error(&err, VMS_ERROR, VMS_ERROR_TRUNCATED,
                        "offset 0x%" PRIx64 ": the stream ends after this "
                        "section, without an EOF record (truncated VM "
                        "state?)",
                        p->r.pos);
        } else if (ok && !vms_record_plausible(p, p->r.pos, sec->section_id)) {
            ok = false;
            g_set_error(&err, VMS_ERROR, VMS_ERROR_BAD_PAYLOAD,
                        "offset 0x%" PRIx64 ": layout '%s'%s%s%s v%u ends "
                        "here, but no record starts here",
                        p->r.pos, cands[i]->name, cands[i]->variant ? " (" : "",
                        cands[i]->variant ? cands[i]->variant : "",
                        cands[i]->variant ? ")" : "", sec->version_id);
        }
        if (ok) {
            sec->kind = VMS_KIND_DEVICE;
            sec->layout = cands[i];
            sec->payload_len = p->r.pos - sec->payload_offset;
            return true;
        }
        clear_subsections(sec->subsections, 0);
        if (!first_err) {
            first_err = err;
        } else {
            /* Say why every variant failed, in table order. */
            char *joined =
                g_strdup_printf("%s; or %s", first_err->message, err->message);
            g_free(first_err->message);
            first_err->message = joined;
            g_error_free(err);
        }
    }

    /*
     * A layout that ran off the end of the stream says "truncated", not
     * "unknown device": resync would take the last zero byte for EOF.
     */
    if (first_err &&
        g_error_matches(first_err, VMS_ERROR, VMS_ERROR_TRUNCATED)) {
        g_propagate_error(errp, g_steal_pointer(&first_err));
        return false;
    }
    if (p->flags & VMS_PARSE_NO_RESYNC) {
        if (first_err) {
            g_propagate_error(errp, g_steal_pointer(&first_err));
        } else {
            g_set_error(errp, VMS_ERROR, VMS_ERROR_BAD_PAYLOAD,
                        "offset 0x%" PRIx64 ": no layout for '%s' version %u "
                        "(unknown device; its length cannot be known)",
                        sec->payload_offset, vms_section_vmsd_name(sec),
                        sec->version_id);
        }
        return false;
    }
    if (!vms_resync(p, sec, errp)) {
        if (first_err && errp && *errp) {
            g_prefix_error(errp, "%s; ", first_err->message);
        }
        return false;
    }
    return true;
}
