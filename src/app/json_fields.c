/*
 * JSON helpers of the journal and the record (json_fields.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "json_fields.h"

char *app_json_str(const QjValue *o, const char *name)
{
    return g_strdup(qj_get_str(o, name));
}

int64_t app_json_int(const QjValue *o, const char *name)
{
    return qj_get_int(o, name, 0);
}

bool app_json_bool(const QjValue *o, const char *name)
{
    return qj_get_bool(o, name, false);
}

char **app_json_strv(const QjValue *o, const char *name)
{
    const QjValue *a = qj_get(o, name);
    GPtrArray *v;

    if (qj_kind(a) != QJ_ARRAY) {
        return NULL;
    }
    v = g_ptr_array_new();
    for (guint i = 0; i < qj_length(a); i++) {
        const char *s = qj_as_str(qj_at(a, i));
        g_ptr_array_add(v, g_strdup(s ? s : ""));
    }
    g_ptr_array_add(v, NULL);
    return (char **)g_ptr_array_free(v, false);
}

void app_json_put_str(QjValue *o, const char *name, const char *v)
{
    if (v) {
        qj_set_str(o, name, v);
    }
}

void app_json_put_strv(QjValue *o, const char *name, char **v)
{
    QjValue *a;

    if (!v) {
        qj_set_null(o, name);
        return;
    }
    a = qj_set_array(o, name);
    for (guint i = 0; v[i]; i++) {
        qj_append_str(a, v[i]);
    }
}

char *app_json_compact(const QjValue *o)
{
    return qj_to_string(o, QJ_COMPACT);
}
