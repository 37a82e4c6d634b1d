/*
 * `qsnapfix scan --guest`: the guests found on each image's disks, for
 * people (under the image's line, and under each snapshot's row with
 * --guest-snapshots), each with what its inspection cost; and the totals.
 * (JSON: app/report_scan.c.)
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "scan.h"

/* e.g. `linux debian 12.7 "12.7", hostname bookworm-guest, x86_64, root
 * /dev/sda` */
static char *os_str(const AppGuestOs *os)
{
    g_autofree char *product = qsnapfix_printable(os->product_name);
    g_autofree char *hostname = qsnapfix_printable(os->hostname);

    return g_strdup_printf("%s %s %d.%d \"%s\", hostname %s, %s, root %s",
                           os->type, os->distro, os->major_version,
                           os->minor_version, product, hostname, os->arch,
                           os->root);
}

void scan_print_guest_human(const char *indent, const AppScanGuest *g)
{
    if (!g->inspected) {
        return;
    }
    if (g->error) {
        g_autofree char *msg = qsnapfix_printable(g->error->message);
        printf("%sguest: could not be inspected (%.1f s): %s\n", indent,
               g->seconds, msg);
        return;
    }
    if (!g->found->os->len) {
        printf("%sguest: unknown: no operating system found (%.1f s)\n", indent,
               g->seconds);
        return;
    }
    for (guint i = 0; i < g->found->os->len; i++) {
        g_autofree char *os = os_str(g_ptr_array_index(g->found->os, i));
        printf("%sguest: %s (%.1f s)\n", indent, os, g->seconds);
    }
}

void scan_print_guest_summary_human(const AppScanSummary *s, guint jobs,
                                    double elapsed)
{
    printf("  guests:     %u disk%s inspected: %u identified, %u unknown, %u "
           "could not be inspected; %.1f s of appliance time (%.1f s per "
           "disk), %.1f s elapsed with --jobs %u\n",
           s->guests, s->guests == 1 ? "" : "s", s->guests_identified,
           s->guests_unknown, s->guest_errors, s->guest_seconds,
           s->guests ? s->guest_seconds / s->guests : 0.0, elapsed, jobs);
}
