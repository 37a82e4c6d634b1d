/*
 * The stream container: header, records, footers, EOF and trailer.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "parser.h"

#include <string.h>

void vms_parser_init(Parser *p, VmsSource *src, VmsStream *s,
                     VmsParseFlags flags, const VmsLayoutSet *layouts)
{
    memset(p, 0, sizeof(*p));
    vms_reader_init(&p->r, src);
    p->s = s;
    p->flags = flags;
    p->layouts = layouts ? layouts : vms_layouts_builtin();
    p->live =
        g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    p->last_block = -1;
    p->trials = &p->trials_own;
    if ((flags & VMS_PARSE_RECORD_PAGES) && !s->pages) {
        s->pages = g_array_new(FALSE, FALSE, sizeof(VmsPage));
    }
}

void vms_parser_cleanup(Parser *p)
{
    vms_reader_cleanup(&p->r);
    g_hash_table_destroy(p->live);
    if (p->dead_ends && !p->trial) {
        g_hash_table_destroy(p->dead_ends);
    }
}

static bool prefix_section(const VmsSection *sec, GError **errp)
{
    char *what = vms_section_describe(sec);
    g_prefix_error(errp, "%s: ", what);
    g_free(what);
    return false;
}

/*
 * Files that hold a migration stream inside a container of their own, told
 * by their magic, so that the error says what the file is.
 */
static const char *container_hint(VmsReader *r)
{
    static const struct {
        const char *magic;
        size_t len;
        const char *hint;
    } containers[] = {
        {"LibvirtQemudSave", 16,
         " (a libvirt save image: `virsh save` or managedsave; the stream "
         "follows its header and domain XML)"},
        {"LibvirtQemudPart", 16,
         " (an unfinished libvirt save image: libvirt never completed it)"},
        {"QFI\xfb", 4,
         " (a qcow2 image: its snapshots' VM state is read with --snapshot "
         "or `qsnapfix extract`)"},
    };
    const uint8_t *head = vms_reader_peek_at(r, 0, 16);

    for (size_t i = 0; head && i < G_N_ELEMENTS(containers); i++) {
        if (!memcmp(head, containers[i].magic, containers[i].len)) {
            return containers[i].hint;
        }
    }
    return "";
}

bool vms_parse_header(Parser *p, GError **errp)
{
    uint32_t magic, version;

    if (!vms_reader_be32(&p->r, &magic, errp) ||
        !vms_reader_be32(&p->r, &version, errp)) {
        g_prefix_error(errp, "header: ");
        return false;
    }
    if (magic != VMS_FILE_MAGIC) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_NOT_A_STREAM,
                    "offset 0x0: magic 0x%08x is not QEMU's \"QEVM\": not a "
                    "migration stream%s",
                    magic, container_hint(&p->r));
        return false;
    }
    if (version != VMS_FILE_VERSION) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_NOT_A_STREAM,
                    "offset 0x4: stream format version %u (only version 3 "
                    "exists since QEMU 0.13)",
                    version);
        return false;
    }
    p->s->file_version = version;
    return true;
}

/* ---- records ------------------------------------------------------------- */

static bool read_footer(Parser *p, VmsSection *sec, GError **errp)
{
    const uint8_t *f;
    uint64_t at = p->r.pos;

    if (!p->footers_decided) {
        /*
         * Machine types >= 2.4 put a footer after every section: the first
         * section tells.
         */
        f = vms_reader_peek_at(&p->r, at, 5);
        p->footers_decided = true;
        p->s->has_footers = f && f[0] == VMS_SECTION_FOOTER &&
                            vms_be32(f + 1) == sec->section_id;
    }
    if (!p->s->has_footers) {
        return true;
    }
    f = vms_reader_peek(&p->r, 5, errp);
    if (!f) {
        return false;
    }
    if (f[0] != VMS_SECTION_FOOTER || vms_be32(f + 1) != sec->section_id) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_BAD_RECORD,
                    "offset 0x%" PRIx64 ": section footer expected (0x7e + "
                    "id %u), found 0x%02x%02x%02x%02x%02x: the payload "
                    "layout is probably wrong",
                    at, sec->section_id, f[0], f[1], f[2], f[3], f[4]);
        return false;
    }
    sec->has_footer = true;
    sec->footer_offset = at;
    p->r.pos += 5;
    return true;
}

static bool read_string8(VmsReader *r, char **out, GError **errp)
{
    uint8_t len;
    char *s;

    if (!vms_reader_u8(r, &len, errp)) {
        return false;
    }
    s = g_malloc(len + 1u);
    if (!vms_reader_read(r, s, len, errp)) {
        g_free(s);
        return false;
    }
    s[len] = 0;
    *out = s;
    return true;
}

static bool keep_payload(Parser *p, VmsSection *sec, GError **errp)
{
    sec->payload =
        vms_reader_bytes_at(&p->r, sec->payload_offset, sec->payload_len, errp);
    return sec->payload != NULL;
}

static bool parse_start_full(Parser *p, VmsSection *sec, GError **errp)
{
    VmsReader *r = &p->r;
    const char *name;
    uint8_t len;

    sec->section_id_offset = r->pos;
    if (!vms_reader_be32(r, &sec->section_id, errp)) {
        return false;
    }
    sec->idstr_offset = r->pos;
    if (!vms_reader_u8(r, &len, errp)) {
        return false;
    }
    r->pos--;
    if (!read_string8(r, &sec->idstr, errp)) {
        return false;
    }
    if (!vms_idstr_plausible((const uint8_t *)sec->idstr, len)) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_BAD_RECORD,
                    "offset 0x%" PRIx64 ": section name is not printable "
                    "text: the previous payload was probably misparsed",
                    sec->idstr_offset);
        return false;
    }
    sec->instance_offset = r->pos;
    if (!vms_reader_be32(r, &sec->instance_id, errp)) {
        return false;
    }
    sec->version_offset = r->pos;
    if (!vms_reader_be32(r, &sec->version_id, errp)) {
        return false;
    }
    sec->payload_offset = r->pos;
    name = sec->idstr;

    if (sec->type == VMS_SECTION_START) {
        LiveSection *live = g_new0(LiveSection, 1);
        sec->kind = !strcmp(name, "ram")     ? VMS_KIND_RAM
                    : !strcmp(name, "block") ? VMS_KIND_BLOCK
                                             : VMS_KIND_OPAQUE;
        live->kind = sec->kind;
        live->start_index = sec->index;
        live->idstr = sec->idstr;
        live->instance_id = sec->instance_id;
        live->version_id = sec->version_id;
        g_hash_table_replace(p->live, GUINT_TO_POINTER(sec->section_id), live);
    } else {
        sec->kind = VMS_KIND_DEVICE;
    }
    switch (sec->kind) {
    case VMS_KIND_RAM:
        return vms_parse_ram_payload(p, sec, errp);
    case VMS_KIND_BLOCK:
        return vms_parse_block_payload(p, sec, errp) &&
               keep_payload(p, sec, errp);
    case VMS_KIND_OPAQUE:
        /* An iterative device we do not know (dirty-bitmap, vfio, …). */
        return vms_resync(p, sec, errp) && keep_payload(p, sec, errp);
    default:
        return vms_parse_device_payload(p, sec, errp) &&
               keep_payload(p, sec, errp);
    }
}

static bool parse_part_end(Parser *p, VmsSection *sec, GError **errp)
{
    VmsReader *r = &p->r;
    LiveSection *live;

    sec->section_id_offset = r->pos;
    if (!vms_reader_be32(r, &sec->section_id, errp)) {
        return false;
    }
    sec->payload_offset = r->pos;
    live = g_hash_table_lookup(p->live, GUINT_TO_POINTER(sec->section_id));
    if (!live) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_BAD_RECORD,
                    "offset 0x%" PRIx64 ": %s for section id %u, which no "
                    "START announced",
                    sec->offset, vms_record_type_name(sec->type),
                    sec->section_id);
        return false;
    }
    sec->kind = live->kind;
    sec->start_index = live->start_index;
    sec->idstr = g_strdup(live->idstr);
    sec->instance_id = live->instance_id;
    sec->version_id = live->version_id;
    switch (sec->kind) {
    case VMS_KIND_RAM:
        return vms_parse_ram_payload(p, sec, errp);
    case VMS_KIND_BLOCK:
        return vms_parse_block_payload(p, sec, errp) &&
               keep_payload(p, sec, errp);
    default:
        return vms_resync(p, sec, errp) && keep_payload(p, sec, errp);
    }
}

static bool parse_configuration(Parser *p, VmsSection *sec, GError **errp)
{
    const VmsLayout *l[1];

    sec->kind = VMS_KIND_CONFIGURATION;
    sec->payload_offset = p->r.pos;
    sec->idstr = g_strdup("configuration");
    sec->section_id = UINT32_MAX;
    if (!vms_layouts_lookup(p->layouts, "configuration", 1, l, 1)) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_BAD_PAYLOAD,
                    "no layout for the configuration record");
        return false;
    }
    {
        VmsWalk w;
        bool ok;
        sec->subsections = g_array_new(FALSE, FALSE, sizeof(VmsSubsection));
        vms_walk_init(&w, &p->r, NULL, NULL);
        w.subsections = sec->subsections;
        ok = vms_walk_layout(&w, l[0], 1, errp);
        vms_walk_cleanup(&w);
        if (!ok) {
            return false;
        }
    }
    sec->layout = l[0];
    sec->payload_len = p->r.pos - sec->payload_offset;
    return keep_payload(p, sec, errp);
}

static bool parse_command(Parser *p, VmsSection *sec, GError **errp)
{
    uint16_t len;

    sec->kind = VMS_KIND_COMMAND;
    sec->idstr = g_strdup("command");
    sec->section_id = UINT32_MAX;
    if (!vms_reader_be16(&p->r, &sec->command, errp) ||
        !vms_reader_be16(&p->r, &len, errp)) {
        return false;
    }
    sec->payload_offset = p->r.pos;
    sec->payload_len = len;
    if (!vms_reader_skip(&p->r, len, errp)) {
        return false;
    }
    return keep_payload(p, sec, errp);
}

static bool parse_trailer(Parser *p, GError **errp)
{
    VmsReader *r = &p->r;
    VmsStream *s = p->s;
    const uint8_t *q = vms_reader_peek_at(r, r->pos, 5);

    if (q && q[0] == VMS_VMDESCRIPTION) {
        uint32_t len = vms_be32(q + 1);
        s->vmdesc_offset = r->pos;
        r->pos += 5;
        if (vms_reader_left(r) < len) {
            g_set_error(errp, VMS_ERROR, VMS_ERROR_TRUNCATED,
                        "offset 0x%" PRIx64 ": VM description of %u bytes "
                        "goes past the end of the stream (0x%" PRIx64 ")",
                        s->vmdesc_offset, len, r->limit);
            return false;
        }
        s->vmdesc_json = g_malloc((gsize)len + 1);
        if (!vms_reader_read(r, s->vmdesc_json, len, errp)) {
            return false;
        }
        s->vmdesc_json[len] = 0;
        s->vmdesc_len = len;
        s->has_vmdesc = true;
    }
    s->trailer_offset = r->pos;
    s->trailer = vms_reader_bytes_at(r, r->pos, vms_reader_left(r), errp);
    if (!s->trailer) {
        return false;
    }
    /* Only padding may follow: anything else means a misparse. */
    {
        gsize len;
        const uint8_t *t = g_bytes_get_data(s->trailer, &len);
        for (gsize i = 0; i < len; i++) {
            if (t[i]) {
                g_set_error(errp, VMS_ERROR, VMS_ERROR_BAD_RECORD,
                            "offset 0x%" PRIx64 ": %" G_GSIZE_FORMAT
                            " bytes follow the end of the stream and they "
                            "are not zero padding",
                            s->trailer_offset, len);
                return false;
            }
        }
    }
    r->pos = r->limit;
    return true;
}

bool vms_parse_record(Parser *p, bool *done, GError **errp)
{
    VmsReader *r = &p->r;
    VmsSection *sec;
    uint64_t at = r->pos;
    uint8_t type;
    bool ok;

    *done = false;
    if (!vms_reader_u8(r, &type, NULL)) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_TRUNCATED,
                    "offset 0x%" PRIx64 ": stream ends without an EOF "
                    "record (truncated VM state?)",
                    at);
        return false;
    }
    if (type == VMS_EOF) {
        p->s->has_eof = true;
        p->s->eof_offset = at;
        *done = true;
        return parse_trailer(p, errp);
    }
    if (type != VMS_SECTION_START && type != VMS_SECTION_PART &&
        type != VMS_SECTION_END && type != VMS_SECTION_FULL &&
        type != VMS_CONFIGURATION && type != VMS_COMMAND) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_BAD_RECORD,
                    "offset 0x%" PRIx64 ": 0x%02x is not a record type", at,
                    type);
        if (p->s->sections->len) {
            VmsSection *prev =
                vms_stream_section(p->s, p->s->sections->len - 1);
            char *what = vms_section_describe(prev);
            g_prefix_error(errp, "after %s: ", what);
            g_free(what);
        }
        return false;
    }
    if (type == VMS_CONFIGURATION && p->s->sections->len) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_BAD_RECORD,
                    "offset 0x%" PRIx64 ": configuration record after the "
                    "first section",
                    at);
        return false;
    }
    if (p->stop_at_pages &&
        (type == VMS_SECTION_PART || type == VMS_SECTION_END)) {
        p->stopped = true;
        p->stop_offset = at;
        r->pos = at;
        return true;
    }

    sec = g_new0(VmsSection, 1);
    sec->type = type;
    sec->offset = at;
    sec->index = p->s->sections->len;
    g_ptr_array_add(p->s->sections, sec);
    switch (type) {
    case VMS_SECTION_START:
    case VMS_SECTION_FULL:
        ok = parse_start_full(p, sec, errp);
        break;
    case VMS_SECTION_PART:
    case VMS_SECTION_END:
        ok = parse_part_end(p, sec, errp);
        break;
    case VMS_CONFIGURATION:
        ok = parse_configuration(p, sec, errp);
        break;
    default:
        ok = parse_command(p, sec, errp);
        break;
    }
    if (ok && p->stopped) {
        return true;
    }
    if (ok && type != VMS_CONFIGURATION && type != VMS_COMMAND) {
        r->pos = sec->payload_offset + sec->payload_len;
        ok = read_footer(p, sec, errp);
    }
    if (!ok) {
        return prefix_section(sec, errp);
    }
    sec->end = r->pos;
    return true;
}

bool vms_parse_records(Parser *p, GError **errp)
{
    g_autoptr(GArray) visited =
        p->trial ? g_array_new(FALSE, FALSE, sizeof(uint64_t)) : NULL;
    bool done = false;

    while (!done) {
        uint64_t at = p->r.pos;
        if (visited) {
            if (g_hash_table_contains(p->dead_ends, &at)) {
                break;
            }
            g_array_append_val(visited, at);
        }
        if (!vms_parse_record(p, &done, errp)) {
            break;
        }
        if (p->stopped) {
            return true;
        }
    }
    if (done) {
        return true;
    }
    for (guint i = 0; visited && !p->hit_depth_limit && i < visited->len; i++) {
        uint64_t *key = g_new(uint64_t, 1);
        *key = g_array_index(visited, uint64_t, i);
        g_hash_table_add(p->dead_ends, key);
    }
    if (visited && errp && !*errp) {
        g_set_error(errp, VMS_ERROR, VMS_ERROR_BAD_PAYLOAD,
                    "offset 0x%" PRIx64 ": known not to parse", p->r.pos);
    }
    return false;
}

static VmsStream *parse_full(VmsSource *src, const VmsParseOptions *opts,
                             GError **errp)
{
    VmsStream *s = vms_stream_new(src);
    Parser p;
    bool ok;

    vms_parser_init(&p, src, s, opts ? opts->flags : 0,
                    opts ? opts->layouts : NULL);
    ok = vms_parse_header(&p, errp) && vms_parse_records(&p, errp);
    vms_parser_cleanup(&p);
    if (!ok) {
        g_prefix_error(errp, "%s: ", src->name);
        vms_stream_free(s);
        return NULL;
    }
    return s;
}

VmsStream *vms_stream_parse(VmsSource *src, const VmsParseOptions *opts,
                            GError **errp)
{
    if (opts && (opts->flags & VMS_PARSE_TAIL)) {
        GError *err = NULL;
        VmsStream *s = vms_parse_tail(src, opts, &err);
        if (s || (opts->flags & VMS_PARSE_TAIL_ONLY)) {
            if (!s) {
                g_propagate_error(errp, err);
            }
            return s;
        }
        g_clear_error(&err);
    }
    return parse_full(src, opts, errp);
}
