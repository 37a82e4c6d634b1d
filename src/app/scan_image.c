/*
 * One image of a scan: opened read-only without locks (safe while a QEMU
 * runs it), its format facts, whether a QEMU holds it, what would stop
 * `fix` from writing it, and every snapshot's verdict.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "exit_codes.h"
#include "inspect.h"
#include "io.h"
#include "libvirt/domain.h"
#include "preflight.h"
#include "scan.h"

/* Incompatible feature bits the write path knows (qcow2/ and the spec). */
#define KNOWN_INCOMPAT                                                         \
    (QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT |                           \
     QCOW2_INCOMPAT_DATA_FILE | QCOW2_INCOMPAT_COMPRESSION |                   \
     QCOW2_INCOMPAT_EXTENDED_L2)

void app_scan_image_free(AppScanImage *im)
{
    if (!im) {
        return;
    }
    g_free(im->path);
    g_clear_error(&im->error);
    g_free(im->backing_file);
    g_free(im->data_file);
    g_free(im->domain);
    app_locks_clear(&im->locks);
    g_free(im->blocker.message);
    app_scan_guest_clear(&im->guest);
    if (im->snapshots) {
        g_ptr_array_unref(im->snapshots);
    }
    g_free(im);
}

static void take_facts(AppScanImage *im, const Qcow2Header *h)
{
    im->version = h->version;
    im->cluster_size = h->cluster_size;
    im->virtual_size = h->size;
    im->file_size = h->file_size;
    im->refcount_bits = h->refcount_bits;
    im->dirty = h->incompatible_features & QCOW2_INCOMPAT_DIRTY;
    im->corrupt = h->incompatible_features & QCOW2_INCOMPAT_CORRUPT;
    im->encrypted = h->crypt_method != 0;
    im->lazy_refcounts = h->compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS;
    im->extended_l2 = h->extended_l2;
    im->compat = app_qcow2_compat(h);
    im->compression = app_qcow2_compression(h);
    im->backing_file = g_strdup(h->backing_file);
    im->data_file = g_strdup(h->data_file);
}

static void block(AppBlocker *b, int code, bool plan_ok, char *message)
{
    if (b->message) { /* the first reason is the one to act on */
        g_free(message);
        return;
    }
    b->message = message;
    b->exit_code = code;
    b->plan_ok = plan_ok;
}

/* Block for err (taken), with the exit code fix would give for it. */
static void block_for(AppBlocker *b, bool plan_ok, const char *prefix,
                      GError *err)
{
    block(b, app_exit_code(err), plan_ok,
          g_strdup_printf("%s%s", prefix ? prefix : "", err->message));
    g_error_free(err);
}

/* What `fix` would refuse before touching a snapshot, in its order. */
static void find_blocker(AppScanImage *im, const Qcow2Header *h)
{
    uint64_t unknown = h->incompatible_features & ~(uint64_t)KNOWN_INCOMPAT;
    GError *err = NULL;

    if (!app_preflight_image(im->path, &err)) { /* its writable open */
        block_for(&im->blocker, true, NULL, err);
    }
    if (app_locks_in_use(&im->locks)) {
        block(&im->blocker, APP_EXIT_IN_USE, true,
              app_locks_in_use_message(&im->locks));
    }
    if (im->dirty || im->corrupt) {
        block(&im->blocker, APP_EXIT_NEEDS_REPAIR, false,
              g_strdup_printf("%s bit set; run: qemu-img check -r all %s",
                              im->dirty ? "dirty" : "corrupt", im->path));
    }
    if (unknown) {
        block(&im->blocker, APP_EXIT_UNSUPPORTED, false,
              g_strdup_printf("unknown incompatible feature bits 0x%" PRIx64,
                              unknown));
    }
    if (im->encrypted) {
        block(&im->blocker, APP_EXIT_UNSUPPORTED, false,
              g_strdup("encrypted image"));
    }
    if (im->data_file) {
        block(&im->blocker, APP_EXIT_UNSUPPORTED, false,
              g_strdup("external data file"));
    }
}

static bool has_vm_state(Qcow2Image *img)
{
    for (guint i = 0; i < qcow2_snapshot_count(img); i++) {
        const Qcow2Snapshot *sn = qcow2_snapshot_get(img, i);
        if (sn->vm_state_size && !app_snapshot_is_original(sn)) {
            return true;
        }
    }
    return false;
}

static void scan_snapshot_free(AppScanSnapshot *s)
{
    if (!s) {
        return;
    }
    g_free(s->id);
    g_free(s->name);
    app_record_clear(&s->record);
    app_judgement_clear(&s->judged);
    app_scan_guest_clear(&s->guest);
    g_free(s);
}

/* One snapshot with VM state, judged for a fix in place; image is the
 * path as given (recipe files go beside it, like `fix`'s). */
static void judge_snapshot(AppScanSnapshot *ss, Qcow2Image *img,
                           const Qcow2Snapshot *sn, const char *image,
                           const AppScanOptions *o, const AppBlocker *blocker)
{
    AppRecipeNames names = {0};
    g_autoptr(AppSource) source = app_source_qcow2(img, sn->index);
    g_autoptr(AppSink) sink = app_sink_qcow2(img, sn->index);

    app_recipe_names_for_snapshot(&names, &o->fix, image, sn->name);
    ss->judged.outcome = app_outcome_new(sn->id, sn->name);
    app_judge(&ss->judged, source, sink, &names, &o->fix, o->full, blocker);
    app_recipe_names_clear(&names);
}

/* Is path the original a fix of a save image kept? r: its mark. */
static bool savefile_original(const char *path, AppRecord *r)
{
    g_autofree char *of = NULL;
    AppRecord fix = {0};

    if (!app_savefile_is_original(path, &of)) {
        return false;
    }
    app_savefile_record(of, &fix);
    app_record_for_original(r, &fix, NULL, of);
    app_record_clear(&fix);
    return true;
}

/* A libvirt save image: its header, and its stream judged for a fix (or
 * not: the original a fix kept). */
static void scan_savefile(AppScanImage *im, const AppScanOptions *o)
{
    uint64_t offset = 0, size = 0;
    g_autoptr(LvSaveImage) img =
        app_savefile_header(im->path, &offset, &size, &im->error);
    g_autoptr(LvDomain) dom = img ? lvdom_parse(img->xml, NULL) : NULL;
    AppScanSnapshot *ss;
    AppRecipeNames names = {0};
    g_autoptr(AppSource) source = NULL;
    g_autoptr(AppSink) sink = NULL;

    im->libvirt_save = true;
    im->locks.probed = true; /* QEMU holds no lock on a save image */
    if (!img) {
        return;
    }
    im->file_size = size;
    im->bytes_read = offset;
    im->save_version = img->header.version;
    im->save_compression =
        lvsave_format_name(lvsave_stream_format(&img->header));
    im->domain = dom ? lvdom_name(dom) : NULL;
    ss = g_new0(AppScanSnapshot, 1);
    ss->id = g_strdup("-");
    ss->name = g_strdup(im->domain ? im->domain : "?");
    ss->vm_state_size = size - offset;
    g_ptr_array_add(im->snapshots, ss);
    if (savefile_original(im->path, &ss->record)) {
        ss->judged.verdict = APP_VERDICT_ORIGINAL;
        return;
    }
    app_savefile_record(im->path, &ss->record);
    source = app_source_savefile(im->path);
    sink = app_sink_savefile(im->path, o->fix.emulator, NULL);
    app_recipe_names_for_file(&names, &o->fix, im->path);
    ss->judged.outcome = app_outcome_new(NULL, im->path);
    app_judge(&ss->judged, source, sink, &names, &o->fix, o->full,
              &im->blocker);
    app_recipe_names_clear(&names);
}

/* The recipe files' bytes and their directory (NULL: none). */
static uint64_t recipe_bytes(const TrRecipe *recipe, char **dir)
{
    uint64_t bytes = 0;

    *dir = NULL;
    for (guint i = 0; i < recipe->files->len; i++) {
        const TrFile *f = g_ptr_array_index(recipe->files, i);
        bytes += f->length;
        if (!*dir) {
            *dir = g_path_get_dirname(f->path);
        }
    }
    return bytes;
}

/*
 * What a judged snapshot tells about fix's chances, as fix decides before
 * it writes (src/app/pipeline.c): the image needs repair (its plan
 * said), the recipe directory, free space for the plan and the files;
 * and the leaks a plan that checked the image found.
 */
static void find_write_blockers(AppScanImage *im, AppScanSnapshot *ss)
{
    AppJudgement *j = &ss->judged;
    const TrResult *r = j->outcome ? j->outcome->result : NULL;
    g_autofree char *what =
        g_strdup_printf("snapshot %s \"%s\": ", ss->id, ss->name);
    g_autofree char *files_dir = NULL;
    AppSpaceNeed needs[2] = {{0}};
    GError *err = NULL;

    if (j->blocked) {
        block_for(&im->blocker, false, NULL, g_steal_pointer(&j->blocked));
    }
    if (j->write.leaks_known) {
        im->leaks_known = true;
        im->leaked_clusters = j->write.leaked_clusters;
    }
    if (!r || (j->verdict != APP_VERDICT_FIXABLE &&
               j->verdict != APP_VERDICT_COMPATIBLE)) {
        return;
    }
    if (!app_preflight_recipe_dir(r->recipe, NULL, &err)) {
        block_for(&im->blocker, true, what, err);
        return;
    }
    if (j->verdict == APP_VERDICT_FIXABLE && j->write.have) {
        needs[0] = (AppSpaceNeed){im->path, j->write.space_needed,
                                  j->write.exact ? "new VM state and metadata"
                                                 : "new VM state (estimated)"};
    }
    needs[1].bytes = recipe_bytes(r->recipe, &files_dir);
    needs[1].where = files_dir;
    needs[1].what = "recipe files";
    if (!app_check_space(needs, G_N_ELEMENTS(needs), &err)) {
        block_for(&im->blocker, true, what, err);
    }
}

AppScanImage *app_scan_image(const char *path, const AppScanOptions *o)
{
    AppScanImage *im = g_new0(AppScanImage, 1);
    Qcow2Image *img;

    im->path = g_strdup(path);
    im->snapshots =
        g_ptr_array_new_with_free_func((GDestroyNotify)scan_snapshot_free);
    if (app_is_savefile(path)) {
        scan_savefile(im, o);
        return im;
    }
    /* Probe first: the scan's own descriptor holds no lock either way. */
    app_probe_locks(path, &im->locks);
    img =
        qcow2_open(path, QCOW2_OPEN_READ_ONLY | QCOW2_OPEN_NO_LOCK, &im->error);
    if (!img) {
        return im;
    }
    take_facts(im, qcow2_header(img));
    if (has_vm_state(img)) { /* else there is nothing for fix to do */
        find_blocker(im, qcow2_header(img));
    }
    for (guint i = 0; i < qcow2_snapshot_count(img); i++) {
        const Qcow2Snapshot *sn = qcow2_snapshot_get(img, i);
        AppScanSnapshot *ss = g_new0(AppScanSnapshot, 1);

        ss->id = g_strdup(sn->id);
        ss->name = g_strdup(sn->name);
        ss->vm_state_size = sn->vm_state_size;
        ss->date_sec = sn->date_sec;
        g_ptr_array_add(im->snapshots, ss);
        if (!sn->vm_state_size) {
            ss->judged.verdict = APP_VERDICT_DISK_ONLY;
            continue;
        }
        if (app_record_read(sn, &ss->record) == APP_RECORD_ORIGINAL) {
            ss->judged.verdict = APP_VERDICT_ORIGINAL;
            continue;
        }
        judge_snapshot(ss, img, sn, path, o, &im->blocker);
        find_write_blockers(im, ss);
    }
    im->bytes_read = qcow2_io_bytes_read(img);
    qcow2_close(img);
    if (o->guestfs) { /* after the close: an appliance takes a while */
        app_scan_guests(im, o);
    }
    return im;
}
