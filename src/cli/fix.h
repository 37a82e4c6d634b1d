/*
 * What `qsnapfix fix` (qcow2 snapshots) and `qsnapfix translate` (raw
 * stream files) share: the options, one snapshot's or file's outcome, the
 * translation run with its verification, the recipe files, and the report
 * (human and JSON).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QSNAPFIX_FIX_H
#define QSNAPFIX_FIX_H

#include <glib.h>
#include <json-glib/json-glib.h>

#include "cli.h"
#include "stream/fingerprint.h"
#include "stream/stream.h"
#include "translate/translate.h"

typedef struct FixOptions {
    char *target_name;
    char *machine;
    char *rom_dir;
    char **drop_sections;
    char *output_format;
    gboolean dry_run;
    gboolean shrink_vram;
    gboolean drop_roms;
    gboolean keep_block_sections;
    gboolean keep_original;
    gboolean help;
    /* derived */
    const TrTarget *target;
    QsnapfixOutput format;
} FixOptions;

/* Option entries for the shared options (storage in o). */
GOptionEntry *fix_option_entries(FixOptions *o);
/* Check and derive (target, output format); false + message on error. */
bool fix_options_finish(FixOptions *o, GError **errp);
void fix_options_clear(FixOptions *o);

/* A command taking fix's options (fix, translate, scan). */
typedef struct FixCommand {
    const char *prgname;     /* "qsnapfix fix" */
    const char *summary;     /* --help: before the options */
    const char *description; /* --help: after them */
    GOptionEntry *entries;   /* the command's own */
    bool hide_dry_run;       /* accepted but not listed (always a dry run) */
} FixCommand;

/*
 * Parse a command line: the command's own options, then fix's (into o),
 * checked and derived (fix_options_finish). Returns -1 to go on, else the
 * exit code (bad command line, --help).
 */
int fix_parse_command(const FixCommand *cmd, FixOptions *o, int *argc,
                      char ***argv);
/* The --help text on targets, options and exit codes. */
extern const char fix_common_help[];

typedef enum {
    FIX_FIXED,      /* edits applied (or, dry run: would be) */
    FIX_COMPATIBLE, /* no edits needed */
    FIX_REFUSED,    /* a rule refused */
    FIX_ERROR,
} FixStatus;

const char *fix_status_name(FixStatus s);

/* One snapshot's (or one stream file's) outcome. */
typedef struct FixOutcome {
    char *id;   /* snapshot id, or NULL for a stream file */
    char *name; /* snapshot name, or the input file */
    FixStatus status;
    VmsWriterInfo *writer;
    TrResult *result;
    GError *error;
    bool wrote; /* the image or output file was written */
    /* what the write did (bytes/clusters), from the qcow2 splice */
    bool have_stats;
    uint64_t old_size, new_size;
    uint64_t clusters_written, clusters_shared, clusters_freed;
    uint64_t metadata_clusters, bytes_written;
    char *kept_as; /* --keep-original: the original's new name */
} FixOutcome;

FixOutcome *fix_outcome_new(const char *id, const char *name);
void fix_outcome_free(FixOutcome *o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FixOutcome, fix_outcome_free)
/* Take the result of translating a stream of old_size bytes (and set the
 * status and sizes from it). */
void fix_outcome_take_result(FixOutcome *o, TrResult *r, uint64_t old_size);
/* Record an error (takes it) and set the status. */
void fix_outcome_fail(FixOutcome *o, GError *err);
int fix_outcome_exit_code(const FixOutcome *o);
/* The exit code of several outcomes (15 when they disagree). */
int fix_exit_code(GPtrArray *outcomes);

/*
 * Parse src fully (every page record) and run the rules. file_dir and
 * file_prefix name the recipe's files. On success the stream is returned
 * in *stream_out (for writing the files) and the outcome holds the result.
 */
bool fix_analyse(FixOutcome *out, VmsSource *src, const FixOptions *o,
                 const char *file_dir, const char *file_prefix,
                 VmsStream **stream_out, GError **errp);

/*
 * The check after writing: the new stream parses to EOF and the rules find
 * nothing left to edit, refuse nothing, and ask for the same settings.
 */
bool fix_verify(VmsSource *written, const FixOptions *o, const char *file_dir,
                const char *file_prefix, const TrResult *first, GError **errp);

/*
 * The files the recipe refers to (ROMs, BIOS, flash): read their bytes
 * from the stream (GBytes per recipe file, in order), then write them.
 */
GPtrArray *fix_read_files(const TrResult *r, const VmsStream *s, VmsSource *src,
                          GError **errp);
bool fix_write_files(const TrResult *r, GPtrArray *contents, GError **errp);

/* A file-name-safe version of a snapshot name. */
char *fix_safe_name(const char *s);

/*
 * Where a snapshot's recipe files go (ROM/BIOS/flash images): in --rom-dir
 * or beside the image (*dir, absolute), named "IMAGE.SNAPSHOT." (*prefix,
 * the image's base name and the file-name-safe snapshot name).
 */
void fix_snapshot_file_names(const FixOptions *o, const char *image,
                             const char *snapshot_name, char **dir,
                             char **prefix);

/* The translator's options for these options and recipe file names. */
TrOptions fix_tr_options(const FixOptions *o, const char *file_dir,
                         const char *file_prefix);

/* The edit list as qcow2_splice_vmstate() takes it (borrows r's bytes). */
Qcow2Edit *fix_qcow2_edits(const TrResult *r);

/* ---- reports (fix_report.c) ------------------------------------------- */

/* Human report of one outcome on stdout; load_hint: how to load it. */
void fix_print_human(const FixOutcome *out, const char *what,
                     const char *load_hint, bool dry_run);
/* A refusal ("qsnapfix: WHAT: refused by RULE (SUBJECT): ...") or an
 * error on stderr, one line; nothing for other outcomes. */
void fix_print_failure(const FixOutcome *out, const char *what);
/*
 * Finish and print the JSON report of fix or translate (docs/json.md):
 * after the members the caller began b's object with (the image, or input
 * and output), target, dry_run, snapshots[] (n outcomes) and exit_code.
 */
void fix_print_json_report(JsonBuilder *b, const FixOptions *o,
                           FixOutcome *const *outcomes, guint n, int rc);
/* JSON object of one outcome. */
void fix_json_outcome(JsonBuilder *b, const FixOutcome *out);
/* Its members "writer" (NULL: null), "rules" (edit_counts: with each
 * finding's "edits") and "recipe", for reports of the same shape. */
void fix_json_writer(JsonBuilder *b, const VmsWriterInfo *w);
void fix_json_rules(JsonBuilder *b, const TrResult *r, bool edit_counts);
void fix_json_recipe(JsonBuilder *b, const TrResult *r);

#endif
