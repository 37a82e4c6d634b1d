/*
 * The qcow2 header (versions 2 and 3) and its extensions: every field is
 * checked for range, alignment and overflow against the file size and
 * QEMU's limits before anything is allocated from it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "write-internal.h"

/* The first bytes of the file: enough for any header and its extensions. */
typedef struct HeaderBuf {
    uint8_t *data;
    size_t len;
} HeaderBuf;

/* Read [0, want) of the file, growing the buffer if need be. */
static bool header_buf_ensure(Qcow2Image *img, HeaderBuf *hb, size_t want,
                              GError **errp)
{
    if (want <= hb->len) {
        return true;
    }
    hb->data = g_realloc(hb->data, want);
    if (!qcow2_pread(img, hb->data + hb->len, want - hb->len, hb->len, errp)) {
        return false;
    }
    hb->len = want;
    return true;
}

static char *dup_string_field(const uint8_t *p, size_t len)
{
    /* On-disk strings are not NUL-terminated and may contain anything. */
    return g_strndup((const char *)p, len);
}

static bool parse_feature_table(Qcow2Image *img, const uint8_t *p, uint32_t len)
{
    guint n = len / sizeof(Qcow2DiskFeature);

    g_free(img->features);
    img->features = g_new0(Qcow2Feature, n ? n : 1);
    img->n_features = n;
    for (guint i = 0; i < n; i++) {
        const uint8_t *e = p + sizeof(Qcow2DiskFeature) * i;
        Qcow2Feature *f = &img->features[i];

        f->type = (uint8_t)QCOW2_GET(e, Qcow2DiskFeature, type);
        f->bit = (uint8_t)QCOW2_GET(e, Qcow2DiskFeature, bit);
        memcpy(f->name, e + offsetof(Qcow2DiskFeature, name),
               QCOW2_FIELD_SIZE(Qcow2DiskFeature, name));
        f->name[QCOW2_FIELD_SIZE(Qcow2DiskFeature, name)] = '\0';
    }
    return true;
}

const char *qcow2_feature_name(const Qcow2Image *img, uint8_t type, uint8_t bit)
{
    for (guint i = 0; i < img->n_features; i++) {
        if (img->features[i].type == type && img->features[i].bit == bit) {
            return img->features[i].name;
        }
    }
    return NULL;
}

static bool parse_bitmaps_ext(Qcow2Image *img, uint64_t at, const uint8_t *p,
                              uint32_t len, GError **errp)
{
    Qcow2Header *h = &img->header;

    if (!(h->autoclear_features & QCOW2_AUTOCLEAR_BITMAPS)) {
        /* QEMU ignores a bitmaps extension whose autoclear bit is clear. */
        return true;
    }
    if (len != sizeof(Qcow2DiskBitmapsExt)) {
        qcow2_error(errp, img, QCOW2_ERROR_EXTENSION, "bitmaps extension", at,
                    "length %" PRIu32 " (expected %zu)", len,
                    sizeof(Qcow2DiskBitmapsExt));
        return false;
    }
    h->nb_bitmaps = (uint32_t)QCOW2_GET(p, Qcow2DiskBitmapsExt, nb_bitmaps);
    img->bitmap_directory_size =
        QCOW2_GET(p, Qcow2DiskBitmapsExt, bitmap_directory_size);
    img->bitmap_directory_offset =
        QCOW2_GET(p, Qcow2DiskBitmapsExt, bitmap_directory_offset);
    if (h->nb_bitmaps == 0 || h->nb_bitmaps > 65535) {
        qcow2_error(errp, img, QCOW2_ERROR_EXTENSION, "bitmaps extension", at,
                    "%" PRIu32 " bitmaps (QEMU allows 1 to 65535)",
                    h->nb_bitmaps);
        return false;
    }
    if (img->bitmap_directory_size == 0 ||
        img->bitmap_directory_size > QCOW2_MAX_SNAPSHOT_TABLE_BYTES ||
        img->bitmap_directory_offset % img->cluster_size ||
        !qcow2_range_within(img->bitmap_directory_offset,
                            img->bitmap_directory_size, h->file_size)) {
        qcow2_error(errp, img, QCOW2_ERROR_EXTENSION, "bitmaps extension", at,
                    "bitmap directory at 0x%" PRIx64 " (%" PRIu64
                    " bytes) is misaligned, too large or past the end of "
                    "the file (0x%" PRIx64 " bytes)",
                    img->bitmap_directory_offset, img->bitmap_directory_size,
                    h->file_size);
        return false;
    }
    return true;
}

static bool parse_crypto_ext(Qcow2Image *img, uint64_t at, const uint8_t *p,
                             uint32_t len, GError **errp)
{
    if (len != sizeof(Qcow2DiskCryptoExt)) {
        qcow2_error(errp, img, QCOW2_ERROR_EXTENSION, "encryption extension",
                    at, "length %" PRIu32 " (expected %zu)", len,
                    sizeof(Qcow2DiskCryptoExt));
        return false;
    }
    if (img->header.crypt_method != 2) {
        qcow2_error(
            errp, img, QCOW2_ERROR_EXTENSION, "encryption extension", at,
            "present but the encryption method is %" PRIu32 " (not LUKS)",
            img->header.crypt_method);
        return false;
    }
    img->crypto_offset = QCOW2_GET(p, Qcow2DiskCryptoExt, offset);
    img->crypto_length = QCOW2_GET(p, Qcow2DiskCryptoExt, length);
    if (img->crypto_offset % img->cluster_size || img->crypto_length == 0 ||
        !qcow2_range_within(img->crypto_offset, img->crypto_length,
                            img->header.file_size)) {
        qcow2_error(errp, img, QCOW2_ERROR_EXTENSION, "encryption extension",
                    at,
                    "LUKS header at 0x%" PRIx64 " (%" PRIu64
                    " bytes) is misaligned, empty or past the end of the file",
                    img->crypto_offset, img->crypto_length);
        return false;
    }
    return true;
}

static bool parse_one_extension(Qcow2Image *img, uint32_t type, uint64_t at,
                                const uint8_t *p, uint32_t len, GError **errp)
{
    Qcow2Header *h = &img->header;

    switch (type) {
    case QCOW2_EXT_BACKING_FORMAT:
        if (len > 15) {
            /* QEMU keeps the format name in a 16-byte buffer. */
            qcow2_error(errp, img, QCOW2_ERROR_EXTENSION,
                        "backing format extension", at,
                        "name of %" PRIu32 " bytes is too long (max 15)", len);
            return false;
        }
        g_free(h->backing_format); /* repeated: the last one wins */
        h->backing_format = dup_string_field(p, len);
        return true;
    case QCOW2_EXT_FEATURE_TABLE:
        return parse_feature_table(img, p, len);
    case QCOW2_EXT_BITMAPS:
        return parse_bitmaps_ext(img, at, p, len, errp);
    case QCOW2_EXT_CRYPTO:
        return parse_crypto_ext(img, at, p, len, errp);
    case QCOW2_EXT_DATA_FILE:
        if (len == 0 || len > 4096) {
            qcow2_error(errp, img, QCOW2_ERROR_EXTENSION, "data file extension",
                        at, "file name of %" PRIu32 " bytes", len);
            return false;
        }
        g_free(h->data_file);
        h->data_file = dup_string_field(p, len);
        return true;
    default:
        /* Unknown extensions are legal; keep their type for reports. */
        g_array_append_val(img->unknown_extensions, type);
        return true;
    }
}

/*
 * Extensions follow the header until an end marker. A type may appear
 * more than once: as QEMU does, each one is read in turn, so the last
 * one of a type wins (unknown ones are all listed).
 */
static bool parse_extensions(Qcow2Image *img, HeaderBuf *hb, GError **errp)
{
    const Qcow2Header *h = &img->header;
    const size_t head = sizeof(Qcow2DiskExtension);
    uint64_t backing_offset =
        QCOW2_GET(hb->data, Qcow2DiskHeader, backing_file_offset);
    /* The backing file name, if any, ends the extension area (as QEMU). */
    uint64_t end = backing_offset ? backing_offset : img->cluster_size;
    uint64_t off = h->header_length;

    if (h->version < 3) {
        /* QEMU reads extensions of v2 images too (backing format). */
        off = QCOW2_V2_HEADER_LENGTH;
    }
    end = MIN(end, h->file_size);
    while (off + head <= end) {
        uint32_t type, len;

        if (!header_buf_ensure(img, hb, off + head, errp)) {
            return false;
        }
        type = (uint32_t)QCOW2_GET(hb->data + off, Qcow2DiskExtension, type);
        len = (uint32_t)QCOW2_GET(hb->data + off, Qcow2DiskExtension, len);
        if (type == QCOW2_EXT_END) {
            return true;
        }
        if (len > end - off - head) {
            qcow2_error(errp, img, QCOW2_ERROR_EXTENSION, "header extension",
                        off,
                        "type 0x%08" PRIx32 " length %" PRIu32
                        " runs past the extension area (ends at 0x%" PRIx64 ")",
                        type, len, end);
            return false;
        }
        if (!header_buf_ensure(img, hb, off + head + len, errp) ||
            !parse_one_extension(img, type, off, hb->data + off + head, len,
                                 errp)) {
            return false;
        }
        off += head + (((uint64_t)len + 7) & ~7ULL);
    }
    /* The area may also end without a terminator, exactly at its end. */
    return true;
}

/* Names of the unknown incompatible bits, for the refusal message. */
static char *describe_unknown_incompat(const Qcow2Image *img, uint64_t bits)
{
    GString *s = g_string_new(NULL);

    for (int bit = 0; bit < 64; bit++) {
        const char *name;

        if (!(bits & (1ULL << bit))) {
            continue;
        }
        name = qcow2_feature_name(img, 0, (uint8_t)bit);
        g_string_append_printf(s, "%sbit %d", s->len ? ", " : "", bit);
        if (name && *name) {
            g_string_append_printf(s, " (\"%s\")", name);
        }
    }
    return g_string_free(s, false);
}

static bool check_features(Qcow2Image *img, GError **errp)
{
    Qcow2Header *h = &img->header;
    uint64_t unknown = h->incompatible_features & ~QCOW2_KNOWN_INCOMPAT;

    if (unknown) {
        g_autofree char *what = describe_unknown_incompat(img, unknown);
        qcow2_error(errp, img, QCOW2_ERROR_UNSUPPORTED, "header",
                    QCOW2_HDR(incompatible_features),
                    "unsupported incompatible feature(s): %s", what);
        return false;
    }
    if (h->incompatible_features & QCOW2_INCOMPAT_COMPRESSION) {
        if (h->header_length <= QCOW2_HDR(compression_type)) {
            qcow2_error(errp, img, QCOW2_ERROR_HEADER, "header",
                        QCOW2_HDR(incompatible_features),
                        "compression type bit set but the header (%" PRIu32
                        " bytes) has no compression type field",
                        h->header_length);
            return false;
        }
        if (h->compression_type == QCOW2_COMPRESSION_ZLIB) {
            qcow2_error(errp, img, QCOW2_ERROR_HEADER, "header",
                        QCOW2_HDR(compression_type),
                        "compression type bit set with type zlib (must be "
                        "clear for zlib)");
            return false;
        }
    } else if (h->compression_type != QCOW2_COMPRESSION_ZLIB) {
        qcow2_error(errp, img, QCOW2_ERROR_HEADER, "header",
                    QCOW2_HDR(compression_type),
                    "compression type %u without incompatible bit 3",
                    (unsigned)h->compression_type);
        return false;
    }
    if ((unsigned)h->compression_type > QCOW2_COMPRESSION_ZSTD) {
        qcow2_error(errp, img, QCOW2_ERROR_UNSUPPORTED, "header",
                    QCOW2_HDR(compression_type), "unknown compression type %u",
                    (unsigned)h->compression_type);
        return false;
    }
    if (h->extended_l2 &&
        h->cluster_bits < QCOW2_MIN_EXTENDED_L2_CLUSTER_BITS) {
        qcow2_error(errp, img, QCOW2_ERROR_HEADER, "header",
                    QCOW2_HDR(incompatible_features),
                    "extended L2 entries need clusters of at least 16 KiB "
                    "(cluster size is %" PRIu64 ")",
                    h->cluster_size);
        return false;
    }
    if ((h->incompatible_features & QCOW2_INCOMPAT_DATA_FILE) &&
        !h->data_file) {
        qcow2_error(errp, img, QCOW2_ERROR_HEADER, "header",
                    QCOW2_HDR(incompatible_features),
                    "external data file bit set but no data file name "
                    "extension");
        return false;
    }
    /* The write path's refusal (write-check.c), at open already. */
    return !(img->flags & QCOW2_OPEN_WRITABLE) ||
           qcow2_check_needs_repair(img, errp);
}

/* Derived geometry shared by every other part of the library. */
static void derive_geometry(Qcow2Image *img)
{
    Qcow2Header *h = &img->header;

    img->cluster_size = h->cluster_size;
    img->l2_entry_bytes = h->extended_l2 ? 16 : 8;
    img->l2_bits = h->cluster_bits - (h->extended_l2 ? 4 : 3);
    img->l2_entries = 1ULL << img->l2_bits;
    img->subcluster_size =
        h->extended_l2 ? h->cluster_size / QCOW2_SUBCLUSTERS : h->cluster_size;
    img->csize_shift = 62 - (h->cluster_bits - 8);
    img->csize_mask = (1ULL << (h->cluster_bits - 8)) - 1;
    img->offset_mask_compressed = (1ULL << img->csize_shift) - 1;
    img->refcount_max =
        h->refcount_bits == 64 ? UINT64_MAX : (1ULL << h->refcount_bits) - 1;
    img->refcount_block_bits = h->cluster_bits + 3 - h->refcount_order;
}

static bool check_tables(Qcow2Image *img, GError **errp)
{
    Qcow2Header *h = &img->header;
    uint64_t span = 1ULL << (h->cluster_bits + img->l2_bits);
    uint64_t l1_needed = h->size / span + (h->size % span != 0);
    uint64_t rt_bytes = (uint64_t)h->refcount_table_clusters * h->cluster_size;

    if (qcow2_table_bytes(h->l1_size) > QCOW2_MAX_L1_BYTES) {
        qcow2_error(
            errp, img, QCOW2_ERROR_HEADER, "header", QCOW2_HDR(l1_size),
            "active L1 table has %" PRIu32 " entries (QEMU allows at most %u)",
            h->l1_size, (unsigned)(QCOW2_MAX_L1_BYTES / QCOW2_ENTRY_BYTES));
        return false;
    }
    if (l1_needed > h->l1_size) {
        qcow2_error(errp, img, QCOW2_ERROR_HEADER, "header", QCOW2_HDR(l1_size),
                    "active L1 table has %" PRIu32 " entries but a %" PRIu64
                    "-byte disk needs %" PRIu64,
                    h->l1_size, h->size, l1_needed);
        return false;
    }
    if (h->l1_size &&
        (h->l1_table_offset % h->cluster_size ||
         !qcow2_range_within(h->l1_table_offset, qcow2_table_bytes(h->l1_size),
                             h->file_size))) {
        qcow2_error(errp, img, QCOW2_ERROR_HEADER, "header",
                    QCOW2_HDR(l1_table_offset),
                    "active L1 table at 0x%" PRIx64 " (%" PRIu32
                    " entries) is misaligned or past the end of the file "
                    "(0x%" PRIx64 " bytes)",
                    h->l1_table_offset, h->l1_size, h->file_size);
        return false;
    }
    if (h->refcount_table_clusters == 0 ||
        rt_bytes > QCOW2_MAX_REFTABLE_BYTES) {
        qcow2_error(errp, img, QCOW2_ERROR_HEADER, "header",
                    QCOW2_HDR(refcount_table_clusters),
                    "refcount table of %" PRIu32
                    " clusters (must be 1 to %u bytes)",
                    h->refcount_table_clusters, QCOW2_MAX_REFTABLE_BYTES);
        return false;
    }
    if (h->refcount_table_offset % h->cluster_size ||
        !qcow2_range_within(h->refcount_table_offset, rt_bytes, h->file_size)) {
        qcow2_error(errp, img, QCOW2_ERROR_HEADER, "header",
                    QCOW2_HDR(refcount_table_offset),
                    "refcount table at 0x%" PRIx64 " (%" PRIu64
                    " bytes) is misaligned or past the end of the file "
                    "(0x%" PRIx64 " bytes)",
                    h->refcount_table_offset, rt_bytes, h->file_size);
        return false;
    }
    if (h->nb_snapshots > QCOW2_MAX_SNAPSHOTS) {
        qcow2_error(errp, img, QCOW2_ERROR_HEADER, "header",
                    QCOW2_HDR(nb_snapshots),
                    "%" PRIu32 " snapshots (QEMU allows at most %u)",
                    h->nb_snapshots, QCOW2_MAX_SNAPSHOTS);
        return false;
    }
    if (h->nb_snapshots && (h->snapshots_offset % h->cluster_size ||
                            h->snapshots_offset >= h->file_size)) {
        qcow2_error(errp, img, QCOW2_ERROR_HEADER, "header",
                    QCOW2_HDR(snapshots_offset),
                    "snapshot table at 0x%" PRIx64
                    " is misaligned or past the end of the file (0x%" PRIx64
                    " bytes)",
                    h->snapshots_offset, h->file_size);
        return false;
    }
    return true;
}

static bool parse_fixed_fields(Qcow2Image *img, const uint8_t *b, GError **errp)
{
    Qcow2Header *h = &img->header;
    uint64_t backing_offset =
        QCOW2_GET(b, Qcow2DiskHeader, backing_file_offset);
    uint32_t backing_size =
        (uint32_t)QCOW2_GET(b, Qcow2DiskHeader, backing_file_size);

    h->cluster_bits = (uint32_t)QCOW2_GET(b, Qcow2DiskHeader, cluster_bits);
    if (h->cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
        h->cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
        qcow2_error(errp, img, QCOW2_ERROR_HEADER, "header",
                    QCOW2_HDR(cluster_bits),
                    "cluster_bits %" PRIu32 " (QEMU supports 9 to 21)",
                    h->cluster_bits);
        return false;
    }
    h->cluster_size = 1ULL << h->cluster_bits;
    h->size = QCOW2_GET(b, Qcow2DiskHeader, size);
    h->crypt_method = (uint32_t)QCOW2_GET(b, Qcow2DiskHeader, crypt_method);
    h->l1_size = (uint32_t)QCOW2_GET(b, Qcow2DiskHeader, l1_size);
    h->l1_table_offset = QCOW2_GET(b, Qcow2DiskHeader, l1_table_offset);
    h->refcount_table_offset =
        QCOW2_GET(b, Qcow2DiskHeader, refcount_table_offset);
    h->refcount_table_clusters =
        (uint32_t)QCOW2_GET(b, Qcow2DiskHeader, refcount_table_clusters);
    h->nb_snapshots = (uint32_t)QCOW2_GET(b, Qcow2DiskHeader, nb_snapshots);
    h->snapshots_offset = QCOW2_GET(b, Qcow2DiskHeader, snapshots_offset);
    if (h->size > INT64_MAX) {
        qcow2_error(errp, img, QCOW2_ERROR_HEADER, "header", QCOW2_HDR(size),
                    "virtual size 0x%" PRIx64 " is impossible", h->size);
        return false;
    }
    if (h->crypt_method > 2) {
        qcow2_error(errp, img, QCOW2_ERROR_HEADER, "header",
                    QCOW2_HDR(crypt_method),
                    "unknown encryption method %" PRIu32, h->crypt_method);
        return false;
    }
    if (backing_offset) {
        if (backing_size > QCOW2_MAX_BACKING_FILE_NAME ||
            !qcow2_range_within(backing_offset, backing_size,
                                MIN(h->cluster_size, h->file_size))) {
            qcow2_error(errp, img, QCOW2_ERROR_HEADER, "header",
                        QCOW2_HDR(backing_file_offset),
                        "backing file name at 0x%" PRIx64 " (%" PRIu32
                        " bytes) is too long or outside the first cluster",
                        backing_offset, backing_size);
            return false;
        }
    }
    return true;
}

/* The version 3 fields: feature bits, refcount order, header length. */
static bool parse_v3_fields(Qcow2Image *img, HeaderBuf *hb, GError **errp)
{
    Qcow2Header *h = &img->header;

    if (h->file_size < QCOW2_V3_MIN_HEADER_LENGTH) {
        qcow2_error(errp, img, QCOW2_ERROR_HEADER, "header", QCOW2_HDR(magic),
                    "file is only %" PRIu64
                    " bytes, too short for a version 3 header",
                    h->file_size);
        return false;
    }
    h->incompatible_features =
        QCOW2_GET(hb->data, Qcow2DiskHeader, incompatible_features);
    h->compatible_features =
        QCOW2_GET(hb->data, Qcow2DiskHeader, compatible_features);
    h->autoclear_features =
        QCOW2_GET(hb->data, Qcow2DiskHeader, autoclear_features);
    h->refcount_order =
        (uint32_t)QCOW2_GET(hb->data, Qcow2DiskHeader, refcount_order);
    h->header_length =
        (uint32_t)QCOW2_GET(hb->data, Qcow2DiskHeader, header_length);
    if (h->header_length < QCOW2_V3_MIN_HEADER_LENGTH ||
        h->header_length > h->cluster_size || h->header_length > h->file_size) {
        qcow2_error(errp, img, QCOW2_ERROR_HEADER, "header",
                    QCOW2_HDR(header_length),
                    "header length %" PRIu32
                    " (must be 104 to the cluster size and within the file)",
                    h->header_length);
        return false;
    }
    if (h->refcount_order > 6) {
        qcow2_error(
            errp, img, QCOW2_ERROR_HEADER, "header", QCOW2_HDR(refcount_order),
            "refcount_order %" PRIu32 " (must be 0 to 6)", h->refcount_order);
        return false;
    }
    /* The compression type byte exists only in longer headers. */
    if (h->header_length > QCOW2_HDR(compression_type) &&
        !header_buf_ensure(img, hb, QCOW2_HDR(compression_type) + 1, errp)) {
        return false;
    }
    h->compression_type =
        h->header_length > QCOW2_HDR(compression_type)
            ? QCOW2_GET(hb->data, Qcow2DiskHeader, compression_type)
            : QCOW2_COMPRESSION_ZLIB;
    h->extended_l2 = h->incompatible_features & QCOW2_INCOMPAT_EXTENDED_L2;
    return true;
}

bool qcow2_parse_header(Qcow2Image *img, GError **errp)
{
    Qcow2Header *h = &img->header;
    HeaderBuf hb = {0};
    uint64_t backing_offset;
    uint32_t backing_size;
    bool ok = false;

    if (!img->io->ops->get_size(img->io, &h->file_size, errp)) {
        return false;
    }
    if (h->file_size < QCOW2_V2_HEADER_LENGTH) {
        qcow2_error(errp, img, QCOW2_ERROR_HEADER, "header", QCOW2_HDR(magic),
                    "file is only %" PRIu64
                    " bytes, too short for a qcow2 header",
                    h->file_size);
        return false;
    }
    /* Most headers and their extensions fit in the first 4 KiB. */
    if (!header_buf_ensure(img, &hb, MIN(h->file_size, 4096), errp)) {
        goto out;
    }
    if ((uint32_t)QCOW2_GET(hb.data, Qcow2DiskHeader, magic) != QCOW2_MAGIC) {
        qcow2_error(errp, img, QCOW2_ERROR_HEADER, "header", QCOW2_HDR(magic),
                    "not a qcow2 image (magic 0x%08" PRIx32 ")",
                    (uint32_t)QCOW2_GET(hb.data, Qcow2DiskHeader, magic));
        goto out;
    }
    h->version = (uint32_t)QCOW2_GET(hb.data, Qcow2DiskHeader, version);
    if (h->version != 2 && h->version != 3) {
        qcow2_error(
            errp, img, QCOW2_ERROR_UNSUPPORTED, "header", QCOW2_HDR(version),
            "qcow2 version %" PRIu32 " (only 2 and 3 exist)", h->version);
        goto out;
    }
    if (!parse_fixed_fields(img, hb.data, errp)) {
        goto out;
    }
    if (h->version == 2) {
        h->header_length = QCOW2_V2_HEADER_LENGTH;
        h->refcount_order = 4;
    } else if (!parse_v3_fields(img, &hb, errp)) {
        goto out;
    }
    h->refcount_bits = 1u << h->refcount_order;
    derive_geometry(img);

    if (!parse_extensions(img, &hb, errp) || !check_features(img, errp) ||
        !check_tables(img, errp)) {
        goto out;
    }
    backing_offset = QCOW2_GET(hb.data, Qcow2DiskHeader, backing_file_offset);
    backing_size =
        (uint32_t)QCOW2_GET(hb.data, Qcow2DiskHeader, backing_file_size);
    if (backing_offset) {
        if (!header_buf_ensure(img, &hb, backing_offset + backing_size, errp)) {
            goto out;
        }
        h->backing_file =
            dup_string_field(hb.data + backing_offset, backing_size);
    }
    ok = true;
out:
    g_free(hb.data);
    return ok;
}
