/*
 * `qsnapfix fix PATH...` as a batch (src/app/batch.h): the plan from a
 * scan report (--from-scan), the report of each image as it completes
 * (human, one JSON document, or JSONL), and the summary.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "app/batch.h"
#include "fix.h"

/* ---- --from-scan REPORT ----------------------------------------------- */

/* One image object of a scan report: its fixable snapshots, if any. */
static void plan_image(GPtrArray *plan, JsonObject *im)
{
    JsonNode *sn = json_object_get_member(im, "snapshots");
    const char *path =
        json_object_get_string_member_with_default(im, "path", NULL);
    g_autoptr(GPtrArray) ids = g_ptr_array_new();
    JsonArray *a;
    AppPlanItem *item;

    if (!path || !sn || !JSON_NODE_HOLDS_ARRAY(sn)) {
        return;
    }
    a = json_node_get_array(sn);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *s = json_array_get_object_element(a, i);
        const char *verdict =
            s ? json_object_get_string_member_with_default(s, "verdict", "")
              : "";
        const char *id =
            s ? json_object_get_string_member_with_default(s, "id", NULL)
              : NULL;
        if (id && !strcmp(verdict, "fixable")) {
            g_ptr_array_add(ids, g_strdup(id));
        }
    }
    if (!ids->len) {
        return;
    }
    g_ptr_array_add(ids, NULL);
    item = g_new0(AppPlanItem, 1);
    item->path = g_strdup(path);
    item->snapshots = (char **)g_ptr_array_free(g_steal_pointer(&ids), false);
    g_ptr_array_add(plan, item);
}

/* A report of --output=json: one object with "images". */
static bool plan_document(GPtrArray *plan, JsonNode *root)
{
    JsonNode *images =
        root && JSON_NODE_HOLDS_OBJECT(root)
            ? json_object_get_member(json_node_get_object(root), "images")
            : NULL;
    JsonArray *a;

    if (!images || !JSON_NODE_HOLDS_ARRAY(images)) {
        return false;
    }
    a = json_node_get_array(images);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *im = json_array_get_object_element(a, i);
        if (im) {
            plan_image(plan, im);
        }
    }
    return true;
}

GPtrArray *fix_plan_from_scan(const char *report, GError **errp)
{
    g_autofree char *text = NULL;
    g_autoptr(JsonParser) p = json_parser_new();
    g_auto(GStrv) lines = NULL;
    GPtrArray *plan =
        g_ptr_array_new_with_free_func((GDestroyNotify)app_plan_item_free);

    if (!g_file_get_contents(report, &text, NULL, errp)) {
        g_prefix_error(errp, "--from-scan: ");
        g_ptr_array_unref(plan);
        return NULL;
    }
    if (json_parser_load_from_data(p, text, -1, NULL) &&
        plan_document(plan, json_parser_get_root(p))) {
        return plan;
    }
    /* --output=jsonl: an image object a line, the totals last. */
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_autoptr(JsonParser) lp = json_parser_new();
        JsonNode *root;

        if (!*lines[i]) {
            continue;
        }
        if (!json_parser_load_from_data(lp, lines[i], -1, NULL) ||
            !(root = json_parser_get_root(lp)) ||
            !JSON_NODE_HOLDS_OBJECT(root)) {
            g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--from-scan %s: line %u is not a scan report's JSON",
                        report, i + 1);
            g_ptr_array_unref(plan);
            return NULL;
        }
        plan_image(plan, json_node_get_object(root));
    }
    return plan;
}

/* ---- reports ----------------------------------------------------------- */

typedef struct BatchReport {
    QsnapfixOutput format;
    const AppBatchOptions *o;
    JsonBuilder *images, *skipped; /* --output=json */
    CliProgress progress;
} BatchReport;

static void json_snapshot(JsonBuilder *b, const AppBatchSnapshot *bs)
{
    const AppOutcome *out = bs->outcome;
    const TrResult *r = out->result;

    json_builder_begin_object(b);
    qsnapfix_json_str(b, "id", out->id);
    qsnapfix_json_str(b, "name", out->name);
    qsnapfix_json_str(b, "status", app_status_name(out->status));
    qsnapfix_json_int(b, "exit-code", app_outcome_exit_code(out));
    qsnapfix_json_bool(b, "resumed", bs->resumed);
    qsnapfix_json_bool(b, "from-journal", bs->from_journal);
    fix_json_writer(b, out->writer);
    if (r) {
        fix_json_rules(b, r, false);
    }
    qsnapfix_json_begin_object(b, "vm-state-size");
    qsnapfix_json_int(b, "old", (int64_t)out->old_size);
    qsnapfix_json_int(b, "new", (int64_t)out->new_size);
    json_builder_end_object(b);
    qsnapfix_json_begin_object(b, "sha256");
    qsnapfix_json_str(b, "old", bs->old_sha256);
    qsnapfix_json_str(b, "new", bs->new_sha256);
    json_builder_end_object(b);
    qsnapfix_json_int(b, "bytes-written", (int64_t)out->write.bytes_written);
    qsnapfix_json_str(b, "kept-as", out->write.kept_as);
    if (r && (out->status == APP_FIXED || out->status == APP_COMPATIBLE)) {
        fix_json_recipe(b, r);
    }
    fix_json_reason(b, out);
    json_builder_end_object(b);
}

static void json_image(JsonBuilder *b, const AppBatchImage *im)
{
    json_builder_begin_object(b);
    qsnapfix_json_str(b, "image", im->path);
    qsnapfix_json_str(b, "status", app_image_status_name(im->status));
    qsnapfix_json_int(b, "exit-code", im->exit_code);
    qsnapfix_json_bool(b, "from-journal", im->from_journal);
    json_builder_set_member_name(b, "seconds");
    json_builder_add_double_value(b, im->seconds);
    if (im->error) {
        qsnapfix_json_begin_object(b, "error");
        qsnapfix_json_str(b, "message", im->error->message);
        qsnapfix_json_int(b, "exit-code", im->exit_code);
        json_builder_end_object(b);
    }
    qsnapfix_json_begin_array(b, "snapshots");
    for (guint i = 0; i < im->snapshots->len; i++) {
        json_snapshot(b, g_ptr_array_index(im->snapshots, i));
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
}

static void json_entry(JsonBuilder *b, const AppScanEntry *e)
{
    json_builder_begin_object(b);
    qsnapfix_json_str(b, e->kind == APP_ENTRY_ERROR ? "image" : "path",
                      e->path);
    if (e->kind == APP_ENTRY_ERROR) {
        qsnapfix_json_str(b, "status", "failed");
        qsnapfix_json_int(b, "exit-code", e->exit_code);
        qsnapfix_json_begin_object(b, "error");
        qsnapfix_json_str(b, "message", e->reason);
        qsnapfix_json_int(b, "exit-code", e->exit_code);
        json_builder_end_object(b);
    } else {
        qsnapfix_json_str(b, "reason", e->reason);
    }
    json_builder_end_object(b);
}

/* A libvirt save image's one "snapshot" (app/batch.c, as scan names it). */
static bool is_save_image(const AppBatchSnapshot *bs)
{
    return !g_strcmp0(bs->outcome->id, "-");
}

static char *snapshot_line(const AppBatchSnapshot *bs)
{
    const AppOutcome *out = bs->outcome;
    GString *s = g_string_new(NULL);
    g_autofree char *name = qsnapfix_printable(out->name);

    g_string_append_printf(s, "%s %s", name, app_status_name(out->status));
    if (bs->resumed) {
        g_string_append(s, " (committed before the interruption)");
    } else if (bs->from_journal) {
        g_string_append(s, " (earlier run)");
    } else if (out->status == APP_FIXED && out->write.have_stats) {
        g_autofree char *bytes = qsnapfix_size_to_str(out->write.bytes_written);
        g_string_append_printf(s, " (%s written%s%s)", bytes,
                               out->write.kept_as ? ", original kept as " : "",
                               out->write.kept_as ? out->write.kept_as : "");
    }
    return g_string_free(s, false);
}

static void print_image_human(const AppBatchImage *im, bool dry_run)
{
    g_autofree char *path = qsnapfix_printable(im->path);
    GString *line = g_string_new(NULL);

    for (guint i = 0; i < im->snapshots->len; i++) {
        g_autofree char *one =
            snapshot_line(g_ptr_array_index(im->snapshots, i));
        g_string_append_printf(line, "%s%s", i ? ", " : "", one);
    }
    printf("%s: %s%s%s%s [%.2f s]\n", path,
           dry_run && im->status == APP_IMAGE_FIXED
               ? "would fix"
               : app_image_status_name(im->status),
           line->len || im->error ? ": " : "",
           im->error ? im->error->message : line->str,
           im->from_journal ? " (finished by an earlier run)" : "",
           im->seconds);
    g_string_free(line, true);
    for (guint i = 0; i < im->snapshots->len; i++) {
        const AppBatchSnapshot *bs = g_ptr_array_index(im->snapshots, i);
        const TrResult *r = bs->outcome->result;
        if (r && bs->outcome->status == APP_FIXED) {
            g_autofree char *cmd = tr_recipe_command_line(r->recipe);
            g_autofree char *name = qsnapfix_printable(bs->outcome->name);
            if (is_save_image(bs)) { /* the recipe is in its domain XML */
                printf("  %s: virsh restore %s\n", name, path);
            } else {
                printf("  %s: resume with %s ... -loadvm %s\n", name, cmd,
                       name);
            }
        }
    }
}

static void print_failures(const AppBatchImage *im)
{
    if (im->error) {
        fprintf(stderr, "qsnapfix: %s\n", im->error->message);
        return;
    }
    for (guint i = 0; i < im->snapshots->len; i++) {
        const AppBatchSnapshot *bs = g_ptr_array_index(im->snapshots, i);
        g_autofree char *what =
            is_save_image(bs)
                ? g_strdup_printf("%s (libvirt save image)", im->path)
                : g_strdup_printf("%s: snapshot %s \"%s\"", im->path,
                                  bs->outcome->id, bs->outcome->name);

        if (bs->outcome->result || bs->outcome->status == APP_ERROR) {
            fix_print_failure(bs->outcome, what);
        } else if (bs->outcome->status == APP_REFUSED) {
            g_autofree char *why = app_outcome_reason(bs->outcome);
            fprintf(stderr, "qsnapfix: %s: refused: %s\n", what,
                    why ? why : "?");
        }
    }
}

static void on_image(const AppBatchImage *im, void *opaque)
{
    BatchReport *rep = opaque;

    cli_progress_clear(&rep->progress);
    print_failures(im);
    if (rep->format == QSNAPFIX_OUTPUT_JSON) {
        json_image(rep->images, im);
    } else if (rep->format == QSNAPFIX_OUTPUT_JSONL) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_image(b, im);
        qsnapfix_print_json_compact(json_builder_get_root(b));
    } else {
        print_image_human(im, rep->o->fix.dry_run);
        fflush(stdout);
    }
}

static void on_entry(const AppScanEntry *e, void *opaque)
{
    BatchReport *rep = opaque;

    cli_progress_clear(&rep->progress);
    if (e->kind == APP_ENTRY_ERROR) {
        fprintf(stderr, "qsnapfix: %s\n", e->reason);
    }
    if (rep->format == QSNAPFIX_OUTPUT_JSON) {
        json_entry(e->kind == APP_ENTRY_ERROR ? rep->images : rep->skipped, e);
    } else if (rep->format == QSNAPFIX_OUTPUT_JSONL) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_entry(b, e);
        qsnapfix_print_json_compact(json_builder_get_root(b));
    } else {
        g_autofree char *path = qsnapfix_printable(e->path);
        printf("%s: %s: %s\n", path,
               e->kind == APP_ENTRY_ERROR ? "failed" : "skipped", e->reason);
    }
}

static void on_tick(guint done, guint total, void *opaque)
{
    BatchReport *rep = opaque;
    cli_progress_show(&rep->progress, done, total);
}

static void json_summary(JsonBuilder *b, const AppBatchSummary *s)
{
    GHashTableIter it;
    gpointer k, v;

    qsnapfix_json_begin_object(b, "summary");
    qsnapfix_json_int(b, "images", s->images);
    qsnapfix_json_int(b, "fixed", s->fixed);
    qsnapfix_json_int(b, "compatible", s->compatible);
    qsnapfix_json_int(b, "skipped", s->skipped);
    qsnapfix_json_int(b, "failed", s->failed);
    qsnapfix_json_int(b, "from-journal", s->from_journal);
    qsnapfix_json_int(b, "files-skipped", s->walk_skipped);
    qsnapfix_json_begin_object(b, "snapshots");
    qsnapfix_json_int(b, "total", s->snapshots);
    qsnapfix_json_int(b, "fixed", s->snap_fixed);
    qsnapfix_json_int(b, "compatible", s->snap_compatible);
    qsnapfix_json_int(b, "refused", s->snap_refused);
    qsnapfix_json_int(b, "errors", s->snap_errors);
    json_builder_end_object(b);
    qsnapfix_json_begin_object(b, "writers");
    g_hash_table_iter_init(&it, s->writers);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        qsnapfix_json_int(b, k, GPOINTER_TO_UINT(v));
    }
    json_builder_end_object(b);
    qsnapfix_json_int(b, "bytes-written", (int64_t)s->bytes_written);
    qsnapfix_json_int(b, "vm-state-bytes-fixed", (int64_t)s->vm_state_bytes);
    json_builder_set_member_name(b, "seconds");
    json_builder_add_double_value(b, s->seconds);
    json_builder_end_object(b);
}

static void print_summary_human(const AppBatchSummary *s,
                                const AppBatchOptions *o, const char *batch)
{
    g_autofree char *written = qsnapfix_size_to_str(s->bytes_written);
    g_autofree char *vm = qsnapfix_size_to_str(s->vm_state_bytes);
    g_autoptr(GList) keys = g_hash_table_get_keys(s->writers);

    printf("\nBatch %s(target %s): %u image%s in %.1f s: %u fixed, %u "
           "compatible, %u skipped, %u failed",
           o->fix.dry_run ? "dry run " : "",
           tr_target_name(o->fix.target ? o->fix.target : tr_target_default()),
           s->images, s->images == 1 ? "" : "s", s->seconds, s->fixed,
           s->compatible, s->skipped, s->failed);
    if (s->from_journal) {
        printf(" (%u finished by an earlier run)", s->from_journal);
    }
    printf("; %u file%s not images\n", s->walk_skipped,
           s->walk_skipped == 1 ? "" : "s");
    printf("  snapshots: %u: %u fixed, %u compatible, %u refused, %u "
           "error%s\n",
           s->snapshots, s->snap_fixed, s->snap_compatible, s->snap_refused,
           s->snap_errors, s->snap_errors == 1 ? "" : "s");
    keys = g_list_sort(keys, (GCompareFunc)strcmp);
    printf("  writers:  ");
    for (GList *l = keys; l; l = l->next) {
        printf(" %s: %u%s", (char *)l->data,
               GPOINTER_TO_UINT(g_hash_table_lookup(s->writers, l->data)),
               l->next ? ";" : "");
    }
    printf("%s\n", keys ? "" : " -");
    printf("  %s %s for %s of VM state fixed",
           o->fix.dry_run ? "would write" : "wrote", written, vm);
    if (o->journal) {
        printf("; journal %s (batch %s)", o->journal, batch);
    }
    printf("\n");
}

int fix_run_batch(const AppBatchOptions *bo, char **paths, GPtrArray *plan,
                  const char *resume, QsnapfixOutput format)
{
    g_autoptr(GError) err = NULL;
    AppBatch *b = resume ? app_batch_resume(resume, bo, &err)
                         : app_batch_new(bo, paths, plan, &err);
    g_autoptr(JsonBuilder) images = json_builder_new();
    g_autoptr(JsonBuilder) skipped = json_builder_new();
    BatchReport rep = {.format = format, .images = images, .skipped = skipped};
    AppBatchSummary sum;
    const AppBatchOptions *o;
    int rc;

    if (!b) {
        return qsnapfix_report(err);
    }
    o = app_batch_options(b);
    rep.o = o;
    cli_progress_init(&rep.progress, "qsnapfix fix");
    json_builder_begin_array(images);
    json_builder_begin_array(skipped);
    app_batch_run(b, on_image, on_entry, on_tick, &rep, &sum);
    cli_progress_clear(&rep.progress);
    rc = sum.exit_code;
    if (format == QSNAPFIX_OUTPUT_HUMAN) {
        print_summary_human(&sum, o, o->fix.batch_id);
    } else {
        g_autoptr(JsonBuilder) doc = json_builder_new();

        json_builder_begin_object(doc);
        qsnapfix_json_str(doc, "target",
                          tr_target_name(o->fix.target ? o->fix.target
                                                       : tr_target_default()));
        qsnapfix_json_bool(doc, "dry-run", o->fix.dry_run);
        qsnapfix_json_str(doc, "batch", o->fix.batch_id);
        qsnapfix_json_str(doc, "journal", o->journal);
        if (format == QSNAPFIX_OUTPUT_JSON) {
            json_builder_end_array(images);
            json_builder_end_array(skipped);
            json_builder_set_member_name(doc, "images");
            json_builder_add_value(doc, json_builder_get_root(images));
            json_builder_set_member_name(doc, "skipped");
            json_builder_add_value(doc, json_builder_get_root(skipped));
        }
        json_summary(doc, &sum);
        qsnapfix_json_int(doc, "exit-code", rc);
        if (format == QSNAPFIX_OUTPUT_JSONL) {
            qsnapfix_print_json_line(doc);
        } else {
            qsnapfix_print_json_object(doc);
        }
    }
    app_batch_summary_clear(&sum);
    app_batch_free(b);
    return rc;
}
