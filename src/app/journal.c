/*
 * The batch journal (journal.h): records as JSON lines, each one write()
 * and one fsync(). The only other place of the application layer that
 * speaks JSON is the record in the image (record.c).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
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

static void put_str(JsonBuilder *b, const char *name, const char *v)
{
    if (v) {
        json_builder_set_member_name(b, name);
        json_builder_add_string_value(b, v);
    }
}

static void put_bool(JsonBuilder *b, const char *name, bool v)
{
    json_builder_set_member_name(b, name);
    json_builder_add_boolean_value(b, v);
}

static void put_strv(JsonBuilder *b, const char *name, char **v)
{
    json_builder_set_member_name(b, name);
    if (!v) {
        json_builder_add_null_value(b);
        return;
    }
    json_builder_begin_array(b);
    for (guint i = 0; v[i]; i++) {
        json_builder_add_string_value(b, v[i]);
    }
    json_builder_end_array(b);
}

static void put_state(JsonBuilder *b, const char *name, uint64_t size,
                      const char *sha)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "vm-state-size");
    json_builder_add_int_value(b, (int64_t)size);
    put_str(b, "sha256", sha);
    json_builder_end_object(b);
}

static void put_batch(JsonBuilder *b, const AppJournalEntry *e)
{
    json_builder_set_member_name(b, "options");
    json_builder_begin_object(b);
    put_str(b, "target", e->target);
    put_str(b, "machine", e->machine);
    put_str(b, "rom-dir", e->rom_dir);
    put_strv(b, "drop-sections", e->drop_sections);
    put_bool(b, "shrink-vram", e->shrink_vram);
    put_bool(b, "drop-roms", e->drop_roms);
    put_bool(b, "keep-block-sections", e->keep_block_sections);
    put_bool(b, "keep-original", e->keep_original);
    put_bool(b, "dry-run", e->dry_run);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "plan");
    json_builder_begin_array(b);
    for (guint i = 0; e->plan && i < e->plan->len; i++) {
        const AppPlanItem *p = g_ptr_array_index(e->plan, i);
        json_builder_begin_object(b);
        put_str(b, "image", p->path);
        put_strv(b, "snapshots", p->snapshots);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static char *entry_line(const AppJournalEntry *e)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonGenerator) g = json_generator_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *text = NULL;

    json_builder_begin_object(b);
    put_str(b, "step", e->step);
    put_str(b, "time", e->time);
    put_str(b, "tool", e->tool);
    put_str(b, "batch", e->batch);
    if (!g_strcmp0(e->step, "batch")) {
        put_batch(b, e);
    }
    put_str(b, "image", e->image);
    if (e->snapshot_id) {
        json_builder_set_member_name(b, "snapshot");
        json_builder_begin_object(b);
        put_str(b, "id", e->snapshot_id);
        put_str(b, "name", e->snapshot_name);
        json_builder_end_object(b);
    }
    put_str(b, "status", e->status);
    if (e->has_old) {
        put_state(b, "old", e->old_size, e->old_sha256);
    }
    if (e->has_new) {
        put_state(b, "new", e->new_size, e->new_sha256);
    }
    put_str(b, "target",
            e->step && strcmp(e->step, "batch") ? e->target : NULL);
    if (e->rules) {
        put_strv(b, "rules", e->rules);
    }
    put_str(b, "recipe", e->recipe);
    put_str(b, "kept-as", e->kept_as);
    put_str(b, "message", e->message);
    if (e->status) {
        json_builder_set_member_name(b, "exit-code");
        json_builder_add_int_value(b, e->exit_code);
    }
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    json_generator_set_root(g, root);
    text = json_generator_to_data(g, NULL);
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

const char *app_journal_path(const AppJournal *j)
{
    return j->path;
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

static char *get_str(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    return n && JSON_NODE_HOLDS_VALUE(n) &&
                   json_node_get_value_type(n) == G_TYPE_STRING
               ? g_strdup(json_node_get_string(n))
               : NULL;
}

static int64_t get_int(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    return n && JSON_NODE_HOLDS_VALUE(n) &&
                   json_node_get_value_type(n) == G_TYPE_INT64
               ? json_node_get_int(n)
               : 0;
}

static bool get_bool(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    return n && JSON_NODE_HOLDS_VALUE(n) &&
           json_node_get_value_type(n) == G_TYPE_BOOLEAN &&
           json_node_get_boolean(n);
}

static JsonObject *get_obj(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static char **get_strv(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    g_autoptr(GPtrArray) v = NULL;
    JsonArray *a;

    if (!n || !JSON_NODE_HOLDS_ARRAY(n)) {
        return NULL;
    }
    a = json_node_get_array(n);
    v = g_ptr_array_new();
    for (guint i = 0; i < json_array_get_length(a); i++) {
        const char *s = json_array_get_string_element(a, i);
        g_ptr_array_add(v, g_strdup(s ? s : ""));
    }
    g_ptr_array_add(v, NULL);
    return (char **)g_ptr_array_free(g_steal_pointer(&v), false);
}

static void get_batch(AppJournalEntry *e, JsonObject *o)
{
    JsonObject *opts = get_obj(o, "options");
    JsonNode *n = json_object_get_member(o, "plan");
    JsonArray *plan =
        n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;

    e->target = get_str(opts, "target");
    e->machine = get_str(opts, "machine");
    e->rom_dir = get_str(opts, "rom-dir");
    e->drop_sections = get_strv(opts, "drop-sections");
    e->shrink_vram = get_bool(opts, "shrink-vram");
    e->drop_roms = get_bool(opts, "drop-roms");
    e->keep_block_sections = get_bool(opts, "keep-block-sections");
    e->keep_original = get_bool(opts, "keep-original");
    e->dry_run = get_bool(opts, "dry-run");
    e->plan =
        g_ptr_array_new_with_free_func((GDestroyNotify)app_plan_item_free);
    for (guint i = 0; plan && i < json_array_get_length(plan); i++) {
        JsonObject *p = json_array_get_object_element(plan, i);
        AppPlanItem *item = g_new0(AppPlanItem, 1);

        item->path = get_str(p, "image");
        item->snapshots = get_strv(p, "snapshots");
        g_ptr_array_add(e->plan, item);
    }
}

static AppJournalEntry *parse_line(const char *line)
{
    g_autoptr(JsonParser) p = json_parser_new();
    JsonNode *root;
    JsonObject *o, *x;
    AppJournalEntry *e;

    if (!json_parser_load_from_data(p, line, -1, NULL) ||
        !(root = json_parser_get_root(p)) || !JSON_NODE_HOLDS_OBJECT(root)) {
        return NULL;
    }
    o = json_node_get_object(root);
    e = g_new0(AppJournalEntry, 1);
    e->step = get_str(o, "step");
    e->time = get_str(o, "time");
    e->tool = get_str(o, "tool");
    e->batch = get_str(o, "batch");
    if (!e->step) {
        app_journal_entry_free(e);
        return NULL;
    }
    if (!strcmp(e->step, "batch")) {
        get_batch(e, o);
    } else {
        e->target = get_str(o, "target");
    }
    e->image = get_str(o, "image");
    x = get_obj(o, "snapshot");
    e->snapshot_id = get_str(x, "id");
    e->snapshot_name = get_str(x, "name");
    e->status = get_str(o, "status");
    e->message = get_str(o, "message");
    e->exit_code = (int)get_int(o, "exit-code");
    if ((x = get_obj(o, "old"))) {
        e->has_old = true;
        e->old_size = (uint64_t)get_int(x, "vm-state-size");
        e->old_sha256 = get_str(x, "sha256");
    }
    if ((x = get_obj(o, "new"))) {
        e->has_new = true;
        e->new_size = (uint64_t)get_int(x, "vm-state-size");
        e->new_sha256 = get_str(x, "sha256");
    }
    e->rules = get_strv(o, "rules");
    e->recipe = get_str(o, "recipe");
    e->kept_as = get_str(o, "kept-as");
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
