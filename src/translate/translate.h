/*
 * The translator: from a parsed migration stream to the edits and the
 * target settings that make it load in another QEMU.
 *
 *   stream --rules--> findings --plan--> edit list + resume recipe
 *
 * Every incompatibility is one small named rule (R1, R2, ... as in
 * vmstate-reference.md, R17-R24 the project's own, and named ones such as
 * "kvm" or "drop-section"), an entry of one table (rule_table.c) that
 * looks only at evidence in the stream: section names, versions, payload
 * lengths, PCI config bytes, the RAM block list and page records. A rule
 * says why it fired in words a user can check, and either rewrites the
 * stream (an edit), asks the target for a setting (the recipe), drops
 * state on request (a loss) or refuses.
 *
 * What the target creates and accepts (RAM block sizes, section versions,
 * the machine type, how its loader frames a stream) is data: a TrTarget
 * profile (target.c, target_qemu10.c).
 *
 * The library does no file I/O. It reads page data (a ROM's bytes, the
 * qxl ROM header) through the stream's byte source, and describes the
 * files the recipe refers to (extracted ROMs, BIOS and flash images); the
 * caller writes them with tr_extract_block(). The bytes of its edits come
 * from the stream builder (stream/writer.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TR_TRANSLATE_H
#define TR_TRANSLATE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "stream/stream.h"

G_BEGIN_DECLS

#define TR_ERROR (tr_error_quark())
GQuark tr_error_quark(void);

typedef enum {
    TR_ERROR_REFUSED = 1, /* a rule refused: the translation would lose data */
    TR_ERROR_INVALID,     /* caller error (stream parsed without pages, ...) */
    TR_ERROR_CONFLICT,    /* two rules edit the same bytes (a bug) */
    TR_ERROR_STREAM,      /* page data could not be read or is inconsistent */
    TR_ERROR_UNSUPPORTED, /* a stream shape this operation does not handle */
} TrErrorCode;

/* ------------------------------------------------------------------ */
/* Targets                                                             */

typedef struct TrTarget TrTarget;

/* "qemu-7.2" (the default), "qemu-10.0" or "qemu-2.0"; NULL if unknown. */
const TrTarget *tr_target_find(const char *name);
const TrTarget *tr_target_default(void);
const char *tr_target_name(const TrTarget *t);
const char *tr_target_description(const TrTarget *t);
/* The QEMU release the target is ("7.2", "10.0", "2.0"). */
const char *tr_target_qemu_version(const TrTarget *t);
/* Every target, for --help: NULL-terminated. */
const TrTarget *const *tr_targets(void);

/* ------------------------------------------------------------------ */
/* Findings                                                            */

typedef enum {
    TR_ACTION_EDIT,    /* the stream is rewritten */
    TR_ACTION_SETTING, /* the target is configured (see the recipe) */
    TR_ACTION_LOSS,    /* state is dropped because the user asked for it */
    TR_ACTION_REFUSE,  /* cannot be translated without losing data */
    TR_ACTION_NOTE,    /* worth knowing; changes nothing */
} TrAction;

const char *tr_action_name(TrAction a); /* "edit", "setting", ... */

typedef struct TrFinding {
    const char *rule;  /* "R2" */
    const char *title; /* "i8254 v2 with the qemu-kvm flags word" */
    TrAction action;
    char *subject;  /* section idstr or RAM block id */
    char *evidence; /* what in the stream made the rule fire */
    char *change;   /* what is done; for REFUSE: why it cannot be done */
    /*
     * REFUSE only: the way out, when one exists: the option that proceeds
     * (way_out: "--accept-loss=R10", "--drop-section 'X'") and, in one
     * line, what taking it loses (risk); when none exists, no_way_out
     * says why. Exactly one of way_out and no_way_out is set.
     */
    char *way_out;
    char *risk;
    char *no_way_out;
    guint n_edits; /* edits this finding contributed */
    /* Undecided (TrOptions.no_page_data): the decision reads RAM page
     * records; the action is a NOTE until a run with the pages decides. */
    bool needs_pages;
} TrFinding;

/* ------------------------------------------------------------------ */
/* Edits: replace [offset, offset + old_length) of the old stream        */

typedef struct TrEdit {
    uint64_t offset;
    uint64_t old_length;
    GBytes *data; /* the new bytes (may be empty) */
} TrEdit;

/* ------------------------------------------------------------------ */
/* The resume recipe                                                   */

typedef enum {
    TR_FILE_ROM,    /* an option ROM: romfile= */
    TR_FILE_BIOS,   /* the BIOS: -bios */
    TR_FILE_PFLASH, /* a flash image: -drive if=pflash */
} TrFileKind;

const char *tr_file_kind_name(TrFileKind k); /* "rom", "bios", "pflash" */

/* A file the recipe refers to: the pages of one RAM block. */
typedef struct TrFile {
    TrFileKind kind;
    guint block_index; /* the block in the stream given to tr_translate */
    char *block;       /* RAM block id (in the translated stream) */
    char *path;        /* absolute */
    uint64_t length;   /* = the block length */
} TrFile;

/* A device or machine setting the target needs. */
typedef enum {
    TR_SETTING_GLOBAL,  /* a device property: -global DRIVER.PROPERTY=VALUE */
    TR_SETTING_BIOS,    /* the BIOS image: -bios PATH */
    TR_SETTING_PFLASH,  /* a read-only flash image as the first pflash drive */
    TR_SETTING_NO_HPET, /* the machine without an HPET */
} TrSettingKind;

typedef struct TrSetting {
    TrSettingKind kind;
    char *driver;   /* GLOBAL: "cirrus-vga" */
    char *property; /* GLOBAL: "vgamem_mb" */
    char *value;    /* GLOBAL: "16" */
    char *path;     /* BIOS, PFLASH: the file (absolute) */
    /* NO_HPET: the target spells it -no-hpet (else -machine hpet=off) */
    bool no_hpet_option;
} TrSetting;

/* A warning the target prints when it resumes the stream, expected and
 * harmless: QEMU's own words (a prefix of its line) and why it comes. */
typedef struct TrWarning {
    char *message; /* "Expected vmdescription section, but got 0" */
    char *why;
} TrWarning;

/*
 * Plain data: the front ends render it (QEMU options below; libvirt XML in
 * src/libvirt/render.c; JSON and text in the commands' reports).
 */
typedef struct TrRecipe {
    char *machine;      /* -M */
    char *accel;        /* "kvm" when the stream needs it, else NULL */
    char *accel_reason; /* why */
    char *cpu_model;    /* "qemu64" */
    char *cpu_model_id; /* what the guest saw in CPUID, or NULL */
    char *cpu_reason;
    GPtrArray *settings; /* TrSetting *, in the order the rules asked */
    GPtrArray *files;    /* TrFile * */
    GPtrArray *notes;    /* char * */
    GPtrArray *warnings; /* TrWarning *: expected on resume */
    /* The target has no -accel: the command line says -machine accel=. */
    bool accel_machine_property;
} TrRecipe;

/* ------------------------------------------------------------------ */
/* Translating                                                         */

typedef struct TrOptions {
    const TrTarget *target; /* NULL: tr_target_default() */
    const char *machine;    /* NULL: from the target and the stream */
    /* R4: shrink a 16 MiB cirrus vga.vram to the target's size instead of
     * asking for vgamem_mb=16 (refused unless the dropped pages are fill
     * pages). */
    bool shrink_vram;
    /* R6: drop option ROM blocks the target sizes differently instead of
     * extracting them into files (a loss). */
    bool drop_roms;
    /* Where extracted files go (absolute) and how their names start. */
    const char *file_dir;
    const char *file_prefix;
    /* R9: leave the empty block sections (the target knows "block"):
     * removing them shifts the whole VM state and rewrites it. */
    bool keep_block_sections;
    /* --drop-section: idstrs or vmsd names; NULL-terminated, may be NULL. */
    const char *const *drop_sections;
    /*
     * --accept-loss: ids of rules whose loss the user takes (their
     * refusal's way out, e.g. "R10": cut a qxl ROM whose mode list runs
     * past the cut); NULL-terminated, may be NULL. tr_loss_rule_check()
     * tells the ids that take one.
     */
    const char *const *accept_loss;
    /*
     * The stream's page records were not read (e.g. the tail path): decide
     * what the sections and the RAM block list show, and leave a finding
     * whose decision reads page data undecided (TrFinding.needs_pages).
     * The edit list then lacks the page records' own edits.
     */
    bool no_page_data;
} TrOptions;

typedef struct TrResult {
    const TrTarget *target;
    char *writer;        /* who wrote the stream, as far as the rules know */
    GPtrArray *findings; /* TrFinding * */
    GArray *edits;       /* TrEdit, sorted, non-overlapping */
    TrRecipe *recipe;
    bool refused; /* at least one REFUSE finding */
    uint64_t old_size;
    uint64_t new_size;
} TrResult;

/*
 * Run every rule on a stream parsed with VMS_PARSE_RECORD_PAGES and the
 * full walk (not the tail path), or with opts->no_page_data on any parse.
 * src is the stream's byte source (page data is read from it). A refusal
 * is not an error: it is a REFUSE finding and result->refused; the edit
 * list is then empty.
 */
TrResult *tr_translate(const VmsStream *s, VmsSource *src,
                       const TrOptions *opts, GError **errp);
void tr_result_free(TrResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TrResult, tr_result_free)

/* Findings that change the stream or the target (not NOTEs). */
guint tr_result_count_actions(const TrResult *r);
/* The first REFUSE finding, or NULL. */
const TrFinding *tr_result_refusal(const TrResult *r);
/*
 * The first finding left undecided for want of page data, or NULL (then
 * the findings are those of a run with the page records).
 */
const TrFinding *tr_result_undecided(const TrResult *r);

/*
 * Is id a rule whose loss --accept-loss can take? Else an error naming
 * those that take one (TR_ERROR_INVALID).
 */
bool tr_loss_rule_check(const char *id, GError **errp);
/* The rules that take a loss, one "ID: what it loses" line each
 * (g_strfreev). */
char **tr_loss_rules(void);

/* The largest block tr_extract_block() extracts (ROMs, BIOS, flash). */
#define TR_EXTRACT_MAX ((uint64_t)64 * 1024 * 1024)

/*
 * The bytes of a RAM block as the stream holds them: every page record of
 * the block (in stream order, later records win), fill pages expanded,
 * pages never sent read as zeros, exactly block-length bytes.
 */
GBytes *tr_extract_block(const VmsStream *s, VmsSource *src, guint block,
                         GError **errp);

/*
 * Apply edits to bytes in memory (translate IN OUT, tests). The edits
 * must be sorted and must not overlap.
 */
GBytes *tr_apply_edits(const uint8_t *data, size_t len, const GArray *edits,
                       GError **errp);

/* A setting as QEMU options, appended to argv (char *). */
void tr_setting_qemu_args(const TrSetting *s, GPtrArray *argv);
/* Every setting's QEMU options (argv to add to the devices' own; char *). */
GPtrArray *tr_recipe_qemu_args(const TrRecipe *r);
/* -M, -accel and the settings as one shell-quoted line of QEMU options. */
char *tr_recipe_command_line(const TrRecipe *r);
/* Do both ask the target for the same machine, accelerator and settings?
 * (The CPU model is advice from the writer's fingerprint, not compared:
 * a stream reshaped by hand may lose the markers that name its writer.) */
bool tr_recipe_same_settings(const TrRecipe *a, const TrRecipe *b);

G_END_DECLS

#endif
