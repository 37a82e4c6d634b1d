/*
 * Resynchronisation: find where a payload we cannot explain ends.
 *
 * Candidates are positions where a record could start (its structure: type
 * byte, plausible section id, printable idstr, small instance and version;
 * or a footer with our id when the stream has footers). A candidate is
 * accepted only if the rest of the stream parses from it on to EOF. The
 * section is then marked opaque: the translator never edits inside it.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "parser.h"

#include <string.h>

#define MAX_RESYNC_DEPTH 3
/*
 * Confirmation parses one resync may try, and all resyncs of one parse
 * together. Real streams need a handful (a section header is rarely
 * imitated by payload bytes); the caps bound the work on hostile input.
 */
#define MAX_TRIALS_PER_RESYNC 256
#define MAX_TRIALS_PER_PARSE  4096
#define RESYNC_CHUNK          65536

static gpointer copy_live(gpointer src, gpointer unused)
{
    (void)unused;
    return g_memdup2(src, sizeof(LiveSection));
}

/*
 * A cheap first look at the bytes before the full plausibility check
 * (most positions fail here: zero bytes are everywhere in payloads).
 * Near the end of the window it says yes and leaves it to the full check.
 */
static bool quick_candidate(const uint8_t *b, size_t avail, bool last,
                            bool footers)
{
    if (footers) {
        return b[0] == VMS_SECTION_FOOTER;
    }
    switch (b[0]) {
    case VMS_EOF:
        return last || avail < 2 || b[1] == VMS_VMDESCRIPTION;
    case VMS_SECTION_START:
    case VMS_SECTION_FULL:
        return avail < 7 ||
               (!b[1] && !b[2] && b[5] && b[6] > 0x20 && b[6] < 0x7f);
    case VMS_SECTION_PART:
    case VMS_SECTION_END:
        return avail < 3 || (!b[1] && !b[2]);
    default:
        return false;
    }
}

/* Does the stream parse from `at` on to EOF? (Nothing is kept.) */
static bool parses_to_eof(Parser *p, uint64_t at)
{
    VmsStream *trial = vms_stream_new(p->r.src);
    Parser t;
    GHashTableIter it;
    gpointer key, value;
    bool ok;

    vms_parser_init(&t, p->r.src, trial, p->flags & ~VMS_PARSE_RECORD_PAGES,
                    p->layouts);
    if (!p->dead_ends) {
        p->dead_ends =
            g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    }
    t.dead_ends = p->dead_ends;
    t.trials = p->trials;
    t.trial = true;
    t.resync_depth = p->resync_depth + 1;
    t.last_block = p->last_block;
    t.footers_decided = true;
    trial->has_footers = p->s->has_footers;
    for (guint i = 0; i < p->s->ram_blocks->len; i++) {
        VmsRamBlock b = *vms_stream_block(p->s, i);
        b.id = g_strdup(b.id);
        g_array_append_val(trial->ram_blocks, b);
    }
    g_hash_table_iter_init(&it, p->live);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        g_hash_table_insert(t.live, key, copy_live(value, NULL));
    }
    vms_reader_seek(&t.r, at);
    ok = vms_parse_records(&t, NULL);
    p->hit_depth_limit |= t.hit_depth_limit;
    vms_parser_cleanup(&t);
    vms_stream_free(trial);
    return ok;
}

bool vms_resync(Parser *p, VmsSection *sec, GError **errp)
{
    VmsReader *r = &p->r;
    uint64_t from = sec->payload_offset;
    uint64_t limit = r->limit;
    bool footers = p->s->has_footers;
    guint trials = 0;
    uint8_t *win;

    if (p->resync_depth >= MAX_RESYNC_DEPTH) {
        p->hit_depth_limit = true;
        g_set_error(errp, VMS_ERROR, VMS_ERROR_BAD_PAYLOAD,
                    "offset 0x%" PRIx64 ": too many unknown sections in a "
                    "row to resynchronise",
                    from);
        return false;
    }
    /* Scan a copy: the checks below move the reader's buffer. */
    win = g_malloc(RESYNC_CHUNK);
    for (uint64_t pos = from; pos < limit; pos += RESYNC_CHUNK) {
        size_t n = (size_t)MIN(limit - pos, (uint64_t)RESYNC_CHUNK);
        const uint8_t *p_win = vms_reader_peek_at(r, pos, n);
        if (!p_win) {
            break;
        }
        memcpy(win, p_win, n);
        for (size_t i = 0; i < n; i++) {
            uint64_t at = pos + i;
            uint64_t next = footers ? at + 5 : at;

            if (!quick_candidate(win + i, n - i, at + 1 == limit, footers) ||
                !vms_record_plausible(p, at, sec->section_id)) {
                continue;
            }
            if (++trials > MAX_TRIALS_PER_RESYNC ||
                ++*p->trials > MAX_TRIALS_PER_PARSE) {
                g_free(win);
                g_set_error(errp, VMS_ERROR, VMS_ERROR_BAD_PAYLOAD,
                            "offset 0x%" PRIx64 ": '%s' version %u: too "
                            "many places look like a section header to "
                            "resynchronise (corrupt stream?)",
                            from, vms_section_vmsd_name(sec), sec->version_id);
                return false;
            }
            if (!parses_to_eof(p, next)) {
                continue;
            }
            g_free(win);
            sec->payload_len = at - from;
            sec->located_by_resync = true;
            sec->layout = NULL;
            sec->kind = VMS_KIND_OPAQUE;
            if (sec->subsections) {
                for (guint k = 0; k < sec->subsections->len; k++) {
                    g_free(
                        g_array_index(sec->subsections, VmsSubsection, k).name);
                }
                g_array_set_size(sec->subsections, 0);
            }
            p->s->n_resynced++;
            r->pos = at;
            return true;
        }
    }
    g_free(win);
    g_set_error(errp, VMS_ERROR, VMS_ERROR_BAD_PAYLOAD,
                "offset 0x%" PRIx64 ": no layout explains '%s' version %u, "
                "and no record boundary after it parses on to EOF "
                "(corrupt stream, or a device qsnapfix does not know)",
                from, vms_section_vmsd_name(sec), sec->version_id);
    return false;
}
