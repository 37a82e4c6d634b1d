/*
 * What the rules decided for a stream read as it flows (internal to
 * src/live): the translated head, a template per kind of live record, the
 * RAM block operations, and the translated tail.
 *
 * The rules run on a skeleton: a small, valid migration stream made of
 * the real head, one record "PART id EOS" and one "END id EOS" standing
 * for every later record of each live section (in START order: all PARTs,
 * then all ENDs), and the real tail (or EOF while it has not come). The
 * edited skeleton is parsed again and its records matched with the old
 * ones by type and name, in order; a record the edits inserted belongs to
 * the next record that was matched (the one it was inserted before).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef LIVE_PLAN_H
#define LIVE_PLAN_H

#include "pipe.h"

/* What becomes of each record of one kind (a live section's PART/END). */
typedef struct LiveTemplate {
    bool drop;       /* the records go (they must be only their EOS) */
    GBytes *prefix;  /* records inserted before each one */
    GBytes *header;  /* its new type byte and section id */
    GBytes *trailer; /* what follows its EOS word: the footer */
} LiveTemplate;

/* What becomes of one RAM block's page records. */
typedef struct LiveBlockOp {
    bool drop;
    uint64_t cut; /* pages at or above it go (0: none) */
    char *name;   /* its name in the new stream */
    bool renamed; /* name differs: named records are re-encoded */
    guint index;  /* in the new block list */
} LiveBlockOp;

typedef struct LivePlan {
    TrResult *result;
    GBytes *head_out;   /* the translated head, up to the open START's EOS */
    guint n_live;       /* live sections (STARTs) in the head */
    uint32_t *live_id;  /* their section ids */
    LiveTemplate *part; /* per live section */
    LiveTemplate *end;
    LiveTemplate start_rest; /* the open START: its trailer */
    guint n_blocks;
    LiveBlockOp *blocks; /* per block of the head's list */
    bool expand_fills;   /* R20: fill pages of a non-zero byte become pages */
    GBytes *tail_out;    /* the translated tail (tail plans only) */
} LivePlan;

typedef struct LiveHead {
    const uint8_t *bytes;
    size_t len;
    const VmsStream *s;
    bool open; /* its last record, START "ram", goes on */
    bool has_footers;
} LiveHead;

/* Run the rules on the skeleton of head (+ tail, when it has come). */
LivePlan *live_plan_new(const LiveHead *head, GBytes *tail,
                        const LiveOptions *o, GError **errp);
void live_plan_free(LivePlan *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LivePlan, live_plan_free)

/*
 * Does the plan made with the tail keep every decision of the head's (the
 * head bytes, the templates, the block operations)? Else a message.
 */
char *live_plan_differs(const LivePlan *head, const LivePlan *full);

/* The recipe's QEMU arguments (and also, argv the user added) as option
 * units ("-M pc-i440fx-1.4", "-global X=Y"), sorted. */
GPtrArray *live_recipe_units(const TrRecipe *r, const char *const *also);

#endif
