/*
 * The few JSON helpers the application layer's own formats share: the
 * batch journal (journal.c) and the record in the image (record.c), on
 * src/json (json.h). With these two files they are the only JSON of
 * src/app.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_JSON_FIELDS_H
#define APP_JSON_FIELDS_H

#include <stdbool.h>
#include <stdint.h>

#include "json/json.h"

/* Members of o (o may be NULL or not an object): a copy of a string, an
 * integer (0), a boolean (false), a NULL-terminated copy of an array of
 * strings (NULL when absent), when present and of that type. */
char *app_json_str(const QjValue *o, const char *name);
int64_t app_json_int(const QjValue *o, const char *name);
bool app_json_bool(const QjValue *o, const char *name);
char **app_json_strv(const QjValue *o, const char *name);

/* A string member, left out when v is NULL. */
void app_json_put_str(QjValue *o, const char *name, const char *v);
/* An array of strings (NULL: null). */
void app_json_put_strv(QjValue *o, const char *name, char **v);
/* o as one line of compact JSON (no newline). */
char *app_json_compact(const QjValue *o);

#endif
