/*
 * A scan's totals and the exit code they give (scan.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "exit_codes.h"
#include "scan.h"

static void add_snapshot(AppScanSummary *s, const AppJudgement *j)
{
    s->snapshots++;
    switch (j->verdict) {
    case APP_VERDICT_DISK_ONLY:
        s->disk_only++;
        break;
    case APP_VERDICT_COMPATIBLE:
        s->compatible++;
        break;
    case APP_VERDICT_FIXABLE:
        s->fixable++;
        s->fix_bytes += j->write.bytes_written;
        s->fix_bytes_estimated |= !j->write.exact;
        break;
    case APP_VERDICT_REFUSED:
        s->refused++;
        break;
    case APP_VERDICT_ERROR:
        s->errors++;
        break;
    case APP_VERDICT_ORIGINAL:
        s->originals++;
        break;
    }
    s->full_walks += j->path && !strcmp(j->path, "full");
}

static void add_guest(AppScanSummary *s, const AppScanGuest *g)
{
    if (!g->inspected) {
        return;
    }
    s->guests++;
    s->guest_seconds += g->seconds;
    if (g->error) {
        s->guest_errors++;
    } else if (g->found->os->len) {
        s->guests_identified++;
    } else {
        s->guests_unknown++;
    }
}

void app_scan_summary_add_image(AppScanSummary *s, const AppScanImage *im)
{
    s->images++;
    s->bytes_read += im->bytes_read;
    if (im->error) {
        s->unreadable++;
        return;
    }
    s->scanned++;
    s->in_use += app_locks_in_use(&im->locks);
    s->in_use_by_qsnapfix +=
        !g_strcmp0(app_locks_holder_program(&im->locks), "qsnapfix");
    s->blocked += im->blocker.message != NULL;
    add_guest(s, &im->guest);
    for (guint i = 0; i < im->snapshots->len; i++) {
        const AppScanSnapshot *ss = g_ptr_array_index(im->snapshots, i);
        add_snapshot(s, &ss->judged);
        add_guest(s, &ss->guest);
    }
}

void app_scan_summary_add_entry(AppScanSummary *s, const AppScanEntry *e)
{
    if (e->kind == APP_ENTRY_SKIPPED) {
        s->skipped++;
    } else if (e->kind == APP_ENTRY_ERROR) {
        s->images++;
        s->unreadable++;
    }
}

int app_scan_exit_code(const AppScanSummary *s)
{
    if (s->unreadable || s->errors || s->guest_errors) {
        return APP_EXIT_PARTIAL;
    }
    if (s->refused) {
        return APP_EXIT_REFUSED;
    }
    return s->fixable ? APP_EXIT_NEEDS_FIX : APP_EXIT_OK;
}
