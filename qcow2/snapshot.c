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

    sn->vm_state_size = sn->vm_state_size32;
    sn->disk_size = img->header.size;
    sn->icount = -1;
    if (sn->extra_data_size >= QCOW2_SNAPSHOT_EXTRA_VMSTATE_LARGE) {
        sn->vm_state_size = qcow2_be64(x);
    }
    if (sn->extra_data_size >= QCOW2_SNAPSHOT_EXTRA_DISK_SIZE) {
        sn->disk_size = qcow2_be64(x + 8);
    }
    if (sn->extra_data_size >= QCOW2_SNAPSHOT_EXTRA_ICOUNT) {
        sn->icount = (int64_t)qcow2_be64(x + 16);
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

static bool check_entry(Qcow2Image *img, guint i, Qcow2Snapshot *sn,
                        GError **errp)
{
    g_autofree char *what = g_strdup_printf("snapshot table entry %u", i);
    uint64_t base;

    if ((uint64_t)sn->l1_size * 8 > QCOW2_MAX_L1_BYTES) {
        qcow2_error(errp, img, QCOW2_ERROR_SNAPSHOT_TABLE, what,
                    sn->table_offset,
                    "L1 table of %" PRIu32 " entries (QEMU allows at most %u)",
                    sn->l1_size, QCOW2_MAX_L1_BYTES / 8);
        return false;
    }
    if (sn->l1_size &&
        (sn->l1_table_offset % img->cluster_size ||
         !qcow2_range_within(sn->l1_table_offset, (uint64_t)sn->l1_size * 8,
                             img->header.file_size))) {
        qcow2_error(errp, img, QCOW2_ERROR_SNAPSHOT_TABLE, what,
                    sn->table_offset,
                    "L1 table at 0x%" PRIx64 " (%" PRIu32
                    " entries) is misaligned or past the end of the file "
                    "(0x%" PRIx64 " bytes)",
                    sn->l1_table_offset, sn->l1_size, img->header.file_size);
        return false;
    }
    if (sn->disk_size > INT64_MAX ||
        !vmstate_base_for(img, sn->disk_size, &base) ||
        sn->vm_state_size > (UINT64_C(1) << 62) - base) {
        qcow2_error(errp, img, QCOW2_ERROR_SNAPSHOT_TABLE, what,
                    sn->table_offset,
                    "impossible sizes: disk %" PRIu64
                    " bytes, VM state %" PRIu64 " bytes",
                    sn->disk_size, sn->vm_state_size);
        return false;
    }
    return true;
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

    if (!qcow2_range_within(at, QCOW2_SNAPSHOT_FIXED_SIZE, tr->limit)) {
        qcow2_error(errp, img, QCOW2_ERROR_SNAPSHOT_TABLE, what, file_at,
                    "runs past the end of the %s",
                    tr->limit == QCOW2_MAX_SNAPSHOT_TABLE_BYTES
                        ? "64 MiB table limit"
                        : "file");
        return false;
    }
    if (!table_ensure(tr, at + QCOW2_SNAPSHOT_FIXED_SIZE, errp)) {
        return false;
    }
    e = tr->data + at;
    sn->index = i;
    sn->table_offset = file_at;
    sn->l1_table_offset = qcow2_be64(e);
    sn->l1_size = qcow2_be32(e + 8);
    id_len = qcow2_be16(e + 12);
    name_len = qcow2_be16(e + 14);
    sn->date_sec = qcow2_be32(e + 16);
    sn->date_nsec = qcow2_be32(e + 20);
    sn->vm_clock_nsec = qcow2_be64(e + 24);
    sn->vm_state_size32 = qcow2_be32(e + 32);
    sn->extra_data_size = qcow2_be32(e + 36);
    if (sn->extra_data_size > QCOW2_MAX_SNAPSHOT_EXTRA) {
        qcow2_error(errp, img, QCOW2_ERROR_SNAPSHOT_TABLE, what, file_at,
                    "%" PRIu32 " bytes of extra data (QEMU allows %u)",
                    sn->extra_data_size, QCOW2_MAX_SNAPSHOT_EXTRA);
        return false;
    }
    end = at + QCOW2_SNAPSHOT_FIXED_SIZE + sn->extra_data_size + id_len +
          name_len;
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
    e = tr->data + at + QCOW2_SNAPSHOT_FIXED_SIZE;
    sn->extra_data = g_memdup2(e, sn->extra_data_size);
    e += sn->extra_data_size;
    sn->id = g_strndup((const char *)e, id_len);
    e += id_len;
    sn->name = g_strndup((const char *)e, name_len);
    parse_extra(img, sn);
    *pos = end;
    return check_entry(img, i, sn, errp);
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

uint64_t qcow2_vmstate_base(const Qcow2Image *img, const Qcow2Snapshot *snap)
{
    uint64_t base = 0;

    /* Checked at open (check_entry), so this cannot fail here. */
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
    uint32_t extra = qcow2_be32(e + 36);
    uint16_t id_len = qcow2_be16(e + 12), name_len = qcow2_be16(e + 14);
    uint8_t known[QCOW2_SNAPSHOT_QEMU_EXTRA];
    g_autofree uint8_t *names = NULL;
    uint8_t fixed[QCOW2_SNAPSHOT_FIXED_SIZE];

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
    qcow2_put_be64(known, qcow2_be32(e + 32));
    qcow2_put_be64(known + 8, img->header.size);
    qcow2_put_be64(known + 16, UINT64_MAX);
    memcpy(known, e + QCOW2_SNAPSHOT_FIXED_SIZE,
           MIN(extra, QCOW2_SNAPSHOT_QEMU_EXTRA));
    memcpy(fixed, e, sizeof(fixed));
    qcow2_put_be32(fixed + 36, (uint32_t)(sizeof(known) + x->len));
    names = g_memdup2(e + QCOW2_SNAPSHOT_FIXED_SIZE + extra,
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
