/*
 * Unit tests of R23 (qemu-10.0 target: XSAVE components outside the
 * guest's XCR0) on builder-made streams: a "cpu" v12 section whose
 * env.xcr0 and env.xstate_bv sit where the cpu layout's own walk puts
 * them. It fires on stray components and clears exactly those bits; it
 * leaves x87/SSE and components the guest enabled alone; not for
 * qemu-7.2; a second run over the result has nothing to do.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "stream/layout.h"
#include "streams.h"

#define XSTATE_X87  0x1u
#define XSTATE_SSE  0x2u
#define XSTATE_AVX  0x4u
#define XSTATE_PKRU 0x200u

static const VmsBlockSpec small_ram[] = {{"pc.ram", KiB(64)}};

static TrOptions q10(void)
{
    return ts_target("qemu-10.0");
}

typedef struct XsaveFields {
    int64_t xcr0_at, xstate_bv_at; /* payload offsets, -1: not seen */
} XsaveFields;

static bool find_xsave_fields(void *opaque, const VmsFieldEvent *ev)
{
    XsaveFields *x = opaque;

    if (ev->kind == VMS_FIELD_INT && !strcmp(ev->path, "env.xcr0")) {
        x->xcr0_at = (int64_t)ev->offset;
    } else if (ev->kind == VMS_FIELD_INT &&
               !strcmp(ev->path, "env.xstate_bv")) {
        x->xstate_bv_at = (int64_t)ev->offset;
    }
    return true;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int k = 0; k < 8; k++) {
        p[k] = (uint8_t)(v >> (56 - 8 * k));
    }
}

/* A cpu v12 payload of zeros (no subsections) but for the two fields. */
static GBytes *cpu_payload(uint64_t xcr0, uint64_t xstate_bv)
{
    const VmsLayout *layouts[4];
    guint n = vms_layouts_lookup(vms_layouts_builtin(), "cpu", 12, layouts,
                                 G_N_ELEMENTS(layouts));
    g_autofree uint8_t *zeros = g_malloc0(KiB(64));
    XsaveFields at = {-1, -1};
    uint64_t len = 0;
    g_autoptr(GError) err = NULL;

    g_assert_cmpuint(n, >=, 1);
    g_assert_true(vms_layout_walk_bytes(layouts[0], 12, zeros, KiB(64), 0,
                                        find_xsave_fields, &at, &len, &err));
    g_assert_no_error(err);
    g_assert_cmpint(at.xcr0_at, >, 0);
    g_assert_cmpint(at.xstate_bv_at, ==, at.xcr0_at + 8);
    g_assert_cmpuint(len, >, (uint64_t)at.xstate_bv_at + 8);
    put_be64(zeros + at.xcr0_at, xcr0);
    put_be64(zeros + at.xstate_bv_at, xstate_bv);
    return g_bytes_new(zeros, len);
}

/* RAM, then one cpu section per (xcr0, xstate_bv) pair, instances 0.. */
static GBytes *cpu_stream(const uint64_t (*cpus)[2], guint n_cpus)
{
    g_autoptr(GByteArray) out = g_byte_array_new();
    VmsBuilder *b = ts_begin(out, 2, small_ram, G_N_ELEMENTS(small_ram));

    vms_builder_ram_fill(b, "pc.ram", 0, 0);
    ts_ram_end(b);
    for (guint i = 0; i < n_cpus; i++) {
        g_autoptr(GBytes) cpu = cpu_payload(cpus[i][0], cpus[i][1]);
        gsize len;
        const void *p = g_bytes_get_data(cpu, &len);
        ts_full(b, 10 + i, "cpu", i, 12, p, len);
    }
    return ts_finish(b, out);
}

static uint64_t cpu_field(const VmsStream *s, uint32_t instance,
                          const char *path)
{
    return ts_field_value(s, "cpu", instance, path);
}

static guint count_findings(const TrResult *r, const char *rule)
{
    guint n = 0;

    for (guint i = 0; i < r->findings->len; i++) {
        const TrFinding *f = g_ptr_array_index(r->findings, i);
        n += !strcmp(f->rule, rule);
    }
    return n;
}

static void test_r23_clears_components_the_guest_never_enabled(void)
{
    /* x87-only guest on a host with protection keys: PKRU leaked */
    const uint64_t cpus[][2] = {
        {XSTATE_X87, XSTATE_X87 | XSTATE_SSE | XSTATE_PKRU}};
    g_autoptr(GBytes) in = cpu_stream(cpus, G_N_ELEMENTS(cpus));
    TrOptions o = q10();
    g_autoptr(TsRun) run = ts_run(in, &o);
    const TrFinding *f = ts_finding(run->r, "R23", "cpu");

    g_assert_nonnull(f);
    g_assert_cmpint(f->action, ==, TR_ACTION_EDIT);
    g_assert_cmpuint(f->n_edits, ==, 1);
    g_assert_nonnull(strstr(f->evidence, "xstate_bv 0x203"));
    g_assert_nonnull(strstr(f->evidence, "components 0x200"));
    g_assert_nonnull(strstr(f->evidence, "xcr0 0x1 "));
    g_assert_nonnull(strstr(f->change, "0x203 -> 0x3"));
    g_assert_cmpuint(cpu_field(run->s, 0, "env.xstate_bv"), ==, 0x203);

    g_autoptr(TsRun) again = ts_rerun(run, &o);
    g_assert_null(ts_finding(again->r, "R23", NULL));
    g_assert_cmpuint(cpu_field(again->s, 0, "env.xstate_bv"), ==,
                     XSTATE_X87 | XSTATE_SSE);
    g_assert_cmpuint(cpu_field(again->s, 0, "env.xcr0"), ==, XSTATE_X87);
}

static void test_r23_fires_per_cpu_with_stray_components(void)
{
    const uint64_t cpus[][2] = {
        {XSTATE_X87 | XSTATE_SSE | XSTATE_AVX, XSTATE_X87 | XSTATE_AVX},
        {XSTATE_X87 | XSTATE_SSE, XSTATE_SSE | XSTATE_AVX | XSTATE_PKRU},
    };
    g_autoptr(GBytes) in = cpu_stream(cpus, G_N_ELEMENTS(cpus));
    TrOptions o = q10();
    g_autoptr(TsRun) run = ts_run(in, &o);
    const TrFinding *f = ts_finding(run->r, "R23", NULL);

    g_assert_cmpuint(count_findings(run->r, "R23"), ==, 1);
    g_assert_nonnull(strstr(f->evidence, "instance 1"));
    g_assert_nonnull(strstr(f->evidence, "components 0x204"));
    g_autoptr(TsRun) again = ts_rerun(run, &o);
    g_assert_cmpuint(cpu_field(again->s, 0, "env.xstate_bv"), ==,
                     XSTATE_X87 | XSTATE_AVX);
    g_assert_cmpuint(cpu_field(again->s, 1, "env.xstate_bv"), ==, XSTATE_SSE);
}

static void test_r23_leaves_components_within_xcr0(void)
{
    const uint64_t cpus[][2] = {
        /* every component in use is enabled */
        {XSTATE_X87 | XSTATE_SSE | XSTATE_AVX | XSTATE_PKRU,
         XSTATE_X87 | XSTATE_AVX | XSTATE_PKRU},
        /* SSE beyond an x87-only xcr0: legacy state loads regardless */
        {XSTATE_X87, XSTATE_X87 | XSTATE_SSE},
        /* nothing in use */
        {XSTATE_X87, 0},
    };
    g_autoptr(GBytes) in = cpu_stream(cpus, G_N_ELEMENTS(cpus));
    TrOptions o = q10();
    g_autoptr(TsRun) run = ts_run(in, &o);

    g_assert_null(ts_finding(run->r, "R23", NULL));
    /* R18/R19 frame the stream; no edit reaches into a cpu payload */
    for (guint c = 0; c < G_N_ELEMENTS(cpus); c++) {
        const VmsSection *cpu = vms_stream_find_section(run->s, "cpu", c);
        uint64_t from = cpu->payload_offset;
        uint64_t to = from + cpu->payload_len;
        for (guint i = 0; i < run->r->edits->len; i++) {
            const TrEdit *e = &g_array_index(run->r->edits, TrEdit, i);
            g_assert_true(e->offset >= to || e->offset + e->old_length <= from);
        }
    }
}

static void test_r23_not_for_qemu72(void)
{
    const uint64_t cpus[][2] = {
        {XSTATE_X87, XSTATE_X87 | XSTATE_SSE | XSTATE_PKRU}};
    g_autoptr(GBytes) in = cpu_stream(cpus, G_N_ELEMENTS(cpus));
    g_autoptr(TsRun) run = ts_run(in, NULL);

    g_assert_null(ts_finding(run->r, "R23", NULL));
    g_assert_cmpuint(run->r->edits->len, ==, 0);
    g_assert_false(run->r->refused);
}

static void test_r23_for_qemu20_too(void)
{
    /* 2.0 hands the header to KVM as 10.0 does, and ignores the refusal */
    const uint64_t cpus[][2] = {{XSTATE_X87, XSTATE_PKRU}};
    g_autoptr(GBytes) in = cpu_stream(cpus, G_N_ELEMENTS(cpus));
    TrOptions o = {.target = tr_target_find("qemu-2.0"), .machine = "pc-1.0"};
    g_autoptr(TsRun) run = ts_run(in, &o);
    const TrFinding *f = ts_finding(run->r, "R23", "cpu");

    g_assert_nonnull(f);
    g_assert_nonnull(strstr(f->change, "0x200 -> 0x0"));
    g_autoptr(TsRun) again = ts_rerun(run, &o);
    g_assert_cmpuint(cpu_field(again->s, 0, "env.xstate_bv"), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/r23/clears-components-the-guest-never-enabled",
                    test_r23_clears_components_the_guest_never_enabled);
    g_test_add_func("/r23/fires-per-cpu-with-stray-components",
                    test_r23_fires_per_cpu_with_stray_components);
    g_test_add_func("/r23/leaves-components-within-xcr0",
                    test_r23_leaves_components_within_xcr0);
    g_test_add_func("/r23/not-for-qemu72", test_r23_not_for_qemu72);
    g_test_add_func("/r23/for-qemu20-too", test_r23_for_qemu20_too);
    return g_test_run();
}
