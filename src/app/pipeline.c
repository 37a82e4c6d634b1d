/*
 * Analyse, recipe files, apply, verify (pipeline.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "pipeline.h"
#include "record.h"

static VmsStream *parse_all(VmsSource *src, GError **errp)
{
    VmsParseOptions popts = {.flags = VMS_PARSE_RECORD_PAGES};
    return vms_stream_parse(src, &popts, errp);
}

bool app_analyse(VmsSource *src, const AppOptions *o,
                 const AppRecipeNames *names, AppOutcome *out,
                 VmsStream **stream_out, GError **errp)
{
    g_autoptr(VmsStream) s = parse_all(src, errp);
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

/* Write path only if its content differs, through a temporary file. */
static bool write_file(const char *path, GBytes *bytes, GError **errp)
{
    g_autofree char *old = NULL;
    gsize old_len = 0, len;
    const uint8_t *data = g_bytes_get_data(bytes, &len);

    if (g_file_get_contents(path, &old, &old_len, NULL) && old_len == len &&
        !memcmp(old, data, len)) {
        return true;
    }
    if (!g_file_set_contents_full(path, (const char *)data, (gssize)len,
                                  G_FILE_SET_CONTENTS_CONSISTENT, 0644, errp)) {
        g_prefix_error(errp, "cannot write a recipe file: ");
        return false;
    }
    return true;
}

bool app_write_recipe_files(const TrResult *r, const VmsStream *s,
                            VmsSource *src, GError **errp)
{
    const GPtrArray *files = r->recipe->files;
    g_autoptr(GPtrArray) contents =
        g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);

    for (guint i = 0; i < files->len; i++) {
        const TrFile *f = g_ptr_array_index(files, i);
        GBytes *bytes = tr_extract_block(s, src, f->block_index, errp);
        if (!bytes) {
            return false;
        }
        g_ptr_array_add(contents, bytes);
    }
    return app_write_recipe_contents(r->recipe, contents, errp);
}

bool app_write_recipe_contents(const TrRecipe *r, GPtrArray *contents,
                               GError **errp)
{
    for (guint i = 0; i < r->files->len; i++) {
        const TrFile *f = g_ptr_array_index(r->files, i);
        if (!write_file(f->path, g_ptr_array_index(contents, i), errp)) {
            return false;
        }
    }
    return true;
}

bool app_apply(AppSink *sink, VmsSource *old, const AppOptions *o,
               AppOutcome *out, GError **errp)
{
    const TrResult *r = out->result;
    AppRecord record;
    AppWrite w = {
        .old = old,
        .edits = r->edits,
        .recipe = r->recipe,
        .new_size = r->new_size,
        .dry_run = o->dry_run,
        .keep_original = o->keep_original,
        .cancel = o->cancel,
        .record = &record,
    };
    bool ok;

    if (sink->in_place && !r->edits->len) {
        return true; /* it holds the result already */
    }
    app_record_for_fix(&record, o, r, out->old_size);
    ok = app_sink_write(sink, &w, &out->write, errp);
    app_record_clear(&record);
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
    g_autoptr(VmsStream) s = parse_all(written, &err);
    TrOptions t = app_tr_options(o, names);
    g_autoptr(TrResult) again = NULL;

    /* The fix removes the evidence the machine type was inferred from
     * (qemu-kvm's piix4_pm v2): check against the same machine. */
    t.machine = first->recipe->machine;

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

    if (!src || !app_analyse(src, o, names, out, &s, &err)) {
        app_outcome_fail(out, err);
        return;
    }
    if (out->status == APP_REFUSED) {
        return;
    }
    if (hooks && hooks->before_write && out->status == APP_FIXED &&
        !o->dry_run && !hooks->before_write(out, hooks->opaque, &err)) {
        app_outcome_fail(out, err);
        return;
    }
    if ((!o->dry_run && !app_write_recipe_files(out->result, s, src, &err)) ||
        !app_apply(sink, src, o, out, &err)) {
        app_outcome_fail(out, err);
        return;
    }
    if (o->dry_run || out->status != APP_FIXED ||
        !app_sink_can_read_back(sink)) {
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
