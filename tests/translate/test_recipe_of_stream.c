/*
 * The recipe is a function of the stream and the target, whoever wrote
 * the stream: a qemu-kvm 1.0 stream translated for one target and judged
 * for another (or the same one again) is recognised as translated, never
 * as an impossible range of QEMU versions, and gets every setting from
 * what it shows: the machine type (qemu-2.0's from the writer), the CPU,
 * the framing of the recipe's machine (added, or removed for a machine
 * that reads none), the sizes of its blocks, the defaults of its devices.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "streams.h"
#include "stream/fingerprint.h"
#include "stream/vmdesc.h"

/* qemu-kvm 1.0 under TCG: piix4_pm v2 of 312 bytes, i8254 v2 of 108, the
 * rtc at version 2, i8259 ids 0/1 and the 1.0 RAM code (blocks in
 * allocation order, pc.ram first). */
static GBytes *qemu_kvm_10_stream(void)
{
    static const VmsBlockSpec blocks[] = {
        {"pc.ram", KiB(64)}, {"pc.rom", KiB(128)}, {"pc.bios", KiB(128)}};
    static const struct {
        const char *idstr;
        uint32_t instance, version;
        size_t len;
    } devs[] = {
        {"kvm-tpr-opt", 0, 1, 144}, {"0000:00:01.3/piix4_pm", 0, 2, 312},
        {"i8254", 0, 2, 108},       {"i8259", 0, 1, 16},
        {"i8259", 1, 1, 16},        {"mc146818rtc", 0, 2, 205}};
    g_autoptr(GByteArray) out = g_byte_array_new();
    VmsBuilder *b = ts_begin(out, 2, blocks, G_N_ELEMENTS(blocks));
    uint8_t zeros[512] = {0};

    vms_builder_ram_fill(b, "pc.ram", 0, 0);
    vms_builder_ram_fill(b, "pc.bios", 0, 0xff);
    ts_ram_end(b);
    for (guint i = 0; i < G_N_ELEMENTS(devs); i++) {
        ts_full(b, 10 + i, devs[i].idstr, devs[i].instance, devs[i].version,
                zeros, devs[i].len);
    }
    return ts_finish(b, out);
}

static TrOptions for_target(const char *name)
{
    return (TrOptions){
        .target = tr_target_find(name), .file_dir = "/d", .file_prefix = "x"};
}

/* x translated for a target: the stream fix writes. */
static GBytes *fixed_for(GBytes *x, const char *target)
{
    TrOptions o = for_target(target);
    g_autoptr(TsRun) run = ts_run(x, &o);

    g_assert_false(run->r->refused);
    return ts_apply(run);
}

static void assert_same_recipe(const TrRecipe *a, const TrRecipe *b)
{
    g_autofree char *la = tr_recipe_command_line(a);
    g_autofree char *lb = tr_recipe_command_line(b);

    g_assert_cmpstr(la, ==, lb);
    g_assert_true(tr_recipe_same_settings(a, b));
    g_assert_cmpstr(a->cpu_model_id, ==, b->cpu_model_id);
}

static void test_a_translated_stream_names_its_writer(void)
{
    g_autoptr(GBytes) x = qemu_kvm_10_stream();
    const char *const targets[] = {"qemu-7.2", "qemu-10.0", "qemu-2.0"};

    for (guint i = 0; i < G_N_ELEMENTS(targets); i++) {
        g_autoptr(GBytes) fixed = fixed_for(x, targets[i]);
        g_autoptr(TsRun) run = ts_run(fixed, NULL);
        g_autoptr(VmsWriterInfo) w = vms_fingerprint(run->s);
        g_autofree char *who = vms_writer_describe(w);

        g_assert_cmpstr(w->program, ==, "qemu-kvm");
        g_assert_cmpstr(w->version, ==, "1.0");
        g_assert_true(w->translated);
        /* qemu-10.0's framing names its machine; the others have none */
        g_assert_cmpstr(who, ==,
                        strcmp(targets[i], "qemu-10.0")
                            ? "qemu-kvm 1.0, translated for a machine type "
                              "before 2.4"
                            : "qemu-kvm 1.0, translated for -M "
                              "pc-i440fx-2.4");
    }
    /* the original is no translation */
    g_autoptr(TsRun) orig = ts_run(x, NULL);
    g_autoptr(VmsWriterInfo) w = vms_fingerprint(orig->s);
    g_assert_false(w->translated);
    g_assert_cmpstr(w->version, ==, "1.0");
}

static void test_the_same_target_again_gives_the_same_recipe(void)
{
    g_autoptr(GBytes) x = qemu_kvm_10_stream();
    const char *const targets[] = {"qemu-7.2", "qemu-10.0", "qemu-2.0"};

    for (guint i = 0; i < G_N_ELEMENTS(targets); i++) {
        TrOptions o = for_target(targets[i]);
        g_autoptr(TsRun) first = ts_run(x, &o);
        /* no --machine: qemu-2.0's machine comes from the writer again */
        g_autoptr(TsRun) again = ts_rerun(first, &o);

        assert_same_recipe(first->r->recipe, again->r->recipe);
        g_assert_nonnull(again->r->recipe->cpu_model);
    }
}

static void test_a_stream_fixed_for_10_loads_on_7_2_on_its_machine(void)
{
    g_autoptr(GBytes) x = qemu_kvm_10_stream();
    g_autoptr(GBytes) fixed = fixed_for(x, "qemu-10.0");
    TrOptions o = for_target("qemu-7.2");
    g_autoptr(TsRun) run = ts_run(fixed, &o);
    g_autofree char *line = tr_recipe_command_line(run->r->recipe);

    /* 7.2 has pc-i440fx-2.4: the stream keeps it, and with it the sizes
     * and defaults of that machine, which its blocks do not have */
    g_assert_false(run->r->refused);
    g_assert_cmpuint(run->r->edits->len, ==, 0);
    g_assert_cmpstr(run->r->recipe->machine, ==, "pc-i440fx-2.4");
    g_assert_nonnull(strstr(line, "-bios /d/x.pc.bios"));
    g_assert_nonnull(
        strstr(line, "PIIX4_PM.acpi-pci-hotplug-with-bridge-support=off"));
    g_assert_nonnull(
        strstr(ts_finding(run->r, "R7", "pc.bios")->evidence, "is not known"));
}

static void test_a_stream_fixed_for_10_loses_its_framing_on_2_0(void)
{
    g_autoptr(GBytes) x = qemu_kvm_10_stream();
    g_autoptr(GBytes) fixed = fixed_for(x, "qemu-10.0");
    TrOptions o = for_target("qemu-2.0");
    g_autoptr(TsRun) run = ts_run(fixed, &o);
    g_autoptr(TsRun) direct = ts_run(x, &o);

    g_assert_cmpstr(run->r->recipe->machine, ==, "pc-1.0");
    g_assert_nonnull(strstr(ts_finding(run->r, "R18", NULL)->change,
                            "CONFIGURATION record removed"));
    g_assert_nonnull(
        strstr(ts_finding(run->r, "R19", NULL)->change, "footers removed"));
    g_autoptr(TsRun) again = ts_rerun(run, &o);
    assert_same_recipe(again->r->recipe, direct->r->recipe);
}

/* QEMU >= 2.3 on a machine < 2.4: piix4_pm v3 without bridge hotplug, no
 * CONFIGURATION record, a VM description after EOF. */
static GBytes *qemu_stream_with_vmdesc(void)
{
    static const VmsBlockSpec blocks[] = {{"pc.ram", KiB(64)},
                                          {"pc.bios", KiB(128)}};
    static const char json[] = "{\"page_size\": 4096, \"devices\": []}";
    g_autoptr(GByteArray) out = g_byte_array_new();
    VmsBuilder *b = ts_begin(out, 2, blocks, G_N_ELEMENTS(blocks));
    uint8_t zeros[312] = {0};
    g_autoptr(GError) err = NULL;

    vms_builder_ram_fill(b, "pc.ram", 0, 0);
    ts_ram_end(b);
    ts_full(b, 10, "0000:00:01.3/piix4_pm", 0, 3, zeros, sizeof(zeros));
    vms_builder_eof(b);
    vms_builder_vmdesc(b, json, strlen(json));
    g_assert_true(vms_builder_finish(b, &err));
    vms_builder_free(b);
    return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

static void test_a_qemu_stream_framed_for_10_says_so(void)
{
    g_autoptr(GBytes) x = qemu_stream_with_vmdesc();
    g_autoptr(GBytes) fixed = fixed_for(x, "qemu-10.0");
    TrOptions o = for_target("qemu-7.2");
    g_autoptr(TsRun) run = ts_run(fixed, &o);
    g_autoptr(VmsWriterInfo) w = vms_fingerprint(run->s);
    g_autofree char *framed = vms_vmdesc_framed_for(run->s->vmdesc_json);
    g_autofree char *line = tr_recipe_command_line(run->r->recipe);

    /* its devices are still those of 7.2's pc-i440fx-1.4: on 7.2's
     * pc-i440fx-2.4 their sizes are not known (the BIOS is handed over) */
    g_assert_cmpstr(framed, ==, "pc-i440fx-2.4");
    g_assert_true(w->translated);
    g_assert_cmpstr(w->program, ==, "qemu");
    g_assert_cmpstr(w->translated_for, ==, "-M pc-i440fx-2.4");
    g_assert_cmpstr(run->r->recipe->machine, ==, "pc-i440fx-2.4");
    g_assert_nonnull(strstr(line, "-bios /d/x.pc.bios"));
    /* and fixed for 10.0 again, nothing left to do */
    TrOptions o10 = for_target("qemu-10.0");
    g_autoptr(TsRun) again = ts_run(fixed, &o10);
    g_assert_cmpuint(again->r->edits->len, ==, 0);
    g_autofree char *marked = vms_vmdesc_mark_framed("{}", "m");
    g_assert_cmpstr(marked, ==, "{\"qsnapfix-framed-for\": \"m\"}");
}

static const char *warning(const TrRecipe *r, guint i)
{
    return i < r->warnings->len
               ? ((const TrWarning *)g_ptr_array_index(r->warnings, i))->message
               : NULL;
}

static void test_the_recipe_says_which_warnings_to_expect(void)
{
    g_autoptr(GBytes) x = qemu_kvm_10_stream();
    TrOptions o72 = for_target("qemu-7.2"), o10 = for_target("qemu-10.0"),
              o20 = for_target("qemu-2.0");
    g_autoptr(TsRun) r72 = ts_run(x, &o72);
    g_autoptr(TsRun) r10 = ts_run(x, &o10);
    g_autoptr(TsRun) r20 = ts_run(x, &o20);

    /* no VM description after EOF, and the oldest i440fx machines are
     * deprecated on both */
    g_assert_cmpstr(warning(r72->r->recipe, 0), ==,
                    "Expected vmdescription section, but got 0");
    g_assert_cmpstr(warning(r72->r->recipe, 1), ==,
                    "Machine type 'pc-i440fx-1.4' is deprecated");
    g_assert_cmpstr(warning(r10->r->recipe, 1), ==,
                    "Machine type 'pc-i440fx-2.4' is deprecated");
    /* QEMU 2.0 reads no VM description and deprecates nothing */
    g_assert_cmpuint(r20->r->recipe->warnings->len, ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/recipe-of-stream/a-translated-stream-names-its-writer",
                    test_a_translated_stream_names_its_writer);
    g_test_add_func("/recipe-of-stream/the-same-target-again-same-recipe",
                    test_the_same_target_again_gives_the_same_recipe);
    g_test_add_func(
        "/recipe-of-stream/fixed-for-10-loads-on-7.2-on-its-machine",
        test_a_stream_fixed_for_10_loads_on_7_2_on_its_machine);
    g_test_add_func("/recipe-of-stream/fixed-for-10-loses-its-framing-on-2.0",
                    test_a_stream_fixed_for_10_loses_its_framing_on_2_0);
    g_test_add_func("/recipe-of-stream/a-qemu-stream-framed-for-10-says-so",
                    test_a_qemu_stream_framed_for_10_says_so);
    g_test_add_func(
        "/recipe-of-stream/the-recipe-says-which-warnings-to-expect",
        test_the_recipe_says_which_warnings_to_expect);
    return g_test_run();
}
