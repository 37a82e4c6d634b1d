/*
 * The resume recipe as libvirt domain XML fragments. What libvirt 9.0 does
 * with each (README "Under libvirt"; tests/libvirt checks it against a
 * real libvirtd):
 *
 * - NIC option ROMs: <interface><rom file=.../>; video memory sizes:
 *   <video><model vram=|ram=> in KiB. libvirt gives cirrus-vga no size,
 *   so its -global goes on the QEMU command line as well.
 * - -bios: <os><loader type='rom'>.
 * - The BIOS flash stays on QEMU's command line, not <loader
 *   type='pflash'>: libvirt gives a read-only one an NVRAM store it wants a
 *   template for ("unable to find any master var store") unless
 *   stateless='yes', and then refuses internal snapshots of the domain
 *   ("internal snapshots of a VM with pflash based firmware are not
 *   supported"). On the command line the snapshot loads and
 *   snapshot-create keeps working (savevm skips read-only drives).
 * - No HPET: <clock><timer name='hpet' present='no'/>.
 * - Anything else: <qemu:commandline> with the setting's QEMU options.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "render.h"

#include <inttypes.h>
#include <string.h>

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"

static void add(GPtrArray *xml, char *fragment)
{
    for (guint i = 0; i < xml->len; i++) {
        if (!strcmp(g_ptr_array_index(xml, i), fragment)) {
            g_free(fragment);
            return;
        }
    }
    g_ptr_array_add(xml, fragment);
}

/* <qemu:commandline> with the setting's own QEMU options */
static char *commandline(const TrSetting *s)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    GString *g = g_string_new("<qemu:commandline xmlns:qemu='" QEMU_NS "'>");

    tr_setting_qemu_args(s, argv);
    for (guint i = 0; i < argv->len; i++) {
        g_autofree char *arg = g_markup_printf_escaped(
            "<qemu:arg value='%s'/>", (char *)g_ptr_array_index(argv, i));
        g_string_append(g, arg);
    }
    g_string_append(g, "</qemu:commandline>");
    return g_string_free(g, FALSE);
}

/* libvirt's own element for a -global, where there is one */
static char *global_element(const TrSetting *s)
{
    static const struct {
        const char *driver, *model;
    } nics[] = {{"e1000", "e1000"},           {"rtl8139", "rtl8139"},
                {"virtio-net-pci", "virtio"}, {"ne2k_pci", "ne2k_pci"},
                {"pcnet", "pcnet"},           {"i82551", "i82551"},
                {"i82557b", "i82557b"},       {"i82559er", "i82559er"}};
    static const struct {
        const char *driver, *model;
    } videos[] = {{"VGA", "vga"},
                  {"vmware-svga", "vmvga"},
                  {"qxl-vga", "qxl"},
                  {"cirrus-vga", "cirrus"}};
    const char *prop = s->property;

    if (!strcmp(prop, "romfile")) {
        for (guint i = 0; i < G_N_ELEMENTS(nics); i++) {
            if (!strcmp(s->driver, nics[i].driver)) {
                return g_markup_printf_escaped(
                    "<interface><model type='%s'/><rom file='%s'/>"
                    "</interface>",
                    nics[i].model, s->value);
            }
        }
        return NULL;
    }
    if (!strcmp(prop, "vgamem_mb") || !strcmp(prop, "ram_size_mb") ||
        !strcmp(prop, "vram_size_mb")) {
        uint64_t kib = g_ascii_strtoull(s->value, NULL, 10) * 1024;
        const char *attr = !strcmp(prop, "ram_size_mb") ? "ram" : "vram";
        for (guint i = 0; i < G_N_ELEMENTS(videos); i++) {
            if (!strcmp(s->driver, videos[i].driver)) {
                return g_markup_printf_escaped(
                    "<video><model type='%s' %s='%" PRIu64 "'/></video>",
                    videos[i].model, attr, kib);
            }
        }
    }
    return NULL;
}

static void add_setting(GPtrArray *xml, const TrSetting *s)
{
    char *element;

    switch (s->kind) {
    case TR_SETTING_GLOBAL:
        element = global_element(s);
        if (element) {
            add(xml, element);
        }
        /* libvirt hands cirrus-vga no size: the -global is needed too */
        if (!element || !strcmp(s->driver, "cirrus-vga")) {
            add(xml, commandline(s));
        }
        return;
    case TR_SETTING_BIOS:
        add(xml, g_markup_printf_escaped("<os><loader type='rom' "
                                         "readonly='yes'>%s</loader></os>",
                                         s->path));
        return;
    case TR_SETTING_PFLASH:
        add(xml, commandline(s));
        return;
    case TR_SETTING_NO_HPET:
        add(xml, g_strdup("<clock offset='utc'><timer name='hpet' "
                          "present='no'/></clock>"));
        return;
    }
}

GPtrArray *qsnapfix_libvirt_xml(const TrRecipe *r)
{
    GPtrArray *xml = g_ptr_array_new_with_free_func(g_free);

    if (r->accel) {
        add(xml, g_strdup_printf("<domain type='%s'>", r->accel));
    }
    add(xml, g_markup_printf_escaped("<os><type arch='x86_64' machine='%s'>hvm"
                                     "</type></os>",
                                     r->machine ? r->machine : "pc"));
    if (r->cpu_model) {
        add(xml, g_markup_printf_escaped("<cpu mode='custom' match='exact'>"
                                         "<model fallback='forbid'>%s</model>"
                                         "</cpu>",
                                         r->cpu_model));
    }
    for (guint i = 0; i < r->settings->len; i++) {
        add_setting(xml, g_ptr_array_index(r->settings, i));
    }
    return xml;
}
