/*
 * The shipped target profiles against the facts measured from their QEMU
 * binaries (target_facts_qemu72.c, target_facts_qemu10.c, written by
 * scripts/target-profile; tests/targets/test_profile_facts.py checks them
 * against the binaries), and the profile builder against both: built
 * from the same facts, a profile must answer as the shipped one does.
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

/* Shipped answers the facts cannot give (a vmsd or a RAM block), each
 * with its reason. */
static bool unmeasured(const char *target, const char *what)
{
    /* Debian 13 ships qxl in qemu-system-modules-spice, which the test
     * tree does not install: 7.2's figures are kept */
    return !strcmp(target, "qemu-10.0") && what && strstr(what, "qxl");
}

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

static void test_defaults_are_the_machines(void)
{
    for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
        const TrTarget *t = tr_target_find(cases[c].target);
        const TrTargetFacts *f = cases[c].facts;
        const char *hotplug =
            tr_facts_prop(f, "PIIX4_PM.acpi-pci-hotplug-with-bridge-support");
        const char *regs = tr_facts_prop(f, "VGA.qemu-extended-regs");
        const char *qxl = tr_facts_prop(f, "qxl-vga.revision");

        g_assert_cmpstr(t->machine, ==, f->machine);
        g_assert_cmpint(t->piix4_pcihp_bridge, ==, !strcmp(hotplug, "on"));
        g_assert_cmpuint(t->vga_revision, ==, !strcmp(regs, "on") ? 2 : 0);
        if (qxl) {
            g_assert_cmpuint(t->qxl_default_revision, ==,
                             g_ascii_strtoull(qxl, NULL, 10));
        }
        g_assert_false(t->balloon_class_property);
        g_assert_null(tr_facts_prop(f, "virtio-balloon-pci.class"));
        g_assert_cmpint(t->needs_configuration, ==, f->configuration);
        g_assert_cmpint(t->needs_footers, ==, f->footers);
        /* the vapic is on: no compat property of the machine removes it */
        g_assert_cmpstr(tr_facts_prop(f, "apic.vapic"), ==, "on");
        g_assert_null(tr_target_compat(t, f->machine, "apic", "vapic"));
    }
}

static const TrRamSpec *ram_entry(const TrTarget *t, const TrRamSpec *like)
{
    for (const TrRamSpec *r = t->ram; r->match; r++) {
        if (!strcmp(r->match, like->match) &&
            !g_strcmp0(r->with_section, like->with_section)) {
            return r;
        }
    }
    return NULL;
}

static void test_built_profile_answers_as_the_shipped_one(void)
{
    for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
        const TrTarget *t = tr_target_find(cases[c].target);
        g_autoptr(GError) err = NULL;
        g_autoptr(TrTarget) b = tr_target_build(cases[c].facts, &err);
        g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);

        g_assert_no_error(err);
        g_assert_cmpstr(b->name, ==, t->name);
        g_assert_cmpstr(b->machine, ==, t->machine);
        for (const TrSectionSpec *const *tab =
                 (const TrSectionSpec *[]){t->sections, t->sections_added,
                                           b->sections, b->sections_added,
                                           NULL};
             *tab; tab++) {
            for (const TrSectionSpec *s = *tab; s->vmsd; s++) {
                g_hash_table_add(names, (gpointer)s->vmsd);
            }
        }
        GHashTableIter it;
        gpointer key;
        g_hash_table_iter_init(&it, names);
        while (g_hash_table_iter_next(&it, &key, NULL)) {
            const TrSectionSpec *want = tr_target_section(t, key);
            const TrSectionSpec *got = tr_target_section(b, key);
            if (unmeasured(t->name, key)) {
                continue;
            }
            if (!want || !got || want->min_version != got->min_version ||
                want->max_version != got->max_version) {
                g_error("%s %s: shipped %u..%u, built %u..%u", t->name,
                        (char *)key, want ? want->min_version : 0,
                        want ? want->max_version : 0,
                        got ? got->min_version : 0, got ? got->max_version : 0);
            }
            g_assert_cmpstr(tr_target_section_needs(b, key), ==,
                            tr_target_section_needs(t, key));
        }
        for (const TrRamSpec *r = t->ram; r->match; r++) {
            const TrRamSpec *got = ram_entry(b, r);
            if (unmeasured(t->name, r->with_section) ||
                unmeasured(t->name, r->match)) {
                continue;
            }
            if (!got || got->kind != r->kind || got->length != r->length) {
                g_error("%s RAM '%s' (%s): shipped kind %d length %" PRIu64
                        ", built %d %" PRIu64,
                        t->name, r->match, r->with_section, r->kind, r->length,
                        got ? (int)got->kind : -1, got ? got->length : 0);
            }
        }
        g_assert_cmpint(b->hpet_syntax, ==, t->hpet_syntax);
        g_assert_cmpint(b->live_id_zero_ok, ==, t->live_id_zero_ok);
        g_assert_cmpint(b->balloon_class_property, ==,
                        t->balloon_class_property);
        g_assert_cmpuint(b->qxl_default_revision, ==, t->qxl_default_revision);
        g_assert_cmpint(b->needs_configuration, ==, t->needs_configuration);
        g_assert_cmpint(b->needs_footers, ==, t->needs_footers);
        g_assert_cmpint(b->zero_pages_only, ==, t->zero_pages_only);
        g_assert_cmpint(b->piix4_pcihp_bridge, ==, t->piix4_pcihp_bridge);
        g_assert_cmpuint(b->vga_revision, ==, t->vga_revision);
        g_assert_true(tr_target_has_machine(b, t->machine));
        /* the one difference: a built profile assumes today's KVM (R23);
         * 7.2 was run and loads such streams as they are */
        g_assert_true(b->xstate_within_xcr0);
    }
}

static void test_builder_refuses_what_it_cannot_support(void)
{
    /* QEMU 2.0: no -dump-vmstate */
    static const TrTargetFacts no_dump = {.name = "qemu-2.0",
                                          .machine = "pc-1.0"};
    g_autoptr(GError) err = NULL;
    TrTarget *t = tr_target_build(&no_dump, &err);

    g_assert_null(t);
    g_assert_error(err, TR_ERROR, TR_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "-dump-vmstate"));
}

static void test_an_unknown_qemu_gets_what_its_facts_say(void)
{
    /* A QEMU 11 as its facts might read: a device 10.0 lacks, ROMs of
     * another size, a CONFIGURATION and footers, machines up to 11.0. */
    static const char *const machines[] = {"pc-i440fx-2.4", "pc-i440fx-11.0",
                                           "pc-q35-2.4", "pc-q35-11.0", NULL};
    static const TrSectionSpec vmsds[] = {
        {"piix4_pm", 3, 3}, {"new-device", 1, 2}, {"ehci", 1, 2}, {NULL, 0, 0}};
    static const TrStreamedFact streamed[] = {
        {"cpu", 13}, {"timer", 2}, {"new-subsystem", 3}, {NULL, 0}};
    static const TrRamFact ram[] = {
        {"cirrus-rtl8139", "pc.ram", MiB(16)},
        {"cirrus-rtl8139", "pc.bios", KiB(256)},
        {"cirrus-rtl8139", "vga.vram", MiB(4)},
        {"cirrus-rtl8139", "0000:00:03.0/rtl8139.rom", KiB(512)},
        {NULL, NULL, 0}};
    static const TrPropFact props[] = {
        {"PIIX4_PM.acpi-pci-hotplug-with-bridge-support", "on"},
        {"VGA.qemu-extended-regs", "on"},
        {NULL, NULL}};
    static const TrTargetFacts f = {
        .name = "qemu-11.0",
        .version = "QEMU emulator version 11.0.1",
        .machine = "pc-i440fx-2.4",
        .machines = machines,
        .vmsds = vmsds,
        .streamed = streamed,
        .ram = ram,
        .props = props,
        .configuration = true,
        .footers = true,
    };
    g_autoptr(GError) err = NULL;
    g_autoptr(TrTarget) t = tr_target_build(&f, &err);
    const TrSectionSpec *s;

    g_assert_no_error(err);
    g_assert_nonnull(strstr(tr_target_description(t), "11.0.1"));
    s = tr_target_section(t, "new-device");
    g_assert_true(s && s->min_version == 1 && s->max_version == 2);
    /* the sources give cpu's minimum; a vmstate they do not know takes
     * only what the target wrote */
    s = tr_target_section(t, "cpu");
    g_assert_true(s && s->min_version == 11 && s->max_version == 13);
    s = tr_target_section(t, "new-subsystem");
    g_assert_true(s && s->min_version == 3 && s->max_version == 3);
    s = tr_target_section(t, "ehci");
    g_assert_true(s && s->min_version == 2);
    g_assert_null(tr_target_section(t, "block"));
    g_assert_null(tr_target_section(t, "audio")); /* never probed */
    g_assert_true(tr_target_has_machine(t, "pc-i440fx-11.0"));
    g_assert_false(tr_target_has_machine(t, "pc-i440fx-1.4"));
    g_assert_true(t->needs_configuration && t->needs_footers);
    g_assert_true(t->zero_pages_only && t->piix4_pcihp_bridge);
    g_assert_cmpuint(t->vga_revision, ==, 2);
    /* measured sizes, and 0 ("build dependent") where nothing was */
    for (const TrRamSpec *r = t->ram; r->match; r++) {
        if (!strcmp(r->match, "/rtl8139.rom")) {
            g_assert_cmpuint(r->length, ==, KiB(512));
        } else if (!strcmp(r->match, "/e1000.rom")) {
            g_assert_cmpuint(r->length, ==, 0);
        } else if (!strcmp(r->match, "pc.bios")) {
            g_assert_cmpuint(r->length, ==, KiB(256));
        } else if (r->with_section && !strcmp(r->with_section, "cirrus_vga")) {
            g_assert_cmpuint(r->length, ==, MiB(4));
        }
    }
}

/* A stream with one RAM page and an empty "audio" section (vmstate_audio
 * has no fields), as qemu-kvm 1.0 wrote it beside an AC97. */
static GBytes *audio_stream(uint32_t version)
{
    TsDev d[] = {{"audio", 0, version, NULL, 0}};

    return ts_stream_with(d, 1);
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
    g_test_add_func("/facts/defaults-are-the-machines",
                    test_defaults_are_the_machines);
    g_test_add_func("/build/answers-as-the-shipped-profiles",
                    test_built_profile_answers_as_the_shipped_one);
    g_test_add_func("/build/refuses-what-it-cannot-support",
                    test_builder_refuses_what_it_cannot_support);
    g_test_add_func("/build/an-unknown-qemu-gets-what-its-facts-say",
                    test_an_unknown_qemu_gets_what_its_facts_say);
    g_test_add_func("/rules/audio-loads-with-a-backend",
                    test_audio_loads_with_a_backend);
    return g_test_run();
}
