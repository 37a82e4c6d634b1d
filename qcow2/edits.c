/*
 * The edit map: the new VM state described as a sequence of segments,
 * each either old bytes (from some old offset) or bytes of an edit. From
 * it follow the new size, the content of any new cluster, and which
 * clusters can stay as they are: those made only of old bytes that did
 * not move (before the first length-changing edit, away from edits).
 *
 * Old bytes are read through a window of a few clusters that moves
 * forward with the stream, so memory does not depend on the VM state
 * size.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "write-internal.h"

#define WINDOW_BYTES (1u << 20)

static bool check_edits(const Qcow2Image *img, const Qcow2Snapshot *snap,
                        const Qcow2Edit *edits, size_t n_edits,
                        uint64_t *new_size, GError **errp)
{
    uint64_t old_size = snap->vm_state_size;
    uint64_t cursor = 0, size = old_size;
    uint64_t limit = (UINT64_C(1) << 62) - qcow2_vmstate_base(img, snap);

    for (size_t i = 0; i < n_edits; i++) {
        const Qcow2Edit *e = &edits[i];

        if (e->offset < cursor) {
            qcow2_error(errp, img, QCOW2_ERROR_INVALID, NULL, 0,
                        "edit %zu at %" PRIu64
                        " overlaps the one before or is out of order (edits "
                        "must be sorted and must not overlap)",
                        i, e->offset);
            return false;
        }
        if (e->offset > old_size || e->old_length > old_size - e->offset) {
            qcow2_error(errp, img, QCOW2_ERROR_INVALID, NULL, 0,
                        "edit %zu replaces [%" PRIu64 ", +%" PRIu64
                        ") but the VM state of snapshot %s has %" PRIu64
                        " bytes",
                        i, e->offset, e->old_length, snap->id, old_size);
            return false;
        }
        if (e->length && !e->data) {
            qcow2_error(errp, img, QCOW2_ERROR_INVALID, NULL, 0,
                        "edit %zu has %zu bytes but no data", i, e->length);
            return false;
        }
        cursor = e->offset + e->old_length;
        size -= e->old_length;
        if (e->length > limit || size > limit - e->length) {
            qcow2_error(errp, img, QCOW2_ERROR_INVALID, NULL, 0,
                        "the edited VM state would be too large");
            return false;
        }
        size += e->length;
    }
    *new_size = size;
    return true;
}

static void add_segment(GArray *segs, uint64_t new_start, uint64_t length,
                        uint64_t old_start, const uint8_t *data)
{
    Qcow2Segment s = {new_start, length, old_start, data};

    if (length) {
        g_array_append_val(segs, s);
    }
}

/* Append [start, end) to the sorted dirty ranges, merging neighbours. */
static void add_dirty(GArray *dirty, uint64_t start, uint64_t end)
{
    if (start >= end) {
        return;
    }
    if (dirty->len) {
        uint64_t *last = &g_array_index(dirty, uint64_t, dirty->len - 1);
        if (start <= *last) {
            *last = MAX(*last, end);
            return;
        }
    }
    g_array_append_val(dirty, start);
    g_array_append_val(dirty, end);
}

bool qcow2_editmap_build(Qcow2EditMap *m, const Qcow2Image *img,
                         const Qcow2Snapshot *snap, const Qcow2Edit *edits,
                         size_t n_edits, GError **errp)
{
    uint64_t cs = img->cluster_size;
    GArray *segs = g_array_new(false, false, sizeof(Qcow2Segment));
    uint64_t cursor = 0, pos = 0, new_clusters, old_clusters;

    memset(m, 0, sizeof(*m));
    m->cluster_size = cs;
    m->old_size = snap->vm_state_size;
    if (!check_edits(img, snap, edits, n_edits, &m->new_size, errp)) {
        g_array_free(segs, true);
        return false;
    }
    for (size_t i = 0; i < n_edits; i++) {
        const Qcow2Edit *e = &edits[i];

        add_segment(segs, pos, e->offset - cursor, cursor, NULL);
        pos += e->offset - cursor;
        add_segment(segs, pos, e->length, 0, e->data);
        pos += e->length;
        cursor = e->offset + e->old_length;
    }
    add_segment(segs, pos, m->old_size - cursor, cursor, NULL);
    m->n_seg = segs->len;
    m->seg = (Qcow2Segment *)g_array_free(segs, false);

    m->dirty = g_array_new(false, false, sizeof(uint64_t));
    for (size_t i = 0; i < m->n_seg; i++) {
        const Qcow2Segment *s = &m->seg[i];
        if (s->data || s->old_start != s->new_start) {
            add_dirty(m->dirty, s->new_start / cs,
                      (s->new_start + s->length + cs - 1) / cs);
        }
    }
    new_clusters = (m->new_size + cs - 1) / cs;
    old_clusters = (m->old_size + cs - 1) / cs;
    add_dirty(m->dirty, new_clusters, old_clusters);
    return true;
}

void qcow2_editmap_destroy(Qcow2EditMap *m)
{
    g_free(m->seg);
    if (m->dirty) {
        g_array_free(m->dirty, true);
    }
    memset(m, 0, sizeof(*m));
}

/* Index of the first dirty range ending after cluster. */
static guint first_range_after(const Qcow2EditMap *m, uint64_t cluster)
{
    guint lo = 0, hi = m->dirty->len / 2;

    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        if (g_array_index(m->dirty, uint64_t, 2 * mid + 1) <= cluster) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

bool qcow2_editmap_any_dirty(const Qcow2EditMap *m, uint64_t first,
                             uint64_t last)
{
    guint i = first_range_after(m, first);

    return i < m->dirty->len / 2 &&
           g_array_index(m->dirty, uint64_t, 2 * i) <= last;
}

bool qcow2_editmap_dirty(const Qcow2EditMap *m, uint64_t cluster)
{
    return qcow2_editmap_any_dirty(m, cluster, cluster);
}

void qcow2_old_reader_init(Qcow2OldReader *rd, uint64_t cluster_size)
{
    memset(rd, 0, sizeof(*rd));
    rd->cap = MAX((uint64_t)WINDOW_BYTES, 2 * cluster_size);
}

void qcow2_old_reader_destroy(Qcow2OldReader *rd)
{
    g_free(rd->buf);
    memset(rd, 0, sizeof(*rd));
}

static bool window_has(const Qcow2OldReader *rd, uint64_t guest, size_t len)
{
    return rd->buf && guest >= rd->start && guest - rd->start <= rd->len &&
           len <= rd->len - (guest - rd->start);
}

bool qcow2_old_read(Qcow2Image *img, const Qcow2Snapshot *snap,
                    Qcow2OldReader *rd, const Qcow2OldReader *near,
                    uint64_t guest, uint8_t *dst, size_t len, GError **errp)
{
    uint64_t start = guest & ~(img->cluster_size - 1);

    if (near && window_has(near, guest, len)) {
        memcpy(dst, near->buf + (guest - near->start), len);
        return true;
    }
    if (!window_has(rd, guest, len)) {
        /* Up to the end of the old VM state, not past it: a window over
         * the tail of a small VM state reads (and zeroes) only that. */
        uint64_t cs = img->cluster_size;
        uint64_t end = qcow2_vmstate_base(img, snap) + snap->vm_state_size;
        uint64_t need = (guest - start + len + cs - 1) / cs * cs;
        uint64_t want = end > start ? (end - start + cs - 1) / cs * cs : 0;
        uint64_t n = MIN(rd->cap, MAX(need, want));

        g_assert(guest - start + len <= rd->cap);
        if (!rd->buf) {
            rd->buf = g_malloc(rd->cap);
        }
        rd->len = 0;
        if (!qcow2_read_guest(img, snap, start, rd->buf, n, errp)) {
            return false;
        }
        rd->start = start;
        rd->len = n;
    }
    memcpy(dst, rd->buf + (guest - rd->start), len);
    return true;
}

/* The segment containing new offset pos. */
static size_t find_segment(const Qcow2EditMap *m, uint64_t pos)
{
    size_t lo = 0, hi = m->n_seg;

    while (lo + 1 < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->seg[mid].new_start <= pos) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return lo;
}

bool qcow2_editmap_old_range(const Qcow2EditMap *m, uint64_t new_off,
                             uint64_t len, uint64_t *old_off)
{
    const Qcow2Segment *s;

    if (!m->n_seg || new_off + len > m->new_size) {
        return false;
    }
    s = &m->seg[find_segment(m, new_off)];
    if (s->data || new_off + len > s->new_start + s->length) {
        return false;
    }
    *old_off = s->old_start + (new_off - s->new_start);
    return true;
}

bool qcow2_editmap_fill(const Qcow2EditMap *m, Qcow2Image *img,
                        const Qcow2Snapshot *snap, Qcow2OldReader *rd,
                        uint64_t new_off, uint8_t *dst, size_t len,
                        GError **errp)
{
    uint64_t base = qcow2_vmstate_base(img, snap);
    uint64_t end = new_off + len;

    g_assert(end <= m->new_size);
    for (size_t i = find_segment(m, new_off); new_off < end; i++) {
        const Qcow2Segment *s = &m->seg[i];
        uint64_t in = new_off - s->new_start;
        size_t n = (size_t)MIN(s->length - in, end - new_off);

        if (s->data) {
            memcpy(dst, s->data + in, n);
        } else if (!qcow2_old_read(img, snap, rd, NULL,
                                   base + s->old_start + in, dst, n, errp)) {
            return false;
        }
        dst += n;
        new_off += n;
    }
    return true;
}

bool qcow2_editmap_is_noop(const Qcow2EditMap *m, Qcow2Image *img,
                           const Qcow2Snapshot *snap, bool *noop, GError **errp)
{
    g_autofree uint8_t *old = NULL;

    *noop = false;
    if (m->new_size != m->old_size) {
        return true;
    }
    for (size_t i = 0; i < m->n_seg; i++) {
        const Qcow2Segment *s = &m->seg[i];

        if (!s->data && s->old_start == s->new_start) {
            continue;
        }
        if (!s->data) {
            return true; /* moved old bytes */
        }
        for (uint64_t off = 0; off < s->length;) {
            size_t n = (size_t)MIN(s->length - off, (uint64_t)WINDOW_BYTES);

            if (!old) {
                old = g_malloc(WINDOW_BYTES);
            }
            if (!qcow2_read_vmstate(img, snap, s->new_start + off, old, n,
                                    errp)) {
                return false;
            }
            if (memcmp(old, s->data + off, n)) {
                return true;
            }
            off += n;
        }
    }
    *noop = true;
    return true;
}
