/*
 * Internals of the write path: image locking, write I/O with statistics
 * (and its dry-run twin), the refcount journal and cluster allocator, the
 * edit map that describes the new VM state in terms of the old one, and
 * the splice state shared by the files that build and commit it.
 *
 * The splice runs in phases (see splice.c for the whole order):
 *   plan     edit map, which L2 spans change, how much may be allocated;
 *   grow     refcount blocks/table so that every cluster we may allocate
 *            is covered (crash-safe on its own: leaks only);
 *   stream   per changed L2 span: new data clusters, a new L2 table;
 *   commit   new L1, new snapshot table, the 12-byte header switch;
 *   release  drop the old snapshot's references (and, where a COPIED flag
 *            of the active L1 would otherwise be left wrong, the active
 *            L1's stale VM state mapping).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QCOW2_WRITE_INTERNAL_H
#define QCOW2_WRITE_INTERNAL_H

#include "qcow2-internal.h"

G_BEGIN_DECLS

/* ------------------------------------------------------------------ */
/* Locking (lock-ofd.c)                                               */

/* qcow2_lock_holders() of the file open at fd (lock-holders.c). */
GArray *qcow2_lock_holders_fd(int fd);
/*
 * Take (QCOW2_LOCK_WRITER) or drop QEMU-compatible OFD locks on fd;
 * QCOW2_ERROR_IN_USE when a running QEMU holds conflicting ones.
 */
bool qcow2_ofd_lock(int fd, const char *name, Qcow2LockMode mode,
                    GError **errp);

/* ------------------------------------------------------------------ */
/* Write I/O (write-io.c)                                             */

typedef struct Qcow2WriteIO {
    Qcow2Image *img;
    bool dry_run; /* count, never write */
    Qcow2SpliceStats *stats;
    bool wrote;   /* something reached the file (or would have) */
    uint64_t end; /* the end of the furthest write */
    /* Stop before the next write once *cancel is set (while cancellable:
     * until the commit, and never while giving back). */
    const volatile sig_atomic_t *cancel;
    bool cancellable;
    /* consecutive data clusters are combined into one write */
    uint8_t *batch;
    size_t batch_len, batch_cap;
    uint64_t batch_off;
    /* the batch is also a copy of file bytes from batch_src (or not) */
    uint64_t batch_src;
    bool batch_copyable;
    bool batch_has_bytes; /* else a copy only, bytes not in memory */
    bool no_copy;         /* the I/O could not copy: write bytes from now on */
} Qcow2WriteIO;

void qcow2_wio_init(Qcow2WriteIO *w, Qcow2Image *img, bool dry_run,
                    Qcow2SpliceStats *stats);
void qcow2_wio_destroy(Qcow2WriteIO *w);
/* One write, now (pending data goes first). */
bool qcow2_wio_write(Qcow2WriteIO *w, const void *buf, size_t len, uint64_t off,
                     GError **errp);
/*
 * A data cluster; may be held back to combine with the next one. src is
 * where the file already holds the same bytes (QCOW2_NO_SOURCE if not):
 * the I/O may then copy them inside the file instead. buf may be NULL
 * when src is given: the bytes are then only read if the I/O cannot copy.
 */
#define QCOW2_NO_SOURCE UINT64_MAX
bool qcow2_wio_write_data(Qcow2WriteIO *w, const void *buf, size_t len,
                          uint64_t off, uint64_t src, GError **errp);
/* Write what is held back. */
bool qcow2_wio_drain(Qcow2WriteIO *w, GError **errp);
/* Has the caller asked to stop (QCOW2_ERROR_CANCELLED if so)? */
bool qcow2_wio_stop_requested(Qcow2WriteIO *w, GError **errp);
/* Forget what is held back (a failed run gives up its data). */
void qcow2_wio_discard_pending(Qcow2WriteIO *w);
/* Drain, then make everything written so far durable. */
bool qcow2_wio_flush(Qcow2WriteIO *w, GError **errp);

/* ------------------------------------------------------------------ */
/* Refcount journal and allocator (refs.c, alloc.c, refgrow.c)        */

typedef struct Qcow2RefBlock {
    uint64_t offset; /* host offset of the block */
    uint8_t *data;   /* on-disk format */
    uint8_t *orig;   /* as it was before the splice; NULL for a new block */
    bool dirty;
    bool written; /* the file holds a version the splice wrote */
} Qcow2RefBlock;

typedef struct Qcow2Refs {
    Qcow2Image *img;
    Qcow2WriteIO *w;
    uint32_t order;      /* refcount_order */
    uint32_t block_bits; /* log2(refcounts per block) */
    uint64_t max;        /* largest refcount the width allows */
    /*
     * Every refcount block this splice changed (or created), by table
     * index; blocks stay here until the end, so a dry run sees its own
     * changes without writing them.
     */
    GHashTable *blocks;
    /* Working copy of the refcount table (grown by refgrow.c). */
    uint64_t *table;
    uint64_t table_entries;
    uint64_t table_offset;
    uint32_t table_clusters;
    /* The table as it was, to give everything back before the commit. */
    uint64_t *orig_table;
    uint64_t orig_table_entries;
    uint64_t orig_table_offset;
    uint32_t orig_table_clusters;
    bool orig_table_written; /* entries for new blocks written into it */
    bool header_switched;    /* the header was pointed at a new table */
    /* Clusters whose refcount this splice took to 0 (for discards). */
    GArray *freed_list;
    /* Clusters inside the old file whose refcount it took from 0 (to
     * release them again when it gives back: truncating the file does
     * not reach them). */
    GArray *taken_list;
    uint64_t orig_end; /* the old file's clusters */
    /*
     * References per host cluster, as the consistency check counted them
     * from the tables (independently of refcounts), kept in step with
     * every refcount change: a cluster with references is never
     * allocated, and no refcount may fall below its references (the
     * cross-check that the splice never frees what a table still uses).
     */
    uint32_t *counted;
    uint64_t counted_n;
    uint64_t free_hint; /* no free cluster below this index */
    uint64_t end;       /* first cluster past anything used */
    uint64_t grow_hint; /* clusters to prepare room for at once */
    /* statistics */
    uint64_t allocated;
    uint64_t freed;
} Qcow2Refs;

bool qcow2_refs_init(Qcow2Refs *r, Qcow2Image *img, Qcow2WriteIO *w,
                     GError **errp);
void qcow2_refs_destroy(Qcow2Refs *r);
bool qcow2_refs_get(Qcow2Refs *r, uint64_t cluster, uint64_t *rc,
                    GError **errp);
/* Add delta to one cluster's refcount; over- and underflow are errors. */
bool qcow2_refs_add(Qcow2Refs *r, uint64_t cluster, int64_t delta,
                    GError **errp);
/*
 * A leak given back: cluster's refcount down to floor (at least its
 * counted references, which stay as they are).
 */
bool qcow2_refs_lower_to(Qcow2Refs *r, uint64_t cluster, uint64_t floor,
                         GError **errp);
/* Give back a cluster this splice allocated and did not use. */
bool qcow2_refs_unalloc(Qcow2Refs *r, uint64_t cluster, GError **errp);
/* The same for every cluster that [offset, offset + len) touches. */
bool qcow2_refs_add_range(Qcow2Refs *r, uint64_t offset, uint64_t len,
                          int64_t delta, GError **errp);
/* Can every cluster of [offset, offset + len) take delta more? */
bool qcow2_refs_room(Qcow2Refs *r, uint64_t offset, uint64_t len,
                     uint64_t delta, bool *room, GError **errp);
/* A block created by this splice (refgrow.c): all zeros, dirty. */
Qcow2RefBlock *qcow2_refs_new_block(Qcow2Refs *r, uint64_t index,
                                    uint64_t offset);
/* Write the changed refcount blocks (no flush). */
bool qcow2_refs_write_dirty(Qcow2Refs *r, GError **errp);
/*
 * Before the commit: put back every refcount block the splice wrote as
 * it was (no flush; see qcow2_refs_give_back for the order).
 */
bool qcow2_refs_restore_blocks(Qcow2Refs *r, GError **errp);
/*
 * Undo a splice that failed before its commit point: the refcount table
 * (its entries or the header's pointer to it) and every refcount block as
 * they were, each step flushed, then the file cut back to old_size
 * (refgrow.c). Everything in between leaks at worst.
 */
bool qcow2_refs_give_back(Qcow2Refs *r, uint64_t old_size, GError **errp);
/* The refcount a cluster had before the splice. */
bool qcow2_refs_get_orig(Qcow2Refs *r, uint64_t cluster, uint64_t *rc,
                         GError **errp);

/* Take the check's per-cluster references (the report loses them). */
void qcow2_refs_take_counts(Qcow2Refs *r, Qcow2CheckReport *report);
/* The same from a report the caller keeps (copied). */
void qcow2_refs_copy_counts(Qcow2Refs *r, const Qcow2CheckReport *report);
/* n contiguous free clusters, refcount set to 1 (alloc.c). */
bool qcow2_refs_alloc(Qcow2Refs *r, uint64_t n, uint64_t *offset,
                      GError **errp);
/* Does a refcount block describe this cluster? */
bool qcow2_refs_covered(const Qcow2Refs *r, uint64_t cluster);
bool qcow2_refs_in_use(const Qcow2Refs *r, uint64_t cluster);
/*
 * Make the refcount structures describe every cluster below upto,
 * writing new blocks and maybe a bigger table (refgrow.c). Writes and
 * flushes on its own; a crash leaves leaked clusters at worst.
 */
bool qcow2_refs_ensure_room(Qcow2Refs *r, uint64_t upto, GError **errp);

/* ------------------------------------------------------------------ */
/* The edit map (edits.c)                                             */

/* A piece of the new VM state: old bytes, or bytes from an edit. */
typedef struct Qcow2Segment {
    uint64_t new_start;
    uint64_t length;
    uint64_t old_start;  /* old bytes (data == NULL) */
    const uint8_t *data; /* edit bytes */
} Qcow2Segment;

typedef struct Qcow2EditMap {
    Qcow2Segment *seg;
    size_t n_seg;
    uint64_t old_size, new_size;
    uint64_t cluster_size;
    /*
     * Clusters of the new VM state (indices from its start) whose content
     * is not the old content at the same place, plus the clusters past
     * the new end that held old VM state: sorted [start, end) pairs.
     */
    GArray *dirty;
} Qcow2EditMap;

bool qcow2_editmap_build(Qcow2EditMap *m, const Qcow2Image *img,
                         const Qcow2Snapshot *snap, const Qcow2Edit *edits,
                         size_t n_edits, GError **errp);
void qcow2_editmap_destroy(Qcow2EditMap *m);
bool qcow2_editmap_dirty(const Qcow2EditMap *m, uint64_t cluster);
/* Does [first, last] intersect a dirty range? */
bool qcow2_editmap_any_dirty(const Qcow2EditMap *m, uint64_t first,
                             uint64_t last);

/* A window of old guest bytes, read in large pieces. */
typedef struct Qcow2OldReader {
    uint8_t *buf;
    uint64_t start; /* guest offset of buf[0] */
    uint64_t len;
    uint64_t cap;
} Qcow2OldReader;

void qcow2_old_reader_init(Qcow2OldReader *rd, uint64_t cap);
void qcow2_old_reader_destroy(Qcow2OldReader *rd);
/* Old guest bytes [guest, +len) through snap's tables; maybe from near. */
bool qcow2_old_read(Qcow2Image *img, const Qcow2Snapshot *snap,
                    Qcow2OldReader *rd, const Qcow2OldReader *near,
                    uint64_t guest, uint8_t *dst, size_t len, GError **errp);
/* Are new bytes [new_off, +len) old bytes, which ones (old offset)? */
bool qcow2_editmap_old_range(const Qcow2EditMap *m, uint64_t new_off,
                             uint64_t len, uint64_t *old_off);
/* New VM state bytes [new_off, +len) into dst. */
bool qcow2_editmap_fill(const Qcow2EditMap *m, Qcow2Image *img,
                        const Qcow2Snapshot *snap, Qcow2OldReader *rd,
                        uint64_t new_off, uint8_t *dst, size_t len,
                        GError **errp);
/* Would the edits leave the VM state exactly as it is? */
bool qcow2_editmap_is_noop(const Qcow2EditMap *m, Qcow2Image *img,
                           const Qcow2Snapshot *snap, bool *noop,
                           GError **errp);

/* ------------------------------------------------------------------ */
/* The splice (splice.c, span.c, commit.c, release.c)                 */

/* An L2 span (one L1 entry) of the snapshot whose table is replaced. */
typedef struct Qcow2SpanChange {
    uint32_t l1_index;
    uint64_t old_l2; /* 0: there was no table */
    uint64_t new_l2; /* 0: the span is now empty */
    /* entries of old_l2 whose reference new_l2 does not take over */
    uint8_t *dropped;
} Qcow2SpanChange;

/* A new L2 table waiting for its refcounts to be flushed. */
typedef struct Qcow2PendingTable {
    uint64_t offset;
    uint8_t *data; /* on-disk format */
} Qcow2PendingTable;

typedef struct Qcow2Splice {
    Qcow2Image *img;
    const Qcow2Snapshot *snap;
    const Qcow2SpliceOptions *opts;
    Qcow2SpliceStats *stats;
    bool keep;   /* keep the old snapshot as opts->keep_original_name */
    uint64_t cs; /* cluster size */
    uint64_t base;
    uint64_t new_clusters; /* clusters of the new VM state */
    uint64_t old_clusters;
    uint64_t fresh_vmstate; /* new VM state clusters written fresh */

    Qcow2WriteIO w;
    Qcow2Refs refs;
    Qcow2EditMap map;
    Qcow2OldReader src; /* old bytes the new stream is made of */
    Qcow2OldReader cmp; /* old clusters at the same place */
    uint8_t *newbuf, *oldbuf;

    const Qcow2L1 *old_l1; /* the snapshot's (owned by img) */
    uint64_t *new_l1;      /* host-endian */
    uint32_t new_l1_size;
    uint64_t new_l1_offset;
    uint64_t new_table_offset;
    uint8_t *new_table; /* the new snapshot table, on-disk format */
    uint64_t new_table_len;
    uint64_t new_entry_at; /* the spliced entry, within new_table */

    guint removed;   /* entries the new table drops (restore, delete) */
    GArray *changes; /* Qcow2SpanChange */
    GArray *pending; /* Qcow2PendingTable */
    size_t pending_bytes;
    bool commit_issued; /* the header switch was written, maybe landed */
    bool committed;     /* ... and flushed */
} Qcow2Splice;

/* Entry bitmaps of a span (span.c). */
bool qcow2_span_dropped(const Qcow2SpanChange *c, uint64_t j);
/* Decode entry j of an L2 table held host-endian (span.c). */
bool qcow2_decode_entry_at(Qcow2Image *img, const uint64_t *table,
                           uint64_t table_offset, uint64_t j, Qcow2Mapping *m,
                           GError **errp);
/* L2 spans the old or new VM state covers; does span n change? */
uint64_t qcow2_splice_span_count(const Qcow2Splice *s);
bool qcow2_splice_span_changes(const Qcow2Splice *s, uint64_t span);

/* Build the new L2 tables of every changed span (span.c). */
bool qcow2_splice_stream(Qcow2Splice *s, GError **errp);
/* Write pending L2 tables once their refcounts are durable (span.c). */
bool qcow2_splice_write_pending(Qcow2Splice *s, GError **errp);
/* Keep-original: the new L1 shares unchanged tables (span.c). */
bool qcow2_splice_share_unchanged(Qcow2Splice *s, GError **errp);

/* New L1 and snapshot table, header switch (commit.c): the table is
 * planned before the first write, its clusters allocated later. */
bool qcow2_splice_plan_table(Qcow2Splice *s, GError **errp);
bool qcow2_splice_prepare_table(Qcow2Splice *s, GError **errp);
bool qcow2_splice_commit(Qcow2Splice *s, GError **errp);
/*
 * After a failure from the commit point on: does the file show the new
 * snapshot table in the header (or can it not be read)? A write that
 * failed outright left the old one; one whose flush failed is there.
 */
bool qcow2_splice_commit_landed(Qcow2Splice *s);
/* Re-read header and snapshot table after a write (commit.c). */
bool qcow2_reload(Qcow2Image *img, GError **errp);

/* Drop the old references after the commit (release.c). */
bool qcow2_splice_release(Qcow2Splice *s, GError **errp);
/* One path fewer to an L2 table and everything it maps (refcounts and
 * counted references; release.c). */
bool qcow2_splice_drop_path(Qcow2Splice *s, uint64_t l2, uint64_t where,
                            GError **errp);
/* First L1 index past the virtual disk of the active layer (release.c). */
uint64_t qcow2_active_vmstate_index(const Qcow2Image *img);
/* Does an entry's COPIED flag matter (normal, preallocated zero)? */
bool qcow2_is_copied_cluster(const Qcow2Mapping *m);
/* The host clusters of an L2 table's entries whose COPIED flag matters:
 * a new set of uint64_t offsets (release.c). */
bool qcow2_l2_copied_clusters(Qcow2Image *img, uint64_t l2, uint64_t where,
                              GHashTable **set, GError **errp);
/*
 * Inside the active disk: move the active side of span c to copies where
 * a COPIED flag would otherwise go wrong (relocate.c). *replaced is the
 * active L2 table whose path the caller must drop (0 if none).
 */
bool qcow2_splice_relocate_active(Qcow2Splice *s, const Qcow2SpanChange *c,
                                  const Qcow2L1 *act, uint64_t *replaced,
                                  GError **errp);

/* Refuse images that must not be written; clear unknown autoclear
 * bits (write-check.c). The first part, dirty and corrupt bits, is also
 * checked when an image is opened for writing. */
bool qcow2_check_needs_repair(Qcow2Image *img, GError **errp);
/* What any write asks (writable handle, no repair needed, no unknown
 * incompatible bit); what: "rewrite snapshot 1" for the message. */
bool qcow2_check_may_write(Qcow2Image *img, bool dry_run, const char *what,
                           GError **errp);
bool qcow2_check_writable(Qcow2Image *img, const Qcow2Snapshot *snap,
                          bool dry_run, GError **errp);
bool qcow2_clear_unknown_autoclear(Qcow2Image *img, Qcow2WriteIO *w,
                                   GError **errp);

/* Space (space.c): measured, given back before the commit, released
 * after it. */
void qcow2_space_measure(Qcow2Image *img, uint64_t *size, uint64_t *allocated,
                         uint64_t *available);
bool qcow2_splice_give_back(Qcow2Splice *s, GError **errp);
bool qcow2_splice_discard_freed(Qcow2Splice *s, GError **errp);

/* Read an L2 table into buf (entries host-endian), validated. */
bool qcow2_copy_l2(Qcow2Image *img, uint64_t l2_offset, uint64_t where,
                   uint64_t *buf, GError **errp);

G_END_DECLS

#endif /* QCOW2_WRITE_INTERNAL_H */
