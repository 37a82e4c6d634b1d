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

static void json_os(JsonBuilder *b, const AppGuestOs *os)
{
    json_builder_begin_object(b);
    qsnapfix_json_str(b, "root", os->root);
    qsnapfix_json_str(b, "type", os->type);
    qsnapfix_json_str(b, "distro", os->distro);
    qsnapfix_json_str(b, "product_name", os->product_name);
    qsnapfix_json_int(b, "major_version", os->major_version);
    qsnapfix_json_int(b, "minor_version", os->minor_version);
    qsnapfix_json_str(b, "hostname", os->hostname);
    qsnapfix_json_str(b, "arch", os->arch);
    json_builder_end_object(b);
}

void scan_json_guest(JsonBuilder *b, const AppScanGuest *g)
{
    if (!g->inspected) {
        return;
    }
    qsnapfix_json_begin_object(b, "guest");
    qsnapfix_json_str(b, "status",
                      g->error            ? "error"
                      : g->found->os->len ? "identified"
                                          : "unknown");
    json_builder_set_member_name(b, "seconds");
    json_builder_add_double_value(b, g->seconds);
    if (g->error) {
        qsnapfix_json_begin_object(b, "error");
        qsnapfix_json_str(b, "message", g->error->message);
        qsnapfix_json_int(b, "exit_code", app_exit_code(g->error));
        json_builder_end_object(b);
    } else {
        qsnapfix_json_begin_array(b, "operating_systems");
        for (guint i = 0; i < g->found->os->len; i++) {
            json_os(b, g_ptr_array_index(g->found->os, i));
        }
        json_builder_end_array(b);
    }
    json_builder_end_object(b);
}

void scan_json_guest_summary(JsonBuilder *b, const AppScanSummary *s,
                             double elapsed)
{
    qsnapfix_json_begin_object(b, "guests");
    qsnapfix_json_int(b, "inspected", s->guests);
    qsnapfix_json_int(b, "identified", s->guests_identified);
    qsnapfix_json_int(b, "unknown", s->guests_unknown);
    qsnapfix_json_int(b, "errors", s->guest_errors);
    json_builder_set_member_name(b, "seconds");
    json_builder_add_double_value(b, s->guest_seconds);
    json_builder_set_member_name(b, "elapsed_seconds");
    json_builder_add_double_value(b, elapsed);
    json_builder_end_object(b);
}
