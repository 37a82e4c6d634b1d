/*
 * Writes of the splice, counted: every write and flush goes through here,
 * so the statistics a dry run reports are those of the real run (a dry
 * run takes the same decisions and only skips the system calls).
 *
 * Consecutive data clusters (the shifted tail of a VM state lands in
 * consecutive fresh clusters) are combined into writes of up to 1 MiB:
 * sequential I/O, and fewer calls for the crash tests to walk through.
 * When a combined write only repeats bytes the file holds elsewhere (VM
 * state that moved), they need not pass through our own buffers: the I/O
 * may copy them inside the file, as cp does (copy_file_range), when source
 * and destination sit at the same place within a page (measured: a copy
 * that shifts bytes within pages costs the kernel twice a read + write).
 * Otherwise we read and write them a buffer at a time. Either way it
 * counts as one write.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "write-internal.h"

#define BATCH_BYTES (1u << 20)
/* A copy inside the file needs no memory: larger runs, fewer calls. */
#define COPY_BATCH_BYTES (64u << 20)
#define PAGE_BYTES       4096u

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

/* Every write is a safe point to stop at, before the commit. */
bool qcow2_wio_stop_requested(Qcow2WriteIO *w, GError **errp)
{
    if (w->cancellable && w->cancel && *w->cancel) {
        qcow2_error(errp, w->img, QCOW2_ERROR_CANCELLED, NULL, 0,
                    "interrupted before the commit");
        return true;
    }
    return false;
}

/* A write is about to happen: count it (the same in a dry run). */
static bool begin_write(Qcow2WriteIO *w, size_t len, uint64_t off,
                        GError **errp)
{
    if (qcow2_wio_stop_requested(w, errp)) {
        return false;
    }
    w->stats->writes++;
    w->stats->bytes_written += len;
    w->wrote = true;
    w->end = MAX(w->end, off + len);
    return true;
}

static bool raw_write(Qcow2WriteIO *w, const void *buf, size_t len,
                      uint64_t off, GError **errp)
{
    if (!begin_write(w, len, off, errp)) {
        return false;
    }
    if (w->dry_run) {
        return true;
    }
    return w->img->io->ops->pwrite(w->img->io, buf, len, off, errp);
}

/*
 * A copy-only batch the I/O cannot copy: read the bytes back and write
 * them, a buffer at a time (still one write as far as statistics go).
 */
static bool write_copy_by_hand(Qcow2WriteIO *w, size_t len, GError **errp)
{
    Qcow2IO *io = w->img->io;

    for (size_t done = 0; done < len;) {
        size_t n = MIN(len - done, (size_t)BATCH_BYTES);

        if (!qcow2_pread(w->img, w->batch, n, w->batch_src + done, errp) ||
            !io->ops->pwrite(io, w->batch, n, w->batch_off + done, errp)) {
            return false;
        }
        done += n;
    }
    return true;
}

bool qcow2_wio_drain(Qcow2WriteIO *w, GError **errp)
{
    Qcow2IO *io = w->img->io;
    size_t len = w->batch_len;
    bool copied = false;

    if (!len) {
        return true;
    }
    w->batch_len = 0;
    if (w->batch_has_bytes &&
        (w->dry_run || !w->batch_copyable || w->no_copy || !io->ops->copy)) {
        return raw_write(w, w->batch, len, w->batch_off, errp);
    }
    if (!begin_write(w, len, w->batch_off, errp)) {
        return false;
    }
    if (w->dry_run) {
        return true;
    }
    if (!w->no_copy && io->ops->copy &&
        (w->batch_src ^ w->batch_off) % PAGE_BYTES == 0) {
        if (!io->ops->copy(io, w->batch_src, w->batch_off, len, &copied,
                           errp)) {
            return false;
        }
        if (copied) {
            return true;
        }
        w->no_copy = true;
    }
    if (w->batch_has_bytes) {
        return io->ops->pwrite(io, w->batch, len, w->batch_off, errp);
    }
    return write_copy_by_hand(w, len, errp);
}

void qcow2_wio_discard_pending(Qcow2WriteIO *w)
{
    w->batch_len = 0;
}

bool qcow2_wio_write(Qcow2WriteIO *w, const void *buf, size_t len, uint64_t off,
                     GError **errp)
{
    return qcow2_wio_drain(w, errp) && raw_write(w, buf, len, off, errp);
}

/* Can a piece join the batch (contiguous, same kind, room left)? */
static bool joins_batch(const Qcow2WriteIO *w, bool bytes, size_t len,
                        uint64_t off, uint64_t src)
{
    size_t room = bytes ? BATCH_BYTES : COPY_BATCH_BYTES;

    if (w->batch_off + w->batch_len != off || w->batch_len + len > room ||
        bytes != w->batch_has_bytes) {
        return false;
    }
    /* A batch without bytes is one copy: its sources must follow. */
    return bytes || src == w->batch_src + w->batch_len;
}

bool qcow2_wio_write_data(Qcow2WriteIO *w, const void *buf, size_t len,
                          uint64_t off, uint64_t src, GError **errp)
{
    g_assert(buf || src != QCOW2_NO_SOURCE);
    if (buf && len > BATCH_BYTES) {
        return qcow2_wio_write(w, buf, len, off, errp);
    }
    if (w->batch_len && !joins_batch(w, buf != NULL, len, off, src) &&
        !qcow2_wio_drain(w, errp)) {
        return false;
    }
    if (!w->batch) {
        w->batch_cap = BATCH_BYTES;
        w->batch = g_malloc(w->batch_cap);
    }
    if (!w->batch_len) {
        w->batch_off = off;
        w->batch_src = src;
        w->batch_copyable = src != QCOW2_NO_SOURCE;
        w->batch_has_bytes = buf != NULL;
    } else if (src != w->batch_src + w->batch_len) {
        w->batch_copyable = false;
    }
    if (buf) {
        memcpy(w->batch + w->batch_len, buf, len);
    }
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
