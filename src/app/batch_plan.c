/*
 * A batch's plan from a scan report (fix --from-scan): the images and
 * snapshots the scan judged fixable, read from its JSON document or its
 * JSONL lines (docs/json.md, "scan").
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "batch.h"
#include "json/json.h"

/* One image object of a scan report: its fixable snapshots, if any. */
static void plan_image(GPtrArray *plan, const QjValue *im)
{
    const QjValue *sn = qj_get(im, "snapshots");
    const char *path = qj_get_str(im, "path");
    g_autoptr(GPtrArray) ids = g_ptr_array_new();
    AppPlanItem *item;

    if (!path) {
        return;
    }
    for (guint i = 0; i < qj_length(sn); i++) {
        const QjValue *s = qj_at(sn, i);
        const char *id = qj_get_str(s, "id");
        if (id && !g_strcmp0(qj_get_str(s, "verdict"), "fixable")) {
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
static bool plan_document(GPtrArray *plan, const QjValue *root)
{
    const QjValue *images = qj_get(root, "images");

    if (qj_kind(images) != QJ_ARRAY) {
        return false;
    }
    for (guint i = 0; i < qj_length(images); i++) {
        plan_image(plan, qj_at(images, i));
    }
    return true;
}

GPtrArray *app_plan_from_scan(const char *report, GError **errp)
{
    g_autofree char *text = NULL;
    g_autoptr(QjValue) doc = NULL;
    g_auto(GStrv) lines = NULL;
    gsize len = 0;
    GPtrArray *plan =
        g_ptr_array_new_with_free_func((GDestroyNotify)app_plan_item_free);

    if (!g_file_get_contents(report, &text, &len, errp)) {
        g_prefix_error(errp, "--from-scan: ");
        g_ptr_array_unref(plan);
        return NULL;
    }
    doc = qj_parse(text, len, NULL);
    if (doc && plan_document(plan, doc)) {
        return plan;
    }
    /* --output=jsonl: an image object a line, the totals last. */
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(QjValue) line = NULL;

        if (!*lines[i]) {
            continue;
        }
        line = qj_parse(lines[i], strlen(lines[i]), &err);
        if (qj_kind(line) != QJ_OBJECT) {
            g_set_error(
                errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "--from-scan %s: line %u is not a scan report's JSON%s%s",
                report, i + 1, err ? ": " : "", err ? err->message : "");
            g_ptr_array_unref(plan);
            return NULL;
        }
        plan_image(plan, line);
    }
    return plan;
}
