/*
 * The recipe file of a stream translated as it flows (docs/json.md,
 * "stream-recipe"): what `translate IN -` and `relay` write to --recipe
 * FILE at the head and at the end, and print at the end with
 * --output=json.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "report.h"

QjValue *app_report_stream_recipe(const char *stage, const char *input,
                                  const TrResult *r, const char *const *also,
                                  const LiveStats *st, bool changed)
{
    QjValue *o = app_report_new();
    QjValue *list;

    qj_set_str(o, "stage", stage);
    qj_set_str(o, "input", input);
    app_report_recipe(o, r);
    app_report_rules(o, r, false);
    list = qj_set_array(o, "also");
    for (guint i = 0; also && also[i]; i++) {
        qj_append_str(list, also[i]);
    }
    if (st) {
        QjValue *stats;

        qj_set_bool(o, "changed", changed);
        stats = qj_set_object(o, "stats");
        qj_set_uint(stats, "bytes-in", st->bytes_in);
        qj_set_uint(stats, "bytes-out", st->bytes_out);
        qj_set_uint(stats, "records", st->records);
        qj_set_uint(stats, "pages", st->pages);
        qj_set_uint(stats, "pages-rewritten", st->pages_rewritten);
        qj_set_uint(stats, "pages-dropped", st->pages_dropped);
        qj_set_int(stats, "head-usec", st->head_usec);
        qj_set_int(stats, "tail-usec", st->tail_usec);
    }
    return o;
}
