/*
 * Writes of the splice, counted: every write and flush goes through here,
 * so the statistics a dry run reports are those of the real run (a dry
 * run takes the same decisions and only skips the system calls).
 *
 * Consecutive data clusters (the shifted tail of a VM state lands in
 * consecutive fresh clusters) are combined into writes of up to 1 MiB:
 * sequential I/O, and fewer calls for the crash tests to walk through.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "write-internal.h"

#define BATCH_BYTES (1u << 20)

void qcow2_wio_init(Qcow2WriteIO *w, Qcow2Image *img, bool dry_run,
                    Qcow2SpliceStats *stats)
{
    memset(w, 0, sizeof(*w));
    w->img = img;
    w->dry_run = dry_run;
    w->stats = stats;
}

void qcow2_wio_destroy(Qcow2WriteIO *w)
{
    g_free(w->batch);
    w->batch = NULL;
}

static bool raw_write(Qcow2WriteIO *w, const void *buf, size_t len,
                      uint64_t off, GError **errp)
{
    w->stats->writes++;
    w->stats->bytes_written += len;
    w->wrote = true;
    if (w->dry_run) {
        return true;
    }
    return w->img->io->ops->pwrite(w->img->io, buf, len, off, errp);
}

bool qcow2_wio_drain(Qcow2WriteIO *w, GError **errp)
{
    size_t len = w->batch_len;

    if (!len) {
        return true;
    }
    w->batch_len = 0;
    return raw_write(w, w->batch, len, w->batch_off, errp);
}

bool qcow2_wio_write(Qcow2WriteIO *w, const void *buf, size_t len, uint64_t off,
                     GError **errp)
{
    return qcow2_wio_drain(w, errp) && raw_write(w, buf, len, off, errp);
}

bool qcow2_wio_write_data(Qcow2WriteIO *w, const void *buf, size_t len,
                          uint64_t off, GError **errp)
{
    if (len > BATCH_BYTES) {
        return qcow2_wio_write(w, buf, len, off, errp);
    }
    if (w->batch_len &&
        (w->batch_off + w->batch_len != off ||
         w->batch_len + len > BATCH_BYTES) &&
        !qcow2_wio_drain(w, errp)) {
        return false;
    }
    if (!w->batch) {
        w->batch_cap = BATCH_BYTES;
        w->batch = g_malloc(w->batch_cap);
    }
    if (!w->batch_len) {
        w->batch_off = off;
    }
    memcpy(w->batch + w->batch_len, buf, len);
    w->batch_len += len;
    return true;
}

bool qcow2_wio_flush(Qcow2WriteIO *w, GError **errp)
{
    if (!qcow2_wio_drain(w, errp)) {
        return false;
    }
    w->stats->flushes++;
    if (w->dry_run) {
        return true;
    }
    return w->img->io->ops->flush(w->img->io, errp);
}
