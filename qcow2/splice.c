/*
 * qcow2_splice_vmstate: replace a snapshot's VM state by the old one with
 * an edit list applied, copy-on-write, and commit it atomically.
 *
 * Order of writes (each arrow a flush):
 *   0. refcount blocks/table grown if the file will outgrow them  ->
 *      (refgrow.c: new blocks and table, then hooked in)
 *   1. unknown autoclear bits cleared (only if any are set)      ->
 *   2. per changed L2 span: data clusters of the new VM state;
 *      every refcount the new tables need (fresh clusters = 1, kept
 *      clusters + 1)                                              ->
 *      then the new L2 tables (queued, bounded)
 *   3. the last L2 tables and the new L1                          ->
 *   4. the new snapshot table                                     ->
 *   5. the 12-byte header write at offset 60: the commit point    ->
 *   6. where an active COPIED flag would go wrong: active L1 entries
 *      of a stale VM state mapping cleared (release.c), or inside the
 *      virtual disk the active side moved to copies (relocate.c)  ->
 *   7. refcounts of everything the old snapshot alone held, down  ->
 *   8. the clusters that became free discarded (space.c)
 * Before 0 the whole image is checked (check.c), and everything that
 * could refuse the run is decided (keeping the original, the new snapshot
 * table's size, the refcount table's): no refusal after a write. Anything
 * inconsistent and nothing is written, in a dry run too. A failure or
 * cancellation before 5 gives back what was allocated (space.c); cancellation
 * is polled before every write until 5, after which the run finishes. Nothing
 * reachable from the header or the snapshot table is written before 5 except
 * refcount blocks (whose counts only go up before 5) and the table entries that
 * hook in new refcount blocks. A crash before 5 leaves the old snapshot
 * complete, after 5 the new one; at most some clusters leak (qemu-img check -r
 * leaks reclaims them).
 *
 * Memory: a few clusters of buffers, the edit data, the refcount blocks
 * the splice touches, the L1 tables and snapshot table; never the VM
 * state.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "write-internal.h"

static bool check_keep_name(const Qcow2Image *img, const char *name,
                            GError **errp)
{
    if (!*name || strlen(name) > UINT16_MAX) {
        qcow2_error(errp, img, QCOW2_ERROR_INVALID, NULL, 0,
                    "the name to keep the original snapshot under must have "
                    "1 to 65535 bytes");
        return false;
    }
    for (guint i = 0; i < img->nb_snapshots; i++) {
        if (!strcmp(img->snapshots[i].name, name) ||
            !strcmp(img->snapshots[i].id, name)) {
            qcow2_error(errp, img, QCOW2_ERROR_INVALID, NULL, 0,
                        "a snapshot with ID or name \"%s\" already exists",
                        name);
            return false;
        }
    }
    if (img->nb_snapshots >= QCOW2_MAX_SNAPSHOTS) {
        qcow2_error(errp, img, QCOW2_ERROR_UNSUPPORTED, NULL, 0,
                    "keeping the original needs a new snapshot, and the "
                    "image already has QEMU's maximum of %u",
                    QCOW2_MAX_SNAPSHOTS);
        return false;
    }
    return true;
}

static void splice_init(Qcow2Splice *s, Qcow2Image *img,
                        const Qcow2Snapshot *snap,
                        const Qcow2SpliceOptions *opts, Qcow2SpliceStats *stats)
{
    memset(s, 0, sizeof(*s));
    s->img = img;
    s->snap = snap;
    s->opts = opts;
    s->stats = stats;
    s->keep = opts->keep_original_name != NULL;
    s->cs = img->cluster_size;
    s->base = qcow2_vmstate_base(img, snap);
    qcow2_wio_init(&s->w, img, opts->dry_run, stats);
    s->w.cancel = opts->cancel;
    s->w.cancellable = true;
    qcow2_old_reader_init(&s->src, s->cs);
    qcow2_old_reader_init(&s->cmp, s->cs);
    s->newbuf = g_malloc(s->cs);
    s->oldbuf = g_malloc(s->cs);
    s->changes = g_array_new(false, false, sizeof(Qcow2SpanChange));
    s->pending = g_array_new(false, false, sizeof(Qcow2PendingTable));
}

static void splice_destroy(Qcow2Splice *s)
{
    for (guint i = 0; i < s->changes->len; i++) {
        g_free(g_array_index(s->changes, Qcow2SpanChange, i).dropped);
    }
    g_array_free(s->changes, true);
    for (guint i = 0; i < s->pending->len; i++) {
        g_free(g_array_index(s->pending, Qcow2PendingTable, i).data);
    }
    g_array_free(s->pending, true);
    qcow2_refs_destroy(&s->refs);
    qcow2_editmap_destroy(&s->map);
    qcow2_old_reader_destroy(&s->src);
    qcow2_old_reader_destroy(&s->cmp);
    qcow2_wio_destroy(&s->w);
    g_free(s->newbuf);
    g_free(s->oldbuf);
    g_free(s->new_l1);
    g_free(s->new_table);
}

/* The new L1: the old one, long enough for the new VM state. */
static bool plan_l1(Qcow2Splice *s, GError **errp)
{
    uint64_t entries = s->img->l2_entries;
    uint64_t first = qcow2_l1_index(s->img, s->base);
    uint64_t need = first + (s->new_clusters + entries - 1) / entries;
    uint64_t size = MAX((uint64_t)s->old_l1->size, need);

    if (qcow2_table_bytes(size) > QCOW2_MAX_L1_BYTES) {
        qcow2_error(errp, s->img, QCOW2_ERROR_UNSUPPORTED,
                    "snapshot table entry", s->snap->table_offset,
                    "a VM state of %" PRIu64 " bytes needs an L1 table of "
                    "%" PRIu64 " entries, more than QEMU allows",
                    s->map.new_size, size);
        return false;
    }
    s->new_l1_size = (uint32_t)size;
    s->new_l1 = g_new0(uint64_t, MAX(size, 1));
    for (uint32_t i = 0; i < s->old_l1->size; i++) {
        s->new_l1[i] = s->old_l1->entries[i] & QCOW2_L1E_OFFSET_MASK;
    }
    return true;
}

/* An upper bound of what the splice allocates, to grow refcounts once. */
static uint64_t estimate_allocations(const Qcow2Splice *s)
{
    const GArray *d = s->map.dirty;
    uint64_t n = 0, spans = 0;

    for (guint i = 0; i + 1 < d->len; i += 2) {
        uint64_t a = g_array_index(d, uint64_t, i);
        uint64_t b = MIN(g_array_index(d, uint64_t, i + 1), s->new_clusters);
        n += b > a ? b - a : 0;
    }
    for (uint64_t span = 0; span < qcow2_splice_span_count(s); span++) {
        spans += qcow2_splice_span_changes(s, span);
    }
    n += spans;
    if (s->img->header.refcount_bits < 16) {
        n += spans * s->img->l2_entries; /* kept clusters may be copied */
    }
    n += (qcow2_table_bytes(s->new_l1_size) + s->img->snapshot_table_length +
          QCOW2_MAX_SNAPSHOT_EXTRA + 1024) /
             s->cs +
         4;
    return n;
}

/*
 * The whole image checked before anything is written (in a dry run too,
 * so that it predicts the refusal): a write on inconsistent metadata
 * could free or overwrite what a table still uses. The references it
 * counted then guide the allocator and the cross-check in the journal.
 * A report the caller made of the image as it is now stands in for it;
 * a count-only run (scan's plan) still refuses what the counting found.
 */
static bool check_image(Qcow2Splice *s, GError **errp)
{
    const Qcow2CheckReport *given = s->opts->checked;
    bool count_only = s->opts->skip_consistency_check;
    g_autoptr(Qcow2CheckReport) own = NULL;

    if (!qcow2_check_report_current(s->img, given)) {
        own = qcow2_check_run(s->img, s->opts->cancel, count_only, errp);
        if (!own) {
            return false;
        }
        given = own;
    }
    if (!qcow2_check_report_ok(s->img, given, errp)) {
        return false;
    }
    s->stats->leaked_clusters = given->leaks;
    if (own && !s->opts->check_report) {
        qcow2_refs_take_counts(&s->refs, own);
    } else {
        qcow2_refs_copy_counts(&s->refs, given);
    }
    if (own && s->opts->check_report) {
        *s->opts->check_report = g_steal_pointer(&own);
    }
    return true;
}

static bool run(Qcow2Splice *s, GError **errp)
{
    uint64_t estimate;

    if (!qcow2_get_l1(s->img, s->snap, &s->old_l1, errp) || !plan_l1(s, errp) ||
        !qcow2_refs_init(&s->refs, s->img, &s->w, errp) ||
        !check_image(s, errp)) {
        return false;
    }
    /*
     * Every refusal before the first write: keeping the original may be
     * impossible, the new snapshot table may exceed QEMU's limits, so may
     * the refcount table the run needs (the first growth plans before it
     * writes).
     */
    if ((s->keep && !qcow2_splice_share_unchanged(s, errp)) ||
        !qcow2_splice_plan_table(s, errp)) {
        return false;
    }
    estimate = estimate_allocations(s);
    s->refs.grow_hint = MAX(estimate / 4, 64);
    return qcow2_refs_ensure_room(&s->refs, s->refs.end + estimate, errp) &&
           qcow2_clear_unknown_autoclear(s->img, &s->w, errp) &&
           qcow2_splice_prepare_table(s, errp) &&
           qcow2_splice_stream(s, errp) && qcow2_splice_commit(s, errp) &&
           qcow2_splice_release(s, errp) && qcow2_splice_discard_freed(s, errp);
}

/*
 * A run that wrote and failed: before the commit, give back what it took
 * (refcounts, file length); say in the message what state the image is in
 * and, where clusters may have leaked, how to reclaim them.
 */
static void after_failure(Qcow2Splice *s, GError *err)
{
    const char *name = s->img->name;
    GError *undo_err = NULL;
    char *msg;

    if (s->committed) {
        s->stats->end = QCOW2_SPLICE_COMMITTED;
        msg = g_strdup_printf("%s (the new VM state was committed; leaked "
                              "clusters may remain: qemu-img check -r "
                              "leaks %s)",
                              err->message, name);
    } else if (qcow2_splice_commit_landed(s)) {
        /* The switch may have reached the disk or not: both states are
         * complete, and either may be current; keep every cluster. */
        s->stats->end = QCOW2_SPLICE_UNCONFIRMED;
        msg = g_strdup_printf("%s (the commit could not be confirmed: the "
                              "image holds the old or the new VM state, "
                              "both complete; leaked clusters may remain: "
                              "qemu-img check -r leaks %s)",
                              err->message, name);
    } else if (qcow2_splice_give_back(s, &undo_err)) {
        s->stats->end = QCOW2_SPLICE_GIVEN_BACK;
        msg = g_strdup_printf("%s (the old VM state is intact; what the run "
                              "had allocated was given back)",
                              err->message);
    } else {
        s->stats->end = QCOW2_SPLICE_OLD_LEAKED;
        msg = g_strdup_printf("%s (the old VM state is intact; giving back "
                              "what the run had allocated failed: %s; "
                              "qemu-img check -r leaks %s reclaims it)",
                              err->message, undo_err->message, name);
        g_error_free(undo_err);
    }
    g_free(err->message);
    err->message = msg;
}

/* File size and space, before or after (a dry run predicts the after). */
static void measure_space(Qcow2Splice *s, bool after)
{
    Qcow2SpliceStats *st = s->stats;
    uint64_t size, allocated, available;

    qcow2_space_measure(s->img, &size, &allocated, &available);
    if (!after) {
        st->file_size_before = size;
        st->allocated_before = allocated;
        st->space_available = available;
        return;
    }
    st->space_needed = (st->clusters_written + st->metadata_clusters) * s->cs;
    if (s->opts->dry_run) {
        st->file_size_after = MAX(st->file_size_before, s->w.end);
        st->allocated_after =
            st->allocated_before + st->space_needed -
            MIN(st->discarded_bytes, st->allocated_before + st->space_needed);
    } else {
        st->file_size_after = size;
        st->allocated_after = allocated;
    }
}

bool qcow2_splice_vmstate(Qcow2Image *img, const Qcow2Snapshot *snap,
                          const Qcow2Edit *edits, size_t n_edits,
                          const Qcow2SpliceOptions *opts,
                          Qcow2SpliceStats *stats, GError **errp)
{
    static const Qcow2SpliceOptions defaults;
    Qcow2SpliceStats ignored;
    Qcow2Splice s;
    GError *err = NULL;
    bool ok, wrote, noop = false;

    opts = opts ? opts : &defaults;
    stats = stats ? stats : &ignored;
    memset(stats, 0, sizeof(*stats));
    if (!snap || snap->index >= img->nb_snapshots ||
        snap != &img->snapshots[snap->index]) {
        qcow2_error(errp, img, QCOW2_ERROR_INVALID, NULL, 0,
                    "snapshot handle does not belong to this image");
        return false;
    }
    if (opts->skip_consistency_check && !opts->dry_run) {
        qcow2_error(errp, img, QCOW2_ERROR_INVALID, NULL, 0,
                    "a write without the consistency check is not offered");
        return false;
    }
    if (!qcow2_snapshot_usable(snap, errp) ||
        !qcow2_check_writable(img, snap, opts->dry_run, errp) ||
        (opts->keep_original_name &&
         !check_keep_name(img, opts->keep_original_name, errp))) {
        return false;
    }
    splice_init(&s, img, snap, opts, stats);
    measure_space(&s, false);
    ok = qcow2_editmap_build(&s.map, img, snap, edits, n_edits, &err) &&
         qcow2_editmap_is_noop(&s.map, img, snap, &noop, &err);
    if (ok) {
        stats->old_size = s.map.old_size;
        stats->new_size = s.map.new_size;
        s.old_clusters = (s.map.old_size + s.cs - 1) / s.cs;
        s.new_clusters = (s.map.new_size + s.cs - 1) / s.cs;
        stats->clusters_shared = s.new_clusters;
    }
    /* A no-op edit list writes nothing, unless a copy was asked for. */
    if (ok && (!noop || s.keep)) {
        ok = run(&s, &err);
        stats->clusters_shared = s.new_clusters - s.fresh_vmstate;
        stats->clusters_freed = s.refs.freed;
    }
    if (ok && s.opts->progress) {
        s.opts->progress(stats->new_size, stats->new_size,
                         s.opts->progress_opaque);
    }
    wrote = s.w.wrote;
    if (ok && wrote && !opts->dry_run) {
        stats->end = QCOW2_SPLICE_COMMITTED;
    }
    if (!ok && wrote && !opts->dry_run) {
        after_failure(&s, err);
    } else if (!ok &&
               g_error_matches(err, QCOW2_ERROR, QCOW2_ERROR_CANCELLED)) {
        char *msg = g_strdup_printf("%s (nothing was written)", err->message);

        g_free(err->message);
        err->message = msg;
    }
    measure_space(&s, true);
    splice_destroy(&s);
    if (wrote && !opts->dry_run) {
        /* The file changed under the handle: read it again. */
        GError *reload_err = NULL;

        if (!qcow2_reload(img, ok ? &err : &reload_err)) {
            g_clear_error(&reload_err);
            ok = false;
        }
    }
    if (!ok) {
        g_propagate_error(errp, err);
    }
    return ok;
}
