/*
 * A batch fix with its journal (batch.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "batch.h"
#include "exit_codes.h"
#include "fix.h"
#include "io.h"
#include "libvirt/domain.h"
#include "record.h"
#include "undo.h"

struct AppBatch {
    AppBatchOptions o;
    char *batch_id;
    AppJournal *journal;
    GPtrArray *entries;  /* AppScanEntry *, the walk */
    GHashTable *planned; /* path -> char ** snapshot IDs (NULL: all) */
    /* resume: what the journal says (entries owned by journal_entries) */
    GPtrArray *journal_entries;
    GHashTable *finished; /* path -> its "image" AppJournalEntry */
    GHashTable *done;     /* "path\nid" -> its "done" AppJournalEntry */
    GHashTable *begun;    /* "path\nid" -> its "begin" AppJournalEntry */
    /* owned copies of what o.fix points at */
    char *machine, *rom_dir, *snapshot;
    char **drop_sections;
    char *journal_path;
};

const char *app_image_status_name(AppImageStatus s)
{
    switch (s) {
    case APP_IMAGE_FIXED:
        return "fixed";
    case APP_IMAGE_COMPATIBLE:
        return "compatible";
    case APP_IMAGE_SKIPPED:
        return "skipped";
    case APP_IMAGE_FAILED:
        return "failed";
    }
    return "?";
}

char *app_writer_label(const VmsWriterInfo *w)
{
    if (!w) {
        return g_strdup("unknown");
    }
    return g_strdup_printf("%s %s, %s", w->program,
                           w->version ? w->version : "?",
                           w->accel ? w->accel : "?");
}

static char *snap_key(const char *path, const char *id)
{
    return g_strdup_printf("%s\n%s", path, id ? id : "");
}

static void batch_snapshot_free(AppBatchSnapshot *s)
{
    if (s) {
        app_outcome_free(s->outcome);
        g_free(s->old_sha256);
        g_free(s->new_sha256);
        g_free(s);
    }
}

static void batch_image_free(AppBatchImage *im)
{
    if (im) {
        g_free(im->path);
        g_clear_error(&im->error);
        g_ptr_array_unref(im->snapshots);
        g_free(im);
    }
}

/* ---- building --------------------------------------------------------- */

static AppBatch *batch_alloc(const AppBatchOptions *o)
{
    AppBatch *b = g_new0(AppBatch, 1);

    b->o = *o;
    b->machine = g_strdup(o->fix.machine);
    b->rom_dir = g_strdup(o->fix.rom_dir);
    b->drop_sections = g_strdupv((char **)o->fix.drop_sections);
    b->snapshot = g_strdup(o->snapshot);
    b->journal_path = g_strdup(o->journal);
    b->o.fix.machine = b->machine;
    b->o.fix.rom_dir = b->rom_dir;
    b->o.fix.drop_sections = (const char *const *)b->drop_sections;
    b->o.snapshot = b->snapshot;
    b->o.journal = b->journal_path;
    b->o.want_sha256 = o->want_sha256 || o->journal;
    b->planned = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify)g_strfreev);
    b->finished = g_hash_table_new(g_str_hash, g_str_equal);
    b->done = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    b->begun = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return b;
}

void app_batch_free(AppBatch *b)
{
    if (!b) {
        return;
    }
    app_journal_close(b->journal);
    if (b->entries) {
        g_ptr_array_unref(b->entries);
    }
    g_hash_table_unref(b->planned);
    g_hash_table_unref(b->finished);
    g_hash_table_unref(b->done);
    g_hash_table_unref(b->begun);
    if (b->journal_entries) {
        g_ptr_array_unref(b->journal_entries);
    }
    g_free(b->batch_id);
    g_free(b->machine);
    g_free(b->rom_dir);
    g_free(b->snapshot);
    g_strfreev(b->drop_sections);
    g_free(b->journal_path);
    g_free(b);
}

const AppBatchOptions *app_batch_options(const AppBatch *b)
{
    return &b->o;
}

/* Walk the plan's paths (each file once); remember their snapshots. */
static void walk(AppBatch *b, char **paths, GPtrArray *plan)
{
    g_autoptr(GPtrArray) given = g_ptr_array_new();

    for (guint i = 0; plan && i < plan->len; i++) {
        const AppPlanItem *p = g_ptr_array_index(plan, i);

        g_ptr_array_add(given, p->path);
        if (!g_hash_table_contains(b->planned, p->path)) {
            g_hash_table_insert(b->planned, g_strdup(p->path),
                                g_strdupv(p->snapshots));
        }
    }
    g_ptr_array_add(given, NULL);
    b->entries = app_scan_walk(plan ? (char **)given->pdata : paths);
    for (guint i = 0; i < b->entries->len; i++) {
        AppScanEntry *e = g_ptr_array_index(b->entries, i);
        g_autofree char *of = NULL;

        /* a save image's original a fix kept is a file of its own: not
         * an image to fix (a qcow2 image keeps them as snapshots) */
        if (e->kind == APP_ENTRY_IMAGE && app_is_savefile(e->path) &&
            app_savefile_is_original(e->path, &of)) {
            e->kind = APP_ENTRY_SKIPPED;
            e->reason = g_strdup_printf("the original a fix of %s kept", of);
        }
    }
}

static AppJournalEntry *batch_record(const AppBatch *b)
{
    AppJournalEntry *e = app_journal_entry_new("batch", b->batch_id);
    const AppOptions *f = &b->o.fix;

    e->target =
        g_strdup(tr_target_name(f->target ? f->target : tr_target_default()));
    e->machine = g_strdup(f->machine);
    e->rom_dir = g_strdup(f->rom_dir);
    e->drop_sections = g_strdupv((char **)f->drop_sections);
    e->shrink_vram = f->shrink_vram;
    e->drop_roms = f->drop_roms;
    e->keep_block_sections = f->keep_block_sections;
    e->keep_original = f->keep_original;
    e->dry_run = f->dry_run;
    e->plan =
        g_ptr_array_new_with_free_func((GDestroyNotify)app_plan_item_free);
    for (guint i = 0; i < b->entries->len; i++) {
        const AppScanEntry *se = g_ptr_array_index(b->entries, i);
        AppPlanItem *p;

        if (se->kind != APP_ENTRY_IMAGE) {
            continue;
        }
        p = g_new0(AppPlanItem, 1);
        p->path = g_strdup(se->path);
        p->snapshots = g_strdupv(g_hash_table_lookup(b->planned, se->path));
        if (!p->snapshots && b->o.snapshot) {
            p->snapshots = g_strdupv((char *[]){(char *)b->o.snapshot, NULL});
        }
        g_ptr_array_add(e->plan, p);
    }
    return e;
}

AppBatch *app_batch_new(const AppBatchOptions *o, char **paths, GPtrArray *plan,
                        GError **errp)
{
    AppBatch *b = batch_alloc(o);
    g_autoptr(AppJournalEntry) rec = NULL;

    b->batch_id = app_batch_id_new();
    b->o.fix.batch_id = b->batch_id;
    walk(b, paths, plan);
    if (!o->journal) {
        return b;
    }
    b->journal = app_journal_open(o->journal, errp);
    rec = b->journal ? batch_record(b) : NULL;
    if (!rec || !app_journal_append(b->journal, rec, errp)) {
        app_batch_free(b);
        return NULL;
    }
    return b;
}

/* ---- resume ----------------------------------------------------------- */

static bool same_str(const char *a, const char *b)
{
    return !g_strcmp0(a && *a ? a : NULL, b && *b ? b : NULL);
}

/* The journal's options, unless the command line asks for others. */
static bool take_options(AppBatch *b, const AppJournalEntry *e,
                         const AppBatchOptions *given, GError **errp)
{
    const TrTarget *t = e->target ? tr_target_find(e->target) : NULL;
    const AppOptions *g = &given->fix;

    if (!t) {
        g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "journal %s: unknown target '%s'", given->journal,
                    e->target ? e->target : "");
        return false;
    }
    if ((g->target && g->target != t) ||
        (g->machine && !same_str(g->machine, e->machine)) ||
        (g->rom_dir && !same_str(g->rom_dir, e->rom_dir)) ||
        (g->shrink_vram && !e->shrink_vram) ||
        (g->drop_roms && !e->drop_roms) ||
        (g->keep_block_sections && !e->keep_block_sections) ||
        (g->keep_original && !e->keep_original) ||
        (g->drop_sections && g->drop_sections[0])) {
        g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--resume %s: the batch's options come from its "
                    "journal; give no others",
                    given->journal);
        return false;
    }
    b->o.fix.target = t;
    g_free(b->machine);
    b->machine = g_strdup(e->machine);
    g_free(b->rom_dir);
    b->rom_dir = g_strdup(e->rom_dir);
    g_strfreev(b->drop_sections);
    b->drop_sections = g_strdupv(e->drop_sections);
    b->o.fix.machine = b->machine;
    b->o.fix.rom_dir = b->rom_dir;
    b->o.fix.drop_sections = (const char *const *)b->drop_sections;
    b->o.fix.shrink_vram = e->shrink_vram;
    b->o.fix.drop_roms = e->drop_roms;
    b->o.fix.keep_block_sections = e->keep_block_sections;
    b->o.fix.keep_original = e->keep_original;
    b->o.fix.dry_run = false;
    return true;
}

AppBatch *app_batch_resume(const char *journal, const AppBatchOptions *o,
                           GError **errp)
{
    g_autoptr(GPtrArray) entries = app_journal_load(journal, errp);
    AppBatch *b;
    const AppJournalEntry *head = NULL;
    g_autoptr(AppJournalEntry) rec = NULL;

    if (!entries) {
        return NULL;
    }
    for (guint i = 0; i < entries->len && !head; i++) {
        const AppJournalEntry *e = g_ptr_array_index(entries, i);
        head = !strcmp(e->step, "batch") ? e : NULL;
    }
    b = batch_alloc(o);
    b->journal_entries = g_steal_pointer(&entries);
    if (head->dry_run) {
        g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "journal %s: a dry run; nothing to resume", journal);
        app_batch_free(b);
        return NULL;
    }
    if (!take_options(b, head, o, errp)) {
        app_batch_free(b);
        return NULL;
    }
    b->batch_id = g_strdup(head->batch);
    b->o.fix.batch_id = b->batch_id;
    for (guint i = 0; i < b->journal_entries->len; i++) {
        AppJournalEntry *e = g_ptr_array_index(b->journal_entries, i);

        if (g_strcmp0(e->batch, b->batch_id) || !e->image) {
            continue;
        }
        if (!strcmp(e->step, "image")) {
            g_hash_table_insert(b->finished, e->image, e);
        } else if (e->snapshot_id && !strcmp(e->step, "done")) {
            g_hash_table_insert(b->done, snap_key(e->image, e->snapshot_id), e);
        } else if (e->snapshot_id && !strcmp(e->step, "begin")) {
            g_hash_table_insert(b->begun, snap_key(e->image, e->snapshot_id),
                                e);
        }
    }
    walk(b, NULL, head->plan);
    b->journal = app_journal_open(journal, errp);
    rec = b->journal ? app_journal_entry_new("resume", b->batch_id) : NULL;
    if (!rec || !app_journal_append(b->journal, rec, errp)) {
        app_batch_free(b);
        return NULL;
    }
    return b;
}

/* ---- one image -------------------------------------------------------- */

typedef struct ImageRun {
    AppBatch *b;
    Qcow2Image *img;
    const char *path;
    AppBatchSnapshot *bs;
} ImageRun;

static bool journal(AppBatch *b, AppJournalEntry *e, GError **errp)
{
    return !b->journal || app_journal_append(b->journal, e, errp);
}

static AppJournalEntry *snapshot_entry(AppBatch *b, const char *step,
                                       const char *path, const AppOutcome *out)
{
    AppJournalEntry *e = app_journal_entry_new(step, b->batch_id);

    e->image = g_strdup(path);
    e->snapshot_id = g_strdup(out->id);
    e->snapshot_name = g_strdup(out->name);
    e->target = g_strdup(tr_target_name(b->o.fix.target ? b->o.fix.target
                                                        : tr_target_default()));
    return e;
}

/* The journal's "begin" of out, with the old hash in r->bs. */
static bool journal_begin(ImageRun *r, const AppOutcome *out, GError **errp)
{
    g_autoptr(AppJournalEntry) e = snapshot_entry(r->b, "begin", r->path, out);

    e->has_old = true;
    e->old_size = out->old_size;
    e->old_sha256 = g_strdup(r->bs->old_sha256);
    return journal(r->b, e, errp);
}

/* Before the write: the old VM state's hash, and the journal's "begin". */
static bool before_write(const AppOutcome *out, void *opaque, GError **errp)
{
    ImageRun *r = opaque;
    const Qcow2Snapshot *sn = qcow2_snapshot_find(r->img, out->id, errp);

    if (!sn) {
        return false;
    }
    if (r->b->o.want_sha256 &&
        !(r->bs->old_sha256 = app_vmstate_sha256(r->img, sn, errp))) {
        return false;
    }
    return journal_begin(r, out, errp);
}

static const char *snapshot_status(const AppBatchSnapshot *bs)
{
    return app_status_name(bs->outcome->status);
}

static void journal_done(ImageRun *r, const AppBatchSnapshot *bs,
                         const AppRecord *rec)
{
    const AppOutcome *out = bs->outcome;
    g_autoptr(AppJournalEntry) e = snapshot_entry(r->b, "done", r->path, out);
    g_autoptr(GError) err = NULL;

    e->status = g_strdup(snapshot_status(bs));
    e->exit_code = app_outcome_exit_code(out);
    e->has_old = true;
    e->old_size = out->old_size;
    e->old_sha256 = g_strdup(bs->old_sha256);
    if (out->status == APP_FIXED) {
        e->has_new = true;
        e->new_size = out->new_size;
        e->new_sha256 = g_strdup(bs->new_sha256);
        e->kept_as = g_strdup(out->write.kept_as);
    }
    if (rec && rec->kind == APP_RECORD_FIX) {
        e->rules = g_strdupv(rec->rules);
        e->recipe = g_strdup(rec->recipe);
    } else if (out->result) {
        AppRecord tmp;
        app_record_for_fix(&tmp, &r->b->o.fix, out->result, out->old_size);
        e->rules = g_steal_pointer(&tmp.rules);
        e->recipe = g_steal_pointer(&tmp.recipe);
        app_record_clear(&tmp);
    }
    e->message = app_outcome_reason(out);
    if (!journal(r->b, e, &err)) {
        /* The image is as the record says; the journal is behind. */
        app_outcome_fail(bs->outcome, g_steal_pointer(&err));
    }
}

/* The snapshot's record says this batch fixed it before it was killed. */
static bool committed_before(ImageRun *r, const Qcow2Snapshot *sn,
                             AppRecord *rec)
{
    bool mine = app_record_read(sn, rec) == APP_RECORD_FIX &&
                !g_strcmp0(rec->batch, r->b->batch_id);

    if (!mine) {
        app_record_clear(rec);
    }
    return mine;
}

static AppBatchSnapshot *from_journal(const AppJournalEntry *e)
{
    AppBatchSnapshot *bs = g_new0(AppBatchSnapshot, 1);
    AppOutcome *out = app_outcome_new(e->snapshot_id, e->snapshot_name);

    bs->outcome = out;
    bs->from_journal = true;
    out->status = !g_strcmp0(e->status, "fixed")        ? APP_FIXED
                  : !g_strcmp0(e->status, "compatible") ? APP_COMPATIBLE
                  : !g_strcmp0(e->status, "refused")    ? APP_REFUSED
                                                        : APP_ERROR;
    out->old_size = e->old_size;
    out->new_size = e->has_new ? e->new_size : e->old_size;
    out->write.kept_as = g_strdup(e->kept_as);
    if (out->status == APP_ERROR || out->status == APP_REFUSED) {
        out->error = g_error_new(QCOW2_ERROR, QCOW2_ERROR_IO, "%s",
                                 e->message ? e->message : "(see journal)");
    }
    bs->old_sha256 = g_strdup(e->old_sha256);
    bs->new_sha256 = g_strdup(e->new_sha256);
    return bs;
}

/* The outcome of a fix the stop request cut short: the snapshot is as it
 * was (its write given back, or never begun), not finished. */
static bool stopped_short(const AppOutcome *out)
{
    return g_error_matches(out->error, QCOW2_ERROR, QCOW2_ERROR_CANCELLED);
}

static void fix_one(ImageRun *r, const char *id, GPtrArray *out_snaps)
{
    AppBatch *b = r->b;
    g_autofree char *key = snap_key(r->path, id);
    const AppJournalEntry *done = g_hash_table_lookup(b->done, key);
    const AppJournalEntry *begun = g_hash_table_lookup(b->begun, key);
    const Qcow2Snapshot *sn = qcow2_snapshot_find(r->img, id, NULL);
    AppBatchSnapshot *bs;
    AppRecord rec = {0};
    AppRunHooks hooks = {.before_write = before_write, .opaque = r};
    guint index = G_MAXUINT;
    GError *err = NULL;

    if (done) {
        g_ptr_array_add(out_snaps, from_journal(done));
        return;
    }
    bs = g_new0(AppBatchSnapshot, 1);
    bs->outcome = app_outcome_new(id, sn ? sn->name : id);
    g_ptr_array_add(out_snaps, bs);
    r->bs = bs;
    if (sn && !b->o.fix.dry_run && begun && committed_before(r, sn, &rec)) {
        /* Killed after its header switch: the fix is in the image. */
        bs->resumed = true;
        bs->outcome->status = APP_FIXED;
        bs->outcome->old_size = rec.old_size;
        bs->outcome->new_size = sn->vm_state_size;
        bs->old_sha256 = g_strdup(begun->old_sha256);
        if (b->o.fix.keep_original) {
            bs->outcome->write.kept_as = g_strdup_printf("%s.orig", sn->name);
        }
    } else if (!sn) {
        app_outcome_fail(bs->outcome,
                         g_error_new(QCOW2_ERROR, QCOW2_ERROR_NOT_FOUND,
                                     "%s: no snapshot with ID %s", r->path,
                                     id));
    } else if (app_stop_requested(&b->o.fix)) {
        app_outcome_not_begun(bs->outcome, r->path);
    } else {
        /* By its place in the table: IDs need not be unique. */
        index = sn->index;
        app_fix_snapshot_hooked(r->img, r->path, index, &b->o.fix, &hooks,
                                bs->outcome);
    }
    /* the table was re-read; a splice keeps every entry at its place */
    sn = index != G_MAXUINT ? qcow2_snapshot_get(r->img, index)
                            : qcow2_snapshot_find(r->img, id, NULL);
    if (bs->outcome->status == APP_FIXED && !b->o.fix.dry_run && sn &&
        b->o.want_sha256 &&
        !(bs->new_sha256 = app_vmstate_sha256(r->img, sn, &err))) {
        app_outcome_fail(bs->outcome, err);
    }
    if (!b->o.fix.dry_run && !stopped_short(bs->outcome)) {
        journal_done(r, bs, bs->resumed ? &rec : NULL);
    }
    app_record_clear(&rec);
}

/* ---- libvirt save images in a batch ---------------------------------- */

/* A save image's one "snapshot" (as scan names it). */
#define SAVE_ID "-"

/* The domain's name, as scan shows a save image's one snapshot. */
static char *save_name(const char *path)
{
    uint64_t offset, size;
    g_autoptr(LvSaveImage) img =
        app_savefile_header(path, &offset, &size, NULL);
    g_autoptr(LvDomain) d = img ? lvdom_parse(img->xml, NULL) : NULL;
    char *name = d ? lvdom_name(d) : NULL;

    return name ? name : g_path_get_basename(path);
}

/* Before the new image replaces the old one: its hash, and "begin". */
static bool before_save_write(const AppOutcome *out, void *opaque,
                              GError **errp)
{
    ImageRun *r = opaque;

    if (r->b->o.want_sha256 &&
        !(r->bs->old_sha256 = app_file_sha256(r->path, errp))) {
        return false;
    }
    return journal_begin(r, out, errp);
}

/*
 * A save image: fixed as `fix FILE.save` fixes it (the original kept as
 * FILE.orig unless --discard-original), hashed whole. A run killed after
 * the new image was renamed into place left its record, with this batch's
 * id, in the image.
 */
static void fix_save_image(ImageRun *r, GPtrArray *out_snaps)
{
    AppBatch *b = r->b;
    g_autofree char *key = snap_key(r->path, SAVE_ID);
    const AppJournalEntry *done = g_hash_table_lookup(b->done, key);
    const AppJournalEntry *begun = g_hash_table_lookup(b->begun, key);
    g_autofree char *name = NULL;
    AppRunHooks hooks = {.before_write = before_save_write, .opaque = r};
    AppBatchSnapshot *bs;
    AppRecord rec = {0};
    bool mine;
    GError *err = NULL;

    if (done) {
        g_ptr_array_add(out_snaps, from_journal(done));
        return;
    }
    name = save_name(r->path);
    bs = g_new0(AppBatchSnapshot, 1);
    bs->outcome = app_outcome_new(SAVE_ID, name);
    g_ptr_array_add(out_snaps, bs);
    r->bs = bs;
    mine = begun && !b->o.fix.dry_run &&
           app_savefile_record(r->path, &rec) == APP_RECORD_FIX &&
           !g_strcmp0(rec.batch, b->batch_id);
    if (mine) {
        g_autofree char *dir = g_path_get_dirname(r->path);

        bs->resumed = true;
        bs->outcome->status = APP_FIXED;
        bs->outcome->old_size = rec.old_size;
        bs->outcome->new_size = rec.new_size;
        bs->old_sha256 = g_strdup(begun->old_sha256);
        if (rec.kept_as) {
            bs->outcome->write.kept_as =
                g_build_filename(dir, rec.kept_as, NULL);
        }
    } else {
        app_fix_savefile_hooked(r->path, &b->o.fix, &hooks, bs->outcome);
    }
    if (bs->outcome->status == APP_FIXED && !b->o.fix.dry_run &&
        b->o.want_sha256 &&
        !(bs->new_sha256 = app_file_sha256(r->path, &err))) {
        app_outcome_fail(bs->outcome, err);
    }
    if (!b->o.fix.dry_run && !stopped_short(bs->outcome)) {
        journal_done(r, bs, mine ? &rec : NULL);
    }
    app_record_clear(&rec);
}

/* Why a save image is not fixed in this batch, or NULL (its original,
 * FILE.orig, is left out by the walk). */
static GError *save_image_excluded(AppBatch *b, const char *path)
{
    if (b->o.snapshot) {
        return g_error_new(QCOW2_ERROR, QCOW2_ERROR_NOT_FOUND,
                           "%s: a libvirt save image has no snapshots "
                           "(--snapshot %s)",
                           path, b->o.snapshot);
    }
    return NULL;
}

/* The snapshots to fix: the plan's, the one asked for, or every one with
 * VM state that is not an original a fix kept. */
static char **pick(AppBatch *b, Qcow2Image *img, const char *path,
                   GError **errp)
{
    char **planned = g_hash_table_lookup(b->planned, path);
    g_autoptr(GPtrArray) ids = g_ptr_array_new();

    if (planned) {
        return g_strdupv(planned);
    }
    if (b->o.snapshot) {
        const Qcow2Snapshot *sn = qcow2_snapshot_find(img, b->o.snapshot, errp);
        if (!sn) {
            return NULL;
        }
        g_ptr_array_add(ids, g_strdup(sn->id));
    } else {
        for (guint i = 0; i < qcow2_snapshot_count(img); i++) {
            const Qcow2Snapshot *sn = qcow2_snapshot_get(img, i);
            if (sn->vm_state_size && !app_snapshot_is_original(sn)) {
                g_ptr_array_add(ids, g_strdup(sn->id));
            }
        }
    }
    g_ptr_array_add(ids, NULL);
    return (char **)g_ptr_array_free(g_steal_pointer(&ids), false);
}

/* What stops the image being written now: skipped, not failed. */
static bool blocks_writing(const GError *err)
{
    return err->domain == QCOW2_ERROR &&
           (err->code == QCOW2_ERROR_IN_USE ||
            err->code == QCOW2_ERROR_NEEDS_REPAIR ||
            err->code == QCOW2_ERROR_UNSUPPORTED);
}

static void settle(AppBatchImage *im)
{
    bool any_fixed = false, any_failed = false;

    if (im->error) {
        im->status =
            blocks_writing(im->error) ? APP_IMAGE_SKIPPED : APP_IMAGE_FAILED;
        im->exit_code = app_exit_code(im->error);
        return;
    }
    for (guint i = 0; i < im->snapshots->len; i++) {
        const AppBatchSnapshot *bs = g_ptr_array_index(im->snapshots, i);
        any_fixed |= bs->outcome->status == APP_FIXED;
        any_failed |= bs->outcome->status == APP_ERROR ||
                      bs->outcome->status == APP_REFUSED;
    }
    im->status = any_failed  ? APP_IMAGE_FAILED
                 : any_fixed ? APP_IMAGE_FIXED
                             : APP_IMAGE_COMPATIBLE;
    im->exit_code = APP_EXIT_OK;
    if (any_failed) {
        g_autoptr(GPtrArray) outs = g_ptr_array_new();
        for (guint i = 0; i < im->snapshots->len; i++) {
            AppBatchSnapshot *bs = g_ptr_array_index(im->snapshots, i);
            g_ptr_array_add(outs, bs->outcome);
        }
        im->exit_code =
            app_outcomes_exit_code((AppOutcome *const *)outs->pdata, outs->len);
    }
}

static AppBatchImage *image_from_journal(AppBatch *b, const char *path,
                                         const AppJournalEntry *e)
{
    AppBatchImage *im = g_new0(AppBatchImage, 1);
    GHashTableIter it;
    gpointer key, value;

    im->path = g_strdup(path);
    im->from_journal = true;
    im->snapshots =
        g_ptr_array_new_with_free_func((GDestroyNotify)batch_snapshot_free);
    g_hash_table_iter_init(&it, b->done);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        const AppJournalEntry *d = value;
        if (!strcmp(d->image, path)) {
            g_ptr_array_add(im->snapshots, from_journal(d));
        }
    }
    im->status = !g_strcmp0(e->status, "fixed")        ? APP_IMAGE_FIXED
                 : !g_strcmp0(e->status, "compatible") ? APP_IMAGE_COMPATIBLE
                 : !g_strcmp0(e->status, "skipped")    ? APP_IMAGE_SKIPPED
                                                       : APP_IMAGE_FAILED;
    im->exit_code = e->exit_code;
    if (e->message) {
        im->error = g_error_new(QCOW2_ERROR, QCOW2_ERROR_IO, "%s", e->message);
    }
    return im;
}

static void journal_image(AppBatch *b, AppBatchImage *im)
{
    g_autoptr(AppJournalEntry) e = NULL;
    g_autoptr(GError) err = NULL;

    for (guint i = 0; i < im->snapshots->len; i++) {
        const AppBatchSnapshot *bs = g_ptr_array_index(im->snapshots, i);
        im->stopped |= stopped_short(bs->outcome);
    }
    if (b->o.fix.dry_run || im->stopped) {
        return;
    }
    e = app_journal_entry_new("image", b->batch_id);
    e->image = g_strdup(im->path);
    e->status = g_strdup(app_image_status_name(im->status));
    e->exit_code = im->exit_code;
    e->message = im->error ? g_strdup(im->error->message) : NULL;
    if (!journal(b, e, &err) && !im->error) {
        im->error = g_steal_pointer(&err);
        im->status = APP_IMAGE_FAILED;
        im->exit_code = app_exit_code(im->error);
    }
}

/* Was a write of the interrupted run cut in this image (begun, not done)? */
static bool write_cut(AppBatch *b, const char *path)
{
    GHashTableIter it;
    gpointer key;

    g_hash_table_iter_init(&it, b->begun);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        const char *k = key;
        size_t n = strlen(path);

        if (!strncmp(k, path, n) && k[n] == '\n' &&
            !g_hash_table_contains(b->done, k)) {
            return true;
        }
    }
    return false;
}

static AppBatchImage *batch_image(AppBatch *b, const char *path)
{
    const AppJournalEntry *finished = g_hash_table_lookup(b->finished, path);
    AppBatchImage *im;
    AppLocks locks = {0};
    g_autoptr(GTimer) timer = g_timer_new();
    g_auto(GStrv) ids = NULL;
    ImageRun r = {.b = b, .path = path};

    if (finished) {
        return image_from_journal(b, path, finished);
    }
    im = g_new0(AppBatchImage, 1);
    im->path = g_strdup(path);
    im->snapshots =
        g_ptr_array_new_with_free_func((GDestroyNotify)batch_snapshot_free);
    if (app_stop_requested(&b->o.fix)) {
        im->error = g_error_new(QCOW2_ERROR, QCOW2_ERROR_CANCELLED,
                                "%s: not begun (interrupted): unchanged", path);
        im->status = APP_IMAGE_SKIPPED;
        im->exit_code = app_exit_code(im->error);
        im->stopped = true;
        return im;
    }
    if (app_is_savefile(path)) { /* libvirt's: no QEMU lock on it */
        im->error = save_image_excluded(b, path);
        if (!im->error) {
            fix_save_image(&r, im->snapshots);
        }
        settle(im);
        im->seconds = g_timer_elapsed(timer, NULL);
        journal_image(b, im);
        return im;
    }
    /* A running QEMU: say so without touching the file. */
    app_probe_locks(path, &locks);
    if (app_locks_in_use(&locks)) {
        g_autofree char *why = app_locks_in_use_message(&locks);
        im->error =
            g_error_new(QCOW2_ERROR, QCOW2_ERROR_IN_USE, "%s: %s", path, why);
    }
    app_locks_clear(&locks);
    if (!im->error) {
        r.img = qcow2_open(
            path, b->o.fix.dry_run ? QCOW2_OPEN_READ_ONLY : QCOW2_OPEN_WRITABLE,
            &im->error);
    }
    if (r.img &&
        (b->o.fix.reclaim_leaks || (!b->o.fix.dry_run && write_cut(b, path)))) {
        app_reclaim_leaks(r.img, b->o.fix.dry_run, &im->reclaim, &im->error);
    }
    if (r.img && !im->error) {
        ids = pick(b, r.img, path, &im->error);
    }
    for (guint i = 0; ids && ids[i]; i++) {
        fix_one(&r, ids[i], im->snapshots);
    }
    qcow2_close(r.img);
    settle(im);
    im->seconds = g_timer_elapsed(timer, NULL);
    journal_image(b, im);
    return im;
}

/* ---- the run ---------------------------------------------------------- */

typedef struct Run {
    AppBatch *b;
    AppBatchImageFn image_fn;
    AppBatchEntryFn entry_fn;
    AppTickFn tick;
    void *opaque;
    AppBatchSummary *sum;
    GArray *failed_codes; /* int */
    guint ok_images;
} Run;

static void *job(guint i, void *opaque)
{
    Run *run = opaque;
    const AppScanEntry *e = g_ptr_array_index(run->b->entries, i);

    return e->kind == APP_ENTRY_IMAGE ? batch_image(run->b, e->path) : NULL;
}

static void count_snapshot(AppBatchSummary *s, const AppBatchSnapshot *bs)
{
    const AppOutcome *out = bs->outcome;

    s->snapshots++;
    switch (out->status) {
    case APP_FIXED:
        s->snap_fixed++;
        s->vm_state_bytes += out->old_size;
        break;
    case APP_COMPATIBLE:
        s->snap_compatible++;
        break;
    case APP_REFUSED:
        s->snap_refused++;
        break;
    case APP_ERROR:
        s->snap_errors++;
        break;
    }
    s->bytes_written += out->write.bytes_written;
    if (out->writer) {
        g_autofree char *label = app_writer_label(out->writer);
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(s->writers, label));
        g_hash_table_insert(s->writers, g_steal_pointer(&label),
                            GUINT_TO_POINTER(n + 1));
    }
}

static void result(guint i, void *res, void *opaque)
{
    Run *run = opaque;
    AppBatchImage *im = res;
    AppBatchSummary *s = run->sum;

    if (!im) {
        const AppScanEntry *e = g_ptr_array_index(run->b->entries, i);
        if (e->kind == APP_ENTRY_ERROR) {
            g_array_append_val(run->failed_codes, e->exit_code);
            s->images++;
            s->failed++;
        } else {
            s->walk_skipped++;
        }
        if (run->entry_fn) {
            run->entry_fn(e, run->opaque);
        }
        return;
    }
    s->images++;
    s->from_journal += im->from_journal;
    s->not_begun += im->stopped && !im->snapshots->len;
    switch (im->status) {
    case APP_IMAGE_FIXED:
        s->fixed++;
        break;
    case APP_IMAGE_COMPATIBLE:
        s->compatible++;
        break;
    case APP_IMAGE_SKIPPED:
        s->skipped++;
        break;
    case APP_IMAGE_FAILED:
        s->failed++;
        break;
    }
    if (im->status == APP_IMAGE_SKIPPED || im->status == APP_IMAGE_FAILED) {
        g_array_append_val(run->failed_codes, im->exit_code);
    } else {
        run->ok_images++;
    }
    for (guint k = 0; k < im->snapshots->len; k++) {
        count_snapshot(s, g_ptr_array_index(im->snapshots, k));
    }
    if (run->image_fn) {
        run->image_fn(im, run->opaque);
    }
    batch_image_free(im);
}

static void run_tick(guint done, guint total, void *opaque)
{
    Run *run = opaque;

    run->tick(done, total, run->opaque);
}

/* 0 when no image failed or was skipped; their common code when every
 * image did alike; else 15. */
static int batch_exit_code(const Run *run)
{
    return app_exit_code_of_failures(run->failed_codes, !run->ok_images);
}

void app_batch_run(AppBatch *b, AppBatchImageFn image_fn,
                   AppBatchEntryFn entry_fn, AppTickFn tick, void *opaque,
                   AppBatchSummary *sum)
{
    Run run = {.b = b,
               .image_fn = image_fn,
               .entry_fn = entry_fn,
               .tick = tick,
               .opaque = opaque,
               .sum = sum,
               .failed_codes = g_array_new(false, false, sizeof(int))};
    g_autoptr(GTimer) timer = g_timer_new();
    g_autoptr(AppJournalEntry) end = NULL;
    g_autoptr(GError) err = NULL;

    memset(sum, 0, sizeof(*sum));
    sum->writers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    app_run_ordered(b->entries->len, MAX(b->o.jobs, 1), job, result,
                    tick ? run_tick : NULL, &run);
    sum->seconds = g_timer_elapsed(timer, NULL);
    sum->exit_code = batch_exit_code(&run);
    sum->interrupted = app_stop_requested(&b->o.fix);
    g_array_free(run.failed_codes, true);
    if (b->journal && !b->o.fix.dry_run) {
        end = app_journal_entry_new("end", b->batch_id);
        end->status = g_strdup(sum->interrupted ? "interrupted"
                               : sum->exit_code ? "partial"
                                                : "done");
        end->exit_code = sum->exit_code;
        if (!journal(b, end, &err)) {
            sum->exit_code = app_exit_code(err);
        }
    }
}

void app_batch_summary_clear(AppBatchSummary *s)
{
    g_clear_pointer(&s->writers, g_hash_table_unref);
}

/* ---- undo of a journal's batch --------------------------------------- */

void app_journal_undo_item_free(AppJournalUndoItem *u)
{
    if (u) {
        g_free(u->image);
        g_strfreev(u->snapshots);
        g_free(u);
    }
}

GPtrArray *app_journal_fixed(GPtrArray *entries)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(
        (GDestroyNotify)app_journal_undo_item_free);
    g_autoptr(GHashTable) by_image =
        g_hash_table_new(g_str_hash, g_str_equal); /* -> GPtrArray of ids */
    g_autoptr(GPtrArray) order = g_ptr_array_new();
    g_autoptr(GPtrArray) lists =
        g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);

    for (guint i = 0; i < entries->len; i++) {
        const AppJournalEntry *e = g_ptr_array_index(entries, i);
        GPtrArray *ids;
        bool seen = false;

        if (strcmp(e->step, "done") || g_strcmp0(e->status, "fixed") ||
            !e->image || !e->snapshot_id) {
            continue;
        }
        ids = g_hash_table_lookup(by_image, e->image);
        if (!ids) {
            ids = g_ptr_array_new_with_free_func(g_free);
            g_ptr_array_add(lists, ids);
            g_hash_table_insert(by_image, e->image, ids);
            g_ptr_array_add(order, e->image);
        }
        for (guint k = 0; k < ids->len && !seen; k++) {
            seen = !strcmp(g_ptr_array_index(ids, k), e->snapshot_id);
        }
        if (!seen) {
            g_ptr_array_add(ids, g_strdup(e->snapshot_id));
        }
    }
    for (guint i = 0; i < order->len; i++) {
        AppJournalUndoItem *u = g_new0(AppJournalUndoItem, 1);
        GPtrArray *ids = g_hash_table_lookup(by_image, order->pdata[i]);

        u->image = g_strdup(order->pdata[i]);
        u->snapshots = g_new0(char *, ids->len + 1);
        for (guint k = 0; k < ids->len; k++) {
            u->snapshots[k] = g_strdup(g_ptr_array_index(ids, k));
        }
        g_ptr_array_add(out, u);
    }
    return out;
}
