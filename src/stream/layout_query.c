/*
 * Walking a payload held in memory: the public entry points of the
 * layout interpreter (decode for inspect, find a field for the
 * translator), and the layout accessors.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tables.h"

#include <string.h>

bool vms_layout_walk_bytes(const VmsLayout *l, uint32_t version,
                           const uint8_t *data, size_t len, uint64_t base,
                           VmsFieldVisitor fn, void *opaque, uint64_t *consumed,
                           GError **errp)
{
    /*
     * Offsets in events are absolute: place the bytes at "base" in a
     * virtual source so that reader positions are stream offsets.
     */
    VmsSource *src = vms_source_new_memory(data, len, "payload");
    VmsReader r;
    VmsWalk w;
    bool ok;

    vms_reader_init(&r, src);
    vms_walk_init(&w, &r, fn, opaque);
    w.base = base;
    ok = vms_walk_layout(&w, l, version, errp);
    if (consumed) {
        *consumed = r.pos;
    }
    vms_walk_cleanup(&w);
    vms_reader_cleanup(&r);
    vms_source_free(src);
    return ok;
}

const char *vms_layout_name(const VmsLayout *l)
{
    return l->name;
}

const char *vms_layout_variant(const VmsLayout *l)
{
    return l->variant;
}

bool vms_section_walk(const VmsSection *sec, VmsFieldVisitor fn, void *opaque,
                      GError **errp)
{
    gsize len = 0;
    const uint8_t *data;

    if (!sec->layout || !sec->payload) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_NOT_FOUND,
                    "section '%s' at 0x%" PRIx64 " has no layout (%s)",
                    sec->idstr ? sec->idstr : "?", sec->offset,
                    sec->kind == VMS_KIND_OPAQUE ? "located by resync"
                                                 : "not a device section");
        return false;
    }
    data = g_bytes_get_data(sec->payload, &len);
    return vms_layout_walk_bytes(sec->layout, sec->version_id,
                                 data ? data : (const uint8_t *)"", len,
                                 sec->payload_offset, fn, opaque, NULL, errp);
}

typedef struct FindCtx {
    const char *path;
    const VmsSection *sec;
    VmsFieldLoc *loc;
    bool found;
} FindCtx;

static bool find_visitor(void *opaque, const VmsFieldEvent *ev)
{
    FindCtx *ctx = opaque;

    if (ev->kind == VMS_FIELD_STRUCT_END ||
        ev->kind == VMS_FIELD_SUBSECTION_END || strcmp(ev->path, ctx->path)) {
        return true;
    }
    ctx->found = true;
    ctx->loc->kind = ev->kind;
    ctx->loc->offset = ev->offset;
    ctx->loc->payload_offset = ev->offset - ctx->sec->payload_offset;
    ctx->loc->size = ev->size;
    ctx->loc->value = ev->value;
    return false;
}

bool vms_section_find_field(const VmsSection *sec, const char *path,
                            VmsFieldLoc *loc, GError **errp)
{
    FindCtx ctx = {.path = path, .sec = sec, .loc = loc};

    if (!vms_section_walk(sec, find_visitor, &ctx, errp)) {
        return false;
    }
    if (!ctx.found) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_NOT_FOUND,
                    "section '%s' at 0x%" PRIx64 ": no field '%s'", sec->idstr,
                    sec->offset, path);
        return false;
    }
    return true;
}
