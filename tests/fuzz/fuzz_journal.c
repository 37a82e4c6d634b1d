/*
 * libFuzzer target: the two files a fix reads back from wherever a user
 * kept them, a batch's journal (fix --resume, undo --journal) and a scan
 * report (fix --from-scan), through the application layer's readers
 * (src/app/journal.h, batch.h). The input is the file. Oracles beyond "no
 * crash": a journal that loads has a batch record and every entry a step;
 * every plan item has a path and its snapshot IDs.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/batch.h"
#include "app/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_plan(const GPtrArray *plan)
{
    for (guint i = 0; plan && i < plan->len; i++) {
        const AppPlanItem *p = g_ptr_array_index(plan, i);
        if (!p->path) {
            abort();
        }
        for (guint k = 0; p->snapshots && p->snapshots[k]; k++) {
            (void)strlen(p->snapshots[k]);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/qsnapfix-fuzz-journal-XXXXXX";
    int fd = g_mkstemp(path);
    GPtrArray *entries, *plan;
    bool have_batch = false;

    if (fd < 0) {
        abort();
    }
    if (write(fd, data, size) != (ssize_t)size) {
        abort();
    }
    close(fd);
    entries = app_journal_load(path, NULL);
    for (guint i = 0; entries && i < entries->len; i++) {
        const AppJournalEntry *e = g_ptr_array_index(entries, i);
        if (!e->step) {
            abort();
        }
        if (!strcmp(e->step, "batch")) {
            have_batch = true;
            check_plan(e->plan);
        }
    }
    if (entries && !have_batch) {
        abort();
    }
    plan = app_plan_from_scan(path, NULL);
    check_plan(plan);
    if (entries) {
        g_ptr_array_unref(entries);
    }
    if (plan) {
        g_ptr_array_unref(plan);
    }
    unlink(path);
    return 0;
}
