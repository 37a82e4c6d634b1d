/*
 * Synthetic migration streams for the translator's unit tests, made with
 * the project's stream builder (src/stream/writer.h), and a harness that
 * parses a stream, translates it, applies the edits and translates the
 * result again.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TEST_TRANSLATE_STREAMS_H
#define TEST_TRANSLATE_STREAMS_H

#include <glib.h>

#include "stream/writer.h"
#include "translate/translate.h"

#define KiB(n) ((uint64_t)(n)*1024)
#define MiB(n) ((uint64_t)(n)*1024 * 1024)

/* The first part of every test stream: header and a START "ram" with the
 * block list. The caller adds pages, then calls ts_ram_end(). */
VmsBuilder *ts_begin(GByteArray *out, uint32_t ram_id,
                     const VmsBlockSpec *blocks, guint n);
void ts_ram_end(VmsBuilder *b);
/* A FULL device section. */
void ts_full(VmsBuilder *b, uint32_t id, const char *idstr, uint32_t instance,
             uint32_t version, const void *payload, size_t len);
/* EOF and the bytes. */
GBytes *ts_finish(VmsBuilder *b, GByteArray *out);

/* A FULL device section of a test stream (payload NULL: `len` zero
 * bytes). */
typedef struct TsDev {
    const char *idstr;
    uint32_t instance, version;
    GBytes *payload;
    size_t len;
} TsDev;

/* A stream with one RAM page (a 64 KiB pc.ram) and these sections. */
GBytes *ts_stream_with(const TsDev *devs, guint n);

/* Device payloads (zeros where the value does not matter). */
GBytes *ts_pci_device(uint16_t vendor, uint16_t device, uint16_t class_code,
                      uint8_t revision, size_t extra);
GBytes *ts_virtio_balloon(uint16_t class_code);
/* A UHCI v2 payload: the PCI device, then the _EQUAL num_ports (2). */
GBytes *ts_uhci_v2(void);
/* A 4096-byte page whose first bytes are a qxl ROM header with the mode
 * list at modes_offset holding n_modes entries. */
uint8_t *ts_qxl_rom_page(uint32_t modes_offset, uint32_t n_modes);

/* Options for a named target (asserts that it exists). */
TrOptions ts_target(const char *name);
/* The value of an integer field of a section (idstr, instance or -1). */
uint64_t ts_field_value(const VmsStream *s, const char *idstr, int64_t instance,
                        const char *path);

/* One translation run: parse (with page records), translate. */
typedef struct TsRun {
    GBytes *bytes;
    VmsSource *src;
    VmsStream *s;
    TrResult *r;
} TsRun;

/* Every run checks its findings with ts_assert_findings_from_table(). */
TsRun *ts_run(GBytes *bytes, const TrOptions *opts);
void ts_run_free(TsRun *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TsRun, ts_run_free)

/*
 * The run `scan` makes by default: the stream read by the tail path (or,
 * where that finds nothing, walked without recording pages), translated
 * with TrOptions.no_page_data (set on a copy of opts).
 */
TsRun *ts_run_without_pages(GBytes *bytes, const TrOptions *opts);
/*
 * What a run without page data decided is what the run with them decided:
 * the same findings in the same order (rule, subject, evidence); each one
 * not undecided with the same action and change; the same refusal and
 * recipe when nothing is undecided. Returns how many are undecided.
 */
guint ts_assert_decided_alike(const TsRun *with_pages,
                              const TsRun *without_pages);

/*
 * Every finding carries the id and title of a rule of the rule table and
 * an action that rule declares it may take.
 */
void ts_assert_findings_from_table(const TrResult *r);

/* The stream with the run's edits applied. */
GBytes *ts_apply(const TsRun *run);
/* The finding of a rule (and subject, if given), or NULL. */
const TrFinding *ts_finding(const TrResult *r, const char *rule,
                            const char *subject);
/*
 * Apply the edits and translate the result again with the same options:
 * asserts that the second run needs no edits and refuses nothing, and
 * returns it for further checks.
 */
TsRun *ts_rerun(const TsRun *run, const TrOptions *opts);

#endif
