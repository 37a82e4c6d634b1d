/*
 * Opening and closing an image; the map of fixed metadata (everything the
 * header and the snapshot table point at) and the overlap checks built on
 * it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "qcow2-internal.h"

/* L2 and refcount-block caches: a few MiB at most, at least 4 tables. */
#define CACHE_BUDGET_BYTES (4u * 1024 * 1024)
#define CACHE_MIN_SLOTS    4
#define CACHE_MAX_SLOTS    64

bool qcow2_pread(Qcow2Image *img, void *buf, size_t len, uint64_t off,
                 GError **errp)
{
    img->read_calls++;
    img->bytes_read += len;
    return img->io->ops->pread(img->io, buf, len, off, errp);
}

const char *qcow2_meta_kind_name(Qcow2MetaKind kind)
{
    switch (kind) {
    case QCOW2_META_HEADER:
        return "header cluster";
    case QCOW2_META_ACTIVE_L1:
        return "active L1 table";
    case QCOW2_META_REFCOUNT_TABLE:
        return "refcount table";
    case QCOW2_META_SNAPSHOT_TABLE:
        return "snapshot table";
    case QCOW2_META_SNAPSHOT_L1:
        return "snapshot L1 table";
    case QCOW2_META_BITMAP_DIRECTORY:
        return "bitmap directory";
    case QCOW2_META_CRYPTO_HEADER:
        return "LUKS header";
    case QCOW2_META_L2:
        return "L2 table";
    case QCOW2_META_REFCOUNT_BLOCK:
        return "refcount block";
    }
    return "metadata";
}

static gint compare_ranges(gconstpointer a, gconstpointer b)
{
    const Qcow2MetaRange *x = a, *y = b;

    if (x->offset != y->offset) {
        return x->offset < y->offset ? -1 : 1;
    }
    return x->length < y->length ? -1 : x->length > y->length;
}

static void add_range(GArray *ranges, const Qcow2Image *img, uint64_t offset,
                      uint64_t length, Qcow2MetaKind kind, int owner)
{
    /* Metadata occupies whole clusters. */
    uint64_t cs = img->cluster_size;
    Qcow2MetaRange r = {
        .offset = offset,
        .length = (length + cs - 1) / cs * cs,
        .kind = kind,
        .owner = owner,
    };

    if (length) {
        g_array_append_val(ranges, r);
    }
}

char *qcow2_meta_range_describe(const Qcow2MetaRange *r)
{
    if (r->kind == QCOW2_META_SNAPSHOT_L1) {
        return g_strdup_printf("the L1 table of snapshot table entry %d at "
                               "0x%" PRIx64,
                               r->owner, r->offset);
    }
    return g_strdup_printf("the %s at 0x%" PRIx64,
                           qcow2_meta_kind_name(r->kind), r->offset);
}

/* The first overlap among sorted ranges: index of its second range. */
static guint first_overlap(const GArray *r)
{
    for (guint i = 1; i < r->len; i++) {
        const Qcow2MetaRange *a = &g_array_index(r, Qcow2MetaRange, i - 1);
        const Qcow2MetaRange *b = &g_array_index(r, Qcow2MetaRange, i);

        if (b->offset < a->offset + a->length) {
            return i;
        }
    }
    return 0;
}

/*
 * A snapshot's L1 table that overlaps other metadata spoils that snapshot
 * only (QEMU lists such an entry and fails when it loads it): the entry
 * is marked, and its table left out of the map.
 */
static void add_snapshot_l1_tables(Qcow2Image *img, GArray *fixed)
{
    g_autoptr(GArray) l1s = g_array_new(false, false, sizeof(Qcow2MetaRange));
    uint64_t end = 0;

    for (guint i = 0; i < img->nb_snapshots; i++) {
        Qcow2Snapshot *sn = &img->snapshots[i];
        const Qcow2MetaRange *m;

        if (sn->l1_unusable || !sn->l1_size) {
            continue;
        }
        m = qcow2_fixed_overlap(img, sn->l1_table_offset,
                                qcow2_table_bytes(sn->l1_size));
        if (m) {
            g_autofree char *dm = qcow2_meta_range_describe(m);
            qcow2_snapshot_set_error(img, sn, true,
                                     "L1 table at 0x%" PRIx64 " overlaps %s",
                                     sn->l1_table_offset, dm);
            continue;
        }
        add_range(l1s, img, sn->l1_table_offset, qcow2_table_bytes(sn->l1_size),
                  QCOW2_META_SNAPSHOT_L1, (int)i);
    }
    g_array_sort(l1s, compare_ranges);
    for (guint i = 0; i < l1s->len; i++) {
        const Qcow2MetaRange *m = &g_array_index(l1s, Qcow2MetaRange, i);

        if (m->offset < end) {
            qcow2_snapshot_set_error(img, &img->snapshots[m->owner], true,
                                     "L1 table at 0x%" PRIx64
                                     " overlaps another snapshot's L1 "
                                     "table",
                                     m->offset);
            continue;
        }
        end = m->offset + m->length;
        g_array_append_val(fixed, *m);
    }
}

bool qcow2_build_fixed_metadata(Qcow2Image *img, GError **errp)
{
    const Qcow2Header *h = &img->header;
    GArray *r = g_array_new(false, false, sizeof(Qcow2MetaRange));
    guint bad;

    img->fixed_meta = r;
    add_range(r, img, 0, img->cluster_size, QCOW2_META_HEADER, -1);
    add_range(r, img, h->l1_table_offset, qcow2_table_bytes(h->l1_size),
              QCOW2_META_ACTIVE_L1, -1);
    add_range(r, img, h->refcount_table_offset,
              (uint64_t)h->refcount_table_clusters * img->cluster_size,
              QCOW2_META_REFCOUNT_TABLE, -1);
    add_range(r, img, h->snapshots_offset, img->snapshot_table_length,
              QCOW2_META_SNAPSHOT_TABLE, -1);
    add_range(r, img, img->bitmap_directory_offset, img->bitmap_directory_size,
              QCOW2_META_BITMAP_DIRECTORY, -1);
    add_range(r, img, img->crypto_offset, img->crypto_length,
              QCOW2_META_CRYPTO_HEADER, -1);
    g_array_sort(r, compare_ranges);

    bad = first_overlap(r);
    if (bad) {
        const Qcow2MetaRange *a = &g_array_index(r, Qcow2MetaRange, bad - 1);
        const Qcow2MetaRange *b = &g_array_index(r, Qcow2MetaRange, bad);
        g_autofree char *da = qcow2_meta_range_describe(a);
        bool snapshot_part = a->kind == QCOW2_META_SNAPSHOT_TABLE ||
                             b->kind == QCOW2_META_SNAPSHOT_TABLE;

        qcow2_error(
            errp, img,
            snapshot_part ? QCOW2_ERROR_SNAPSHOT_TABLE : QCOW2_ERROR_HEADER,
            qcow2_meta_kind_name(b->kind), b->offset, "overlaps %s", da);
        return false;
    }
    add_snapshot_l1_tables(img, r);
    g_array_sort(r, compare_ranges);
    return true;
}

const Qcow2MetaRange *qcow2_fixed_overlap(const Qcow2Image *img,
                                          uint64_t offset, uint64_t length)
{
    const GArray *r = img->fixed_meta;
    guint lo = 0, hi = r->len;

    /* Ranges are sorted and disjoint: find the last one starting before
     * the end of ours and see whether it reaches into ours. */
    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        if (g_array_index(r, Qcow2MetaRange, mid).offset < offset + length) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo > 0) {
        const Qcow2MetaRange *m = &g_array_index(r, Qcow2MetaRange, lo - 1);
        if (m->offset + m->length > offset) {
            return m;
        }
    }
    return NULL;
}

bool qcow2_check_no_fixed_overlap(const Qcow2Image *img, uint64_t offset,
                                  uint64_t length, Qcow2ErrorCode code,
                                  const char *structure, uint64_t struct_offset,
                                  GError **errp)
{
    const Qcow2MetaRange *m = qcow2_fixed_overlap(img, offset, length);

    if (m) {
        g_autofree char *dm = qcow2_meta_range_describe(m);
        qcow2_error(errp, img, code, structure, struct_offset,
                    "points at 0x%" PRIx64 ", inside %s", offset, dm);
        return false;
    }
    return true;
}

static guint cache_slots(uint64_t cluster_size)
{
    uint64_t n = CACHE_BUDGET_BYTES / cluster_size;
    return (guint)CLAMP(n, CACHE_MIN_SLOTS, CACHE_MAX_SLOTS);
}

Qcow2Image *qcow2_open_io(Qcow2IO *io, Qcow2IO *data_io, const char *name,
                          Qcow2OpenFlags flags, GError **errp)
{
    Qcow2Image *img = g_new0(Qcow2Image, 1);

    img->name = g_strdup(name ? name : io->name);
    img->io = io;
    img->data_io = data_io;
    img->flags = flags;
    img->unknown_extensions = g_array_new(false, false, sizeof(uint32_t));

    if (!(flags & QCOW2_OPEN_NO_LOCK) &&
        !io->ops->lock(io,
                       (flags & QCOW2_OPEN_WRITABLE) ? QCOW2_LOCK_WRITER
                                                     : QCOW2_LOCK_READER,
                       errp)) {
        goto fail;
    }
    if (!qcow2_parse_header(img, errp) ||
        !qcow2_read_snapshot_table(img, errp) ||
        !qcow2_build_fixed_metadata(img, errp)) {
        goto fail;
    }
    img->snapshot_l1 = g_new0(Qcow2L1, MAX(img->nb_snapshots, 1));
    qcow2_cache_init(&img->l2_cache, cache_slots(img->cluster_size),
                     img->cluster_size);
    qcow2_cache_init(&img->refblock_cache, cache_slots(img->cluster_size),
                     img->cluster_size);
    return img;
fail:
    qcow2_close(img);
    return NULL;
}

/*
 * The data file named in the header. A relative name is looked up beside
 * the image first, then (as QEMU does) in the current directory.
 */
static void open_data_file(Qcow2Image *img, const char *path, bool writable)
{
    const char *name = img->header.data_file;
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *beside = g_build_filename(dir, name, NULL);
    g_autoptr(GError) err = NULL;

    if (!g_path_is_absolute(name) && g_file_test(beside, G_FILE_TEST_EXISTS)) {
        img->data_io = qcow2_io_posix_open(beside, writable, &err);
    } else {
        img->data_io = qcow2_io_posix_open(name, writable, &err);
    }
    if (!img->data_io) {
        img->data_io_error = g_strdup(err->message);
    }
}

Qcow2Image *qcow2_open(const char *path, Qcow2OpenFlags flags, GError **errp)
{
    bool writable = flags & QCOW2_OPEN_WRITABLE;
    Qcow2IO *io = qcow2_io_posix_open(path, writable, errp);
    Qcow2Image *img;

    if (!io) {
        return NULL;
    }
    img = qcow2_open_io(io, NULL, path, flags, errp);
    if (img && img->header.data_file &&
        (img->header.incompatible_features & QCOW2_INCOMPAT_DATA_FILE)) {
        /* A missing data file only matters once data is read. */
        open_data_file(img, path, writable);
    }
    return img;
}

void qcow2_close(Qcow2Image *img)
{
    Qcow2Header *h;

    if (!img) {
        return;
    }
    h = &img->header;
    if (img->snapshot_l1) {
        for (guint i = 0; i < img->nb_snapshots; i++) {
            g_free(img->snapshot_l1[i].entries);
        }
        g_free(img->snapshot_l1);
    }
    qcow2_free_snapshots(img);
    g_free(img->active_l1.entries);
    g_free(img->zcluster);
    g_free(img->refcount_table);
    qcow2_cache_destroy(&img->l2_cache);
    qcow2_cache_destroy(&img->refblock_cache);
    if (img->fixed_meta) {
        g_array_free(img->fixed_meta, true);
    }
    g_array_free(img->unknown_extensions, true);
    qcow2_forget_warnings_state(img);
    if (img->warnings) {
        g_ptr_array_unref(img->warnings);
    }
    g_free(img->features);
    g_free(h->backing_file);
    g_free(h->backing_format);
    g_free(h->data_file);
    qcow2_io_close(img->io);
    qcow2_io_close(img->data_io);
    g_free(img->data_io_error);
    g_free(img->name);
    g_free(img);
}

const Qcow2Header *qcow2_header(const Qcow2Image *img)
{
    return &img->header;
}

const char *qcow2_name(const Qcow2Image *img)
{
    return img->name;
}

uint64_t qcow2_io_bytes_read(const Qcow2Image *img)
{
    return img->bytes_read;
}

uint64_t qcow2_io_read_calls(const Qcow2Image *img)
{
    return img->read_calls;
}

guint qcow2_unknown_extensions(const Qcow2Image *img, const uint32_t **types)
{
    *types = (const uint32_t *)img->unknown_extensions->data;
    return img->unknown_extensions->len;
}
