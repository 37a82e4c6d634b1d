/*
 * A stream translated as it flows, on the command line (stream_cmd.h):
 * `translate IN -` and the parts the relay shares with it.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stream_cmd.h"

void stream_cli_init(StreamCli *s, const FixOptions *o, QsnapfixOutput format,
                     const char *name, const char *file_dir,
                     const char *file_prefix, const char *recipe_path,
                     char **also)
{
    memset(s, 0, sizeof(*s));
    s->o = o;
    s->format = format;
    s->name = name;
    s->recipe_path = recipe_path;
    s->also = also;
    s->names.dir = g_canonicalize_filename(
        o->app.rom_dir ? o->app.rom_dir : file_dir, NULL);
    s->names.prefix = g_strdup(file_prefix);
}

void stream_cli_clear(StreamCli *s)
{
    app_recipe_names_clear(&s->names);
}

void stream_cli_job(StreamCli *s, AppStream *job)
{
    job->o = &s->o->app;
    job->names = &s->names;
    job->also = (const char *const *)s->also;
}

/* The recipe (and, at the end, the statistics) as JSON text. */
static char *recipe_json(const StreamCli *s, const char *stage,
                         const TrResult *r, const LiveStats *st, bool changed)
{
    g_autoptr(QjValue) o = cli_json_report();
    QjValue *also;

    qj_set_str(o, "stage", stage);
    qj_set_str(o, "input", s->name);
    fix_json_recipe(o, r);
    fix_json_rules(o, r, false);
    also = qj_set_array(o, "also");
    for (guint i = 0; s->also && s->also[i]; i++) {
        qj_append_str(also, s->also[i]);
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
    return qj_to_string(o, QJ_PRETTY);
}

static bool write_recipe(const StreamCli *s, const char *stage,
                         const TrResult *r, const LiveStats *st, bool changed,
                         GError **errp)
{
    g_autofree char *text = NULL;

    if (!s->recipe_path) {
        return true;
    }
    text = recipe_json(s, stage, r, st, changed);
    if (!g_file_set_contents_full(s->recipe_path, text, -1,
                                  G_FILE_SET_CONTENTS_CONSISTENT, 0644, errp)) {
        g_prefix_error(errp, "cannot write the recipe: ");
        return false;
    }
    return true;
}

bool stream_cli_publish(StreamCli *s, const TrResult *r, GError **errp)
{
    g_autofree char *recipe = NULL, *also = NULL, *line = NULL;

    if (s->backwards) {
        return true;
    }
    if (!write_recipe(s, "head", r, NULL, false, errp)) {
        return false;
    }
    recipe = tr_recipe_command_line(r->recipe);
    also = s->also ? g_strjoinv(" ", s->also) : g_strdup("");
    line = g_strjoin(*also ? " " : "", recipe, also, NULL);
    fprintf(stderr, "qsnapfix: %s: recipe from the stream's head: %s\n",
            s->name, line);
    fflush(stderr);
    return true;
}

static void report(const StreamCli *s, const LiveResult *res, bool unchanged)
{
    const LiveStats *st = &res->stats;
    g_autofree char *line = tr_recipe_command_line(res->result->recipe);

    if (s->format == QSNAPFIX_OUTPUT_JSON) {
        g_autofree char *text =
            recipe_json(s, "final", res->result, st, !unchanged);
        fprintf(stderr, "%s\n", text);
        return;
    }
    for (guint i = 0; i < res->result->findings->len; i++) {
        const TrFinding *f = g_ptr_array_index(res->result->findings, i);
        fprintf(stderr, "  %-7s %-8s %s: %s\n", f->rule,
                tr_action_name(f->action), f->subject,
                f->change ? f->change : f->evidence);
    }
    fprintf(stderr,
            "qsnapfix: %s: translated as it flowed: %" PRIu64
            " bytes in, %" PRIu64 " out; %" PRIu64 " records, %" PRIu64
            " pages (%" PRIu64 " rewritten, %" PRIu64
            " dropped); device state translated in %" PRId64 " us\n",
            s->name, st->bytes_in, st->bytes_out, st->records, st->pages,
            st->pages_rewritten, st->pages_dropped, st->tail_usec);
    if (unchanged) {
        fprintf(stderr, "qsnapfix: %s: the stream needed no change\n", s->name);
    }
    if (!s->backwards) {
        fprintf(stderr, "qsnapfix: %s: resume with: %s\n", s->name, line);
    }
}

int stream_cli_run(StreamCli *s, AppStream *job, VmsChannel *in)
{
    LiveResult res;
    g_autoptr(GError) err = NULL;
    bool ok, unchanged;

    ok = app_stream_translate(in, job, &res, &err);
    if (ok && !s->backwards && !s->o->app.dry_run) {
        ok = write_recipe(s, "final", res.result, &res.stats,
                          !app_stream_unchanged(&res), &err);
    }
    if (!ok) {
        /* the stream's own errors name it already */
        if (err->domain == VMS_ERROR) {
            fprintf(stderr, "qsnapfix: %s\n", err->message);
        } else {
            fprintf(stderr, "qsnapfix: %s: %s\n", s->name, err->message);
        }
        live_result_clear(&res);
        return app_exit_code(err);
    }
    /* as `translate IN OUT`: 0 whether or not the stream needed a change;
     * the report says which */
    unchanged = app_stream_unchanged(&res);
    report(s, &res, unchanged);
    live_result_clear(&res);
    return APP_EXIT_OK;
}

static bool write_fd(void *opaque, const void *data, size_t len, GError **errp)
{
    const char *p = data;

    while (len) {
        ssize_t n = write(GPOINTER_TO_INT(opaque), p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(errno),
                        "stdout: %s", g_strerror(errno));
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static bool publish(void *opaque, const TrResult *r, GError **errp)
{
    return stream_cli_publish(opaque, r, errp);
}

/* Bigger pipe buffers: fewer wake-ups on both sides of a pipe that moves
 * gigabytes (QEMU's exec: migration is one). Best effort. */
static void widen_pipe(int fd)
{
    struct stat st;

    if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
        (void)fcntl(fd, F_SETPIPE_SZ, 1 << 20);
    }
}

int qsnapfix_translate_stream(const FixOptions *o, QsnapfixOutput format,
                              const char *in, const char *recipe_path,
                              char **also)
{
    StreamCli s;
    AppStream job = {0};
    int fd = strcmp(in, "-") ? open(in, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
    g_autoptr(VmsChannel) ch = NULL;
    int rc;

    if (fd < 0) {
        fprintf(stderr, "qsnapfix: %s: %s\n", in, g_strerror(errno));
        return APP_EXIT_IO;
    }
    signal(SIGPIPE, SIG_IGN); /* a reader that goes away is an error */
    widen_pipe(fd);
    widen_pipe(STDOUT_FILENO);
    if (strcmp(in, "-")) {
        g_autofree char *abs = g_canonicalize_filename(in, NULL);
        g_autofree char *dir = g_path_get_dirname(abs);
        g_autofree char *base = g_path_get_basename(abs);
        stream_cli_init(&s, o, format, in, dir, base, recipe_path, also);
    } else {
        g_autofree char *cwd = g_get_current_dir();
        stream_cli_init(&s, o, format, "stdin", cwd, "stdin", recipe_path,
                        also);
    }
    stream_cli_job(&s, &job);
    job.write = write_fd;
    job.write_opaque = GINT_TO_POINTER(STDOUT_FILENO);
    job.on_recipe = publish;
    job.opaque = &s;
    ch = vms_channel_new_fd(fd, s.name);
    rc = stream_cli_run(&s, &job, ch);
    if (fd != STDIN_FILENO) {
        close(fd);
    }
    stream_cli_clear(&s);
    return rc;
}
