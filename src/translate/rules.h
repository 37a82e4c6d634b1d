/*
 * The rule framework (internal to src/translate).
 *
 * A rule fixes one incompatibility between what a stream's writer wrote
 * and what the target loads. It is one entry of the rule table
 * (rule_table.c), defined beside its code in rules_*.c: its id and title,
 * the incompatibility as the stream shows it, the actions its findings may
 * take, the earlier rules whose results it reads and the results it hands
 * on, and two functions over one TrContext: detect() looks at the stream
 * and records a finding with its evidence wherever the rule applies;
 * plan() turns one of them into edits (TrPlan), recipe settings
 * (TrRecipe) or a refusal. Rules never do file I/O and never look at file
 * names.
 *
 * A rule sees another rule's work only through what that rule hands on
 * (TrGives) and only if it names that rule in `needs`, which must run
 * before it: tests/translate/test_rule_table.c checks the table.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TR_RULES_H
#define TR_RULES_H

#include "plan.h"
#include "stream/fingerprint.h"
#include "target.h"
#include "translate.h"

typedef struct TrRule TrRule;
/* What the rules that ran handed on (translate.c). */
typedef struct TrForward TrForward;

typedef struct TrContext {
    const VmsStream *stream;
    /* Who wrote it (stream/fingerprint.h), for the rules that ask. */
    const VmsWriterInfo *writer;
    VmsSource *source;
    const TrOptions *opts;
    const TrTarget *target;
    TrResult *result;
    TrPlan *plan;
    TrRecipe *recipe;
    const TrRule *rule; /* the rule detecting or planning now */
    TrForward *forward;
} TrContext;

/* What plan() gets: the finding plus what detect() pointed at. */
typedef struct TrHit {
    const TrRule *rule;
    TrFinding *finding;
    guint section;  /* index into stream->sections, or G_MAXUINT */
    guint block;    /* index into stream->ram_blocks, or G_MAXUINT */
    uint64_t value; /* rule-specific (a length, a byte) */
} TrHit;

/* Results a rule hands on to the rules after it (TrRule.gives). */
typedef enum {
    TR_GIVES_DROPPED_SECTIONS = 1u << 0, /* records it removes */
    TR_GIVES_SECTION_VERSIONS = 1u << 1, /* header versions it changes */
    TR_GIVES_SECTION_IDS = 1u << 2,      /* section ids it renumbers */
    TR_GIVES_DROPPED_BLOCKS = 1u << 3,   /* RAM blocks it removes */
} TrGives;

/* TrRule.actions: what its findings may do (TrAction as bits). */
#define TR_MAY_EDIT   (1u << TR_ACTION_EDIT)
#define TR_MAY_SET    (1u << TR_ACTION_SETTING)
#define TR_MAY_LOSE   (1u << TR_ACTION_LOSS)
#define TR_MAY_REFUSE (1u << TR_ACTION_REFUSE)
#define TR_MAY_NOTE   (1u << TR_ACTION_NOTE)

/* TrRule.needs: the ids of earlier rules, e.g. TR_NEEDS("drop-section"). */
#define TR_NEEDS(...) ((const char *const[]){__VA_ARGS__, NULL})

struct TrRule {
    const char *id;    /* "R2": what its findings are reported as */
    const char *title; /* "i8254 version 2 with the qemu-kvm flags word" */
    /* The incompatibility: what in the stream shows it, and what the
     * target does with it. */
    const char *fixes;
    unsigned actions; /* TR_MAY_* */
    /*
     * The loss --accept-loss=ID takes (its refusal's way out), in words
     * for --help; NULL: the rule takes none that way (drop-section and R6
     * have options of their own).
     */
    const char *loss;
    /* Rules whose results (gives) it reads; NULL-terminated, or NULL. */
    const char *const *needs;
    unsigned gives; /* TrGives */
    /*
     * Append a TrHit (tr_hit_add) for every place the rule applies. A rule
     * about RAM blocks has detect_block instead: the rules with one form
     * one walk over the stream's block list (block by block, every such
     * rule in table order), so that their findings follow the list.
     */
    void (*detect)(TrContext *ctx, GArray *hits);
    void (*detect_block)(TrContext *ctx, guint block, GArray *hits);
    /* RAM walk: the kinds of target RAM spec (1 << TrRamKind) it explains;
     * a spec names its rule (TrRamSpec.rule). */
    unsigned ram_kinds;
    /* Act on one hit: edits, recipe, or set the finding to REFUSE. */
    bool (*plan)(TrContext *ctx, const TrHit *hit, GError **errp);
    /*
     * Does deciding this hit read RAM page records (NULL: never)? Without
     * page data (TrOptions.no_page_data) such a hit is not planned: its
     * finding is left undecided. A rule whose detect() counts pages adds
     * hits it cannot rule out instead, and says yes to them.
     */
    bool (*reads_pages)(const TrContext *ctx, const TrHit *hit);
};

/* Every rule, in the order they run (rule_table.c). */
const TrRule *const *tr_rule_table(guint *n);
/* The rule of this id, or NULL. */
const TrRule *tr_rule_find(const char *id);

/* ---- what earlier rules hand on (only those the running rule needs) --- */

bool tr_section_dropped(const TrContext *ctx, guint section);
/* The version the section's header carries after the edits. */
uint32_t tr_section_version(const TrContext *ctx, guint section);
/* The section id the record carries after the edits. */
uint32_t tr_section_id(const TrContext *ctx, guint section);
bool tr_block_dropped(const TrContext *ctx, guint block);

/* ---- what the running rule hands on (as its `gives` declares) ---------- */

void tr_give_dropped_section(TrContext *ctx, guint section);
void tr_give_section_version(TrContext *ctx, guint section, uint32_t version);
void tr_give_section_id(TrContext *ctx, guint section, uint32_t id);
void tr_give_dropped_block(TrContext *ctx, guint block);

/* ---- helpers for rules ------------------------------------------------ */

/* An empty result for a stream of size bytes (also backwards.c's). */
TrResult *tr_result_new(const TrTarget *target, uint64_t size);
/* Append a finding (action EDIT) to r; takes evidence. */
TrFinding *tr_result_add_finding(TrResult *r, const char *rule,
                                 const char *title, const char *subject,
                                 char *evidence);

/*
 * Record a finding of the running rule (action EDIT by default; plan()
 * may change it) and a hit pointing at a section and/or block. Returns
 * the finding.
 */
TrFinding *tr_hit_add(TrContext *ctx, GArray *hits, guint section, guint block,
                      uint64_t value, const char *subject, char *evidence);
/* Set what the finding does (takes ownership of change). */
void tr_finding_set(TrFinding *f, TrAction action, char *change);
/*
 * Refuse: why (change), and the way out: the option that proceeds and
 * what it loses (takes change and risk; the option is copied) ...
 */
void tr_refuse(TrFinding *f, char *change, const char *way_out, char *risk);
/* ... or, where none exists, why (takes change and why_none). */
void tr_refuse_no_way_out(TrFinding *f, char *change, char *why_none);
/* "--drop-section 'IDSTR'", the way out of a section refused, and what
 * it loses ("the state of 'IDSTR' (N bytes) is lost: ..."). */
char *tr_drop_section_option(const VmsSection *sec);
char *tr_section_loss(const VmsSection *sec);
/* Did the user take this rule's loss (--accept-loss=ID)? */
bool tr_loss_accepted(const TrContext *ctx, const char *rule);

/* Sections the rules look at: not dropped, START/FULL with an idstr. */
bool tr_section_live(const TrContext *ctx, guint i);
/* The vmsd name of a section ("" for records without an idstr). */
const char *tr_vmsd(const VmsSection *sec);

/* The section payload bytes (device sections keep a copy). */
const uint8_t *tr_payload(const VmsSection *sec, size_t *len);
/* Section i if it is live and of vmsd, else NULL (a detect loop's test). */
const VmsSection *tr_live_device(const TrContext *ctx, guint i,
                                 const char *vmsd);
/* The payload of section i if it is live, of vmsd, and has at least
 * min_len bytes (those a rule reads at fixed offsets), else NULL. */
const uint8_t *tr_live_device_payload(const TrContext *ctx, guint i,
                                      const char *vmsd, size_t min_len,
                                      const VmsSection **sec);

/* ---- the RAM block walk (rules_ram.c) ---------------------------------- */

/*
 * The detect_block of every RAM walk rule: a hit when the block's length
 * or name is not what the target creates and the target's spec for it
 * names the running rule (no spec, or a spec naming none: "ram").
 */
void tr_ram_detect_block(TrContext *ctx, guint block, GArray *hits);
/*
 * A spec's length for the recipe's machine: 0 (not known) for the sizes a
 * machine type decides (BIOS, option ROMs, video memory) on a machine
 * other than the profile's.
 */
uint64_t tr_ram_length(const TrContext *ctx, const TrRamSpec *spec);
/* The target's spec for a hit's block, or NULL. */
const TrRamSpec *tr_ram_spec(const TrContext *ctx, const TrHit *hit);
/*
 * Refuse a block the recipe would have to hand over as a file (a ROM,
 * BIOS or flash image) when it is larger than any of those: returns true
 * when it refused. way_out (and its risk): an option that proceeds
 * without the file, or NULL: none.
 */
bool tr_ram_refuse_too_large(TrContext *ctx, const TrHit *hit,
                             const char *way_out, const char *risk);
/* Refuse a block whose size no setting of the target changes. */
bool tr_ram_refuse_fixed(TrContext *ctx, const TrHit *hit);
/* Page records of a block at or beyond an offset. */
typedef struct TrPageCensus {
    uint64_t full, fill;
    uint64_t fill_by_byte[256];
} TrPageCensus;
void tr_page_census(const VmsStream *s, guint block, uint64_t from,
                    TrPageCensus *c);
/* "3 data page(s), 2 fill page(s) (0x00: 2)" */
char *tr_page_census_str(const TrPageCensus *c);

/* ---- recipe settings (recipe.c), in the order the rules ask for them --- */

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
