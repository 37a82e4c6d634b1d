/*
 * Translating a migration stream as it flows, in one pass and bounded
 * memory: `qsnapfix translate - -` (a pipe: `migrate "exec:..."` on the
 * sending side, `-incoming "exec:..."` on the receiving one) and `qsnapfix
 * relay` (a TCP relay between the two QEMUs of a live migration). See
 * docs/streaming.md for the design; in short:
 *
 *   1. The head (header, START records, the RAM block list) is read and
 *      the translator's rules run on a skeleton of the stream: the head,
 *      one empty PART and END record standing for every later record of
 *      each live section, and EOF. What they decide for those records
 *      (section ids, footers, dropped sections, inserted ones) and for the
 *      RAM blocks (renamed, dropped, cut; fill pages expanded) is applied
 *      to every record and page as it passes. The recipe of that run is
 *      handed to the caller before the first byte is written: the target
 *      must be started with it.
 *   2. Page records flow through, rewritten only where a block operation
 *      touches them; nothing is kept but the pages of the blocks whose
 *      bytes the recipe's files hold (ROMs, BIOS, flash).
 *   3. The device state after the RAM (a few hundred KiB) is gathered to
 *      the end, the rules run again on the whole skeleton, and the device
 *      sections are written translated. The rules must then decide as they
 *      did at the head and ask for no setting the recipe lacks: the device
 *      state is the first place where a missing HPET or a KVM clock shows,
 *      and a relay can only stop there (the source keeps running).
 *
 * The translator (src/translate) is used unchanged: rules that would read
 * page data (TrFinding.needs_pages) cannot decide in time and refuse here,
 * except R20, whose expansion is applied to each fill page as it passes.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef LIVE_PIPE_H
#define LIVE_PIPE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "stream/live.h"
#include "translate/backwards.h"
#include "translate/translate.h"

G_BEGIN_DECLS

#define LIVE_ERROR (live_error_quark())
GQuark live_error_quark(void);

typedef enum {
    LIVE_ERROR_REFUSED = 1, /* a rule refused (the finding says why) */
    LIVE_ERROR_TOO_LATE,    /* a decision needs what comes later */
    LIVE_ERROR_CHANGED,     /* the device state changed a decision made at
                               the head, or asks for a setting the recipe
                               written then does not have */
} LiveErrorCode;

typedef struct LiveOptions {
    /* The translation (no_page_data is forced on). */
    TrOptions tr;
    /* Reshape backwards instead (test tool: qsnapfix relay --as). */
    const TrBackwardsOptions *backwards;
    /* Settings the head cannot show, given by the user (argv strings, e.g.
     * "-machine", "hpet=off"): added to the recipe written at the head;
     * NULL-terminated, may be NULL. */
    const char *const *also;
} LiveOptions;

/* Where translated bytes go; false (with errp) stops the translation. */
typedef bool (*LiveWriteFn)(void *opaque, const void *data, size_t len,
                            GError **errp);

typedef struct LiveHooks {
    LiveWriteFn write;
    /*
     * After the head was translated and before its first byte is written:
     * the recipe the target must start with (may be NULL). The relay
     * writes it and only then connects to the target.
     */
    bool (*head)(void *opaque, const TrResult *provisional, GError **errp);
    void *opaque;
} LiveHooks;

typedef struct LiveStats {
    uint64_t bytes_in, bytes_out;
    uint64_t records, pages, pages_rewritten, pages_dropped;
    gint64 head_usec; /* translating the head */
    gint64 tail_usec; /* from the tail's last byte read to written */
} LiveStats;

typedef struct LiveResult {
    TrResult *result; /* the final translation (head and device state) */
    GPtrArray *files; /* GBytes per file of result->recipe, in order */
    LiveStats stats;
} LiveResult;

bool live_translate(VmsChannel *in, const LiveOptions *o, const LiveHooks *h,
                    LiveResult *res, GError **errp);
void live_result_clear(LiveResult *r);

G_END_DECLS

#endif
