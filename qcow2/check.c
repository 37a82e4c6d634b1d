/*
 * The consistency check, what qemu-img check does but read-only: every
 * reference the image's tables make is counted per host cluster and then
 * compared with the cluster's refcount. On the way every structure is
 * checked for alignment, bounds and reserved bits, and every cluster
 * collects the roles it is used in, so that a cluster used as two
 * different things (an L2 table that an L2 entry also maps as data, a
 * refcount block inside VM state data) is found even where its refcount
 * happens to match its references.
 *
 * Order:
 *   1. the fixed structures: header cluster, active and snapshot L1
 *      tables, snapshot table, refcount table;
 *   2. the refcount blocks (kept in memory for steps 4 and 5);
 *   3. bitmap directory, bitmap tables and their data, the LUKS header;
 *   4. every distinct L2 table once, in file order, its references
 *      counted once per L1 entry that points at it (refcounts count
 *      paths); COPIED flags of the tables the active L1 reaches;
 *   5. references against refcounts for every cluster: fewer refcounts
 *      than references is corruption, more is a leak; then the COPIED
 *      flags found wrong in 4 (a wrong refcount is the likelier cause,
 *      so it is named first).
 * A problem is counted and described, and the walk goes on, so that one
 * run finds everything (as qemu-img check does); only an I/O error or
 * cancellation stops it.
 *
 * Memory: 5 bytes per cluster of the file, plus the refcount blocks.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "qcow2-internal.h"

#define MAX_DESCRIBED 100

/* What a cluster is used as (bits). */
enum {
    ROLE_HEADER = 1 << 0,
    ROLE_L1 = 1 << 1,
    ROLE_L2 = 1 << 2,
    ROLE_DATA = 1 << 3,
    ROLE_REFTABLE = 1 << 4,
    ROLE_REFBLOCK = 1 << 5,
    ROLE_SNAPTABLE = 1 << 6,
    ROLE_OTHER = 1 << 7, /* bitmaps, LUKS header */
};

/* An L2 table and the L1 entries that point at it. */
typedef struct L2Use {
    uint64_t offset;
    uint64_t where; /* the first L1 entry, for messages */
    uint32_t paths; /* L1 entries pointing at it */
    bool active;    /* the active L1 is one of them */
} L2Use;

/* A COPIED flag that does not say "refcount 1". */
typedef struct CopiedProblem {
    const char *structure;
    uint64_t where;
    bool set;
    uint64_t target, refcount;
} CopiedProblem;

typedef struct Check {
    Qcow2Image *img;
    const volatile sig_atomic_t *cancel;
    Qcow2CheckReport *rep;
    uint64_t cs;
    uint32_t bits;
    uint64_t n;     /* clusters counted: the file's, and one past it */
    uint8_t *roles; /* per cluster */
    uint8_t **blocks;
    uint64_t n_blocks;
    GHashTable *l2s; /* offset -> L2Use */
    GArray *copied;  /* CopiedProblem */
    bool count_only; /* references only: no refcount is read */
    guint described[2];
} Check;

static const char *role_name(unsigned role)
{
    switch (role) {
    case ROLE_HEADER:
        return "the header cluster";
    case ROLE_L1:
        return "an L1 table";
    case ROLE_L2:
        return "an L2 table";
    case ROLE_DATA:
        return "data";
    case ROLE_REFTABLE:
        return "the refcount table";
    case ROLE_REFBLOCK:
        return "a refcount block";
    case ROLE_SNAPTABLE:
        return "the snapshot table";
    default:
        return "bitmap or encryption metadata";
    }
}

static void add_problem(Check *c, Qcow2CheckSeverity sev, const char *structure,
                        uint64_t offset, char *message)
{
    Qcow2CheckProblem *p;

    if (sev == QCOW2_CHECK_CORRUPTION) {
        c->rep->corruptions++;
    } else {
        c->rep->leaks++;
    }
    if (c->described[sev]++ >= MAX_DESCRIBED) {
        g_free(message);
        return;
    }
    p = g_new0(Qcow2CheckProblem, 1);
    p->severity = sev;
    p->structure = structure;
    p->offset = offset;
    p->message = message;
    g_ptr_array_add(c->rep->problems, p);
}

static void problem(Check *c, Qcow2CheckSeverity sev, const char *structure,
                    uint64_t offset, const char *fmt, ...) G_GNUC_PRINTF(5, 6);

static void problem(Check *c, Qcow2CheckSeverity sev, const char *structure,
                    uint64_t offset, const char *fmt, ...)
{
    g_autofree char *what = NULL;
    GError *err = NULL;
    va_list ap;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    qcow2_error(&err, c->img, QCOW2_ERROR_INCONSISTENT, structure, offset, "%s",
                what);
    add_problem(c, sev, structure, offset, g_strdup(err->message));
    g_error_free(err);
}

static void problem_from(Check *c, const char *structure, uint64_t offset,
                         GError *err)
{
    add_problem(c, QCOW2_CHECK_CORRUPTION, structure, offset,
                g_strdup(err->message));
    g_error_free(err);
}

static bool cancelled(const Check *c, GError **errp)
{
    if (c->cancel && *c->cancel) {
        qcow2_error(errp, c->img, QCOW2_ERROR_CANCELLED, NULL, 0,
                    "interrupted while checking the image (nothing written)");
        return true;
    }
    return false;
}

/*
 * Count paths references to every cluster [off, off + len) touches, used
 * as role; referrer/where name what points there. False (and a problem)
 * when the range is not in the file: QEMU's check tolerates a last
 * cluster that the file ends inside, nothing more.
 */
static bool add_ref(Check *c, uint64_t off, uint64_t len, unsigned role,
                    uint32_t paths, const char *referrer, uint64_t where)
{
    uint64_t size = c->img->header.file_size;

    if (!len) {
        return true;
    }
    if (off > size + c->cs || len > size + c->cs - off) {
        problem(c, QCOW2_CHECK_CORRUPTION, referrer, where,
                "%s at 0x%" PRIx64 " (%" PRIu64 " bytes) lies past the end "
                "of the file (0x%" PRIx64 " bytes)",
                role_name(role), off, len, size);
        return false;
    }
    for (uint64_t k = off >> c->bits; k <= (off + len - 1) >> c->bits; k++) {
        uint8_t other = c->roles[k] & ~role;
        uint32_t *refs = &c->rep->cluster_references[k];

        if (other) {
            problem(c, QCOW2_CHECK_CORRUPTION, referrer, where,
                    "%s at 0x%" PRIx64 " is also used as %s", role_name(role),
                    k << c->bits, role_name(1u << g_bit_nth_lsf(other, -1)));
        }
        c->roles[k] |= (uint8_t)role;
        *refs = *refs > UINT32_MAX - paths ? UINT32_MAX : *refs + paths;
    }
    return true;
}

/* The refcount the image records for cluster k. */
static uint64_t stored_refcount(const Check *c, uint64_t k)
{
    uint64_t ti = k >> c->img->refcount_block_bits;

    if (ti >= c->n_blocks || !c->blocks[ti]) {
        return 0;
    }
    return qcow2_refcount_entry_get(
        c->blocks[ti], c->img->header.refcount_order,
        k & ((1ULL << c->img->refcount_block_bits) - 1));
}

/* The L2 tables an L1 table points at, with the number of paths. */
static void collect_l2s(Check *c, const Qcow2L1 *l1, bool active)
{
    for (uint32_t i = 0; i < l1->size; i++) {
        uint64_t e = l1->entries[i];
        uint64_t l2 = e & QCOW2_L1E_OFFSET_MASK;
        uint64_t where = qcow2_entry_offset(l1->offset, i);
        L2Use *u;

        if (e & QCOW2_L1E_RESERVED_MASK) {
            problem(c, QCOW2_CHECK_CORRUPTION, "L1 entry", where,
                    "reserved bits set in 0x%016" PRIx64, e);
            continue;
        }
        if (!l2) {
            continue;
        }
        if (l2 % c->cs) {
            problem(c, QCOW2_CHECK_CORRUPTION, "L1 entry", where,
                    "L2 table offset 0x%" PRIx64 " is not cluster aligned", l2);
            continue;
        }
        u = g_hash_table_lookup(c->l2s, &l2);
        if (!u) {
            u = g_new0(L2Use, 1);
            u->offset = l2;
            u->where = where;
            g_hash_table_insert(c->l2s, &u->offset, u);
        }
        u->paths++;
        u->active |= active;
    }
}

static bool check_l1(Check *c, const Qcow2Snapshot *sn, GError **errp)
{
    const Qcow2L1 *l1;
    const char *referrer = sn ? "snapshot table entry" : "header";
    uint64_t where = sn ? sn->table_offset : QCOW2_HDR(l1_table_offset);

    if (sn && sn->l1_unusable) {
        /* As qemu-img check, which cannot follow such a table either. */
        add_problem(c, QCOW2_CHECK_CORRUPTION, referrer, where,
                    g_strdup(sn->error));
        return true;
    }
    if (sn && c->img->header.version >= 3 &&
        !QCOW2_SNAPSHOT_EXTRA_HAS(sn->extra_data_size, disk_size)) {
        problem(c, QCOW2_CHECK_CORRUPTION, referrer, where,
                "incomplete: %" PRIu32 " bytes of extra data (a version 3 "
                "image needs the VM state and disk sizes)",
                sn->extra_data_size);
    }
    if (!qcow2_get_l1(c->img, sn, &l1, errp)) {
        return false;
    }
    if (add_ref(c, l1->offset, qcow2_table_bytes(l1->size), ROLE_L1, 1,
                referrer, where)) {
        collect_l2s(c, l1, !sn);
    }
    return true;
}

static bool load_refcount_blocks(Check *c, GError **errp)
{
    Qcow2Image *img = c->img;

    if (!qcow2_load_refcount_table(img, errp)) {
        return false;
    }
    c->n_blocks = img->refcount_table_entries;
    c->blocks = g_new0(uint8_t *, MAX(c->n_blocks, 1));
    for (uint64_t i = 0; i < c->n_blocks; i++) {
        uint64_t e = img->refcount_table[i];
        uint64_t off = e & QCOW2_REFT_OFFSET_MASK;
        uint64_t where =
            qcow2_entry_offset(img->header.refcount_table_offset, i);

        if (!e) {
            continue;
        }
        if ((e & ~QCOW2_REFT_OFFSET_MASK) || off % c->cs) {
            problem(c, QCOW2_CHECK_CORRUPTION, "refcount table entry", where,
                    "refcount block 0x%016" PRIx64 " is not cluster aligned "
                    "(or has reserved bits)",
                    e);
            continue;
        }
        if (off + c->cs > img->header.file_size) {
            problem(c, QCOW2_CHECK_CORRUPTION, "refcount table entry", where,
                    "refcount block at 0x%" PRIx64 " is past the end of the "
                    "file (0x%" PRIx64 " bytes)",
                    off, img->header.file_size);
            continue;
        }
        add_ref(c, off, c->cs, ROLE_REFBLOCK, 1, "refcount table entry", where);
        if (c->count_only) {
            continue;
        }
        c->blocks[i] = g_malloc(c->cs);
        if (!qcow2_pread(img, c->blocks[i], c->cs, off, errp)) {
            return false;
        }
    }
    return true;
}

/* One bitmap's table and the data clusters it maps. */
static bool check_bitmap_table(Check *c, uint64_t entry_at, uint64_t off,
                               uint32_t size, GError **errp)
{
    const uint64_t reserved = 0xff000000000001feULL;
    g_autofree uint64_t *t = NULL;

    if (off % c->cs || qcow2_table_bytes(size) > QCOW2_MAX_L1_BYTES ||
        !add_ref(c, off, qcow2_table_bytes(size), ROLE_OTHER, 1,
                 "bitmap directory entry", entry_at)) {
        if (off % c->cs) {
            problem(c, QCOW2_CHECK_CORRUPTION, "bitmap directory entry",
                    entry_at, "bitmap table at 0x%" PRIx64 " is misaligned",
                    off);
        }
        return true;
    }
    t = g_new(uint64_t, MAX(size, 1));
    if (size && !qcow2_pread(c->img, t, qcow2_table_bytes(size), off, errp)) {
        return false;
    }
    qcow2_table_from_disk(t, size);
    for (uint32_t i = 0; i < size; i++) {
        uint64_t data = t[i] & QCOW2_L1E_OFFSET_MASK;
        uint64_t where = qcow2_entry_offset(off, i);

        if (t[i] & reserved) {
            problem(c, QCOW2_CHECK_CORRUPTION, "bitmap table entry", where,
                    "reserved bits set in 0x%016" PRIx64, t[i]);
        } else if (data) {
            add_ref(c, data, c->cs, ROLE_OTHER, 1, "bitmap table entry", where);
        }
    }
    return true;
}

static bool check_bitmaps(Check *c, GError **errp)
{
    Qcow2Image *img = c->img;
    uint64_t dir = img->bitmap_directory_offset;
    uint64_t len = img->bitmap_directory_size;
    g_autofree uint8_t *d = NULL;

    if (!img->header.nb_bitmaps || !len) {
        return true;
    }
    if (!add_ref(c, dir, len, ROLE_OTHER, 1, "bitmaps extension", 0)) {
        return true;
    }
    d = g_malloc(len);
    if (!qcow2_pread(img, d, len, dir, errp)) {
        return false;
    }
    for (uint64_t pos = 0, n = 0; n < img->header.nb_bitmaps; n++) {
        const uint8_t *e = d + pos;
        uint64_t entry_len;

        if (pos + sizeof(Qcow2DiskBitmapEntry) > len) {
            problem(c, QCOW2_CHECK_CORRUPTION, "bitmap directory", dir,
                    "entry %" PRIu64 " runs past the directory", n);
            break;
        }
        entry_len = sizeof(Qcow2DiskBitmapEntry) +
                    QCOW2_GET(e, Qcow2DiskBitmapEntry, extra_data_size) +
                    QCOW2_GET(e, Qcow2DiskBitmapEntry, name_size);
        if (!check_bitmap_table(
                c, dir + pos,
                QCOW2_GET(e, Qcow2DiskBitmapEntry, bitmap_table_offset),
                (uint32_t)QCOW2_GET(e, Qcow2DiskBitmapEntry, bitmap_table_size),
                errp)) {
            return false;
        }
        pos += (entry_len + 7) & ~7ULL;
    }
    return true;
}

/* COPIED of an active entry must say "refcount is 1" (qemu-img check). */
static void check_copied(Check *c, const char *structure, uint64_t where,
                         uint64_t entry, uint64_t target)
{
    uint64_t rc = stored_refcount(c, target >> c->bits);
    bool copied = entry & QCOW2_OFLAG_COPIED;

    if (copied != (rc == 1)) {
        CopiedProblem cp = {structure, where, copied, target, rc};

        /* Reported after the refcounts: a wrong refcount explains it. */
        g_array_append_val(c->copied, cp);
    }
}

static void report_copied(Check *c)
{
    for (guint i = 0; i < c->copied->len; i++) {
        const CopiedProblem *cp = &g_array_index(c->copied, CopiedProblem, i);

        problem(c, QCOW2_CHECK_CORRUPTION, cp->structure, cp->where,
                "COPIED flag %s but cluster 0x%" PRIx64
                " has refcount %" PRIu64,
                cp->set ? "set" : "clear", cp->target, cp->refcount);
    }
}

static void check_l2_entry(Check *c, const L2Use *u, uint64_t word,
                           uint64_t bitmap, uint64_t where)
{
    Qcow2Image *img = c->img;
    bool data_file =
        img->header.incompatible_features & QCOW2_INCOMPAT_DATA_FILE;
    GError *err = NULL;
    Qcow2Mapping m;

    if ((word & QCOW2_OFLAG_COMPRESSED) && (word & QCOW2_OFLAG_COPIED)) {
        problem(c, QCOW2_CHECK_CORRUPTION, "L2 entry", where,
                "compressed cluster with the COPIED flag (0x%016" PRIx64 ")",
                word);
        return;
    }
    if (!qcow2_decode_l2_entry(img, word, bitmap, where, &m, &err)) {
        problem_from(c, "L2 entry", where, err);
        return;
    }
    if (m.kind == QCOW2_MAP_COMPRESSED) {
        /* Every host cluster the sectors touch, as QEMU counts them. */
        add_ref(c, m.host_offset & ~511ULL,
                m.compressed_length + (m.host_offset & 511), ROLE_DATA,
                u->paths, "L2 entry", where);
        return;
    }
    if (!m.host_offset || data_file) {
        return; /* nothing allocated, or not refcounted */
    }
    add_ref(c, m.host_offset, c->cs, ROLE_DATA, u->paths, "L2 entry", where);
    if (u->active && !c->count_only) {
        check_copied(c, "L2 entry", where, word, m.host_offset);
    }
}

static gint by_offset(gconstpointer a, gconstpointer b)
{
    const L2Use *x = *(L2Use *const *)a, *y = *(L2Use *const *)b;

    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* The active L1's COPIED flags (its L2 tables are checked with them). */
static void check_active_l1_copied(Check *c)
{
    const Qcow2L1 *act = &c->img->active_l1;

    for (uint32_t k = 0; k < act->size; k++) {
        uint64_t e = act->entries[k];
        uint64_t l2 = e & QCOW2_L1E_OFFSET_MASK;

        if (l2 && !(e & QCOW2_L1E_RESERVED_MASK) && !(l2 % c->cs)) {
            check_copied(c, "L1 entry", qcow2_entry_offset(act->offset, k), e,
                         l2);
        }
    }
}

/*
 * Every distinct L2 table once, in file order (sequential reads). The
 * tables are counted first, so that an entry mapping one of them as data
 * is reported at that entry.
 */
static bool check_l2_tables(Check *c, GError **errp)
{
    Qcow2Image *img = c->img;
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    g_autoptr(GPtrArray) order = g_ptr_array_new();
    GHashTableIter it;
    gpointer value;
    g_autofree uint64_t *t = g_malloc(c->cs);
    uint64_t words = img->header.extended_l2 ? 2 : 1;

    g_hash_table_iter_init(&it, c->l2s);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        g_ptr_array_add(all, value);
    }
    g_ptr_array_sort(all, by_offset);
    for (guint i = 0; i < all->len; i++) {
        const L2Use *u = g_ptr_array_index(all, i);

        if (u->offset + c->cs > img->header.file_size) {
            problem(c, QCOW2_CHECK_CORRUPTION, "L1 entry", u->where,
                    "L2 table at 0x%" PRIx64 " is past the end of the file "
                    "(0x%" PRIx64 " bytes)",
                    u->offset, img->header.file_size);
            continue;
        }
        add_ref(c, u->offset, c->cs, ROLE_L2, u->paths, "L1 entry", u->where);
        g_ptr_array_add(order, (gpointer)u);
    }
    if (!c->count_only) {
        check_active_l1_copied(c);
    }
    for (guint i = 0; i < order->len; i++) {
        const L2Use *u = g_ptr_array_index(order, i);
        const uint64_t *cached = qcow2_cache_lookup(&img->l2_cache, u->offset);

        if (cancelled(c, errp)) {
            return false;
        }
        if (cached) { /* the read path's copy, already host-endian */
            memcpy(t, cached, c->cs);
        } else if (!qcow2_pread(img, t, c->cs, u->offset, errp)) {
            return false;
        } else {
            qcow2_table_from_disk(t, c->cs / QCOW2_ENTRY_BYTES);
        }
        for (uint64_t j = 0; j < img->l2_entries; j++) {
            uint64_t word = t[j * words];
            uint64_t bitmap = words == 2 ? t[j * words + 1] : 0;

            if (word || bitmap) {
                check_l2_entry(c, u, word, bitmap,
                               u->offset + j * img->l2_entry_bytes);
            }
        }
    }
    return true;
}

/* References against refcounts, cluster by cluster. */
static void compare_refcounts(Check *c)
{
    Qcow2CheckReport *rep = c->rep;
    uint64_t last = 0;

    /* As qemu-img check: the clusters of the file, and any referenced
     * cluster that the file ends inside of. */
    for (uint64_t k = 0; k < c->n; k++) {
        uint64_t refs = rep->cluster_references[k];
        uint64_t rc = stored_refcount(c, k);

        if (k == c->n - 1 && !refs) {
            break;
        }

        rep->references += refs;
        rep->allocated_clusters += refs > 0;
        if (refs || rc) {
            last = k + 1;
        }
        if (refs > rc) {
            problem(c, QCOW2_CHECK_CORRUPTION, "cluster", k << c->bits,
                    "refcount %" PRIu64 " but %" PRIu64 " reference%s%s", rc,
                    refs, refs == 1 ? "" : "s",
                    rc ? "" : " (an allocation would overwrite it)");
        } else if (refs < rc) {
            rep->leaked_bytes += c->cs;
            problem(c, QCOW2_CHECK_LEAK, "cluster", k << c->bits,
                    "refcount %" PRIu64 " but %" PRIu64 " reference%s "
                    "(leaked)",
                    rc, refs, refs == 1 ? "" : "s");
        }
    }
    rep->image_end_offset = last << c->bits;
}

static void problem_free(gpointer p)
{
    Qcow2CheckProblem *pr = p;

    g_free(pr->message);
    g_free(pr);
}

void qcow2_check_report_free(Qcow2CheckReport *report)
{
    if (report) {
        g_ptr_array_unref(report->problems);
        g_free(report->cluster_references);
        g_free(report);
    }
}

Qcow2CheckReport *
qcow2_check(Qcow2Image *img, const volatile sig_atomic_t *cancel, GError **errp)
{
    return qcow2_check_run(img, cancel, false, errp);
}

Qcow2CheckReport *qcow2_check_run(Qcow2Image *img,
                                  const volatile sig_atomic_t *cancel,
                                  bool count_only, GError **errp)
{
    const Qcow2Header *h = &img->header;
    Qcow2CheckReport *rep = g_new0(Qcow2CheckReport, 1);
    Check c = {
        .img = img,
        .cancel = cancel,
        .rep = rep,
        .cs = img->cluster_size,
        .bits = h->cluster_bits,
        .l2s = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free),
        .copied = g_array_new(false, false, sizeof(CopiedProblem)),
        .count_only = count_only,
    };
    bool ok;

    c.n = (h->file_size + c.cs - 1) / c.cs + 1;
    rep->image = img;
    rep->generation = img->generation;
    rep->counted_only = count_only;
    rep->problems = g_ptr_array_new_with_free_func(problem_free);
    rep->cluster_references = g_new0(uint32_t, c.n);
    rep->n_clusters = c.n;
    c.roles = g_malloc0(c.n);

    add_ref(&c, 0, c.cs, ROLE_HEADER, 1, "header", 0);
    ok = check_l1(&c, NULL, errp);
    for (guint i = 0; ok && i < img->nb_snapshots; i++) {
        ok = check_l1(&c, &img->snapshots[i], errp);
    }
    if (ok) {
        add_ref(&c, h->snapshots_offset, img->snapshot_table_length,
                ROLE_SNAPTABLE, 1, "header", QCOW2_HDR(snapshots_offset));
        add_ref(&c, h->refcount_table_offset,
                (uint64_t)h->refcount_table_clusters * c.cs, ROLE_REFTABLE, 1,
                "header", QCOW2_HDR(refcount_table_offset));
        ok = load_refcount_blocks(&c, errp) && check_bitmaps(&c, errp);
    }
    if (ok) {
        add_ref(&c, img->crypto_offset, img->crypto_length, ROLE_OTHER, 1,
                "encryption extension", 0);
        ok = check_l2_tables(&c, errp);
    }
    if (ok && !count_only) {
        compare_refcounts(&c);
        report_copied(&c);
    }
    for (uint64_t i = 0; i < c.n_blocks; i++) {
        g_free(c.blocks[i]);
    }
    g_free(c.blocks);
    g_free(c.roles);
    g_hash_table_destroy(c.l2s);
    g_array_free(c.copied, true);
    if (!ok) {
        qcow2_check_report_free(rep);
        return NULL;
    }
    return rep;
}

bool qcow2_check_report_current(const Qcow2Image *img,
                                const Qcow2CheckReport *report)
{
    return report && report->image == img &&
           report->generation == img->generation && !report->counted_only &&
           report->cluster_references;
}

bool qcow2_check_report_ok(const Qcow2Image *img,
                           const Qcow2CheckReport *report, GError **errp)
{
    const Qcow2CheckProblem *first = NULL;

    if (!report->corruptions) {
        return true;
    }
    for (guint i = 0; i < report->problems->len && !first; i++) {
        const Qcow2CheckProblem *p = g_ptr_array_index(report->problems, i);
        if (p->severity == QCOW2_CHECK_CORRUPTION) {
            first = p;
        }
    }
    g_set_error(errp, QCOW2_ERROR, QCOW2_ERROR_INCONSISTENT,
                "%s (%" PRIu64 " problem%s found by the consistency check; "
                "nothing was written); run: qemu-img check -r all %s",
                first ? first->message : img->name, report->corruptions,
                report->corruptions == 1 ? "" : "s", img->name);
    return false;
}
