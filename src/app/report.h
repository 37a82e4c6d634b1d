/*
 * The JSON reports (docs/json.md): the program's machine interface, read
 * by every front end that is not C (the Ansible collection, the libvirt
 * helper, scripts). They are built here, from the outcomes the
 * application returns, so that every front end gets the same document;
 * a front end only chooses between them and its own human text, and
 * prints. Values and names follow qemu-img's where the facts are the same.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_REPORT_H
#define APP_REPORT_H

#include "batch.h"
#include "exit_codes.h"
#include "inspect.h"
#include "json/json.h"
#include "outcome.h"
#include "prove.h"
#include "record.h"
#include "scan.h"
#include "stream.h"
#include "tools.h"
#include "undo.h"

/* ---- every report (report.c) ------------------------------------------ */

/*
 * A new report: an object that starts with "qsnapfix" {version} and
 * "timestamp" (UTC, RFC 3339, to the second; $SOURCE_DATE_EPOCH when set,
 * for reproducible outputs), as every JSON report does.
 */
QjValue *app_report_new(void);
/* A new report about one snapshot: app_report_new() with "filename" (the
 * image) and "snapshot" {id, name}, as extract and splice report it. */
QjValue *app_report_snapshot(const char *image, const char *id,
                             const char *name);
/* Member "error" {message, exit-code} of o. */
void app_report_error(QjValue *o, const char *message, int exit_code);
/* Members "error" and "exit-code" of a report on a failure as a whole. */
void app_report_failure(QjValue *report, const char *message, int exit_code);

/* ---- a VM state's outcome (report_outcome.c) ------------------------- */

/* Member "writer" (NULL: null). */
void app_report_writer(QjValue *o, const VmsWriterInfo *w);
/* Member "rules": the findings (edit_counts: with each one's "edits"). */
void app_report_rules(QjValue *o, const TrResult *r, bool edit_counts);
/* Member "recipe": how to resume, with its libvirt XML. */
void app_report_recipe(QjValue *o, const TrResult *r);
/* Member "reason" for a refusal or an error; nothing otherwise. */
void app_report_reason(QjValue *o, const AppOutcome *out);
/* Member "record" (app/record.h) of a snapshot's object. */
void app_report_record(QjValue *o, const AppRecord *r);
/* Members "end", "leaked-clusters" and "space" of a write's object. */
void app_report_space(QjValue *write, const AppWriteStats *st);

/*
 * The report of fix or translate: after the members the caller put in
 * report (app_report_new(), then the image, or input and output), target,
 * dry-run, snapshots[] (n outcomes), changed and exit-code.
 */
void app_report_outcomes(QjValue *report, const AppOptions *o,
                         AppOutcome *const *outcomes, guint n, int rc);
/* The report of fix on one image begun: "image" (what its failure
 * report says too). */
QjValue *app_report_fix_new(const char *image);
/* Members "leaks-reclaimed" and "leaks-left" of an image's object when
 * a reclaim ran before its fix (--reclaim-leaks, --resume). */
void app_report_reclaim(QjValue *o, const AppReclaim *r);
/* Member "interrupted": {signal, state}, or null (signal NULL). */
void app_report_interrupted(QjValue *report, const char *signal,
                            const char *state);
/* The report of translate IN OUT begun: "input" and "output". */
QjValue *app_report_translate_new(const char *in, const char *out);

/* ---- a stream translated as it flows (report_live.c) ------------------ */

/*
 * The recipe of translate IN - and relay: stage ("head" or "final"), the
 * input's name, the recipe, the rules, the settings given with --also;
 * at the end (st not NULL) "changed" and the statistics.
 */
QjValue *app_report_stream_recipe(const char *stage, const char *input,
                                  const TrResult *r, const char *const *also,
                                  const LiveStats *st, bool changed);

/* ---- scan (report_scan.c) ---------------------------------------------- */

/* The scan's report: target and mode (images[], skipped[] and the rest
 * follow as the scan goes). */
QjValue *app_report_scan_new(const AppScanOptions *o);
/* An image, or a walk entry, appended to list (images[] or skipped[]; a
 * JSONL line is a one-element array's). */
void app_report_scan_image(QjValue *list, const AppScanImage *im);
void app_report_scan_entry(QjValue *list, const AppScanEntry *e);
/* Members "summary", "guests" (with --guest; elapsed: the scan's wall
 * clock) and "exit-code". */
void app_report_scan_end(QjValue *report, const AppScanOptions *o,
                         const AppScanSummary *s, double elapsed, int rc);

/* ---- inspect (report_inspect.c, report_stream.c) ----------------------- */

/* One image's report: qemu-img info's object with qsnapfix's facts. */
QjValue *app_report_image(const AppImageFacts *f);
/* A libvirt save image's report: its header, its domain, its stream's
 * writer and record. */
QjValue *app_report_save(const AppSaveFacts *f);
/* A stream's report begun: "source" {stream} or {image, snapshot}; what
 * its failure report says too. */
QjValue *app_report_stream_source(const char *image, const char *snapshot,
                                  const char *stream);
/* The stream's report, completed from report (taken); fields_of: the
 * device whose fields to decode (--sections), or NULL. NULL with errp
 * when no section is named fields_of. */
QjValue *app_report_stream(QjValue *report, const VmsStream *s,
                           const VmsWriterInfo *w, const char *fields_of,
                           uint64_t bytes_read, GError **errp);
/* One line saying what a section holds ("vga: ... +subsection"). */
char *app_section_summary(const VmsStream *s, const VmsSection *sec);

/* ---- batches (report_batch.c) ------------------------------------------ */

/* The batch's report: target, dry-run, batch id, journal. */
QjValue *app_report_batch_new(const AppBatchOptions *o);
/* An image, or a walk entry, appended to list (images[] for images and
 * unreadable entries, skipped[] for the rest; a JSONL line: a
 * one-element array's). */
void app_report_batch_image(QjValue *list, const AppBatchImage *im);
void app_report_batch_entry(QjValue *list, const AppScanEntry *e);
/* Members "summary" and "exit-code". */
void app_report_batch_end(QjValue *report, const AppBatchSummary *s);

/* ---- undo and drop-originals (report_undo.c) --------------------------- */

/* The report: dry-run, journal, and *images, the array to append to. */
QjValue *app_report_undo_new(const AppUndoRunOptions *o, QjValue **images);
void app_report_undo_image(QjValue *images, const AppUndoImage *im);
/* Members "summary" and "exit-code". */
void app_report_undo_end(QjValue *report, const AppUndoTotals *t);

/* ---- prove (report_prove.c) -------------------------------------------- */

/* The report: path, target and the QEMU program (qemu may be NULL). */
QjValue *app_report_prove_new(const char *path, const char *target,
                              AppQemu *qemu);
/* Members "snapshots" (AppProof *; with the QEMU command line run) and
 * "exit-code". */
void app_report_proofs(QjValue *report, AppQemu *qemu, GPtrArray *proofs,
                       int rc);

/* ---- extract and splice (report_tools.c) ------------------------------- */

/* A report about an image file: "filename" (what their failures say). */
QjValue *app_report_file(const char *image);
/* What extract wrote to out_path, and what splice wrote (or would). */
QjValue *app_report_extract(const char *image, const char *out_path,
                            const AppExtract *x);
QjValue *app_report_splice(const char *image, const char *id, const char *name,
                           bool dry_run, const char *keep_name,
                           const AppWriteStats *st);

#endif
