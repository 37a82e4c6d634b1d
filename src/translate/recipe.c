/*
 * The resume recipe: QEMU options and libvirt domain XML fragments that
 * make the target create what the stream expects.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "recipe.h"
#include "rules.h"

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"

const char *tr_file_kind_name(TrFileKind k)
{
    switch (k) {
    case TR_FILE_ROM:
        return "rom";
    case TR_FILE_BIOS:
        return "bios";
    case TR_FILE_PFLASH:
        return "pflash";
    }
    return "?";
}

static void file_free(gpointer data)
{
    TrFile *f = data;
    g_free(f->block);
    g_free(f->path);
    g_free(f);
}

TrRecipe *tr_recipe_new(void)
{
    TrRecipe *r = g_new0(TrRecipe, 1);

    r->qemu_args = g_ptr_array_new_with_free_func(g_free);
    r->files = g_ptr_array_new_with_free_func(file_free);
    r->libvirt_xml = g_ptr_array_new_with_free_func(g_free);
    r->notes = g_ptr_array_new_with_free_func(g_free);
    return r;
}

void tr_recipe_free(TrRecipe *r)
{
    if (!r) {
        return;
    }
    g_free(r->machine);
    g_free(r->accel);
    g_free(r->accel_reason);
    g_free(r->cpu_model);
    g_free(r->cpu_model_id);
    g_free(r->cpu_reason);
    g_ptr_array_unref(r->qemu_args);
    g_ptr_array_unref(r->files);
    g_ptr_array_unref(r->libvirt_xml);
    g_ptr_array_unref(r->notes);
    g_free(r);
}

void tr_recipe_add_args(TrRecipe *r, const char *first, ...)
{
    va_list ap;

    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) {
        g_ptr_array_add(r->qemu_args, g_strdup(a));
    }
    va_end(ap);
}

static bool has_string(GPtrArray *a, const char *s)
{
    for (guint i = 0; i < a->len; i++) {
        if (!strcmp(g_ptr_array_index(a, i), s)) {
            return true;
        }
    }
    return false;
}

void tr_recipe_add_xml(TrRecipe *r, char *fragment)
{
    if (has_string(r->libvirt_xml, fragment)) {
        g_free(fragment);
        return;
    }
    g_ptr_array_add(r->libvirt_xml, fragment);
}

void tr_recipe_add_note(TrRecipe *r, char *note)
{
    if (has_string(r->notes, note)) {
        g_free(note);
        return;
    }
    g_ptr_array_add(r->notes, note);
}

static char *qemu_commandline_xml(const char *option, const char *value)
{
    return g_markup_printf_escaped("<qemu:commandline xmlns:qemu='" QEMU_NS
                                   "'><qemu:arg value='%s'/><qemu:arg "
                                   "value='%s'/></qemu:commandline>",
                                   option, value);
}

/* libvirt's own element for a -global, where there is one */
static char *global_xml(const char *driver, const char *prop, const char *value)
{
    static const struct {
        const char *driver, *model;
    } nics[] = {{"e1000", "e1000"},
                {"rtl8139", "rtl8139"},
                {"virtio-net-pci", "virtio"},
                {"ne2k_pci", "ne2k_pci"},
                {"pcnet", "pcnet"}};
    static const struct {
        const char *driver, *model;
    } videos[] = {{"VGA", "vga"}, {"vmware-svga", "vmvga"}, {"qxl-vga", "qxl"}};

    if (!strcmp(prop, "romfile")) {
        for (guint i = 0; i < G_N_ELEMENTS(nics); i++) {
            if (!strcmp(driver, nics[i].driver)) {
                return g_markup_printf_escaped(
                    "<interface><model type='%s'/><rom file='%s'/>"
                    "</interface>",
                    nics[i].model, value);
            }
        }
        return NULL;
    }
    if (!strcmp(prop, "vgamem_mb") || !strcmp(prop, "ram_size_mb") ||
        !strcmp(prop, "vram_size_mb")) {
        uint64_t kib = g_ascii_strtoull(value, NULL, 10) * 1024;
        const char *attr = !strcmp(prop, "ram_size_mb") ? "ram" : "vram";
        for (guint i = 0; i < G_N_ELEMENTS(videos); i++) {
            if (!strcmp(driver, videos[i].driver)) {
                return g_markup_printf_escaped(
                    "<video><model type='%s' %s='%" PRIu64 "'/></video>",
                    videos[i].model, attr, kib);
            }
        }
        if (!strcmp(driver, "cirrus-vga")) {
            /* libvirt hands no vram to cirrus: the -global is needed too */
            return g_markup_printf_escaped(
                "<video><model type='cirrus' vram='%" PRIu64 "'/></video>",
                kib);
        }
    }
    return NULL;
}

void tr_recipe_add_global(TrRecipe *r, const char *driver, const char *prop,
                          const char *value)
{
    g_autofree char *setting = g_strdup_printf("%s.%s=%s", driver, prop, value);
    char *xml;

    for (guint i = 0; i + 1 < r->qemu_args->len; i++) {
        if (!strcmp(g_ptr_array_index(r->qemu_args, i), "-global") &&
            !strcmp(g_ptr_array_index(r->qemu_args, i + 1), setting)) {
            return;
        }
    }
    tr_recipe_add_args(r, "-global", setting, NULL);
    xml = global_xml(driver, prop, value);
    if (xml) {
        tr_recipe_add_xml(r, xml);
    }
    if (!xml || !strcmp(driver, "cirrus-vga")) {
        tr_recipe_add_xml(r, qemu_commandline_xml("-global", setting));
    }
}

void tr_recipe_add_bios(TrRecipe *r, const char *path)
{
    tr_recipe_add_args(r, "-bios", path, NULL);
    tr_recipe_add_xml(r, g_markup_printf_escaped("<os><loader type='rom' "
                                                 "readonly='yes'>%s</loader>"
                                                 "</os>",
                                                 path));
}

/*
 * Not a <loader type='pflash'>: libvirt 9.0 gives a read-only one an NVRAM
 * store it wants a template for ("unable to find any master var store"),
 * unless stateless='yes', and then refuses internal snapshots of the
 * domain ("internal snapshots of a VM with pflash based firmware are not
 * supported"). The drive on QEMU's command line loads the snapshot and
 * keeps snapshot-create working (savevm skips read-only drives), as
 * tests/libvirt shows with a real libvirtd.
 */
void tr_recipe_add_pflash(TrRecipe *r, const char *path)
{
    g_autofree char *drive = g_strdup_printf(
        "if=pflash,format=raw,unit=0,readonly=on,file=%s", path);

    tr_recipe_add_args(r, "-drive", drive, NULL);
    tr_recipe_add_xml(r, qemu_commandline_xml("-drive", drive));
    tr_recipe_add_note(
        r, g_strdup_printf("libvirt: the flash image %s is given to QEMU "
                           "on its command line, so libvirt does not label "
                           "it: it must be readable by the user QEMU runs "
                           "as (and by its AppArmor/SELinux profile)",
                           path));
}

void tr_recipe_add_no_hpet(TrRecipe *r, bool machine_property)
{
    if (machine_property) {
        tr_recipe_add_args(r, "-machine", "hpet=off", NULL);
    } else {
        tr_recipe_add_args(r, "-no-hpet", NULL);
    }
    tr_recipe_add_xml(r, g_strdup("<clock offset='utc'><timer name='hpet' "
                                  "present='no'/></clock>"));
}

static char *file_name_part(const char *block_id)
{
    char *s = g_strdup(block_id);

    for (char *c = s; *c; c++) {
        if (!g_ascii_isalnum(*c) && *c != '.' && *c != '-' && *c != '_') {
            *c = '-';
        }
    }
    return s;
}

const char *tr_recipe_add_file(TrContext *ctx, TrFileKind kind,
                               guint block_index, const char *block_id,
                               uint64_t length)
{
    TrRecipe *r = ctx->recipe;
    const char *prefix =
        ctx->opts->file_prefix ? ctx->opts->file_prefix : "qsnapfix";
    g_autofree char *part = file_name_part(block_id);
    const char *ext = kind == TR_FILE_ROM    ? ".rom"
                      : kind == TR_FILE_BIOS ? ".bios"
                                             : ".fd";
    g_autofree char *base = g_strdup_printf(
        "%s.%s%s", prefix, part, g_str_has_suffix(part, ext) ? "" : ext);
    TrFile *f;

    for (guint i = 0; i < r->files->len; i++) {
        f = g_ptr_array_index(r->files, i);
        if (f->block_index == block_index) {
            return f->path;
        }
    }
    f = g_new0(TrFile, 1);
    f->kind = kind;
    f->block_index = block_index;
    f->block = g_strdup(block_id);
    f->path = ctx->opts->file_dir
                  ? g_build_filename(ctx->opts->file_dir, base, NULL)
                  : g_strdup(base);
    f->length = length;
    g_ptr_array_add(r->files, f);
    return f->path;
}

void tr_recipe_finish(TrRecipe *r)
{
    char *xml;

    xml = g_markup_printf_escaped("<os><type arch='x86_64' machine='%s'>hvm"
                                  "</type></os>",
                                  r->machine ? r->machine : "pc");
    g_ptr_array_insert(r->libvirt_xml, 0, xml);
    if (r->accel) {
        g_ptr_array_insert(r->libvirt_xml, 0, g_strdup("<domain type='kvm'>"));
    }
}

char *tr_recipe_command_line(const TrRecipe *r)
{
    GString *g = g_string_new(NULL);

    g_string_append_printf(g, "-M %s", r->machine ? r->machine : "pc");
    if (r->accel) {
        g_string_append_printf(
            g, r->accel_machine_property ? " -machine accel=%s" : " -accel %s",
            r->accel);
    }
    for (guint i = 0; i < r->qemu_args->len; i++) {
        g_autofree char *q = g_shell_quote(g_ptr_array_index(r->qemu_args, i));
        const char *a = g_ptr_array_index(r->qemu_args, i);
        bool plain = true;
        for (const char *c = a; *c; c++) {
            if (!g_ascii_isalnum(*c) && !strchr("-_.,=/:+@", *c)) {
                plain = false;
            }
        }
        g_string_append_c(g, ' ');
        g_string_append(g, plain ? a : q);
    }
    return g_string_free(g, FALSE);
}
