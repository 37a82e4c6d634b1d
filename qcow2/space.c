/*
 * What a splice does with disk space: measured before and after, given
 * back when the splice fails or is cancelled before its commit point, and
 * released to the file system after it succeeds.
 *
 * Giving back (before the commit): the new clusters lie unreferenced
 * behind the old structures, so the refcount table and blocks are put
 * back as they were and the file is cut to its old length (refgrow.c,
 * qcow2_refs_give_back); an image left so passes qemu-img check without
 * a leak. Only a failure of the giving back itself leaves leaks. The
 * clusters the run took inside the old file (free ones: the holes an
 * earlier fix left) are discarded again, so that the file system has the
 * free space it had before the run, not only the file its length.
 *
 * Releasing (after the commit): the clusters whose refcount the splice
 * took to 0 (the old VM state, tables it no longer needs) are discarded,
 * as QEMU does when it deletes a snapshot (pass-discard-snapshot, on by
 * default: a discard request to the file, which punches a hole). The file
 * keeps its size, as with QEMU, but no longer occupies the old VM state's
 * space on disk. Only clusters still free at the end are discarded: one
 * freed and taken again by the splice is not.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "write-internal.h"

void qcow2_space_measure(Qcow2Image *img, uint64_t *size, uint64_t *allocated,
                         uint64_t *available)
{
    Qcow2IO *io = img->io;

    *size = img->header.file_size;
    *allocated = *size;
    *available = UINT64_MAX;
    if (!io->ops->get_size(io, size, NULL)) {
        *size = img->header.file_size;
    }
    if (!io->ops->space || !io->ops->space(io, allocated, available, NULL)) {
        *allocated = *size;
        *available = UINT64_MAX;
    }
}

static gint by_index(gconstpointer a, gconstpointer b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* One run of free clusters [first, first + n): a hole. */
static bool discard_run(Qcow2Splice *s, uint64_t first, uint64_t n,
                        uint64_t *released, GError **errp)
{
    Qcow2IO *io = s->img->io;
    uint64_t off = first * s->cs;
    uint64_t len = n * s->cs;
    bool done = true;

    /* Only what the file holds: a freed cluster may lie past its end. */
    if (off >= s->w.end && off >= s->stats->file_size_before) {
        return true;
    }
    if (!s->opts->dry_run && io->ops->discard &&
        !io->ops->discard(io, off, len, &done, errp)) {
        return false;
    }
    if (done) {
        *released += len;
    }
    return true;
}

/* Is cluster c free (now, or before the splice)? */
typedef bool (*IsFree)(Qcow2Refs *r, uint64_t c, uint64_t *rc, GError **errp);

/* Discard the clusters of the list that are free, in runs. */
static bool discard_free(Qcow2Splice *s, GArray *list, IsFree refcount,
                         uint64_t *released, GError **errp)
{
    uint64_t first = 0, n = 0;

    g_array_sort(list, by_index);
    for (guint i = 0; i < list->len; i++) {
        uint64_t c = g_array_index(list, uint64_t, i);
        uint64_t rc;

        if (n && c < first + n) {
            continue; /* listed twice (taken and freed in between) */
        }
        if (!refcount(&s->refs, c, &rc, errp)) {
            return false;
        }
        if (rc) {
            continue; /* in use */
        }
        if (n && c == first + n) {
            n++;
            continue;
        }
        if (n && !discard_run(s, first, n, released, errp)) {
            return false;
        }
        first = c;
        n = 1;
    }
    return !n || discard_run(s, first, n, released, errp);
}

/*
 * Before the commit: the refcounts and the file length as they were, and
 * the clusters the run took inside the old file (holes a former discard
 * left, now filled) released again, so that the file system gets back
 * all the space the run took. Only clusters free before the run are
 * released: a cluster it freed and took again (the old refcount table's)
 * holds its old content again.
 */
bool qcow2_splice_give_back(Qcow2Splice *s, GError **errp)
{
    uint64_t released = 0;

    qcow2_wio_discard_pending(&s->w);
    s->w.cancellable = false; /* finish what we undo */
    return qcow2_refs_give_back(&s->refs, s->stats->file_size_before, errp) &&
           discard_free(s, s->refs.taken_list, qcow2_refs_get_orig, &released,
                        errp);
}

/* Only clusters still free at the end: one freed and taken again by the
 * splice is not discarded. */
bool qcow2_splice_discard_freed(Qcow2Splice *s, GError **errp)
{
    return discard_free(s, s->refs.freed_list, qcow2_refs_get,
                        &s->stats->discarded_bytes, errp);
}
