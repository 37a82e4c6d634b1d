/*
 * libFuzzer target: the forward-only stream decoder (src/stream/live.h),
 * fed in pieces whose size the input's first byte chooses. Oracles beyond
 * "no crash": every event starts where the previous one ended, and a
 * stream read to its end gave back every byte after the first, in order.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream/live.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct Memory {
    const uint8_t *data;
    size_t len, pos, chunk;
} Memory;

static gssize memory_read(void *opaque, void *buf, size_t len, GError **errp)
{
    Memory *m = opaque;
    size_t n = MIN(MIN(len, m->chunk), m->len - m->pos);

    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return (gssize)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Memory m;
    VmsChannel *ch;
    VmsLive *l;
    VmsLiveEvent ev;
    uint64_t at = 0;
    bool ok;

    if (size < 1 || size > (1u << 20)) {
        return 0;
    }
    m = (Memory){
        .data = data + 1, .len = size - 1, .chunk = 1u + data[0] * 37u};
    ch = vms_channel_new(memory_read, &m, "fuzz");
    l = vms_live_new(ch, NULL);
    do {
        ok = vms_live_next(l, &ev, NULL);
        if (!ok) {
            break;
        }
        if (ev.kind != VMS_LIVE_DONE && ev.offset != at) {
            abort(); /* a gap or an overlap */
        }
        at += ev.len;
    } while (ev.kind != VMS_LIVE_DONE);
    if (ok && at != m.len) {
        abort(); /* read to the end without giving back every byte */
    }
    vms_live_free(l);
    vms_channel_free(ch);
    return 0;
}
