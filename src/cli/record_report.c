/*
 * The record a fix leaves with a snapshot (app/record.h), as scan and
 * inspect show it: a JSON member "record", or an indented human line.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>

#include "fix.h"

void cli_json_record(JsonBuilder *b, const AppRecord *r)
{
    qsnapfix_json_begin_object(b, "record");
    qsnapfix_json_str(b, "kind", app_record_kind_name(r->kind));
    qsnapfix_json_str(b, "tool", r->tool);
    qsnapfix_json_str(b, "time", r->time);
    if (r->kind == APP_RECORD_FIX) {
        qsnapfix_json_str(b, "target", r->target);
        qsnapfix_json_begin_array(b, "rules");
        for (guint i = 0; r->rules && r->rules[i]; i++) {
            json_builder_add_string_value(b, r->rules[i]);
        }
        json_builder_end_array(b);
        qsnapfix_json_str(b, "recipe", r->recipe);
        if (r->recipe_sha256) {
            qsnapfix_json_str(b, "recipe-sha256", r->recipe_sha256);
        }
        qsnapfix_json_int(b, "old-vm-state-size", (int64_t)r->old_size);
        qsnapfix_json_int(b, "new-vm-state-size", (int64_t)r->new_size);
        if (r->batch) {
            qsnapfix_json_str(b, "batch", r->batch);
        }
        if (r->kept_as) {
            qsnapfix_json_str(b, "kept-as", r->kept_as);
        }
    } else {
        qsnapfix_json_begin_object(b, "original-of");
        qsnapfix_json_str(b, "id", r->of_id);
        qsnapfix_json_str(b, "name", r->of_name);
        json_builder_end_object(b);
        qsnapfix_json_int(b, "vm-state-size", (int64_t)r->size);
    }
    json_builder_end_object(b);
}

void cli_print_record(const AppRecord *r, const char *indent)
{
    g_autofree char *tool = NULL;
    g_autofree char *time = NULL;

    if (r->kind == APP_RECORD_NONE) {
        return;
    }
    tool = qsnapfix_printable(r->tool ? r->tool : "?");
    time = qsnapfix_printable(r->time ? r->time : "?");
    if (r->kind == APP_RECORD_FIX) {
        g_autofree char *rules =
            r->rules ? g_strjoinv(" ", r->rules) : g_strdup("");
        g_autofree char *target =
            qsnapfix_printable(r->target ? r->target : "?");
        g_autofree char *recipe =
            qsnapfix_printable(r->recipe ? r->recipe : "(see the journal)");
        printf("%s%-16s %s, %s, for %s: %s\n", indent, "fixed by", tool, time,
               target, rules);
        printf("%s%-16s %s\n", indent, "fix recipe", recipe);
        if (r->kept_as) {
            g_autofree char *kept = qsnapfix_printable(r->kept_as);
            printf("%s%-16s %s (qsnapfix undo puts it back)\n", indent,
                   "original kept as", kept);
        }
    } else if (r->kind == APP_RECORD_ORIGINAL) {
        g_autofree char *id = qsnapfix_printable(r->of_id ? r->of_id : "?");
        g_autofree char *name =
            qsnapfix_printable(r->of_name ? r->of_name : "?");
        if (r->of_id) {
            printf("%s%-16s snapshot %s \"%s\" (%s, %s); qsnapfix undo "
                   "restores it\n",
                   indent, "original of", id, name, tool, time);
        } else { /* a libvirt save image kept as FILE.orig */
            printf("%s%-16s %s (%s, %s); qsnapfix undo puts it back\n", indent,
                   "original of", name, tool, time);
        }
    }
}
