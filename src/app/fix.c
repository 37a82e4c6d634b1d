/*
 * fix: snapshots of a qcow2 image through the pipeline, each rewritten in
 * place copy-on-write; translate: a stream file into a new file (fix.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>
#include <sys/stat.h>

#include "exit_codes.h"
#include "fix.h"
#include "record.h"

/*
 * The snapshots to work on, by place in the table (IDs need not be
 * unique; a splice keeps every entry at its place): --snapshot (resolved
 * once, as QEMU looks it up), --all, or the only one with VM state.
 */
GArray *app_pick_snapshots(Qcow2Image *img, const char *snapshot, bool all,
                           GError **errp)
{
    g_autoptr(GArray) picked = g_array_new(false, false, sizeof(guint));
    guint with_state = 0;

    if (snapshot) {
        const Qcow2Snapshot *sn = qcow2_snapshot_find(img, snapshot, errp);
        if (!sn) {
            return NULL;
        }
        if (app_snapshot_is_original(sn)) {
            g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "%s: snapshot %s \"%s\" is the original a fix kept: "
                        "it is not fixed again (qsnapfix undo restores it)",
                        qcow2_name(img), sn->id, sn->name);
            return NULL;
        }
        g_array_append_val(picked, sn->index);
        return g_steal_pointer(&picked);
    }
    for (guint i = 0; i < qcow2_snapshot_count(img); i++) {
        const Qcow2Snapshot *sn = qcow2_snapshot_get(img, i);
        /* An original kept by a fix is its backup, not a candidate. */
        if (sn->vm_state_size && !app_snapshot_is_original(sn)) {
            with_state++;
            g_array_append_val(picked, i);
        }
    }
    if (with_state > 1 && !all) {
        g_set_error(errp, APP_REQUEST_ERROR, APP_REQUEST_AMBIGUOUS,
                    "%s: %u snapshots hold VM state: name one with "
                    "--snapshot or use --all",
                    qcow2_name(img), with_state);
        return NULL;
    }
    return g_steal_pointer(&picked);
}

void app_fix_snapshot(Qcow2Image *img, const char *image, guint index,
                      const AppOptions *o, AppOutcome *out)
{
    app_fix_snapshot_hooked(img, image, index, o, NULL, out);
}

void app_fix_snapshot_hooked(Qcow2Image *img, const char *image, guint index,
                             const AppOptions *o, const AppRunHooks *hooks,
                             AppOutcome *out)
{
    const Qcow2Snapshot *sn = qcow2_snapshot_get(img, index);
    AppRecipeNames names = {0};
    g_autoptr(AppSource) source = NULL;
    g_autoptr(AppSink) sink = NULL;
    g_autofree char *after = NULL;

    if (!sn) {
        app_outcome_fail(out, g_error_new(QCOW2_ERROR, QCOW2_ERROR_NOT_FOUND,
                                          "%s: no snapshot table entry %u",
                                          image, index));
        return;
    }
    app_recipe_names_for_snapshot(&names, o, image, sn->name);
    source = app_source_qcow2(img, index);
    sink = app_sink_qcow2(img, index);
    sink->path = g_strdup(image);
    after = g_strdup_printf("%s: snapshot %s \"%s\": after the fix", image,
                            out->id, out->name);
    app_run_hooked(source, sink, &names, after, o, hooks, out);
    app_recipe_names_clear(&names);
}

bool app_reclaim_leaks(Qcow2Image *img, bool dry_run, AppReclaim *out,
                       GError **errp)
{
    Qcow2ReclaimOptions ro = {.dry_run = dry_run};
    Qcow2SpliceStats st;
    bool ok = qcow2_reclaim_leaks(img, &ro, &st, errp);

    memset(out, 0, sizeof(*out));
    out->ran = true;
    out->found = st.leaked_clusters;
    out->left = st.leaks_left;
    out->freed = st.clusters_freed;
    out->discarded_bytes = st.discarded_bytes;
    return ok;
}

AppOutcome *app_fix_savefile(const char *path, const AppOptions *o)
{
    AppOutcome *out = app_outcome_new(NULL, path);

    app_fix_savefile_hooked(path, o, NULL, out);
    return out;
}

void app_fix_savefile_hooked(const char *path, const AppOptions *o,
                             const AppRunHooks *hooks, AppOutcome *out)
{
    AppOptions so = *o;
    AppRecipeNames names = {0};
    g_autoptr(AppSource) source = app_source_savefile(path);
    g_autoptr(AppSink) sink =
        app_sink_savefile(path, o->emulator, out->container_changes);
    g_autofree char *after = g_strdup_printf("%s: after the fix", path);

    so.keep_original = !o->discard_original;
    app_recipe_names_for_file(&names, o, path);
    app_run_hooked(source, sink, &names, after, &so, hooks, out);
    if (out->status == APP_COMPATIBLE && out->write.wrote) {
        /* the stream loads as it is, but the domain XML had to change */
        out->status = APP_FIXED;
    }
    app_recipe_names_clear(&names);
}

bool app_stop_requested(const AppOptions *o)
{
    return o->cancel && *o->cancel;
}

void app_outcome_not_begun(AppOutcome *out, const char *image)
{
    app_outcome_fail(out, g_error_new(QCOW2_ERROR, QCOW2_ERROR_CANCELLED,
                                      "%s: snapshot %s \"%s\": not begun "
                                      "(interrupted): unchanged",
                                      image, out->id, out->name));
}

GPtrArray *app_fix_image(const char *image, const char *snapshot, bool all,
                         const AppOptions *o, AppReclaim *reclaim,
                         GError **errp)
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
    g_autoptr(GArray) picked = NULL;
    GPtrArray *outcomes;

    if (img && o->reclaim_leaks &&
        !app_reclaim_leaks(img, o->dry_run, reclaim, errp)) {
        qcow2_close(img);
        return NULL;
    }
    picked = img ? app_pick_snapshots(img, snapshot, all, errp) : NULL;

    if (!picked) {
        qcow2_close(img);
        return NULL;
    }
    outcomes = g_ptr_array_new_with_free_func((GDestroyNotify)app_outcome_free);
    for (guint i = 0; i < picked->len; i++) {
        guint index = g_array_index(picked, guint, i);
        const Qcow2Snapshot *sn = qcow2_snapshot_get(img, index);
        AppOutcome *out =
            app_outcome_new(sn ? sn->id : "?", sn ? sn->name : "?");

        g_ptr_array_add(outcomes, out);
        if (app_stop_requested(o)) { /* between two snapshots */
            app_outcome_not_begun(out, image);
            continue;
        }
        app_fix_snapshot(img, image, index, o, out);
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
