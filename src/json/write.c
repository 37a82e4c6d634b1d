/*
 * JSON text from a value tree (json.h). Strings are escaped as QEMU's
 * JSON writer (qobject/json-writer.c) escapes them, so that a snapshot
 * name reads the same in our reports and in qemu-img's. The pretty layout
 * is the one qsnapfix's reports have had from the start (4 spaces,
 * "name" : value; json-glib's, but "{}" for an empty object where
 * json-glib indented inside the braces); only the escaping is QEMU's.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json_internal.h"

void qj_write_string(GString *out, const char *s)
{
    g_string_append_c(out, '"');
    for (const char *p = s, *end; *p; p = end) {
        int cp = qj_utf8_decode(p, 6, &end);
        switch (cp) {
        case '"':
            g_string_append(out, "\\\"");
            break;
        case '\\':
            g_string_append(out, "\\\\");
            break;
        case '\b':
            g_string_append(out, "\\b");
            break;
        case '\f':
            g_string_append(out, "\\f");
            break;
        case '\n':
            g_string_append(out, "\\n");
            break;
        case '\r':
            g_string_append(out, "\\r");
            break;
        case '\t':
            g_string_append(out, "\\t");
            break;
        default:
            if (cp < 0) {
                cp = 0xFFFD; /* each invalid sequence: the replacement */
            }
            if (cp > 0xFFFF) {
                g_string_append_printf(out, "\\u%04X\\u%04X",
                                       0xD800 + ((cp - 0x10000) >> 10),
                                       0xDC00 + ((cp - 0x10000) & 0x3FF));
            } else if (cp < 0x20 || cp >= 0x7F) {
                g_string_append_printf(out, "\\u%04X", (unsigned)cp);
            } else {
                g_string_append_c(out, (char)cp);
            }
        }
    }
    g_string_append_c(out, '"');
}

static void write_number(GString *out, const QjValue *v)
{
    if (v->kind == QJ_INT) {
        g_string_append_printf(out, "%s%" PRIu64, v->i.negative ? "-" : "",
                               v->i.magnitude);
        return;
    }
    {
        /* The shortest form that reads back as the same double: 0.716,
         * not %.17g's 0.71599999999999997. */
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        for (int digits = 1; digits <= 17; digits++) {
            char format[8];
            g_snprintf(format, sizeof(format), "%%.%dg", digits);
            g_ascii_formatd(buf, sizeof(buf), format, v->d);
            if (g_ascii_strtod(buf, NULL) == v->d) {
                break;
            }
        }
        g_string_append(out, buf);
        /* read back as a double, not an integer */
        if (!strpbrk(buf, ".eE")) {
            g_string_append(out, ".0");
        }
    }
}

static void indent(GString *out, QjStyle style, unsigned level)
{
    if (style == QJ_PRETTY) {
        for (unsigned i = 0; i < level * 4; i++) {
            g_string_append_c(out, ' ');
        }
    }
}

static void write_value(GString *out, const QjValue *v, QjStyle style,
                        unsigned level, const char *name)
{
    bool pretty = style == QJ_PRETTY;
    guint n = qj_length(v);

    indent(out, style, level);
    if (name) {
        qj_write_string(out, name);
        g_string_append(out, pretty ? " : " : ":");
    }
    switch (qj_kind(v)) {
    case QJ_NULL: /* NULL too */
        g_string_append(out, "null");
        break;
    case QJ_BOOL:
        g_string_append(out, v->b ? "true" : "false");
        break;
    case QJ_INT:
    case QJ_DOUBLE:
        write_number(out, v);
        break;
    case QJ_STRING:
        qj_write_string(out, v->s);
        break;
    case QJ_ARRAY:
        g_string_append_c(out, '[');
        if (!n) {
            g_string_append_c(out, ']');
            break;
        }
        for (guint i = 0; i < n; i++) {
            g_string_append(out, i == 0 && pretty ? "\n" : "");
            write_value(out, qj_at(v, i), style, level + 1, NULL);
            g_string_append(out, i + 1 < n ? "," : "");
            g_string_append(out, pretty ? "\n" : "");
        }
        indent(out, style, level);
        g_string_append_c(out, ']');
        break;
    case QJ_OBJECT:
        g_string_append_c(out, '{');
        if (!n) {
            g_string_append_c(out, '}');
            break;
        }
        for (guint i = 0; i < n; i++) {
            const char *member;
            const QjValue *m = qj_member(v, i, &member);
            g_string_append(out, i == 0 && pretty ? "\n" : "");
            write_value(out, m, style, level + 1, member);
            g_string_append(out, i + 1 < n ? "," : "");
            g_string_append(out, pretty ? "\n" : "");
        }
        indent(out, style, level);
        g_string_append_c(out, '}');
        break;
    }
}

void qj_write(GString *out, const QjValue *v, QjStyle style)
{
    write_value(out, v, style, 0, NULL);
}

char *qj_to_string(const QjValue *v, QjStyle style)
{
    GString *out = g_string_new(NULL);
    qj_write(out, v, style);
    return g_string_free(out, false);
}

void qj_print(const QjValue *v)
{
    g_autofree char *text = qj_to_string(v, QJ_PRETTY);
    puts(text);
}

void qj_print_line(const QjValue *v)
{
    g_autofree char *text = qj_to_string(v, QJ_COMPACT);
    puts(text);
    fflush(stdout);
}
