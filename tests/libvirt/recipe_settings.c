/*
 * Prints, as JSON, every device setting the qemu-7.2 recipe can ask for,
 * each made by the recipe code itself (recipe.c) and rendered as `fix`
 * renders it: its QEMU arguments, its libvirt XML fragments
 * (src/libvirt/render.c), and what QEMU must then create (a RAM block
 * of a length, a device property, no HPET). test_libvirt_settings.py gives
 * each one to a real libvirtd and checks that QEMU got it.
 *
 *   recipe_settings ROM BIOS FLASH
 *
 * ROM, BIOS and FLASH are files the settings name (a ROM for every
 * romfile= setting, -bios, the pflash drive); their sizes give the
 * expected block lengths.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "json/json.h"
#include "libvirt/render.h"
#include "translate/recipe.h"
#include "translate/rules.h"
#include "translate/target.h"

#define MIB (1024 * 1024)

static uint64_t file_size(const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "recipe_settings: %s: cannot stat\n", path);
        exit(2);
    }
    return (uint64_t)st.st_size;
}

static uint64_t power_of_two_at_least(uint64_t n)
{
    uint64_t p = 1;

    while (p < n) {
        p <<= 1;
    }
    return p;
}

/* Takes a. */
static void add_strings(QjValue *o, const char *name, GPtrArray *a)
{
    qj_set_strings(o, name, a);
    g_ptr_array_unref(a);
}

/* One setting: the recipe as fix reports it, and what QEMU must show. */
static void emit(QjValue *settings, const char *name, const char *driver,
                 TrRecipe *r, const char *block, uint64_t length,
                 const char *qtree_value)
{
    QjValue *o = qj_append_object(settings);
    QjValue *recipe, *expect;

    r->machine = g_strdup("pc-i440fx-1.4");
    qj_set_str(o, "name", name);
    qj_set_str(o, "driver", driver);
    recipe = qj_set_object(o, "recipe");
    qj_set_str(recipe, "machine", r->machine);
    add_strings(recipe, "qemu-args", tr_recipe_qemu_args(r));
    add_strings(recipe, "libvirt-xml", qsnapfix_libvirt_xml(r));
    add_strings(recipe, "notes", g_ptr_array_ref(r->notes));
    expect = qj_set_object(o, "expect");
    if (block) {
        qj_set_str(expect, "block", block);
        qj_set_uint(expect, "length", length);
    }
    if (qtree_value) {
        qj_set_str(expect, "property", qtree_value);
    }
    if (!block && !qtree_value) {
        qj_set_bool(expect, "hpet", false);
    }
    tr_recipe_free(r);
}

/* A vgamem_mb the target allows that is not its default size. */
static uint32_t other_vgamem(const TrRamSpec *spec)
{
    uint32_t pick = 0;

    for (guint i = 0; i < G_N_ELEMENTS(spec->vgamem_mb); i++) {
        uint32_t mb = spec->vgamem_mb[i];
        if (mb && (uint64_t)mb * MIB != spec->length) {
            pick = mb;
        }
    }
    return pick;
}

/* The first of the target's specs that sets `prop` on spec's driver? */
static bool first_for_driver(const TrTarget *t, const TrRamSpec *spec)
{
    for (const TrRamSpec *s = t->ram; s != spec; s++) {
        if (s->kind == spec->kind && s->driver && spec->driver &&
            !g_strcmp0(s->property, spec->property) &&
            !strcmp(s->driver, spec->driver)) {
            return false;
        }
    }
    return true;
}

/* One setting per driver and property: a later spec of the same driver
 * (ne2k_pci's two ROM names) asks for the same -global. */
static void emit_ram_specs(QjValue *b, const TrTarget *t, const char *rom)
{
    for (const TrRamSpec *spec = t->ram; spec->match; spec++) {
        TrRecipe *r;
        g_autofree char *name = NULL;

        if (!first_for_driver(t, spec)) {
            continue;
        }
        if (spec->kind == TR_RAM_VGAMEM && spec->driver) {
            const char *prop = spec->property ? spec->property : "vgamem_mb";
            uint32_t mb = other_vgamem(spec);
            g_autofree char *value = g_strdup_printf("%u", mb);
            r = tr_recipe_new();
            tr_recipe_add_global(r, spec->driver, prop, value);
            name = g_strdup_printf("%s.%s=%s", spec->driver, prop, value);
            emit(b, name, spec->driver, r, spec->match, (uint64_t)mb * MIB,
                 NULL);
        } else if (spec->kind == TR_RAM_ROMFILE && spec->driver) {
            r = tr_recipe_new();
            tr_recipe_add_global(r, spec->driver, "romfile", rom);
            name = g_strdup_printf("%s.romfile", spec->driver);
            emit(b, name, spec->driver, r, spec->match,
                 power_of_two_at_least(file_size(rom)), NULL);
        }
    }
}

/* -global settings the rules give as they are (R24 qxl revision, R21, R22,
 * R27, R29),
 * with values pc-i440fx-1.4 does not have by default; the expected qtree
 * line is "PROP = VALUE" as `info qtree` prints it. */
static const struct {
    const char *driver, *prop, *value, *qtree;
} plain_globals[] = {
    {"qxl-vga", "revision", "3", "revision = 3 (0x3)"},
    {"PIIX4_PM", "acpi-pci-hotplug-with-bridge-support", "on",
     "acpi-pci-hotplug-with-bridge-support = true"},
    {"VGA", "qemu-extended-regs", "on", "qemu-extended-regs = true"},
    /* R27, R29 */
    {"intel-hda", "old_msi_addr", "off", "old_msi_addr = false"},
    {"virtio-serial-pci", "vectors", "2", "vectors = 2 (0x2)"},
};

int main(int argc, char **argv)
{
    const TrTarget *t = tr_target_find("qemu-7.2");
    g_autoptr(QjValue) b = qj_array();
    TrRecipe *r;

    if (argc != 4 || !t) {
        fprintf(stderr, "usage: recipe_settings ROM BIOS FLASH\n");
        return 2;
    }
    emit_ram_specs(b, t, argv[1]);
    for (guint i = 0; i < G_N_ELEMENTS(plain_globals); i++) {
        r = tr_recipe_new();
        tr_recipe_add_global(r, plain_globals[i].driver, plain_globals[i].prop,
                             plain_globals[i].value);
        emit(b, plain_globals[i].prop, plain_globals[i].driver, r, NULL, 0,
             plain_globals[i].qtree);
    }
    r = tr_recipe_new();
    tr_recipe_add_bios(r, argv[2]);
    emit(b, "bios", "", r, "pc.bios", file_size(argv[2]), NULL);
    r = tr_recipe_new();
    tr_recipe_add_pflash(r, argv[3]);
    emit(b, "pflash", "", r, "system.flash0", file_size(argv[3]), NULL);
    r = tr_recipe_new();
    tr_recipe_add_no_hpet(r, t->hpet_syntax == TR_HPET_NO_HPET_OPTION);
    emit(b, "no-hpet", "", r, NULL, 0, NULL);
    qj_print(b);
    return 0;
}
