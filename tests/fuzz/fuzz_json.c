/*
 * libFuzzer target: the JSON reader (src/json), which reads back scan
 * reports and journals from wherever a user kept them and the VM
 * description a stream carries. Oracles beyond "no crash": what the reader
 * accepts, the writer writes in both layouts as text the reader accepts
 * again and that writes back identically; the accessors walk any shape;
 * any bytes as a string escape to a literal that reads back as a string
 * and escapes to the same literal.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Visit every value with the accessors a reader uses. */
static void walk(const QjValue *v, unsigned depth)
{
    const char *name;
    int64_t i;
    uint64_t u;
    double d;
    bool b;

    (void)qj_as_str(v);
    (void)qj_as_int(v, &i);
    (void)qj_as_uint(v, &u);
    (void)qj_as_bool(v, &b);
    (void)qj_as_double(v, &d);
    for (guint k = 0; k < qj_length(v); k++) {
        const QjValue *m = qj_member(v, k, &name);
        if (m && qj_get(v, name) != m) {
            abort(); /* member names are unique */
        }
        walk(m ? m : qj_at(v, k), depth + 1);
    }
}

static void assert_rewrites_identically(const QjValue *v, QjStyle style)
{
    char *text = qj_to_string(v, style);
    QjValue *again = qj_parse(text, strlen(text), NULL);
    char *text2;

    if (!again) {
        abort(); /* the writer wrote what the reader refuses */
    }
    text2 = qj_to_string(again, style);
    if (strcmp(text, text2)) {
        abort();
    }
    g_free(text);
    g_free(text2);
    qj_free(again);
}

static void assert_string_round_trip(const uint8_t *data, size_t size)
{
    char *s = g_strndup((const char *)data, size); /* up to a NUL */
    GString *lit = g_string_new(NULL);
    GString *lit2 = g_string_new(NULL);
    QjValue *back;

    qj_write_string(lit, s);
    back = qj_parse(lit->str, lit->len, NULL);
    if (!back || !qj_as_str(back)) {
        abort();
    }
    qj_write_string(lit2, qj_as_str(back));
    if (strcmp(lit->str, lit2->str)) {
        abort();
    }
    qj_free(back);
    g_string_free(lit, true);
    g_string_free(lit2, true);
    g_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    QjValue *v = qj_parse((const char *)data, size, NULL);

    if (v) {
        walk(v, 0);
        assert_rewrites_identically(v, QJ_PRETTY);
        assert_rewrites_identically(v, QJ_COMPACT);
        qj_free(v);
    }
    assert_string_round_trip(data, size);
    return 0;
}
