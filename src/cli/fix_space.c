/*
 * What a fix does with disk space, in its human report: the
 * free space the write needs while it runs (a full rewrite needs room for
 * a second copy of the VM state), the file's length and the bytes it
 * takes on disk before and after, what was released (the old VM state's
 * clusters, discarded as QEMU discards a deleted snapshot's), and the
 * leaked clusters the image already had.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>

#include "fix.h"

static char *size_str(uint64_t bytes)
{
    return qsnapfix_size_to_str(bytes);
}

void fix_print_space_human(const AppWriteStats *st, bool dry_run)
{
    g_autofree char *need = NULL, *have = NULL, *len_before = NULL,
                    *len_after = NULL, *disk_before = NULL, *disk_after = NULL,
                    *released = NULL;

    if (!st->have_stats) {
        return;
    }
    need = size_str(st->space_needed);
    len_before = size_str(st->file_size_before);
    len_after = size_str(st->file_size_after);
    disk_before = size_str(st->allocated_before);
    disk_after = size_str(st->allocated_after);
    released = size_str(st->discarded_bytes);
    if (dry_run) {
        have = st->space_available == UINT64_MAX
                   ? g_strdup("unknown")
                   : size_str(st->space_available);
        printf("  space: needs up to %s free while it runs (the file system "
               "has %s); afterwards on disk about %s -> %s (%s released), "
               "file length %s -> %s\n",
               need, have, disk_before, disk_after, released, len_before,
               len_after);
    } else {
        printf("  space: on disk %s -> %s (%s of the old VM state "
               "released), file length %s -> %s (a qcow2 file keeps its "
               "length; what was released is a hole)\n",
               disk_before, disk_after, released, len_before, len_after);
    }
    if (app_write_full_rewrite(st) && dry_run) {
        printf("  note: the whole VM state is written anew (an edit near its "
               "start changes its length): while the fix runs it needs %s "
               "of free space for the new copy, as much as the VM state; "
               "the old copy is released at the end\n",
               need);
    } else if (app_write_full_rewrite(st)) {
        printf("  note: the whole VM state was written anew (an edit near "
               "its start changes its length): while the fix ran it took %s "
               "of free space for the new copy; the old copy was released "
               "at the end\n",
               need);
    }
}

void fix_print_leaks_human(const char *image, AppOutcome *const *outcomes,
                           guint n)
{
    for (guint i = 0; i < n; i++) {
        const AppWriteStats *st = &outcomes[i]->write;
        g_autofree char *path = NULL;

        if (!st->have_stats) {
            continue;
        }
        if (st->leaked_clusters) {
            path = qsnapfix_printable(image);
            fprintf(stderr,
                    "qsnapfix: warning: %s: %" PRIu64 " leaked cluster%s "
                    "already in the image, used by nothing (the fix leaves "
                    "them); qemu-img check -r leaks %s reclaims them\n",
                    path, st->leaked_clusters,
                    st->leaked_clusters == 1 ? "" : "s", path);
        }
        return; /* the first check's count: the image's */
    }
}

void fix_print_reclaim_human(const char *image, const AppReclaim *r,
                             bool dry_run)
{
    g_autofree char *path = NULL;
    g_autofree char *bytes = NULL;

    if (!r->ran) {
        return;
    }
    path = qsnapfix_printable(image);
    if (!r->found) {
        printf("%s: no leaked cluster to reclaim\n", path);
        return;
    }
    bytes = qsnapfix_size_to_str(r->discarded_bytes);
    printf("%s: %" PRIu64 " leaked cluster%s %s (%s released)", path,
           r->found - r->left, r->found - r->left == 1 ? "" : "s",
           dry_run ? "would be reclaimed" : "reclaimed", bytes);
    if (r->left) {
        printf("; %" PRIu64 " left (an active mapping with COPIED clear "
               "inside the disk: qemu-img check -r leaks %s)",
               r->left, path);
    }
    printf("\n");
}
