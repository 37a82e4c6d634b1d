/*
 * The qcow2 on-disk format (QEMU's docs/interop/qcow2.txt), declared once.
 *
 * Each structure below is the exact layout of a piece of the file: the
 * read path takes fields out of raw bytes with QCOW2_GET, the write path
 * puts them in with QCOW2_PUT, both at offsetof() the same member, so an
 * offset or a width is written down in one place only. The structures are
 * never filled with host values (every field is big-endian on disk);
 * they exist for their offsets and sizes, which the _Static_asserts at the
 * end pin to the specification.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QCOW2_FORMAT_H
#define QCOW2_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define QCOW2_PACKED __attribute__((packed))

/* The header: version 2 ends at incompatible_features (72 bytes). */
typedef struct QCOW2_PACKED Qcow2DiskHeader {
    uint32_t magic;
    uint32_t version;
    uint64_t backing_file_offset;
    uint32_t backing_file_size;
    uint32_t cluster_bits;
    uint64_t size; /* virtual disk size */
    uint32_t crypt_method;
    uint32_t l1_size;
    uint64_t l1_table_offset;
    uint64_t refcount_table_offset;
    uint32_t refcount_table_clusters;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    /* version 3 */
    uint64_t incompatible_features;
    uint64_t compatible_features;
    uint64_t autoclear_features;
    uint32_t refcount_order;
    uint32_t header_length;
    /* only when header_length > 104 */
    uint8_t compression_type;
    uint8_t padding[7];
} Qcow2DiskHeader;

/* Each header extension starts with this, then len bytes padded to 8. */
typedef struct QCOW2_PACKED Qcow2DiskExtension {
    uint32_t type;
    uint32_t len;
} Qcow2DiskExtension;

/* One entry of the feature name table extension. */
typedef struct QCOW2_PACKED Qcow2DiskFeature {
    uint8_t type; /* 0 incompatible, 1 compatible, 2 autoclear */
    uint8_t bit;
    char name[46];
} Qcow2DiskFeature;

/* The bitmaps extension. */
typedef struct QCOW2_PACKED Qcow2DiskBitmapsExt {
    uint32_t nb_bitmaps;
    uint32_t reserved;
    uint64_t bitmap_directory_size;
    uint64_t bitmap_directory_offset;
} Qcow2DiskBitmapsExt;

/* The full disk encryption (LUKS) header extension. */
typedef struct QCOW2_PACKED Qcow2DiskCryptoExt {
    uint64_t offset;
    uint64_t length;
} Qcow2DiskCryptoExt;

/*
 * A snapshot table entry: this fixed part, extra_data_size bytes of extra
 * data, the ID, the name; the next entry starts 8-byte aligned.
 */
typedef struct QCOW2_PACKED Qcow2DiskSnapshot {
    uint64_t l1_table_offset;
    uint32_t l1_size;
    uint16_t id_str_size;
    uint16_t name_size;
    uint32_t date_sec;
    uint32_t date_nsec;
    uint64_t vm_clock_nsec;
    uint32_t vm_state_size; /* the legacy 32-bit field */
    uint32_t extra_data_size;
} Qcow2DiskSnapshot;

/* The extra data QEMU understands; a field exists if the size covers it. */
typedef struct QCOW2_PACKED Qcow2DiskSnapshotExtra {
    uint64_t vm_state_size_large;
    uint64_t disk_size;
    int64_t icount;
} Qcow2DiskSnapshotExtra;

/* A bitmap directory entry: then extra data and the name, padded to 8. */
typedef struct QCOW2_PACKED Qcow2DiskBitmapEntry {
    uint64_t bitmap_table_offset;
    uint32_t bitmap_table_size; /* entries */
    uint32_t flags;
    uint8_t type;
    uint8_t granularity_bits;
    uint16_t name_size;
    uint32_t extra_data_size;
} Qcow2DiskBitmapEntry;

/* L1, L2 (standard part), refcount table and bitmap table entries. */
typedef uint64_t Qcow2DiskTableEntry;
#define QCOW2_ENTRY_BYTES sizeof(Qcow2DiskTableEntry)

/* ------------------------------------------------------------------ */
/* Field access                                                       */

#define QCOW2_FIELD_SIZE(type, field) sizeof(((type *)0)->field)

static inline uint64_t qcow2_get_be(const uint8_t *p, size_t width)
{
    uint64_t v = 0;

    for (size_t i = 0; i < width; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static inline void qcow2_put_be(uint8_t *p, size_t width, uint64_t v)
{
    for (size_t i = width; i > 0; i--) {
        p[i - 1] = (uint8_t)v;
        v >>= 8;
    }
}

/* Field of a structure laid out at buf (raw file bytes). */
#define QCOW2_GET(buf, type, field)                                            \
    qcow2_get_be((const uint8_t *)(buf) + offsetof(type, field),               \
                 QCOW2_FIELD_SIZE(type, field))
#define QCOW2_PUT(buf, type, field, value)                                     \
    qcow2_put_be((uint8_t *)(buf) + offsetof(type, field),                     \
                 QCOW2_FIELD_SIZE(type, field), (value))

/* Header field offsets, for messages and in-place writes. */
#define QCOW2_HDR(field) offsetof(Qcow2DiskHeader, field)

/* Is an extra data field present in extra data of extra_size bytes? */
#define QCOW2_SNAPSHOT_EXTRA_HAS(extra_size, field)                            \
    ((extra_size) >= offsetof(Qcow2DiskSnapshotExtra, field) +                 \
                         QCOW2_FIELD_SIZE(Qcow2DiskSnapshotExtra, field))

#define QCOW2_V2_HEADER_LENGTH     offsetof(Qcow2DiskHeader, incompatible_features)
#define QCOW2_V3_MIN_HEADER_LENGTH offsetof(Qcow2DiskHeader, compression_type)

/*
 * The two in-place header writes of the write path, each one write inside
 * the first sector: the snapshot table switch (the commit point) and the
 * refcount table switch.
 */
#define QCOW2_SNAPSHOT_SWITCH_OFFSET QCOW2_HDR(nb_snapshots)
#define QCOW2_SNAPSHOT_SWITCH_BYTES                                            \
    (QCOW2_HDR(snapshots_offset) + sizeof(uint64_t) - QCOW2_HDR(nb_snapshots))
#define QCOW2_REFTABLE_SWITCH_OFFSET QCOW2_HDR(refcount_table_offset)
#define QCOW2_REFTABLE_SWITCH_BYTES                                            \
    (QCOW2_HDR(refcount_table_clusters) + sizeof(uint32_t) -                   \
     QCOW2_HDR(refcount_table_offset))

/* ------------------------------------------------------------------ */
/* The layout, as the specification gives it                          */

_Static_assert(sizeof(Qcow2DiskHeader) == 112, "header size");
_Static_assert(QCOW2_HDR(backing_file_offset) == 8, "backing_file_offset");
_Static_assert(QCOW2_HDR(cluster_bits) == 20, "cluster_bits");
_Static_assert(QCOW2_HDR(size) == 24, "size");
_Static_assert(QCOW2_HDR(l1_size) == 36, "l1_size");
_Static_assert(QCOW2_HDR(refcount_table_offset) == 48, "refcount table");
_Static_assert(QCOW2_HDR(nb_snapshots) == 60, "nb_snapshots");
_Static_assert(QCOW2_HDR(snapshots_offset) == 64, "snapshots_offset");
_Static_assert(QCOW2_V2_HEADER_LENGTH == 72, "version 2 header length");
_Static_assert(QCOW2_HDR(autoclear_features) == 88, "autoclear_features");
_Static_assert(QCOW2_HDR(header_length) == 100, "header_length");
_Static_assert(QCOW2_V3_MIN_HEADER_LENGTH == 104, "version 3 header length");
/* Each switch is a single write within the first 512-byte sector. */
_Static_assert(QCOW2_SNAPSHOT_SWITCH_BYTES == 12, "snapshot table switch");
_Static_assert(QCOW2_REFTABLE_SWITCH_BYTES == 12, "refcount table switch");
_Static_assert(QCOW2_HDR(snapshots_offset) == QCOW2_HDR(nb_snapshots) + 4,
               "nb_snapshots and snapshots_offset are adjacent");
_Static_assert(QCOW2_HDR(refcount_table_clusters) ==
                   QCOW2_HDR(refcount_table_offset) + 8,
               "refcount table offset and size are adjacent");
_Static_assert(sizeof(Qcow2DiskExtension) == 8, "extension header");
_Static_assert(sizeof(Qcow2DiskFeature) == 48, "feature table entry");
_Static_assert(sizeof(Qcow2DiskBitmapsExt) == 24, "bitmaps extension");
_Static_assert(sizeof(Qcow2DiskCryptoExt) == 16, "crypto extension");
_Static_assert(sizeof(Qcow2DiskSnapshot) == 40, "snapshot entry");
_Static_assert(offsetof(Qcow2DiskSnapshot, id_str_size) == 12, "id size");
_Static_assert(offsetof(Qcow2DiskSnapshot, vm_state_size) == 32, "vm size");
_Static_assert(offsetof(Qcow2DiskSnapshot, extra_data_size) == 36, "extra");
_Static_assert(sizeof(Qcow2DiskSnapshotExtra) == 24, "snapshot extra data");
_Static_assert(offsetof(Qcow2DiskSnapshotExtra, disk_size) == 8, "disk_size");
_Static_assert(sizeof(Qcow2DiskBitmapEntry) == 24, "bitmap directory entry");
_Static_assert(QCOW2_ENTRY_BYTES == 8, "table entry");

#endif /* QCOW2_FORMAT_H */
