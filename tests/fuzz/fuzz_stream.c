/*
 * libFuzzer target: the migration stream parser (container, RAM records,
 * layout interpreter, resync, tail path) from a stream held in memory.
 * Oracles beyond "no crash": a stream that parses must be written back to
 * exactly its bytes, and its fields must walk without error.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream/fingerprint.h"
#include "stream/layout.h"
#include "stream/stream.h"
#include "stream/vmdesc.h"
#include "stream/writer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool count_fields(void *opaque, const VmsFieldEvent *ev)
{
    (*(size_t *)opaque) += ev->size;
    return true;
}

static void exercise(VmsStream *s)
{
    VmsWriterInfo *w = vms_fingerprint(s);
    size_t bytes = 0;

    for (guint i = 0; i < s->sections->len; i++) {
        VmsSection *sec = vms_stream_section(s, i);
        GError *err = NULL;
        if (sec->layout && !vms_section_walk(sec, count_fields, &bytes, &err)) {
            /* A payload the parser accepted must walk again. */
            abort();
        }
        g_clear_error(&err);
    }
    if (s->has_vmdesc) {
        vms_stream_check_vmdesc(s, NULL, NULL);
    }
    vms_writer_info_free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    VmsSource *src;
    VmsStream *s;

    if (size > (1u << 20)) {
        return 0;
    }
    /*
     * Resync and the tail path search the stream for section headers and
     * cost far more per input than the parser itself; run them on every
     * other input (chosen by a property of the input, so that a crash
     * reproduces) so that the fuzzer also gets deep into the parser fast.
     */
    bool searches = size & 1;
    src = vms_source_new_memory(data, size, "fuzz");
    {
        VmsParseOptions o = {
            .flags =
                VMS_PARSE_RECORD_PAGES | (searches ? 0 : VMS_PARSE_NO_RESYNC),
        };
        s = vms_stream_parse(src, &o, NULL);
    }
    if (s) {
        GByteArray *out = g_byte_array_new();
        VmsBuilder *b = vms_builder_new_bytes(out);
        if (!vms_stream_write(s, src, b, NULL) ||
            !vms_builder_finish(b, NULL) || out->len != size ||
            memcmp(out->data, data, size)) {
            abort(); /* write(parse(x)) must be x */
        }
        vms_builder_free(b);
        g_byte_array_free(out, TRUE);
        exercise(s);
        vms_stream_free(s);
    }
    if (searches) {
        VmsParseOptions o = {.flags = VMS_PARSE_TAIL | VMS_PARSE_TAIL_ONLY};
        s = vms_stream_parse(src, &o, NULL);
        if (s) {
            exercise(s);
            vms_stream_free(s);
        }
    }
    vms_source_free(src);
    return 0;
}
