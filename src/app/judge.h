/*
 * Judging a VM state without writing: what `fix --dry-run` would say, read
 * as little as possible (scan's default), and what the fix would write.
 *
 * The tail path reads the stream's head (header, live sections, the RAM
 * block list) and its tail (the device sections after the last RAM page),
 * about 70 KiB of a VM state of any size (src/stream/tail.c). The rules
 * look at exactly that: section names, versions and payloads, and the RAM
 * block list. What they cannot see there are the page records; run
 * without them (TrOptions.no_page_data), the translator leaves undecided
 * what reads them (R10's qxl ROM header, R4 with --shrink-vram, qemu-10.0's
 * fill pages) and says so. Then, or when the tail path finds nothing, the
 * stream goes through app_analyse(), the full walk and the rules exactly
 * as `fix --dry-run` runs them (full: always). Either way the verdict and
 * the rule ids are those of `fix --dry-run`.
 *
 * Edits to records the tail path did not walk (RAM page records renamed
 * or dropped, the PART records of a live section renumbered or removed)
 * are then missing from the edit list, and a length-changing edit near the
 * head makes the fix rewrite everything after it. In those cases the bytes
 * a fix would write are estimated from the edits and the sink's write unit
 * (the cluster size); otherwise they come from the sink's own dry run
 * (the qcow2 splice planned), exactly.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_JUDGE_H
#define APP_JUDGE_H

#include "io.h"
#include "options.h"
#include "outcome.h"

typedef enum {
    APP_VERDICT_DISK_ONLY,  /* no VM state */
    APP_VERDICT_COMPATIBLE, /* loads on the target as it is */
    APP_VERDICT_FIXABLE,    /* `fix` would make it load */
    APP_VERDICT_REFUSED,    /* `fix` would refuse (the reason is given) */
    APP_VERDICT_ERROR,      /* could not be judged (the message is given) */
    APP_VERDICT_ORIGINAL,   /* kept by a fix (--keep-original): not judged,
                               `undo` restores it (record.h) */
} AppVerdict;

const char *app_verdict_name(AppVerdict v); /* "disk-only", ... */

/* What a fix would write (the sink's dry run, or an estimate). */
typedef struct AppWritePlan {
    bool have;
    bool exact; /* from the sink's dry run; else estimated from edits */
    uint64_t new_size;
    uint64_t clusters_written;
    uint64_t clusters_shared;
    uint64_t metadata_clusters; /* exact plans only */
    uint64_t bytes_written;     /* exact: all bytes; estimate: data */
    /* Free space the write takes while it runs (exact: the sink's fresh
     * clusters and metadata; estimate: the data clusters). */
    uint64_t space_needed;
    /* Leaked clusters already in the image: known only when the plan
     * checked the whole image (full). */
    bool leaks_known;
    uint64_t leaked_clusters;
} AppWritePlan;

/* What stops `fix` from writing the container now (NULL message: nothing). */
typedef struct AppBlocker {
    char *message;
    int exit_code; /* the exit code fix would give */
    bool plan_ok;  /* the sink's dry run still runs (e.g. in use) */
} AppBlocker;

typedef struct AppJudgement {
    AppVerdict verdict;
    /*
     * The sink's plan refused the container as a whole (the image needs
     * repair: its consistency check found corruption): what blocks `fix`,
     * with its exit code; the verdict stands and the plan is estimated.
     */
    GError *blocked;
    /* The analysis, as `fix` keeps it: writer, TrResult, error. */
    AppOutcome *outcome;
    const char *path;    /* "tail" or "full": how the stream was read */
    const char *reason;  /* why the full walk was needed, or NULL */
    uint64_t bytes_read; /* stream bytes fetched */
    AppWritePlan write;
} AppJudgement;

/*
 * Judge the stream of source for a fix into sink (which plans, or gives
 * its write unit for an estimate); full: walk every record, and plan as
 * `fix --dry-run` does (the whole image checked: leaks known); else a
 * plan counts references only. out->outcome must be set
 * (app_outcome_new) by the caller. blocker may be NULL.
 */
void app_judge(AppJudgement *out, AppSource *source, AppSink *sink,
               const AppRecipeNames *names, const AppOptions *o, bool full,
               const AppBlocker *blocker);
void app_judgement_clear(AppJudgement *j);

#endif
