/*
 * qsnapfix's JSON: a value tree, a writer and a reader (prefix qj_,
 * "qsnapfix JSON"). The program's reports are built as a tree and printed
 * once; the reader reads back what qsnapfix writes (scan reports, journals)
 * and QEMU's VM description. GLib only: no GObject, no GIO, nothing to
 * initialise, so that a process that prints one report starts fast.
 *
 * Building a report:
 *
 *     g_autoptr(QjValue) root = qj_object();
 *     QjValue *snap = qj_set_object(root, "snapshot");   // owned by root
 *     qj_set_str(snap, "name", sn->name);                 // NULL: null
 *     qj_set_int(root, "exit-code", rc);
 *     qj_print(root);                                     // pretty, stdout
 *
 * Reading one back:
 *
 *     g_autoptr(QjValue) doc = qj_parse(text, len, &err);
 *     const QjValue *images = qj_get(doc, "images");      // NULL if absent
 *     for (guint i = 0; i < qj_length(images); i++) {
 *         const char *path = qj_get_str(qj_at(images, i), "path");
 *     ...
 *
 * Accessors never fail loudly: asking an absent member, an element past
 * the end or a value of another kind gives NULL (or false, or the
 * default), so a reader checks what it needs and nothing crashes on input
 * of the wrong shape.
 *
 * Strings are C strings in UTF-8. They are written escaped exactly as
 * QEMU's JSON writer escapes them (qemu-img info --output=json): \" \\ \b
 * \f \n \r \t, other characters below U+0020 and from U+007F up as \uXXXX
 * (upper-case hex; beyond U+FFFF a surrogate pair), each invalid UTF-8
 * sequence as \uFFFD, and "\xC0\x80" (modified UTF-8 for U+0000) as
 * \u0000. The reader turns \u0000 back into "\xC0\x80", as QEMU's parser
 * does, so that every valid name survives the round trip.
 *
 * Object members keep the order they were set in; setting a name again
 * replaces its value in place. The reader refuses duplicate names.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QSNAPFIX_JSON_H
#define QSNAPFIX_JSON_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum {
    QJ_NULL,
    QJ_BOOL,
    QJ_INT, /* an integer literal within [-2^63, 2^64) */
    QJ_DOUBLE,
    QJ_STRING,
    QJ_ARRAY,
    QJ_OBJECT,
} QjKind;

typedef struct QjValue QjValue;

/* ---- values ------------------------------------------------------------ */

QjValue *qj_object(void);
QjValue *qj_array(void);
QjValue *qj_null(void);
QjValue *qj_bool(bool b);
QjValue *qj_int(int64_t i);
QjValue *qj_uint(uint64_t u);
QjValue *qj_double(double d);      /* finite only */
QjValue *qj_string(const char *s); /* copied; NULL gives null */
void qj_free(QjValue *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QjValue, qj_free)

/* ---- objects: members set in order (the object owns what it is given) -- */

/* Set name to value (taken); returns value. */
QjValue *qj_set(QjValue *obj, const char *name, QjValue *value);
void qj_set_str(QjValue *obj, const char *name, const char *s); /* NULL: null */
void qj_set_int(QjValue *obj, const char *name, int64_t i);
void qj_set_uint(QjValue *obj, const char *name, uint64_t u);
void qj_set_bool(QjValue *obj, const char *name, bool b);
void qj_set_null(QjValue *obj, const char *name);
/* A new empty object or array as member name, returned to be filled. */
QjValue *qj_set_object(QjValue *obj, const char *name);
QjValue *qj_set_array(QjValue *obj, const char *name);
/* An array of the strings in a (NULL: an empty array). */
void qj_set_strings(QjValue *obj, const char *name, GPtrArray *a);

/* ---- arrays ------------------------------------------------------------ */

/* Append value (taken); returns value. */
QjValue *qj_append(QjValue *arr, QjValue *value);
void qj_append_str(QjValue *arr, const char *s);
void qj_append_int(QjValue *arr, int64_t i);
QjValue *qj_append_object(QjValue *arr);

/* ---- reading ------------------------------------------------------------ */

QjKind qj_kind(const QjValue *v); /* QJ_NULL for NULL */
/* Elements of an array, members of an object; 0 for anything else. */
guint qj_length(const QjValue *v);
/* Element i of an array (NULL past the end or if v is not an array). */
const QjValue *qj_at(const QjValue *arr, guint i);
/* Member i of an object, its name in *name (NULL if out of range). */
const QjValue *qj_member(const QjValue *obj, guint i, const char **name);
/* Member name of an object (NULL if absent or obj is not an object). */
const QjValue *qj_get(const QjValue *obj, const char *name);

/* The value if it is of that kind: NULL / false otherwise. */
const char *qj_as_str(const QjValue *v);
bool qj_as_bool(const QjValue *v, bool *out);
bool qj_as_int(const QjValue *v, int64_t *out);   /* fits int64_t */
bool qj_as_uint(const QjValue *v, uint64_t *out); /* fits uint64_t */
bool qj_as_double(const QjValue *v, double *out); /* any number */

/* Take member name's value out of obj, owned by the caller (a null stays
 * in its place); NULL if absent or obj is not an object. */
QjValue *qj_steal(QjValue *obj, const char *name);

/* Members by name: the string (NULL if absent or not a string), the
 * integer or boolean (dflt if absent or not one). */
const char *qj_get_str(const QjValue *obj, const char *name);
int64_t qj_get_int(const QjValue *obj, const char *name, int64_t dflt);
uint64_t qj_get_uint(const QjValue *obj, const char *name, uint64_t dflt);
bool qj_get_bool(const QjValue *obj, const char *name, bool dflt);

/* ---- text -------------------------------------------------------------- */

typedef enum {
    /* Indented by 4, "name" : value, one member or element a line: the
     * layout qsnapfix's reports have always had. */
    QJ_PRETTY,
    /* One line, no spaces: a JSONL record. */
    QJ_COMPACT,
} QjStyle;

void qj_write(GString *out, const QjValue *v, QjStyle style);
char *qj_to_string(const QjValue *v, QjStyle style);
/* Pretty, newline-terminated, on stdout. */
void qj_print(const QjValue *v);
/* Compact on one line (a JSONL record), newline-terminated, on stdout,
 * flushed. */
void qj_print_line(const QjValue *v);
/* One string literal, quotes included, escaped as QEMU escapes it. */
void qj_write_string(GString *out, const char *s);

#define QJ_ERROR (qj_error_quark())
GQuark qj_error_quark(void);
typedef enum {
    QJ_ERROR_SYNTAX, /* not JSON, or more than one value */
    QJ_ERROR_LIMIT,  /* nested deeper than QJ_MAX_DEPTH, number too big */
} QjError;

/* Containers nested deeper than this are refused. */
#define QJ_MAX_DEPTH 256

/*
 * Parse exactly one JSON value (RFC 8259) from text[0, len), whitespace
 * around it allowed. NULL and an error naming line and column if the text
 * is not one, has invalid UTF-8, a raw control character in a string, an
 * unpaired surrogate escape, a duplicate member name, a number that does
 * not fit a double, or nests deeper than QJ_MAX_DEPTH. A JSONL file is
 * read a line at a time.
 */
QjValue *qj_parse(const char *text, size_t len, GError **errp);
/* The same for a whole file; errors start with its name. */
QjValue *qj_parse_file(const char *path, GError **errp);

#endif
