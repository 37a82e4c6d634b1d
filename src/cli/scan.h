/*
 * `qsnapfix scan`: the dry run over whole image stores (internal to the
 * program). The pieces, each in its own file:
 *
 *   scan_walk.c      PATH... -> the list of images (qcow2 by magic), with
 *                    what was skipped and why (not qcow2, symlink loops,
 *                    the same file twice) and what could not be read
 *   scan_lock.c      is a QEMU holding the image? (the qcow2 library
 *                    probes QEMU's lock bytes without taking any lock)
 *   scan_image.c     one image: format facts, locks, what would stop a fix,
 *                    every snapshot
 *   scan_snapshot.c  one snapshot's verdict: the tail fast path, or the
 *                    full walk that `fix --dry-run` runs
 *   scan_report.c    human output, totals, the exit code
 *   scan_json.c      JSON
 *   cmd_scan.c       options, the worker threads, ordered output, exit code
 *
 * Nothing here writes to an image or takes a lock on it.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QSNAPFIX_SCAN_H
#define QSNAPFIX_SCAN_H

#include <glib.h>
#include <json-glib/json-glib.h>

#include "fix.h"

/* ---- options ----------------------------------------------------------- */

typedef struct ScanOptions {
    FixOptions fix; /* target, machine, shrink/drop options, output */
    gboolean full;  /* run what `fix --dry-run` runs, page records and all */
    gint jobs;
    char **paths;
} ScanOptions;

/* ---- PATH... -> images (scan_walk.c) ----------------------------------- */

typedef enum {
    SCAN_ENTRY_IMAGE,   /* a qcow2 image (by magic) or a PATH given as one */
    SCAN_ENTRY_SKIPPED, /* not an image: reported, not an error */
    SCAN_ENTRY_ERROR,   /* could not be read: might hold an image */
} ScanEntryKind;

typedef struct ScanEntry {
    char *path;
    ScanEntryKind kind;
    char *reason;  /* SKIPPED/ERROR: one line */
    int exit_code; /* ERROR: the code this error alone would give */
} ScanEntry;

void scan_entry_free(ScanEntry *e);

/*
 * Expand PATHs in order: files as they are, directories recursively
 * (entries sorted by name; symlinks met in directories are followed after
 * all the rest; each directory and file visited once). Returns
 * ScanEntry *.
 */
GPtrArray *scan_walk(char **paths);

/* ---- QEMU's locks (scan_lock.c) ---------------------------------------- */

typedef struct ScanLocks {
    bool probed;          /* false: the probe failed (see error) */
    char *error;          /* why it could not be probed */
    Qcow2LockProbe taken; /* the lock bytes others hold */
} ScanLocks;

/* Probe QEMU's lock bytes of the file at path, taking no lock. */
void scan_probe_locks(const char *path, ScanLocks *out);
/* Would QEMU's writer locks (what `fix` takes) conflict? */
bool scan_locks_in_use(const ScanLocks *l);
/* The lock bytes found taken, e.g. "100 101 103 201 203". */
char *scan_locks_bytes_str(const ScanLocks *l);
void scan_locks_clear(ScanLocks *l);

/* ---- one snapshot (scan_snapshot.c) ------------------------------------ */

typedef enum {
    SCAN_DISK_ONLY,  /* no VM state */
    SCAN_COMPATIBLE, /* loads on the target as it is */
    SCAN_FIXABLE,    /* `fix` would make it load */
    SCAN_REFUSED,    /* `fix` would refuse (the reason is given) */
    SCAN_ERROR,      /* could not be judged (the message is given) */
} ScanVerdict;

const char *scan_verdict_name(ScanVerdict v);

/* What a fix would write (the qcow2 splice's dry run, or an estimate). */
typedef struct ScanWritePlan {
    bool have;
    bool exact; /* from the splice's dry run; else estimated from edits */
    uint64_t new_size;
    uint64_t clusters_written;
    uint64_t clusters_shared;
    uint64_t metadata_clusters; /* exact plans only */
    uint64_t bytes_written;     /* exact: all bytes; estimate: data */
} ScanWritePlan;

typedef struct ScanSnapshot {
    char *id;
    char *name;
    uint64_t vm_state_size;
    uint32_t date_sec;
    ScanVerdict verdict;
    /* The analysis, as `fix` keeps it: writer, TrResult, error. */
    FixOutcome *outcome;
    const char *path;    /* "tail" or "full": how the stream was read */
    const char *reason;  /* why the full walk was needed, or NULL */
    uint64_t bytes_read; /* VM state bytes fetched for this snapshot */
    ScanWritePlan write;
} ScanSnapshot;

void scan_snapshot_free(ScanSnapshot *s);

/* What stops `fix` from writing the image now (NULL message: nothing);
 * looked for in images with VM state only. */
typedef struct ScanBlocker {
    char *message;
    int exit_code;
    bool splice_ok; /* the splice's dry run still runs (e.g. in use) */
} ScanBlocker;

/*
 * Judge one snapshot with VM state (sn->vm_state_size > 0). image is the
 * path as given (recipe files go beside it, like `fix`'s).
 */
void scan_snapshot_judge(ScanSnapshot *out, Qcow2Image *img,
                         const Qcow2Snapshot *sn, const char *image,
                         const ScanOptions *o, const ScanBlocker *blocker);

/* ---- one image (scan_image.c) ------------------------------------------ */

typedef struct ScanImage {
    char *path;
    GError *error; /* the image could not be read */
    /* format facts */
    uint32_t version;
    uint64_t cluster_size;
    uint64_t virtual_size;
    uint64_t file_size;
    uint32_t refcount_bits;
    bool dirty, corrupt, encrypted, lazy_refcounts, extended_l2;
    const char *compression; /* "zlib" / "zstd" */
    char *backing_file;
    char *data_file;
    ScanLocks locks;
    ScanBlocker blocker;
    GPtrArray *snapshots; /* ScanSnapshot * */
    uint64_t bytes_read;  /* from the image file, metadata included */
} ScanImage;

ScanImage *scan_image(const char *path, const ScanOptions *o);
void scan_image_free(ScanImage *im);

/* ---- totals and output (scan_report.c, scan_json.c) -------------------- */

typedef struct ScanSummary {
    guint images, scanned, unreadable, skipped, in_use, blocked;
    guint snapshots, disk_only, compatible, fixable, refused, errors;
    guint full_walks; /* snapshots the default scan walked fully */
    uint64_t bytes_read, fix_bytes;
    bool fix_bytes_estimated;
} ScanSummary;

void scan_summary_add_image(ScanSummary *s, const ScanImage *im);
void scan_summary_add_entry(ScanSummary *s, const ScanEntry *e);
int scan_exit_code(const ScanSummary *s);

void scan_print_image_human(const ScanImage *im);
void scan_print_entry_human(const ScanEntry *e);
void scan_print_summary_human(const ScanSummary *s, const ScanOptions *o);

/* JSON: images[] and skipped[] members are built while scanning. */
void scan_json_image(JsonBuilder *b, const ScanImage *im);
void scan_json_entry(JsonBuilder *b, const ScanEntry *e);
void scan_json_summary(JsonBuilder *b, const ScanSummary *s);

#endif
