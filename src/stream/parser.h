/*
 * Parser state shared by the container, RAM, resync and tail code
 * (internal to src/stream).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VMS_PARSER_H
#define VMS_PARSER_H

#include "layout_internal.h"
#include "reader.h"
#include "stream.h"

/* What a START announced, for the PART/END records that follow it. */
typedef struct LiveSection {
    VmsSectionKind kind;
    guint start_index;
    const char *idstr; /* borrowed from the START section */
    uint32_t instance_id;
    uint32_t version_id;
} LiveSection;

typedef struct Parser {
    VmsReader r;
    VmsStream *s;
    VmsParseFlags flags;
    const VmsLayoutSet *layouts;
    GHashTable *live; /* section id -> LiveSection * */
    int last_block;   /* RAM block of the previous page record (CONTINUE) */
    guint resync_depth;
    /*
     * Resync trials: record starts from which the rest of the stream is
     * known not to parse (parsing from a record start is deterministic, so
     * one failed trial settles every start it passed). Shared by the root
     * parser and its trials; NULL outside resync.
     */
    GHashTable *dead_ends;
    bool trial;
    bool hit_depth_limit; /* a verdict that depended on the nesting depth */
    guint *trials;        /* confirmation parses so far (shared) */
    guint trials_own;
    bool footers_decided;
    bool stop_at_pages; /* tail path head: stop before the first page */
    bool stopped;       /* ... and it did */
    uint64_t stop_offset;
} Parser;

void vms_parser_init(Parser *p, VmsSource *src, VmsStream *s,
                     VmsParseFlags flags, const VmsLayoutSet *layouts);
void vms_parser_cleanup(Parser *p);
/* A fresh stream object for src. */
VmsStream *vms_stream_new(VmsSource *src);
void vms_section_free(VmsSection *sec);

bool vms_parse_header(Parser *p, GError **errp);
/* Records from the position to EOF (and the trailer). */
bool vms_parse_records(Parser *p, GError **errp);
/* One record at the position; *done after EOF. */
bool vms_parse_record(Parser *p, bool *done, GError **errp);

/* RAM and block live payloads (ram.c). */
bool vms_parse_ram_payload(Parser *p, VmsSection *sec, GError **errp);
bool vms_parse_block_payload(Parser *p, VmsSection *sec, GError **errp);

/* A device payload by its layout tables, else by resync (payload.c). */
bool vms_parse_device_payload(Parser *p, VmsSection *sec, GError **errp);
/* Printable, non-empty: what a section name looks like. */
bool vms_idstr_plausible(const uint8_t *s, size_t len);
/* Could a record start at offset? (cheap, structural) */
bool vms_record_plausible(Parser *p, uint64_t offset, uint32_t section_id);
/* Find the end of sec's payload from `from` by resync (resync.c). */
bool vms_resync(Parser *p, VmsSection *sec, GError **errp);

/* The tail fast path (tail.c); false + no error = use the full walk. */
VmsStream *vms_parse_tail(VmsSource *src, const VmsParseOptions *opts,
                          GError **errp);

/* "section 18 'i8254' (FULL at 0x3dd87a)" */
char *vms_section_describe(const VmsSection *sec);

#endif
