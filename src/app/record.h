/*
 * The record a fix leaves with the image: in the fixed snapshot's table
 * entry, what was done (tool version, time, target, rules, recipe,
 * sizes); in the original a fix kept (--keep-original), which snapshot
 * it is the original of. Both live in the entry's unknown extra data,
 * which QEMU 5.0 and later keep through every rewrite of the snapshot
 * table (docs/image-record.md, where the format and QEMU's behaviour are
 * described and tested), and are written with the fix's own table
 * switch: a fixed snapshot without its record cannot exist.
 *
 * In the unknown extra data the record is the last piece, 8-byte
 * aligned: 8 zero bytes, "QSNAPFIX", be16 format (1), be16 flags (bit 0:
 * deflated), be32 payload length, the payload (a JSON object, compact),
 * zero padding to 8. Bytes of another writer before it are kept.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_RECORD_H
#define APP_RECORD_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "options.h"
#include "qcow2.h"
#include "translate/translate.h"

typedef enum {
    APP_RECORD_NONE,
    APP_RECORD_FIX,      /* this snapshot was fixed */
    APP_RECORD_ORIGINAL, /* kept by a fix: the original of another */
} AppRecordKind;

typedef struct AppRecord {
    AppRecordKind kind;
    char *tool; /* "qsnapfix 0.1.0" */
    char *time; /* ISO 8601, UTC */
    /* FIX: what was done */
    char *target;
    char **rules;        /* rule ids that edited, set or dropped */
    char *recipe;        /* the command line; NULL when it did not fit */
    char *recipe_sha256; /* then its SHA-256 (the journal has it whole) */
    uint64_t old_size, new_size;
    char *batch;   /* the batch id (journal.h), or NULL */
    char *kept_as; /* a libvirt save image: the file its original was kept
                      as, beside it (its name), or NULL */
    /* ORIGINAL: the snapshot it is the original of (its ID and name at
     * the time of the fix) */
    char *of_id, *of_name;
    uint64_t size;
} AppRecord;

void app_record_clear(AppRecord *r);
const char *app_record_kind_name(AppRecordKind k); /* "fix", "original" */

/* "qsnapfix VERSION" */
const char *app_tool_name(void);

/* The record of what a fix of old_size bytes into result does. */
void app_record_for_fix(AppRecord *r, const AppOptions *o,
                        const TrResult *result, uint64_t old_size);
/* The mark of the original kept by that fix of snapshot id "name". */
void app_record_for_original(AppRecord *r, const AppRecord *fix, const char *id,
                             const char *name);

/* The record as JSON (a libvirt save image keeps it in its domain's
 * <metadata>), and back: APP_RECORD_NONE (r cleared) if it is not one. */
char *app_record_to_json(const AppRecord *r);
AppRecordKind app_record_from_json(const char *json, AppRecord *r);

/* sn's record; APP_RECORD_NONE (r cleared) when it has none or one this
 * version cannot read. */
AppRecordKind app_record_read(const Qcow2Snapshot *sn, AppRecord *r);
/* Is sn the original kept by a fix? */
bool app_snapshot_is_original(const Qcow2Snapshot *sn);

/*
 * sn's unknown extra data with its record replaced by r (NULL: removed,
 * what another writer put there kept). Fails when it does not fit the
 * 1000 bytes QEMU allows even with the recipe left out.
 */
GBytes *app_record_extra(const Qcow2Snapshot *sn, const AppRecord *r,
                         GError **errp);

#endif
