/*
 * What a translation is asked to do, whatever the front end: the target,
 * the choices between a setting and an edit, where the recipe's files go,
 * whether to write at all. Plain data: the command line (src/cli) or any
 * other front end fills it in; strings are borrowed from the caller.
 *
 * And where the recipe's files (ROM/BIOS/flash images extracted from the
 * stream) go and how they are named.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_OPTIONS_H
#define APP_OPTIONS_H

#include <glib.h>
#include <signal.h>
#include <stdbool.h>

#include "translate/translate.h"

/* The steps of a run that go through a whole VM state. */
typedef enum {
    APP_STEP_READ,   /* parsing it to EOF */
    APP_STEP_WRITE,  /* writing the translated one (or extracting it) */
    APP_STEP_VERIFY, /* reading back what was written */
} AppStep;

/*
 * Who watches those steps (a progress line): fn is called as a step
 * starts (done 0), as it goes, and as it ends (done == total), with what
 * the bytes are (the source's name, e.g. 'vm.qcow2: snapshot 1 "s1"');
 * done never goes back within a step. fn NULL: nobody watches.
 */
typedef struct AppProgress {
    void (*fn)(AppStep step, const char *what, uint64_t done, uint64_t total,
               void *opaque);
    void *opaque;
} AppProgress;

typedef struct AppOptions {
    const TrTarget *target; /* NULL: tr_target_default() */
    const char *machine;    /* recipe's -M; NULL: from the target and stream */
    const char *rom_dir;    /* recipe files; NULL: beside the input */
    const char *const *drop_sections; /* NULL-terminated; may be NULL */
    const char *const *accept_loss;   /* rule ids (--accept-loss); may be
                                         NULL */
    bool shrink_vram;         /* R4: cut vga.vram instead of a setting */
    bool drop_roms;           /* R6: drop option ROMs instead of files */
    bool keep_block_sections; /* R9: keep the empty 'block' sections */
    bool keep_original;       /* the sink keeps the old VM state too */
    bool reclaim_leaks;       /* fix: give back leaked clusters first */
    bool dry_run;             /* plan only: write nothing */
    AppProgress progress;     /* how the front end watches: not what is
                                 asked, and never changes a result */
    /* libvirt save images: */
    bool discard_original; /* no PATH.orig (kept unless asked) */
    const char *emulator;  /* the domain's <emulator> when the one it names
                              does not exist here; NULL: qemu-system-x86_64
                              on PATH */
    /* Non-zero: stop at the next safe point (set by the caller's SIGINT
     * handler; a write before its commit gives back what it took). */
    const volatile sig_atomic_t *cancel;
    /* The batch the fix belongs to (its journal's id): kept in the
     * image's record, so that a resumed batch recognises its own fixes. */
    const char *batch_id;
} AppOptions;

/*
 * Recipe files are DIR/PREFIX.BLOCK.rom and the like (the translator
 * appends the block's part): DIR is --rom-dir or the input's directory
 * (absolute), PREFIX the input's base name and, for a snapshot, its name
 * made file-name safe ("disk.qcow2.s1").
 */
typedef struct AppRecipeNames {
    char *dir;
    char *prefix;
} AppRecipeNames;

void app_recipe_names_for_snapshot(AppRecipeNames *n, const AppOptions *o,
                                   const char *image,
                                   const char *snapshot_name);
void app_recipe_names_for_file(AppRecipeNames *n, const AppOptions *o,
                               const char *path);
void app_recipe_names_clear(AppRecipeNames *n);

/* The translator's options for these options and recipe file names. */
TrOptions app_tr_options(const AppOptions *o, const AppRecipeNames *names);

#endif
