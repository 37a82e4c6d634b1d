/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vmdesc.h"

#include <string.h>

#include "json/json.h"
#include "layout.h"

/* The VM description comes from the stream: any member may be missing or
 * of another type (the accessors then give NULL, an empty list or dflt). */
static uint64_t member_u64(const QjValue *o, const char *name, uint64_t dflt)
{
    return qj_get_uint(o, name, dflt);
}

static const char *member_str(const QjValue *o, const char *name)
{
    const char *s = qj_get_str(o, name);
    return s ? s : "";
}

static uint64_t subsections_size(const QjValue *o, GPtrArray *names);

/* Bytes of one vmdesc field: element size (subsections included) × count. */
static uint64_t field_size(const QjValue *f)
{
    return member_u64(f, "size", 0) * member_u64(f, "array_len", 1);
}

static void collect_nested(const QjValue *o, GPtrArray *names)
{
    const QjValue *fields = qj_get(o, "fields");

    for (guint i = 0; i < qj_length(fields); i++) {
        const QjValue *f = qj_at(fields, i);
        if (qj_get(f, "struct")) {
            const QjValue *st = qj_get(f, "struct");
            collect_nested(st, names);
            subsections_size(st, names);
        }
        if (qj_get(f, "fields")) { /* VMSTATE_WITH_TMP */
            collect_nested(f, names);
        }
    }
}

/* Wire size of an object's subsections; their names go to names. */
static uint64_t subsections_size(const QjValue *o, GPtrArray *names)
{
    const QjValue *subs = qj_get(o, "subsections");
    uint64_t total = 0;

    for (guint i = 0; i < qj_length(subs); i++) {
        const QjValue *sub = qj_at(subs, i);
        const char *name = member_str(sub, "vmsd_name");
        const QjValue *fields = qj_get(sub, "fields");
        total += 1 + 1 + strlen(name) + 4;
        for (guint k = 0; k < qj_length(fields); k++) {
            total += field_size(qj_at(fields, k));
        }
        g_ptr_array_add(names, g_strdup(name));
        collect_nested(sub, names);
        total += subsections_size(sub, names);
    }
    return total;
}

static uint64_t device_size(const QjValue *dev, GPtrArray *names)
{
    const QjValue *fields = qj_get(dev, "fields");
    uint64_t total = 0;

    for (guint i = 0; i < qj_length(fields); i++) {
        total += field_size(qj_at(fields, i));
    }
    collect_nested(dev, names);
    return total + subsections_size(dev, names);
}

/*
 * Old-style handlers and virtio's pseudo-field appear as one opaque field:
 * QEMU does not describe what is inside, subsections included.
 */
static bool has_opaque_field(const QjValue *dev)
{
    const QjValue *fields = qj_get(dev, "fields");

    if (qj_kind(qj_get(dev, "vmsd_name")) == QJ_NULL) { /* absent or null */
        return true;
    }
    for (guint i = 0; i < qj_length(fields); i++) {
        if (!strcmp(member_str(qj_at(fields, i), "type"), "virtio")) {
            return true;
        }
    }
    return false;
}

/* ---- field boundaries --------------------------------------------------- */

/*
 * Every field QEMU describes must start where one of our layout's fields
 * (or array elements) starts: the tables may group fields differently
 * (a struct here, a flat list there) but never cut through one.
 */
typedef struct Boundaries {
    GHashTable *starts; /* payload-relative offsets */
    uint64_t base;
} Boundaries;

static void add_start(Boundaries *b, uint64_t off)
{
    g_hash_table_add(b->starts, GSIZE_TO_POINTER((gsize)off + 1));
}

static bool boundary_visitor(void *opaque, const VmsFieldEvent *ev)
{
    Boundaries *b = opaque;
    uint64_t rel = ev->offset - b->base;

    switch (ev->kind) {
    case VMS_FIELD_INT_ARRAY:
        for (uint32_t i = 0; i < ev->count; i++) {
            add_start(b, rel + (uint64_t)i * ev->elem_size);
        }
        break;
    case VMS_FIELD_STRUCT_END:
        add_start(b, rel + ev->size);
        break;
    default:
        add_start(b, rel);
        break;
    }
    return true;
}

static bool starts_at(Boundaries *b, uint64_t off)
{
    return g_hash_table_contains(b->starts, GSIZE_TO_POINTER((gsize)off + 1));
}

/* Walk QEMU's description of fields from offset pos; false at a field
 * that starts where none of ours does (*bad names it). */
static bool fields_align(Boundaries *b, const QjValue *fields, uint64_t pos,
                         const char **bad, uint64_t *bad_at);

static bool object_aligns(Boundaries *b, const QjValue *o, uint64_t pos,
                          const char **bad, uint64_t *bad_at)
{
    const QjValue *fields = qj_get(o, "fields");
    const QjValue *subs = qj_get(o, "subsections");

    if (!fields_align(b, fields, pos, bad, bad_at)) {
        return false;
    }
    /* Subsections follow the fields; each header is 0x05, name, be32. */
    for (guint i = 0; i < qj_length(fields); i++) {
        pos += field_size(qj_at(fields, i));
    }
    for (guint i = 0; i < qj_length(subs); i++) {
        const QjValue *sub = qj_at(subs, i);
        const char *name = member_str(sub, "vmsd_name");
        uint64_t hdr = 1 + 1 + strlen(name) + 4;
        g_autoptr(GPtrArray) ignored = g_ptr_array_new_with_free_func(g_free);
        if (!starts_at(b, pos)) {
            *bad = name;
            *bad_at = pos;
            return false;
        }
        if (!object_aligns(b, sub, pos + hdr, bad, bad_at)) {
            return false;
        }
        pos += hdr + subsections_size(sub, ignored);
        for (guint k = 0; k < qj_length(qj_get(sub, "fields")); k++) {
            pos += field_size(qj_at(qj_get(sub, "fields"), k));
        }
    }
    return true;
}

static bool fields_align(Boundaries *b, const QjValue *fields, uint64_t pos,
                         const char **bad, uint64_t *bad_at)
{
    for (guint i = 0; i < qj_length(fields); i++) {
        const QjValue *f = qj_at(fields, i);
        uint64_t size = member_u64(f, "size", 0);
        uint64_t n = member_u64(f, "array_len", 1);

        for (uint64_t e = 0; e < n && size; e++) {
            uint64_t at = pos + e * size;
            if (!starts_at(b, at)) {
                *bad = member_str(f, "name");
                *bad_at = at;
                return false;
            }
            if (qj_get(f, "struct") &&
                !object_aligns(b, qj_get(f, "struct"), at, bad, bad_at)) {
                return false;
            }
            if (qj_get(f, "fields") && /* VMSTATE_WITH_TMP */
                !object_aligns(b, f, at, bad, bad_at)) {
                return false;
            }
        }
        pos += size * n;
    }
    return true;
}

static bool check_fields(const VmsSection *sec, const QjValue *dev,
                         GError **errp)
{
    Boundaries b = {.starts = g_hash_table_new(NULL, NULL),
                    .base = sec->payload_offset};
    const char *bad = NULL;
    uint64_t bad_at = 0;
    bool ok;

    add_start(&b, 0);
    ok = vms_section_walk(sec, boundary_visitor, &b, errp) &&
         object_aligns(&b, dev, 0, &bad, &bad_at);
    g_hash_table_destroy(b.starts);
    if (ok || !bad) {
        return ok;
    }
    g_set_error(errp, VMS_ERROR, VMS_ERROR_BAD_PAYLOAD,
                "section '%s' at 0x%" PRIx64 ": field '%s' of the VM "
                "description starts at payload offset %" PRIu64 ", where no "
                "field of layout '%s' starts",
                sec->idstr, sec->offset, bad, bad_at,
                vms_layout_name(sec->layout));
    return false;
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *joined(GPtrArray *names)
{
    GString *s = g_string_new(NULL);
    g_ptr_array_sort(names, cmp_str);
    for (guint i = 0; i < names->len; i++) {
        g_string_append_printf(s, "%s%s", i ? "," : "",
                               (char *)g_ptr_array_index(names, i));
    }
    return g_string_free(s, FALSE);
}

static bool check_device(const VmsSection *sec, const QjValue *dev,
                         VmsVmdescCheck *out, GError **errp)
{
    const char *name = member_str(dev, "name");
    uint64_t instance = member_u64(dev, "instance_id", 0);
    g_autoptr(GPtrArray) want = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func(g_free);
    uint64_t size = device_size(dev, want);
    g_autofree char *want_s = NULL, *got_s = NULL;

    if (strcmp(name, sec->idstr) || instance != sec->instance_id ||
        (qj_kind(qj_get(dev, "version")) != QJ_NULL &&
         member_u64(dev, "version", 0) != sec->version_id)) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_BAD_PAYLOAD,
                    "section at 0x%" PRIx64 " is '%s' instance %u v%u, the "
                    "VM description says '%s' instance %" PRIu64,
                    sec->offset, sec->idstr, sec->instance_id, sec->version_id,
                    name, instance);
        return false;
    }
    if (size != sec->payload_len) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_BAD_PAYLOAD,
                    "section '%s' at 0x%" PRIx64 ": payload is %" PRIu64
                    " bytes, the VM description's fields add up to %" PRIu64,
                    sec->idstr, sec->offset, sec->payload_len, size);
        return false;
    }
    for (guint i = 0; sec->subsections && i < sec->subsections->len; i++) {
        g_ptr_array_add(
            got,
            g_strdup(g_array_index(sec->subsections, VmsSubsection, i).name));
    }
    want_s = joined(want);
    got_s = joined(got);
    if (has_opaque_field(dev)) {
        out->opaque++;
    } else if (sec->layout && !check_fields(sec, dev, errp)) {
        return false;
    } else if (strcmp(want_s, got_s)) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_BAD_PAYLOAD,
                    "section '%s' at 0x%" PRIx64 ": subsections [%s], the VM "
                    "description has [%s]",
                    sec->idstr, sec->offset, got_s, want_s);
        return false;
    }
    out->devices++;
    out->subsections += want->len;
    out->bytes += size;
    return true;
}

bool vms_stream_check_vmdesc(const VmsStream *s, VmsVmdescCheck *out,
                             GError **errp)
{
    g_autoptr(QjValue) root = NULL;
    const QjValue *devices;
    VmsVmdescCheck dummy;
    guint d = 0;
    GError *err = NULL;

    out = out ? out : &dummy;
    memset(out, 0, sizeof(*out));
    if (!s->has_vmdesc) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_NOT_FOUND,
                    "%s: no VM description after EOF", s->name);
        return false;
    }
    root = qj_parse(s->vmdesc_json, s->vmdesc_len, &err);
    if (qj_kind(root) != QJ_OBJECT) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_BAD_RECORD,
                    "%s: offset 0x%" PRIx64 ": VM description is not a JSON "
                    "object%s%s",
                    s->name, s->vmdesc_offset, err ? ": " : "",
                    err ? err->message : "");
        g_clear_error(&err);
        return false;
    }
    devices = qj_get(root, "devices");
    if (qj_kind(devices) != QJ_ARRAY) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_BAD_RECORD,
                    "%s: VM description has no device list", s->name);
        return false;
    }
    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        if (sec->type != VMS_SECTION_FULL) {
            continue;
        }
        if (d >= qj_length(devices)) {
            g_set_error(errp, VMS_ERROR, VMS_ERROR_BAD_PAYLOAD,
                        "%s: section '%s' at 0x%" PRIx64 " is not in the VM "
                        "description",
                        s->name, sec->idstr, sec->offset);
            return false;
        }
        if (!check_device(sec, qj_at(devices, d++), out, errp)) {
            g_prefix_error(errp, "%s: ", s->name);
            return false;
        }
    }
    if (d != qj_length(devices)) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_BAD_PAYLOAD,
                    "%s: the VM description lists %u devices, the stream "
                    "has %u",
                    s->name, qj_length(devices), d);
        return false;
    }
    return true;
}

#define FRAMED_MEMBER "\"qsnapfix-framed-for\": \""

char *vms_vmdesc_framed_for(const char *json)
{
    const char *m = json ? strstr(json, FRAMED_MEMBER) : NULL;
    const char *end = m ? strchr(m + strlen(FRAMED_MEMBER), '"') : NULL;

    return end ? g_strndup(m + strlen(FRAMED_MEMBER),
                           end - m - strlen(FRAMED_MEMBER))
               : NULL;
}

char *vms_vmdesc_mark_framed(const char *json, const char *machine)
{
    const char *m = strstr(json, FRAMED_MEMBER);
    const char *open = strchr(json, '{');

    if (m) { /* replace the name it holds */
        const char *end = strchr(m + strlen(FRAMED_MEMBER), '"');
        return g_strdup_printf("%.*s%s%s",
                               (int)(m - json + strlen(FRAMED_MEMBER)), json,
                               machine, end);
    }
    if (!open) {
        return g_strdup(json);
    }
    const char *rest = open + 1 + strspn(open + 1, " \t\r\n");
    return g_strdup_printf("%.*s%s%s\"%s%s", (int)(open - json + 1), json,
                           FRAMED_MEMBER, machine, *rest == '}' ? "" : ", ",
                           open + 1);
}
