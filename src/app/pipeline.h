/*
 * The pipeline every front end runs on one VM state:
 *
 *   source --parse--> stream --rules--> findings, edits, recipe  (analyse)
 *          recipe files (ROM/BIOS/flash) written beside         (files)
 *          --edits--> sink                                       (apply)
 *   sink --read back, parse, rules--> nothing left to do         (verify)
 *
 * Each step records what it found or did in an AppOutcome. The recipe's
 * files are written before the sink is: they come from the stream as read
 * now (a qcow2 splice invalidates the snapshot handle), and a directory
 * they cannot be written to must stop the run before the image is
 * touched. A refusal stops before any write; a dry run writes nothing
 * (sinks that can plan say what they would write).
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
 * The files the recipe refers to, from the stream's RAM blocks: all read
 * first, then each written (only if its content differs, through a
 * temporary file).
 */
bool app_write_recipe_files(const TrResult *r, const VmsStream *s,
                            VmsSource *src, GError **errp);

/* The same files with their bytes given (GBytes per file, in order). */
bool app_write_recipe_contents(const TrRecipe *r, GPtrArray *contents,
                               GError **errp);

/* Hand out's edits (the old bytes from old) to the sink. */
bool app_apply(AppSink *sink, VmsSource *old, const AppOptions *o,
               AppOutcome *out, GError **errp);

/*
 * The check after writing: the written stream parses to EOF, has the
 * planned size, the rules find nothing left to edit, refuse nothing, and
 * ask for the same settings (on the machine first chose).
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
 * journal): before_write runs once the analysis decided to write, before
 * the recipe files and the sink; false (with an error) stops the run
 * with nothing written.
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
