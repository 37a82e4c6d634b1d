/*
 * What a splice does with disk space: measured before and after, given
 * back when the splice fails or is cancelled before its commit point, and
 * released to the file system after it succeeds.
 *
 * Giving back (before the commit): the new clusters lie unreferenced
 * behind the old structures, so the refcount table and blocks are put
 * back as they were and the file is cut to its old length (refgrow.c,
 * qcow2_refs_give_back); an image left so passes qemu-img check without
 * a leak. Only a failure of the giving back itself leaves leaks.
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

bool qcow2_splice_give_back(Qcow2Splice *s, GError **errp)
{
    qcow2_wio_discard_pending(&s->w);
    s->w.cancellable = false; /* finish what we undo */
    return qcow2_refs_give_back(&s->refs, s->stats->file_size_before, errp);
}

static gint by_index(gconstpointer a, gconstpointer b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* One run of free clusters [first, first + n): a hole. */
static bool discard_run(Qcow2Splice *s, uint64_t first, uint64_t n,
                        GError **errp)
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
        s->stats->discarded_bytes += len;
    }
    return true;
}

bool qcow2_splice_discard_freed(Qcow2Splice *s, GError **errp)
{
    GArray *freed = s->refs.freed_list;
    uint64_t first = 0, n = 0;

    g_array_sort(freed, by_index);
    for (guint i = 0; i < freed->len; i++) {
        uint64_t c = g_array_index(freed, uint64_t, i);
        uint64_t rc;

        if (n && c < first + n) {
            continue; /* freed twice (taken again in between) */
        }
        if (!qcow2_refs_get(&s->refs, c, &rc, errp)) {
            return false;
        }
        if (rc) {
            continue; /* taken again */
        }
        if (n && c == first + n) {
            n++;
            continue;
        }
        if (n && !discard_run(s, first, n, errp)) {
            return false;
        }
        first = c;
        n = 1;
    }
    return !n || discard_run(s, first, n, errp);
}
