/*
 * Which guest is on a scanned image's disks (scan.h, `scan --guest`):
 * libguestfs's inspection (guest_inspect.h) of the active disk and, when
 * asked, of each snapshot's disk: the disk the guest resumes (or boots)
 * with after a revert. Each inspection starts an appliance, so its cost is
 * measured and reported with the result.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "scan.h"

void app_scan_guest_clear(AppScanGuest *g)
{
    app_guest_free(g->found);
    g_clear_error(&g->error);
    *g = (AppScanGuest){0};
}

static void inspect(AppScanGuest *out, const AppGuestfs *lib, const char *path,
                    const char *snapshot)
{
    gint64 start = g_get_monotonic_time();

    out->inspected = true;
    out->found = app_guest_inspect(lib, path, snapshot, &out->error);
    out->seconds = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
}

void app_scan_guests(AppScanImage *im, const AppScanOptions *o)
{
    inspect(&im->guest, o->guestfs, im->path, NULL);
    if (!o->guest_snapshots) {
        return;
    }
    for (guint i = 0; i < im->snapshots->len; i++) {
        AppScanSnapshot *ss = g_ptr_array_index(im->snapshots, i);

        inspect(&ss->guest, o->guestfs, im->path, ss->name);
    }
}
