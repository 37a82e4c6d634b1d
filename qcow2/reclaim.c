/*
 * Reclaiming leaked clusters (qcow2_reclaim_leaks): the consistency
 * check counts every reference; a cluster whose refcount is above that
 * count is space nobody can reach (a write cut after it took clusters,
 * before it used or gave them back). Lowering such a refcount to its
 * references is what qemu-img check -r leaks does.
 *
 * Why any crash point is safe: the only writes are refcount blocks (and,
 * first, the header's unknown autoclear bits, as any writer clears them,
 * and the active L1 entries dropped as said below, flushed before),
 * and every value written is still at least the cluster's references, so
 * that whatever part of them lands -- each block, each sector of a torn
 * block, in any order -- the image stays consistent, with some of its
 * leaks left. The discards come after the flush, and only for clusters
 * whose refcount 0 is then durable.
 *
 * COPIED flags: an active entry's flag says "refcount 1". A leak on a
 * cluster an active table maps with the flag set is already corruption
 * to the check (refused, not repaired). A leak on one it maps with the
 * flag clear through its only reference (refcount 2, one reference: a
 * splice cut after its commit, before it dropped the active L1's stale
 * mapping of the old VM state) cannot go to 1 without the flag being set
 * in another cluster, and no order of those two writes is consistent at
 * every instant; so, as the splice does (release.c), the active mapping
 * is dropped first where it lies past the virtual disk (the guest never
 * reads there, QEMU discards it after every savevm), which leaves plain
 * leaks. Inside the virtual disk such clusters stay at refcount 2
 * (stats->leaks_left; qemu-img check -r leaks sets the flags).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "write-internal.h"

/* The check to work from: the caller's, while current, or a new one. */
static const Qcow2CheckReport *checked(Qcow2Image *img,
                                       const Qcow2ReclaimOptions *opts,
                                       Qcow2CheckReport **own, GError **errp)
{
    if (qcow2_check_report_current(img, opts->checked)) {
        return opts->checked;
    }
    *own = qcow2_check_run(img, NULL, false, errp);
    return *own;
}

/* Lowering k to its references would leave an active COPIED flag
 * wrong: one reference (which COPIED clear says is shared), refcount
 * above it. */
static bool copied_would_break(Qcow2Refs *r, uint64_t k, bool *breaks,
                               GError **errp)
{
    uint64_t rc;

    *breaks = false;
    if (k >= r->counted_n || r->counted[k] != 1) {
        return true;
    }
    if (!qcow2_refs_get(r, k, &rc, errp)) {
        return false;
    }
    *breaks = rc > 1;
    return true;
}

/* The clusters of active L1 entry l2 whose flag would break: the table,
 * and the data it maps when nothing else reaches the table. */
static bool active_breaks(Qcow2Splice *s, uint64_t l2, uint64_t where,
                          GHashTable *breaking, GError **errp)
{
    Qcow2Image *img = s->img;
    uint32_t bits = img->header.cluster_bits;
    g_autoptr(GHashTable) data = NULL;
    GHashTableIter it;
    gpointer key;
    bool breaks;

    if (!copied_would_break(&s->refs, l2 >> bits, &breaks, errp)) {
        return false;
    }
    if (breaks) {
        g_hash_table_add(breaking, g_memdup2(&l2, 8));
    }
    /* With an external data file, data clusters have no refcount. */
    if (img->header.incompatible_features & QCOW2_INCOMPAT_DATA_FILE) {
        return true;
    }
    if (!qcow2_l2_copied_clusters(img, l2, where, &data, errp)) {
        return false;
    }
    g_hash_table_iter_init(&it, data);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        if (!copied_would_break(&s->refs, *(uint64_t *)key >> bits, &breaks,
                                errp)) {
            return false;
        }
        if (breaks) {
            g_hash_table_add(breaking, g_memdup2(key, 8));
        }
    }
    return true;
}

/*
 * Before lowering: leaks that an active entry with COPIED clear reaches
 * through its only reference (a splice cut after its commit, before it
 * dropped the active L1's stale mapping of the VM state: release.c).
 * Past the virtual disk the active mapping is dropped, as the splice
 * would have (one in-place write of zeros per entry, flushed; the
 * clusters it reached are then plain leaks); inside it the clusters keep
 * a refcount of 2 (into *keep): lowering them to 1 needs the flag set in
 * a table, which no order of writes makes safe at every instant.
 */
static bool settle_active(Qcow2Splice *s, GHashTable *keep, GError **errp)
{
    Qcow2Image *img = s->img;
    uint64_t first_vmstate = qcow2_active_vmstate_index(img);
    g_autoptr(GArray) drops = g_array_new(false, false, sizeof(uint32_t));
    const Qcow2L1 *act;
    static const uint8_t zeros[QCOW2_ENTRY_BYTES];

    if (!qcow2_get_l1(img, NULL, &act, errp)) {
        return false;
    }
    for (uint32_t i = 0; i < act->size; i++) {
        uint64_t l2 = act->entries[i] & QCOW2_L1E_OFFSET_MASK;
        uint64_t where = qcow2_entry_offset(act->offset, i);
        g_autoptr(GHashTable) breaking = NULL;

        if (!l2) {
            continue;
        }
        breaking =
            g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
        if (!active_breaks(s, l2, where, breaking, errp)) {
            return false;
        }
        if (!g_hash_table_size(breaking)) {
            continue;
        }
        if (i >= first_vmstate) {
            g_array_append_val(drops, i);
            continue;
        }
        GHashTableIter it;
        gpointer key;
        g_hash_table_iter_init(&it, breaking);
        while (g_hash_table_iter_next(&it, &key, NULL)) {
            g_hash_table_add(keep, g_memdup2(key, 8));
        }
    }
    for (guint n = 0; n < drops->len; n++) {
        uint32_t i = g_array_index(drops, uint32_t, n);

        if (!qcow2_wio_write(&s->w, zeros, sizeof(zeros),
                             qcow2_entry_offset(act->offset, i), errp)) {
            return false;
        }
    }
    if (drops->len && !qcow2_wio_flush(&s->w, errp)) {
        return false;
    }
    s->stats->active_entries_dropped = drops->len;
    for (guint n = 0; n < drops->len; n++) {
        uint32_t i = g_array_index(drops, uint32_t, n);

        if (!qcow2_splice_drop_path(s, act->entries[i] & QCOW2_L1E_OFFSET_MASK,
                                    qcow2_entry_offset(act->offset, i), errp)) {
            return false;
        }
    }
    return true;
}

/* Every leaked cluster's refcount down to its references (in memory),
 * those in keep to 2. */
static bool lower_leaks(Qcow2Splice *s, const Qcow2CheckReport *rep,
                        GHashTable *keep, GError **errp)
{
    uint64_t n = rep->n_clusters;

    for (uint64_t k = 0; k < n; k++) {
        uint64_t off = k << s->img->header.cluster_bits;
        bool kept = g_hash_table_contains(keep, &off);

        /* The clusters the check compared (compare_refcounts, check.c). */
        if (k == n - 1 && !rep->cluster_references[k]) {
            break;
        }
        if (!qcow2_refs_lower_to(&s->refs, k, kept ? 2 : 0, errp)) {
            return false;
        }
        s->stats->leaks_left += kept;
    }
    return true;
}

static bool reclaim(Qcow2Splice *s, const Qcow2ReclaimOptions *opts,
                    GError **errp)
{
    g_autoptr(Qcow2CheckReport) own = NULL;
    const Qcow2CheckReport *rep = checked(s->img, opts, &own, errp);
    g_autoptr(GHashTable) keep =
        g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);

    if (!rep || !qcow2_check_report_ok(s->img, rep, errp) ||
        !qcow2_refs_init(&s->refs, s->img, &s->w, errp)) {
        return false;
    }
    s->stats->leaked_clusters = rep->leaks;
    if (!rep->leaks) {
        return true; /* nothing to write */
    }
    qcow2_refs_copy_counts(&s->refs, rep);
    return qcow2_clear_unknown_autoclear(s->img, &s->w, errp) &&
           settle_active(s, keep, errp) && lower_leaks(s, rep, keep, errp) &&
           qcow2_refs_write_dirty(&s->refs, errp) &&
           qcow2_wio_flush(&s->w, errp) && qcow2_splice_discard_freed(s, errp);
}

bool qcow2_reclaim_leaks(Qcow2Image *img, const Qcow2ReclaimOptions *opts,
                         Qcow2SpliceStats *stats, GError **errp)
{
    static const Qcow2ReclaimOptions defaults;
    Qcow2SpliceOptions so = {0};
    Qcow2SpliceStats ignored;
    Qcow2Splice s;
    bool ok, wrote;

    opts = opts ? opts : &defaults;
    stats = stats ? stats : &ignored;
    memset(stats, 0, sizeof(*stats));
    if (!qcow2_check_may_write(img, opts->dry_run, "reclaim leaked clusters",
                               errp)) {
        return false;
    }
    /* The splice's state, for its refcount journal and its discards. */
    memset(&s, 0, sizeof(s));
    so.dry_run = opts->dry_run;
    s.img = img;
    s.opts = &so;
    s.stats = stats;
    s.cs = img->cluster_size;
    qcow2_wio_init(&s.w, img, opts->dry_run, stats);
    qcow2_space_measure(img, &stats->file_size_before, &stats->allocated_before,
                        &stats->space_available);
    ok = reclaim(&s, opts, errp);
    stats->clusters_freed = s.refs.freed;
    wrote = s.w.wrote && !opts->dry_run;
    stats->end = !wrote ? QCOW2_SPLICE_UNTOUCHED
                 : ok   ? QCOW2_SPLICE_COMMITTED
                        : QCOW2_SPLICE_UNCONFIRMED;
    qcow2_refs_destroy(&s.refs);
    qcow2_wio_destroy(&s.w);
    if (!ok && wrote && errp && *errp) {
        char *msg = g_strdup_printf("%s (the image is consistent; some of "
                                    "its leaked clusters may remain)",
                                    (*errp)->message);
        g_free((*errp)->message);
        (*errp)->message = msg;
    }
    if (wrote) {
        GError *reload_err = NULL;

        if (!qcow2_reload(img, ok ? errp : &reload_err)) {
            g_clear_error(&reload_err);
            return false;
        }
    }
    if (opts->dry_run) {
        stats->file_size_after = stats->file_size_before;
        stats->allocated_after =
            stats->allocated_before -
            MIN(stats->allocated_before, stats->discarded_bytes);
    } else {
        qcow2_space_measure(img, &stats->file_size_after,
                            &stats->allocated_after, &stats->space_available);
    }
    return ok;
}
