/*
 * The translator's options and the recipe files' names (options.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "options.h"

/* A file-name-safe version of a snapshot name. */
static char *safe_name(const char *s)
{
    char *r = g_strdup(s && *s ? s : "snapshot");

    for (char *c = r; *c; c++) {
        if (!g_ascii_isalnum(*c) && *c != '.' && *c != '-' && *c != '_') {
            *c = '_';
        }
    }
    return r;
}

static void names_for(AppRecipeNames *n, const AppOptions *o, const char *path,
                      const char *snapshot_name)
{
    g_autofree char *abs = g_canonicalize_filename(path, NULL);
    g_autofree char *base = g_path_get_basename(abs);

    n->dir = o->rom_dir ? g_canonicalize_filename(o->rom_dir, NULL)
                        : g_path_get_dirname(abs);
    if (snapshot_name) {
        g_autofree char *safe = safe_name(snapshot_name);
        n->prefix = g_strdup_printf("%s.%s", base, safe);
    } else {
        n->prefix = g_steal_pointer(&base);
    }
}

void app_recipe_names_for_snapshot(AppRecipeNames *n, const AppOptions *o,
                                   const char *image, const char *snapshot_name)
{
    /* A snapshot without a name is still told apart from the image. */
    names_for(n, o, image, snapshot_name ? snapshot_name : "");
}

void app_recipe_names_for_file(AppRecipeNames *n, const AppOptions *o,
                               const char *path)
{
    names_for(n, o, path, NULL);
}

void app_recipe_names_clear(AppRecipeNames *n)
{
    g_clear_pointer(&n->dir, g_free);
    g_clear_pointer(&n->prefix, g_free);
}

TrOptions app_tr_options(const AppOptions *o, const AppRecipeNames *names)
{
    TrOptions t = {
        .target = o->target,
        .machine = o->machine,
        .shrink_vram = o->shrink_vram,
        .drop_roms = o->drop_roms,
        .keep_block_sections = o->keep_block_sections,
        .file_dir = names ? names->dir : NULL,
        .file_prefix = names ? names->prefix : NULL,
        .drop_sections = o->drop_sections,
        .accept_loss = o->accept_loss,
    };
    return t;
}
