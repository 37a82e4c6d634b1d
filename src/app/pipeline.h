/*
 * The pipeline every front end runs on one VM state:
 *
 *   source --parse--> stream --rules--> findings, edits, recipe  (analyse)
 *          sink's plan, permission, free space: decided          (decide)
 *          recipe files (ROM/BIOS/flash) written beside         (files)
 *          --edits--> sink                                       (apply)
 *   sink --read back, parse, rules--> nothing left to do         (verify)
 *
 * Each step records what it found or did in an AppOutcome. Before
 * anything is written, everything that could stop the run is decided:
 * the sink's plan (its dry run: for a qcow2 snapshot the image's
 * consistency check and every refusal of the splice), permission to
 * write the container and the recipe's files, free space for both. A
 * refusal or a failed decision stops before any write, recipe files
 * included; a dry run stops after deciding (what it reports is what the
 * real run would hit). The recipe's files are then written before the
 * sink: they come from the stream as read before (a qcow2 splice
 * invalidates the snapshot handle), and a run that fails afterwards
 * leaves the container unchanged (the splice gives back what it took).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_PIPELINE_H
#define APP_PIPELINE_H

#include "io.h"
#include "options.h"
#include "outcome.h"
#include "stream/stream.h"

/*
 * Parse src to EOF with every page record and run the rules. On success
 * out holds the writer, the result and the status, and *stream_out the
 * stream (for the recipe files and the sink).
 */
bool app_analyse(VmsSource *src, const AppOptions *o,
                 const AppRecipeNames *names, AppOutcome *out,
                 VmsStream **stream_out, GError **errp);

/*
 * The files the recipe refers to, read from the stream's RAM blocks
 * before anything is written (a qcow2 splice invalidates the stream's
 * snapshot handle), each compared with what its path holds now.
 */
typedef struct AppRecipeFiles {
    const GPtrArray *files; /* TrFile *, the recipe's (borrowed) */
    GPtrArray *contents;    /* GBytes *, one per file */
    bool *unchanged;        /* the path holds this content already */
    GPtrArray *before;      /* GBytes *: what the path held (NULL: none) */
    bool *written;          /* by app_recipe_files_write */
    uint64_t bytes;         /* to write: the files not unchanged */
} AppRecipeFiles;

AppRecipeFiles *app_recipe_files_read(const TrResult *r, const VmsStream *s,
                                      VmsSource *src, GError **errp);
/* Each file that changes, written through a temporary file. */
bool app_recipe_files_write(AppRecipeFiles *f, GError **errp);
/*
 * The files as they were before app_recipe_files_write (the write of the
 * container failed and left it as it was: the files describe nothing):
 * those it created removed, those it replaced written back. Best effort.
 */
void app_recipe_files_undo(AppRecipeFiles *f);
void app_recipe_files_free(AppRecipeFiles *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AppRecipeFiles, app_recipe_files_free)
/* Both at once. */
bool app_write_recipe_files(const TrResult *r, const VmsStream *s,
                            VmsSource *src, GError **errp);

/* The same files with their bytes given (GBytes per file, in order). */
bool app_write_recipe_contents(const TrRecipe *r, GPtrArray *contents,
                               GError **errp);
/*
 * The sink's plan for r's edits: a dry run of the write (the qcow2
 * splice checks the whole image, makes every refusal it would make, and
 * counts what it would write and the space it takes). Nothing written;
 * true with nothing planned when the sink would not be written.
 */
bool app_plan(AppSink *sink, VmsSource *old, const AppOptions *o,
              const TrResult *r, AppWriteStats *plan, GError **errp);

/*
 * What would stop the write of plan (NULL: not planned) and of the
 * recipe files (NULL: none), before anything is written (preflight.h):
 * permission to write the sink's file and to create the files, free
 * space for both. Errors begin with the sink's name.
 */
bool app_preflight(const AppSink *sink, const AppWriteStats *plan,
                   const TrResult *r, const AppRecipeFiles *files,
                   GError **errp);

/* Hand out's edits (the old bytes from old) to the sink. */
bool app_apply(AppSink *sink, VmsSource *old, const AppOptions *o,
               AppOutcome *out, GError **errp);

/*
 * The check after writing: the written stream parses to EOF, has the
 * planned size, the rules find nothing left to edit, refuse nothing, and
 * derive the same machine, accelerator and settings from it without a
 * hint from the first run: the recipe is a function of the stream,
 * whoever wrote it.
 */
bool app_verify(VmsSource *written, const AppOptions *o,
                const AppRecipeNames *names, const TrResult *first,
                GError **errp);

/*
 * All of it on one VM state: analyse, recipe files, apply, and verify
 * what the sink reads back (when it can, and something was edited).
 * after_write begins verify's messages ('IMAGE: snapshot 1 "s1": after
 * the fix'). Errors end up in out.
 */
void app_run(AppSource *source, AppSink *sink, const AppRecipeNames *names,
             const char *after_write, const AppOptions *o, AppOutcome *out);

/*
 * What a front end does between the steps of app_run() (a batch's
 * journal): before_write runs once everything is decided (the analysis,
 * the sink's plan, permission and free space) and the run is to write,
 * before the recipe files and the sink; false (with an error) stops the
 * run with nothing written.
 */
typedef struct AppRunHooks {
    bool (*before_write)(const AppOutcome *out, void *opaque, GError **errp);
    void *opaque;
} AppRunHooks;

void app_run_hooked(AppSource *source, AppSink *sink,
                    const AppRecipeNames *names, const char *after_write,
                    const AppOptions *o, const AppRunHooks *hooks,
                    AppOutcome *out);

#endif
