/*
 * One VM state's verdict for the target, read as little as possible
 * (judge.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "exit_codes.h"
#include "judge.h"
#include "pipeline.h"

/* With full, the sink's dry run plans exactly when little of the stream
 * moves (it reads the clusters it would rewrite). The default judge never
 * plans exactly: the splice's dry run walks every table of the image and
 * its refcounts (hundreds of KiB per image, more than the head and tail
 * of the stream), so it estimates from the edit list instead. */
#define EXACT_PLAN_BUDGET ((uint64_t)4 << 20)

const char *app_verdict_name(AppVerdict v)
{
    switch (v) {
    case APP_VERDICT_DISK_ONLY:
        return "disk-only";
    case APP_VERDICT_COMPATIBLE:
        return "compatible";
    case APP_VERDICT_FIXABLE:
        return "fixable";
    case APP_VERDICT_REFUSED:
        return "refused";
    case APP_VERDICT_ERROR:
        return "error";
    case APP_VERDICT_ORIGINAL:
        return "original";
    }
    return "?";
}

void app_judgement_clear(AppJudgement *j)
{
    g_clear_pointer(&j->outcome, app_outcome_free);
    g_clear_error(&j->blocked);
}

/* Does the finding edit records the tail path skipped? (RAM blocks and
 * live sections have records throughout the stream.) */
static bool edits_skipped_records(const TrFinding *f, const VmsStream *s)
{
    if (f->action != TR_ACTION_EDIT && f->action != TR_ACTION_LOSS) {
        return false;
    }
    if (vms_stream_find_block(s, f->subject) >= 0) {
        return true;
    }
    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        if ((sec->kind == VMS_KIND_RAM || sec->kind == VMS_KIND_BLOCK) &&
            !g_strcmp0(sec->idstr, f->subject)) {
            return true;
        }
    }
    return false;
}

static bool edit_list_complete(const TrResult *r, const VmsStream *s)
{
    if (!s->tail_path) {
        return true;
    }
    for (guint i = 0; i < r->findings->len; i++) {
        if (edits_skipped_records(g_ptr_array_index(r->findings, i), s)) {
            return false;
        }
    }
    return true;
}

/* Bytes from the first length-changing edit to the end (0: none). */
static uint64_t moved_bytes(const TrResult *r)
{
    for (guint i = 0; i < r->edits->len; i++) {
        const TrEdit *e = &g_array_index(r->edits, TrEdit, i);
        if (e->old_length != g_bytes_get_size(e->data)) {
            return r->old_size - e->offset;
        }
    }
    return 0;
}

/*
 * Units (clusters) the sink would write: those an edit touches, and from
 * the first length-changing edit on, every unit of the new stream (its
 * bytes no longer line up with the old ones).
 */
static void estimate_plan(AppWritePlan *w, const TrResult *r,
                          const AppSink *sink)
{
    uint64_t unit = sink->write_unit;
    uint64_t cs = MAX(unit, 1);
    uint64_t written = 0, next = 0; /* first unit not yet counted */
    uint64_t total = (r->new_size + cs - 1) / cs;
    int64_t shift = 0;

    for (guint i = 0; i < r->edits->len; i++) {
        const TrEdit *e = &g_array_index(r->edits, TrEdit, i);
        uint64_t len = g_bytes_get_size(e->data);
        uint64_t at = (uint64_t)((int64_t)e->offset + shift);
        uint64_t first = MAX(at / cs, next);
        uint64_t last = (at + MAX(len, 1) - 1) / cs;

        if (len != e->old_length) {
            last = total - 1; /* everything after moves */
        }
        if (last >= first && first < total) {
            written += MIN(last, total - 1) - first + 1;
            next = last + 1;
        }
        shift += (int64_t)len - (int64_t)e->old_length;
    }
    if (sink->no_sharing) {
        written = total;
    }
    w->have = true;
    w->exact = false;
    w->new_size = r->new_size;
    w->clusters_written = written;
    w->clusters_shared = total - MIN(written, total);
    w->bytes_written = written * cs;
    w->space_needed = w->bytes_written;
}

/* What `fix --dry-run` reports: the sink's plan as fix makes it (the
 * whole image checked, the record the fix leaves counted), nothing
 * written. */
static bool exact_plan(AppWritePlan *w, AppSink *sink, const TrResult *r,
                       const AppOptions *o, GError **errp)
{
    AppWriteStats st = {0};
    bool ok = app_plan(sink, NULL, o, r, &st, errp);

    if (ok && st.have_stats) {
        w->have = true;
        w->exact = true;
        w->new_size = st.new_size;
        w->clusters_written = st.clusters_written;
        w->clusters_shared = st.clusters_shared;
        w->metadata_clusters = st.metadata_clusters;
        w->bytes_written = st.bytes_written;
        w->space_needed = st.space_needed;
        w->leaks_known = true;
        w->leaked_clusters = st.leaked_clusters;
    } else if (ok) { /* a sink that cannot plan */
        estimate_plan(w, r, sink);
    }
    app_write_stats_clear(&st);
    return ok;
}

/*
 * Read and judge: the tail path first (unless full), else (or when the
 * tail path cannot decide) app_analyse(), the very analysis of `fix`. On
 * success the outcome holds the writer, the result and the status, and
 * *stream_out the stream they come from.
 */
static bool analyse(AppJudgement *out, VmsSource *src, const AppOptions *o,
                    bool full, const AppRecipeNames *names,
                    VmsStream **stream_out, GError **errp)
{
    AppOutcome *oc = out->outcome;

    if (!full) {
        VmsParseOptions popts = {.flags = VMS_PARSE_TAIL | VMS_PARSE_TAIL_ONLY};
        g_autoptr(VmsStream) s = vms_stream_parse(src, &popts, NULL);
        TrOptions no_pages = app_tr_options(o, names);
        TrResult *r;
        const TrFinding *undecided;

        no_pages.no_page_data = true;
        r = s ? tr_translate(s, src, &no_pages, NULL) : NULL;
        undecided = r ? tr_result_undecided(r) : NULL;
        out->reason = !s          ? "the tail path found no device sections"
                      : !r        ? "the rules need the page records"
                      : undecided ? undecided->rule
                                  : NULL;
        if (!out->reason) {
            out->path = "tail";
            oc->writer = vms_fingerprint(s);
            app_outcome_take_result(oc, r, s->size);
            *stream_out = g_steal_pointer(&s);
            return true;
        }
        tr_result_free(r);
    }
    out->path = "full";
    return app_analyse(src, o, names, oc, stream_out, errp);
}

static void fail(AppJudgement *out, GError *err)
{
    app_outcome_fail(out->outcome, err);
    out->verdict = APP_VERDICT_ERROR;
}

void app_judge(AppJudgement *out, AppSource *source, AppSink *sink,
               const AppRecipeNames *names, const AppOptions *o, bool full,
               const AppBlocker *blocker)
{
    static const AppBlocker none = {0};
    GError *err = NULL;
    g_autoptr(VmsSource) src = app_source_open(source, &err);
    g_autoptr(VmsStream) s = NULL;
    const TrResult *r;
    bool ok;

    blocker = blocker ? blocker : &none;
    if (!src) {
        fail(out, err);
        return;
    }
    ok = analyse(out, src, o, full, names, &s, &err);
    out->bytes_read = src->bytes_read;
    if (!ok) {
        fail(out, err);
        return;
    }
    r = out->outcome->result;
    switch (out->outcome->status) {
    case APP_REFUSED:
        out->verdict = APP_VERDICT_REFUSED;
        return;
    case APP_COMPATIBLE:
        out->verdict = APP_VERDICT_COMPATIBLE;
        return;
    case APP_ERROR: /* analyses do not end so */
        out->verdict = APP_VERDICT_ERROR;
        return;
    case APP_FIXED:
        break;
    }
    out->verdict = APP_VERDICT_FIXABLE;
    if (blocker->message && !blocker->plan_ok) {
        /* The sink refuses such containers even as a dry run. */
        estimate_plan(&out->write, r, sink);
    } else if (full &&
               (!s->tail_path || (edit_list_complete(r, s) &&
                                  moved_bytes(r) <= EXACT_PLAN_BUDGET))) {
        if (exact_plan(&out->write, sink, r, o, &err)) {
            return;
        }
        if (app_exit_code(err) == APP_EXIT_NEEDS_REPAIR) {
            /* The image, not this VM state: fix refuses every snapshot
             * of it until it is repaired. */
            out->blocked = err;
            estimate_plan(&out->write, r, sink);
            return;
        }
        if (blocker->exit_code != APP_EXIT_IN_USE) {
            fail(out, err); /* as `fix --dry-run` would */
            return;
        }
        /* In use: the running QEMU may be changing the metadata the
         * splice reads; the verdict stands, the plan is estimated. */
        g_clear_error(&err);
        estimate_plan(&out->write, r, sink);
    } else {
        estimate_plan(&out->write, r, sink);
    }
}
