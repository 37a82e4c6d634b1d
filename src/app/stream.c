/*
 * A stream translated as it flows (stream.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "stream.h"

#include <sys/stat.h>

#include "pipeline.h"

typedef struct Run {
    const AppStream *job;
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

static bool on_head(void *opaque, const TrResult *r, GError **errp)
{
    const AppStream *job = ((Run *)opaque)->job;

    if (!job->backwards && !job->o->dry_run &&
        !placeholder_files(r->recipe, errp)) {
        return false;
    }
    return !job->on_recipe || job->on_recipe(job->opaque, r, errp);
}

static bool write_out(void *opaque, const void *data, size_t len, GError **errp)
{
    const AppStream *job = ((Run *)opaque)->job;

    return job->o->dry_run || job->write(job->write_opaque, data, len, errp);
}

bool app_stream_translate(VmsChannel *in, const AppStream *job, LiveResult *res,
                          GError **errp)
{
    Run run = {job};
    LiveOptions lo = {
        .tr = app_tr_options(job->o, job->names),
        .backwards = job->backwards,
        .also = job->also,
    };
    LiveHooks hooks = {.write = write_out, .head = on_head, .opaque = &run};

    if (!live_translate(in, &lo, &hooks, res, errp)) {
        return false;
    }
    if (!job->backwards && !job->o->dry_run &&
        !app_write_recipe_contents(res->result->recipe, res->files, errp)) {
        return false;
    }
    return true;
}

bool app_stream_unchanged(const LiveResult *res)
{
    return !res->result->edits->len && !res->stats.pages_rewritten &&
           !res->stats.pages_dropped;
}
