/*
 * A VM's own QEMU options (what the recipe calls "<the VM's own device
 * options>"), made safe for a proof: the devices stay as the VM has them,
 * so that the target creates what the snapshot holds, but nothing of the
 * VM reaches outside the proof and nothing of the user's is written.
 *
 *   kept        -m, -smp, -cpu, -device, -vga, -usb, -global, -rtc, ...
 *   taken over  -M/-machine's type and accel= (the recipe's), -accel,
 *               -enable-kvm, -bios where the recipe has its own
 *   dropped     -S, -daemonize, -pidfile, -monitor, -qmp, -mon, -display,
 *               -vnc, -spice, -nographic, -incoming, -loadvm, -add-fd ...
 *   made inert  every network backend (-netdev, -net other than nic,
 *               -nic): user networking with restrict=on and no forwarded
 *               ports, same id (a stream of a VM with user networking
 *               holds its 'slirp' state; libvirt's domxml-to-native
 *               gives even those as tap descriptors);
 *               -chardev: null (same id); -serial, -parallel: null;
 *               -audiodev: none (same id); -blockdev: a null-co node
 *               (same node-name); -drive and -hda...: read through
 *               -snapshot (a temporary overlay takes every write)
 *
 * From a libvirt domain the options come from `virsh domxml-to-native
 * qemu-argv` (the environment and the program in front are skipped).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_VM_ARGS_H
#define APP_VM_ARGS_H

#include <glib.h>
#include <stdbool.h>

typedef struct AppVmArgs {
    GPtrArray *args;    /* char *: the options to give QEMU */
    GPtrArray *notes;   /* char *: what was changed and why, one line each */
    char *machine_opts; /* -machine options kept (no type, no accel) */
} AppVmArgs;

/* What the recipe gives itself: the VM's own option for it is dropped (a
 * domain the recipe was already applied to carries the same -drive, and
 * QEMU refuses a second pflash unit 0). */
typedef enum AppRecipeGives {
    APP_RECIPE_GIVES_BIOS = 1 << 0,   /* -bios */
    APP_RECIPE_GIVES_PFLASH = 1 << 1, /* -drive if=pflash,unit=0 */
} AppRecipeGives;

/*
 * Make argv (a VM's options, NULL-terminated) safe for a proof; gives: a
 * mask of AppRecipeGives.
 */
AppVmArgs *app_vm_args_sanitize(const char *const *argv, unsigned gives);
void app_vm_args_free(AppVmArgs *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AppVmArgs, app_vm_args_free)

/*
 * The options of a libvirt domain: `virsh domxml-to-native qemu-argv
 * --domain NAME` (domain) or of a domain XML file (xml_file); virsh is
 * the one in PATH ($QSNAPFIX_VIRSH overrides it). NULL-terminated, the
 * program and the environment in front removed.
 */
char **app_vm_args_from_libvirt(const char *domain, const char *xml_file,
                                GError **errp);

/*
 * The VM's own options, given one way: after '--' (after_dashes, never
 * NULL), a shell-quoted string (vm_args), or a libvirt domain by name or
 * by XML file. Given two ways: G_OPTION_ERROR.
 */
char **app_vm_args_pick(char **after_dashes, const char *vm_args,
                        const char *domain, const char *domain_xml,
                        GError **errp);

#endif
