/*
 * The record a fix leaves with a snapshot (app/record.h), as scan and
 * inspect show it to people: an indented line or two.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>

#include "fix.h"

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
