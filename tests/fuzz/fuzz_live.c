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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    VmsChannel *ch;
    VmsLive *l;
    VmsLiveEvent ev;
    uint64_t at = 0;
    bool ok;

    if (size < 1 || size > (1u << 20)) {
        return 0;
    }
    ch = vms_channel_new_memory(data + 1, size - 1, 1u + data[0] * 37u, "fuzz");
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
    if (ok && at != size - 1) {
        abort(); /* read to the end without giving back every byte */
    }
    vms_live_free(l);
    vms_channel_free(ch);
    return 0;
}
