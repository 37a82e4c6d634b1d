/*
 * A whole scan: PATH... walked, every image scanned on up to N threads,
 * each result handed to the front end in walk order as soon as it is
 * there (a scan of thousands of images streams), the totals kept.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "exit_codes.h"
#include "scan.h"

typedef struct ScanRun {
    const AppScanOptions *o;
    GPtrArray *entries; /* AppScanEntry * */
    AppScanFn fn;
    AppTickFn tick;
    void *opaque;
    AppScanTotals *t;
} ScanRun;

static void *scan_entry(guint i, void *opaque)
{
    ScanRun *run = opaque;
    const AppScanEntry *e = g_ptr_array_index(run->entries, i);

    return e->kind == APP_ENTRY_IMAGE ? app_scan_image(e->path, run->o) : NULL;
}

static void scanned(guint i, void *result, void *opaque)
{
    ScanRun *run = opaque;
    const AppScanEntry *e = g_ptr_array_index(run->entries, i);
    AppScanImage *im = result;

    if (im) {
        app_scan_summary_add_image(&run->t->sum, im);
    } else {
        app_scan_summary_add_entry(&run->t->sum, e);
    }
    run->fn(e, im, run->opaque);
    app_scan_image_free(im);
}

static void ticked(guint done, guint total, void *opaque)
{
    ScanRun *run = opaque;

    run->tick(done, total, run->opaque);
}

void app_scan_run(char **paths, const AppScanOptions *o, guint jobs,
                  bool exit_zero, AppScanFn fn, AppTickFn tick, void *opaque,
                  AppScanTotals *t)
{
    g_autoptr(GPtrArray) entries = app_scan_walk(paths);
    ScanRun run = {.o = o,
                   .entries = entries,
                   .fn = fn,
                   .tick = tick,
                   .opaque = opaque,
                   .t = t};
    gint64 start = g_get_monotonic_time();

    *t = (AppScanTotals){.entries = entries->len};
    if (tick) {
        tick(0, entries->len, opaque);
    }
    app_run_ordered(entries->len, jobs, scan_entry, scanned,
                    tick ? ticked : NULL, &run);
    t->elapsed = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
    t->exit_code = app_scan_exit_code(&t->sum);
    if (exit_zero && (t->exit_code == APP_EXIT_NEEDS_FIX ||
                      t->exit_code == APP_EXIT_REFUSED)) {
        t->exit_code = APP_EXIT_OK; /* findings, not failures: the report
                                       has them */
    }
}
