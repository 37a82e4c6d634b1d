/*
 * qsnapfix splice IMAGE --snapshot S --edits FILE [--dry-run]
 *                 [--keep-original NAME]
 *
 * An expert and test tool: applies a hand-written edit list to one
 * snapshot's VM state through the library's copy-on-write splice (the
 * same write path `fix` uses), with no knowledge of what the bytes mean.
 * Not listed in `qsnapfix --help`; documented in README.md.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "app/report.h"
#include "app/tools.h"
#include "cli.h"
#include "progress.h"

static const char splice_description[] =
    "Replace byte ranges of one snapshot's VM state (an expert and test\n"
    "tool: qsnapfix fix computes edits itself). The VM state is rewritten\n"
    "copy-on-write and the snapshot table is switched atomically; the\n"
    "snapshot keeps its ID, name, date and clocks.\n"
    "\n"
    "FILE has one edit per line, sorted by offset, not overlapping:\n"
    "  OFFSET OLD_LENGTH DATA\n"
    "replaces OLD_LENGTH bytes at OFFSET of the old VM state by DATA:\n"
    "  hex digits (0a0b...), '-' for nothing (a deletion), @PATH for a\n"
    "  file's bytes (relative to FILE's directory), or fill:BYTE:COUNT.\n"
    "  Numbers are decimal or 0x-hex;\n"
    "  '#' starts a comment.\n"
    "\n"
    "--dry-run opens the image read-only and reports what would be written.\n"
    "--keep-original NAME keeps the old VM state as a new snapshot NAME\n"
    "sharing every unchanged cluster.\n"
    "\n"
    "JSON output (--output=json): {qsnapfix {version}, timestamp, filename,\n"
    "snapshot {id, name}, dry-run, kept-original, old-size, new-size,\n"
    "clusters-shared, clusters-written, clusters-freed, metadata-clusters,\n"
    "bytes-written, writes, flushes, active-entries-dropped,\n"
    "leaked-clusters-before, file-size-before, file-size-after,\n"
    "allocated-before, allocated-after (bytes on disk), discarded-bytes,\n"
    "space-needed, space-available, exit-code}; on failure {qsnapfix,\n"
    "timestamp, filename, error {message, exit-code}, exit-code}.\n"
    "\n"
    "Exit codes: 0 done; 2 bad command line or edit list; 5 I/O error;\n"
    "6 image in use by a running QEMU; 7 dirty/corrupt bit set or the\n"
    "consistency check found corruption (nothing written); 8 image\n"
    "feature not supported for writing; 9 no such snapshot; 10-13\n"
    "malformed image; 16 no space left.\n";

typedef struct SpliceProgress {
    CliProgress line;
    const char *image;
} SpliceProgress;

static void progress(uint64_t done, uint64_t total, void *opaque)
{
    SpliceProgress *p = opaque;
    cli_progress_app(APP_STEP_WRITE, p->image, done, total, &p->line);
}

static void print_stats(const CliCommand *c, bool dry_run,
                        const char *keep_name, const char *image,
                        const char *id, const char *name,
                        const AppWriteStats *st)
{
    g_autoptr(QjValue) json = NULL;

    if (c->format == QSNAPFIX_OUTPUT_HUMAN) {
        g_autofree char *pid = qsnapfix_printable(id);
        g_autofree char *pname = qsnapfix_printable(name);
        printf("%s: snapshot %s \"%s\": VM state %" PRIu64 " -> %" PRIu64
               " bytes%s\n",
               image, pid, pname, st->old_size, st->new_size,
               dry_run ? " (dry run: nothing written)" : "");
        printf("  clusters: %" PRIu64 " written, %" PRIu64 " shared, %" PRIu64
               " freed, %" PRIu64 " metadata\n",
               st->clusters_written, st->clusters_shared, st->clusters_freed,
               st->metadata_clusters);
        printf("  I/O: %" PRIu64 " bytes in %" PRIu64 " writes, %" PRIu64
               " flushes\n",
               st->bytes_written, st->writes, st->flushes);
        printf("  file: %" PRIu64 " -> %" PRIu64 " bytes, %" PRIu64
               " -> %" PRIu64 " bytes on disk (%" PRIu64 " released)\n",
               st->file_size_before, st->file_size_after, st->allocated_before,
               st->allocated_after, st->discarded_bytes);
        if (keep_name) {
            printf("  the old VM state is kept as snapshot \"%s\"\n",
                   keep_name);
        }
        return;
    }
    json = app_report_splice(image, id, name, dry_run, keep_name, st);
    qj_print(json);
}

int qsnapfix_cmd_splice(int argc, char **argv)
{
    g_autofree char *snapshot = NULL, *edits_path = NULL, *keep_name = NULL;
    gboolean dry_run = false;
    GOptionEntry entries[] = {
        {"snapshot", 's', 0, G_OPTION_ARG_FILENAME, &snapshot,
         "The snapshot, by ID or name (required)", "ID|NAME"},
        {"edits", 'e', 0, G_OPTION_ARG_FILENAME, &edits_path,
         "The edit list (required)", "FILE"},
        {"dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
         "Compute and report, write nothing", NULL},
        {"keep-original", 0, 0, G_OPTION_ARG_FILENAME, &keep_name,
         "Keep the old VM state as a new snapshot NAME", "NAME"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    CliCommand c = {
        .name = "splice",
        .operands = "IMAGE",
        .summary = "qsnapfix splice: apply an edit list to a snapshot's VM "
                   "state (expert/test tool)",
        .description = splice_description,
        .with_output = true,
    };
    int rc = cli_parse(&c, entries, NULL, &argc, &argv);

    if (rc < 0 && (g_strv_length(c.operand) != 1 || !snapshot || !edits_path)) {
        rc = cli_usage(&c, "need IMAGE, --snapshot and --edits");
    }
    if (rc < 0) {
        g_autoptr(GError) err = NULL;
        g_autofree char *id = NULL, *name = NULL;
        AppWriteStats st = {0};
        SpliceProgress prog = {.image = c.operand[0]};
        AppWrite w = {
            .dry_run = dry_run,
            .keep_original = keep_name != NULL,
            .keep_original_name = keep_name,
            .progress = progress,
            .progress_opaque = &prog,
        };
        bool ok;

        cli_progress_init(&prog.line, NULL);
        ok = app_splice_file(c.operand[0], snapshot, edits_path, &w, &st, &id,
                             &name, &err);
        cli_progress_done(&prog.line);
        if (ok) {
            print_stats(&c, dry_run, keep_name, c.operand[0], id, name, &st);
            rc = APP_EXIT_OK;
        } else {
            rc = cli_fail(&c, app_report_file(c.operand[0]), err);
        }
        app_write_stats_clear(&st);
    }
    cli_command_clear(&c);
    return rc;
}
