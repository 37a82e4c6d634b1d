/*
 * A stream translated as it flows (stream.h): the recipe published at the
 * head (its files at their size, --recipe FILE, the front end told), the
 * stream written to a pipe or relayed between two sockets, the recipe's
 * files and FILE completed at the end.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline.h"
#include "report.h"

typedef struct Run {
    const AppStreamRun *run;
    const char *const *also;
    /* the sink: a file descriptor, named in its errors */
    int out_fd;
    const char *out_name;
    /* relay: the target, connected once the recipe is out */
    const char *connect_addr;
    int connect_timeout;
} Run;

/* The recipe's files at their size, so that the target can start: their
 * bytes come with the pages (a file already of that size is kept). */
static bool placeholder_files(const TrRecipe *r, GError **errp)
{
    for (guint i = 0; i < r->files->len; i++) {
        const TrFile *f = g_ptr_array_index(r->files, i);
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

/* --recipe FILE: the recipe as JSON (docs/json.md "stream-recipe"), at
 * the head, then with the statistics at the end. */
static bool write_recipe_file(const AppStreamRun *run, const char *stage,
                              const TrResult *r, const LiveStats *st,
                              bool changed, GError **errp)
{
    g_autoptr(QjValue) doc = NULL;
    g_autofree char *text = NULL;

    if (!run->recipe_path) {
        return true;
    }
    doc = app_report_stream_recipe(stage, run->name, r, run->also, st, changed);
    text = qj_to_string(doc, QJ_PRETTY);
    if (!g_file_set_contents_full(run->recipe_path, text, -1,
                                  G_FILE_SET_CONTENTS_CONSISTENT, 0644, errp)) {
        g_prefix_error(errp, "cannot write the recipe: ");
        return false;
    }
    return true;
}

static bool on_head(void *opaque, const TrResult *r, GError **errp)
{
    Run *run = opaque;
    const AppStreamRun *job = run->run;

    if (!job->backwards) {
        if (!job->o->dry_run && !placeholder_files(r->recipe, errp)) {
            return false;
        }
        if (!write_recipe_file(job, "head", r, NULL, false, errp)) {
            return false;
        }
        if (job->on_recipe) {
            job->on_recipe(job->opaque, r);
        }
    }
    if (run->connect_addr) { /* the recipe is out: now reach the target */
        run->out_fd =
            app_connect_retry(run->connect_addr, run->connect_timeout, errp);
        if (run->out_fd < 0) {
            return false;
        }
        if (job->on_step) {
            job->on_step(job->opaque, APP_STREAM_CONNECTED, run->connect_addr);
        }
    }
    return true;
}

static bool write_out(void *opaque, const void *data, size_t len, GError **errp)
{
    Run *run = opaque;
    const char *p = data;

    if (run->run->o->dry_run) {
        return true;
    }
    while (len) {
        ssize_t n = write(run->out_fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(errno),
                        "%s: %s", run->out_name, g_strerror(errno));
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Translate in into run's sink: the recipe published at the head, its
 * files and --recipe FILE completed at the end. Errors name the input
 * (the stream's own errors name it already). */
static bool translate(Run *run, VmsChannel *in, const AppRecipeNames *names,
                      LiveResult *res, GError **errp)
{
    const AppStreamRun *job = run->run;
    LiveOptions lo = {
        .tr = app_tr_options(job->o, names),
        .backwards = job->backwards,
        .also = job->also,
    };
    LiveHooks hooks = {.write = write_out, .head = on_head, .opaque = run};
    bool ok = live_translate(in, &lo, &hooks, res, errp);

    if (ok && !job->backwards && !job->o->dry_run) {
        ok = app_write_recipe_contents(res->result->recipe, res->files, errp) &&
             write_recipe_file(job, "final", res->result, &res->stats,
                               !app_stream_unchanged(res), errp);
    }
    if (!ok && (*errp)->domain != VMS_ERROR) {
        g_prefix_error(errp, "%s: ", job->name);
    }
    return ok;
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

/* The recipe's files go to --rom-dir, else to dir, named PREFIX.BLOCK. */
static void recipe_names(AppRecipeNames *n, const AppOptions *o,
                         const char *dir, const char *prefix)
{
    n->dir = g_canonicalize_filename(o->rom_dir ? o->rom_dir : dir, NULL);
    n->prefix = g_strdup(prefix);
}

bool app_stream_pipe(const AppStreamRun *job, const char *in, int out_fd,
                     LiveResult *res, GError **errp)
{
    bool from_stdin = !strcmp(in, "-");
    int fd = from_stdin ? STDIN_FILENO : open(in, O_RDONLY | O_CLOEXEC);
    Run run = {.run = job, .out_fd = out_fd, .out_name = "stdout"};
    AppRecipeNames names;
    g_autoptr(VmsChannel) ch = NULL;
    bool ok;

    memset(res, 0, sizeof(*res));
    if (fd < 0) {
        int e = errno;
        g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(e), "%s: %s",
                    in, g_strerror(e));
        return false;
    }
    widen_pipe(fd);
    widen_pipe(out_fd);
    if (from_stdin) {
        g_autofree char *cwd = g_get_current_dir();
        recipe_names(&names, job->o, cwd, "stdin");
    } else {
        g_autofree char *abs = g_canonicalize_filename(in, NULL);
        g_autofree char *dir = g_path_get_dirname(abs);
        g_autofree char *base = g_path_get_basename(abs);
        recipe_names(&names, job->o, dir, base);
    }
    ch = vms_channel_new_fd(fd, job->name);
    ok = translate(&run, ch, &names, res, errp);
    if (!from_stdin) {
        close(fd);
    }
    app_recipe_names_clear(&names);
    return ok;
}

/*
 * The order of events: accept one connection (the source QEMU); read the
 * stream's head and translate it; write the recipe (--recipe FILE, the front
 * end's on_recipe, the ROM/BIOS/flash files at their size); only then connect
 * to the target, retrying until it listens (--connect-timeout): whoever starts
 * the target waits for the recipe, starts QEMU with it and `-incoming tcp:`.
 * Meanwhile the source waits on a full socket, its guest running. The RAM
 * passes flow through; the device state is gathered to its end,
 * translated and sent. A refusal or a failure closes both connections:
 * the target's load fails and the source keeps running its guest.
 */
bool app_stream_relay(const AppStreamRun *job, const char *listen_addr,
                      const char *connect_addr, int connect_timeout,
                      LiveResult *res, GError **errp)
{
    g_autofree char *cwd = g_get_current_dir();
    Run run = {
        .run = job,
        .out_fd = -1,
        .out_name = connect_addr,
        .connect_addr = connect_addr,
        .connect_timeout = connect_timeout,
    };
    AppRecipeNames names;
    g_autoptr(VmsChannel) ch = NULL;
    int lfd, source;
    bool ok;

    memset(res, 0, sizeof(*res));
    lfd = app_listen(listen_addr, errp);
    if (lfd < 0) {
        return false;
    }
    if (job->on_step) {
        job->on_step(job->opaque, APP_STREAM_LISTENING, listen_addr);
    }
    source = app_accept_one(lfd, errp);
    if (source < 0) {
        return false;
    }
    recipe_names(&names, job->o, cwd, "relay");
    ch = vms_channel_new_fd(source, job->name);
    ok = translate(&run, ch, &names, res, errp);
    if (run.out_fd >= 0) {
        shutdown(run.out_fd, SHUT_WR);
        close(run.out_fd);
    }
    close(source);
    app_recipe_names_clear(&names);
    return ok;
}

bool app_stream_unchanged(const LiveResult *res)
{
    return !res->result->edits->len && !res->stats.pages_rewritten &&
           !res->stats.pages_dropped;
}
