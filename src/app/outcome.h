/*
 * The outcome of translating one VM state (a snapshot's, or a stream
 * file's): what wrote it, what the rules found and did, what was written,
 * the error if any; and the decision table from outcomes to exit codes.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_OUTCOME_H
#define APP_OUTCOME_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "stream/fingerprint.h"
#include "translate/translate.h"

typedef enum {
    APP_FIXED,      /* edits applied (or, dry run: would be) */
    APP_COMPATIBLE, /* no edits needed */
    APP_REFUSED,    /* a rule refused; nothing written */
    APP_ERROR,
} AppStatus;

const char *app_status_name(AppStatus s); /* "fixed", "compatible", ... */

/* Where a write left the sink's container, a failed one too. */
typedef enum {
    APP_WRITE_NOTHING,     /* nothing written (a dry run, a refusal) */
    APP_WRITE_GIVEN_BACK,  /* failed: the old content, and all the write
                              took given back */
    APP_WRITE_LEAKED,      /* failed: the old content; giving back failed
                              (leaked clusters: qemu-img check -r leaks) */
    APP_WRITE_UNCONFIRMED, /* failed at the commit: the old or the new
                              content, both complete */
    APP_WRITE_COMMITTED,   /* the new content */
} AppWriteEnd;

/* What a sink wrote, or (dry run) would write. */
typedef struct AppWriteStats {
    bool wrote; /* the sink's container was written */
    AppWriteEnd end;
    /* Counted by the sink (the qcow2 splice; file sinks count nothing). */
    bool have_stats;
    uint64_t old_size, new_size;
    uint64_t clusters_written, clusters_shared, clusters_freed;
    uint64_t metadata_clusters, bytes_written;
    uint64_t writes, flushes, active_entries_dropped;
    /* Space (Qcow2SpliceStats): a dry run predicts the after figures. */
    uint64_t leaked_clusters; /* found before the write */
    uint64_t file_size_before, file_size_after;
    uint64_t allocated_before, allocated_after; /* bytes on disk */
    uint64_t discarded_bytes; /* freed clusters released (holes) */
    uint64_t space_needed, space_available; /* UINT64_MAX: unknown */
    char *kept_as; /* keep_original: the original's new name */
    char *sha256;  /* AppWrite.want_sha256: of the bytes written */
} AppWriteStats;

void app_write_stats_clear(AppWriteStats *st);
/* "nothing", "given-back", "leaked", "unconfirmed", "committed" */
const char *app_write_end_name(AppWriteEnd end);
/* Every cluster of the new VM state written fresh: a length-changing
 * edit near its start (R9 on qemu-kvm 0.15/1.0 images) moves it all, and
 * the write needs room for a second copy while it runs. */
bool app_write_full_rewrite(const AppWriteStats *st);

typedef struct AppOutcome {
    char *id;   /* snapshot id, or NULL for a stream file */
    char *name; /* snapshot name, or the input file */
    AppStatus status;
    VmsWriterInfo *writer;
    TrResult *result;
    GError *error;
    uint64_t old_size, new_size; /* of the VM state, from the result */
    AppWriteStats write;
    /* What the sink changed besides the stream (a save image's domain
     * XML), one line each (char *). */
    GPtrArray *container_changes;
} AppOutcome;

AppOutcome *app_outcome_new(const char *id, const char *name);
void app_outcome_free(AppOutcome *o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AppOutcome, app_outcome_free)
/* Take the result of translating a stream of old_size bytes (and set the
 * status and sizes from it). */
void app_outcome_take_result(AppOutcome *o, TrResult *r, uint64_t old_size);
/* Record an error (takes it) and set the status. */
void app_outcome_fail(AppOutcome *o, GError *err);
/* Why it was refused ("R4 vga.vram: ...") or the error; else NULL. */
char *app_outcome_reason(const AppOutcome *o);

/*
 * Exit codes: one outcome's (fixed or compatible 0, refused 4, an error by
 * app_exit_code()), and several outcomes' together: the failures' code
 * when every one failed alike, 15 when they disagree or only some failed,
 * else 0 (fixed, or none needed it, or there were none).
 */
int app_outcome_exit_code(const AppOutcome *o);
int app_outcomes_exit_code(AppOutcome *const *outcomes, guint n);

#endif
