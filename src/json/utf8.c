/*
 * (Modified) UTF-8 the way QEMU reads it (util/unicode.c), so that our
 * JSON strings come out as qemu-img's do, invalid bytes included.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "json_internal.h"

static bool is_noncharacter(uint32_t cp)
{
    return (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
}

int qj_utf8_decode(const char *s, size_t n, const char **end)
{
    /* smallest code point for 2, 3, ... 6 bytes (shorter is overlong) */
    static const uint32_t min_cp[] = {0x80, 0x800, 0x10000, 0x200000,
                                      0x4000000};
    const unsigned char *p = (const unsigned char *)s;
    unsigned lead = *p++;
    unsigned len = 0;
    uint32_t cp;

    if (lead < 0x80) {
        *end = (const char *)p;
        return (int)lead;
    }
    if (lead >= 0xFE || !(lead & 0x40)) {
        *end = (const char *)p; /* 0xFE, 0xFF or a continuation byte */
        return -1;
    }
    for (unsigned mask = 0x80; lead & mask; mask >>= 1) {
        len++;
    }
    cp = lead & ((1u << (7 - len)) - 1);
    for (unsigned i = 1; i < len; i++) {
        unsigned byte = i < n ? *p : 0;
        if ((byte & 0xC0) != 0x80) {
            *end = (const char *)p; /* continuation byte missing */
            return -1;
        }
        p++;
        cp = (cp << 6) | (byte & 0x3F);
    }
    *end = (const char *)p;
    if (cp > 0x10FFFF || is_noncharacter(cp) ||
        (cp >= 0xD800 && cp <= 0xDFFF) ||
        (cp < min_cp[len - 2] && !(cp == 0 && len == 2))) {
        return -1;
    }
    return (int)cp;
}

void qj_utf8_append(GString *out, uint32_t cp)
{
    if (cp == 0) {
        g_string_append_len(out, "\xC0\x80", 2);
    } else {
        g_string_append_unichar(out, cp);
    }
}
