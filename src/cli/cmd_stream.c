/*
 * A stream translated as it flows (stream_cmd.h): `translate IN -` and the
 * parts the relay shares with it.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exit_codes.h"
#include "stream_cmd.h"

void stream_job_init(StreamJob *job, const FixOptions *o, const char *name,
                     const char *file_dir, const char *file_prefix,
                     const char *recipe_path, char **also)
{
    job->o = o;
    job->name = name;
    job->recipe_path = recipe_path;
    job->also = also;
    job->file_dir =
        g_canonicalize_filename(o->rom_dir ? o->rom_dir : file_dir, NULL);
    job->file_prefix = g_strdup(file_prefix);
    job->tr = fix_tr_options(o, job->file_dir, job->file_prefix);
    job->live.tr = job->tr;
    job->live.also = (const char *const *)also;
}

void stream_job_clear(StreamJob *job)
{
    g_free(job->file_dir);
    g_free(job->file_prefix);
}

/* The recipe (and, at the end, the statistics) as JSON text. */
static char *recipe_json(const StreamJob *job, const char *stage,
                         const TrResult *r, const LiveStats *st)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = NULL;

    json_builder_begin_object(b);
    qsnapfix_json_str(b, "stage", stage);
    qsnapfix_json_str(b, "input", job->name);
    fix_json_recipe(b, r);
    fix_json_rules(b, r, false);
    json_builder_set_member_name(b, "also");
    json_builder_begin_array(b);
    for (guint i = 0; job->also && job->also[i]; i++) {
        json_builder_add_string_value(b, job->also[i]);
    }
    json_builder_end_array(b);
    if (st) {
        json_builder_set_member_name(b, "stats");
        json_builder_begin_object(b);
        qsnapfix_json_int(b, "bytes_in", st->bytes_in);
        qsnapfix_json_int(b, "bytes_out", st->bytes_out);
        qsnapfix_json_int(b, "records", st->records);
        qsnapfix_json_int(b, "pages", st->pages);
        qsnapfix_json_int(b, "pages_rewritten", st->pages_rewritten);
        qsnapfix_json_int(b, "pages_dropped", st->pages_dropped);
        qsnapfix_json_int(b, "head_usec", st->head_usec);
        qsnapfix_json_int(b, "tail_usec", st->tail_usec);
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    return json_generator_to_data(gen, NULL);
}

static bool write_recipe(StreamJob *job, const char *stage, const TrResult *r,
                         const LiveStats *st, GError **errp)
{
    g_autofree char *text = NULL;

    if (!job->recipe_path) {
        return true;
    }
    text = recipe_json(job, stage, r, st);
    if (!g_file_set_contents_full(job->recipe_path, text, -1,
                                  G_FILE_SET_CONTENTS_CONSISTENT, 0644, errp)) {
        g_prefix_error(errp, "cannot write the recipe: ");
        return false;
    }
    return true;
}

/* The recipe's files at their size, so that the target can start: their
 * bytes come with the pages (a file already of that size is kept). */
static bool placeholder_files(const TrResult *r, GError **errp)
{
    for (guint i = 0; i < r->recipe->files->len; i++) {
        const TrFile *f = g_ptr_array_index(r->recipe->files, i);
        struct stat st;
        g_autofree char *zeros = NULL;

        if (stat(f->path, &st) == 0 && (uint64_t)st.st_size == f->length) {
            continue;
        }
        zeros = g_malloc0(MAX(f->length, 1));
        if (!g_file_set_contents_full(f->path, zeros, (gssize)f->length,
                                      G_FILE_SET_CONTENTS_CONSISTENT, 0644,
                                      errp)) {
            g_prefix_error(errp, "cannot write a recipe file: ");
            return false;
        }
    }
    return true;
}

static bool on_head(void *opaque, const TrResult *r, GError **errp)
{
    StreamJob *job = opaque;
    g_autofree char *recipe = tr_recipe_command_line(r->recipe);
    g_autofree char *also =
        job->also ? g_strjoinv(" ", job->also) : g_strdup("");
    g_autofree char *line = g_strjoin(*also ? " " : "", recipe, also, NULL);

    if (!job->backwards) {
        if (!job->o->dry_run && !placeholder_files(r, errp)) {
            return false;
        }
        if (!write_recipe(job, "head", r, NULL, errp)) {
            return false;
        }
        fprintf(stderr, "qsnapfix: %s: recipe from the stream's head: %s\n",
                job->name, line);
        fflush(stderr);
    }
    return !job->after_head || job->after_head(job, errp);
}

static void report(const StreamJob *job, const LiveResult *res)
{
    const LiveStats *st = &res->stats;
    g_autofree char *line = tr_recipe_command_line(res->result->recipe);

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
            job->name, st->bytes_in, st->bytes_out, st->records, st->pages,
            st->pages_rewritten, st->pages_dropped, st->tail_usec);
    if (!job->backwards) {
        fprintf(stderr, "qsnapfix: %s: resume with: %s\n", job->name, line);
    }
}

static int exit_code(const GError *err)
{
    if (err->domain == LIVE_ERROR) {
        return QSNAPFIX_EXIT_REFUSED;
    }
    return qsnapfix_exit_code(err);
}

int stream_job_run(StreamJob *job, VmsChannel *in)
{
    LiveHooks hooks = {.write = job->write, .head = on_head, .opaque = job};
    LiveResult res;
    g_autoptr(GError) err = NULL;
    bool ok, unchanged;

    job->live.backwards = job->backwards;
    ok = live_translate(in, &job->live, &hooks, &res, &err);
    if (ok && !job->backwards && !job->o->dry_run) {
        ok = fix_write_files(res.result, res.files, &err) &&
             write_recipe(job, "final", res.result, &res.stats, &err);
    }
    if (!ok) {
        /* the stream's own errors name it already */
        if (err->domain == VMS_ERROR) {
            fprintf(stderr, "qsnapfix: %s\n", err->message);
        } else {
            fprintf(stderr, "qsnapfix: %s: %s\n", job->name, err->message);
        }
        live_result_clear(&res);
        return exit_code(err);
    }
    if (job->o->format == QSNAPFIX_OUTPUT_JSON) {
        g_autofree char *text =
            recipe_json(job, "final", res.result, &res.stats);
        fprintf(stderr, "%s\n", text);
    } else {
        report(job, &res);
    }
    /* as `translate IN OUT`: 3 when the stream needed no change */
    unchanged = !res.result->edits->len && !res.stats.pages_rewritten &&
                !res.stats.pages_dropped;
    live_result_clear(&res);
    return unchanged ? QSNAPFIX_EXIT_NOTHING_TO_DO : QSNAPFIX_EXIT_OK;
}

static bool write_fd(void *opaque, const void *data, size_t len, GError **errp)
{
    StreamJob *job = opaque;
    int fd = GPOINTER_TO_INT(job->opaque);

    if (job->o->dry_run) {
        return true;
    }
    return qsnapfix_write_all(fd, data, len, "stdout", errp);
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

int qsnapfix_translate_stream(const FixOptions *o, const char *in,
                              const char *recipe_path, char **also)
{
    StreamJob job = {0};
    int fd = strcmp(in, "-") ? open(in, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
    g_autoptr(VmsChannel) ch = NULL;
    int rc;

    if (fd < 0) {
        fprintf(stderr, "qsnapfix: %s: %s\n", in, g_strerror(errno));
        return QSNAPFIX_EXIT_IO;
    }
    signal(SIGPIPE, SIG_IGN); /* a reader that goes away is an error */
    widen_pipe(fd);
    widen_pipe(STDOUT_FILENO);
    if (strcmp(in, "-")) {
        g_autofree char *abs = g_canonicalize_filename(in, NULL);
        g_autofree char *dir = g_path_get_dirname(abs);
        g_autofree char *base = g_path_get_basename(abs);
        stream_job_init(&job, o, in, dir, base, recipe_path, also);
    } else {
        g_autofree char *cwd = g_get_current_dir();
        stream_job_init(&job, o, "stdin", cwd, "stdin", recipe_path, also);
    }
    job.write = write_fd;
    job.opaque = GINT_TO_POINTER(STDOUT_FILENO);
    ch = vms_channel_new_fd(fd, job.name);
    rc = stream_job_run(&job, ch);
    if (fd != STDIN_FILENO) {
        close(fd);
    }
    stream_job_clear(&job);
    return rc;
}
