/*
 * The progress line (progress.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "progress.h"

#define REDRAW_US (G_USEC_PER_SEC / 10)

void cli_progress_init(CliProgress *p, const char *what)
{
    *p = (CliProgress){
        .what = what,
        .on = isatty(STDERR_FILENO),
        .step = -1,
        .app = {.fn = cli_progress_app, .opaque = p},
    };
}

void cli_progress_clear(CliProgress *p)
{
    if (p->shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        p->shown = false;
    }
}

void cli_progress_done(CliProgress *p)
{
    cli_progress_clear(p);
    g_clear_pointer(&p->subject, g_free);
    p->step = -1;
}

static unsigned terminal_width(void)
{
    struct winsize ws;

    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) {
        return ws.ws_col;
    }
    return 80;
}

/* Draw line (without its end), cut to the terminal's width. */
static void draw(CliProgress *p, const char *line)
{
    unsigned width = terminal_width() - 1; /* no wrap at the last column */
    size_t len = strlen(line);

    if (len > width) {
        len = width; /* (may cut a UTF-8 character: the line is redrawn) */
    }
    fprintf(stderr, "\r\033[K%.*s", (int)len, line);
    fflush(stderr);
    p->shown = true;
}

/* "0:14", "1:02:03", or "?" when the rate is not known yet. */
static char *eta_str(double seconds)
{
    uint64_t s;

    if (seconds < 0 || seconds > 1e7) {
        return g_strdup("?");
    }
    s = (uint64_t)(seconds + 0.5);
    if (s >= 3600) {
        return g_strdup_printf("%" PRIu64 ":%02u:%02u", s / 3600,
                               (unsigned)(s / 60 % 60), (unsigned)(s % 60));
    }
    return g_strdup_printf("%u:%02u", (unsigned)(s / 60), (unsigned)(s % 60));
}

/* Whether to draw now: at the ends of a step always, else 10 times a
 * second at most. */
static bool due(CliProgress *p, bool end, gint64 now)
{
    if (!p->on) {
        return false;
    }
    if (end || !p->shown || now - p->last_us >= REDRAW_US) {
        p->last_us = now;
        return true;
    }
    return false;
}

static const char *step_name(AppStep step)
{
    switch (step) {
    case APP_STEP_READ:
        return "reading";
    case APP_STEP_WRITE:
        return "writing";
    case APP_STEP_VERIFY:
        return "verifying";
    }
    return "?";
}

void cli_progress_app(AppStep step, const char *what, uint64_t done,
                      uint64_t total, void *opaque)
{
    CliProgress *p = opaque;
    gint64 now = g_get_monotonic_time();
    double elapsed, rate;
    g_autofree char *d = NULL, *t = NULL, *r = NULL, *eta = NULL;
    g_autofree char *line = NULL;

    if ((int)step != p->step || g_strcmp0(what, p->subject)) {
        p->step = (int)step;
        g_free(p->subject);
        p->subject = qsnapfix_printable(what);
        p->start_us = now;
    }
    if (!due(p, done == total || done == 0, now)) {
        return;
    }
    elapsed = (double)(now - p->start_us) / G_USEC_PER_SEC;
    rate = elapsed > 0 ? (double)done / elapsed : 0;
    d = qsnapfix_size_to_str(done);
    t = qsnapfix_size_to_str(total);
    r = rate > 0 ? qsnapfix_size_to_str((uint64_t)rate) : g_strdup("?");
    eta = eta_str(rate > 0 ? (double)(total - done) / rate : -1);
    line = g_strdup_printf(
        "qsnapfix: %s: %s %s of %s (%u%%), %s%s, %s left", p->subject,
        step_name(step), d, t, total ? (unsigned)(done * 100 / total) : 100u, r,
        rate > 0 ? "/s" : " B/s", done == total ? "0:00" : eta);
    draw(p, line);
}

/* bytes_read: G_MAXUINT64 for none. */
static void count(CliProgress *p, guint done, guint total, uint64_t bytes_read)
{
    gint64 now = g_get_monotonic_time();
    double elapsed, rate;
    g_autofree char *bytes = NULL, *eta = NULL, *line = NULL;

    if (p->step < 0) {
        p->step = 0;
        p->start_us = now;
    }
    if (!due(p, done == total || done == 0, now)) {
        return;
    }
    elapsed = (double)(now - p->start_us) / G_USEC_PER_SEC;
    rate = elapsed > 0 ? done / elapsed : 0;
    if (bytes_read != G_MAXUINT64) {
        g_autofree char *size = qsnapfix_size_to_str(bytes_read);
        bytes = g_strdup_printf(", %s read", size);
    }
    eta = eta_str(rate > 0 ? (total - done) / rate : -1);
    line =
        g_strdup_printf("%s: %u of %u images (%u%%)%s, %.1f images/s, %s "
                        "left",
                        p->what ? p->what : "qsnapfix", done, total,
                        total ? done * 100 / total : 100u, bytes ? bytes : "",
                        rate, done == total ? "0:00" : eta);
    draw(p, line);
}

void cli_progress_images(CliProgress *p, guint done, guint total,
                         uint64_t bytes_read)
{
    count(p, done, total, bytes_read);
}

void cli_progress_show(CliProgress *p, guint done, guint total)
{
    count(p, done, total, G_MAXUINT64);
}
