/*
 * A stream translated as it flows, on the command line (stream_cmd.h):
 * `translate IN -` and the parts the relay shares with it.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "app/report.h"
#include "stream_cmd.h"

/* The recipe decided at the head, on stderr before the first byte. */
static void print_head_recipe(void *opaque, const TrResult *r)
{
    const StreamCli *s = opaque;
    const char *const *also = s->run.also;
    g_autofree char *recipe = tr_recipe_command_line(r->recipe);
    g_autofree char *joined =
        also ? g_strjoinv(" ", (char **)also) : g_strdup("");
    g_autofree char *line = g_strjoin(*joined ? " " : "", recipe, joined, NULL);

    fprintf(stderr, "qsnapfix: %s: recipe from the stream's head: %s\n",
            s->run.name, line);
    fflush(stderr);
}

void stream_cli_init(StreamCli *s, const FixOptions *o, QsnapfixOutput format,
                     const char *name, const char *recipe_path, char **also)
{
    *s = (StreamCli){
        .format = format,
        .run =
            {
                .o = &o->app,
                .name = name,
                .recipe_path = recipe_path,
                .also = (const char *const *)also,
                .on_recipe = print_head_recipe,
                .opaque = s,
            },
    };
}

static void print_report(const StreamCli *s, const LiveResult *res,
                         bool unchanged)
{
    const LiveStats *st = &res->stats;
    const char *name = s->run.name;
    g_autofree char *line = tr_recipe_command_line(res->result->recipe);

    if (s->format == QSNAPFIX_OUTPUT_JSON) {
        g_autoptr(QjValue) doc = app_report_stream_recipe(
            "final", name, res->result, s->run.also, st, !unchanged);
        g_autofree char *text = qj_to_string(doc, QJ_PRETTY);
        fprintf(stderr, "%s\n", text);
        return;
    }
    for (guint i = 0; i < res->result->findings->len; i++) {
        const TrFinding *f = g_ptr_array_index(res->result->findings, i);
        cli_print_finding(stderr, "  ", f, f->change ? f->change : f->evidence);
    }
    fprintf(stderr,
            "qsnapfix: %s: translated as it flowed: %" PRIu64
            " bytes in, %" PRIu64 " out; %" PRIu64 " records, %" PRIu64
            " pages (%" PRIu64 " rewritten, %" PRIu64
            " dropped); device state translated in %" PRId64 " us\n",
            name, st->bytes_in, st->bytes_out, st->records, st->pages,
            st->pages_rewritten, st->pages_dropped, st->tail_usec);
    if (unchanged) {
        fprintf(stderr, "qsnapfix: %s: the stream needed no change\n", name);
    }
    if (!s->run.backwards) {
        fprintf(stderr, "qsnapfix: %s: resume with: %s\n", name, line);
    }
}

int stream_cli_finish(const StreamCli *s, bool ok, LiveResult *res,
                      const GError *err)
{
    if (!ok) {
        live_result_clear(res);
        return qsnapfix_report(err);
    }
    /* as `translate IN OUT`: 0 whether or not the stream needed a change;
     * the report says which */
    print_report(s, res, app_stream_unchanged(res));
    live_result_clear(res);
    return APP_EXIT_OK;
}

int qsnapfix_translate_stream(const FixOptions *o, QsnapfixOutput format,
                              const char *in, const char *recipe_path,
                              char **also)
{
    StreamCli s;
    LiveResult res;
    g_autoptr(GError) err = NULL;
    bool ok;

    stream_cli_init(&s, o, format, strcmp(in, "-") ? in : "stdin", recipe_path,
                    also);
    signal(SIGPIPE, SIG_IGN); /* a reader that goes away is an error */
    ok = app_stream_pipe(&s.run, in, STDOUT_FILENO, &res, &err);
    return stream_cli_finish(&s, ok, &res, err);
}
