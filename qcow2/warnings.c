/*
 * Warnings of the read path: a VM state read that lands on a cluster the
 * image uses as metadata (a refcount block, an L2 table). QEMU's loadvm
 * reads the same bytes without a word, so the read goes on and returns
 * them, as QEMU would; but the image is damaged and the caller should say
 * so. The library never prints: warnings are collected on the image and
 * taken by the caller (qcow2_take_warnings).
 *
 * The metadata known here is what is cheap to know: the refcount blocks
 * (from the refcount table) and the L2 tables every usable L1 table points
 * at (the L1 tables are small; no L2 table is read for this). The fixed
 * structures (header, L1 tables, refcount and snapshot tables) are not
 * listed: the read path refuses data there outright.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>

#include "qcow2-internal.h"

#define MAX_WARNINGS 20

/* What a metadata cluster is, for the message. */
typedef struct KnownMeta {
    const char *what; /* "a refcount block", "an L2 table" */
    const char *referrer;
    uint64_t where; /* the entry that points at it */
} KnownMeta;

static void remember(GHashTable *known, uint64_t cluster, const char *what,
                     const char *referrer, uint64_t where)
{
    KnownMeta *k;

    if (g_hash_table_contains(known, &cluster)) {
        return;
    }
    k = g_new(KnownMeta, 1);
    *k = (KnownMeta){what, referrer, where};
    g_hash_table_insert(known, g_memdup2(&cluster, sizeof(cluster)), k);
}

static void remember_l2_tables(Qcow2Image *img, GHashTable *known,
                               const Qcow2Snapshot *sn)
{
    const Qcow2L1 *l1;

    if (!qcow2_get_l1(img, sn, &l1, NULL)) {
        return; /* unreadable: the read path reports that itself */
    }
    for (uint32_t i = 0; i < l1->size; i++) {
        uint64_t l2 = l1->entries[i] & QCOW2_L1E_OFFSET_MASK;

        if (l2) {
            remember(known, l2 >> img->header.cluster_bits, "an L2 table",
                     "L1 entry", qcow2_entry_offset(l1->offset, i));
        }
    }
}

/* Built on the first VM state read that maps a host cluster. */
static GHashTable *known_metadata(Qcow2Image *img)
{
    GHashTable *known;

    if (img->known_meta) {
        return img->known_meta;
    }
    known = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    if (qcow2_load_refcount_table(img, NULL)) {
        for (uint64_t i = 0; i < img->refcount_table_entries; i++) {
            uint64_t b = img->refcount_table[i] & QCOW2_REFT_OFFSET_MASK;

            if (b) {
                remember(
                    known, b >> img->header.cluster_bits, "a refcount block",
                    "refcount table entry",
                    qcow2_entry_offset(img->header.refcount_table_offset, i));
            }
        }
    }
    remember_l2_tables(img, known, NULL);
    for (guint i = 0; i < img->nb_snapshots; i++) {
        if (!img->snapshots[i].l1_unusable) {
            remember_l2_tables(img, known, &img->snapshots[i]);
        }
    }
    img->known_meta = known;
    return known;
}

static void warn(Qcow2Image *img, const Qcow2Snapshot *sn, uint64_t vm_offset,
                 uint64_t cluster, const KnownMeta *k)
{
    if (!img->warnings) {
        img->warnings = g_ptr_array_new_with_free_func(g_free);
    }
    if (img->warnings->len == MAX_WARNINGS) {
        g_ptr_array_add(img->warnings,
                        g_strdup_printf("%s: more VM state reads land on "
                                        "metadata (not listed)",
                                        img->name));
    }
    if (img->warnings->len > MAX_WARNINGS) {
        return;
    }
    g_ptr_array_add(
        img->warnings,
        g_strdup_printf("%s: snapshot %s \"%s\": VM state bytes at %" PRIu64
                        " are read from cluster 0x%" PRIx64
                        ", which is %s (%s at 0x%" PRIx64
                        "): the image is damaged (QEMU reads the same "
                        "bytes); run: qemu-img check %s",
                        img->name, sn->id, sn->name, vm_offset,
                        cluster << img->header.cluster_bits, k->what,
                        k->referrer, k->where, img->name));
}

void qcow2_warn_if_metadata(Qcow2Image *img, const Qcow2Snapshot *sn,
                            uint64_t vm_offset, const Qcow2Mapping *m)
{
    uint32_t bits = img->header.cluster_bits;
    uint64_t len = m->kind == QCOW2_MAP_COMPRESSED ? m->compressed_length : 1;
    GHashTable *known;

    if (!img->collect_warnings ||
        (m->kind != QCOW2_MAP_NORMAL && m->kind != QCOW2_MAP_COMPRESSED) ||
        m->in_data_file || !m->host_offset) {
        return;
    }
    known = known_metadata(img);
    for (uint64_t c = m->host_offset >> bits;
         c <= (m->host_offset + len - 1) >> bits; c++) {
        const KnownMeta *k = g_hash_table_lookup(known, &c);

        if (!k) {
            continue;
        }
        if (!img->warned) {
            img->warned = g_hash_table_new_full(g_int64_hash, g_int64_equal,
                                                g_free, NULL);
        }
        if (!g_hash_table_contains(img->warned, &c)) {
            g_hash_table_add(img->warned, g_memdup2(&c, sizeof(c)));
            warn(img, sn, vm_offset, c, k);
        }
    }
}

void qcow2_collect_warnings(Qcow2Image *img, bool on)
{
    img->collect_warnings = on;
}

GPtrArray *qcow2_take_warnings(Qcow2Image *img)
{
    return g_steal_pointer(&img->warnings);
}

void qcow2_forget_warnings_state(Qcow2Image *img)
{
    g_clear_pointer(&img->known_meta, g_hash_table_destroy);
    g_clear_pointer(&img->warned, g_hash_table_destroy);
}
