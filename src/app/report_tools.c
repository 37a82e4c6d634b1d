/*
 * The reports of the expert tools extract and splice (docs/json.md): the
 * snapshot, and what was written.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "report.h"

QjValue *app_report_file(const char *image)
{
    QjValue *report = app_report_new();

    qj_set_str(report, "filename", image);
    return report;
}

QjValue *app_report_extract(const char *image, const char *out_path,
                            const AppExtract *x)
{
    QjValue *json = app_report_snapshot(image, x->id, x->name);

    qj_set_uint(json, "vm-state-size", x->size);
    qj_set_str(json, "output", out_path);
    qj_set_uint(json, "bytes-written", x->size);
    qj_set_str(json, "sha256", x->sha256);
    qj_set_int(json, "exit-code", APP_EXIT_OK);
    return json;
}

QjValue *app_report_splice(const char *image, const char *id, const char *name,
                           bool dry_run, const char *keep_name,
                           const AppWriteStats *st)
{
    QjValue *json = app_report_snapshot(image, id, name);

    qj_set_bool(json, "dry-run", dry_run);
    qj_set_str(json, "kept-original", keep_name);
    qj_set_uint(json, "old-size", st->old_size);
    qj_set_uint(json, "new-size", st->new_size);
    qj_set_uint(json, "clusters-shared", st->clusters_shared);
    qj_set_uint(json, "clusters-written", st->clusters_written);
    qj_set_uint(json, "clusters-freed", st->clusters_freed);
    qj_set_uint(json, "metadata-clusters", st->metadata_clusters);
    qj_set_uint(json, "bytes-written", st->bytes_written);
    qj_set_uint(json, "writes", st->writes);
    qj_set_uint(json, "flushes", st->flushes);
    qj_set_uint(json, "active-entries-dropped", st->active_entries_dropped);
    qj_set_uint(json, "leaked-clusters-before", st->leaked_clusters);
    qj_set_uint(json, "file-size-before", st->file_size_before);
    qj_set_uint(json, "file-size-after", st->file_size_after);
    qj_set_uint(json, "allocated-before", st->allocated_before);
    qj_set_uint(json, "allocated-after", st->allocated_after);
    qj_set_uint(json, "discarded-bytes", st->discarded_bytes);
    qj_set_uint(json, "space-needed", st->space_needed);
    if (st->space_available != UINT64_MAX) {
        qj_set_uint(json, "space-available", st->space_available);
    }
    qj_set_int(json, "exit-code", APP_EXIT_OK);
    return json;
}
