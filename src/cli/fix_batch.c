/*
 * `qsnapfix fix PATH...` as a batch (src/app/batch.h): the report of
 * each image as it completes (human, one JSON document, or JSONL: built
 * by app/report_batch.c), and the summary.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "app/batch.h"
#include "fix.h"

/* ---- reports ----------------------------------------------------------- */

typedef struct BatchReport {
    QsnapfixOutput format;
    const AppBatchOptions *o;
    QjValue *images, *skipped; /* --output=json: arrays of the report */
    CliProgress progress;
} BatchReport;

/* --output=jsonl: one image's or entry's object, one line, now. */
static void print_line(const AppBatchImage *im, const AppScanEntry *e)
{
    g_autoptr(QjValue) one = qj_array();

    if (im) {
        app_report_batch_image(one, im);
    } else {
        app_report_batch_entry(one, e);
    }
    qj_print_line(qj_at(one, 0));
}

/* A libvirt save image's one "snapshot" (app/batch.c, as scan names it). */
static bool is_save_image(const AppBatchSnapshot *bs)
{
    return !g_strcmp0(bs->outcome->id, "-");
}

static char *snapshot_line(const AppBatchSnapshot *bs)
{
    const AppOutcome *out = bs->outcome;
    GString *s = g_string_new(NULL);
    g_autofree char *name = qsnapfix_printable(out->name);

    g_string_append_printf(s, "%s %s", name, app_status_name(out->status));
    if (bs->resumed) {
        g_string_append(s, " (committed before the interruption)");
    } else if (bs->from_journal) {
        g_string_append(s, " (earlier run)");
    } else if (out->status == APP_FIXED && out->write.have_stats) {
        g_autofree char *bytes = qsnapfix_size_to_str(out->write.bytes_written);
        g_string_append_printf(s, " (%s written%s%s)", bytes,
                               out->write.kept_as ? ", original kept as " : "",
                               out->write.kept_as ? out->write.kept_as : "");
    }
    return g_string_free(s, false);
}

static void print_image_human(const AppBatchImage *im, bool dry_run)
{
    g_autofree char *path = qsnapfix_printable(im->path);
    GString *line = g_string_new(NULL);

    for (guint i = 0; i < im->snapshots->len; i++) {
        g_autofree char *one =
            snapshot_line(g_ptr_array_index(im->snapshots, i));
        g_string_append_printf(line, "%s%s", i ? ", " : "", one);
    }
    printf("%s: %s%s%s%s [%.2f s]\n", path,
           dry_run && im->status == APP_IMAGE_FIXED
               ? "would fix"
               : app_image_status_name(im->status),
           line->len || im->error ? ": " : "",
           im->error ? im->error->message : line->str,
           im->from_journal ? " (finished by an earlier run)" : "",
           im->seconds);
    g_string_free(line, true);
    if (im->reclaim.ran) {
        printf("  ");
        fix_print_reclaim_human(im->path, &im->reclaim, dry_run);
    }
    for (guint i = 0; i < im->snapshots->len; i++) {
        const AppBatchSnapshot *bs = g_ptr_array_index(im->snapshots, i);
        const TrResult *r = bs->outcome->result;
        if (r && bs->outcome->status == APP_FIXED) {
            g_autofree char *cmd = tr_recipe_command_line(r->recipe);
            g_autofree char *name = qsnapfix_printable(bs->outcome->name);
            if (is_save_image(bs)) { /* the recipe is in its domain XML */
                printf("  %s: virsh restore %s\n", name, path);
            } else {
                printf("  %s: resume with %s ... -loadvm %s\n", name, cmd,
                       name);
            }
        }
    }
}

static void print_failures(const AppBatchImage *im)
{
    if (im->error) {
        fprintf(stderr, "qsnapfix: %s\n", im->error->message);
        return;
    }
    for (guint i = 0; i < im->snapshots->len; i++) {
        const AppBatchSnapshot *bs = g_ptr_array_index(im->snapshots, i);
        g_autofree char *what = fix_outcome_label(im->path, bs->outcome);

        if (bs->outcome->result || bs->outcome->status == APP_ERROR) {
            fix_print_failure(bs->outcome, what);
        } else if (bs->outcome->status == APP_REFUSED) {
            g_autofree char *why = app_outcome_reason(bs->outcome);
            fprintf(stderr, "qsnapfix: %s: refused: %s\n", what,
                    why ? why : "?");
        }
    }
}

static void on_image(const AppBatchImage *im, void *opaque)
{
    BatchReport *rep = opaque;

    cli_progress_clear(&rep->progress);
    print_failures(im);
    if (rep->format == QSNAPFIX_OUTPUT_JSON) {
        app_report_batch_image(rep->images, im);
    } else if (rep->format == QSNAPFIX_OUTPUT_JSONL) {
        print_line(im, NULL);
    } else {
        print_image_human(im, rep->o->fix.dry_run);
        fflush(stdout);
    }
}

static void on_entry(const AppScanEntry *e, void *opaque)
{
    BatchReport *rep = opaque;

    cli_progress_clear(&rep->progress);
    if (e->kind == APP_ENTRY_ERROR) {
        fprintf(stderr, "qsnapfix: %s\n", e->reason);
    }
    if (rep->format == QSNAPFIX_OUTPUT_JSON) {
        app_report_batch_entry(
            e->kind == APP_ENTRY_ERROR ? rep->images : rep->skipped, e);
    } else if (rep->format == QSNAPFIX_OUTPUT_JSONL) {
        print_line(NULL, e);
    } else {
        g_autofree char *path = qsnapfix_printable(e->path);
        printf("%s: %s: %s\n", path,
               e->kind == APP_ENTRY_ERROR ? "failed" : "skipped", e->reason);
    }
}

static void on_tick(guint done, guint total, void *opaque)
{
    BatchReport *rep = opaque;
    cli_progress_show(&rep->progress, done, total);
}

static void print_summary_human(const AppBatchSummary *s,
                                const AppBatchOptions *o, const char *batch)
{
    g_autofree char *written = qsnapfix_size_to_str(s->bytes_written);
    g_autofree char *vm = qsnapfix_size_to_str(s->vm_state_bytes);
    g_autoptr(GList) keys = g_hash_table_get_keys(s->writers);

    printf("\nBatch %s(target %s): %u image%s in %.1f s: %u fixed, %u "
           "compatible, %u skipped, %u failed",
           o->fix.dry_run ? "dry run " : "",
           tr_target_name(o->fix.target ? o->fix.target : tr_target_default()),
           s->images, s->images == 1 ? "" : "s", s->seconds, s->fixed,
           s->compatible, s->skipped, s->failed);
    if (s->from_journal) {
        printf(" (%u finished by an earlier run)", s->from_journal);
    }
    printf("; %u file%s not images\n", s->walk_skipped,
           s->walk_skipped == 1 ? "" : "s");
    printf("  snapshots: %u: %u fixed, %u compatible, %u refused, %u "
           "error%s\n",
           s->snapshots, s->snap_fixed, s->snap_compatible, s->snap_refused,
           s->snap_errors, s->snap_errors == 1 ? "" : "s");
    keys = g_list_sort(keys, (GCompareFunc)strcmp);
    printf("  writers:  ");
    for (GList *l = keys; l; l = l->next) {
        printf(" %s: %u%s", (char *)l->data,
               GPOINTER_TO_UINT(g_hash_table_lookup(s->writers, l->data)),
               l->next ? ";" : "");
    }
    printf("%s\n", keys ? "" : " -");
    printf("  %s %s for %s of VM state fixed",
           o->fix.dry_run ? "would write" : "wrote", written, vm);
    if (o->journal) {
        printf("; journal %s (batch %s)", o->journal, batch);
    }
    printf("\n");
}

int fix_run_batch(const CliCommand *c, const AppBatchOptions *bo, char **paths,
                  GPtrArray *plan, const char *resume)
{
    QsnapfixOutput format = c->format;
    g_autoptr(GError) err = NULL;
    AppBatch *b = resume ? app_batch_resume(resume, bo, &err)
                         : app_batch_new(bo, paths, plan, &err);
    g_autoptr(QjValue) doc = NULL;
    BatchReport rep = {.format = format};
    AppBatchSummary sum;
    const AppBatchOptions *o;
    int rc;

    if (!b) {
        return cli_fail(c, NULL, err);
    }
    o = app_batch_options(b);
    rep.o = o;
    cli_progress_init(&rep.progress, "qsnapfix fix");
    doc = app_report_batch_new(o);
    if (format == QSNAPFIX_OUTPUT_JSON) {
        rep.images = qj_set_array(doc, "images");
        rep.skipped = qj_set_array(doc, "skipped");
    }
    app_batch_run(b, on_image, on_entry, on_tick, &rep, &sum);
    cli_progress_done(&rep.progress);
    /* a stop request: 128 + the signal, as a single fix (the handler keeps
     * the signal's number in the flag) */
    rc = sum.interrupted ? 128 + (int)*o->fix.cancel : sum.exit_code;
    if (sum.interrupted) {
        fprintf(stderr,
                "qsnapfix: interrupted (%s): %u image%s not begun; every image "
                "is its old or its new self%s\n",
                cli_signal_name((int)*o->fix.cancel), sum.not_begun,
                sum.not_begun == 1 ? "" : "s",
                o->journal ? "; fix --resume with the journal continues" : "");
    }
    if (format == QSNAPFIX_OUTPUT_HUMAN) {
        print_summary_human(&sum, o, o->fix.batch_id);
    } else {
        /* jsonl: the images went out as lines; this is the last */
        app_report_batch_end(doc, &sum);
        if (format == QSNAPFIX_OUTPUT_JSONL) {
            qj_print_line(doc);
        } else {
            qj_print(doc);
        }
    }
    app_batch_summary_clear(&sum);
    app_batch_free(b);
    return rc;
}
