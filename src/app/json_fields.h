/*
 * The few JSON helpers the application layer's own formats share: the
 * batch journal (journal.c) and the record in the image (record.c). With
 * these two files they are the only JSON of src/app.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_JSON_FIELDS_H
#define APP_JSON_FIELDS_H

#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stdint.h>

/* Members of o (o may be NULL): a copy of a string, an integer (0), a
 * boolean (false), a NULL-terminated copy of an array of strings (NULL
 * when absent), when present and of that type. */
char *app_json_str(JsonObject *o, const char *name);
int64_t app_json_int(JsonObject *o, const char *name);
bool app_json_bool(JsonObject *o, const char *name);
char **app_json_strv(JsonObject *o, const char *name);

/* A string member, left out when v is NULL. */
void app_json_put_str(JsonBuilder *b, const char *name, const char *v);
/* An array of strings (NULL: null). */
void app_json_put_strv(JsonBuilder *b, const char *name, char **v);
/* The builder's object as one line of compact JSON (no newline). */
char *app_json_compact(JsonBuilder *b);

#endif
