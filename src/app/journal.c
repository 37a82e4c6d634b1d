/*
 * The batch journal (journal.h): records as JSON lines, each one write()
 * and one fsync(). The only other place of the application layer that
 * speaks JSON is the record in the image (record.c).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "json_fields.h"
#include "record.h"

struct AppJournal {
    char *path;
    int fd;
    GMutex lock;
};

void app_plan_item_free(AppPlanItem *p)
{
    if (p) {
        g_free(p->path);
        g_strfreev(p->snapshots);
        g_free(p);
    }
}

AppJournalEntry *app_journal_entry_new(const char *step, const char *batch)
{
    AppJournalEntry *e = g_new0(AppJournalEntry, 1);

    e->step = g_strdup(step);
    e->batch = g_strdup(batch);
    return e;
}

void app_journal_entry_free(AppJournalEntry *e)
{
    if (!e) {
        return;
    }
    g_free(e->step);
    g_free(e->time);
    g_free(e->tool);
    g_free(e->batch);
    g_free(e->target);
    g_free(e->machine);
    g_free(e->rom_dir);
    g_strfreev(e->drop_sections);
    if (e->plan) {
        g_ptr_array_unref(e->plan);
    }
    g_free(e->image);
    g_free(e->snapshot_id);
    g_free(e->snapshot_name);
    g_free(e->status);
    g_free(e->message);
    g_free(e->old_sha256);
    g_free(e->new_sha256);
    g_strfreev(e->rules);
    g_free(e->recipe);
    g_free(e->kept_as);
    g_free(e);
}

char *app_batch_id_new(void)
{
    return g_uuid_string_random();
}

/* ---- writing ---------------------------------------------------------- */

static void put_state(QjValue *b, const char *name, uint64_t size,
                      const char *sha)
{
    QjValue *state = qj_set_object(b, name);

    qj_set_uint(state, "vm-state-size", size);
    app_json_put_str(state, "sha256", sha);
}

static void put_batch(QjValue *b, const AppJournalEntry *e)
{
    QjValue *opts = qj_set_object(b, "options");
    QjValue *plan;

    app_json_put_str(opts, "target", e->target);
    app_json_put_str(opts, "machine", e->machine);
    app_json_put_str(opts, "rom-dir", e->rom_dir);
    app_json_put_strv(opts, "drop-sections", e->drop_sections);
    qj_set_bool(opts, "shrink-vram", e->shrink_vram);
    qj_set_bool(opts, "drop-roms", e->drop_roms);
    qj_set_bool(opts, "keep-block-sections", e->keep_block_sections);
    qj_set_bool(opts, "keep-original", e->keep_original);
    qj_set_bool(opts, "dry-run", e->dry_run);
    plan = qj_set_array(b, "plan");
    for (guint i = 0; e->plan && i < e->plan->len; i++) {
        const AppPlanItem *p = g_ptr_array_index(e->plan, i);
        QjValue *item = qj_append_object(plan);
        app_json_put_str(item, "image", p->path);
        app_json_put_strv(item, "snapshots", p->snapshots);
    }
}

static char *entry_line(const AppJournalEntry *e)
{
    g_autoptr(QjValue) b = qj_object();
    g_autofree char *text = NULL;

    app_json_put_str(b, "step", e->step);
    app_json_put_str(b, "time", e->time);
    app_json_put_str(b, "tool", e->tool);
    app_json_put_str(b, "batch", e->batch);
    if (!g_strcmp0(e->step, "batch")) {
        put_batch(b, e);
    }
    app_json_put_str(b, "image", e->image);
    if (e->snapshot_id) {
        QjValue *sn = qj_set_object(b, "snapshot");
        app_json_put_str(sn, "id", e->snapshot_id);
        app_json_put_str(sn, "name", e->snapshot_name);
    }
    app_json_put_str(b, "status", e->status);
    if (e->has_old) {
        put_state(b, "old", e->old_size, e->old_sha256);
    }
    if (e->has_new) {
        put_state(b, "new", e->new_size, e->new_sha256);
    }
    app_json_put_str(b, "target",
                     e->step && strcmp(e->step, "batch") ? e->target : NULL);
    if (e->rules) {
        app_json_put_strv(b, "rules", e->rules);
    }
    app_json_put_str(b, "recipe", e->recipe);
    app_json_put_str(b, "kept-as", e->kept_as);
    app_json_put_str(b, "message", e->message);
    if (e->status) {
        qj_set_int(b, "exit-code", e->exit_code);
    }
    text = app_json_compact(b);
    return g_strconcat(text, "\n", NULL);
}

static bool write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

AppJournal *app_journal_open(const char *path, GError **errp)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    struct stat st;
    AppJournal *j;

    if (fd < 0) {
        int err = errno;
        g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(err),
                    "journal %s: cannot open: %s", path, g_strerror(err));
        return NULL;
    }
    /* A line a kill cut short: end it, so the next record stands alone. */
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
        char last = '\n';
        int rfd = open(path, O_RDONLY | O_CLOEXEC);
        if (rfd >= 0) {
            if (pread(rfd, &last, 1, st.st_size - 1) != 1) {
                last = '\n';
            }
            close(rfd);
        }
        if (last != '\n' && (!write_all(fd, "\n", 1) || fsync(fd) < 0)) {
            int err = errno;
            g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(err),
                        "journal %s: cannot write: %s", path, g_strerror(err));
            close(fd);
            return NULL;
        }
    }
    j = g_new0(AppJournal, 1);
    j->path = g_strdup(path);
    j->fd = fd;
    g_mutex_init(&j->lock);
    return j;
}

bool app_journal_append(AppJournal *j, AppJournalEntry *e, GError **errp)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *line = NULL;
    bool ok;

    g_free(e->time);
    e->time = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
    g_free(e->tool);
    e->tool = g_strdup(app_tool_name());
    line = entry_line(e);
    g_mutex_lock(&j->lock);
    ok = write_all(j->fd, line, strlen(line)) && fsync(j->fd) == 0;
    g_mutex_unlock(&j->lock);
    if (!ok) {
        int err = errno;
        g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(err),
                    "journal %s: cannot write: %s", j->path, g_strerror(err));
    }
    return ok;
}

void app_journal_close(AppJournal *j)
{
    if (!j) {
        return;
    }
    close(j->fd);
    g_mutex_clear(&j->lock);
    g_free(j->path);
    g_free(j);
}

/* ---- reading ---------------------------------------------------------- */

/* Member name of o if it is an object, else NULL. */
static const QjValue *get_obj(const QjValue *o, const char *name)
{
    const QjValue *x = qj_get(o, name);

    return qj_kind(x) == QJ_OBJECT ? x : NULL;
}

static void get_batch(AppJournalEntry *e, const QjValue *o)
{
    const QjValue *opts = get_obj(o, "options");
    const QjValue *plan = qj_get(o, "plan");

    e->target = app_json_str(opts, "target");
    e->machine = app_json_str(opts, "machine");
    e->rom_dir = app_json_str(opts, "rom-dir");
    e->drop_sections = app_json_strv(opts, "drop-sections");
    e->shrink_vram = app_json_bool(opts, "shrink-vram");
    e->drop_roms = app_json_bool(opts, "drop-roms");
    e->keep_block_sections = app_json_bool(opts, "keep-block-sections");
    e->keep_original = app_json_bool(opts, "keep-original");
    e->dry_run = app_json_bool(opts, "dry-run");
    e->plan =
        g_ptr_array_new_with_free_func((GDestroyNotify)app_plan_item_free);
    for (guint i = 0; i < qj_length(plan); i++) {
        const QjValue *p = qj_at(plan, i);
        AppPlanItem *item;

        if (!qj_get_str(p, "image")) {
            continue; /* not an item a batch wrote: nothing to walk */
        }
        item = g_new0(AppPlanItem, 1);
        item->path = app_json_str(p, "image");
        item->snapshots = app_json_strv(p, "snapshots");
        g_ptr_array_add(e->plan, item);
    }
}

static AppJournalEntry *parse_line(const char *line)
{
    g_autoptr(QjValue) o = qj_parse(line, strlen(line), NULL);
    const QjValue *x;
    AppJournalEntry *e;

    if (qj_kind(o) != QJ_OBJECT) {
        return NULL; /* (a torn last line, or not a journal) */
    }
    e = g_new0(AppJournalEntry, 1);
    e->step = app_json_str(o, "step");
    e->time = app_json_str(o, "time");
    e->tool = app_json_str(o, "tool");
    e->batch = app_json_str(o, "batch");
    if (!e->step) {
        app_journal_entry_free(e);
        return NULL;
    }
    if (!strcmp(e->step, "batch")) {
        get_batch(e, o);
    } else {
        e->target = app_json_str(o, "target");
    }
    e->image = app_json_str(o, "image");
    x = get_obj(o, "snapshot");
    e->snapshot_id = app_json_str(x, "id");
    e->snapshot_name = app_json_str(x, "name");
    e->status = app_json_str(o, "status");
    e->message = app_json_str(o, "message");
    e->exit_code = (int)app_json_int(o, "exit-code");
    if ((x = get_obj(o, "old"))) {
        e->has_old = true;
        e->old_size = qj_get_uint(x, "vm-state-size", 0);
        e->old_sha256 = app_json_str(x, "sha256");
    }
    if ((x = get_obj(o, "new"))) {
        e->has_new = true;
        e->new_size = qj_get_uint(x, "vm-state-size", 0);
        e->new_sha256 = app_json_str(x, "sha256");
    }
    e->rules = app_json_strv(o, "rules");
    e->recipe = app_json_str(o, "recipe");
    e->kept_as = app_json_str(o, "kept-as");
    return e;
}

GPtrArray *app_journal_load(const char *path, GError **errp)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify)app_journal_entry_free);
    bool have_batch = false;

    if (!g_file_get_contents(path, &text, NULL, errp)) {
        g_prefix_error(errp, "journal: ");
        return NULL;
    }
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        AppJournalEntry *e = *lines[i] ? parse_line(lines[i]) : NULL;

        if (e) { /* a line cut short by a kill does not parse */
            have_batch |= !strcmp(e->step, "batch");
            g_ptr_array_add(out, e);
        }
    }
    if (!have_batch) {
        g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "journal %s: no batch record (not a qsnapfix journal?)",
                    path);
        return NULL;
    }
    return g_steal_pointer(&out);
}
