/*
 * The shipped target profiles against the facts measured from their QEMU
 * binaries (target_facts_qemu72.c, target_facts_qemu10.c, written by
 * scripts/target-profile; tests/targets/test_profile_facts.py checks them
 * against the binaries).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "streams.h"
#include "translate/target_facts.h"

typedef struct Case {
    const char *target;
    const TrTargetFacts *facts;
} Case;

static const Case cases[] = {
    {"qemu-7.2", &tr_facts_qemu72},
    {"qemu-10.0", &tr_facts_qemu10},
};

static void assert_range(const TrSectionSpec *s, uint32_t lo, uint32_t hi,
                         const char *what)
{
    if (!s || s->min_version != lo || s->max_version != hi) {
        g_error("%s: shipped %u..%u, measured %u..%u", what,
                s ? s->min_version : 0, s ? s->max_version : 0, lo, hi);
    }
}

static void test_sections_are_the_dumps(void)
{
    for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
        const TrTarget *t = tr_target_find(cases[c].target);
        for (const TrSectionSpec *d = cases[c].facts->vmsds; d->vmsd; d++) {
            g_autofree char *what =
                g_strdup_printf("%s %s", cases[c].target, d->vmsd);
            const TrSectionSpec *s = tr_target_section(t, d->vmsd);
            if (!strcmp(d->vmsd, "ehci")) {
                /* narrowed on purpose (target.c) */
                assert_range(s, 2, d->max_version, what);
                continue;
            }
            assert_range(s, d->min_version, d->max_version, what);
        }
    }
}

static void test_streamed_and_probed_sections(void)
{
    for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
        const TrTarget *t = tr_target_find(cases[c].target);
        const TrTargetFacts *f = cases[c].facts;
        for (const TrStreamedFact *s = f->streamed; s->vmsd; s++) {
            const TrSectionSpec *spec = tr_target_section(t, s->vmsd);
            g_assert_nonnull(spec);
            /* it writes its newest version */
            g_assert_cmpuint(spec->max_version, ==, s->version);
        }
        for (const TrProbedFact *p = f->probed; p->vmsd; p++) {
            g_autofree char *what =
                g_strdup_printf("%s %s", cases[c].target, p->vmsd);
            assert_range(tr_target_section(t, p->vmsd), p->min_version,
                         p->max_version, what);
            g_assert_true(!tr_target_section_needs(t, p->vmsd) ==
                          p->loads_without);
        }
        /* 10.0 lost block migration: nothing loads "block" there */
        if (!strcmp(cases[c].target, "qemu-10.0")) {
            g_assert_null(tr_target_section(t, "block"));
        }
    }
}

/* A stream with one RAM page and an empty "audio" section (vmstate_audio
 * has no fields), as qemu-kvm 1.0 wrote it beside an AC97. */
static GBytes *audio_stream(uint32_t version)
{
    static const VmsBlockSpec ram[] = {{"pc.ram", KiB(64)}};
    g_autoptr(GByteArray) out = g_byte_array_new();
    VmsBuilder *b = ts_begin(out, 2, ram, G_N_ELEMENTS(ram));

    vms_builder_ram_fill(b, "pc.ram", 0, 0);
    ts_ram_end(b);
    ts_full(b, 10, "audio", 0, version, NULL, 0);
    return ts_finish(b, out);
}

static void test_audio_loads_with_a_backend(void)
{
    g_autoptr(GBytes) in = audio_stream(1);
    g_autoptr(GBytes) v2 = audio_stream(2);

    for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
        TrOptions o = {.target = tr_target_find(cases[c].target)};
        g_autoptr(TsRun) run = ts_run(in, &o);
        g_autoptr(TsRun) newer = ts_run(v2, &o);
        const TrFinding *f = ts_finding(run->r, "target", "audio");
        gboolean noted = FALSE;

        /* not refused ("has no device that loads it"): a note, and the
         * recipe says what the VM needs */
        g_assert_false(run->r->refused);
        g_assert_nonnull(f);
        g_assert_cmpint(f->action, ==, TR_ACTION_NOTE);
        g_assert_nonnull(strstr(f->evidence, "an audio backend"));
        for (guint i = 0; i < run->r->recipe->notes->len; i++) {
            noted |= strstr(g_ptr_array_index(run->r->recipe->notes, i),
                            "audiodev") != NULL;
        }
        g_assert_true(noted);
        for (guint i = 0; i < run->r->findings->len; i++) {
            const TrFinding *x = g_ptr_array_index(run->r->findings, i);
            g_assert_true(x == f || strcmp(x->subject, "audio"));
        }
        /* a version it never loaded is refused, as before */
        g_assert_true(newer->r->refused);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/facts/sections-are-the-dumps",
                    test_sections_are_the_dumps);
    g_test_add_func("/facts/streamed-and-probed-sections",
                    test_streamed_and_probed_sections);
    g_test_add_func("/rules/audio-loads-with-a-backend",
                    test_audio_loads_with_a_backend);
    return g_test_run();
}
