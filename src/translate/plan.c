/*
 * Composing the rules' changes into one edit list (see plan.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "plan.h"

typedef struct Patch {
    uint64_t offset;
    uint64_t old_length;
    GBytes *data;
    TrFinding *by;
    bool is_drop; /* swallows patches inside it */
    guint seq;    /* insertion order, for a stable sort */
} Patch;

typedef struct RamOp {
    TrFinding *by;
    char *rename_to;
    bool resize;
    uint64_t new_length;
    bool drop;
    TrFinding *expand_by; /* non-zero fill pages become PAGE records */
} RamOp;

struct TrPlan {
    const VmsStream *s;
    bool pages_known;   /* the page records were read (s->pages) */
    GArray *patches;    /* Patch */
    RamOp *ram;         /* one per block */
    bool ram_changed;   /* the block list changes (and so may the chain) */
    bool pages_changed; /* page records change (fill expansion) */
    /* 4096 bytes of each fill value, shared by every page expanded */
    GBytes *fill_page[256];
};

/*
 * Adjacent edits are joined into one while the result stays this small: a
 * large edit (an expanded page) keeps its own buffer, which may be shared,
 * and joining many of them would copy the whole expansion over and over.
 */
#define COALESCE_MAX 4096

static void patch_clear(gpointer data)
{
    Patch *p = data;
    g_bytes_unref(p->data);
}

TrPlan *tr_plan_new(const VmsStream *s, bool pages_known)
{
    TrPlan *p = g_new0(TrPlan, 1);

    p->s = s;
    p->pages_known = pages_known;
    p->patches = g_array_new(FALSE, TRUE, sizeof(Patch));
    g_array_set_clear_func(p->patches, patch_clear);
    p->ram = g_new0(RamOp, s->ram_blocks->len ? s->ram_blocks->len : 1);
    return p;
}

void tr_plan_free(TrPlan *p)
{
    if (!p) {
        return;
    }
    g_array_unref(p->patches);
    for (guint i = 0; i < p->s->ram_blocks->len; i++) {
        g_free(p->ram[i].rename_to);
    }
    g_free(p->ram);
    for (guint i = 0; i < G_N_ELEMENTS(p->fill_page); i++) {
        if (p->fill_page[i]) {
            g_bytes_unref(p->fill_page[i]);
        }
    }
    g_free(p);
}

/* Takes the reference to data. */
static void add_patch_bytes(TrPlan *p, TrFinding *by, uint64_t offset,
                            uint64_t old_length, GBytes *data, bool is_drop)
{
    Patch x = {
        .offset = offset,
        .old_length = old_length,
        .data = data,
        .by = by,
        .is_drop = is_drop,
        .seq = p->patches->len,
    };
    g_array_append_val(p->patches, x);
    if (by) {
        by->n_edits++;
    }
}

static void add_patch(TrPlan *p, TrFinding *by, uint64_t offset,
                      uint64_t old_length, const void *data, size_t len,
                      bool is_drop)
{
    add_patch_bytes(p, by, offset, old_length, g_bytes_new(data, len), is_drop);
}

void tr_plan_patch(TrPlan *p, TrFinding *by, uint64_t offset,
                   uint64_t old_length, const void *data, size_t len)
{
    add_patch(p, by, offset, old_length, data, len, false);
}

void tr_plan_put(TrPlan *p, TrFinding *by, uint64_t offset, uint64_t old_length,
                 VmsBuilder *built)
{
    add_patch_bytes(p, by, offset, old_length, vms_builder_free_to_bytes(built),
                    false);
}

void tr_plan_patch_be32(TrPlan *p, TrFinding *by, uint64_t offset,
                        uint32_t value)
{
    VmsBuilder *w = vms_builder_new_memory();

    vms_builder_be32(w, value);
    tr_plan_put(p, by, offset, 4, w);
}

void tr_plan_drop(TrPlan *p, TrFinding *by, uint64_t offset, uint64_t len)
{
    add_patch(p, by, offset, len, NULL, 0, true);
}

void tr_plan_ram_rename(TrPlan *p, TrFinding *by, guint block,
                        const char *new_id)
{
    g_assert(block < p->s->ram_blocks->len);
    g_free(p->ram[block].rename_to);
    p->ram[block].rename_to = g_strdup(new_id);
    p->ram[block].by = by;
    p->ram_changed = true;
}

void tr_plan_ram_resize(TrPlan *p, TrFinding *by, guint block,
                        uint64_t new_length)
{
    g_assert(block < p->s->ram_blocks->len);
    p->ram[block].resize = true;
    p->ram[block].new_length = new_length;
    p->ram[block].by = by;
    p->ram_changed = true;
}

void tr_plan_ram_drop(TrPlan *p, TrFinding *by, guint block)
{
    g_assert(block < p->s->ram_blocks->len);
    p->ram[block].drop = true;
    p->ram[block].by = by;
    p->ram_changed = true;
}

static bool page_dropped(const TrPlan *p, const VmsPage *pg);

static bool page_expands(const TrPlan *p, const VmsPage *pg)
{
    return p->ram[pg->block].expand_by && (pg->flags & VMS_RAM_FILL) &&
           pg->fill != 0 && !page_dropped(p, pg);
}

uint64_t tr_plan_ram_expand_fills(TrPlan *p, TrFinding *by, guint block)
{
    uint64_t n = 0;

    g_assert(block < p->s->ram_blocks->len);
    p->ram[block].expand_by = by;
    p->pages_changed = true;
    for (guint i = 0; p->s->pages && i < p->s->pages->len; i++) {
        const VmsPage *pg = &g_array_index(p->s->pages, VmsPage, i);
        n += pg->block == block && page_expands(p, pg);
    }
    return n;
}

/* ---- RAM: the MEM_SIZE list and the page record chain ------------------ */

static const char *block_new_id(const TrPlan *p, guint i)
{
    const RamOp *op = &p->ram[i];
    return op->rename_to ? op->rename_to : vms_stream_block(p->s, i)->id;
}

static uint64_t block_new_length(const TrPlan *p, guint i)
{
    const RamOp *op = &p->ram[i];
    return op->resize ? op->new_length : vms_stream_block(p->s, i)->length;
}

static bool encode_block_list(TrPlan *p, GError **errp)
{
    const VmsStream *s = p->s;
    const VmsSection *list = NULL;
    g_autoptr(GArray) kept = g_array_new(FALSE, FALSE, sizeof(VmsBlockSpec));
    VmsBuilder *w;

    for (guint i = 0; i < s->sections->len && !list; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        if (sec->kind == VMS_KIND_RAM && sec->ram.has_mem_size) {
            list = sec;
        }
    }
    if (!list) {
        g_set_error(errp, TR_ERROR, TR_ERROR_STREAM,
                    "%s: RAM blocks to change but no MEM_SIZE block list",
                    s->name);
        return false;
    }
    for (guint i = 0; i < s->ram_blocks->len; i++) {
        if (!p->ram[i].drop) {
            VmsBlockSpec b = {block_new_id(p, i), block_new_length(p, i)};
            g_array_append_val(kept, b);
        }
    }
    w = vms_builder_new_memory();
    vms_builder_ram_mem_size(w, (const VmsBlockSpec *)kept->data, kept->len);
    tr_plan_put(p, NULL, list->ram.mem_size_offset,
                list->ram.mem_size_end - list->ram.mem_size_offset, w);
    return true;
}

static bool page_dropped(const TrPlan *p, const VmsPage *pg)
{
    const RamOp *op = &p->ram[pg->block];
    return op->drop || (op->resize && pg->addr >= op->new_length);
}

/* The fill byte of a FILL record becomes the page it stands for. */
static void expand_fill(TrPlan *p, TrFinding *by, const VmsPage *pg)
{
    GBytes **page = &p->fill_page[pg->fill];

    if (!*page) {
        uint8_t *data = g_malloc(VMS_PAGE_SIZE);
        memset(data, pg->fill, VMS_PAGE_SIZE);
        *page = g_bytes_new_take(data, VMS_PAGE_SIZE);
    }
    add_patch_bytes(p, by, vms_page_data_offset(p->s, pg), 1,
                    g_bytes_ref(*page), false);
}

/*
 * A page record names its block unless CONTINUE says "same block as the
 * previous record". Dropping records can break that chain and renaming a
 * block changes every record that names it: re-encode those headers.
 */
static bool encode_pages(TrPlan *p, GError **errp)
{
    const VmsStream *s = p->s;
    int last_kept = -1;

    if (!s->pages && !p->pages_known) {
        return true; /* the caller knows these edits are left out */
    }
    if (!s->pages) {
        g_set_error(errp, TR_ERROR, TR_ERROR_INVALID,
                    "%s: RAM blocks to change but the page records were "
                    "not recorded",
                    s->name);
        return false;
    }
    for (guint i = 0; i < s->pages->len; i++) {
        const VmsPage *pg = &g_array_index(s->pages, VmsPage, i);
        const RamOp *op = &p->ram[pg->block];
        bool has_name = !(pg->flags & VMS_RAM_CONTINUE);
        bool need_name = (int)pg->block != last_kept;

        if (page_dropped(p, pg)) {
            add_patch(p, NULL, pg->offset, vms_page_record_len(s, pg), NULL, 0,
                      true);
            if (op->by) {
                op->by->n_edits++;
            }
            continue;
        }
        last_kept = (int)pg->block;
        bool expand = page_expands(p, pg);
        if (has_name == need_name && !(has_name && op->rename_to) && !expand) {
            continue;
        }
        VmsBuilder *w = vms_builder_new_memory();
        uint64_t flags = pg->flags & ~(uint64_t)VMS_RAM_CONTINUE;
        uint64_t old_len = 8;
        if (!need_name) {
            flags |= VMS_RAM_CONTINUE;
        }
        if (expand) {
            flags = (flags & ~(uint64_t)VMS_RAM_FILL) | VMS_RAM_PAGE;
            expand_fill(p, op->expand_by, pg);
        }
        vms_builder_ram_header(w, block_new_id(p, pg->block), pg->addr, flags);
        if (has_name) {
            old_len += 1 + strlen(vms_stream_block(s, pg->block)->id);
        }
        tr_plan_put(p, expand ? op->expand_by : op->by, pg->offset, old_len, w);
    }
    return true;
}

/* ---- composing ----------------------------------------------------------- */

static gint patch_cmp(gconstpointer a, gconstpointer b)
{
    const Patch *x = a, *y = b;

    if (x->offset != y->offset) {
        return x->offset < y->offset ? -1 : 1;
    }
    /* insertions before replacements at the same offset */
    if ((x->old_length == 0) != (y->old_length == 0)) {
        return x->old_length == 0 ? -1 : 1;
    }
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static char *patch_owner(const Patch *x)
{
    return g_strdup(x->by ? x->by->rule : "RAM re-encoding");
}

bool tr_plan_build(TrPlan *p, GArray *edits, uint64_t *new_size, GError **errp)
{
    int64_t delta = 0;

    if (p->ram_changed && !encode_block_list(p, errp)) {
        return false;
    }
    if ((p->ram_changed || p->pages_changed) && !encode_pages(p, errp)) {
        return false;
    }
    g_array_sort(p->patches, patch_cmp);

    Patch *prev = NULL;
    for (guint i = 0; i < p->patches->len; i++) {
        Patch *x = &g_array_index(p->patches, Patch, i);
        uint64_t end = x->offset + x->old_length;

        if (end > p->s->size) {
            g_set_error(errp, TR_ERROR, TR_ERROR_CONFLICT,
                        "%s: %s edits [0x%" PRIx64 ", 0x%" PRIx64
                        ") past the end of the stream (0x%" PRIx64 ")",
                        p->s->name, x->by ? x->by->rule : "RAM", x->offset, end,
                        p->s->size);
            return false;
        }
        if (prev && x->offset < prev->offset + prev->old_length) {
            /* inside a dropped range: dropped along with it */
            if (prev->is_drop && end <= prev->offset + prev->old_length) {
                continue;
            }
            g_autofree char *a = patch_owner(prev);
            g_autofree char *b = patch_owner(x);
            g_set_error(errp, TR_ERROR, TR_ERROR_CONFLICT,
                        "%s: %s and %s both edit bytes at 0x%" PRIx64,
                        p->s->name, a, b, x->offset);
            return false;
        }
        delta += (int64_t)g_bytes_get_size(x->data) - (int64_t)x->old_length;

        /* coalesce with the previous edit when they touch */
        TrEdit *last =
            edits->len ? &g_array_index(edits, TrEdit, edits->len - 1) : NULL;
        if (last && last->offset + last->old_length == x->offset &&
            g_bytes_get_size(last->data) + g_bytes_get_size(x->data) <=
                COALESCE_MAX) {
            gsize a_len, b_len;
            const uint8_t *a = g_bytes_get_data(last->data, &a_len);
            const uint8_t *b = g_bytes_get_data(x->data, &b_len);
            uint8_t *joined = g_malloc(a_len + b_len + 1);
            if (a_len) {
                memcpy(joined, a, a_len);
            }
            if (b_len) {
                memcpy(joined + a_len, b, b_len);
            }
            g_bytes_unref(last->data);
            last->data = g_bytes_new_take(joined, a_len + b_len);
            last->old_length += x->old_length;
        } else {
            TrEdit e = {.offset = x->offset,
                        .old_length = x->old_length,
                        .data = g_bytes_ref(x->data)};
            g_array_append_val(edits, e);
        }
        prev = x;
    }
    /* an edit that changes nothing is no edit */
    for (guint i = edits->len; i-- > 0;) {
        TrEdit *e = &g_array_index(edits, TrEdit, i);
        if (!e->old_length && !g_bytes_get_size(e->data)) {
            g_array_remove_index(edits, i);
        }
    }
    *new_size = (uint64_t)((int64_t)p->s->size + delta);
    return true;
}
