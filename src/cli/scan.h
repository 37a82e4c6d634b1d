/*
 * `qsnapfix scan`: what it prints. The scan itself (walk, locks, judging
 * every snapshot, totals) is the application's (src/app/scan.h):
 *
 *   cmd_scan.c     options, the progress line, ordered output, exit code
 *   scan_report.c  human output
 *   scan_guest.c   the guests (scan --guest)
 * (the JSON report: app/report.h)
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QSNAPFIX_SCAN_H
#define QSNAPFIX_SCAN_H

#include "app/scan.h"
#include "fix.h"

void scan_print_image_human(const AppScanImage *im);
void scan_print_entry_human(const AppScanEntry *e);
void scan_print_summary_human(const AppScanSummary *s, const AppScanOptions *o);

/* A disk's guest (nothing if it was not inspected): lines starting with
 * indent. */
void scan_print_guest_human(const char *indent, const AppScanGuest *g);
/* The inspections' totals, and the scan's wall clock with --jobs. */
void scan_print_guest_summary_human(const AppScanSummary *s, guint jobs,
                                    double elapsed);

#endif
