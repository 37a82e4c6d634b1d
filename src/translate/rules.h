/*
 * The rule framework (internal to src/translate).
 *
 * A rule is a pair of functions over one TrContext: detect() looks at the
 * stream and records findings with their evidence; plan() turns one of its
 * findings into edits (TrPlan), recipe settings (TrRecipe) or a refusal.
 * Rules never do file I/O and never look at file names.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TR_RULES_H
#define TR_RULES_H

#include "plan.h"
#include "target.h"
#include "translate.h"

typedef struct TrContext {
    const VmsStream *stream;
    VmsSource *source;
    const TrOptions *opts;
    const TrTarget *target;
    TrResult *result;
    TrPlan *plan;
    TrRecipe *recipe;
    /* Sections the user dropped (--drop-section), by index: rules skip
     * them. */
    bool *dropped;
    /* The version each section will carry after the edits (rules that
     * change a header version record it here for the version check). */
    uint32_t *version;
    /* New idstrs (R3), or NULL per section. */
    char **idstr;
    /* The section id each record will carry (R8 renumbers; footers that
     * R19 adds repeat it). */
    uint32_t *section_id;
} TrContext;

/* What plan() gets: the finding plus what detect() pointed at. */
typedef struct TrHit {
    TrFinding *finding;
    guint section;  /* index into stream->sections, or G_MAXUINT */
    guint block;    /* index into stream->ram_blocks, or G_MAXUINT */
    uint64_t value; /* rule-specific (a length, a byte) */
} TrHit;

typedef struct TrRule {
    const char *id;
    const char *title;
    /* Append TrHit to hits for every place the rule applies. */
    void (*detect)(TrContext *ctx, GArray *hits);
    /* Act on one hit: edits, recipe, or set the finding to REFUSE. */
    bool (*plan)(TrContext *ctx, const TrHit *hit, GError **errp);
    /*
     * Does deciding this hit read RAM page records (NULL: never)? Without
     * page data (TrOptions.no_page_data) such a hit is not planned: its
     * finding is left undecided. A rule whose detect() counts pages adds
     * hits it cannot rule out instead, and says yes to them.
     */
    bool (*reads_pages)(const TrContext *ctx, const TrHit *hit);
} TrRule;

/* The rules, in the order they run (rules_*.c). */
extern const TrRule tr_rule_drop_section;
extern const TrRule tr_rule_unknown_section;
extern const TrRule tr_rule_opaque_section; /* parsed by resync */
extern const TrRule tr_rule_r1_piix4_pm;
extern const TrRule tr_rule_r2_i8254;
extern const TrRule tr_rule_r3_usb_path;
extern const TrRule tr_rule_r8_live_ids;
extern const TrRule tr_rule_r9_block;
extern const TrRule tr_rule_r16_balloon_class;
extern const TrRule tr_rule_ram_blocks;  /* R4/R5, R6/R7, R10, R17 */
extern const TrRule tr_rule_machine;     /* R15: machine type, CPU model */
extern const TrRule tr_rule_environment; /* kvmclock, hpet, qxl revision */
extern const TrRule tr_rule_r18_configuration; /* rules_framing.c */
extern const TrRule tr_rule_r19_footers;
extern const TrRule tr_rule_r20_fill_pages;  /* rules_fill.c */
extern const TrRule tr_rule_r21_piix4_pcihp; /* rules_defaults.c */
extern const TrRule tr_rule_r22_vga_revision;
extern const TrRule tr_rule_r23_xstate; /* rules_cpu.c */

/* ---- helpers for rules ------------------------------------------------ */

/* An empty result for a stream of size bytes (also backwards.c's). */
TrResult *tr_result_new(const TrTarget *target, uint64_t size);
/* Append a finding (action EDIT) to r; takes evidence. */
TrFinding *tr_result_add_finding(TrResult *r, const char *rule,
                                 const char *title, const char *subject,
                                 char *evidence);

/*
 * Record a finding (action EDIT by default; plan() may change it) and a
 * hit pointing at a section and/or block. Returns the finding.
 */
TrFinding *tr_hit_add(TrContext *ctx, GArray *hits, const TrRule *rule,
                      guint section, guint block, uint64_t value,
                      const char *subject, char *evidence);
/* Give a finding another rule id (and that rule's title). */
void tr_finding_rule(TrFinding *f, const char *rule);
/* Set what the finding does (takes ownership of change). */
void tr_finding_set(TrFinding *f, TrAction action, char *change);

/* Sections the rules look at: not dropped, START/FULL with an idstr. */
bool tr_section_live(const TrContext *ctx, guint i);
/* The vmsd name of a section ("" for records without an idstr). */
const char *tr_vmsd(const VmsSection *sec);
/* Is the stream's idstr a device path + vmsd, e.g. "0000:00:01.2/uhci"? */
bool tr_is_pci_path(const char *s, size_t len);

/* The section payload bytes (device sections keep a copy). */
const uint8_t *tr_payload(const VmsSection *sec, size_t *len);

/* Recipe settings (recipe.c), in the order the rules ask for them. */
/* -global DRIVER.PROP=VALUE, once. */
void tr_recipe_add_global(TrRecipe *r, const char *driver, const char *prop,
                          const char *value);
/* -bios FILE */
void tr_recipe_add_bios(TrRecipe *r, const char *path);
/* A read-only pflash drive holding FILE as the machine's first flash. */
void tr_recipe_add_pflash(TrRecipe *r, const char *path);
/* No HPET: -no-hpet where no_hpet_option, else -machine hpet=off. */
void tr_recipe_add_no_hpet(TrRecipe *r, bool no_hpet_option);
void tr_recipe_add_note(TrRecipe *r, char *note);
/* The file for a block's bytes under opts->file_dir; returns its path. */
const char *tr_recipe_add_file(TrContext *ctx, TrFileKind kind,
                               guint block_index, const char *block_id,
                               uint64_t length);
/*
 * Does the translated stream keep the machine type the stream names (else
 * R18 names the target's own, and the target profile judges the stream)?
 */
bool tr_machine_kept(const TrTarget *t, const char *named);

/* Human sizes for evidence: "16 MiB", "64 KiB", "0x3000 bytes". */
char *tr_size_str(uint64_t bytes);

#endif
