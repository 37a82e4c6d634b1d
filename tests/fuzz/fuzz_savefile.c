/*
 * libFuzzer target: the libvirt save image header and domain XML area
 * (src/libvirt/savefile.h) from bytes in memory. Oracles beyond "no
 * crash": what parses is built again with LVSAVE_LAYOUT_KEEP into exactly
 * the bytes before the stream, minus stray bytes in the padding, and
 * parses again to the same image.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libvirt/savefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_image(const LvSaveImage *a, const LvSaveImage *b)
{
    if (strcmp(a->xml, b->xml) || !a->cookie != !b->cookie ||
        (a->cookie && strcmp(a->cookie, b->cookie)) ||
        memcmp(&a->header, &b->header, sizeof(a->header))) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    LvSaveHeader h;
    LvSaveImage *img, *again;
    GBytes *built;
    size_t stray = 0;
    gsize len;
    const uint8_t *b;

    if (!lvsave_header_parse(data, size, &h, NULL)) {
        return 0;
    }
    img = lvsave_image_parse(&h, data + LVSAVE_HEADER_SIZE,
                             size - LVSAVE_HEADER_SIZE, &stray, NULL);
    if (!img) {
        return 0;
    }
    built = lvsave_build(img, LVSAVE_LAYOUT_KEEP, NULL);
    if (!built) {
        abort(); /* it came from a file of this layout: it fits */
    }
    b = g_bytes_get_data(built, &len);
    if (len != lvsave_stream_offset(&h)) {
        abort();
    }
    if (!img->header.cookie_offset != !img->cookie) {
        abort();
    }
    /* The header fields, XML and cookie come back; only stray bytes in
     * the padding and a cookie offset past a short XML's NUL may move. */
    again = lvsave_parse(b, len, NULL);
    if (!again) {
        abort();
    }
    if (!stray && !memcmp(b + 16, data + 16, 20) && memcmp(b, data, len) != 0) {
        abort();
    }
    again->header.cookie_offset = img->header.cookie_offset;
    again->header.data_len = img->header.data_len;
    same_image(img, again);
    lvsave_image_free(again);
    g_bytes_unref(built);
    lvsave_image_free(img);
    return 0;
}
