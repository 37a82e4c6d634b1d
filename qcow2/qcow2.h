/*
 * qcow2: a small library that reads qcow2 images, their internal snapshots
 * and the VM state stored with them, and rewrites a snapshot's VM state
 * copy-on-write safe.
 *
 * It knows nothing about what the VM state means: callers see bytes.
 * All file access goes through a Qcow2IO (read, write, flush, size, lock),
 * so that tests can substitute an implementation that fails or "crashes".
 *
 * Errors are reported through GError in the QCOW2_ERROR domain; the message
 * is one line naming the image, the structure, the offset and the problem.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QCOW2_H
#define QCOW2_H

#include <glib.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

/* ------------------------------------------------------------------ */
/* Errors                                                              */

#define QCOW2_ERROR (qcow2_error_quark())
GQuark qcow2_error_quark(void);

typedef enum {
    QCOW2_ERROR_IO = 1,         /* the file could not be read or written */
    QCOW2_ERROR_NO_SPACE,       /* ENOSPC while writing */
    QCOW2_ERROR_HEADER,         /* malformed header */
    QCOW2_ERROR_EXTENSION,      /* malformed header extension */
    QCOW2_ERROR_SNAPSHOT_TABLE, /* malformed snapshot table or entry */
    QCOW2_ERROR_MAPPING,        /* malformed L1/L2 table or entry */
    QCOW2_ERROR_COMPRESSED,     /* bad compressed cluster descriptor/data */
    QCOW2_ERROR_REFCOUNT,       /* malformed refcount table or block */
    QCOW2_ERROR_UNSUPPORTED,    /* valid, but a feature we do not handle */
    QCOW2_ERROR_NEEDS_REPAIR,   /* dirty or corrupt bit set */
    QCOW2_ERROR_IN_USE,         /* another process holds QEMU's locks */
    QCOW2_ERROR_NOT_FOUND,      /* no such snapshot */
    QCOW2_ERROR_INVALID,        /* caller error (bad range, bad edit list) */
    QCOW2_ERROR_INCONSISTENT,   /* the consistency check found corruption */
    QCOW2_ERROR_CANCELLED,      /* the caller asked to stop (nothing left) */
} Qcow2ErrorCode;

/* ------------------------------------------------------------------ */
/* I/O interface                                                       */

typedef struct Qcow2IO Qcow2IO;

typedef enum {
    QCOW2_LOCK_NONE,   /* drop our locks */
    QCOW2_LOCK_READER, /* like a QEMU reader that shares everything */
    QCOW2_LOCK_WRITER, /* like a QEMU writer: holds and refuses write */
} Qcow2LockMode;

typedef struct Qcow2IOOps {
    /* Read exactly len bytes at off; reading past the end is an error. */
    bool (*pread)(Qcow2IO *io, void *buf, size_t len, uint64_t off,
                  GError **errp);
    /* Write exactly len bytes at off (may extend the file). */
    bool (*pwrite)(Qcow2IO *io, const void *buf, size_t len, uint64_t off,
                   GError **errp);
    bool (*flush)(Qcow2IO *io, GError **errp);
    bool (*get_size)(Qcow2IO *io, uint64_t *size, GError **errp);
    /*
     * Probe for conflicting QEMU locks and take ours; QCOW2_ERROR_IN_USE
     * when another opener holds a conflicting permission.
     */
    bool (*lock)(Qcow2IO *io, Qcow2LockMode mode, GError **errp);
    void (*close)(Qcow2IO *io);
    /*
     * Optional (may be NULL): copy len bytes at src to dst inside the
     * file, as one write (the ranges do not overlap). Set *copied false
     * and return true when the file system cannot: the caller then writes
     * the bytes itself. The write path uses it for VM state bytes that
     * only move, so they need not pass through user memory twice.
     */
    bool (*copy)(Qcow2IO *io, uint64_t src, uint64_t dst, size_t len,
                 bool *copied, GError **errp);
    /*
     * Optional: cut the file to size bytes. A write that fails before its
     * commit gives back the space it took past the old end of the file.
     */
    bool (*truncate)(Qcow2IO *io, uint64_t size, GError **errp);
    /*
     * Optional: the bytes [off, off + len) are no longer needed (punch a
     * hole: they read as zeros afterwards, the file keeps its size). Set
     * *done false and return true when the file system cannot.
     */
    bool (*discard)(Qcow2IO *io, uint64_t off, uint64_t len, bool *done,
                    GError **errp);
    /*
     * Optional: bytes the file occupies on disk, and bytes its file
     * system can still give a writer (UINT64_MAX when unknown).
     */
    bool (*space)(Qcow2IO *io, uint64_t *allocated, uint64_t *available,
                  GError **errp);
} Qcow2IOOps;

struct Qcow2IO {
    const Qcow2IOOps *ops;
    char *name; /* for messages; owned by the implementation */
};

/* POSIX implementation (pread/pwrite/fdatasync, OFD locks). */
Qcow2IO *qcow2_io_posix_open(const char *path, bool writable, GError **errp);
/*
 * An image held in memory: reads and writes go to file (the caller keeps
 * it; writes grow it up to max_size bytes). Locks do nothing.
 */
Qcow2IO *qcow2_io_memory_new(GByteArray *file, bool writable, uint64_t max_size,
                             const char *name);
void qcow2_io_close(Qcow2IO *io);

/*
 * QEMU's image locks as another process sees them (QEMU 2.10 and later):
 * each opener holds an OFD read lock on byte 100 + n while it holds
 * permission n, and on byte 200 + n while it refuses to share n.
 */
enum {
    QCOW2_PERM_CONSISTENT_READ = 0,
    QCOW2_PERM_WRITE = 1,
    QCOW2_PERM_WRITE_UNCHANGED = 2,
    QCOW2_PERM_RESIZE = 3,
    QCOW2_PERM_GRAPH_MOD = 4, /* QEMU 6.1 and older */
    QCOW2_PERM_COUNT = 5,
};
#define QCOW2_LOCK_PERM_BASE   100
#define QCOW2_LOCK_SHARED_BASE 200
/*
 * The byte this library's writers lock besides QEMU's, so that another of
 * them (another qsnapfix) can be told from a QEMU: outside QEMU's bytes
 * (100 + n and 200 + n for its permission bits, fewer than 64: at most
 * 163 and 263) and libvirt's byte 0.
 */
#define QCOW2_LOCK_TOOL_BYTE 300

typedef struct Qcow2LockProbe {
    uint32_t held;   /* bit n: another opener holds permission n */
    uint32_t denied; /* bit n: another opener refuses to share n */
    bool tool;       /* another writer through this library holds
                        QCOW2_LOCK_TOOL_BYTE */
} Qcow2LockProbe;

/*
 * Probe the lock bytes of the file at path (F_OFD_GETLK from a descriptor
 * of our own) without taking any lock: safe while a QEMU runs the image.
 */
bool qcow2_probe_locks(const char *path, Qcow2LockProbe *out, GError **errp);
/*
 * Would the locks a writable open takes (QCOW2_LOCK_WRITER: hold read,
 * write and resize; share read and write-unchanged) conflict with these?
 * A qemu-img -U reader (byte 100 only) does not.
 */
bool qcow2_locks_conflict_with_writer(const Qcow2LockProbe *p);

/* A process that holds lock bytes of an image. */
typedef struct Qcow2LockHolder {
    int pid;
    char command[32]; /* its /proc/PID/comm, e.g. "qemu-system-x86" */
} Qcow2LockHolder;

/*
 * The processes (other than this one) holding OFD locks on the lock
 * bytes of the file at path (QEMU's and QCOW2_LOCK_TOOL_BYTE), in pid
 * order. Linux reports OFD locks with pid -1 (F_OFD_GETLK, /proc/locks):
 * the holder shows only in /proc/PID/fdinfo of its descriptor, so this
 * looks at every process's descriptors of that file, which it can only
 * for its own user's processes unless it runs as root. Empty when none
 * is found (or elsewhere than Linux). Meant for messages: a holder may
 * have gone by the time it is named.
 */
GArray *qcow2_lock_holders(const char *path);
/* "qemu-system-x86 pid 1234", "pids 12, 34"; NULL for none. */
char *qcow2_lock_holders_str(const GArray *holders);

/* ------------------------------------------------------------------ */
/* Image and header                                                    */

typedef struct Qcow2Image Qcow2Image;

/* Incompatible feature bits */
#define QCOW2_INCOMPAT_DIRTY       (1ULL << 0)
#define QCOW2_INCOMPAT_CORRUPT     (1ULL << 1)
#define QCOW2_INCOMPAT_DATA_FILE   (1ULL << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ULL << 3)
#define QCOW2_INCOMPAT_EXTENDED_L2 (1ULL << 4)
/* Compatible feature bits */
#define QCOW2_COMPAT_LAZY_REFCOUNTS (1ULL << 0)
/* Autoclear feature bits */
#define QCOW2_AUTOCLEAR_BITMAPS  (1ULL << 0)
#define QCOW2_AUTOCLEAR_DATA_RAW (1ULL << 1)

typedef enum {
    QCOW2_COMPRESSION_ZLIB = 0,
    QCOW2_COMPRESSION_ZSTD = 1,
} Qcow2CompressionType;

typedef struct Qcow2Header {
    uint32_t version;
    uint32_t cluster_bits;
    uint64_t cluster_size;
    uint64_t size; /* virtual disk size */
    uint32_t crypt_method;
    uint32_t l1_size;
    uint64_t l1_table_offset;
    uint64_t refcount_table_offset;
    uint32_t refcount_table_clusters;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    uint64_t incompatible_features;
    uint64_t compatible_features;
    uint64_t autoclear_features;
    uint32_t refcount_order;
    uint32_t refcount_bits;
    uint32_t header_length;
    Qcow2CompressionType compression_type;
    bool extended_l2;
    char *backing_file;   /* NULL if none */
    char *backing_format; /* NULL if none */
    char *data_file;      /* external data file name, NULL if none */
    uint32_t nb_bitmaps;  /* from the bitmaps extension */
    uint64_t file_size;   /* size of the image file */
} Qcow2Header;

typedef enum {
    QCOW2_OPEN_READ_ONLY = 0,
    QCOW2_OPEN_WRITABLE = 1 << 0,
    /* Do not take or probe locks (for reading images that are in use). */
    QCOW2_OPEN_NO_LOCK = 1 << 1,
} Qcow2OpenFlags;

/*
 * Open a file by path (POSIX I/O). A relative external data file name is
 * looked up beside the image, then in the current directory (QEMU's rule).
 */
Qcow2Image *qcow2_open(const char *path, Qcow2OpenFlags flags, GError **errp);
/*
 * Open through a caller-supplied I/O; the image takes ownership of io and
 * data_io (they are closed on failure too).
 * data_io may be NULL (then a data-file image can be inspected but its
 * data clusters cannot be read). name is used in error messages.
 */
Qcow2Image *qcow2_open_io(Qcow2IO *io, Qcow2IO *data_io, const char *name,
                          Qcow2OpenFlags flags, GError **errp);
void qcow2_close(Qcow2Image *img);

const Qcow2Header *qcow2_header(const Qcow2Image *img);
const char *qcow2_name(const Qcow2Image *img);

/* What was read from the image file so far (tests and benchmarks). */
uint64_t qcow2_io_bytes_read(const Qcow2Image *img);
uint64_t qcow2_io_read_calls(const Qcow2Image *img);

/*
 * Types of the header extensions this library does not know (they are
 * legal; a writer must preserve them). Returns how many; *types stays
 * valid while the image is open.
 */
guint qcow2_unknown_extensions(const Qcow2Image *img, const uint32_t **types);

/* ------------------------------------------------------------------ */
/* Snapshots                                                           */

typedef struct Qcow2Snapshot {
    guint index; /* position in the on-disk table */
    char *id;
    char *name;
    uint32_t date_sec;
    uint32_t date_nsec;
    uint64_t vm_clock_nsec;
    uint32_t vm_state_size32; /* the legacy 32-bit field */
    uint64_t vm_state_size;   /* effective: 64-bit extra field if present */
    uint64_t disk_size;       /* extra data, or the header size */
    int64_t icount;           /* -1 when disabled or absent */
    bool has_icount;          /* extra data carried an icount */
    uint64_t l1_table_offset;
    uint32_t l1_size;
    uint32_t extra_data_size;
    uint8_t *extra_data;   /* all extra bytes, preserved verbatim */
    uint64_t table_offset; /* where the entry starts in the file */
    /*
     * Why this snapshot cannot be used (one line naming the image, the
     * entry, its offset and the problem), NULL when it can. Such an entry
     * is listed like any other, as qemu-img snapshot -l lists it, and the
     * image and the other snapshots stay usable; reading its VM state or
     * rewriting it fails with this message (QCOW2_ERROR_SNAPSHOT_TABLE).
     */
    char *error;
    bool l1_unusable; /* its L1 table cannot even be read (implies error) */
} Qcow2Snapshot;

/*
 * Snapshot extra data: QEMU 7.2 and 10.0 define its first 24 bytes
 * (64-bit VM state size, disk size, icount); QEMU 5.0 and later keep
 * whatever follows ("unknown extra data") through every rewrite of the
 * table and write it back (docs/image-record.md). An entry's extra data
 * may not exceed 1024 bytes (QEMU refuses to open the image).
 */
#define QCOW2_SNAPSHOT_QEMU_EXTRA  24
#define QCOW2_MAX_UNKNOWN_EXTRA    (1024 - QCOW2_SNAPSHOT_QEMU_EXTRA)

/* The unknown extra data of sn (NULL and 0 when it has none). */
const uint8_t *qcow2_snapshot_unknown_extra(const Qcow2Snapshot *sn,
                                            size_t *len);

/*
 * A new value for an entry's unknown extra data. Where the entry had
 * fewer than 24 bytes of QEMU's own, they are completed as QEMU writes
 * them (64-bit VM state size, the image's disk size, icount -1).
 */
typedef struct Qcow2ExtraUpdate {
    bool set;            /* false: the entry keeps its own */
    const uint8_t *data; /* len bytes (NULL when len is 0) */
    size_t len;          /* at most QCOW2_MAX_UNKNOWN_EXTRA */
} Qcow2ExtraUpdate;

guint qcow2_snapshot_count(const Qcow2Image *img);
/*
 * By position in the table. A splice keeps every entry at its place, so
 * an index stays valid across qcow2_splice_vmstate (pointers do not).
 */
const Qcow2Snapshot *qcow2_snapshot_get(const Qcow2Image *img, guint index);
/*
 * Lookup as QEMU does: by ID first, then by name, the first match in table
 * order. NULL + error if absent. Resolve once and keep the index: IDs and
 * names need not be unique, so looking the entry up again by its ID can
 * find another one.
 */
const Qcow2Snapshot *qcow2_snapshot_find(const Qcow2Image *img,
                                         const char *id_or_name, GError **errp);

/* An entry that lookup by one of its keys never finds (see below). */
typedef struct Qcow2SnapshotDuplicate {
    guint index;  /* the entry */
    guint shadow; /* the entry lookup finds instead */
    bool by_id;   /* its ID is another's ID (else its name is another's
                     ID, or an earlier entry's name) */
} Qcow2SnapshotDuplicate;

/*
 * Entries whose ID or name an earlier entry (or, for a name, any entry's
 * ID) already has: QEMU's lookup never reaches them by that key. A new
 * array of Qcow2SnapshotDuplicate, in table order (empty if none).
 */
GArray *qcow2_snapshot_duplicates(const Qcow2Image *img);

/*
 * Guest-virtual offset where a snapshot's VM state starts (0 for an entry
 * whose sizes are impossible: see Qcow2Snapshot.error).
 */
uint64_t qcow2_vmstate_base(const Qcow2Image *img, const Qcow2Snapshot *snap);

/*
 * Read len bytes of the snapshot's VM state starting at offset; unallocated
 * and zero ranges read as zeros. Reading past vm_state_size is an error.
 * Memory use is bounded (buf plus small table caches): read a large VM
 * state in chunks.
 */
bool qcow2_read_vmstate(Qcow2Image *img, const Qcow2Snapshot *snap,
                        uint64_t offset, void *buf, size_t len, GError **errp);

/*
 * Read guest bytes through the L1 table of snap (NULL: the active one);
 * offsets past the disk end are the VM state area. Unallocated and zero
 * ranges read as zeros (a backing file is not consulted); bytes of an
 * allocated cluster past the end of the file read as zeros, as in QEMU.
 */
bool qcow2_read_guest(Qcow2Image *img, const Qcow2Snapshot *snap,
                      uint64_t offset, void *buf, size_t len, GError **errp);

/*
 * Warnings of the reads, one line each (as errors are): a VM state read
 * that returned bytes of a cluster the image uses as metadata (a refcount
 * block, an L2 table), as QEMU itself would read them, from a damaged
 * image. Off by default: knowing the refcount blocks costs a read of the
 * refcount table, which a caller reading little (scan) does not want.
 * qcow2_take_warnings returns a new array of strings that the image
 * forgets; NULL when there is none. The library prints nothing itself.
 */
void qcow2_collect_warnings(Qcow2Image *img, bool on);
GPtrArray *qcow2_take_warnings(Qcow2Image *img);

/* ------------------------------------------------------------------ */
/* Cluster mapping (for inspect and for the write path)               */

typedef enum {
    QCOW2_MAP_UNALLOCATED,
    QCOW2_MAP_ZERO,
    QCOW2_MAP_NORMAL,
    QCOW2_MAP_COMPRESSED,
} Qcow2MapKind;

typedef struct Qcow2Mapping {
    Qcow2MapKind kind;
    uint64_t host_offset;       /* normal: cluster start; compressed: byte */
    uint64_t compressed_length; /* compressed: bytes to read */
    uint64_t l2_entry;          /* raw standard word */
    uint64_t l2_bitmap;         /* extended L2 bitmap, 0 otherwise */
    uint64_t l2_table_offset;   /* 0 when the L1 entry is unallocated */
    bool in_data_file;          /* the data lives in the external data file */
} Qcow2Mapping;

/*
 * Map one guest cluster through an L1 table (the active one when snap is
 * NULL, else the snapshot's).
 */
bool qcow2_map_cluster(Qcow2Image *img, const Qcow2Snapshot *snap,
                       uint64_t guest_offset, Qcow2Mapping *map, GError **errp);

/* Refcount of the host cluster containing host_offset. */
bool qcow2_get_refcount(Qcow2Image *img, uint64_t host_offset,
                        uint64_t *refcount, GError **errp);

/* Summary of where a snapshot's VM state lives (inspect). */
typedef struct Qcow2VmstateLayout {
    uint64_t clusters; /* clusters covering vm_state_size */
    uint64_t normal;   /* of which: standard allocated clusters */
    uint64_t compressed;
    uint64_t zero;
    uint64_t unallocated;
    uint64_t shared;            /* data clusters with refcount > 1 */
    uint64_t l2_tables;         /* distinct L2 tables */
    uint64_t l2_shared;         /* of which refcount > 1 */
    uint64_t first_host_offset; /* 0 if none allocated */
    uint64_t past_l1;           /* clusters beyond the snapshot's L1 table
                                   (also counted as unallocated) */
} Qcow2VmstateLayout;

bool qcow2_vmstate_layout(Qcow2Image *img, const Qcow2Snapshot *snap,
                          Qcow2VmstateLayout *layout, GError **errp);

/* ------------------------------------------------------------------ */
/* Consistency check (what qemu-img check does, read-only)            */

typedef enum {
    QCOW2_CHECK_CORRUPTION, /* unsafe to write; qemu-img check -r all */
    QCOW2_CHECK_LEAK,       /* a refcount above its references: lost space */
} Qcow2CheckSeverity;

typedef struct Qcow2CheckProblem {
    Qcow2CheckSeverity severity;
    const char *structure; /* "L2 entry", "refcount block", ... (static) */
    uint64_t offset;       /* where, in the image file */
    char *message;         /* one line: "IMAGE: STRUCTURE at 0xOFF: WHAT" */
} Qcow2CheckProblem;

typedef struct Qcow2CheckReport {
    uint64_t corruptions; /* as qemu-img check counts them */
    uint64_t leaks;       /* clusters whose refcount exceeds their references */
    uint64_t leaked_bytes;
    uint64_t references;         /* all references counted (every path) */
    uint64_t allocated_clusters; /* clusters with at least one reference */
    uint64_t image_end_offset;   /* end of the last cluster in use */
    /* The problems, in the order found; at most the first 100 of each kind
     * are described (the counts above are complete). */
    GPtrArray *problems; /* Qcow2CheckProblem * */
    /* References counted per host cluster (index = offset / cluster size),
     * from the tables alone, as qemu-img check counts them. */
    uint32_t *cluster_references;
    uint64_t n_clusters;
    /* What the report describes (qcow2_check_report_current): the image
     * handle and its state when checked; counted_only: references alone,
     * refcounts neither read nor compared (the splice's plan for scan). */
    const Qcow2Image *image;
    uint64_t generation;
    bool counted_only;
} Qcow2CheckReport;

/*
 * Check the whole image: every L1/L2 table of the active image and of
 * every snapshot, the refcount table and blocks, the snapshot table, the
 * bitmap directory and tables, the LUKS header; each reference counted
 * against the refcounts, tables past the end of the file, reserved bits,
 * clusters used as two different things (metadata and metadata, metadata
 * and data), COPIED flags of the active tables. Reads the image (all L2
 * tables and refcount blocks); never writes.
 *
 * Returns NULL only when the image could not be read (an I/O error) or
 * cancel became non-zero (QCOW2_ERROR_CANCELLED); problems in the image
 * are in the report. cancel may be NULL.
 */
Qcow2CheckReport *qcow2_check(Qcow2Image *img,
                              const volatile sig_atomic_t *cancel,
                              GError **errp);
void qcow2_check_report_free(Qcow2CheckReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Qcow2CheckReport, qcow2_check_report_free)

/*
 * QCOW2_ERROR_INCONSISTENT naming the first corruption and the repair
 * (qemu-img check -r all IMAGE) when the report has any; true otherwise
 * (leaks are not an error).
 */
bool qcow2_check_report_ok(const Qcow2Image *img,
                           const Qcow2CheckReport *report, GError **errp);

/*
 * Does report describe img as it is now: a full check (not counted only)
 * of this handle, with no write through it since? (Another process
 * writing the file is kept out by QEMU's locks, which a writable open
 * takes.)
 */
bool qcow2_check_report_current(const Qcow2Image *img,
                                const Qcow2CheckReport *report);

/* ------------------------------------------------------------------ */
/* Rewriting a snapshot's VM state                                     */

/*
 * One edit: replace bytes [offset, offset + old_length) of the old VM state
 * with data[0..length). Edits are sorted by offset and do not overlap.
 */
typedef struct Qcow2Edit {
    uint64_t offset;
    uint64_t old_length;
    const uint8_t *data;
    size_t length;
} Qcow2Edit;

typedef struct Qcow2SpliceOptions {
    bool dry_run;
    /*
     * Keep the old snapshot under this name (e.g. "s1.orig"); NULL to
     * replace it. The kept copy shares every unchanged cluster.
     */
    const char *keep_original_name;
    /*
     * Only with dry_run, for a caller that wants a plan's statistics and
     * reads as little as it can (scan): the references are counted (the
     * allocator needs them) but no refcount is read or compared, so such a
     * dry run may plan a write that the real run refuses as inconsistent.
     * What the counting itself finds (a cluster used as two things, a
     * table past the end of the file, reserved bits) still refuses it.
     */
    bool skip_consistency_check;
    /*
     * The consistency check already made (may be NULL): a caller that
     * checks first, to decide everything before it writes anything of its
     * own (fix writes recipe files before the splice), hands the report
     * over instead of having the whole image read twice. Used only while
     * qcow2_check_report_current() says it describes img; otherwise the
     * splice checks again, so that a stale or foreign report can never
     * stand in for the check.
     */
    const Qcow2CheckReport *checked;
    /*
     * Where to leave the report of the check this run made (NULL: none
     * wanted; untouched when it made none, else overwritten: the caller
     * owns it): a dry run hands it over, and the run that follows takes
     * it as checked.
     */
    Qcow2CheckReport **check_report;
    /*
     * Cancellation, polled at safe points (may be NULL): once *cancel is
     * non-zero, a run that has not committed stops, gives back what it
     * allocated (refcounts restored, the file cut back to its length) and
     * fails with QCOW2_ERROR_CANCELLED; a committed run finishes. The
     * library installs no signal handler: a caller's handler sets it.
     */
    const volatile sig_atomic_t *cancel;
    /* Progress callback (bytes of new VM state produced); may be NULL. */
    void (*progress)(uint64_t done, uint64_t total, void *opaque);
    void *progress_opaque;
    /* The unknown extra data of the spliced snapshot's entry and of the
     * kept original's, written with the same table switch. */
    Qcow2ExtraUpdate extra;
    Qcow2ExtraUpdate original_extra;
} Qcow2SpliceOptions;

/* Where a run left the image. */
typedef enum {
    QCOW2_SPLICE_UNTOUCHED,   /* nothing written (a dry run, a refusal) */
    QCOW2_SPLICE_GIVEN_BACK,  /* failed: the old VM state, and what the run
                                 took given back (as before, no leak) */
    QCOW2_SPLICE_OLD_LEAKED,  /* failed: the old VM state; giving back
                                 failed too (leaked clusters remain) */
    QCOW2_SPLICE_UNCONFIRMED, /* failed at the commit: the old or the new
                                 VM state, both complete */
    QCOW2_SPLICE_COMMITTED,   /* the new VM state (a failure after the
                                 commit may leave leaked clusters) */
} Qcow2SpliceEnd;

typedef struct Qcow2SpliceStats {
    uint64_t old_size;
    uint64_t new_size;
    uint64_t clusters_shared;   /* new VM state clusters kept as they were */
    uint64_t clusters_written;  /* data clusters written fresh */
    uint64_t clusters_freed;    /* clusters whose refcount reached 0 */
    uint64_t metadata_clusters; /* new L1/L2/refcount/snapshot-table */
    uint64_t bytes_written;     /* all bytes written to the file */
    uint64_t writes;            /* pwrite calls */
    uint64_t flushes;
    /*
     * Active L1 entries cleared: the active layer's stale mapping of the
     * VM state area (past the virtual disk end), dropped where it shared
     * clusters with the replaced VM state (see qcow2_splice_vmstate).
     */
    uint64_t active_entries_dropped;
    /* Clusters leaked before the splice (the check found them; qemu-img
     * check -r leaks reclaims them). */
    uint64_t leaked_clusters;
    /* qcow2_reclaim_leaks: of those, the ones left leaked (see there). */
    uint64_t leaks_left;
    /*
     * Space. A dry run predicts the after values (allocated_after as an
     * estimate). space_needed bounds what the file system must give:
     * the fresh clusters written; space_available is what it could give
     * before the run (UINT64_MAX when unknown).
     */
    uint64_t file_size_before, file_size_after;
    uint64_t allocated_before, allocated_after; /* bytes occupied on disk */
    uint64_t discarded_bytes; /* freed clusters released (holes punched) */
    uint64_t space_needed;
    uint64_t space_available;
    Qcow2SpliceEnd end;
} Qcow2SpliceStats;

/*
 * Replace the VM state of snap with the old VM state with edits applied,
 * copy-on-write, then commit the snapshot table atomically (see DESIGN.md
 * and docs/internals.md, "The write path"): unchanged clusters stay shared, the
 * snapshot keeps its ID, name, date, clocks and extra data; only
 * vm_state_size changes. A crash at any point leaves either the old or
 * the new VM state complete, with at most leaked clusters.
 *
 * The image must be opened with QCOW2_OPEN_WRITABLE (which takes QEMU's
 * writer locks) unless opts->dry_run: then nothing is written, a
 * read-only image is fine, and stats describe exactly what the real run
 * would do. Edits that change nothing write nothing.
 *
 * Before anything is written (in a dry run too) the whole image is
 * checked (qcow2_check); anything inconsistent and nothing is written.
 * A failure or cancellation before the commit gives back what the run
 * allocated (refcounts restored, the file cut to its old length); after a
 * successful run the clusters it freed are discarded (docs/qcow2-safety.md).
 *
 * Pointer invalidation: after a run that wrote to the file (successful or
 * not; never after a dry run) the image re-reads its header and snapshot
 * table, so every Qcow2Snapshot pointer obtained before is invalid: get
 * the snapshot again by its index (qcow2_snapshot_get; the entry keeps its
 * place in the table). If re-reading fails the handle lists no snapshots
 * and can only be closed.
 *
 * Errors: QCOW2_ERROR_INVALID (bad edit list, read-only image, name of the
 * kept copy taken), _INCONSISTENT (the check found corruption), _NEEDS_REPAIR
 * (dirty or corrupt bit), _UNSUPPORTED (encryption, data file, unknown
 * feature, refcounts too narrow to keep the original), _CANCELLED
 * (opts->cancel), _SNAPSHOT_TABLE (the entry is unusable: snap->error),
 * _IO / _NO_SPACE from the I/O, and the read path's errors for malformed
 * metadata. The message says what state a failure after a write left.
 */
bool qcow2_splice_vmstate(Qcow2Image *img, const Qcow2Snapshot *snap,
                          const Qcow2Edit *edits, size_t n_edits,
                          const Qcow2SpliceOptions *opts,
                          Qcow2SpliceStats *stats, GError **errp);

/* ------------------------------------------------------------------ */
/* Reclaiming leaked clusters (what qemu-img check -r leaks does)     */

typedef struct Qcow2ReclaimOptions {
    bool dry_run; /* count only; a read-only image is fine */
    /* The consistency check already made (may be NULL), used as
     * Qcow2SpliceOptions.checked is: only while it describes img. */
    const Qcow2CheckReport *checked;
} Qcow2ReclaimOptions;

/*
 * Give back the clusters a crash leaked (a write cut after it took them,
 * QEMU's as well as ours): from the whole-image check (qcow2_check), each
 * cluster whose refcount exceeds its references gets its refcount lowered
 * to its references; those that reach 0 are discarded as the splice
 * discards what it frees. Only refcount blocks are written (in file order,
 * then a flush; unknown autoclear bits cleared first, as by any writer):
 * every lowered count still covers every reference, so a crash at any
 * point leaves a consistent image with at most the leaks it had.
 * Where lowering would leave an active COPIED flag wrong (a splice cut
 * after its commit: the active L1 still maps the old VM state, flag
 * clear), the active L1's mapping past the virtual disk is dropped first
 * as the splice drops it (active_entries_dropped); inside the virtual
 * disk those clusters keep refcount 2 (leaks_left; qemu-img check -r
 * leaks also sets the flags, which no crash-safe order of writes can).
 *
 * Anything the check calls corruption (a refcount below its references,
 * a cluster used as two things, a wrong COPIED flag...) and nothing is
 * written: QCOW2_ERROR_INCONSISTENT (that is for qemu-img check -r all).
 * Refused like a splice: read-only handle unless dry_run, dirty or corrupt
 * bit, unknown incompatible bits.
 *
 * stats: leaked_clusters (found; all but leaks_left given back on
 * success; a dry run counts them), clusters_freed (refcount now 0), discarded_bytes, writes,
 * bytes_written, flushes, file_size_before/after, allocated_before/after.
 * After a run that wrote, snapshot pointers are invalid (as after a
 * splice: get them again by index) and earlier check reports stale.
 */
bool qcow2_reclaim_leaks(Qcow2Image *img, const Qcow2ReclaimOptions *opts,
                         Qcow2SpliceStats *stats, GError **errp);

/* ------------------------------------------------------------------ */
/* Changing the snapshot table without writing VM state                */

typedef struct Qcow2TableOptions {
    bool dry_run; /* plan and count only; a read-only image is fine */
    /* restore: the restored entry's unknown extra data */
    Qcow2ExtraUpdate extra;
} Qcow2TableOptions;

/*
 * Give snap the VM state (and disk state) of original, and remove
 * original's entry: snap keeps its ID and name, everything else of its
 * entry becomes original's (L1 table, sizes, date, clocks, QEMU's extra
 * data), its unknown extra data its own unless opts->extra says. What
 * snap referenced before is released. One header switch commits the new
 * table, in the splice's order (qcow2_splice_vmstate): new table, flush,
 * the 12-byte header write, flush, then the old references dropped (with
 * the active L1's COPIED flags kept right as the splice keeps them). A
 * crash leaves the old table or the new one, at most leaking clusters.
 * Snapshot handles are invalid after a run that wrote. stats: what was
 * written and freed (metadata_clusters, bytes_written, clusters_freed).
 */
bool qcow2_snapshot_restore(Qcow2Image *img, const Qcow2Snapshot *snap,
                            const Qcow2Snapshot *original,
                            const Qcow2TableOptions *opts,
                            Qcow2SpliceStats *stats, GError **errp);

/* Remove snap's entry and release what only it referenced, as
 * qcow2_snapshot_restore() commits and releases. */
bool qcow2_snapshot_delete(Qcow2Image *img, const Qcow2Snapshot *snap,
                           const Qcow2TableOptions *opts,
                           Qcow2SpliceStats *stats, GError **errp);

G_END_DECLS

#endif /* QCOW2_H */
