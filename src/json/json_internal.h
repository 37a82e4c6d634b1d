/*
 * Inside the JSON module: the value's layout, shared by the tree, the
 * writer and the reader.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QSNAPFIX_JSON_INTERNAL_H
#define QSNAPFIX_JSON_INTERNAL_H

#include "json.h"

typedef struct QjMember {
    char *name;
    QjValue *value;
} QjMember;

struct QjValue {
    QjKind kind;
    union {
        bool b;
        struct {
            uint64_t magnitude;
            bool negative; /* never with magnitude 0 */
        } i;
        double d;
        char *s;
        GPtrArray *elements; /* QjValue *, owned */
        struct {
            GArray *members; /* QjMember, owned */
            /* name -> index + 1, built once the object grows big, so
             * that an object of many members stays linear to read */
            GHashTable *index;
        } o;
    };
};

/* A string value that takes s. */
QjValue *qj_string_take(char *s);
/* Member index of name in obj, or -1. */
gssize qj_find_member(const QjValue *obj, const char *name);

/*
 * Decode one character of (modified) UTF-8 at s, of which n > 0 bytes may
 * be read (a NUL byte also ends the text), with the rules of QEMU's
 * mod_utf8_codepoint(): returns the code point, or -1 for an invalid
 * sequence (a stray continuation byte, 0xFE or 0xFF, continuation bytes
 * missing, an overlong form other than "\xC0\x80" for U+0000, a
 * surrogate, a noncharacter, beyond U+10FFFF); *end is set past what the
 * sequence consumed (one lead byte and the continuation bytes found).
 */
int qj_utf8_decode(const char *s, size_t n, const char **end);
/* Append code point cp (< 0x110000, not a surrogate) in UTF-8; U+0000 as
 * "\xC0\x80". */
void qj_utf8_append(GString *out, uint32_t cp);

#endif
