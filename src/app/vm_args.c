/*
 * A VM's own QEMU options made safe for a proof (vm_args.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "vm_args.h"

/* clang-format off */
/* Options dropped with their argument, and those without one. */
static const char *const dropped_with_arg[] = {
    "-pidfile", "-monitor", "-qmp", "-qmp-pretty", "-mon", "-display",
    "-vnc", "-spice", "-incoming", "-loadvm", "-add-fd", "-D", "-runas",
    "-chroot", "-accel", "-daemonize-fd", "-msg", NULL};
static const char *const dropped_alone[] = {
    "-S", "-daemonize", "-nographic", "-curses", "-sdl", "-enable-kvm",
    "-no-kvm", "-full-screen", NULL};
/* Options without an argument that are kept as they are. */
static const char *const kept_alone[] = {
    "-usb", "-snapshot", "-no-hpet", "-no-acpi", "-no-reboot",
    "-no-shutdown", "-nodefaults", "-no-user-config", "-nodefconfig",
    "-localtime", "-no-fd-bootchk", "-win2k-hack", "-rtc-td-hack",
    "-no-kvm-irqchip", "-no-kvm-pit", "-no-kvm-pit-reinjection",
    "-enable-nesting", "-mem-prealloc", "-only-migratable", "-alt-grab",
    "-ctrl-grab", "-no-quit", "-s", "-singlestep", "-enable-fips",
    "-preconfig", "-portrait", "-no-frame", "-std-vga", "-old-param",
    "-semihosting", NULL};
/* Options that take an argument and are kept as they are. */
static const char *const kept_with_arg[] = {
    "-m", "-smp", "-cpu", "-device", "-vga", "-global", "-rtc", "-boot",
    "-name", "-uuid", "-smbios", "-k", "-L", "-usbdevice", "-soundhw",
    "-object", "-numa", "-fsdev", "-virtfs", "-kernel", "-initrd",
    "-append", "-hda", "-hdb", "-hdc", "-hdd", "-cdrom", "-fda", "-fdb",
    "-drive", "-overcommit", "-sandbox", "-tpmdev", "-icount", "-bios",
    "-prom-env", "-fw_cfg", "-option-rom", "-mem-path", "-d", "-trace",
    "-action", "-compat", "-iscsi", "-set", "-watchdog", "-watchdog-action",
    NULL};
/* clang-format on */

static bool one_of(const char *const *list, const char *opt)
{
    for (guint i = 0; list[i]; i++) {
        if (!strcmp(list[i], opt)) {
            return true;
        }
    }
    return false;
}

/* "-opt" and "--opt" alike */
static const char *option_name(const char *a)
{
    return a[0] == '-' && a[1] == '-' ? a + 1 : a;
}

/* The value of key=... in a keyval string, or in a JSON object text. */
static char *keyval_get(const char *s, const char *key)
{
    g_autofree char *json_key = g_strdup_printf("\"%s\"", key);
    const char *j = s[0] == '{' ? strstr(s, json_key) : NULL;

    if (j) {
        const char *q = strchr(j + strlen(json_key), '"');
        const char *e = q ? strchr(q + 1, '"') : NULL;
        return e ? g_strndup(q + 1, e - q - 1) : NULL;
    }
    g_auto(GStrv) parts = g_strsplit(s, ",", -1);
    size_t n = strlen(key);
    for (guint i = 0; parts[i]; i++) {
        if (!strncmp(parts[i], key, n) && parts[i][n] == '=') {
            return g_strdup(parts[i] + n + 1);
        }
    }
    return NULL;
}

static void add(AppVmArgs *a, const char *opt, char *value)
{
    g_ptr_array_add(a->args, g_strdup(opt));
    if (value) {
        g_ptr_array_add(a->args, value);
    }
}

static void note(AppVmArgs *a, char *text)
{
    for (guint i = 0; i < a->notes->len; i++) {
        if (!strcmp(g_ptr_array_index(a->notes, i), text)) {
            g_free(text);
            return;
        }
    }
    g_ptr_array_add(a->notes, text);
}

/* -machine TYPE,opts / type=TYPE,accel=X: keep the options but those two */
static void machine_opts(AppVmArgs *a, const char *v)
{
    g_auto(GStrv) parts = g_strsplit(v, ",", -1);
    g_autoptr(GString) kept = g_string_new(a->machine_opts);

    for (guint i = 0; parts[i]; i++) {
        if ((i == 0 && !strchr(parts[i], '=')) ||
            g_str_has_prefix(parts[i], "type=") ||
            g_str_has_prefix(parts[i], "accel=") || !*parts[i]) {
            continue;
        }
        g_string_append_printf(kept, "%s%s", kept->len ? "," : "", parts[i]);
    }
    g_free(a->machine_opts);
    a->machine_opts = kept->len ? g_strdup(kept->str) : NULL;
}

/*
 * User networking cut off from the host and the outside (restrict=on, no
 * forwarded ports, no SMB): it stays, because its state ('slirp') is in
 * the stream. Of opts only the keys in keep stay.
 */
static char *restricted_user(const char *v, const char *const *keep)
{
    g_auto(GStrv) parts = g_strsplit(v, ",", -1);
    g_autoptr(GString) g = g_string_new("user,restrict=on");

    for (guint i = 1; parts[i]; i++) {
        for (guint k = 0; keep[k]; k++) {
            if (g_str_has_prefix(parts[i], keep[k])) {
                g_string_append_printf(g, ",%s", parts[i]);
            }
        }
    }
    return g_strdup(g->str);
}

static const char *const net_keys[] = {"id=", "vlan=", "name=", NULL};
static const char *const nic_keys[] = {"id=", "model=", "mac=", NULL};

/* -nic TYPE,opts: restricted user networking with the NIC's options */
static char *inert_nic(const char *v)
{
    return g_str_has_prefix(v, "none") ? g_strdup(v)
                                       : restricted_user(v, nic_keys);
}

#define RESTRICTED_NOTE                                                        \
    "user networking: restrict=on, no forwarded ports (its state is in the "   \
    "stream)"

static bool is_secret(const char *v)
{
    g_autofree char *type = keyval_get(v, "qom-type");

    return g_str_has_prefix(v, "secret,") || (type && !strcmp(type, "secret"));
}

/* the first flash drive: the one the recipe's pflash setting takes */
static bool is_pflash_unit0(const char *v)
{
    g_autofree char *iface = keyval_get(v, "if");
    g_autofree char *unit = keyval_get(v, "unit");
    g_autofree char *index = keyval_get(v, "index");

    return iface && !strcmp(iface, "pflash") && (!unit || !strcmp(unit, "0")) &&
           (!index || !strcmp(index, "0"));
}

AppVmArgs *app_vm_args_sanitize(const char *const *argv, unsigned gives)
{
    AppVmArgs *a = g_new0(AppVmArgs, 1);
    bool drives = false;

    a->args = g_ptr_array_new_with_free_func(g_free);
    a->notes = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; argv && argv[i]; i++) {
        const char *opt = option_name(argv[i]);
        const char *v = argv[i + 1];

        if (opt[0] != '-') {
            /* a bare disk image: the first drive */
            add(a, "-hda", g_strdup(argv[i]));
            drives = true;
            continue;
        }
        if (one_of(dropped_alone, opt)) {
            note(a, g_strdup_printf("%s dropped (the proof decides it)", opt));
            continue;
        }
        /* an option this list does not know takes an argument unless an
         * option follows */
        if (!v || one_of(kept_alone, opt) ||
            (v[0] == '-' && !one_of(kept_with_arg, opt) &&
             !one_of(dropped_with_arg, opt))) {
            add(a, argv[i], NULL);
            continue;
        }
        i++;
        if (one_of(dropped_with_arg, opt)) {
            note(a, g_strdup_printf("%s dropped (the proof decides it)", opt));
        } else if (!strcmp(opt, "-M") || !strcmp(opt, "-machine")) {
            machine_opts(a, v);
        } else if (!strcmp(opt, "-bios") && (gives & APP_RECIPE_GIVES_BIOS)) {
            note(a, g_strdup("-bios: the recipe's"));
        } else if (!strcmp(opt, "-drive") && is_pflash_unit0(v) &&
                   (gives & APP_RECIPE_GIVES_PFLASH)) {
            note(a, g_strdup("-drive if=pflash: the recipe's"));
        } else if (!strcmp(opt, "-netdev")) {
            g_autofree char *id = keyval_get(v, "id");
            add(a, "-netdev",
                g_strdup_printf("user,id=%s,restrict=on", id ? id : "net"));
            note(a, g_strdup(RESTRICTED_NOTE));
        } else if (!strcmp(opt, "-net")) {
            add(a, "-net",
                g_str_has_prefix(v, "nic") ? g_strdup(v)
                                           : restricted_user(v, net_keys));
            if (!g_str_has_prefix(v, "nic")) {
                note(a, g_strdup(RESTRICTED_NOTE));
            }
        } else if (!strcmp(opt, "-nic")) {
            add(a, "-nic", inert_nic(v));
        } else if (!strcmp(opt, "-chardev")) {
            g_autofree char *id = keyval_get(v, "id");
            add(a, "-chardev", g_strdup_printf("null,id=%s", id ? id : "c"));
        } else if (!strcmp(opt, "-serial") || !strcmp(opt, "-parallel")) {
            add(a, opt, g_strdup("null"));
        } else if (!strcmp(opt, "-audiodev")) {
            g_autofree char *id = keyval_get(v, "id");
            add(a, "-audiodev", g_strdup_printf("none,id=%s", id ? id : "a"));
        } else if (!strcmp(opt, "-object") && is_secret(v)) {
            note(a, g_strdup("-object secret dropped (libvirt's keys stay "
                             "with libvirt)"));
        } else if (!strcmp(opt, "-blockdev")) {
            g_autofree char *node = keyval_get(v, "node-name");
            add(a, "-blockdev",
                g_strdup_printf("driver=null-co,node-name=%s,size=1073741824",
                                node ? node : "n"));
            note(a, g_strdup("-blockdev: a null-co node of the same name (the "
                             "disks are not read)"));
        } else {
            if (!one_of(kept_with_arg, opt)) {
                note(a, g_strdup_printf("%s kept as given", opt));
            }
            drives = drives || !strcmp(opt, "-drive") ||
                     g_str_has_prefix(opt, "-hd") || !strcmp(opt, "-cdrom") ||
                     g_str_has_prefix(opt, "-fd");
            add(a, argv[i - 1], g_strdup(v));
        }
    }
    if (drives) {
        add(a, "-snapshot", NULL);
        note(a, g_strdup("-snapshot: the disks are read, every write goes to "
                         "a temporary overlay"));
    }
    return a;
}

void app_vm_args_free(AppVmArgs *a)
{
    if (!a) {
        return;
    }
    g_ptr_array_unref(a->args);
    g_ptr_array_unref(a->notes);
    g_free(a->machine_opts);
    g_free(a);
}

char **app_vm_args_from_libvirt(const char *domain, const char *xml_file,
                                GError **errp)
{
    const char *virsh = g_getenv("QSNAPFIX_VIRSH");
    const char *argv[] = {virsh ? virsh : "virsh",
                          "domxml-to-native",
                          "qemu-argv",
                          domain ? "--domain" : xml_file,
                          domain,
                          NULL};
    g_autofree char *out = NULL, *err = NULL;
    g_auto(GStrv) words = NULL;
    int status;
    GPtrArray *args;
    guint i = 0;

    if (!g_spawn_sync(NULL, (char **)argv, NULL,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_STDIN_FROM_DEV_NULL, NULL,
                      NULL, &out, &err, &status, errp)) {
        return NULL;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                    "virsh domxml-to-native qemu-argv %s: %s",
                    domain ? domain : xml_file, g_strstrip(err));
        return NULL;
    }
    if (!g_shell_parse_argv(g_strstrip(out), NULL, &words, errp)) {
        g_prefix_error(errp, "virsh domxml-to-native: ");
        return NULL;
    }
    /* VAR=value ... /usr/bin/qemu-system-x86_64 ARGS */
    while (words[i] && strchr(words[i], '=') && words[i][0] != '-') {
        i++;
    }
    args = g_ptr_array_new();
    for (i = words[i] ? i + 1 : i; words[i]; i++) {
        g_ptr_array_add(args, g_strdup(words[i]));
    }
    g_ptr_array_add(args, NULL);
    return (char **)g_ptr_array_free(args, FALSE);
}

char **app_vm_args_pick(char **after_dashes, const char *vm_args,
                        const char *domain, const char *domain_xml,
                        GError **errp)
{
    guint given = !!after_dashes[0] + !!vm_args + !!domain + !!domain_xml;

    if (given > 1) {
        g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "give the VM's options one way: after '--', "
                    "--vm-args, --domain or --domain-xml");
        return NULL;
    }
    if (domain || domain_xml) {
        return app_vm_args_from_libvirt(domain, domain_xml, errp);
    }
    if (vm_args) {
        char **argv = NULL;
        if (!g_shell_parse_argv(vm_args, NULL, &argv, errp)) {
            g_prefix_error(errp, "--vm-args: ");
        }
        return argv;
    }
    return g_strdupv(after_dashes);
}
