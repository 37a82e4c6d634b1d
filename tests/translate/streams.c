/*
 * Synthetic streams and the translation harness (see streams.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "streams.h"

#include "stream/bytes.h"
#include "stream/layout.h"
#include "translate/rules.h"

VmsBuilder *ts_begin(GByteArray *out, uint32_t ram_id,
                     const VmsBlockSpec *blocks, guint n)
{
    VmsBuilder *b = vms_builder_new_bytes(out);

    vms_builder_header(b);
    vms_builder_section(b, VMS_SECTION_START, ram_id, "ram", 0, 4);
    vms_builder_ram_mem_size(b, blocks, n);
    return b;
}

void ts_ram_end(VmsBuilder *b)
{
    vms_builder_ram_eos(b);
}

void ts_full(VmsBuilder *b, uint32_t id, const char *idstr, uint32_t instance,
             uint32_t version, const void *payload, size_t len)
{
    vms_builder_section(b, VMS_SECTION_FULL, id, idstr, instance, version);
    vms_builder_bytes(b, payload, len);
}

GBytes *ts_stream_with(const TsDev *devs, guint n)
{
    static const VmsBlockSpec ram[] = {{"pc.ram", KiB(64)}};
    g_autoptr(GByteArray) out = g_byte_array_new();
    VmsBuilder *b = ts_begin(out, 2, ram, G_N_ELEMENTS(ram));

    vms_builder_ram_fill(b, "pc.ram", 0, 0);
    ts_ram_end(b);
    for (guint i = 0; i < n; i++) {
        gsize len = devs[i].len;
        g_autofree uint8_t *zeros = g_malloc0(len ? len : 1);
        const void *p =
            devs[i].payload ? g_bytes_get_data(devs[i].payload, &len) : zeros;
        ts_full(b, 10 + i, devs[i].idstr, devs[i].instance, devs[i].version, p,
                len);
    }
    return ts_finish(b, out);
}

GBytes *ts_finish(VmsBuilder *b, GByteArray *out)
{
    g_autoptr(GError) err = NULL;

    vms_builder_eof(b);
    g_assert_true(vms_builder_finish(b, &err));
    g_assert_no_error(err);
    vms_builder_free(b);
    return g_bytes_new(out->data, out->len);
}

GBytes *ts_pci_device(uint16_t vendor, uint16_t device, uint16_t class_code,
                      uint8_t revision, size_t extra)
{
    g_autoptr(GByteArray) p = g_byte_array_new();
    uint8_t version[4] = {0, 0, 0, 2};
    uint8_t config[256] = {0};
    uint8_t irq[16] = {0};
    g_autofree uint8_t *zeros = g_malloc0(extra ? extra : 1);

    config[0] = vendor;
    config[1] = vendor >> 8;
    config[2] = device;
    config[3] = device >> 8;
    config[8] = revision;
    config[0x0a] = class_code;
    config[0x0b] = class_code >> 8;
    g_byte_array_append(p, version, 4);
    g_byte_array_append(p, config, 256);
    g_byte_array_append(p, irq, 16);
    g_byte_array_append(p, zeros, (guint)extra);
    return g_byte_array_free_to_bytes(g_steal_pointer(&p));
}

static void put_be(GByteArray *p, uint64_t v, unsigned n)
{
    for (unsigned i = n; i-- > 0;) {
        uint8_t x = (uint8_t)(v >> (8 * i));
        g_byte_array_append(p, &x, 1);
    }
}

GBytes *ts_uhci_v2(void)
{
    gsize len;
    g_autofree uint8_t *p = g_bytes_unref_to_data(
        ts_pci_device(0x8086, 0x7020, 0x0c03, 1, 35), &len);
    p[276] = 2;
    return g_bytes_new(p, len);
}

GBytes *ts_virtio_balloon(uint16_t class_code)
{
    g_autoptr(GBytes) pci = ts_pci_device(0x1af4, 0x1002, class_code, 0, 0);
    g_autoptr(GByteArray) p = g_byte_array_new();
    gsize n;
    const uint8_t *d = g_bytes_get_data(pci, &n);
    uint8_t config[8] = {0};

    g_byte_array_append(p, d, (guint)n);
    put_be(p, 0, 1); /* status */
    put_be(p, 0, 1); /* isr */
    put_be(p, 0, 2); /* queue_sel */
    put_be(p, 0, 4); /* guest_features */
    put_be(p, sizeof(config), 4);
    g_byte_array_append(p, config, sizeof(config));
    put_be(p, 3, 4); /* queues */
    for (int q = 0; q < 3; q++) {
        put_be(p, 128, 4);
        put_be(p, 0, 8);
        put_be(p, 0, 2);
    }
    put_be(p, 0, 4); /* num_pages */
    put_be(p, 0, 4); /* actual */
    return g_byte_array_free_to_bytes(g_steal_pointer(&p));
}

uint8_t *ts_qxl_rom_page(uint32_t modes_offset, uint32_t n_modes)
{
    uint8_t *page = g_malloc0(4096);

    vms_put_le32(page, 0x4f525851); /* "QXRO" */
    vms_put_le32(page + 24, modes_offset);
    if (modes_offset + 4 <= 4096) {
        vms_put_le32(page + modes_offset, n_modes);
        for (uint32_t m = 0; m < n_modes; m++) {
            uint64_t at = modes_offset + 4 + (uint64_t)m * 32;
            if (at + 4 <= 4096) {
                vms_put_le32(page + at, m); /* mode id */
            }
        }
    }
    return page;
}

TrOptions ts_target(const char *name)
{
    TrOptions o = {.target = tr_target_find(name)};

    g_assert_nonnull(o.target);
    return o;
}

uint64_t ts_field_value(const VmsStream *s, const char *idstr, int64_t instance,
                        const char *path)
{
    const VmsSection *sec = vms_stream_find_section(s, idstr, instance);
    VmsFieldLoc loc;
    g_autoptr(GError) err = NULL;

    g_assert_nonnull(sec);
    g_assert_true(vms_section_find_field(sec, path, &loc, &err));
    g_assert_no_error(err);
    return loc.value;
}

void ts_assert_findings_from_table(const TrResult *r)
{
    for (guint i = 0; i < r->findings->len; i++) {
        const TrFinding *f = g_ptr_array_index(r->findings, i);
        const TrRule *rule = tr_rule_find(f->rule);
        if (!rule) {
            g_error("finding of rule '%s' (%s): not in the rule table", f->rule,
                    f->subject);
        }
        g_assert_cmpstr(f->title, ==, rule->title);
        if (!(rule->actions & (1u << f->action))) {
            g_error("%s %s: action '%s' is not one the rule declares", f->rule,
                    f->subject, tr_action_name(f->action));
        }
        if (f->action == TR_ACTION_REFUSE &&
            !!f->way_out + !!f->no_way_out != 1) {
            g_error("%s %s: a refusal names a way out or says why there is "
                    "none (way out %s, none because %s)",
                    f->rule, f->subject, f->way_out, f->no_way_out);
        }
        if (f->way_out && !f->risk) {
            g_error("%s %s: way out %s without its risk", f->rule, f->subject,
                    f->way_out);
        }
    }
}

TsRun *ts_run(GBytes *bytes, const TrOptions *opts)
{
    g_autoptr(GError) err = NULL;
    TsRun *run = g_new0(TsRun, 1);
    VmsParseOptions popts = {.flags = VMS_PARSE_RECORD_PAGES};
    gsize len;
    const void *data = g_bytes_get_data(bytes, &len);

    run->bytes = g_bytes_ref(bytes);
    run->src = vms_source_new_memory(data, len, "test.mig");
    run->s = vms_stream_parse(run->src, &popts, &err);
    g_assert_no_error(err);
    g_assert_nonnull(run->s);
    run->r = tr_translate(run->s, run->src, opts, &err);
    g_assert_no_error(err);
    g_assert_nonnull(run->r);
    ts_assert_findings_from_table(run->r);
    return run;
}

TsRun *ts_run_without_pages(GBytes *bytes, const TrOptions *opts)
{
    g_autoptr(GError) err = NULL;
    TsRun *run = g_new0(TsRun, 1);
    VmsParseOptions popts = {.flags = VMS_PARSE_TAIL};
    TrOptions o = {0};
    gsize len;
    const void *data = g_bytes_get_data(bytes, &len);

    if (opts) {
        o = *opts;
    }
    o.no_page_data = true;
    run->bytes = g_bytes_ref(bytes);
    run->src = vms_source_new_memory(data, len, "test.mig");
    run->s = vms_stream_parse(run->src, &popts, &err);
    g_assert_no_error(err);
    g_assert_nonnull(run->s);
    g_assert_null(run->s->pages);
    run->r = tr_translate(run->s, run->src, &o, &err);
    g_assert_no_error(err);
    g_assert_nonnull(run->r);
    ts_assert_findings_from_table(run->r);
    return run;
}

guint ts_assert_decided_alike(const TsRun *with_pages,
                              const TsRun *without_pages)
{
    const TrResult *a = with_pages->r, *b = without_pages->r;
    guint undecided = 0;

    g_assert_cmpuint(a->findings->len, ==, b->findings->len);
    for (guint i = 0; i < a->findings->len; i++) {
        const TrFinding *x = g_ptr_array_index(a->findings, i);
        const TrFinding *y = g_ptr_array_index(b->findings, i);
        g_assert_false(x->needs_pages);
        g_assert_cmpstr(x->rule, ==, y->rule);
        g_assert_cmpstr(x->subject, ==, y->subject);
        if (y->needs_pages) {
            g_assert_cmpint(y->action, ==, TR_ACTION_NOTE);
            undecided++;
            continue;
        }
        g_assert_cmpstr(x->evidence, ==, y->evidence);
        g_assert_cmpint(x->action, ==, y->action);
        g_assert_cmpstr(x->change, ==, y->change);
    }
    g_assert_true(tr_result_undecided(a) == NULL);
    g_assert_true((tr_result_undecided(b) != NULL) == (undecided > 0));
    if (!undecided) {
        g_autofree char *la = tr_recipe_command_line(a->recipe);
        g_autofree char *lb = tr_recipe_command_line(b->recipe);
        g_assert_cmpint(a->refused, ==, b->refused);
        g_assert_cmpstr(la, ==, lb);
    }
    return undecided;
}

void ts_run_free(TsRun *run)
{
    if (!run) {
        return;
    }
    tr_result_free(run->r);
    vms_stream_free(run->s);
    vms_source_free(run->src);
    g_bytes_unref(run->bytes);
    g_free(run);
}

GBytes *ts_apply(const TsRun *run)
{
    g_autoptr(GError) err = NULL;
    gsize len;
    const uint8_t *data = g_bytes_get_data(run->bytes, &len);
    GBytes *out = tr_apply_edits(data, len, run->r->edits, &err);

    g_assert_no_error(err);
    g_assert_cmpuint(g_bytes_get_size(out), ==, run->r->new_size);
    return out;
}

const TrFinding *ts_finding(const TrResult *r, const char *rule,
                            const char *subject)
{
    for (guint i = 0; i < r->findings->len; i++) {
        const TrFinding *f = g_ptr_array_index(r->findings, i);
        if (!strcmp(f->rule, rule) &&
            (!subject || !g_strcmp0(f->subject, subject))) {
            return f;
        }
    }
    return NULL;
}

TsRun *ts_rerun(const TsRun *run, const TrOptions *opts)
{
    g_autoptr(GBytes) fixed = ts_apply(run);
    TsRun *again = ts_run(fixed, opts);

    for (guint i = 0; i < again->r->findings->len; i++) {
        const TrFinding *f = g_ptr_array_index(again->r->findings, i);
        if (f->action == TR_ACTION_EDIT || f->action == TR_ACTION_REFUSE) {
            g_error("second run: %s %s still %s: %s", f->rule, f->subject,
                    tr_action_name(f->action), f->evidence);
        }
    }
    g_assert_false(again->r->refused);
    g_assert_cmpuint(again->r->edits->len, ==, 0);
    return again;
}
