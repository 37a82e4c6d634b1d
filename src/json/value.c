/*
 * JSON values: building the tree and reading it (json.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <math.h>
#include <string.h>

#include "json_internal.h"

/* Objects with more members than this get a name index. */
#define INDEX_FROM 16

static QjValue *new_value(QjKind kind)
{
    QjValue *v = g_new0(QjValue, 1);
    v->kind = kind;
    return v;
}

QjValue *qj_object(void)
{
    QjValue *v = new_value(QJ_OBJECT);
    v->o.members = g_array_new(false, false, sizeof(QjMember));
    return v;
}

QjValue *qj_array(void)
{
    QjValue *v = new_value(QJ_ARRAY);
    v->elements = g_ptr_array_new_with_free_func((GDestroyNotify)qj_free);
    return v;
}

QjValue *qj_null(void)
{
    return new_value(QJ_NULL);
}

QjValue *qj_bool(bool b)
{
    QjValue *v = new_value(QJ_BOOL);
    v->b = b;
    return v;
}

QjValue *qj_int(int64_t i)
{
    QjValue *v = new_value(QJ_INT);
    v->i.negative = i < 0;
    /* -(i + 1) + 1: no overflow for INT64_MIN */
    v->i.magnitude = i < 0 ? (uint64_t)(-(i + 1)) + 1 : (uint64_t)i;
    return v;
}

QjValue *qj_uint(uint64_t u)
{
    QjValue *v = new_value(QJ_INT);
    v->i.magnitude = u;
    return v;
}

QjValue *qj_double(double d)
{
    QjValue *v = new_value(QJ_DOUBLE);
    g_return_val_if_fail(isfinite(d), v);
    v->d = d;
    return v;
}

QjValue *qj_string_take(char *s)
{
    QjValue *v = new_value(QJ_STRING);
    v->s = s;
    return v;
}

QjValue *qj_string(const char *s)
{
    return s ? qj_string_take(g_strdup(s)) : qj_null();
}

void qj_free(QjValue *v)
{
    if (!v) {
        return;
    }
    switch (v->kind) {
    case QJ_STRING:
        g_free(v->s);
        break;
    case QJ_ARRAY:
        g_ptr_array_free(v->elements, true);
        break;
    case QJ_OBJECT:
        for (guint i = 0; i < v->o.members->len; i++) {
            QjMember *m = &g_array_index(v->o.members, QjMember, i);
            g_free(m->name);
            qj_free(m->value);
        }
        g_array_free(v->o.members, true);
        if (v->o.index) {
            g_hash_table_destroy(v->o.index);
        }
        break;
    default:
        break;
    }
    g_free(v);
}

/* ---- objects ------------------------------------------------------------ */

gssize qj_find_member(const QjValue *obj, const char *name)
{
    if (obj->o.index) {
        gpointer at = g_hash_table_lookup(obj->o.index, name);
        return at ? (gssize)GPOINTER_TO_SIZE(at) - 1 : -1;
    }
    for (guint i = 0; i < obj->o.members->len; i++) {
        if (!strcmp(g_array_index(obj->o.members, QjMember, i).name, name)) {
            return i;
        }
    }
    return -1;
}

static void index_member(QjValue *obj, guint i)
{
    GArray *members = obj->o.members;

    if (!obj->o.index && members->len > INDEX_FROM) {
        obj->o.index = g_hash_table_new(g_str_hash, g_str_equal);
        for (guint k = 0; k < members->len; k++) {
            g_hash_table_insert(obj->o.index,
                                g_array_index(members, QjMember, k).name,
                                GSIZE_TO_POINTER((gsize)k + 1));
        }
    } else if (obj->o.index) {
        g_hash_table_insert(obj->o.index,
                            g_array_index(members, QjMember, i).name,
                            GSIZE_TO_POINTER((gsize)i + 1));
    }
}

QjValue *qj_set(QjValue *obj, const char *name, QjValue *value)
{
    gssize at;

    g_return_val_if_fail(obj && obj->kind == QJ_OBJECT, value);
    at = qj_find_member(obj, name);
    if (at >= 0) {
        QjMember *m = &g_array_index(obj->o.members, QjMember, at);
        qj_free(m->value);
        m->value = value;
    } else {
        QjMember m = {.name = g_strdup(name), .value = value};
        g_array_append_val(obj->o.members, m);
        index_member(obj, obj->o.members->len - 1);
    }
    return value;
}

QjValue *qj_steal(QjValue *obj, const char *name)
{
    gssize at = obj && obj->kind == QJ_OBJECT ? qj_find_member(obj, name) : -1;
    QjValue *value;

    if (at < 0) {
        return NULL;
    }
    value = g_array_index(obj->o.members, QjMember, at).value;
    g_array_index(obj->o.members, QjMember, at).value = qj_null();
    return value;
}

void qj_set_str(QjValue *obj, const char *name, const char *s)
{
    qj_set(obj, name, qj_string(s));
}

void qj_set_int(QjValue *obj, const char *name, int64_t i)
{
    qj_set(obj, name, qj_int(i));
}

void qj_set_uint(QjValue *obj, const char *name, uint64_t u)
{
    qj_set(obj, name, qj_uint(u));
}

void qj_set_bool(QjValue *obj, const char *name, bool b)
{
    qj_set(obj, name, qj_bool(b));
}

void qj_set_null(QjValue *obj, const char *name)
{
    qj_set(obj, name, qj_null());
}

QjValue *qj_set_object(QjValue *obj, const char *name)
{
    return qj_set(obj, name, qj_object());
}

QjValue *qj_set_array(QjValue *obj, const char *name)
{
    return qj_set(obj, name, qj_array());
}

void qj_set_strings(QjValue *obj, const char *name, GPtrArray *a)
{
    QjValue *arr = qj_set_array(obj, name);

    for (guint i = 0; a && i < a->len; i++) {
        qj_append_str(arr, g_ptr_array_index(a, i));
    }
}

/* ---- arrays ------------------------------------------------------------- */

QjValue *qj_append(QjValue *arr, QjValue *value)
{
    g_return_val_if_fail(arr && arr->kind == QJ_ARRAY, value);
    g_ptr_array_add(arr->elements, value);
    return value;
}

void qj_append_str(QjValue *arr, const char *s)
{
    qj_append(arr, qj_string(s));
}

void qj_append_int(QjValue *arr, int64_t i)
{
    qj_append(arr, qj_int(i));
}

QjValue *qj_append_object(QjValue *arr)
{
    return qj_append(arr, qj_object());
}

/* ---- reading ------------------------------------------------------------ */

QjKind qj_kind(const QjValue *v)
{
    return v ? v->kind : QJ_NULL;
}

guint qj_length(const QjValue *v)
{
    switch (qj_kind(v)) {
    case QJ_ARRAY:
        return v->elements->len;
    case QJ_OBJECT:
        return v->o.members->len;
    default:
        return 0;
    }
}

const QjValue *qj_at(const QjValue *arr, guint i)
{
    if (qj_kind(arr) != QJ_ARRAY || i >= arr->elements->len) {
        return NULL;
    }
    return g_ptr_array_index(arr->elements, i);
}

const QjValue *qj_member(const QjValue *obj, guint i, const char **name)
{
    const QjMember *m;

    if (qj_kind(obj) != QJ_OBJECT || i >= obj->o.members->len) {
        return NULL;
    }
    m = &g_array_index(obj->o.members, QjMember, i);
    if (name) {
        *name = m->name;
    }
    return m->value;
}

const QjValue *qj_get(const QjValue *obj, const char *name)
{
    gssize at;

    if (qj_kind(obj) != QJ_OBJECT) {
        return NULL;
    }
    at = qj_find_member(obj, name);
    return at < 0 ? NULL : g_array_index(obj->o.members, QjMember, at).value;
}

const char *qj_as_str(const QjValue *v)
{
    return qj_kind(v) == QJ_STRING ? v->s : NULL;
}

bool qj_as_bool(const QjValue *v, bool *out)
{
    if (qj_kind(v) != QJ_BOOL) {
        return false;
    }
    *out = v->b;
    return true;
}

bool qj_as_int(const QjValue *v, int64_t *out)
{
    if (qj_kind(v) != QJ_INT) {
        return false;
    }
    if (v->i.negative) {
        if (v->i.magnitude > (uint64_t)INT64_MAX + 1) {
            return false;
        }
        *out = -(int64_t)(v->i.magnitude - 1) - 1;
    } else {
        if (v->i.magnitude > INT64_MAX) {
            return false;
        }
        *out = (int64_t)v->i.magnitude;
    }
    return true;
}

bool qj_as_uint(const QjValue *v, uint64_t *out)
{
    if (qj_kind(v) != QJ_INT || v->i.negative) {
        return false;
    }
    *out = v->i.magnitude;
    return true;
}

bool qj_as_double(const QjValue *v, double *out)
{
    switch (qj_kind(v)) {
    case QJ_DOUBLE:
        *out = v->d;
        return true;
    case QJ_INT:
        *out = v->i.negative ? -(double)v->i.magnitude : (double)v->i.magnitude;
        return true;
    default:
        return false;
    }
}

const char *qj_get_str(const QjValue *obj, const char *name)
{
    return qj_as_str(qj_get(obj, name));
}

int64_t qj_get_int(const QjValue *obj, const char *name, int64_t dflt)
{
    int64_t i;
    return qj_as_int(qj_get(obj, name), &i) ? i : dflt;
}

uint64_t qj_get_uint(const QjValue *obj, const char *name, uint64_t dflt)
{
    uint64_t u;
    return qj_as_uint(qj_get(obj, name), &u) ? u : dflt;
}

bool qj_get_bool(const QjValue *obj, const char *name, bool dflt)
{
    bool b;
    return qj_as_bool(qj_get(obj, name), &b) ? b : dflt;
}
