/*
 * Analyse, recipe files, apply, verify (pipeline.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib/gstdio.h>
#include <inttypes.h>
#include <string.h>

#include "pipeline.h"
#include "preflight.h"
#include "progress.h"
#include "record.h"

/* Every record of src, every page; step is what the watcher is told. */
static VmsStream *parse_all(VmsSource *src, const AppOptions *o, AppStep step,
                            GError **errp)
{
    VmsParseOptions popts = {.flags = VMS_PARSE_RECORD_PAGES};
    AppWatch watch;
    VmsStream *s;

    app_watch_source(&watch, &o->progress, step, src);
    s = vms_stream_parse(src, &popts, errp);
    app_watch_end(&watch, s != NULL);
    return s;
}

bool app_analyse(VmsSource *src, const AppOptions *o,
                 const AppRecipeNames *names, AppOutcome *out,
                 VmsStream **stream_out, GError **errp)
{
    g_autoptr(VmsStream) s = parse_all(src, o, APP_STEP_READ, errp);
    TrOptions t = app_tr_options(o, names);
    TrResult *r;

    if (!s) {
        return false;
    }
    out->writer = vms_fingerprint(s);
    r = tr_translate(s, src, &t, errp);
    if (!r) {
        return false;
    }
    app_outcome_take_result(out, r, s->size);
    *stream_out = g_steal_pointer(&s);
    return true;
}

void app_recipe_files_free(AppRecipeFiles *f)
{
    if (!f) {
        return;
    }
    g_ptr_array_unref(f->contents);
    g_ptr_array_unref(f->before);
    g_free(f->unchanged);
    g_free(f->written);
    g_free(f);
}

AppRecipeFiles *app_recipe_files_read(const TrResult *r, const VmsStream *s,
                                      VmsSource *src, GError **errp)
{
    const GPtrArray *files = r->recipe->files;
    g_autoptr(AppRecipeFiles) f = g_new0(AppRecipeFiles, 1);

    f->files = files;
    f->contents = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    /* (g_bytes_unref takes NULL: a path that held nothing) */
    f->before = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    f->unchanged = g_new0(bool, MAX(files->len, 1));
    f->written = g_new0(bool, MAX(files->len, 1));
    for (guint i = 0; i < files->len; i++) {
        const TrFile *file = g_ptr_array_index(files, i);
        GBytes *bytes = tr_extract_block(s, src, file->block_index, errp);
        char *old = NULL;
        gsize old_len = 0;

        if (!bytes) {
            return NULL;
        }
        g_ptr_array_add(f->contents, bytes);
        g_ptr_array_add(f->before,
                        g_file_get_contents(file->path, &old, &old_len, NULL)
                            ? g_bytes_new_take(old, old_len)
                            : NULL);
        f->unchanged[i] = g_ptr_array_index(f->before, i) &&
                          g_bytes_equal(g_ptr_array_index(f->before, i), bytes);
        f->bytes += f->unchanged[i] ? 0 : g_bytes_get_size(bytes);
    }
    return g_steal_pointer(&f);
}

bool app_recipe_files_write(AppRecipeFiles *f, GError **errp)
{
    for (guint i = 0; i < f->files->len; i++) {
        const TrFile *file = g_ptr_array_index(f->files, i);
        gsize len;
        const char *data =
            g_bytes_get_data(g_ptr_array_index(f->contents, i), &len);

        if (f->unchanged[i]) {
            continue;
        }
        if (!g_file_set_contents_full(file->path, data, (gssize)len,
                                      G_FILE_SET_CONTENTS_CONSISTENT, 0644,
                                      errp)) {
            g_prefix_error(errp, "cannot write a recipe file: ");
            app_recipe_files_undo(f);
            return false;
        }
        f->written[i] = true;
    }
    return true;
}

void app_recipe_files_undo(AppRecipeFiles *f)
{
    for (guint i = 0; i < f->files->len; i++) {
        const TrFile *file = g_ptr_array_index(f->files, i);
        GBytes *before = g_ptr_array_index(f->before, i);
        gsize len;
        const char *data;

        if (!f->written[i]) {
            continue;
        }
        f->written[i] = false;
        if (!before) {
            g_unlink(file->path);
            continue;
        }
        data = g_bytes_get_data(before, &len);
        g_file_set_contents_full(file->path, data, (gssize)len,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0644, NULL);
    }
}

bool app_write_recipe_files(const TrResult *r, const VmsStream *s,
                            VmsSource *src, GError **errp)
{
    g_autoptr(AppRecipeFiles) f = app_recipe_files_read(r, s, src, errp);

    return f && app_recipe_files_write(f, errp);
}

bool app_write_recipe_contents(const TrRecipe *r, GPtrArray *contents,
                               GError **errp)
{
    g_autoptr(AppRecipeFiles) f = g_new0(AppRecipeFiles, 1);

    f->files = r->files;
    f->contents = g_ptr_array_ref(contents);
    f->before = g_ptr_array_new(); /* nothing to give back but the files */
    for (guint i = 0; i < r->files->len; i++) {
        g_ptr_array_add(f->before, NULL);
    }
    f->unchanged = g_new0(bool, MAX(r->files->len, 1));
    f->written = g_new0(bool, MAX(r->files->len, 1));
    return app_recipe_files_write(f, errp);
}

static AppWrite write_request(VmsSource *old, const AppOptions *o,
                              const TrResult *r, bool dry_run)
{
    AppWrite w = {
        .old = old,
        .edits = r->edits,
        .recipe = r->recipe,
        .new_size = r->new_size,
        .dry_run = dry_run,
        .keep_original = o->keep_original,
        .cancel = o->cancel,
    };
    return w;
}

/* w with the record the fix leaves (record.h): part of what it writes,
 * so that a plan counts it too. */
static bool write_with_record(AppSink *sink, AppWrite *w, const AppOptions *o,
                              const TrResult *r, AppWriteStats *st,
                              GError **errp)
{
    AppRecord record;
    bool ok;

    app_record_for_fix(&record, o, r, r->old_size);
    w->record = &record;
    ok = app_sink_write(sink, w, st, errp);
    w->record = NULL;
    app_record_clear(&record);
    return ok;
}

/* Does the sink get written at all? (In place with nothing to edit, it
 * already holds the result.) */
static bool sink_writes(const AppSink *sink, const TrResult *r)
{
    return !sink->in_place || r->edits->len;
}

bool app_plan(AppSink *sink, VmsSource *old, const AppOptions *o,
              const TrResult *r, AppWriteStats *plan, GError **errp)
{
    AppWrite w = write_request(old, o, r, true);

    return !sink_writes(sink, r) ||
           write_with_record(sink, &w, o, r, plan, errp);
}

static void write_progress(uint64_t done, uint64_t total, void *opaque)
{
    (void)total;
    app_watch_bytes(opaque, done);
}

bool app_apply(AppSink *sink, VmsSource *old, const AppOptions *o,
               AppOutcome *out, GError **errp)
{
    const TrResult *r = out->result;
    AppWrite w = write_request(old, o, r, o->dry_run);
    AppWatch watch;
    bool ok;

    if (!sink_writes(sink, r)) {
        return true;
    }
    /* An in-place sink (the qcow2 splice) counts what it writes; the
     * others read the old stream through once, in order. */
    if (sink->in_place) {
        app_watch_start(&watch, &o->progress, APP_STEP_WRITE, old->name,
                        r->new_size);
    } else {
        app_watch_source(&watch, &o->progress, APP_STEP_WRITE, old);
    }
    w.progress = write_progress;
    w.progress_opaque = &watch;
    ok = write_with_record(sink, &w, o, r, &out->write, errp);
    app_watch_end(&watch, ok);
    return ok;
}

bool app_preflight(const AppSink *sink, const AppWriteStats *plan,
                   const TrResult *r, const AppRecipeFiles *files,
                   GError **errp)
{
    g_autofree char *files_dir = NULL;
    AppSpaceNeed needs[2] = {{0}};
    bool ok = true;

    for (guint i = 0; files && i < files->files->len && !files_dir; i++) {
        const TrFile *f = g_ptr_array_index(files->files, i);
        files_dir = files->unchanged[i] ? NULL : g_path_get_dirname(f->path);
    }
    if (files_dir) {
        needs[1] = (AppSpaceNeed){files_dir, files->bytes, "recipe files"};
    }
    if (sink->path && sink_writes(sink, r)) {
        bool planned = plan && plan->have_stats;
        needs[0] = (AppSpaceNeed){sink->path,
                                  planned          ? plan->space_needed
                                  : sink->in_place ? 0
                                                   : r->new_size,
                                  planned ? "new VM state and metadata"
                                          : "the new file"};
        ok = sink->in_place ? app_preflight_image(sink->path, errp)
                            : app_preflight_new_file(sink->path, errp);
    }
    ok = ok &&
         app_preflight_recipe_dir(r->recipe, files ? files->unchanged : NULL,
                                  errp) &&
         app_check_space(needs, G_N_ELEMENTS(needs), errp);
    if (!ok) {
        g_prefix_error(errp, "%s: ", sink->name);
    }
    return ok;
}

/* The finding that still wants something done: a refusal or an edit. */
static const TrFinding *left_to_do(const TrResult *r)
{
    const TrFinding *f = tr_result_refusal(r);

    for (guint i = 0; !f && i < r->findings->len; i++) {
        const TrFinding *x = g_ptr_array_index(r->findings, i);
        f = x->action == TR_ACTION_EDIT ? x : NULL;
    }
    return f;
}

bool app_verify(VmsSource *written, const AppOptions *o,
                const AppRecipeNames *names, const TrResult *first,
                GError **errp)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VmsStream) s = parse_all(written, o, APP_STEP_VERIFY, &err);
    TrOptions t = app_tr_options(o, names);
    g_autoptr(TrResult) again = NULL;

    if (!s) {
        g_set_error(errp, TR_ERROR, TR_ERROR_STREAM,
                    "the written VM state does not parse: %s", err->message);
        return false;
    }
    if (s->size != first->new_size) {
        g_set_error(errp, TR_ERROR, TR_ERROR_STREAM,
                    "the written VM state is %" PRIu64 " bytes, %" PRIu64
                    " expected",
                    s->size, first->new_size);
        return false;
    }
    again = tr_translate(s, written, &t, &err);
    if (!again) {
        g_set_error(errp, TR_ERROR, TR_ERROR_STREAM, "the written VM state: %s",
                    err->message);
        return false;
    }
    if (again->refused || again->edits->len) {
        const TrFinding *f = left_to_do(again);
        g_set_error(errp, TR_ERROR, TR_ERROR_STREAM,
                    "the written VM state still needs %s (%s: %s)",
                    again->refused ? "a refusal" : "edits", f ? f->rule : "?",
                    f ? f->evidence : "?");
        return false;
    }
    if (!tr_recipe_same_settings(first->recipe, again->recipe)) {
        g_autofree char *a = tr_recipe_command_line(first->recipe);
        g_autofree char *b = tr_recipe_command_line(again->recipe);
        g_set_error(errp, TR_ERROR, TR_ERROR_STREAM,
                    "the written VM state asks for other settings: '%s' "
                    "instead of '%s'",
                    b, a);
        return false;
    }
    return true;
}

/*
 * Everything that could stop the write, decided before anything is
 * written: permission to rewrite the container, the sink's plan (for a
 * qcow2 snapshot the splice's dry run: the image's consistency check,
 * every refusal of the splice, the space it takes), the recipe's files
 * read from the stream (the sink invalidates it) with permission and free
 * space for everything. A dry run keeps the plan as what it would write.
 */
static bool decide(AppSink *sink, VmsSource *src, const VmsStream *s,
                   const AppOptions *o, AppOutcome *out, AppRecipeFiles **files,
                   GError **errp)
{
    const TrResult *r = out->result;
    AppWriteStats plan = {0};
    bool ok;

    if (sink->in_place && sink->path && sink_writes(sink, r) &&
        !app_preflight_image(sink->path, errp)) {
        g_prefix_error(errp, "%s: ", sink->name);
        return false;
    }
    ok = app_plan(sink, src, o, r, &plan, errp) &&
         (*files = app_recipe_files_read(r, s, src, errp)) != NULL &&
         app_preflight(sink, &plan, r, *files, errp);
    if (o->dry_run) {
        out->write = plan;
    } else {
        app_write_stats_clear(&plan);
    }
    return ok;
}

void app_run(AppSource *source, AppSink *sink, const AppRecipeNames *names,
             const char *after_write, const AppOptions *o, AppOutcome *out)
{
    app_run_hooked(source, sink, names, after_write, o, NULL, out);
}

void app_run_hooked(AppSource *source, AppSink *sink,
                    const AppRecipeNames *names, const char *after_write,
                    const AppOptions *o, const AppRunHooks *hooks,
                    AppOutcome *out)
{
    GError *err = NULL;
    g_autoptr(VmsSource) src = app_source_open(source, &err);
    g_autoptr(VmsStream) s = NULL;
    g_autoptr(VmsSource) written = NULL;
    g_autoptr(AppRecipeFiles) files = NULL;

    if (!src || !app_analyse(src, o, names, out, &s, &err)) {
        app_outcome_fail(out, err);
        return;
    }
    if (out->status == APP_REFUSED) {
        return;
    }
    if (!decide(sink, src, s, o, out, &files, &err)) {
        app_outcome_fail(out, err);
        return;
    }
    if (o->dry_run) {
        return;
    }
    /* Decided: the front end's step before anything is written. */
    if (hooks && hooks->before_write && out->status == APP_FIXED &&
        !hooks->before_write(out, hooks->opaque, &err)) {
        app_outcome_fail(out, err);
        return;
    }
    if (!app_recipe_files_write(files, &err)) {
        app_outcome_fail(out, err);
        return;
    }
    if (!app_apply(sink, src, o, out, &err)) {
        /* The container as it was (the write gave back what it took):
         * the files would describe a state that is not there. */
        if (out->write.end == APP_WRITE_NOTHING ||
            out->write.end == APP_WRITE_GIVEN_BACK ||
            out->write.end == APP_WRITE_LEAKED) {
            app_recipe_files_undo(files);
        }
        app_outcome_fail(out, err);
        return;
    }
    if (out->status != APP_FIXED || !app_sink_can_read_back(sink)) {
        return;
    }
    /* The old stream and its handles are stale once the sink wrote. */
    g_clear_pointer(&s, vms_stream_free);
    g_clear_pointer(&src, vms_source_free);
    written = app_sink_read_back(sink, &err);
    if (!written || !app_verify(written, o, names, out->result, &err)) {
        g_prefix_error(&err, "%s: ", after_write);
        app_outcome_fail(out, err);
    }
}
