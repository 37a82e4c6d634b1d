/*
 * Cluster allocation for the splice.
 *
 * A cluster is free when its refcount is 0 *and* no table of the image
 * uses it: the consistency check that runs before the first write counted
 * the references of every host cluster from the tables themselves (every
 * L1 and L2 table and entry, every fixed structure), and the journal keeps
 * those counts in step. So a metadata cluster is never handed out, and
 * neither is a live data cluster whose refcount a damaged image
 * understates (the refcount alone would say "free"); the check refuses
 * such an image before anything is written.
 *
 * Placement is first fit from the lowest index that may be free, as
 * QEMU's allocator does; past the last used cluster the file grows. When
 * no refcount block describes the next candidate, refgrow.c prepares room
 * first.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "write-internal.h"

bool qcow2_refs_in_use(const Qcow2Refs *r, uint64_t cluster)
{
    return cluster < r->counted_n && r->counted[cluster] > 0;
}

bool qcow2_refs_covered(const Qcow2Refs *r, uint64_t cluster)
{
    uint64_t index = cluster >> r->block_bits;

    return index < r->table_entries && r->table[index];
}

void qcow2_refs_take_counts(Qcow2Refs *r, Qcow2CheckReport *report)
{
    g_free(r->counted);
    r->counted = g_steal_pointer(&report->cluster_references);
    r->counted_n = report->n_clusters;
    report->n_clusters = 0;
}

void qcow2_refs_copy_counts(Qcow2Refs *r, const Qcow2CheckReport *report)
{
    g_free(r->counted);
    r->counted = g_memdup2(report->cluster_references,
                           report->n_clusters * sizeof(*r->counted));
    r->counted_n = report->n_clusters;
}

/* Free: refcount 0 and unused by any table. */
static bool cluster_free(Qcow2Refs *r, uint64_t c, bool *free, GError **errp)
{
    uint64_t rc;

    if (!qcow2_refs_get(r, c, &rc, errp)) {
        return false;
    }
    if (rc == 0 && qcow2_refs_in_use(r, c)) {
        qcow2_error(errp, r->img, QCOW2_ERROR_NEEDS_REPAIR, "cluster",
                    c << r->img->header.cluster_bits,
                    "in use but its refcount is 0; run: qemu-img check -r "
                    "all %s",
                    r->img->name);
        return false;
    }
    *free = rc == 0;
    return true;
}

bool qcow2_refs_alloc(Qcow2Refs *r, uint64_t n, uint64_t *offset, GError **errp)
{
    uint64_t start = 0, run = 0, first_free = UINT64_MAX;
    uint64_t c = r->free_hint;

    g_assert(n > 0);
    while (run < n) {
        bool free;

        if (!qcow2_refs_covered(r, c)) {
            /* Make room for this request and a good part of the next. */
            if (!qcow2_refs_ensure_room(r, c + MAX(n, r->grow_hint), errp)) {
                return false;
            }
            g_assert(qcow2_refs_covered(r, c));
        }
        if (!cluster_free(r, c, &free, errp)) {
            return false;
        }
        if (free) {
            if (!run) {
                start = c;
            }
            run++;
            first_free = MIN(first_free, c);
        } else {
            run = 0;
        }
        c++;
    }
    for (uint64_t i = 0; i < n; i++) {
        if (!qcow2_refs_add(r, start + i, 1, errp)) {
            return false;
        }
    }
    r->free_hint = first_free == start ? start + n : first_free;
    r->end = MAX(r->end, start + n);
    r->allocated += n;
    *offset = start << r->img->header.cluster_bits;
    return true;
}
