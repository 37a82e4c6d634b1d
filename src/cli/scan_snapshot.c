/*
 * One snapshot's verdict for the target, read as little as possible.
 *
 * The default path reads the stream's head (header, live sections, the
 * RAM block list) and its tail (the device sections after the last RAM
 * page), about 70 KiB of a VM state of any size (src/stream/tail.c). The
 * rules look at exactly that: section names, versions and payloads, and
 * the RAM block list. What they cannot see there are the page records; run
 * without them (TrOptions.no_page_data), the translator leaves undecided
 * what reads them (R10's qxl ROM header, R4 with --shrink-vram, qemu-10.0's
 * fill pages) and says so. Then, or when the tail path finds nothing, the
 * snapshot goes through fix_analyse(), the full walk and the rules exactly
 * as `fix --dry-run` runs them (--full: always). Either way the verdict and
 * the rule ids are those of `fix --dry-run`.
 *
 * Edits to records the tail path did not walk (RAM page records renamed
 * or dropped, the PART records of a live section renumbered or removed)
 * are then missing from the edit list, and a length-changing edit near the
 * head makes the fix rewrite everything after it. In those cases the bytes
 * a fix would write are estimated from the edits and the cluster size;
 * otherwise they come from the qcow2 splice's own dry run, exactly.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "scan.h"
#include "source_qcow2.h"

/* The splice's dry run is cheap when little of the stream moves: it reads
 * the clusters it would rewrite. */
#define EXACT_PLAN_BUDGET ((uint64_t)4 << 20)

const char *scan_verdict_name(ScanVerdict v)
{
    switch (v) {
    case SCAN_DISK_ONLY:
        return "disk-only";
    case SCAN_COMPATIBLE:
        return "compatible";
    case SCAN_FIXABLE:
        return "fixable";
    case SCAN_REFUSED:
        return "refused";
    case SCAN_ERROR:
        return "error";
    }
    return "?";
}

void scan_snapshot_free(ScanSnapshot *s)
{
    if (!s) {
        return;
    }
    g_free(s->id);
    g_free(s->name);
    fix_outcome_free(s->outcome);
    g_free(s);
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
 * Clusters the splice would write: those an edit touches, and from the
 * first length-changing edit on, every cluster of the new VM state (its
 * bytes no longer line up with the old clusters).
 */
static void estimate_plan(ScanWritePlan *w, const TrResult *r, uint64_t cs)
{
    uint64_t written = 0, next = 0; /* first cluster not yet counted */
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
    w->have = true;
    w->exact = false;
    w->new_size = r->new_size;
    w->clusters_written = written;
    w->clusters_shared = total - MIN(written, total);
    w->bytes_written = written * cs;
}

/* What `fix --dry-run` reports: the splice planned, nothing written. */
static bool exact_plan(ScanWritePlan *w, Qcow2Image *img,
                       const Qcow2Snapshot *sn, const TrResult *r,
                       GError **errp)
{
    /* A plan's statistics; fix --dry-run also checks the whole image. */
    Qcow2SpliceOptions so = {.dry_run = true, .skip_consistency_check = true};
    Qcow2SpliceStats st = {0};
    g_autofree Qcow2Edit *edits = fix_qcow2_edits(r);

    if (!qcow2_splice_vmstate(img, sn, edits, r->edits->len, &so, &st, errp)) {
        return false;
    }
    w->have = true;
    w->exact = true;
    w->new_size = st.new_size;
    w->clusters_written = st.clusters_written;
    w->clusters_shared = st.clusters_shared;
    w->metadata_clusters = st.metadata_clusters;
    w->bytes_written = st.bytes_written;
    return true;
}

/*
 * Read and judge: the tail path first (unless --full), else (or when the
 * tail path cannot decide) fix_analyse(), the very analysis of `fix`. On
 * success the outcome holds the writer, the result and the status, and
 * *stream_out the stream they come from.
 */
static bool analyse(ScanSnapshot *out, VmsSource *src, const ScanOptions *o,
                    const TrOptions *t, VmsStream **stream_out, GError **errp)
{
    FixOutcome *oc = out->outcome;

    if (!o->full) {
        VmsParseOptions popts = {.flags = VMS_PARSE_TAIL | VMS_PARSE_TAIL_ONLY};
        g_autoptr(VmsStream) s = vms_stream_parse(src, &popts, NULL);
        TrOptions no_pages = *t;
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
            fix_outcome_take_result(oc, r, s->size);
            *stream_out = g_steal_pointer(&s);
            return true;
        }
        tr_result_free(r);
    }
    out->path = "full";
    return fix_analyse(oc, src, &o->fix, t->file_dir, t->file_prefix,
                       stream_out, errp);
}

static void fail(ScanSnapshot *out, GError *err)
{
    fix_outcome_fail(out->outcome, err);
    out->verdict = SCAN_ERROR;
}

void scan_snapshot_judge(ScanSnapshot *out, Qcow2Image *img,
                         const Qcow2Snapshot *sn, const char *image,
                         const ScanOptions *o, const ScanBlocker *blocker)
{
    GError *err = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *prefix = NULL;
    TrOptions t;
    g_autoptr(VmsSource) src = qsnapfix_source_qcow2(img, sn, &err);
    g_autoptr(VmsStream) s = NULL;
    const TrResult *r;
    bool ok;

    fix_snapshot_file_names(&o->fix, image, sn->name, &dir, &prefix);
    t = fix_tr_options(&o->fix, dir, prefix);
    out->outcome = fix_outcome_new(sn->id, sn->name);
    if (!src) {
        fail(out, err);
        return;
    }
    ok = analyse(out, src, o, &t, &s, &err);
    out->bytes_read = src->bytes_read;
    if (!ok) {
        fail(out, err);
        return;
    }
    r = out->outcome->result;
    switch (out->outcome->status) {
    case FIX_REFUSED:
        out->verdict = SCAN_REFUSED;
        return;
    case FIX_COMPATIBLE:
        out->verdict = SCAN_COMPATIBLE;
        return;
    case FIX_ERROR: /* analyses do not end so */
        out->verdict = SCAN_ERROR;
        return;
    case FIX_FIXED:
        break;
    }
    out->verdict = SCAN_FIXABLE;
    if (blocker->message && !blocker->splice_ok) {
        /* The splice refuses such images even as a dry run. */
        estimate_plan(&out->write, r, qcow2_header(img)->cluster_size);
    } else if (!s->tail_path || (edit_list_complete(r, s) &&
                                 moved_bytes(r) <= EXACT_PLAN_BUDGET)) {
        if (exact_plan(&out->write, img, sn, r, &err)) {
            return;
        }
        if (!blocker->message) {
            fail(out, err); /* as `fix --dry-run` would */
            return;
        }
        /* In use: the running QEMU may be changing the metadata the
         * splice reads; the verdict stands, the plan is estimated. */
        g_clear_error(&err);
        estimate_plan(&out->write, r, qcow2_header(img)->cluster_size);
    } else {
        estimate_plan(&out->write, r, qcow2_header(img)->cluster_size);
    }
}
