/*
 * Watching a step that goes through a whole VM state, for an AppProgress
 * (options.h): the pipeline and the tools start a watch on the source
 * they read (or feed it the byte counts a sink reports), and end it.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_PROGRESS_H
#define APP_PROGRESS_H

#include "options.h"
#include "stream/source.h"

typedef struct AppWatch {
    const AppProgress *progress; /* NULL or fn NULL: nothing to do */
    AppStep step;
    char *what;
    uint64_t done, total;
    VmsSource *src; /* watched through its on_read, or NULL */
} AppWatch;

/* Start watching step over total bytes named what (done 0 is reported). */
void app_watch_start(AppWatch *w, const AppProgress *p, AppStep step,
                     const char *what, uint64_t total);
/* The same, counting the reads of src (up to src->size). */
void app_watch_source(AppWatch *w, const AppProgress *p, AppStep step,
                      VmsSource *src);
/* done bytes so far (ignored if not further on). */
void app_watch_bytes(AppWatch *w, uint64_t done);
/* The step is over: done == total is reported (if it ended well), src is
 * no longer watched. Safe on a watch never started. */
void app_watch_end(AppWatch *w, bool ok);

#endif
