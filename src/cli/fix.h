/*
 * What `fix`, `translate` and `scan` share on the command line: the
 * options that become an AppOptions, the --help text on targets and
 * options, and the human rendering of outcomes (their JSON: app/report.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QSNAPFIX_FIX_H
#define QSNAPFIX_FIX_H

#include "app/fix.h"
#include "app/options.h"
#include "app/target_probe.h"
#include "app/outcome.h"
#include "app/record.h"
#include "cli.h"

typedef struct FixOptions {
    char *target_name;
    char *machine;
    char *rom_dir;
    char **drop_sections;
    char **accept_loss; /* --accept-loss, split at commas */
    char *qemu;         /* --qemu: the target QEMU's command */
    char *cache_dir;    /* --cache-dir: profiles of QEMU binaries */
    /* The target is the profile of --qemu's binary (--target=auto, or
     * --qemu without --target). */
    bool qemu_profiled;
    AppTargetProbe *probe; /* then: the profile */
    gboolean dry_run;
    gboolean shrink_vram;
    gboolean drop_roms;
    gboolean keep_block_sections;
    gboolean keep_original; /* fix's own option, stored here */
    gboolean reclaim_leaks; /* fix's own option, stored here */
    AppOptions app;         /* derived by fix_parse_command() */
    char *target_help;      /* --target's line in --help */
} FixOptions;

/* fix's options a command accepts but does not list (FixHidden bits). */
typedef enum {
    FIX_HIDE_DRY_RUN = 1 << 0, /* it never writes anyway */
    FIX_HIDE_ROM_DIR = 1 << 1, /* it writes the recipe's files elsewhere */
} FixHidden;

/*
 * Parse a command line: the command's own options, then fix's (into o;
 * hidden: FixHidden bits, accepted but not listed), checked and turned
 * into o->app. Returns -1 to go on, else the exit code.
 */
int fix_parse_command(CliCommand *c, const GOptionEntry *own, FixOptions *o,
                      unsigned hidden, int *argc, char ***argv);
void fix_options_clear(FixOptions *o);
/* The --help text on targets (from the target table), options and, if
 * asked, exit codes. */
char *fix_common_help(bool with_exit_codes);

/* ---- reports (fix_report.c) ------------------------------------------- */

/* What an outcome is about: "IMAGE: snapshot ID "NAME"", or "IMAGE
 * (libvirt save image)" (printable). */
char *fix_outcome_label(const char *image, const AppOutcome *out);
/* Human report of one outcome on stdout; load_hint: how to load it. */
void fix_print_human(const AppOutcome *out, const char *what,
                     const char *load_hint, bool dry_run);
/* A refusal ("qsnapfix: WHAT: refused by RULE (SUBJECT): ...") or an
 * error on stderr, one line; nothing for other outcomes. */
void fix_print_failure(const AppOutcome *out, const char *what);

/* ---- space (fix_space.c) ---------------------------------------------- */

/* The "space:" line of a fix (and, for a full rewrite, a note). */
void fix_print_space_human(const AppWriteStats *st, bool dry_run);
/* A warning on stderr when the image had leaked clusters (the first
 * check's count). */
void fix_print_leaks_human(const char *image, AppOutcome *const *outcomes,
                           guint n);
/* The reclaim before a fix (--reclaim-leaks, --resume): a line on
 * stdout (nothing when none ran). */
void fix_print_reclaim_human(const char *image, const AppReclaim *r,
                             bool dry_run);

/* ---- batches (fix_batch.c) -------------------------------------------- */

struct AppBatchOptions;
/* Run a batch (over paths, a plan, or resuming a journal) and report it
 * in c's output format; returns the exit code. */
int fix_run_batch(const CliCommand *c, const struct AppBatchOptions *bo,
                  char **paths, GPtrArray *plan, const char *resume);

/* ---- the record a fix left (record_report.c) -------------------------- */

/* One or two lines, each begun with indent; nothing for no record. */
void cli_print_record(const AppRecord *r, const char *indent);

#endif
