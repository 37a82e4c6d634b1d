/*
 * qcow2 library internals: the in-memory image, on-disk constants, the
 * table cache, and the helpers the read path and the write path share
 * (L1/L2 access, entry decoding, refcount lookup at every width, the map
 * of metadata ranges used for overlap checks).
 *
 * Nothing here is part of the public API; files inside qcow2/ (and the
 * library's own tests) include it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QCOW2_INTERNAL_H
#define QCOW2_INTERNAL_H

#include "format.h"
#include "qcow2.h"

G_BEGIN_DECLS

/* ------------------------------------------------------------------ */
/* On-disk constants (docs/interop/qcow2.txt)                         */

#define QCOW2_MAGIC                        0x514649fbU
#define QCOW2_MIN_CLUSTER_BITS             9
#define QCOW2_MAX_CLUSTER_BITS             21
#define QCOW2_MIN_EXTENDED_L2_CLUSTER_BITS 14
#define QCOW2_MAX_BACKING_FILE_NAME        1023

/* QEMU's implementation limits (block/qcow2.h); we refuse what QEMU does. */
#define QCOW2_MAX_L1_BYTES             (32u * 1024 * 1024)
#define QCOW2_MAX_REFTABLE_BYTES       (8u * 1024 * 1024)
#define QCOW2_MAX_SNAPSHOTS            65536u
#define QCOW2_MAX_SNAPSHOT_EXTRA       1024u
#define QCOW2_MAX_SNAPSHOT_TABLE_BYTES (64u * 1024 * 1024)
#define QCOW2_MAX_HOST_OFFSET          (1ULL << 56)

/* Header extension types */
#define QCOW2_EXT_END            0x00000000U
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acaU
#define QCOW2_EXT_FEATURE_TABLE  0x6803f857U
#define QCOW2_EXT_CRYPTO         0x0537be77U
#define QCOW2_EXT_BITMAPS        0x23852875U
#define QCOW2_EXT_DATA_FILE      0x44415441U

#define QCOW2_KNOWN_INCOMPAT                                                   \
    (QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT |                           \
     QCOW2_INCOMPAT_DATA_FILE | QCOW2_INCOMPAT_COMPRESSION |                   \
     QCOW2_INCOMPAT_EXTENDED_L2)

/* L1 / L2 / refcount table entries */
#define QCOW2_L1E_OFFSET_MASK       0x00fffffffffffe00ULL
#define QCOW2_L1E_RESERVED_MASK     0x7f000000000001ffULL
#define QCOW2_L2E_OFFSET_MASK       0x00fffffffffffe00ULL
#define QCOW2_L2E_STD_RESERVED_MASK 0x3f000000000001feULL
#define QCOW2_OFLAG_COPIED          (1ULL << 63)
#define QCOW2_OFLAG_COMPRESSED      (1ULL << 62)
#define QCOW2_OFLAG_ZERO            1ULL
#define QCOW2_REFT_OFFSET_MASK      0xfffffffffffffe00ULL
#define QCOW2_SUBCLUSTERS           32

/* ------------------------------------------------------------------ */
/* Big-endian helpers                                                 */

static inline uint16_t qcow2_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t qcow2_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t qcow2_be64(const uint8_t *p)
{
    return ((uint64_t)qcow2_be32(p) << 32) | qcow2_be32(p + 4);
}

static inline void qcow2_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void qcow2_put_be64(uint8_t *p, uint64_t v)
{
    qcow2_put_be32(p, (uint32_t)(v >> 32));
    qcow2_put_be32(p + 4, (uint32_t)v);
}

/* Byte offset of entry index of a table (L1, L2, refcount) at table. */
static inline uint64_t qcow2_entry_offset(uint64_t table, uint64_t index)
{
    return table + index * QCOW2_ENTRY_BYTES;
}

/* Bytes of a table of n 8-byte entries. */
static inline uint64_t qcow2_table_bytes(uint64_t n)
{
    return n * QCOW2_ENTRY_BYTES;
}

/* Table entries as read from the file (big-endian) to host order. */
static inline void qcow2_table_from_disk(uint64_t *t, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        t[i] = qcow2_be64((const uint8_t *)&t[i]);
    }
}

/* n host-order table entries to file bytes at out. */
static inline void qcow2_table_to_disk(uint8_t *out, const uint64_t *t,
                                       uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        qcow2_put_be64(out + qcow2_table_bytes(i), t[i]);
    }
}

/* a + b <= limit without overflow */
static inline bool qcow2_range_within(uint64_t off, uint64_t len,
                                      uint64_t limit)
{
    return off <= limit && len <= limit - off;
}

/* ------------------------------------------------------------------ */
/* Errors                                                             */

/*
 * Set a QCOW2_ERROR in the project's one-line format:
 *   "IMAGE: STRUCTURE at 0xOFFSET: WHAT"
 * structure may be NULL (then "IMAGE: WHAT").
 */
void qcow2_error(GError **errp, const Qcow2Image *img, Qcow2ErrorCode code,
                 const char *structure, uint64_t offset, const char *fmt, ...)
    G_GNUC_PRINTF(6, 7);

/* Same, with the image given by name (before a Qcow2Image exists). */
void qcow2_error_named(GError **errp, const char *name, Qcow2ErrorCode code,
                       const char *structure, uint64_t offset, const char *fmt,
                       ...) G_GNUC_PRINTF(6, 7);

/* ------------------------------------------------------------------ */
/* Table cache: a small LRU of cluster-sized tables.                  */
/* L2 tables are kept host-endian; refcount blocks as on disk.        */

typedef struct Qcow2CacheSlot {
    uint64_t offset; /* host offset of the table; 0 = empty slot */
    uint64_t last_use;
    void *data; /* table_bytes bytes */
} Qcow2CacheSlot;

typedef struct Qcow2Cache {
    Qcow2CacheSlot *slots;
    guint n_slots;
    size_t table_bytes;
    uint64_t clock;
    uint64_t hits, misses; /* for tests and benchmarks */
} Qcow2Cache;

void qcow2_cache_init(Qcow2Cache *cache, guint n_slots, size_t table_bytes);
void qcow2_cache_destroy(Qcow2Cache *cache);
/* The cached table at offset, or NULL (the caller then loads it). */
void *qcow2_cache_lookup(Qcow2Cache *cache, uint64_t offset);
/*
 * A slot for offset, evicting the least recently used table. The caller
 * fills it; on failure it must call qcow2_cache_invalidate(offset).
 */
void *qcow2_cache_insert(Qcow2Cache *cache, uint64_t offset);
/* Drop a table (the write path calls this after rewriting it). */
void qcow2_cache_invalidate(Qcow2Cache *cache, uint64_t offset);

/* ------------------------------------------------------------------ */
/* Metadata ranges                                                    */

typedef enum {
    QCOW2_META_HEADER, /* cluster 0: header, extensions, backing */
    QCOW2_META_ACTIVE_L1,
    QCOW2_META_REFCOUNT_TABLE,
    QCOW2_META_SNAPSHOT_TABLE,
    QCOW2_META_SNAPSHOT_L1,
    QCOW2_META_BITMAP_DIRECTORY,
    QCOW2_META_CRYPTO_HEADER,
    QCOW2_META_L2,            /* found by walking L1 tables */
    QCOW2_META_REFCOUNT_BLOCK /* found through the refcount table */
} Qcow2MetaKind;

typedef struct Qcow2MetaRange {
    uint64_t offset;
    uint64_t length;
    Qcow2MetaKind kind;
    int owner; /* snapshot index for QCOW2_META_SNAPSHOT_L1, else -1 */
} Qcow2MetaRange;

const char *qcow2_meta_kind_name(Qcow2MetaKind kind);
/* "the refcount table at 0x10000", "the L1 table of snapshot ... at ..." */
char *qcow2_meta_range_describe(const Qcow2MetaRange *r);

/* The fixed metadata (everything the header and the snapshot table point
 * at directly) is sorted by offset at open; overlaps among these are
 * refused there. */

/* The fixed range [offset, +length) overlaps, or NULL. */
const Qcow2MetaRange *qcow2_fixed_overlap(const Qcow2Image *img,
                                          uint64_t offset, uint64_t length);

/*
 * Fail with QCOW2_ERROR_MAPPING/REFCOUNT (code) when [offset, +length)
 * overlaps fixed metadata. structure/struct_offset name the referrer in
 * the message.
 */
bool qcow2_check_no_fixed_overlap(const Qcow2Image *img, uint64_t offset,
                                  uint64_t length, Qcow2ErrorCode code,
                                  const char *structure, uint64_t struct_offset,
                                  GError **errp);

/* ------------------------------------------------------------------ */
/* The image                                                          */

typedef struct Qcow2Feature {
    uint8_t type; /* 0 incompatible, 1 compatible, 2 autoclear */
    uint8_t bit;
    char name[47];
} Qcow2Feature;

typedef struct Qcow2L1 {
    uint64_t *entries; /* host-endian */
    uint32_t size;
    uint64_t offset;
} Qcow2L1;

struct Qcow2Image {
    char *name;
    Qcow2IO *io;
    Qcow2IO *data_io;    /* NULL: no data file, or it failed to open */
    char *data_io_error; /* why data_io is NULL on a data-file image */
    Qcow2OpenFlags flags;
    Qcow2Header header;

    /* derived geometry */
    uint64_t cluster_size;
    uint32_t l2_bits;        /* log2(entries per L2 table) */
    uint32_t l2_entry_bytes; /* 8, or 16 with extended L2 */
    uint64_t l2_entries;
    uint64_t subcluster_size;
    uint32_t csize_shift; /* compressed descriptor: sector count shift */
    uint64_t csize_mask;
    uint64_t offset_mask_compressed;
    uint64_t refcount_max;
    uint32_t refcount_block_bits; /* log2(refcounts per block) */

    /* header extensions */
    Qcow2Feature *features;
    guint n_features;
    uint64_t crypto_offset, crypto_length;
    uint64_t bitmap_directory_offset, bitmap_directory_size;
    GArray *unknown_extensions; /* of uint32_t types, for reporting */

    /* snapshots (parsed at open) */
    Qcow2Snapshot *snapshots;
    guint nb_snapshots;
    uint64_t snapshot_table_length;

    GArray *fixed_meta; /* Qcow2MetaRange, sorted */

    /* lazily loaded tables */
    Qcow2L1 active_l1;
    bool active_l1_loaded;
    Qcow2L1 *snapshot_l1; /* per snapshot index; .entries NULL until read */
    uint64_t *refcount_table;
    uint64_t refcount_table_entries;
    bool refcount_table_loaded;

    Qcow2Cache l2_cache;
    Qcow2Cache refblock_cache;

    /* the last decompressed cluster (sequential reads hit it) */
    uint8_t *zcluster;
    uint64_t zcluster_host; /* its descriptor's host offset; 0 = none */

    /* warnings.c: metadata clusters known cheaply, warnings collected */
    bool collect_warnings;
    GHashTable *known_meta;
    GHashTable *warned; /* clusters warned about */
    GPtrArray *warnings;

    /* Bumped whenever the file is written through this handle (the
     * reload after a splice): a check report of an older one is stale. */
    uint64_t generation;

    /* statistics: how much was read, for tests and benchmarks */
    uint64_t bytes_read;
    uint64_t read_calls;
};

/* Read exactly len bytes of the image file (counts statistics). */
bool qcow2_pread(Qcow2Image *img, void *buf, size_t len, uint64_t off,
                 GError **errp);

/* Header and extensions (header.c). */
bool qcow2_parse_header(Qcow2Image *img, GError **errp);
const char *qcow2_feature_name(const Qcow2Image *img, uint8_t type,
                               uint8_t bit);

/* Snapshot table (snapshot.c). */
/* Bytes of the entry starting at e (raw): fixed part, extra, ID, name. */
static inline uint64_t qcow2_snapshot_entry_length(const uint8_t *e)
{
    return sizeof(Qcow2DiskSnapshot) +
           QCOW2_GET(e, Qcow2DiskSnapshot, extra_data_size) +
           QCOW2_GET(e, Qcow2DiskSnapshot, id_str_size) +
           QCOW2_GET(e, Qcow2DiskSnapshot, name_size);
}
bool qcow2_read_snapshot_table(Qcow2Image *img, GError **errp);
/* Mark an entry unusable with a reason (the first reason stays). */
void qcow2_snapshot_set_error(const Qcow2Image *img, Qcow2Snapshot *sn,
                              bool l1_unusable, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
/* Fail with the entry's reason when it cannot be used. */
bool qcow2_snapshot_usable(const Qcow2Snapshot *sn, GError **errp);
void qcow2_free_snapshots(Qcow2Image *img);
/*
 * The table entry that starts at t->data[at] and ends t, with its unknown
 * extra data replaced as x says (nothing when x is NULL or not set).
 */
bool qcow2_entry_set_unknown_extra(const Qcow2Image *img, GByteArray *t,
                                   guint at, const Qcow2ExtraUpdate *x,
                                   GError **errp);

/* Warn when a VM state read maps a metadata cluster (warnings.c). */
void qcow2_warn_if_metadata(Qcow2Image *img, const Qcow2Snapshot *sn,
                            uint64_t vm_offset, const Qcow2Mapping *m);
/* Forget the metadata map (the tables changed). */
void qcow2_forget_warnings_state(Qcow2Image *img);

/*
 * The check (check.c); count_only: the references and roles alone, no
 * refcount block read or compared (problems found on the way are still
 * listed, corruptions and leaks are not judged).
 */
Qcow2CheckReport *qcow2_check_run(Qcow2Image *img,
                                  const volatile sig_atomic_t *cancel,
                                  bool count_only, GError **errp);

/* Fixed metadata and its overlap check, run at open (image.c). */
bool qcow2_build_fixed_metadata(Qcow2Image *img, GError **errp);

/* ------------------------------------------------------------------ */
/* Mapping (mapping.c)                                                */

/* The L1 table of snap (NULL = active), loaded and validated once. */
bool qcow2_get_l1(Qcow2Image *img, const Qcow2Snapshot *snap,
                  const Qcow2L1 **l1, GError **errp);

/*
 * An L2 table (entries host-endian; with extended L2, 2 words per entry),
 * validated for alignment, file bounds and overlap with fixed metadata.
 * The pointer stays valid until the next qcow2_get_l2 call.
 */
bool qcow2_get_l2(Qcow2Image *img, uint64_t l2_offset, uint64_t l1_entry_off,
                  const uint64_t **table, GError **errp);

/*
 * Decode one L2 entry (word + bitmap) into map. where names the entry's
 * location for messages (host offset of the entry).
 */
bool qcow2_decode_l2_entry(const Qcow2Image *img, uint64_t word,
                           uint64_t bitmap, uint64_t where, Qcow2Mapping *map,
                           GError **errp);

/* Guest offset -> L1 index / L2 index. */
static inline uint64_t qcow2_l1_index(const Qcow2Image *img, uint64_t guest)
{
    return guest >> (img->header.cluster_bits + img->l2_bits);
}

static inline uint64_t qcow2_l2_index(const Qcow2Image *img, uint64_t guest)
{
    return (guest >> img->header.cluster_bits) & (img->l2_entries - 1);
}

/* Bytes of guest address space one L2 table maps. */
static inline uint64_t qcow2_l2_span(const Qcow2Image *img)
{
    return 1ULL << (img->header.cluster_bits + img->l2_bits);
}

/* ------------------------------------------------------------------ */
/* Compressed clusters (compressed.c)                                 */

/*
 * Read and inflate the compressed cluster described by map into out
 * (cluster_size bytes).
 */
bool qcow2_read_compressed(Qcow2Image *img, const Qcow2Mapping *map,
                           uint8_t *out, GError **errp);

/* ------------------------------------------------------------------ */
/* Refcounts (refcount.c)                                             */

/* Refcount entry index of a width within a block (widths 1..64). */
uint64_t qcow2_refcount_entry_get(const void *block, uint32_t refcount_order,
                                  uint64_t index);
void qcow2_refcount_entry_set(void *block, uint32_t refcount_order,
                              uint64_t index, uint64_t value);

/* Load the refcount table (validated) if not yet done. */
bool qcow2_load_refcount_table(Qcow2Image *img, GError **errp);

/*
 * The refcount block behind refcount table entry table_index (raw, as on
 * disk; NULL when the entry is 0), validated for alignment, bounds and
 * overlap with fixed metadata (the refcount table is loaded if need be).
 * Valid until the next block lookup.
 */
bool qcow2_get_refcount_block(Qcow2Image *img, uint64_t table_index,
                              const uint8_t **block, GError **errp);

/* Refcount of host cluster number cluster_index. */
bool qcow2_get_cluster_refcount(Qcow2Image *img, uint64_t cluster_index,
                                uint64_t *refcount, GError **errp);

G_END_DECLS

#endif /* QCOW2_INTERNAL_H */
