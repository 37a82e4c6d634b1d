/*
 * The progress line: one line on standard error, rewritten in place,
 * while a command goes through a whole VM state (fix, translate, extract,
 * splice) or a store (scan): what, how far, how fast, how long still.
 *
 *   qsnapfix: vm.qcow2: snapshot 1 "s1": writing 1.2 GiB of 4 GiB (30%),
 *     210 MiB/s, 0:14 left
 *   qsnapfix scan: 120 of 1000 images (12%), 8.2 MiB read,
 *     35.0 images/s, 0:25 left
 * (each one line on the terminal).
 *
 * Only when standard error is a terminal (never in a pipe or a log); at
 * most ten times a second, but always at the start and the end of a step
 * so that even a short one shows once. Cleared before anything else is
 * printed (cli_progress_clear()), cut to the terminal's width.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QSNAPFIX_CLI_PROGRESS_H
#define QSNAPFIX_CLI_PROGRESS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "app/options.h"

typedef struct CliProgress {
    const char *what; /* the counted lines' label: "qsnapfix scan" */
    bool on;          /* standard error is a terminal */
    bool shown;       /* a line is on the screen */
    gint64 last_us;   /* when it was last drawn */
    gint64 start_us;  /* when the current step began */
    int step;         /* the current step (AppStep), -1 none */
    char *subject;    /* what the current step goes through */
    AppProgress app;  /* for AppOptions.progress: calls cli_progress_app */
} CliProgress;

/* on when standard error is a terminal; what labels the counted lines
 * ("qsnapfix scan"). */
void cli_progress_init(CliProgress *p, const char *what);
/* Clear the line (before other output) and free what it holds. */
void cli_progress_clear(CliProgress *p);
void cli_progress_done(CliProgress *p);

/* A step of done of total bytes about what (AppProgress's callback). */
void cli_progress_app(AppStep step, const char *what, uint64_t done,
                      uint64_t total, void *opaque);
/* done of total images, and the bytes read so far (scan). */
void cli_progress_images(CliProgress *p, guint done, guint total,
                         uint64_t bytes_read);
/* done of total images, no bytes. */
void cli_progress_show(CliProgress *p, guint done, guint total);

#endif
