/*
 * scan: the dry run over whole image stores. The pieces:
 *
 *   scan_walk.c    PATH... -> the list of images (qcow2 by magic), with
 *                  what was skipped and why (not qcow2, symlink loops, the
 *                  same file twice) and what could not be read
 *   scan_lock.c    is a QEMU holding the image? (the qcow2 library probes
 *                  QEMU's lock bytes without taking any lock)
 *   scan_image.c   one image: format facts, locks, what would stop a fix,
 *                  every snapshot judged (judge.h)
 *   scan_summary.c totals and the exit code they give
 *   scan_guest.c   which guest is on the disk (scan --guest): libguestfs's
 *                  inspection of the active disk and, if asked, of each
 *                  snapshot's disk (guest_inspect.h)
 *   parallel.c     run a job per entry on N threads, results in order
 *
 * Nothing here writes to an image or takes a lock on it. A batch fix
 * walks and judges the same way, then runs the pipeline where the
 * verdict is "fixable".
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_SCAN_H
#define APP_SCAN_H

#include <glib.h>

#include "guest_inspect.h"
#include "judge.h"
#include "record.h"

typedef struct AppScanOptions {
    AppOptions fix; /* judge as `fix` with these options would */
    bool full;      /* run what `fix --dry-run` runs, page records and all */
    /* Inspect each image's guest with this libguestfs (NULL: do not); with
     * guest_snapshots, also every snapshot's disk. */
    const AppGuestfs *guestfs;
    bool guest_snapshots;
} AppScanOptions;

/* ---- PATH... -> images (scan_walk.c) ----------------------------------- */

typedef enum {
    APP_ENTRY_IMAGE,   /* a qcow2 image (by magic) or a PATH given as one */
    APP_ENTRY_SKIPPED, /* not an image: reported, not an error */
    APP_ENTRY_ERROR,   /* could not be read: might hold an image */
} AppEntryKind;

typedef struct AppScanEntry {
    char *path;
    AppEntryKind kind;
    char *reason;  /* SKIPPED/ERROR: one line */
    int exit_code; /* ERROR: the code this error alone would give */
} AppScanEntry;

/*
 * Expand PATHs in order: files as they are, directories recursively
 * (entries sorted by name; symlinks met in directories are followed after
 * all the rest; each directory and file visited once). Returns
 * AppScanEntry *.
 */
GPtrArray *app_scan_walk(char **paths);

/* ---- QEMU's locks (scan_lock.c) ---------------------------------------- */

typedef struct AppLocks {
    bool probed;          /* false: the probe failed (see error) */
    char *error;          /* why it could not be probed */
    Qcow2LockProbe taken; /* the lock bytes others hold */
    GArray *holders;      /* in use: the processes holding them
                             (Qcow2LockHolder), as far as visible */
} AppLocks;

/* Probe QEMU's lock bytes of the file at path, taking no lock. */
void app_probe_locks(const char *path, AppLocks *out);
/* Would QEMU's writer locks (what `fix` takes) conflict? */
bool app_locks_in_use(const AppLocks *l);
/* The lock bytes found taken, e.g. "100 101 103 201 203". */
char *app_locks_bytes_str(const AppLocks *l);
/* In use: by "qsnapfix" (another one writing it: it holds the
 * library's own lock byte as well) or "qemu"; NULL when not in use. */
const char *app_locks_holder_program(const AppLocks *l);
/* Why fix would refuse the image, naming who holds it; NULL if free. */
char *app_locks_in_use_message(const AppLocks *l);
void app_locks_clear(AppLocks *l);

/* ---- which guest (scan_guest.c) ---------------------------------------- */

/* One disk's guest inspection, when the scan was asked for it. */
typedef struct AppScanGuest {
    bool inspected;
    AppGuest *found; /* what libguestfs found (no OS: an empty list) */
    GError *error;   /* or why the disk could not be inspected */
    double seconds;  /* wall clock, the appliance's start and stop included */
} AppScanGuest;

void app_scan_guest_clear(AppScanGuest *g);

/* ---- one image (scan_image.c) ------------------------------------------ */

typedef struct AppScanSnapshot {
    char *id;
    char *name;
    uint64_t vm_state_size;
    uint32_t date_sec;
    AppRecord record;    /* what a fix left with it (kind NONE: nothing) */
    AppJudgement judged; /* verdict DISK_ONLY, ORIGINAL: nothing else set */
    AppScanGuest guest;  /* its disk's guest (guest_snapshots) */
} AppScanSnapshot;

typedef struct AppScanImage {
    char *path;
    GError *error; /* the image could not be read */
    /* format facts */
    uint32_t version;
    uint64_t cluster_size;
    uint64_t virtual_size;
    uint64_t file_size;
    uint32_t refcount_bits;
    bool dirty, corrupt, encrypted, lazy_refcounts, extended_l2;
    const char *compat;      /* "0.10" / "1.1" */
    const char *compression; /* "zlib" / "zstd" */
    char *backing_file;
    char *data_file;
    AppLocks locks;
    /* What stops `fix` from writing the image now (the first reason, in
     * the order fix meets them: permission, locks, header bits, what a
     * snapshot's plan finds: corruption, the recipe directory, free
     * space); looked for in images with VM state only. */
    AppBlocker blocker;
    /* Leaked clusters already in the image, where a plan checked it
     * (scan --full); qemu-img check -r leaks reclaims them. */
    bool leaks_known;
    uint64_t leaked_clusters;
    GPtrArray *snapshots; /* AppScanSnapshot * */
    uint64_t bytes_read;  /* from the image file, metadata included */
    AppScanGuest guest;   /* the active disk's guest (o->guestfs) */
    /* A libvirt save image instead of a qcow2 one (the format facts above
     * stay 0; one "snapshot", named after the domain, holds its stream). */
    bool libvirt_save;
    uint32_t save_version;
    const char *save_compression; /* "raw", "gzip", ... */
    char *domain;                 /* the domain's name */
} AppScanImage;

/* Open path read-only without locks (safe while a QEMU runs it), probe
 * its locks, judge every snapshot; inspect guests if o->guestfs. */
AppScanImage *app_scan_image(const char *path, const AppScanOptions *o);
/* The guests of a scanned image (scan_guest.c): its active disk's, and
 * with o->guest_snapshots those of its snapshots' disks. */
void app_scan_guests(AppScanImage *im, const AppScanOptions *o);
void app_scan_image_free(AppScanImage *im);

/* ---- totals (scan_summary.c) ------------------------------------------- */

typedef struct AppScanSummary {
    guint images, scanned, unreadable, skipped, in_use, blocked;
    guint in_use_by_qsnapfix; /* of in_use: another qsnapfix writing */
    guint snapshots, disk_only, compatible, fixable, refused, errors;
    guint originals;  /* kept by a fix, not judged */
    guint full_walks; /* snapshots the default scan walked fully */
    uint64_t bytes_read, fix_bytes;
    bool fix_bytes_estimated;
    /* guest inspection: disks inspected, with an OS found, without one,
     * that could not be inspected; appliance seconds, all disks */
    guint guests, guests_identified, guests_unknown, guest_errors;
    double guest_seconds;
} AppScanSummary;

void app_scan_summary_add_image(AppScanSummary *s, const AppScanImage *im);
void app_scan_summary_add_entry(AppScanSummary *s, const AppScanEntry *e);
/* The most severe applies: 15 (could not read some, or inspect some
 * guest), then 4 (some would be refused), then 17 (some need fixing),
 * else 0. */
int app_scan_exit_code(const AppScanSummary *s);

/* ---- N workers, results in order (parallel.c) -------------------------- */

/* The job for entry i (any thread); its result (may be NULL). */
typedef void *(*AppJobFn)(guint i, void *opaque);
/* Entry i's result, on the calling thread, in order of i. */
typedef void (*AppResultFn)(guint i, void *result, void *opaque);
/* While waiting: how far the jobs are (may be NULL). */
typedef void (*AppTickFn)(guint done, guint total, void *opaque);

/* Interval of the tick while waiting for the next result. */
#define APP_TICK_US (200 * 1000)

/*
 * Run job(i) for every i < n on up to jobs threads (at most 64), and hand
 * each result to result_fn in order of i as soon as it and all before it
 * are done, so that a long run streams its report. The jobs must keep no
 * shared mutable state (the libraries keep none).
 */
void app_run_ordered(guint n, guint jobs, AppJobFn job, AppResultFn result_fn,
                     AppTickFn tick, void *opaque);

/* ---- a whole scan (scan_run.c) ----------------------------------------- */

typedef struct AppScanTotals {
    guint entries; /* what the walk found */
    AppScanSummary sum;
    double elapsed; /* seconds, the whole scan */
    int exit_code;  /* app_scan_exit_code(); exit_zero: 17 and 4 are 0 */
} AppScanTotals;

/* A walk entry and, if it is an image, its scan (NULL otherwise); the
 * totals already count it. */
typedef void (*AppScanFn)(const AppScanEntry *e, const AppScanImage *im,
                          void *opaque);

/*
 * Scan every image under paths (app_scan_walk()) on up to jobs threads;
 * fn gets each entry in walk order as soon as it and all before it are
 * done; tick (may be NULL) how far the jobs are, at the start too.
 */
void app_scan_run(char **paths, const AppScanOptions *o, guint jobs,
                  bool exit_zero, AppScanFn fn, AppTickFn tick, void *opaque,
                  AppScanTotals *t);

#endif
