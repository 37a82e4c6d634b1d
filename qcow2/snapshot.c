/*
 * The snapshot table: parsed once at open into Qcow2Snapshot entries,
 * with every length checked against the file and QEMU's limits. Extra
 * data is kept byte for byte so a rewrite can preserve what it does not
 * understand.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "qcow2-internal.h"

/*
 * A growing window over the table, read in large pieces so that a table
 * of a few entries costs one pread.
 */
typedef struct TableReader {
    Qcow2Image *img;
    uint64_t base;  /* file offset of the table */
    uint64_t limit; /* bytes of the table we may read */
    uint8_t *data;
    uint64_t len;
} TableReader;

static bool table_ensure(TableReader *tr, uint64_t end, GError **errp)
{
    uint64_t want;

    if (end <= tr->len) {
        return true;
    }
    want = MAX(end, MAX(tr->len * 2, 4096));
    want = MIN(want, tr->limit);
    tr->data = g_realloc(tr->data, want);
    if (!qcow2_pread(tr->img, tr->data + tr->len, want - tr->len,
                     tr->base + tr->len, errp)) {
        return false;
    }
    tr->len = want;
    return true;
}

static void parse_extra(const Qcow2Image *img, Qcow2Snapshot *sn)
{
    const uint8_t *x = sn->extra_data;
    uint32_t n = sn->extra_data_size;

    sn->vm_state_size = sn->vm_state_size32;
    sn->disk_size = img->header.size;
    sn->icount = -1;
    if (QCOW2_SNAPSHOT_EXTRA_HAS(n, vm_state_size_large)) {
        sn->vm_state_size =
            QCOW2_GET(x, Qcow2DiskSnapshotExtra, vm_state_size_large);
    }
    if (QCOW2_SNAPSHOT_EXTRA_HAS(n, disk_size)) {
        sn->disk_size = QCOW2_GET(x, Qcow2DiskSnapshotExtra, disk_size);
    }
    if (QCOW2_SNAPSHOT_EXTRA_HAS(n, icount)) {
        sn->icount = (int64_t)QCOW2_GET(x, Qcow2DiskSnapshotExtra, icount);
        sn->has_icount = true;
    }
}

/* Where the VM state of a snapshot of disk_size bytes starts. */
static bool vmstate_base_for(const Qcow2Image *img, uint64_t disk_size,
                             uint64_t *base)
{
    uint64_t span = qcow2_l2_span(img);
    uint64_t n = disk_size / span + (disk_size % span != 0);

    if (n > (UINT64_C(1) << 62) / span) {
        return false;
    }
    *base = n * span;
    return true;
}

void qcow2_snapshot_set_error(const Qcow2Image *img, Qcow2Snapshot *sn,
                              bool l1_unusable, const char *fmt, ...)
{
    g_autofree char *what =
        g_strdup_printf("snapshot table entry %u", sn->index);
    g_autofree char *why = NULL;
    GError *err = NULL;
    va_list ap;

    if (sn->error) {
        return; /* the first reason is the one reported */
    }
    va_start(ap, fmt);
    why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    qcow2_error(&err, img, QCOW2_ERROR_SNAPSHOT_TABLE, what, sn->table_offset,
                "%s", why);
    sn->error = g_strdup(err->message);
    sn->l1_unusable = l1_unusable;
    g_error_free(err);
}

/*
 * An entry QEMU would list but not load (qemu-img snapshot -l shows it):
 * the snapshot is marked, the image and the other snapshots stay usable.
 */
static void check_entry(const Qcow2Image *img, Qcow2Snapshot *sn)
{
    uint64_t base;

    if (qcow2_table_bytes(sn->l1_size) > QCOW2_MAX_L1_BYTES) {
        qcow2_snapshot_set_error(
            img, sn, true,
            "L1 table of %" PRIu32 " entries (QEMU allows at most %u)",
            sn->l1_size, (unsigned)(QCOW2_MAX_L1_BYTES / QCOW2_ENTRY_BYTES));
    } else if (sn->l1_size &&
               (sn->l1_table_offset % img->cluster_size ||
                !qcow2_range_within(sn->l1_table_offset,
                                    qcow2_table_bytes(sn->l1_size),
                                    img->header.file_size))) {
        qcow2_snapshot_set_error(
            img, sn, true,
            "L1 table at 0x%" PRIx64 " (%" PRIu32
            " entries) is misaligned or past the end of the file "
            "(0x%" PRIx64 " bytes)",
            sn->l1_table_offset, sn->l1_size, img->header.file_size);
    }
    if (sn->disk_size > INT64_MAX ||
        !vmstate_base_for(img, sn->disk_size, &base) ||
        sn->vm_state_size > (UINT64_C(1) << 62) - base) {
        qcow2_snapshot_set_error(img, sn, sn->l1_unusable,
                                 "impossible sizes: disk %" PRIu64
                                 " bytes, VM state %" PRIu64 " bytes",
                                 sn->disk_size, sn->vm_state_size);
    }
}

static bool parse_entry(Qcow2Image *img, TableReader *tr, uint64_t *pos,
                        guint i, Qcow2Snapshot *sn, GError **errp)
{
    g_autofree char *what = g_strdup_printf("snapshot table entry %u", i);
    uint64_t at = (*pos + 7) & ~7ULL; /* entries start 8-byte aligned */
    uint64_t file_at = tr->base + at;
    const uint8_t *e;
    uint16_t id_len, name_len;
    uint64_t end;

    if (!qcow2_range_within(at, sizeof(Qcow2DiskSnapshot), tr->limit)) {
        qcow2_error(errp, img, QCOW2_ERROR_SNAPSHOT_TABLE, what, file_at,
                    "runs past the end of the %s",
                    tr->limit == QCOW2_MAX_SNAPSHOT_TABLE_BYTES
                        ? "64 MiB table limit"
                        : "file");
        return false;
    }
    if (!table_ensure(tr, at + sizeof(Qcow2DiskSnapshot), errp)) {
        return false;
    }
    e = tr->data + at;
    sn->index = i;
    sn->table_offset = file_at;
    sn->l1_table_offset = QCOW2_GET(e, Qcow2DiskSnapshot, l1_table_offset);
    sn->l1_size = (uint32_t)QCOW2_GET(e, Qcow2DiskSnapshot, l1_size);
    id_len = (uint16_t)QCOW2_GET(e, Qcow2DiskSnapshot, id_str_size);
    name_len = (uint16_t)QCOW2_GET(e, Qcow2DiskSnapshot, name_size);
    sn->date_sec = (uint32_t)QCOW2_GET(e, Qcow2DiskSnapshot, date_sec);
    sn->date_nsec = (uint32_t)QCOW2_GET(e, Qcow2DiskSnapshot, date_nsec);
    sn->vm_clock_nsec = QCOW2_GET(e, Qcow2DiskSnapshot, vm_clock_nsec);
    sn->vm_state_size32 =
        (uint32_t)QCOW2_GET(e, Qcow2DiskSnapshot, vm_state_size);
    sn->extra_data_size =
        (uint32_t)QCOW2_GET(e, Qcow2DiskSnapshot, extra_data_size);
    if (sn->extra_data_size > QCOW2_MAX_SNAPSHOT_EXTRA) {
        qcow2_error(errp, img, QCOW2_ERROR_SNAPSHOT_TABLE, what, file_at,
                    "%" PRIu32 " bytes of extra data (QEMU allows %u)",
                    sn->extra_data_size, QCOW2_MAX_SNAPSHOT_EXTRA);
        return false;
    }
    end = at + qcow2_snapshot_entry_length(e);
    if (end > tr->limit) {
        qcow2_error(errp, img, QCOW2_ERROR_SNAPSHOT_TABLE, what, file_at,
                    "extra data (%" PRIu32 ") + id (%u) + name (%u) bytes run "
                    "past the end of the %s",
                    sn->extra_data_size, id_len, name_len,
                    tr->limit == QCOW2_MAX_SNAPSHOT_TABLE_BYTES
                        ? "64 MiB table limit"
                        : "file");
        return false;
    }
    if (!table_ensure(tr, end, errp)) {
        return false;
    }
    e = tr->data + at + sizeof(Qcow2DiskSnapshot);
    sn->extra_data = g_memdup2(e, sn->extra_data_size);
    e += sn->extra_data_size;
    sn->id = g_strndup((const char *)e, id_len);
    e += id_len;
    sn->name = g_strndup((const char *)e, name_len);
    parse_extra(img, sn);
    *pos = end;
    check_entry(img, sn);
    return true;
}

bool qcow2_read_snapshot_table(Qcow2Image *img, GError **errp)
{
    const Qcow2Header *h = &img->header;
    TableReader tr = {.img = img, .base = h->snapshots_offset};
    uint64_t pos = 0;
    bool ok = true;

    if (h->nb_snapshots == 0) {
        return true;
    }
    tr.limit = MIN(h->file_size - h->snapshots_offset,
                   (uint64_t)QCOW2_MAX_SNAPSHOT_TABLE_BYTES);
    img->snapshots = g_new0(Qcow2Snapshot, h->nb_snapshots);
    for (guint i = 0; i < h->nb_snapshots; i++) {
        img->nb_snapshots = i + 1; /* so that close frees partial entries */
        if (!parse_entry(img, &tr, &pos, i, &img->snapshots[i], errp)) {
            ok = false;
            break;
        }
    }
    img->snapshot_table_length = pos;
    g_free(tr.data);
    return ok;
}

void qcow2_free_snapshots(Qcow2Image *img)
{
    for (guint i = 0; i < img->nb_snapshots; i++) {
        g_free(img->snapshots[i].id);
        g_free(img->snapshots[i].name);
        g_free(img->snapshots[i].extra_data);
        g_free(img->snapshots[i].error);
    }
    g_free(img->snapshots);
    img->snapshots = NULL;
    img->nb_snapshots = 0;
}

guint qcow2_snapshot_count(const Qcow2Image *img)
{
    return img->nb_snapshots;
}

const Qcow2Snapshot *qcow2_snapshot_get(const Qcow2Image *img, guint index)
{
    return index < img->nb_snapshots ? &img->snapshots[index] : NULL;
}

const Qcow2Snapshot *qcow2_snapshot_find(const Qcow2Image *img,
                                         const char *id_or_name, GError **errp)
{
    /* QEMU's order: an ID match wins over a name match. */
    for (guint i = 0; i < img->nb_snapshots; i++) {
        if (!strcmp(img->snapshots[i].id, id_or_name)) {
            return &img->snapshots[i];
        }
    }
    for (guint i = 0; i < img->nb_snapshots; i++) {
        if (!strcmp(img->snapshots[i].name, id_or_name)) {
            return &img->snapshots[i];
        }
    }
    qcow2_error(errp, img, QCOW2_ERROR_NOT_FOUND, NULL, 0,
                "no snapshot with ID or name '%s'", id_or_name);
    return NULL;
}

GArray *qcow2_snapshot_duplicates(const Qcow2Image *img)
{
    GArray *out = g_array_new(false, false, sizeof(Qcow2SnapshotDuplicate));
    /* key -> 1 + index of the entry lookup finds by it */
    g_autoptr(GHashTable) ids = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 0; i < img->nb_snapshots; i++) {
        const Qcow2Snapshot *sn = &img->snapshots[i];

        if (!g_hash_table_contains(ids, sn->id)) {
            g_hash_table_insert(ids, sn->id, GUINT_TO_POINTER(i + 1));
        }
        if (!g_hash_table_contains(names, sn->name)) {
            g_hash_table_insert(names, sn->name, GUINT_TO_POINTER(i + 1));
        }
    }
    for (guint i = 0; i < img->nb_snapshots; i++) {
        const Qcow2Snapshot *sn = &img->snapshots[i];
        guint by_id = GPOINTER_TO_UINT(g_hash_table_lookup(ids, sn->id));
        guint id_of_name = GPOINTER_TO_UINT(g_hash_table_lookup(ids, sn->name));
        guint by_name = GPOINTER_TO_UINT(g_hash_table_lookup(names, sn->name));
        Qcow2SnapshotDuplicate d = {.index = i};

        if (by_id != i + 1) {
            d.shadow = by_id - 1;
            d.by_id = true;
            g_array_append_val(out, d);
        }
        if ((id_of_name && id_of_name != i + 1) || by_name != i + 1) {
            d.shadow = id_of_name ? id_of_name - 1 : by_name - 1;
            d.by_id = false;
            g_array_append_val(out, d);
        }
    }
    return out;
}

bool qcow2_snapshot_usable(const Qcow2Snapshot *sn, GError **errp)
{
    if (sn->error) {
        g_set_error_literal(errp, QCOW2_ERROR, QCOW2_ERROR_SNAPSHOT_TABLE,
                            sn->error);
        return false;
    }
    return true;
}

uint64_t qcow2_vmstate_base(const Qcow2Image *img, const Qcow2Snapshot *snap)
{
    uint64_t base = 0;

    /* Only an entry marked with an error has no base (check_entry). */
    vmstate_base_for(img, snap ? snap->disk_size : img->header.size, &base);
    return base;
}

const uint8_t *qcow2_snapshot_unknown_extra(const Qcow2Snapshot *sn,
                                            size_t *len)
{
    if (sn->extra_data_size <= QCOW2_SNAPSHOT_QEMU_EXTRA) {
        *len = 0;
        return NULL;
    }
    *len = sn->extra_data_size - QCOW2_SNAPSHOT_QEMU_EXTRA;
    return sn->extra_data + QCOW2_SNAPSHOT_QEMU_EXTRA;
}

bool qcow2_entry_set_unknown_extra(const Qcow2Image *img, GByteArray *t,
                                   guint at, const Qcow2ExtraUpdate *x,
                                   GError **errp)
{
    const uint8_t *e = t->data + at;
    uint32_t extra = (uint32_t)QCOW2_GET(e, Qcow2DiskSnapshot, extra_data_size);
    uint16_t id_len = (uint16_t)QCOW2_GET(e, Qcow2DiskSnapshot, id_str_size);
    uint16_t name_len = (uint16_t)QCOW2_GET(e, Qcow2DiskSnapshot, name_size);
    uint8_t known[sizeof(Qcow2DiskSnapshotExtra)];
    g_autofree uint8_t *names = NULL;
    uint8_t fixed[sizeof(Qcow2DiskSnapshot)];

    if (!x || !x->set) {
        return true;
    }
    if (x->len > QCOW2_MAX_UNKNOWN_EXTRA) {
        qcow2_error(errp, img, QCOW2_ERROR_INVALID, NULL, 0,
                    "%zu bytes of unknown snapshot extra data: QEMU allows "
                    "at most %u",
                    x->len, QCOW2_MAX_UNKNOWN_EXTRA);
        return false;
    }
    /* QEMU's own fields, completed as QEMU writes an entry that had
     * fewer: the 64-bit VM state size, the disk size, icount -1. */
    QCOW2_PUT(known, Qcow2DiskSnapshotExtra, vm_state_size_large,
              QCOW2_GET(e, Qcow2DiskSnapshot, vm_state_size));
    QCOW2_PUT(known, Qcow2DiskSnapshotExtra, disk_size, img->header.size);
    QCOW2_PUT(known, Qcow2DiskSnapshotExtra, icount, UINT64_MAX);
    memcpy(known, e + sizeof(Qcow2DiskSnapshot), MIN(extra, sizeof(known)));
    memcpy(fixed, e, sizeof(fixed));
    QCOW2_PUT(fixed, Qcow2DiskSnapshot, extra_data_size,
              sizeof(known) + x->len);
    names = g_memdup2(e + sizeof(Qcow2DiskSnapshot) + extra,
                      (gsize)id_len + name_len);
    g_byte_array_set_size(t, at);
    g_byte_array_append(t, fixed, sizeof(fixed));
    g_byte_array_append(t, known, sizeof(known));
    if (x->len) {
        g_byte_array_append(t, x->data, (guint)x->len);
    }
    g_byte_array_append(t, names, (guint)id_len + name_len);
    return true;
}
