/*
 * Watching a step over a whole VM state (progress.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "progress.h"

static bool watched(const AppWatch *w)
{
    return w->progress && w->progress->fn;
}

void app_watch_start(AppWatch *w, const AppProgress *p, AppStep step,
                     const char *what, uint64_t total)
{
    *w = (AppWatch){.progress = p, .step = step, .total = total};
    if (watched(w)) {
        w->what = g_strdup(what);
        p->fn(step, w->what, 0, total, p->opaque);
    }
}

static void on_read(const VmsSource *src, uint64_t end, void *opaque)
{
    app_watch_bytes(opaque, end);
}

void app_watch_source(AppWatch *w, const AppProgress *p, AppStep step,
                      VmsSource *src)
{
    app_watch_start(w, p, step, src->name, src->size);
    if (watched(w)) {
        w->src = src;
        src->on_read = on_read;
        src->on_read_opaque = w;
    }
}

void app_watch_bytes(AppWatch *w, uint64_t done)
{
    done = MIN(done, w->total);
    if (watched(w) && done > w->done) {
        w->done = done;
        w->progress->fn(w->step, w->what, done, w->total, w->progress->opaque);
    }
}

void app_watch_end(AppWatch *w, bool ok)
{
    if (w->src) {
        w->src->on_read = NULL;
        w->src->on_read_opaque = NULL;
        w->src = NULL;
    }
    if (ok) {
        app_watch_bytes(w, w->total);
    }
    g_clear_pointer(&w->what, g_free);
}
