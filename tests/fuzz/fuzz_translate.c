/*
 * libFuzzer target: the translator on arbitrary streams. Whatever the
 * bytes, parsing, the rules (forwards with options taken from the first
 * byte, and backwards), applying the edits and extracting RAM blocks must
 * not crash; and edits computed on a stream the parser explained without
 * resync must give a stream that still parses. One input in two (by the
 * first byte) is read by the tail path and translated without page data,
 * as `scan` does: the edits must still apply (they leave page records out,
 * so the result need not parse).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdlib.h>

#include "stream/stream.h"
#include "translate/backwards.h"
#include "translate/translate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_edits(const VmsStream *s, const uint8_t *data, size_t size,
                        const TrResult *r, bool complete)
{
    GBytes *out;
    VmsSource *src;
    VmsStream *again;
    VmsParseOptions popts = {.flags =
                                 VMS_PARSE_RECORD_PAGES | VMS_PARSE_NO_RESYNC};

    if (!r->edits->len) {
        return;
    }
    out = tr_apply_edits(data, size, r->edits, NULL);
    if (!out) {
        abort(); /* the edit list was not sorted or overlapped */
    }
    if (g_bytes_get_size(out) != r->new_size) {
        abort();
    }
    if (complete && !s->n_resynced) {
        gsize len;
        const void *p = g_bytes_get_data(out, &len);
        src = vms_source_new_memory(p, len, "fuzz-edited");
        again = vms_stream_parse(src, &popts, NULL);
        if (!again) {
            abort(); /* our edits broke a stream that parsed */
        }
        vms_stream_free(again);
        vms_source_free(src);
    }
    g_bytes_unref(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    VmsParseOptions popts = {.flags = VMS_PARSE_RECORD_PAGES};
    uint8_t knobs = size ? data[0] : 0;
    VmsSource *src;
    VmsStream *s;
    const char *const drop[] = {"pci-assign", NULL};
    TrOptions o = {
        .target = tr_target_find(knobs & 1    ? "qemu-2.0"
                                 : knobs & 64 ? "qemu-10.0"
                                              : "qemu-7.2"),
        .shrink_vram = knobs & 2,
        .drop_roms = knobs & 4,
        .drop_sections = knobs & 8 ? drop : NULL,
        .file_dir = "/nonexistent",
        .file_prefix = "fuzz",
        .no_page_data = knobs & 128,
    };
    TrBackwardsOptions bo = {
        .as = knobs & 16 ? "qemu-kvm-1.2" : "qemu-kvm-1.0",
        .ram_id_zero = knobs & 32,
    };

    if (size < 1 || size > (1u << 20)) {
        return 0;
    }
    data++;
    size--;
    if (o.no_page_data) {
        popts.flags = VMS_PARSE_TAIL;
    }
    src = vms_source_new_memory(data, size, "fuzz");
    s = vms_stream_parse(src, &popts, NULL);
    if (s) {
        TrResult *r = tr_translate(s, src, &o, NULL);
        if (r) {
            check_edits(s, data, size, r, !o.no_page_data);
            for (guint i = 0; i < r->recipe->files->len; i++) {
                const TrFile *f = g_ptr_array_index(r->recipe->files, i);
                GBytes *b = tr_extract_block(s, src, f->block_index, NULL);
                if (b && g_bytes_get_size(b) != f->length) {
                    abort();
                }
                if (b) {
                    g_bytes_unref(b);
                }
            }
            g_free(tr_recipe_command_line(r->recipe));
            tr_result_free(r);
        }
        r = tr_backwards(s, src, &bo, NULL);
        if (r) {
            check_edits(s, data, size, r, true);
            tr_result_free(r);
        }
        vms_stream_free(s);
    }
    vms_source_free(src);
    return 0;
}
