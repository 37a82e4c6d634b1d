/*
 * Unit tests of the VM options a proof gives QEMU (src/app/vm_args.h):
 * devices kept, everything that reaches outside the proof made inert,
 * what the proof decides taken over.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "app/vm_args.h"

static char *joined(const AppVmArgs *a)
{
    g_autoptr(GString) g = g_string_new(NULL);

    for (guint i = 0; i < a->args->len; i++) {
        g_string_append_printf(g, "%s%s", i ? " " : "",
                               (char *)g_ptr_array_index(a->args, i));
    }
    return g_strdup(g->str);
}

static void test_devices_stay_and_disks_are_read_only(void)
{
    const char *const argv[] = {"-m",     "128",        "-hda",   "/i/vm.qcow2",
                                "-usb",   "-usbdevice", "tablet", "-vga",
                                "cirrus", NULL};
    g_autoptr(AppVmArgs) a = app_vm_args_sanitize(argv, 0);
    g_autofree char *line = joined(a);

    /* -usb takes no argument: -usbdevice tablet stays a pair */
    g_assert_cmpstr(line, ==,
                    "-m 128 -hda /i/vm.qcow2 -usb -usbdevice tablet -vga "
                    "cirrus -snapshot");
}

static void test_network_and_chardevs_are_inert(void)
{
    const char *const argv[] = {
        "-net",      "nic,model=rtl8139",
        "-net",      "user,hostfwd=tcp::2222-:22,smb=/srv",
        "-netdev",   "tap,id=hostnet0,fd=25",
        "-netdev",   "{\"type\":\"user\",\"id\":\"hostnet1\"}",
        "-chardev",  "socket,id=charmonitor,path=/run/mon.sock,server=on",
        "-serial",   "file:/var/log/vm.log",
        "-audiodev", "pa,id=snd0,server=/run/pulse",
        "-nic",      "user,model=e1000,hostfwd=tcp::80-:80",
        NULL};
    g_autoptr(AppVmArgs) a = app_vm_args_sanitize(argv, 0);
    g_autofree char *line = joined(a);

    g_assert_cmpstr(line, ==,
                    "-net nic,model=rtl8139 -net user,restrict=on -netdev "
                    "user,id=hostnet0,restrict=on -netdev "
                    "user,id=hostnet1,restrict=on -chardev "
                    "null,id=charmonitor -serial null -audiodev "
                    "none,id=snd0 -nic user,restrict=on,model=e1000");
}

static void test_what_the_proof_decides_is_taken_over(void)
{
    const char *const argv[] = {
        "-machine",    "pc-i440fx-1.4,accel=kvm,usb=off",
        "-enable-kvm", "-S",
        "-monitor",    "stdio",
        "-display",    "gtk",
        "-vnc",        ":0",
        "-loadvm",     "s1",
        "-bios",       "/old.bin",
        "-daemonize",  NULL};
    g_autoptr(AppVmArgs) a = app_vm_args_sanitize(argv, APP_RECIPE_GIVES_BIOS);
    g_autofree char *line = joined(a);

    g_assert_cmpstr(line, ==, "");
    g_assert_cmpstr(a->machine_opts, ==, "usb=off");
    g_assert_cmpuint(a->notes->len, >, 0);
}

static void test_blockdev_nodes_become_null(void)
{
    const char *const argv[] = {
        "-blockdev",
        "{\"driver\":\"file\",\"filename\":\"/v.qcow2\",\"node-name\":"
        "\"libvirt-1-storage\"}",
        "-device", "virtio-blk-pci,drive=libvirt-1-storage", NULL};
    g_autoptr(AppVmArgs) a = app_vm_args_sanitize(argv, 0);
    g_autofree char *line = joined(a);

    g_assert_cmpstr(line, ==,
                    "-blockdev driver=null-co,node-name=libvirt-1-storage,"
                    "size=1073741824 -device "
                    "virtio-blk-pci,drive=libvirt-1-storage");
}

/* A domain the recipe was already applied to carries the recipe's pflash
 * drive: given twice, QEMU refuses unit 0 a second time. */
static void test_the_recipes_pflash_is_not_given_twice(void)
{
    const char *const argv[] = {
        "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/f/s1.fd",
        "-drive", "if=pflash,format=raw,unit=1,file=/f/vars.fd", NULL};
    g_autoptr(AppVmArgs) with = app_vm_args_sanitize(argv, 0);
    g_autoptr(AppVmArgs) without =
        app_vm_args_sanitize(argv, APP_RECIPE_GIVES_PFLASH);
    g_autofree char *kept = joined(with);
    g_autofree char *dropped = joined(without);

    g_assert_cmpstr(kept, ==,
                    "-drive if=pflash,format=raw,unit=0,readonly=on,file=/f/"
                    "s1.fd -drive if=pflash,format=raw,unit=1,file=/f/vars.fd "
                    "-snapshot");
    g_assert_cmpstr(dropped, ==,
                    "-drive if=pflash,format=raw,unit=1,file=/f/vars.fd "
                    "-snapshot");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vm-args/devices-stay-and-disks-are-read-only",
                    test_devices_stay_and_disks_are_read_only);
    g_test_add_func("/vm-args/network-and-chardevs-are-inert",
                    test_network_and_chardevs_are_inert);
    g_test_add_func("/vm-args/what-the-proof-decides-is-taken-over",
                    test_what_the_proof_decides_is_taken_over);
    g_test_add_func("/vm-args/blockdev-nodes-become-null",
                    test_blockdev_nodes_become_null);
    g_test_add_func("/vm-args/the-recipes-pflash-is-not-given-twice",
                    test_the_recipes_pflash_is_not_given_twice);
    return g_test_run();
}
