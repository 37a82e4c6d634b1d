/*
 * stream-check: the stream model's invariants on one stream, for the
 * script tests. Input: a raw stream FILE, or IMAGE --snapshot ID|NAME
 * (through the CLI's qcow2 adapter). Prints one JSON object; exit 1 if any
 * check fails, 77 never (the scripts decide what to skip).
 *
 * Checks:
 *   parse      full walk with every device known (no resync)
 *   roundtrip  writing the parsed model gives back the bytes exactly
 *   vmdesc     devices and field sizes equal the VMDESCRIPTION trailer
 *   tail       the tail fast path finds the same device sections, RAM
 *              block list and writer fingerprint as the full walk
 *   resync     with one device's tables hidden (--hide NAME, repeatable),
 *              resync finds exactly the same section boundaries
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>

#include "app/io.h"
#include "json/json.h"
#include "stream/fingerprint.h"
#include "stream/layout.h"
#include "stream/stream.h"
#include "stream/vmdesc.h"
#include "stream/writer.h"

typedef struct Check {
    QjValue *out; /* the object being filled */
    GString *failures;
} Check;

static void fail(Check *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void fail(Check *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (c->failures->len) {
        g_string_append(c->failures, "; ");
    }
    g_string_append_vprintf(c->failures, fmt, ap);
    va_end(ap);
}

static void member_int(QjValue *o, const char *name, int64_t v)
{
    qj_set_int(o, name, v);
}

/* ---- roundtrip: compare what the writer produces with the source --------- */

typedef struct Compare {
    VmsSource *src;
    uint64_t pos;
    uint8_t *buf;
} Compare;

static bool compare_sink(void *opaque, const void *data, size_t len,
                         GError **errp)
{
    Compare *c = opaque;
    const uint8_t *p = data;

    while (len) {
        size_t n = MIN(len, (size_t)1 << 20);
        if (!vms_source_read(c->src, c->pos, c->buf, n, errp)) {
            return false;
        }
        for (size_t i = 0; i < n; i++) {
            if (c->buf[i] != p[i]) {
                g_set_error(errp, VMS_ERROR, VMS_ERROR_INVALID,
                            "written byte at 0x%" PRIx64 " is 0x%02x, the "
                            "stream has 0x%02x",
                            c->pos + i, p[i], c->buf[i]);
                return false;
            }
        }
        c->pos += n;
        p += n;
        len -= n;
    }
    return true;
}

static void check_roundtrip(Check *c, VmsSource *src)
{
    VmsParseOptions o = {.flags = VMS_PARSE_RECORD_PAGES};
    g_autoptr(GError) err = NULL;
    g_autoptr(VmsStream) s = vms_stream_parse(src, &o, &err);
    Compare cmp = {.src = src, .buf = g_malloc(1 << 20)};
    g_autoptr(VmsBuilder) b = vms_builder_new(compare_sink, &cmp);

    if (!s || !vms_stream_write(s, src, b, &err) ||
        !vms_builder_finish(b, &err)) {
        fail(c, "roundtrip: %s", err->message);
    } else if (cmp.pos != src->size) {
        fail(c, "roundtrip: wrote %" PRIu64 " of %" PRIu64 " bytes", cmp.pos,
             src->size);
    }
    member_int(c->out, "roundtrip_bytes", (int64_t)cmp.pos);
    member_int(c->out, "pages", s ? s->pages->len : 0);
    g_free(cmp.buf);
}

/* ---- comparing two parses ------------------------------------------------ */

static bool same_section(const VmsSection *a, const VmsSection *b, bool layouts)
{
    return a->type == b->type && a->offset == b->offset && a->end == b->end &&
           a->section_id == b->section_id && !g_strcmp0(a->idstr, b->idstr) &&
           a->instance_id == b->instance_id && a->version_id == b->version_id &&
           a->payload_offset == b->payload_offset &&
           a->payload_len == b->payload_len &&
           (!layouts || a->layout == b->layout);
}

static guint first_device(const VmsStream *s)
{
    for (guint i = 0; i < s->sections->len; i++) {
        if (vms_stream_section(s, i)->type == VMS_SECTION_FULL) {
            return i;
        }
    }
    return s->sections->len;
}

static void check_tail(Check *c, VmsSource *src, const VmsStream *full)
{
    VmsParseOptions o = {.flags = VMS_PARSE_TAIL | VMS_PARSE_TAIL_ONLY};
    uint64_t before = src->bytes_read;
    g_autoptr(GError) err = NULL;
    g_autoptr(VmsStream) t = vms_stream_parse(src, &o, &err);
    g_autoptr(VmsWriterInfo) wf = NULL, wt = NULL;
    guint ff, ft;

    if (!t) {
        fail(c, "tail: %s", err->message);
        return;
    }
    member_int(c->out, "tail_bytes_read", (int64_t)(src->bytes_read - before));
    ff = first_device(full);
    ft = first_device(t);
    if (full->sections->len - ff != t->sections->len - ft) {
        fail(c, "tail: %u device sections, the full walk %u",
             t->sections->len - ft, full->sections->len - ff);
        return;
    }
    for (guint i = 0; ff + i < full->sections->len; i++) {
        const VmsSection *a = vms_stream_section(full, ff + i);
        const VmsSection *b = vms_stream_section(t, ft + i);
        if (!same_section(a, b, true)) {
            fail(c,
                 "tail: section %u differs ('%s' at 0x%" PRIx64
                 " vs '%s' at 0x%" PRIx64 ")",
                 ff + i, a->idstr, a->offset, b->idstr, b->offset);
            return;
        }
    }
    if (full->ram_blocks->len != t->ram_blocks->len) {
        fail(c, "tail: %u RAM blocks, the full walk %u", t->ram_blocks->len,
             full->ram_blocks->len);
        return;
    }
    for (guint i = 0; i < t->ram_blocks->len; i++) {
        const VmsRamBlock *a = vms_stream_block(full, i);
        const VmsRamBlock *b = vms_stream_block(t, i);
        if (strcmp(a->id, b->id) || a->length != b->length ||
            a->entry_offset != b->entry_offset) {
            fail(c, "tail: RAM block %u differs", i);
            return;
        }
    }
    if (full->eof_offset != t->eof_offset ||
        full->has_vmdesc != t->has_vmdesc) {
        fail(c, "tail: EOF at 0x%" PRIx64 ", full walk 0x%" PRIx64,
             t->eof_offset, full->eof_offset);
    }
    wf = vms_fingerprint(full);
    wt = vms_fingerprint(t);
    if (strcmp(wf->program, wt->program) || strcmp(wf->version, wt->version) ||
        strcmp(wf->accel, wt->accel)) {
        fail(c, "tail: writer %s %s %s, full walk %s %s %s", wt->program,
             wt->version, wt->accel, wf->program, wf->version, wf->accel);
    }
}

static void check_resync(Check *c, VmsSource *src, const VmsStream *full,
                         const char *hide)
{
    VmsLayoutSet *set = vms_layouts_without(vms_layouts_builtin(), hide);
    VmsParseOptions o = {.layouts = set};
    g_autoptr(GError) err = NULL;
    g_autoptr(VmsStream) r = vms_stream_parse(src, &o, &err);
    guint hidden = 0;

    vms_layouts_free(set);
    if (!r) {
        fail(c, "resync without '%s': %s", hide, err->message);
        return;
    }
    if (r->sections->len != full->sections->len) {
        fail(c, "resync without '%s': %u sections, full walk %u", hide,
             r->sections->len, full->sections->len);
        return;
    }
    for (guint i = 0; i < r->sections->len; i++) {
        const VmsSection *a = vms_stream_section(full, i);
        const VmsSection *b = vms_stream_section(r, i);
        bool is_hidden = a->type == VMS_SECTION_FULL &&
                         !strcmp(vms_section_vmsd_name(a), hide);
        if (!same_section(a, b, !is_hidden)) {
            fail(c, "resync without '%s': section %u '%s' differs", hide, i,
                 a->idstr);
            return;
        }
        if (is_hidden) {
            hidden++;
            if (!b->located_by_resync || b->kind != VMS_KIND_OPAQUE) {
                fail(c, "resync without '%s': '%s' not marked opaque", hide,
                     b->idstr);
            }
        }
    }
    if (!hidden) {
        fail(c, "resync: the stream has no '%s' section", hide);
    }
    qj_set_int(c->out, hide, hidden);
}

int main(int argc, char **argv)
{
    g_autofree char *snapshot = NULL;
    g_auto(GStrv) hide = NULL;
    gboolean no_roundtrip = FALSE, no_tail = FALSE;
    GOptionEntry entries[] = {
        {"snapshot", 's', 0, G_OPTION_ARG_STRING, &snapshot, "snapshot", "ID"},
        {"hide", 0, 0, G_OPTION_ARG_STRING_ARRAY, &hide, "resync check",
         "NAME"},
        {"no-roundtrip", 0, 0, G_OPTION_ARG_NONE, &no_roundtrip, "skip", NULL},
        {"no-tail", 0, 0, G_OPTION_ARG_NONE, &no_tail, "skip", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("FILE|IMAGE");
    g_autoptr(GError) err = NULL;
    g_autoptr(QjValue) out = qj_object();
    Check c = {.out = out, .failures = g_string_new(NULL)};
    Qcow2Image *img = NULL;
    VmsSource *src = NULL;
    VmsStream *full = NULL;
    VmsParseOptions strict = {.flags = VMS_PARSE_NO_RESYNC};
    int rc;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || argc != 2) {
        fprintf(stderr, "usage: stream-check [--snapshot ID] [--hide NAME] "
                        "FILE|IMAGE\n");
        return 2;
    }
    if (snapshot) {
        const Qcow2Snapshot *sn;
        img = qcow2_open(argv[1], QCOW2_OPEN_READ_ONLY, &err);
        sn = img ? qcow2_snapshot_find(img, snapshot, &err) : NULL;
        src = sn ? app_qcow2_vmstate_source(img, sn, &err) : NULL;
    } else {
        src = vms_source_open_file(argv[1], &err);
    }
    if (src) {
        full = vms_stream_parse(src, &strict, &err);
    }
    if (!full) {
        fail(&c, "parse: %s", err->message);
    } else {
        VmsVmdescCheck vc;
        member_int(out, "sections", full->sections->len);
        member_int(out, "ram_blocks", full->ram_blocks->len);
        member_int(out, "size", (int64_t)full->size);
        if (full->has_vmdesc) {
            g_clear_error(&err);
            if (vms_stream_check_vmdesc(full, &vc, &err)) {
                member_int(out, "vmdesc_devices", vc.devices);
                member_int(out, "vmdesc_subsections", vc.subsections);
                member_int(out, "vmdesc_opaque", vc.opaque);
            } else {
                fail(&c, "vmdesc: %s", err->message);
            }
        }
        if (!no_roundtrip) {
            check_roundtrip(&c, src);
        }
        if (!no_tail) {
            check_tail(&c, src, full);
        }
        c.out = qj_set_object(out, "resynced");
        for (guint i = 0; hide && hide[i]; i++) {
            check_resync(&c, src, full, hide[i]);
        }
        c.out = out;
    }
    qj_set_str(out, "failures", c.failures->str);
    {
        g_autofree char *text = qj_to_string(out, QJ_COMPACT);
        puts(text);
    }
    rc = c.failures->len ? 1 : 0;
    g_string_free(c.failures, TRUE);
    vms_stream_free(full);
    vms_source_free(src);
    qcow2_close(img);
    return rc;
}
