/*
 * JSON text to a value tree (json.h): strict RFC 8259, one value, input
 * of any shape refused with a line and column rather than trusted (the
 * VM description comes from a stream, reports from wherever a user kept
 * them; tests/fuzz/fuzz_json.c runs this).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <math.h>
#include <string.h>

#include "json_internal.h"

G_DEFINE_QUARK(qsnapfix - json - error - quark, qj_error)

typedef struct Reader {
    const char *text;
    size_t len;
    size_t pos;
    GError **errp;
} Reader;

static bool fail_at(Reader *r, size_t at, QjError code, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

static bool fail_at(Reader *r, size_t at, QjError code, const char *fmt, ...)
{
    unsigned line = 1, column = 1;
    g_autofree char *what = NULL;
    va_list ap;

    for (size_t i = 0; i < at && i < r->len; i++) {
        if (r->text[i] == '\n') {
            line++;
            column = 1;
        } else {
            column++;
        }
    }
    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(r->errp, QJ_ERROR, code, "line %u, column %u: %s", line, column,
                what);
    return false;
}

#define FAIL(r, ...) fail_at((r), (r)->pos, QJ_ERROR_SYNTAX, __VA_ARGS__)

static int peek(const Reader *r)
{
    return r->pos < r->len ? (unsigned char)r->text[r->pos] : -1;
}

static void skip_space(Reader *r)
{
    for (int c = peek(r); c == ' ' || c == '\t' || c == '\r' || c == '\n';
         c = peek(r)) {
        r->pos++;
    }
}

static const char *what_is_here(const Reader *r)
{
    return r->pos >= r->len ? "the end of the text" : "this character";
}

static bool expect_word(Reader *r, const char *word)
{
    size_t n = strlen(word);

    if (r->len - r->pos < n || memcmp(r->text + r->pos, word, n)) {
        return FAIL(r, "expected a value");
    }
    r->pos += n;
    return true;
}

/* ---- strings ------------------------------------------------------------ */

static int hex_digit(int c)
{
    return g_ascii_xdigit_value((gchar)c);
}

/* Four hex digits after "\u"; -1 if not. */
static int read_hex4(Reader *r)
{
    int v = 0;

    if (r->len - r->pos < 4) {
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(r->text[r->pos + i]);
        if (d < 0) {
            return -1;
        }
        v = v * 16 + d;
    }
    r->pos += 4;
    return v;
}

static bool read_escape(Reader *r, GString *out)
{
    static const char plain[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
    size_t at = r->pos - 1; /* the backslash */
    int c = peek(r);
    int cp, low;

    for (const char *p = plain; c > 0 && *p; p += 2) {
        if (*p == c) {
            g_string_append_c(out, p[1]);
            r->pos++;
            return true;
        }
    }
    if (c != 'u') {
        return fail_at(r, at, QJ_ERROR_SYNTAX, "invalid escape in a string");
    }
    r->pos++;
    cp = read_hex4(r);
    if (cp < 0) {
        return fail_at(r, at, QJ_ERROR_SYNTAX, "\\u needs four hex digits");
    }
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return fail_at(r, at, QJ_ERROR_SYNTAX, "unpaired low surrogate");
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (r->len - r->pos < 2 || r->text[r->pos] != '\\' ||
            r->text[r->pos + 1] != 'u') {
            return fail_at(r, at, QJ_ERROR_SYNTAX, "unpaired high surrogate");
        }
        r->pos += 2;
        low = read_hex4(r);
        if (low < 0xDC00 || low > 0xDFFF) {
            return fail_at(r, at, QJ_ERROR_SYNTAX, "unpaired high surrogate");
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    qj_utf8_append(out, (uint32_t)cp);
    return true;
}

/* A string literal at r->pos (its opening quote) into a new string. */
static char *read_string(Reader *r)
{
    g_autoptr(GString) out = g_string_new(NULL);

    r->pos++;
    for (;;) {
        int c = peek(r);
        if (c < 0) {
            FAIL(r, "the string is not closed");
            return NULL;
        }
        if (c == '"') {
            r->pos++;
            return g_string_free(g_steal_pointer(&out), false);
        }
        if (c == '\\') {
            r->pos++;
            if (!read_escape(r, out)) {
                return NULL;
            }
        } else if (c < 0x20) {
            FAIL(r, "control character 0x%02x in a string", c);
            return NULL;
        } else if (c < 0x80) {
            g_string_append_c(out, (char)c);
            r->pos++;
        } else {
            const char *start = r->text + r->pos, *end;
            if (qj_utf8_decode(start, r->len - r->pos, &end) < 0) {
                FAIL(r, "invalid UTF-8 in a string");
                return NULL;
            }
            g_string_append_len(out, start, end - start);
            r->pos += (size_t)(end - start);
        }
    }
}

/* ---- numbers ------------------------------------------------------------ */

static size_t skip_digits(Reader *r)
{
    size_t start = r->pos;

    while (r->pos < r->len && g_ascii_isdigit(r->text[r->pos])) {
        r->pos++;
    }
    return r->pos - start;
}

static QjValue *read_number(Reader *r)
{
    size_t start = r->pos;
    bool negative = peek(r) == '-';
    bool integer = true;
    uint64_t magnitude = 0;
    g_autofree char *copy = NULL;
    double d;

    r->pos += negative;
    if (peek(r) == '0') {
        r->pos++;
    } else if (!skip_digits(r)) {
        FAIL(r, "expected a value");
        return NULL;
    }
    if (peek(r) == '.') {
        integer = false;
        r->pos++;
        if (!skip_digits(r)) {
            FAIL(r, "expected a digit after the decimal point");
            return NULL;
        }
    }
    if (peek(r) == 'e' || peek(r) == 'E') {
        integer = false;
        r->pos++;
        if (peek(r) == '+' || peek(r) == '-') {
            r->pos++;
        }
        if (!skip_digits(r)) {
            FAIL(r, "expected a digit in the exponent");
            return NULL;
        }
    }
    if (integer) {
        bool fits = true;
        for (size_t i = start + negative; i < r->pos && fits; i++) {
            unsigned digit = (unsigned)(r->text[i] - '0');
            fits = magnitude <= (UINT64_MAX - digit) / 10;
            magnitude = magnitude * 10 + digit;
        }
        if (fits && !(negative && magnitude > (uint64_t)INT64_MAX + 1)) {
            QjValue *v = qj_uint(magnitude);
            v->i.negative = negative && magnitude;
            return v;
        }
    }
    copy = g_strndup(r->text + start, r->pos - start);
    d = g_ascii_strtod(copy, NULL);
    if (!isfinite(d)) {
        fail_at(r, start, QJ_ERROR_LIMIT, "number %s is too large", copy);
        return NULL;
    }
    return qj_double(d);
}

/* ---- containers --------------------------------------------------------- */

static QjValue *read_value(Reader *r, unsigned depth);

static QjValue *read_array(Reader *r, unsigned depth)
{
    g_autoptr(QjValue) arr = qj_array();

    r->pos++;
    skip_space(r);
    if (peek(r) == ']') {
        r->pos++;
        return g_steal_pointer(&arr);
    }
    for (;;) {
        QjValue *v = read_value(r, depth);
        if (!v) {
            return NULL;
        }
        qj_append(arr, v);
        skip_space(r);
        if (peek(r) == ']') {
            r->pos++;
            return g_steal_pointer(&arr);
        }
        if (peek(r) != ',') {
            FAIL(r, "expected ',' or ']' but found %s", what_is_here(r));
            return NULL;
        }
        r->pos++;
    }
}

static QjValue *read_object(Reader *r, unsigned depth)
{
    g_autoptr(QjValue) obj = qj_object();

    r->pos++;
    skip_space(r);
    if (peek(r) == '}') {
        r->pos++;
        return g_steal_pointer(&obj);
    }
    for (;;) {
        size_t at;
        g_autofree char *name = NULL;
        QjValue *v;

        skip_space(r);
        at = r->pos;
        if (peek(r) != '"') {
            FAIL(r, "expected a member name but found %s", what_is_here(r));
            return NULL;
        }
        name = read_string(r);
        if (!name) {
            return NULL;
        }
        if (qj_find_member(obj, name) >= 0) {
            fail_at(r, at, QJ_ERROR_SYNTAX, "duplicate member name");
            return NULL;
        }
        skip_space(r);
        if (peek(r) != ':') {
            FAIL(r, "expected ':' but found %s", what_is_here(r));
            return NULL;
        }
        r->pos++;
        v = read_value(r, depth);
        if (!v) {
            return NULL;
        }
        qj_set(obj, name, v);
        skip_space(r);
        if (peek(r) == '}') {
            r->pos++;
            return g_steal_pointer(&obj);
        }
        if (peek(r) != ',') {
            FAIL(r, "expected ',' or '}' but found %s", what_is_here(r));
            return NULL;
        }
        r->pos++;
    }
}

/* depth: containers around this value */
static QjValue *read_value(Reader *r, unsigned depth)
{
    char *s;

    skip_space(r);
    if (peek(r) == '-' || g_ascii_isdigit(peek(r))) {
        return read_number(r);
    }
    switch (peek(r)) {
    case '{':
    case '[':
        if (depth >= QJ_MAX_DEPTH) {
            fail_at(r, r->pos, QJ_ERROR_LIMIT,
                    "nested deeper than %u arrays and objects", QJ_MAX_DEPTH);
            return NULL;
        }
        return peek(r) == '{' ? read_object(r, depth + 1)
                              : read_array(r, depth + 1);
    case '"':
        s = read_string(r);
        return s ? qj_string_take(s) : NULL;
    case 't':
        return expect_word(r, "true") ? qj_bool(true) : NULL;
    case 'f':
        return expect_word(r, "false") ? qj_bool(false) : NULL;
    case 'n':
        return expect_word(r, "null") ? qj_null() : NULL;
    case -1:
        FAIL(r, "expected a value but the text ends");
        return NULL;
    default:
        FAIL(r, "expected a value");
        return NULL;
    }
}

QjValue *qj_parse(const char *text, size_t len, GError **errp)
{
    Reader r = {.text = text, .len = len, .errp = errp};
    g_autoptr(QjValue) v = read_value(&r, 0);

    if (!v) {
        return NULL;
    }
    skip_space(&r);
    if (r.pos < len) {
        FAIL(&r, "more text after the value");
        return NULL;
    }
    return g_steal_pointer(&v);
}

QjValue *qj_parse_file(const char *path, GError **errp)
{
    g_autofree char *text = NULL;
    gsize len;
    QjValue *v;

    if (!g_file_get_contents(path, &text, &len, errp)) {
        return NULL;
    }
    v = qj_parse(text, len, errp);
    if (!v) {
        g_prefix_error(errp, "%s: ", path);
    }
    return v;
}
