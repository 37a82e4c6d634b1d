/*
 * What every JSON report starts with, and how one says it failed.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "report.h"

/* Now, or $SOURCE_DATE_EPOCH (reproducible-builds.org's convention). */
static char *timestamp(void)
{
    const char *epoch = g_getenv("SOURCE_DATE_EPOCH");
    g_autoptr(GDateTime) t = NULL;

    if (epoch && *epoch) {
        t = g_date_time_new_from_unix_utc(g_ascii_strtoll(epoch, NULL, 10));
    }
    if (!t) {
        t = g_date_time_new_now_utc();
    }
    return g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ");
}

QjValue *app_report_new(void)
{
    QjValue *report = qj_object();
    QjValue *tool = qj_set_object(report, "qsnapfix");
    g_autofree char *now = timestamp();

    qj_set_str(tool, "version", QSNAPFIX_VERSION);
    qj_set_str(report, "timestamp", now);
    return report;
}

QjValue *app_report_snapshot(const char *image, const char *id,
                             const char *name)
{
    QjValue *report = app_report_new();
    QjValue *snapshot;

    qj_set_str(report, "filename", image);
    snapshot = qj_set_object(report, "snapshot");
    qj_set_str(snapshot, "id", id);
    qj_set_str(snapshot, "name", name);
    return report;
}

void app_report_error(QjValue *o, const char *message, int exit_code)
{
    QjValue *error = qj_set_object(o, "error");

    qj_set_str(error, "message", message);
    qj_set_int(error, "exit-code", exit_code);
}

void app_report_failure(QjValue *report, const char *message, int exit_code)
{
    app_report_error(report, message, exit_code);
    qj_set_int(report, "exit-code", exit_code);
}
