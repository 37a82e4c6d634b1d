/*
 * fix: snapshots of a qcow2 image through the pipeline, each rewritten in
 * place copy-on-write; translate: a stream file into a new file (fix.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>
#include <sys/stat.h>

#include "fix.h"

static GPtrArray *pick_snapshots(Qcow2Image *img, const char *snapshot,
                                 bool all, GError **errp)
{
    g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
    guint with_state = 0;

    if (snapshot) {
        const Qcow2Snapshot *sn = qcow2_snapshot_find(img, snapshot, errp);
        if (!sn) {
            return NULL;
        }
        g_ptr_array_add(ids, g_strdup(sn->id));
        return g_steal_pointer(&ids);
    }
    for (guint i = 0; i < qcow2_snapshot_count(img); i++) {
        const Qcow2Snapshot *sn = qcow2_snapshot_get(img, i);
        if (sn->vm_state_size) {
            with_state++;
            g_ptr_array_add(ids, g_strdup(sn->id));
        }
    }
    if (!with_state) {
        g_set_error(errp, QCOW2_ERROR, QCOW2_ERROR_NOT_FOUND,
                    "%s: no snapshot holds VM state (nothing to fix)",
                    qcow2_name(img));
        return NULL;
    }
    if (with_state > 1 && !all) {
        g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "%s: %u snapshots hold VM state: name one with "
                    "--snapshot or use --all",
                    qcow2_name(img), with_state);
        return NULL;
    }
    return g_steal_pointer(&ids);
}

void app_fix_snapshot(Qcow2Image *img, const char *image, const char *id,
                      const AppOptions *o, AppOutcome *out)
{
    GError *err = NULL;
    const Qcow2Snapshot *sn = qcow2_snapshot_find(img, id, &err);
    AppRecipeNames names = {0};
    g_autoptr(AppSource) source = NULL;
    g_autoptr(AppSink) sink = NULL;
    g_autofree char *after = NULL;

    if (!sn) {
        app_outcome_fail(out, err);
        return;
    }
    app_recipe_names_for_snapshot(&names, o, image, sn->name);
    source = app_source_qcow2(img, id);
    sink = app_sink_qcow2(img, id);
    after = g_strdup_printf("%s: snapshot %s \"%s\": after the fix", image,
                            out->id, out->name);
    app_run(source, sink, &names, after, o, out);
    app_recipe_names_clear(&names);
}

AppOutcome *app_fix_savefile(const char *path, const AppOptions *o)
{
    AppOutcome *out = app_outcome_new(NULL, path);
    AppOptions so = *o;
    AppRecipeNames names = {0};
    g_autoptr(AppSource) source = app_source_savefile(path);
    g_autoptr(AppSink) sink =
        app_sink_savefile(path, o->emulator, out->container_changes);
    g_autofree char *after = g_strdup_printf("%s: after the fix", path);

    so.keep_original = !o->discard_original;
    app_recipe_names_for_file(&names, o, path);
    app_run(source, sink, &names, after, &so, out);
    if (out->status == APP_COMPATIBLE && out->write.wrote) {
        /* the stream loads as it is, but the domain XML had to change */
        out->status = APP_FIXED;
    }
    app_recipe_names_clear(&names);
    return out;
}

GPtrArray *app_fix_image(const char *image, const char *snapshot, bool all,
                         const AppOptions *o, GError **errp)
{
    if (app_is_savefile(image)) {
        GPtrArray *one =
            g_ptr_array_new_with_free_func((GDestroyNotify)app_outcome_free);
        if (snapshot || all) {
            g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "%s: a libvirt save image has no snapshots "
                        "(--snapshot, --all)",
                        image);
            g_ptr_array_unref(one);
            return NULL;
        }
        g_ptr_array_add(one, app_fix_savefile(image, o));
        return one;
    }
    Qcow2Image *img = qcow2_open(
        image, o->dry_run ? QCOW2_OPEN_READ_ONLY : QCOW2_OPEN_WRITABLE, errp);
    g_autoptr(GPtrArray) ids =
        img ? pick_snapshots(img, snapshot, all, errp) : NULL;
    GPtrArray *outcomes;

    if (!ids) {
        qcow2_close(img);
        return NULL;
    }
    outcomes = g_ptr_array_new_with_free_func((GDestroyNotify)app_outcome_free);
    for (guint i = 0; i < ids->len; i++) {
        const char *id = g_ptr_array_index(ids, i);
        const Qcow2Snapshot *sn = qcow2_snapshot_find(img, id, NULL);
        AppOutcome *out = app_outcome_new(id, sn ? sn->name : id);

        g_ptr_array_add(outcomes, out);
        app_fix_snapshot(img, image, id, o, out);
    }
    qcow2_close(img);
    return outcomes;
}

static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;

    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

AppOutcome *app_translate_file(const char *in, const char *out_path,
                               const AppOptions *o, GError **errp)
{
    bool from_stdin = !strcmp(in, "-");
    AppRecipeNames names = {0};
    g_autoptr(AppSource) source = NULL;
    g_autoptr(AppSink) sink = NULL;
    g_autofree char *after = NULL;
    AppOutcome *out;

    if (!from_stdin && same_file(in, out_path)) {
        g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "translate: %s: OUT is the same file as IN; write to "
                    "another file",
                    out_path);
        return NULL;
    }
    out = app_outcome_new(NULL, in);
    app_recipe_names_for_file(&names, o, from_stdin ? out_path : in);
    /* a libvirt save image: its stream (the output is a stream file) */
    source = strcmp(in, "-") && app_is_savefile(in) ? app_source_savefile(in)
                                                   : app_source_file(in);
    sink = app_sink_file(out_path, true);
    after = g_strdup_printf("%s: after the translation", out_path);
    app_run(source, sink, &names, after, o, out);
    app_recipe_names_clear(&names);
    return out;
}
