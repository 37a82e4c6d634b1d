/*
 * N worker threads, results in order (scan.h): workers take the next
 * index from an atomic counter; the calling thread waits for index i,
 * hands its result on, then waits for i + 1. A slow entry holds back the
 * report of the ones after it, never the workers.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "scan.h"

#define MAX_JOBS 64 /* threads, whatever the caller asks for */

typedef struct Run {
    guint n;
    AppJobFn job;
    void *opaque;
    void **results;
    bool *done;
    gint next; /* next index to take (atomic) */
    GMutex lock;
    GCond changed;
    guint completed;
} Run;

static gpointer worker(gpointer data)
{
    Run *run = data;

    for (;;) {
        guint i = (guint)g_atomic_int_add(&run->next, 1);
        void *result;

        if (i >= run->n) {
            return NULL;
        }
        result = run->job(i, run->opaque);
        g_mutex_lock(&run->lock);
        run->results[i] = result;
        run->done[i] = true;
        run->completed++;
        g_cond_broadcast(&run->changed);
        g_mutex_unlock(&run->lock);
    }
}

void app_run_ordered(guint n, guint jobs, AppJobFn job, AppResultFn result_fn,
                     AppTickFn tick, void *opaque)
{
    Run run = {.n = n, .job = job, .opaque = opaque};
    guint threads_n = CLAMP(MIN(jobs, n), 1, MAX_JOBS);
    g_autofree GThread **threads = g_new0(GThread *, threads_n);

    run.results = g_new0(void *, MAX(n, 1));
    run.done = g_new0(bool, MAX(n, 1));
    g_mutex_init(&run.lock);
    g_cond_init(&run.changed);
    for (guint t = 0; t < threads_n; t++) {
        threads[t] = g_thread_new("app-job", worker, &run);
    }
    g_mutex_lock(&run.lock);
    for (guint i = 0; i < n; i++) {
        void *result;

        while (!run.done[i]) {
            g_cond_wait_until(&run.changed, &run.lock,
                              g_get_monotonic_time() + APP_TICK_US);
            if (tick) {
                tick(run.completed, n, opaque);
            }
        }
        result = g_steal_pointer(&run.results[i]);
        g_mutex_unlock(&run.lock);
        result_fn(i, result, opaque);
        g_mutex_lock(&run.lock);
    }
    g_mutex_unlock(&run.lock);
    for (guint t = 0; t < threads_n; t++) {
        g_thread_join(threads[t]);
    }
    g_mutex_clear(&run.lock);
    g_cond_clear(&run.changed);
    g_free(run.results);
    g_free(run.done);
}
