/*
 * The plan (internal): what the rules want changed, composed into one
 * sorted, non-overlapping edit list on the old stream.
 *
 * Rules record byte patches (a version field, two PCI config bytes, an
 * idstr), section drops and insertions, and RAM block operations (rename,
 * resize, drop). RAM operations touch shared structures (the MEM_SIZE
 * list and its total, and the CONTINUE chain of page records, whose block
 * names depend on the record before), so they are collected per block and
 * encoded once at the end.
 *
 * Every new byte of the stream's own format comes from the stream builder
 * (stream/writer.h): a rule builds its bytes with a memory builder and
 * hands the builder to tr_plan_put().
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TR_PLAN_H
#define TR_PLAN_H

#include "stream/writer.h"
#include "translate.h"

typedef struct TrPlan TrPlan;

/*
 * pages_known: false when the stream's page records were not read (the
 * edits of RAM block operations then leave them out).
 */
TrPlan *tr_plan_new(const VmsStream *s, bool pages_known);
void tr_plan_free(TrPlan *p);

/* Replace [offset, offset + old_length) with len bytes of data. */
void tr_plan_patch(TrPlan *p, TrFinding *by, uint64_t offset,
                   uint64_t old_length, const void *data, size_t len);
/*
 * Replace [offset, offset + old_length) with what `built` (a builder from
 * vms_builder_new_memory()) holds; old_length 0 inserts. Takes `built`.
 */
void tr_plan_put(TrPlan *p, TrFinding *by, uint64_t offset, uint64_t old_length,
                 VmsBuilder *built);
/* A be32 header field (a version, a section id) set to value. */
void tr_plan_patch_be32(TrPlan *p, TrFinding *by, uint64_t offset,
                        uint32_t value);
/* Remove [offset, offset + len); patches inside it are dropped with it. */
void tr_plan_drop(TrPlan *p, TrFinding *by, uint64_t offset, uint64_t len);

/* RAM blocks (by index in stream->ram_blocks). */
void tr_plan_ram_rename(TrPlan *p, TrFinding *by, guint block,
                        const char *new_id);
/* New length; page records at or beyond it are dropped. */
void tr_plan_ram_resize(TrPlan *p, TrFinding *by, guint block,
                        uint64_t new_length);
/* Remove the block from the list and all its page records. */
void tr_plan_ram_drop(TrPlan *p, TrFinding *by, guint block);
/*
 * Rewrite the block's FILL records with a non-zero byte as PAGE records of
 * that byte (the CONTINUE bit and the block name stay as they are). Call
 * after the block's other operations; returns how many records expand.
 */
uint64_t tr_plan_ram_expand_fills(TrPlan *p, TrFinding *by, guint block);


/*
 * Compose everything into edits (TrEdit, sorted, coalesced) and the new
 * stream size. Fails with TR_ERROR_CONFLICT when two rules want to change
 * overlapping bytes differently.
 */
bool tr_plan_build(TrPlan *p, GArray *edits, uint64_t *new_size, GError **errp);

#endif
