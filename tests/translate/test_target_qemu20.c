/*
 * Unit tests of the qemu-2.0 target on synthetic streams: what the old
 * machine types' compat properties change (R3's USB names, R25's vapic),
 * the KVM spelling of a QEMU without -accel, and R23 for KVM streams.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "streams.h"
#include "translate/target.h"

/* qemu-kvm 1.0 (piix4_pm v2 of 312 bytes, i8254 v2 of 108, i8259 0/1)
 * with its vapic section and a USB tablet named `usb`. */
static GBytes *qemu_kvm_10_stream(const char *usb)
{
    g_autoptr(GBytes) uhci = ts_uhci_v2();
    TsDev d[] = {{"kvm-tpr-opt", 0, 1, NULL, 144},
                 {"0000:00:01.3/piix4_pm", 0, 2, NULL, 312},
                 {"i8254", 0, 2, NULL, 108},
                 {"i8259", 0, 1, NULL, 16},
                 {"i8259", 1, 1, NULL, 16},
                 {"0000:00:01.2/uhci", 0, 2, uhci, 0},
                 {usb, 0, 1, NULL, 298}};
    return ts_stream_with(d, G_N_ELEMENTS(d));
}

static const TrOptions *qemu20(const char *machine)
{
    static TrOptions o;

    o = (TrOptions){.target = tr_target_find("qemu-2.0"), .machine = machine};
    return &o;
}

static bool has_arg(const TrRecipe *r, const char *arg)
{
    g_autoptr(GPtrArray) argv = tr_recipe_qemu_args(r);

    for (guint i = 0; i < argv->len; i++) {
        if (!strcmp(g_ptr_array_index(argv, i), arg)) {
            return true;
        }
    }
    return false;
}

static void test_the_old_targets_name(void)
{
    g_assert_nonnull(tr_target_find("qemu-2.0"));
    /* nothing was ever proven on a 2.1: no target claims it */
    g_assert_null(tr_target_find("qemu-2.1"));
}

static void test_compat_properties_follow_the_machine_type(void)
{
    const TrTarget *t = tr_target_find("qemu-2.0");

    g_assert_cmpstr(tr_target_compat(t, "pc-1.0", "apic", "vapic"), ==, "off");
    g_assert_cmpstr(tr_target_compat(t, "pc-0.15", "apic", "vapic"), ==, "off");
    g_assert_null(tr_target_compat(t, "pc-1.1", "apic", "vapic"));
    g_assert_null(tr_target_compat(t, "pc-i440fx-2.0", "apic", "vapic"));
    /* an alias says nothing about the version: the device default */
    g_assert_null(tr_target_compat(t, "pc", "apic", "vapic"));
    g_assert_null(tr_target_compat(t, "pc-1.0", "apic", "no-such"));
    g_assert_true(tr_compat_is_off(
        tr_target_compat(t, "pc-1.0", "usb-device", "full-path")));
    /* 7.2 has no such compat property at all */
    g_assert_null(tr_target_compat(tr_target_find("qemu-7.2"), "pc-i440fx-1.4",
                                   "apic", "vapic"));
}

static void test_vapic_asked_for_on_pc_1_0(void)
{
    g_autoptr(GBytes) in = qemu_kvm_10_stream("1/usb-ptr");
    g_autoptr(TsRun) run = ts_run(in, qemu20(NULL));
    const TrFinding *f = ts_finding(run->r, "R25", "kvm-tpr-opt");

    /* the machine comes from the fingerprint */
    g_assert_cmpstr(run->r->recipe->machine, ==, "pc-1.0");
    g_assert_nonnull(f);
    g_assert_cmpint(f->action, ==, TR_ACTION_SETTING);
    g_assert_nonnull(strstr(f->evidence, "apic.vapic off"));
    g_assert_true(has_arg(run->r->recipe, "apic.vapic=on"));
    g_autoptr(TsRun) again = ts_rerun(run, qemu20("pc-1.0"));
    g_assert_nonnull(ts_finding(again->r, "R25", NULL));
}

static void test_vapic_left_alone_where_the_machine_has_it(void)
{
    g_autoptr(GBytes) in = qemu_kvm_10_stream("1/usb-ptr");
    g_autoptr(TsRun) pc12 = ts_run(in, qemu20("pc-1.2"));
    g_autoptr(TsRun) q72 = ts_run(in, NULL);

    g_assert_null(ts_finding(pc12->r, "R25", NULL));
    g_assert_false(has_arg(pc12->r->recipe, "apic.vapic=on"));
    g_assert_null(ts_finding(q72->r, "R25", NULL));
}

static void test_usb_port_names_kept_where_the_machine_uses_them(void)
{
    g_autoptr(GBytes) in = qemu_kvm_10_stream("1/usb-ptr");
    g_autoptr(TsRun) run = ts_run(in, qemu20(NULL));

    /* pc-1.0 names USB devices by port, as the stream does: no rename */
    g_assert_null(ts_finding(run->r, "R3", NULL));
    g_assert_false(has_arg(run->r->recipe, "usb-device.full-path=on"));
    g_autoptr(GBytes) out = ts_apply(run);
    g_autoptr(TsRun) again = ts_run(out, qemu20("pc-1.0"));
    g_assert_nonnull(vms_stream_find_section(again->s, "1/usb-ptr", 0));
}

static void test_usb_port_names_renamed_for_newer_machines(void)
{
    g_autoptr(GBytes) in = qemu_kvm_10_stream("1/usb-ptr");
    g_autoptr(TsRun) run = ts_run(in, qemu20("pc-1.2"));
    const TrFinding *f = ts_finding(run->r, "R3", "1/usb-ptr");

    g_assert_nonnull(f);
    g_assert_cmpint(f->action, ==, TR_ACTION_EDIT);
    g_autoptr(TsRun) again = ts_rerun(run, qemu20("pc-1.2"));
    g_assert_nonnull(
        vms_stream_find_section(again->s, "0000:00:01.2/1/usb-ptr", 0));
}

static void test_usb_full_path_asked_for_on_pc_1_0(void)
{
    /* a stream another fix renamed (e.g. for 7.2), loaded on pc-1.0 */
    g_autoptr(GBytes) in = qemu_kvm_10_stream("0000:00:01.2/1/usb-ptr");
    g_autoptr(TsRun) run = ts_run(in, qemu20("pc-1.0"));
    const TrFinding *f = ts_finding(run->r, "R3", "0000:00:01.2/1/usb-ptr");

    g_assert_nonnull(f);
    g_assert_cmpint(f->action, ==, TR_ACTION_SETTING);
    g_assert_true(has_arg(run->r->recipe, "usb-device.full-path=on"));
    g_autofree char *line = tr_recipe_command_line(run->r->recipe);
    g_assert_nonnull(strstr(line, "-global usb-device.full-path=on"));
    /* the same stream on pc-1.2: the names already agree */
    g_autoptr(TsRun) pc12 = ts_run(in, qemu20("pc-1.2"));
    g_assert_null(ts_finding(pc12->r, "R3", NULL));
}

static void test_kvm_is_spelled_as_a_machine_property(void)
{
    TsDev d[] = {{"kvmclock", 0, 1, NULL, 8}};
    g_autoptr(GBytes) in = ts_stream_with(d, 1);
    g_autoptr(TsRun) run = ts_run(in, qemu20("pc-1.2"));
    g_autoptr(TsRun) q72 = ts_run(in, NULL);
    g_autofree char *line = tr_recipe_command_line(run->r->recipe);
    g_autofree char *line72 = tr_recipe_command_line(q72->r->recipe);

    g_assert_cmpstr(run->r->recipe->accel, ==, "kvm");
    g_assert_nonnull(strstr(line, "-M pc-1.2 -machine accel=kvm"));
    g_assert_null(strstr(line, "-accel"));
    g_assert_nonnull(strstr(line72, "-accel kvm"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu-2.0/the-old-targets-name",
                    test_the_old_targets_name);
    g_test_add_func("/qemu-2.0/compat-properties-follow-the-machine-type",
                    test_compat_properties_follow_the_machine_type);
    g_test_add_func("/qemu-2.0/r25/vapic-asked-for-on-pc-1.0",
                    test_vapic_asked_for_on_pc_1_0);
    g_test_add_func("/qemu-2.0/r25/vapic-left-alone-where-the-machine-has-it",
                    test_vapic_left_alone_where_the_machine_has_it);
    g_test_add_func("/qemu-2.0/r3/port-names-kept-where-the-machine-uses-them",
                    test_usb_port_names_kept_where_the_machine_uses_them);
    g_test_add_func("/qemu-2.0/r3/port-names-renamed-for-newer-machines",
                    test_usb_port_names_renamed_for_newer_machines);
    g_test_add_func("/qemu-2.0/r3/full-path-asked-for-on-pc-1.0",
                    test_usb_full_path_asked_for_on_pc_1_0);
    g_test_add_func("/qemu-2.0/kvm-is-spelled-as-a-machine-property",
                    test_kvm_is_spelled_as_a_machine_property);
    return g_test_run();
}
