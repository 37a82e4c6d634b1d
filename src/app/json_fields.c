/*
 * JSON helpers of the journal and the record (json_fields.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "json_fields.h"

static JsonNode *member(JsonObject *o, const char *name)
{
    return o ? json_object_get_member(o, name) : NULL;
}

static bool holds(JsonNode *n, GType type)
{
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == type;
}

char *app_json_str(JsonObject *o, const char *name)
{
    JsonNode *n = member(o, name);

    return holds(n, G_TYPE_STRING) ? g_strdup(json_node_get_string(n)) : NULL;
}

int64_t app_json_int(JsonObject *o, const char *name)
{
    JsonNode *n = member(o, name);

    return holds(n, G_TYPE_INT64) ? json_node_get_int(n) : 0;
}

bool app_json_bool(JsonObject *o, const char *name)
{
    JsonNode *n = member(o, name);

    return holds(n, G_TYPE_BOOLEAN) && json_node_get_boolean(n);
}

char **app_json_strv(JsonObject *o, const char *name)
{
    JsonNode *n = member(o, name);
    g_autoptr(GPtrArray) v = NULL;
    JsonArray *a;

    if (!n || !JSON_NODE_HOLDS_ARRAY(n)) {
        return NULL;
    }
    a = json_node_get_array(n);
    v = g_ptr_array_new();
    for (guint i = 0; i < json_array_get_length(a); i++) {
        const char *s = json_array_get_string_element(a, i);
        g_ptr_array_add(v, g_strdup(s ? s : ""));
    }
    g_ptr_array_add(v, NULL);
    return (char **)g_ptr_array_free(g_steal_pointer(&v), false);
}

void app_json_put_str(JsonBuilder *b, const char *name, const char *v)
{
    if (v) {
        json_builder_set_member_name(b, name);
        json_builder_add_string_value(b, v);
    }
}

void app_json_put_strv(JsonBuilder *b, const char *name, char **v)
{
    json_builder_set_member_name(b, name);
    if (!v) {
        json_builder_add_null_value(b);
        return;
    }
    json_builder_begin_array(b);
    for (guint i = 0; v[i]; i++) {
        json_builder_add_string_value(b, v[i]);
    }
    json_builder_end_array(b);
}

char *app_json_compact(JsonBuilder *b)
{
    g_autoptr(JsonGenerator) g = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);

    json_generator_set_root(g, root);
    return json_generator_to_data(g, NULL);
}
