/*
 * `qsnapfix scan --guest`: the guests found on each image's disks, for
 * people (under the image's line, and under each snapshot's row with
 * --guest-snapshots) and for scripts (a "guest" object; docs/json.md),
 * each with what its inspection cost; and the totals.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "scan.h"

/* ---- human ------------------------------------------------------------- */

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

/* ---- JSON -------------------------------------------------------------- */

static void json_os(QjValue *list, const AppGuestOs *os)
{
    QjValue *o = qj_append_object(list);

    qj_set_str(o, "root", os->root);
    qj_set_str(o, "type", os->type);
    qj_set_str(o, "distro", os->distro);
    qj_set_str(o, "product-name", os->product_name);
    qj_set_int(o, "major-version", os->major_version);
    qj_set_int(o, "minor-version", os->minor_version);
    qj_set_str(o, "hostname", os->hostname);
    qj_set_str(o, "arch", os->arch);
}

void scan_json_guest(QjValue *o, const AppScanGuest *g)
{
    QjValue *guest, *systems;

    if (!g->inspected) {
        return;
    }
    guest = qj_set_object(o, "guest");
    qj_set_str(guest, "status",
               g->error            ? "error"
               : g->found->os->len ? "identified"
                                   : "unknown");
    qj_set(guest, "seconds", qj_double(g->seconds));
    if (g->error) {
        cli_json_error(guest, g->error->message, app_exit_code(g->error));
        return;
    }
    systems = qj_set_array(guest, "operating-systems");
    for (guint i = 0; i < g->found->os->len; i++) {
        json_os(systems, g_ptr_array_index(g->found->os, i));
    }
}

void scan_json_guest_summary(QjValue *report, const AppScanSummary *s,
                             double elapsed)
{
    QjValue *o = qj_set_object(report, "guests");

    qj_set_int(o, "inspected", s->guests);
    qj_set_int(o, "identified", s->guests_identified);
    qj_set_int(o, "unknown", s->guests_unknown);
    qj_set_int(o, "errors", s->guest_errors);
    qj_set(o, "seconds", qj_double(s->guest_seconds));
    qj_set(o, "elapsed-seconds", qj_double(elapsed));
}
