/*
 * undo and drop-originals (undo.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exit_codes.h"
#include "io.h"
#include "libvirt/domain.h"
#include "record.h"
#include "undo.h"

#define HASH_CHUNK ((size_t)4 << 20)

const char *app_undo_status_name(AppUndoStatus s)
{
    switch (s) {
    case APP_UNDO_DONE:
        return "done";
    case APP_UNDO_NOTHING:
        return "nothing";
    case APP_UNDO_ERROR:
        return "error";
    }
    return "?";
}

void app_undo_outcome_free(AppUndoOutcome *o)
{
    if (!o) {
        return;
    }
    g_free(o->id);
    g_free(o->name);
    g_free(o->original_id);
    g_free(o->original_name);
    g_clear_error(&o->error);
    g_free(o->sha256);
    g_free(o);
}

char *app_vmstate_sha256(Qcow2Image *img, const Qcow2Snapshot *sn,
                         GError **errp)
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_autofree uint8_t *buf = g_malloc(HASH_CHUNK);

    for (uint64_t off = 0; off < sn->vm_state_size;) {
        size_t n = (size_t)MIN(HASH_CHUNK, sn->vm_state_size - off);

        if (!qcow2_read_vmstate(img, sn, off, buf, n, errp)) {
            return NULL;
        }
        g_checksum_update(sum, buf, (gssize)n);
        off += n;
    }
    return g_strdup(g_checksum_get_string(sum));
}

static AppUndoOutcome *outcome_new(const Qcow2Snapshot *sn)
{
    AppUndoOutcome *o = g_new0(AppUndoOutcome, 1);

    o->id = g_strdup(sn->id);
    o->name = g_strdup(sn->name);
    return o;
}

static void nothing(AppUndoOutcome *o, const char *image, const char *why)
{
    o->status = APP_UNDO_NOTHING;
    o->error =
        g_error_new(QCOW2_ERROR, QCOW2_ERROR_NOT_FOUND,
                    "%s: snapshot %s \"%s\": %s", image, o->id, o->name, why);
}

/* The original a fix of sn kept: marked as the original of sn's ID and
 * name (a snapshot saved again under the name has another ID). */
static const Qcow2Snapshot *original_of(Qcow2Image *img,
                                        const Qcow2Snapshot *sn)
{
    for (guint i = 0; i < qcow2_snapshot_count(img); i++) {
        const Qcow2Snapshot *o = qcow2_snapshot_get(img, i);
        AppRecord r;
        bool match = app_record_read(o, &r) == APP_RECORD_ORIGINAL &&
                     !g_strcmp0(r.of_id, sn->id) &&
                     !g_strcmp0(r.of_name, sn->name);

        app_record_clear(&r);
        if (match) {
            return o;
        }
    }
    return NULL;
}

/* Undo the fix of the snapshot with this ID. */
static AppUndoOutcome *undo_one(Qcow2Image *img, const char *image,
                                const char *id, const AppUndoOptions *uo)
{
    const Qcow2Snapshot *sn = qcow2_snapshot_find(img, id, NULL);
    const Qcow2Snapshot *orig;
    AppUndoOutcome *o = outcome_new(sn);
    AppRecord rec;
    AppRecordKind kind = app_record_read(sn, &rec);
    g_autoptr(GBytes) extra = NULL;
    Qcow2TableOptions to = {.dry_run = uo->dry_run};
    GError *err = NULL;

    app_record_clear(&rec);
    if (kind != APP_RECORD_FIX) {
        nothing(o, image,
                kind == APP_RECORD_ORIGINAL
                    ? "is an original kept by a fix, not a fixed snapshot"
                    : "carries no record of a fix (never fixed, or undone)");
        return o;
    }
    orig = original_of(img, sn);
    if (!orig) {
        nothing(o, image,
                "the fix kept no original (--keep-original), or it was "
                "dropped: nothing to restore");
        return o;
    }
    o->original_id = g_strdup(orig->id);
    o->original_name = g_strdup(orig->name);
    /* The restored entry gets what another writer had put in the
     * original's extra data, without the mark. */
    extra = app_record_extra(orig, NULL, &err);
    to.extra.set = true;
    to.extra.data = g_bytes_get_data(extra, &to.extra.len);
    if (!qcow2_snapshot_restore(img, sn, orig, &to, &o->stats, &err)) {
        o->status = APP_UNDO_ERROR;
        o->error = err;
        return o;
    }
    o->status = APP_UNDO_DONE;
    sn = qcow2_snapshot_find(img, o->id, NULL); /* the table was re-read */
    if (uo->dry_run || !sn) {
        return o;
    }
    o->vm_state_size = sn->vm_state_size;
    if (uo->want_sha256 && !(o->sha256 = app_vmstate_sha256(img, sn, &err))) {
        o->status = APP_UNDO_ERROR;
        o->error = err;
    }
    return o;
}

static AppUndoOutcome *drop_one(Qcow2Image *img, const char *image,
                                const char *id, const AppUndoOptions *uo)
{
    const Qcow2Snapshot *sn = qcow2_snapshot_find(img, id, NULL);
    AppUndoOutcome *o = outcome_new(sn);
    Qcow2TableOptions to = {.dry_run = uo->dry_run};
    GError *err = NULL;

    if (!app_snapshot_is_original(sn)) {
        nothing(o, image, "is not an original kept by a fix");
        return o;
    }
    if (!qcow2_snapshot_delete(img, sn, &to, &o->stats, &err)) {
        o->status = APP_UNDO_ERROR;
        o->error = err;
        return o;
    }
    o->status = APP_UNDO_DONE;
    return o;
}

typedef AppUndoOutcome *(*Action)(Qcow2Image *img, const char *image,
                                  const char *id, const AppUndoOptions *uo);

/* IDs to act on: the named snapshot (for drop: its original, when it is
 * not an original itself), or every one the record kind selects. */
static GPtrArray *pick(Qcow2Image *img, const AppUndoOptions *uo,
                       AppRecordKind kind, GError **errp)
{
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);

    if (uo->snapshot) {
        const Qcow2Snapshot *sn = qcow2_snapshot_find(img, uo->snapshot, errp);
        const Qcow2Snapshot *orig;

        if (!sn) {
            g_ptr_array_unref(ids);
            return NULL;
        }
        if (kind == APP_RECORD_ORIGINAL && !app_snapshot_is_original(sn) &&
            (orig = original_of(img, sn))) {
            sn = orig;
        }
        g_ptr_array_add(ids, g_strdup(sn->id));
        return ids;
    }
    for (guint i = 0; i < qcow2_snapshot_count(img); i++) {
        const Qcow2Snapshot *sn = qcow2_snapshot_get(img, i);
        AppRecord r;

        if (app_record_read(sn, &r) == kind) {
            g_ptr_array_add(ids, g_strdup(sn->id));
        }
        app_record_clear(&r);
    }
    return ids;
}

static GPtrArray *run(const char *image, const AppUndoOptions *uo,
                      AppRecordKind kind, Action act, GError **errp)
{
    Qcow2Image *img = qcow2_open(
        image, uo->dry_run ? QCOW2_OPEN_READ_ONLY : QCOW2_OPEN_WRITABLE, errp);
    g_autoptr(GPtrArray) ids = img ? pick(img, uo, kind, errp) : NULL;
    GPtrArray *out;

    if (!ids) {
        qcow2_close(img);
        return NULL;
    }
    out = g_ptr_array_new_with_free_func((GDestroyNotify)app_undo_outcome_free);
    for (guint i = 0; i < ids->len; i++) {
        g_ptr_array_add(out, act(img, image, g_ptr_array_index(ids, i), uo));
    }
    qcow2_close(img);
    return out;
}

/* ---- libvirt save images: the original is FILE.orig beside FILE ------- */

static AppUndoOutcome *save_outcome(const char *image)
{
    AppUndoOutcome *o = g_new0(AppUndoOutcome, 1);
    uint64_t offset, size;
    g_autoptr(LvSaveImage) img =
        app_savefile_header(image, &offset, &size, NULL);
    g_autoptr(LvDomain) d = img ? lvdom_parse(img->xml, NULL) : NULL;

    o->id = g_strdup("-"); /* its one "snapshot", as scan names it */
    o->name = d ? lvdom_name(d) : NULL;
    if (!o->name) {
        o->name = g_path_get_basename(image);
    }
    return o;
}

static void save_nothing(AppUndoOutcome *o, const char *image, const char *why)
{
    o->status = APP_UNDO_NOTHING;
    o->error =
        g_error_new(QCOW2_ERROR, QCOW2_ERROR_NOT_FOUND, "%s: %s", image, why);
}

static bool save_failed(AppUndoOutcome *o, int e, const char *path,
                        const char *what)
{
    o->status = APP_UNDO_ERROR;
    app_file_error(&o->error, e, path, what);
    return false;
}

static bool sync_dir_of(AppUndoOutcome *o, const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bool ok = fd >= 0 && fsync(fd) == 0;
    int e = errno;

    if (fd >= 0) {
        close(fd);
    }
    return ok || save_failed(o, e, dir, "cannot sync the directory");
}

/* The original a fix of image kept, if it is still there: its path. */
static char *kept_original(const char *image, AppUndoOutcome *o)
{
    AppRecord r;
    g_autofree char *dir = g_path_get_dirname(image);
    char *orig = NULL;

    if (app_savefile_record(image, &r) != APP_RECORD_FIX) {
        save_nothing(o, image,
                     "carries no record of a fix (never fixed, or undone)");
    } else if (!r.kept_as) {
        save_nothing(o, image, "the fix kept no original (--discard-original)");
    } else {
        orig = g_build_filename(dir, r.kept_as, NULL);
        if (!app_is_savefile(orig)) {
            save_nothing(o, image,
                         "the original the fix kept is gone (dropped)");
            g_clear_pointer(&orig, g_free);
        }
    }
    app_record_clear(&r);
    return orig;
}

/* FILE.orig renamed over FILE: the image as it was before the fix. */
static AppUndoOutcome *undo_save(const char *image, const AppUndoOptions *uo)
{
    AppUndoOutcome *o = save_outcome(image);
    g_autofree char *orig = NULL;
    struct stat st;
    GError *err = NULL;

    if (app_savefile_is_original(image, NULL)) {
        save_nothing(o, image, "is the original a fix kept, not a fixed image");
        return o;
    }
    if (!(orig = kept_original(image, o))) {
        return o;
    }
    o->original_name = g_strdup(orig);
    o->status = APP_UNDO_DONE;
    if (uo->dry_run) {
        return o;
    }
    if (rename(orig, image) < 0) {
        save_failed(o, errno, orig, "cannot rename it back into place");
        return o;
    }
    if (!sync_dir_of(o, image)) {
        return o;
    }
    if (stat(image, &st) == 0) {
        o->vm_state_size = (uint64_t)st.st_size;
    }
    if (uo->want_sha256 && !(o->sha256 = app_file_sha256(image, &err))) {
        o->status = APP_UNDO_ERROR;
        o->error = err;
    }
    return o;
}

/* The original removed: given as FILE.orig, or found from FILE's record. */
static AppUndoOutcome *drop_save(const char *image, const AppUndoOptions *uo)
{
    AppUndoOutcome *o = save_outcome(image);
    char *orig = app_savefile_is_original(image, NULL)
                     ? g_strdup(image)
                     : kept_original(image, o);

    if (!orig) {
        return o;
    }
    o->original_name = orig;
    o->status = APP_UNDO_DONE;
    if (!uo->dry_run && unlink(orig) < 0) {
        save_failed(o, errno, orig, "cannot remove it");
        return o;
    }
    if (!uo->dry_run) {
        sync_dir_of(o, orig);
    }
    return o;
}

/* Undo or drop on a save image; NULL: path is not one. */
static GPtrArray *run_save(const char *image, const AppUndoOptions *uo,
                           AppRecordKind kind, GError **errp)
{
    GPtrArray *out;

    if (!app_is_savefile(image)) {
        return NULL;
    }
    if (uo->snapshot && strcmp(uo->snapshot, "-")) {
        g_set_error(errp, QCOW2_ERROR, QCOW2_ERROR_NOT_FOUND,
                    "%s: a libvirt save image has no snapshots (--snapshot "
                    "%s)",
                    image, uo->snapshot);
        return NULL;
    }
    out = g_ptr_array_new_with_free_func((GDestroyNotify)app_undo_outcome_free);
    g_ptr_array_add(out, kind == APP_RECORD_FIX ? undo_save(image, uo)
                                                : drop_save(image, uo));
    return out;
}

GPtrArray *app_undo_image(const char *image, const AppUndoOptions *o,
                          GError **errp)
{
    GError *err = NULL;
    GPtrArray *out = run_save(image, o, APP_RECORD_FIX, &err);

    if (err) {
        g_propagate_error(errp, err);
    }
    if (out || err) {
        return out;
    }
    return run(image, o, APP_RECORD_FIX, undo_one, errp);
}

GPtrArray *app_drop_originals(const char *image, const AppUndoOptions *o,
                              GError **errp)
{
    GError *err = NULL;
    GPtrArray *out = run_save(image, o, APP_RECORD_ORIGINAL, &err);

    if (err) {
        g_propagate_error(errp, err);
    }
    if (out || err) {
        return out;
    }
    return run(image, o, APP_RECORD_ORIGINAL, drop_one, errp);
}

int app_undo_exit_code(AppUndoOutcome *const *outcomes, guint n)
{
    int code = APP_EXIT_OK;

    for (guint i = 0; i < n; i++) {
        const AppUndoOutcome *o = outcomes[i];
        int c;

        if (o->status != APP_UNDO_ERROR) {
            continue;
        }
        c = o->error ? app_exit_code(o->error) : APP_EXIT_INTERNAL;
        code = code == APP_EXIT_OK || code == c ? c : APP_EXIT_PARTIAL;
    }
    return code;
}
