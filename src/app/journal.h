/*
 * The batch journal: one JSON object per line (JSONL), each appended with
 * one write and made durable (fsync) before the step it announces goes
 * on, so that a batch killed at any point (SIGKILL included) can be
 * resumed and undone from what the journal says. Steps:
 *
 *   batch   the options and the plan (the images in order, and for
 *           --from-scan the snapshots of each), and the batch id that the
 *           records in the images carry
 *   begin   a snapshot is about to be written: its old size and SHA-256
 *   done    a snapshot's result: fixed (new size and SHA-256, rules,
 *           recipe, the original kept), compatible, refused, error
 *   image   an image is finished (status, message, exit code)
 *   resume  a resumed run starts
 *   undo / drop   one snapshot undone / one original dropped
 *   end     the batch finished (its exit code)
 *
 * A line cut short by a kill is closed with a newline by the next writer
 * and skipped by readers. docs/json.md describes the fields.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_JOURNAL_H
#define APP_JOURNAL_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct AppPlanItem {
    char *path;
    char **snapshots; /* IDs to fix; NULL: every fixable one */
} AppPlanItem;

void app_plan_item_free(AppPlanItem *p);

typedef struct AppJournalEntry {
    char *step, *time, *tool, *batch;
    /* step "batch": the options that decide what a fix writes */
    char *target, *machine, *rom_dir;
    char **drop_sections;
    bool shrink_vram, drop_roms, keep_block_sections, keep_original, dry_run;
    GPtrArray *plan; /* AppPlanItem * */
    /* a step on an image or a snapshot */
    char *image, *snapshot_id, *snapshot_name;
    char *status, *message;
    int exit_code;
    bool has_old, has_new;
    uint64_t old_size, new_size;
    char *old_sha256, *new_sha256;
    char **rules;
    char *recipe, *kept_as;
} AppJournalEntry;

AppJournalEntry *app_journal_entry_new(const char *step, const char *batch);
void app_journal_entry_free(AppJournalEntry *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AppJournalEntry, app_journal_entry_free)

typedef struct AppJournal AppJournal;

/* Open path for appending (created when absent, never truncated). */
AppJournal *app_journal_open(const char *path, GError **errp);
/* Append e (time and tool filled in) as one line and fsync; any thread. */
bool app_journal_append(AppJournal *j, AppJournalEntry *e, GError **errp);
void app_journal_close(AppJournal *j);

/* Every complete record of the journal at path (AppJournalEntry *).
 * NULL with an error when it cannot be read or has no "batch" record. */
GPtrArray *app_journal_load(const char *path, GError **errp);

/* A new batch id (random, UUID form). */
char *app_batch_id_new(void);

#endif
