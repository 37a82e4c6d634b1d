/*
 * The resume recipe: what the target must be told so that it creates what
 * the stream expects, as plain data (machine, accelerator, CPU, device
 * settings, files, notes). Front ends render it: the QEMU options here
 * (tr_recipe_qemu_args: the target's own spelling), libvirt domain XML in
 * src/libvirt/render.c.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "recipe.h"
#include "rules.h"

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

static void setting_free(gpointer data)
{
    TrSetting *s = data;
    g_free(s->driver);
    g_free(s->property);
    g_free(s->value);
    g_free(s->path);
    g_free(s);
}

static void warning_free(gpointer data)
{
    TrWarning *w = data;
    g_free(w->message);
    g_free(w->why);
    g_free(w);
}

TrRecipe *tr_recipe_new(void)
{
    TrRecipe *r = g_new0(TrRecipe, 1);

    r->warnings = g_ptr_array_new_with_free_func(warning_free);
    r->settings = g_ptr_array_new_with_free_func(setting_free);
    r->files = g_ptr_array_new_with_free_func(file_free);
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
    g_ptr_array_unref(r->settings);
    g_ptr_array_unref(r->files);
    g_ptr_array_unref(r->notes);
    g_ptr_array_unref(r->warnings);
    g_free(r);
}

static void expect(TrRecipe *r, char *message, char *why)
{
    TrWarning *w = g_new0(TrWarning, 1);

    w->message = message;
    w->why = why;
    g_ptr_array_add(r->warnings, w);
}

void tr_recipe_expect_warnings(TrRecipe *r, const TrTarget *target,
                               const VmsStream *s)
{
    if (target->reads_vmdesc && !s->has_vmdesc) {
        expect(r, g_strdup("Expected vmdescription section, but got 0"),
               g_strdup_printf("the stream ends without the VM description "
                               "(JSON) QEMU >= 2.3 writes after it for "
                               "analysis tools only; %s reads on past the "
                               "end, finds none and loads the state all "
                               "the same",
                               target->name));
    }
    if (tr_target_machine_deprecated(target, r->machine)) {
        expect(r,
               g_strdup_printf("Machine type '%s' is deprecated", r->machine),
               g_strdup_printf("%s marks -M %s deprecated (a later QEMU may "
                               "drop it); the stream's devices need this "
                               "machine, and it runs them as it always did",
                               target->name, r->machine));
    }
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

void tr_recipe_add_note(TrRecipe *r, char *note)
{
    if (has_string(r->notes, note)) {
        g_free(note);
        return;
    }
    g_ptr_array_add(r->notes, note);
}

static TrSetting *add_setting(TrRecipe *r, TrSettingKind kind)
{
    TrSetting *s = g_new0(TrSetting, 1);

    s->kind = kind;
    g_ptr_array_add(r->settings, s);
    return s;
}

/* A display device QEMU creates by default, unless a -device or -global
 * names its driver (vl.c's default_driver_check). */
static bool display_driver(const char *driver)
{
    static const char *const displays[] = {"VGA", "cirrus-vga", "vmware-svga",
                                           "qxl-vga", NULL};

    for (guint i = 0; displays[i]; i++) {
        if (!strcmp(displays[i], driver)) {
            return true;
        }
    }
    return false;
}

void tr_recipe_add_global(TrRecipe *r, const char *driver, const char *prop,
                          const char *value)
{
    for (guint i = 0; i < r->settings->len; i++) {
        const TrSetting *s = g_ptr_array_index(r->settings, i);
        if (s->kind == TR_SETTING_GLOBAL && !strcmp(s->driver, driver) &&
            !strcmp(s->property, prop) && !strcmp(s->value, value)) {
            return;
        }
    }
    TrSetting *s = add_setting(r, TR_SETTING_GLOBAL);
    s->driver = g_strdup(driver);
    s->property = g_strdup(prop);
    s->value = g_strdup(value);
    if (display_driver(driver)) {
        tr_recipe_add_note(
            r, g_strdup_printf("-global %s.*: QEMU then creates no default "
                               "display, so the VM's own options must name "
                               "it (-vga std|cirrus|vmware|qxl, or -device); "
                               "libvirt always does",
                               driver));
    }
}

void tr_recipe_add_bios(TrRecipe *r, const char *path)
{
    add_setting(r, TR_SETTING_BIOS)->path = g_strdup(path);
}

/*
 * The flash is a read-only pflash drive on QEMU's command line, also under
 * libvirt (src/libvirt/render.c says why), so libvirt does not label the file.
 */
void tr_recipe_add_pflash(TrRecipe *r, const char *path)
{
    add_setting(r, TR_SETTING_PFLASH)->path = g_strdup(path);
    tr_recipe_add_note(
        r, g_strdup_printf("libvirt: the flash image %s is given to QEMU "
                           "on its command line, so libvirt does not label "
                           "it: it must be readable by the user QEMU runs "
                           "as (and by its AppArmor/SELinux profile)",
                           path));
}

void tr_recipe_add_no_hpet(TrRecipe *r, bool no_hpet_option)
{
    add_setting(r, TR_SETTING_NO_HPET)->no_hpet_option = no_hpet_option;
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

/* ---- the recipe as QEMU options ---------------------------------------- */

void tr_setting_qemu_args(const TrSetting *s, GPtrArray *argv)
{
    switch (s->kind) {
    case TR_SETTING_GLOBAL:
        g_ptr_array_add(argv, g_strdup("-global"));
        g_ptr_array_add(argv, g_strdup_printf("%s.%s=%s", s->driver,
                                              s->property, s->value));
        return;
    case TR_SETTING_BIOS:
        g_ptr_array_add(argv, g_strdup("-bios"));
        g_ptr_array_add(argv, g_strdup(s->path));
        return;
    case TR_SETTING_PFLASH:
        g_ptr_array_add(argv, g_strdup("-drive"));
        g_ptr_array_add(argv, g_strdup_printf("if=pflash,format=raw,unit=0,"
                                              "readonly=on,file=%s",
                                              s->path));
        return;
    case TR_SETTING_NO_HPET:
        if (s->no_hpet_option) {
            g_ptr_array_add(argv, g_strdup("-no-hpet"));
        } else {
            g_ptr_array_add(argv, g_strdup("-machine"));
            g_ptr_array_add(argv, g_strdup("hpet=off"));
        }
        return;
    }
}

GPtrArray *tr_recipe_qemu_args(const TrRecipe *r)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < r->settings->len; i++) {
        tr_setting_qemu_args(g_ptr_array_index(r->settings, i), argv);
    }
    return argv;
}

char *tr_recipe_command_line(const TrRecipe *r)
{
    g_autoptr(GPtrArray) argv = tr_recipe_qemu_args(r);
    GString *g = g_string_new(NULL);

    g_string_append_printf(g, "-M %s", r->machine ? r->machine : "pc");
    if (r->accel) {
        g_string_append_printf(
            g, r->accel_machine_property ? " -machine accel=%s" : " -accel %s",
            r->accel);
    }
    for (guint i = 0; i < argv->len; i++) {
        const char *a = g_ptr_array_index(argv, i);
        bool plain = true;
        for (const char *c = a; *c; c++) {
            if (!g_ascii_isalnum(*c) && !strchr("-_.,=/:+@", *c)) {
                plain = false;
            }
        }
        g_string_append_c(g, ' ');
        if (plain) {
            g_string_append(g, a);
        } else {
            g_autofree char *q = g_shell_quote(a);
            g_string_append(g, q);
        }
    }
    return g_string_free(g, FALSE);
}

bool tr_recipe_same_settings(const TrRecipe *a, const TrRecipe *b)
{
    g_autoptr(GPtrArray) x = tr_recipe_qemu_args(a);
    g_autoptr(GPtrArray) y = tr_recipe_qemu_args(b);

    if (g_strcmp0(a->machine, b->machine) || g_strcmp0(a->accel, b->accel) ||
        x->len != y->len) {
        return false;
    }
    for (guint i = 0; i < x->len; i++) {
        if (strcmp(g_ptr_array_index(x, i), g_ptr_array_index(y, i))) {
            return false;
        }
    }
    return true;
}
