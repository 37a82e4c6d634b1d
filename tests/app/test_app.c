/*
 * Unit tests of the application layer (src/app) on qcow2 images held in
 * memory: an empty image with one disk-only snapshot, made once by
 * qemu-img, into which each test splices a stream made by the stream
 * builder (tests/translate/streams.c). Image writes go through a watching
 * Qcow2IO that counts them, notes which recipe files exist at the first
 * one, and can corrupt what the fix writes.
 *
 * What is checked: the pipeline fixes and its verify step passes (also
 * step by step, on a stream in memory written to a file); a
 * corrupted write is caught by verify; a refusal writes nothing (the
 * image's bytes are identical, no recipe file appears); the recipe files
 * exist before the first image write; the judge's tail path says what the
 * full walk says; translate writes a file that parses to the edited
 * stream; the exit-code table.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib/gstdio.h>
#include <string.h>

#include "app/exit_codes.h"
#include "app/fix.h"
#include "app/judge.h"
#include "qemu_img_image.h"
#include "streams.h"

#define MAX_IMAGE ((uint64_t)64 << 20)

/* The empty image with snapshot "s1" (no VM state), made by qemu-img. */
static GBytes *base_image;

/* ---- temporary directories ---------------------------------------------- */

static char **dir_names(const char *path)
{
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_ptr_array_add(names, g_strdup(name));
    }
    g_ptr_array_add(names, NULL);
    return (char **)g_ptr_array_free(g_steal_pointer(&names), false);
}

/* Remove a temporary directory and the files in it. */
static void remove_dir(const char *dir)
{
    g_auto(GStrv) names = dir_names(dir);

    for (guint i = 0; names[i]; i++) {
        g_autofree char *p = g_build_filename(dir, names[i], NULL);
        g_unlink(p);
    }
    g_rmdir(dir);
}

/* ---- a Qcow2IO that watches the writes --------------------------------- */

typedef struct WatchLog {
    guint writes;
    const char *dir;             /* recipe files appear here */
    char **files_at_first_write; /* names in dir at the first write */
    bool corrupt;                /* flip the stream magic when written */
    bool corrupted;
} WatchLog;

typedef struct WatchIO {
    Qcow2IO base;
    Qcow2IO *inner;
    WatchLog *log;
} WatchIO;

static bool watch_pread(Qcow2IO *io, void *buf, size_t len, uint64_t off,
                        GError **errp)
{
    WatchIO *w = (WatchIO *)io;
    return w->inner->ops->pread(w->inner, buf, len, off, errp);
}

static bool watch_pwrite(Qcow2IO *io, const void *buf, size_t len, uint64_t off,
                         GError **errp)
{
    static const uint8_t magic[4] = {'Q', 'E', 'V', 'M'};
    WatchIO *w = (WatchIO *)io;
    g_autofree uint8_t *copy = NULL;

    if (!w->log->writes++) {
        w->log->files_at_first_write = dir_names(w->log->dir);
    }
    if (w->log->corrupt && len >= 4 && !memcmp(buf, magic, 4)) {
        copy = g_memdup2(buf, len);
        copy[0] ^= 0xff;
        buf = copy;
        w->log->corrupted = true;
    }
    return w->inner->ops->pwrite(w->inner, buf, len, off, errp);
}

static bool watch_flush(Qcow2IO *io, GError **errp)
{
    WatchIO *w = (WatchIO *)io;
    return w->inner->ops->flush(w->inner, errp);
}

static bool watch_get_size(Qcow2IO *io, uint64_t *size, GError **errp)
{
    WatchIO *w = (WatchIO *)io;
    return w->inner->ops->get_size(w->inner, size, errp);
}

static bool watch_lock(Qcow2IO *io, Qcow2LockMode mode, GError **errp)
{
    WatchIO *w = (WatchIO *)io;
    return w->inner->ops->lock(w->inner, mode, errp);
}

static void watch_close(Qcow2IO *io)
{
    WatchIO *w = (WatchIO *)io;
    qcow2_io_close(w->inner);
    g_free(w->base.name);
    g_free(w);
}

static const Qcow2IOOps watch_ops = {
    .pread = watch_pread,
    .pwrite = watch_pwrite,
    .flush = watch_flush,
    .get_size = watch_get_size,
    .lock = watch_lock,
    .close = watch_close,
};

static Qcow2IO *watch_io(Qcow2IO *inner, WatchLog *log)
{
    WatchIO *w = g_new0(WatchIO, 1);

    w->base.ops = &watch_ops;
    w->base.name = g_strdup(inner->name);
    w->inner = inner;
    w->log = log;
    return &w->base;
}

/* ---- an image in memory with a stream in snapshot s1 -------------------- */

typedef struct Image {
    char *dir;  /* a temporary directory: recipe files go here */
    char *path; /* DIR/vm.qcow2: the image's name (never a file) */
    GByteArray *file;
    Qcow2Image *img;
    WatchLog log;
} Image;

/* Open im->file writable, through the watching Qcow2IO. */
static void image_open(Image *im)
{
    g_autoptr(GError) err = NULL;

    im->img = qcow2_open_io(
        watch_io(qcow2_io_memory_new(im->file, true, MAX_IMAGE, im->path),
                 &im->log),
        NULL, im->path, QCOW2_OPEN_WRITABLE, &err);
    g_assert_no_error(err);
}

static Image *image_new(GBytes *stream)
{
    g_autoptr(GError) err = NULL;
    Image *im = g_new0(Image, 1);
    gsize len;
    const uint8_t *base = g_bytes_get_data(base_image, &len);
    const Qcow2Snapshot *sn;
    Qcow2Edit put = {0, 0, NULL, 0};
    Qcow2SpliceOptions so = {0};
    Qcow2SpliceStats st;

    im->dir = g_dir_make_tmp("qsnapfix-app-XXXXXX", &err);
    g_assert_no_error(err);
    im->path = g_build_filename(im->dir, "vm.qcow2", NULL);
    im->file = g_byte_array_new();
    g_byte_array_append(im->file, base, (guint)len);
    im->log.dir = im->dir;
    image_open(im);
    sn = qcow2_snapshot_find(im->img, "s1", &err);
    g_assert_no_error(err);
    put.data = g_bytes_get_data(stream, &put.length);
    g_assert_true(qcow2_splice_vmstate(im->img, sn, &put, 1, &so, &st, &err));
    g_assert_no_error(err);
    /* watch the test's writes only */
    im->log.writes = 0;
    g_clear_pointer(&im->log.files_at_first_write, g_strfreev);
    return im;
}

static void image_free(Image *im)
{
    remove_dir(im->dir);
    qcow2_close(im->img);
    g_byte_array_unref(im->file);
    g_strfreev(im->log.files_at_first_write);
    g_free(im->path);
    g_free(im->dir);
    g_free(im);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Image, image_free)

/* The VM state of s1 as it is now. */
static GBytes *vm_state(Image *im)
{
    g_autoptr(GError) err = NULL;
    const Qcow2Snapshot *sn = qcow2_snapshot_find(im->img, "s1", &err);
    uint8_t *buf;

    g_assert_no_error(err);
    buf = g_malloc(sn->vm_state_size);
    g_assert_true(
        qcow2_read_vmstate(im->img, sn, 0, buf, sn->vm_state_size, &err));
    g_assert_no_error(err);
    return g_bytes_new_take(buf, sn->vm_state_size);
}

static const char *s1_id(Image *im)
{
    return qcow2_snapshot_find(im->img, "s1", NULL)->id;
}

static guint s1_index(Image *im)
{
    return qcow2_snapshot_find(im->img, "s1", NULL)->index;
}

/* ---- streams ------------------------------------------------------------ */

/*
 * Streams shaped as savevm writes them, so that the tail path finds their
 * device sections: START "ram" with the block list, a PART with the
 * pages, an END with nothing but EOS, then the devices.
 */
static VmsBuilder *savevm_begin(GByteArray *out, const VmsBlockSpec *blocks,
                                guint n)
{
    VmsBuilder *b = vms_builder_new_bytes(out);

    vms_builder_header(b);
    vms_builder_section(b, VMS_SECTION_START, 2, "ram", 0, 4);
    vms_builder_ram_mem_size(b, blocks, n);
    vms_builder_ram_eos(b);
    vms_builder_section(b, VMS_SECTION_PART, 2, NULL, 0, 0);
    return b;
}

static void savevm_ram_end(VmsBuilder *b)
{
    vms_builder_ram_eos(b);
    vms_builder_section(b, VMS_SECTION_END, 2, NULL, 0, 0);
    vms_builder_ram_eos(b);
}

static uint8_t *page_of(uint8_t seed, uint8_t *buf)
{
    for (guint i = 0; i < 4096; i++) {
        buf[i] = (uint8_t)(seed + i * 7);
    }
    return buf;
}

/*
 * A stream qemu-kvm could have written: its 64 KiB NIC ROM (R6: a file
 * for romfile=) and an i8254 v2 with the flags word (R2: an edit that
 * changes the length, so the whole VM state is rewritten).
 */
static GBytes *stream_needing_fix(void)
{
    const VmsBlockSpec blocks[] = {{"pc.ram", KiB(64)},
                                   {"0000:00:03.0/rtl8139.rom", KiB(64)}};
    g_autoptr(GByteArray) out = g_byte_array_new();
    VmsBuilder *b = savevm_begin(out, blocks, G_N_ELEMENTS(blocks));
    uint8_t page[4096];
    uint8_t pit[108] = {0};

    vms_builder_ram_page(b, "pc.ram", 0, page_of(1, page));
    vms_builder_ram_page(b, "0000:00:03.0/rtl8139.rom", 0, page_of(3, page));
    savevm_ram_end(b);
    ts_full(b, 3, "i8254", 0, 2, pit, sizeof(pit));
    return ts_finish(b, out);
}

/* Only what every target loads as it is. */
static GBytes *stream_compatible(void)
{
    const VmsBlockSpec blocks[] = {{"pc.ram", KiB(64)}};
    g_autoptr(GByteArray) out = g_byte_array_new();
    VmsBuilder *b = savevm_begin(out, blocks, G_N_ELEMENTS(blocks));
    uint8_t page[4096];

    vms_builder_ram_page(b, "pc.ram", 0, page_of(5, page));
    savevm_ram_end(b);
    return ts_finish(b, out);
}

/* A device no target loads: refused. */
static GBytes *stream_refused(void)
{
    const VmsBlockSpec blocks[] = {{"pc.ram", KiB(64)}};
    g_autoptr(GByteArray) out = g_byte_array_new();
    VmsBuilder *b = savevm_begin(out, blocks, G_N_ELEMENTS(blocks));
    uint8_t payload[16] = {0};

    vms_builder_ram_fill(b, "pc.ram", 0, 0);
    savevm_ram_end(b);
    ts_full(b, 3, "0000:00:06.0/pci-assign", 0, 1, payload, sizeof(payload));
    return ts_finish(b, out);
}

static AppOptions default_options(void)
{
    AppOptions o = {.target = tr_target_default()};
    return o;
}

/* ---- the pipeline ------------------------------------------------------- */

static void test_fix_writes_the_edited_stream_and_verifies(void)
{
    g_autoptr(GBytes) stream = stream_needing_fix();
    g_autoptr(Image) im = image_new(stream);
    AppOptions o = default_options();
    g_autoptr(AppOutcome) out = app_outcome_new(s1_id(im), "s1");
    g_autoptr(GBytes) now = NULL;
    g_autoptr(GBytes) expected = NULL;
    g_autoptr(GError) err = NULL;
    gsize len;
    const uint8_t *old = g_bytes_get_data(stream, &len);

    app_fix_snapshot(im->img, im->path, s1_index(im), &o, out);
    g_assert_no_error(out->error);
    g_assert_cmpint(out->status, ==, APP_FIXED);
    g_assert_true(out->write.wrote);
    g_assert_true(out->write.have_stats);
    g_assert_cmpint(app_outcome_exit_code(out), ==, APP_EXIT_OK);
    g_assert_nonnull(ts_finding(out->result, "R2", "i8254"));

    expected = tr_apply_edits(old, len, out->result->edits, &err);
    g_assert_no_error(err);
    now = vm_state(im);
    g_assert_true(g_bytes_equal(now, expected));
}

static void test_verify_catches_a_corrupted_write(void)
{
    g_autoptr(GBytes) stream = stream_needing_fix();
    g_autoptr(Image) im = image_new(stream);
    AppOptions o = default_options();
    g_autoptr(AppOutcome) out = app_outcome_new(s1_id(im), "s1");

    im->log.corrupt = true;
    app_fix_snapshot(im->img, im->path, s1_index(im), &o, out);
    g_assert_true(im->log.corrupted);
    g_assert_cmpint(out->status, ==, APP_ERROR);
    g_assert_nonnull(out->error);
    g_assert_nonnull(strstr(out->error->message, "after the fix"));
    g_assert_nonnull(strstr(out->error->message, "does not parse"));
    /* a fix whose result did not verify is a bug: exit code 70 */
    g_assert_cmpint(app_outcome_exit_code(out), ==, APP_EXIT_INTERNAL);
}

static void test_refusal_writes_nothing(void)
{
    g_autoptr(GBytes) stream = stream_refused();
    g_autoptr(Image) im = image_new(stream);
    AppOptions o = default_options();
    g_autoptr(AppOutcome) out = app_outcome_new(s1_id(im), "s1");
    g_autoptr(GBytes) before = g_bytes_new(im->file->data, im->file->len);
    g_auto(GStrv) files = NULL;

    app_fix_snapshot(im->img, im->path, s1_index(im), &o, out);
    g_assert_cmpint(out->status, ==, APP_REFUSED);
    g_assert_cmpint(app_outcome_exit_code(out), ==, APP_EXIT_REFUSED);
    g_assert_false(out->write.wrote);
    g_assert_cmpuint(im->log.writes, ==, 0);
    g_assert_cmpmem(im->file->data, im->file->len,
                    g_bytes_get_data(before, NULL), g_bytes_get_size(before));
    files = dir_names(im->dir);
    g_assert_cmpuint(g_strv_length(files), ==, 0);
}

static uint64_t be64_at(const uint8_t *p)
{
    uint64_t v = 0;

    for (guint i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

/*
 * Damage the image as issue 9 did: the refcount of s1's first VM state
 * cluster set to 0 (16-bit refcounts, one refcount block), so that the
 * splice's consistency check refuses it, in its plan.
 */
static void zero_first_vm_state_refcount(Image *im)
{
    g_autoptr(GError) err = NULL;
    const Qcow2Snapshot *sn = qcow2_snapshot_find(im->img, "s1", NULL);
    const Qcow2Header *h = qcow2_header(im->img);
    Qcow2Mapping m;
    uint64_t block;

    g_assert_cmpuint(h->refcount_bits, ==, 16);
    g_assert_true(qcow2_map_cluster(im->img, sn,
                                    qcow2_vmstate_base(im->img, sn), &m, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(m.host_offset, >, 0);
    block = be64_at(im->file->data + h->refcount_table_offset);
    memset(im->file->data + block + 2 * (m.host_offset / h->cluster_size), 0,
           2);
    qcow2_close(im->img);
    image_open(im); /* the header and tables read again */
}

static void test_a_refusal_of_the_plan_writes_no_recipe_file(void)
{
    g_autoptr(GBytes) stream = stream_needing_fix();
    g_autoptr(Image) im = image_new(stream);
    AppOptions o = default_options();
    g_autoptr(AppOutcome) out = app_outcome_new(s1_id(im), "s1");
    g_autoptr(GBytes) before = NULL;
    g_auto(GStrv) files = NULL;

    zero_first_vm_state_refcount(im);
    before = g_bytes_new(im->file->data, im->file->len);
    app_fix_snapshot(im->img, im->path, s1_index(im), &o, out);
    g_assert_cmpint(out->status, ==, APP_ERROR);
    g_assert_cmpint(app_outcome_exit_code(out), ==, APP_EXIT_NEEDS_REPAIR);
    g_assert_nonnull(strstr(out->error->message, "refcount 0 but"));
    g_assert_cmpuint(im->log.writes, ==, 0);
    g_assert_cmpmem(im->file->data, im->file->len,
                    g_bytes_get_data(before, NULL), g_bytes_get_size(before));
    /* the recipe needs a file (the NIC's ROM), and none was written */
    g_assert_cmpuint(out->result->recipe->files->len, ==, 1);
    files = dir_names(im->dir);
    g_assert_cmpuint(g_strv_length(files), ==, 0);
}

static void test_recipe_files_come_before_the_first_image_write(void)
{
    g_autoptr(GBytes) stream = stream_needing_fix();
    g_autoptr(Image) im = image_new(stream);
    AppOptions o = default_options();
    g_autoptr(AppOutcome) out = app_outcome_new(s1_id(im), "s1");
    const GPtrArray *files;

    app_fix_snapshot(im->img, im->path, s1_index(im), &o, out);
    g_assert_no_error(out->error);
    g_assert_cmpint(out->status, ==, APP_FIXED);
    files = out->result->recipe->files;
    g_assert_cmpuint(files->len, ==, 1);
    g_assert_cmpuint(im->log.writes, >, 0);
    g_assert_nonnull(im->log.files_at_first_write);
    for (guint i = 0; i < files->len; i++) {
        const TrFile *f = g_ptr_array_index(files, i);
        g_autofree char *name = g_path_get_basename(f->path);
        g_autofree char *dir = g_path_get_dirname(f->path);
        g_autofree char *canon = g_canonicalize_filename(im->dir, NULL);

        g_assert_cmpstr(dir, ==, canon);
        g_assert_true(g_strv_contains(
            (const char *const *)im->log.files_at_first_write, name));
    }
}

static void test_dry_run_plans_and_writes_nothing(void)
{
    g_autoptr(GBytes) stream = stream_needing_fix();
    g_autoptr(Image) im = image_new(stream);
    AppOptions o = default_options();
    g_autoptr(AppOutcome) out = app_outcome_new(s1_id(im), "s1");
    g_auto(GStrv) files = NULL;

    o.dry_run = true;
    app_fix_snapshot(im->img, im->path, s1_index(im), &o, out);
    g_assert_cmpint(out->status, ==, APP_FIXED);
    g_assert_true(out->write.have_stats); /* the splice's plan */
    g_assert_false(out->write.wrote);
    g_assert_cmpuint(out->write.clusters_written, >, 0);
    g_assert_cmpuint(im->log.writes, ==, 0);
    files = dir_names(im->dir);
    g_assert_cmpuint(g_strv_length(files), ==, 0);
}

/* The steps one by one, on a stream in memory into a file. */
static void test_steps_on_a_stream_in_memory(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GBytes) stream = stream_needing_fix();
    g_autofree char *dir = g_dir_make_tmp("qsnapfix-app-XXXXXX", &err);
    g_autofree char *in = g_build_filename(dir, "in.mig", NULL);
    g_autofree char *out_path = g_build_filename(dir, "out.mig", NULL);
    AppOptions o = default_options();
    AppRecipeNames names = {0};
    g_autoptr(AppSource) source = app_source_bytes(stream, in);
    g_autoptr(AppSink) sink = app_sink_file(out_path, false);
    g_autoptr(VmsSource) src = app_source_open(source, &err);
    g_autoptr(VmsStream) s = NULL;
    g_autoptr(AppOutcome) out = app_outcome_new(NULL, in);
    g_autoptr(VmsSource) written = NULL;
    g_autoptr(VmsSource) old = NULL;
    g_autoptr(VmsSource) bad = NULL;
    g_autoptr(GBytes) fixed = NULL;
    g_autoptr(GByteArray) corrupt = g_byte_array_new();
    const TrFile *file;

    g_assert_no_error(err);
    app_recipe_names_for_file(&names, &o, in);
    g_assert_true(app_analyse(src, &o, &names, out, &s, &err));
    g_assert_no_error(err);
    g_assert_cmpint(out->status, ==, APP_FIXED);
    g_assert_true(app_write_recipe_files(out->result, s, src, &err));
    file = g_ptr_array_index(out->result->recipe->files, 0);
    g_assert_true(g_file_test(file->path, G_FILE_TEST_IS_REGULAR));
    g_assert_true(app_apply(sink, src, &o, out, &err));
    g_assert_true(out->write.wrote);
    written = app_sink_read_back(sink, &err);
    g_assert_no_error(err);
    g_assert_true(app_verify(written, &o, &names, out->result, &err));
    g_assert_no_error(err);

    /* what verify rejects: the unedited stream, a stream that does not
     * parse */
    old = vms_source_new_bytes(stream, "old");
    g_assert_false(app_verify(old, &o, &names, out->result, &err));
    g_assert_error(err, TR_ERROR, TR_ERROR_STREAM);
    g_clear_error(&err);
    fixed = tr_apply_edits(g_bytes_get_data(stream, NULL),
                           g_bytes_get_size(stream), out->result->edits, &err);
    g_byte_array_append(corrupt, g_bytes_get_data(fixed, NULL),
                        (guint)g_bytes_get_size(fixed));
    corrupt->data[0] ^= 0xff;
    bad = vms_source_new_memory(corrupt->data, corrupt->len, "corrupt");
    g_assert_false(app_verify(bad, &o, &names, out->result, &err));
    g_assert_nonnull(strstr(err->message, "does not parse"));

    remove_dir(dir);
    app_recipe_names_clear(&names);
}

/* ---- judge: the tail path says what the full walk says ----------------- */

static void judge(Image *im, bool full, AppJudgement *j)
{
    AppOptions o = default_options();
    AppRecipeNames names = {0};
    g_autoptr(AppSource) source = app_source_qcow2(im->img, s1_index(im));
    g_autoptr(AppSink) sink = app_sink_qcow2(im->img, s1_index(im));

    app_recipe_names_for_snapshot(&names, &o, im->path, "s1");
    j->outcome = app_outcome_new(s1_id(im), "s1");
    app_judge(j, source, sink, &names, &o, full, NULL);
    app_recipe_names_clear(&names);
}

static void assert_judged_alike(const AppJudgement *tail,
                                const AppJudgement *full)
{
    const TrResult *a = tail->outcome->result, *b = full->outcome->result;
    g_autofree char *line_a = tr_recipe_command_line(a->recipe);
    g_autofree char *line_b = tr_recipe_command_line(b->recipe);

    g_assert_cmpstr(full->path, ==, "full");
    g_assert_cmpint(tail->verdict, ==, full->verdict);
    g_assert_cmpuint(a->findings->len, ==, b->findings->len);
    for (guint i = 0; i < a->findings->len; i++) {
        const TrFinding *x = g_ptr_array_index(a->findings, i);
        const TrFinding *y = g_ptr_array_index(b->findings, i);
        g_assert_cmpstr(x->rule, ==, y->rule);
        g_assert_cmpstr(x->subject, ==, y->subject);
        g_assert_cmpint(x->action, ==, y->action);
        g_assert_cmpstr(x->evidence, ==, y->evidence);
    }
    g_assert_cmpstr(line_a, ==, line_b);
    g_assert_cmpuint(tail->write.have, ==, full->write.have);
    if (tail->write.exact) {
        g_assert_true(full->write.exact);
        g_assert_cmpuint(tail->write.new_size, ==, full->write.new_size);
        g_assert_cmpuint(tail->write.clusters_written, ==,
                         full->write.clusters_written);
        g_assert_cmpuint(tail->write.bytes_written, ==,
                         full->write.bytes_written);
    }
}

static void test_judge_tail_path_equals_full_walk(void)
{
    GBytes *(*const streams[])(void) = {stream_needing_fix, stream_compatible,
                                        stream_refused};
    const AppVerdict verdicts[] = {APP_VERDICT_FIXABLE, APP_VERDICT_COMPATIBLE,
                                   APP_VERDICT_REFUSED};
    guint by_tail = 0;

    for (guint i = 0; i < G_N_ELEMENTS(streams); i++) {
        g_autoptr(GBytes) stream = streams[i]();
        g_autoptr(Image) im = image_new(stream);
        AppJudgement tail = {0}, full = {0};

        judge(im, false, &tail);
        judge(im, true, &full);
        g_assert_no_error(tail.outcome->error);
        g_assert_cmpint(full.verdict, ==, verdicts[i]);
        assert_judged_alike(&tail, &full);
        if (full.verdict == APP_VERDICT_FIXABLE) {
            /* the default judge estimates (the splice's dry run reads
             * every table); --full plans exactly, and the estimate of an
             * edit list that moves nothing is the plan's data clusters */
            g_assert_false(tail.write.exact);
            g_assert_true(full.write.exact);
            g_assert_cmpuint(tail.write.clusters_written, ==,
                             full.write.clusters_written);
            g_assert_cmpuint(tail.write.clusters_shared, ==,
                             full.write.clusters_shared);
        }
        by_tail += !g_strcmp0(tail.path, "tail");
        /* judging writes nothing */
        g_assert_cmpuint(im->log.writes, ==, 0);
        app_judgement_clear(&tail);
        app_judgement_clear(&full);
    }
    /* the tail path was taken, not only fallen back from */
    g_assert_cmpuint(by_tail, ==, G_N_ELEMENTS(streams));
}

/* ---- translate: a stream file into a new file --------------------------- */

static void test_translate_writes_a_file_that_verifies(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GBytes) stream = stream_needing_fix();
    g_autofree char *dir = g_dir_make_tmp("qsnapfix-app-XXXXXX", &err);
    g_autofree char *in = g_build_filename(dir, "in.mig", NULL);
    g_autofree char *out_path = g_build_filename(dir, "out.mig", NULL);
    AppOptions o = default_options();
    g_autoptr(AppOutcome) out = NULL;
    g_autoptr(GBytes) expected = NULL;
    g_autofree char *written = NULL;
    gsize len, written_len;
    const uint8_t *old = g_bytes_get_data(stream, &len);

    g_assert_true(
        g_file_set_contents(in, (const char *)old, (gssize)len, &err));
    /* never over its own input */
    g_assert_null(app_translate_file(in, in, &o, &err));
    g_assert_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
    g_clear_error(&err);

    out = app_translate_file(in, out_path, &o, &err);
    g_assert_no_error(err);
    g_assert_no_error(out->error);
    g_assert_cmpint(out->status, ==, APP_FIXED);
    g_assert_true(out->write.wrote);
    expected = tr_apply_edits(old, len, out->result->edits, &err);
    g_assert_true(g_file_get_contents(out_path, &written, &written_len, &err));
    g_assert_cmpmem(written, written_len, g_bytes_get_data(expected, NULL),
                    g_bytes_get_size(expected));

    remove_dir(dir);
}

/* ---- exit codes ------------------------------------------------------- */

static AppOutcome *outcome(AppStatus status, GError *err)
{
    AppOutcome *o = app_outcome_new("1", "s1");

    o->status = status;
    o->error = err;
    return o;
}

static int combined(AppOutcome **o, guint n)
{
    int rc = app_outcomes_exit_code(o, n);

    for (guint i = 0; i < n; i++) {
        app_outcome_free(o[i]);
    }
    return rc;
}

static GError *io_error(void)
{
    return g_error_new(QCOW2_ERROR, QCOW2_ERROR_IO, "io");
}

static void test_exit_codes_of_outcomes(void)
{
    AppOutcome *none[1] = {NULL};
    AppOutcome *fixed[] = {outcome(APP_FIXED, NULL),
                           outcome(APP_COMPATIBLE, NULL)};
    AppOutcome *compatible[] = {outcome(APP_COMPATIBLE, NULL)};
    AppOutcome *refused[] = {outcome(APP_REFUSED, NULL),
                             outcome(APP_REFUSED, NULL)};
    AppOutcome *some[] = {outcome(APP_FIXED, NULL), outcome(APP_REFUSED, NULL)};
    AppOutcome *same_error[] = {outcome(APP_ERROR, io_error()),
                                outcome(APP_ERROR, io_error())};
    AppOutcome *mixed[] = {outcome(APP_ERROR, io_error()),
                           outcome(APP_REFUSED, NULL)};

    /* nothing to do is not an error: no snapshot, or none needing a fix */
    g_assert_cmpint(combined(none, 0), ==, APP_EXIT_OK);
    g_assert_cmpint(combined(fixed, 2), ==, APP_EXIT_OK);
    g_assert_cmpint(combined(compatible, 1), ==, APP_EXIT_OK);
    g_assert_cmpint(combined(refused, 2), ==, APP_EXIT_REFUSED);
    g_assert_cmpint(combined(some, 2), ==, APP_EXIT_PARTIAL);
    g_assert_cmpint(combined(same_error, 2), ==, APP_EXIT_IO);
    g_assert_cmpint(combined(mixed, 2), ==, APP_EXIT_PARTIAL);
}

static void test_an_ambiguous_request_is_not_a_usage_error(void)
{
    g_autoptr(GError) several =
        g_error_new(APP_REQUEST_ERROR, APP_REQUEST_AMBIGUOUS, "2 snapshots");
    g_autoptr(GError) usage =
        g_error_new(G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--jobs");

    g_assert_cmpint(app_exit_code(several), ==, APP_EXIT_AMBIGUOUS);
    g_assert_cmpint(app_exit_code(usage), ==, APP_EXIT_USAGE);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    base_image = test_qemu_img_image("16M", "s1");
    g_test_add_func("/pipeline/fix-writes-the-edited-stream-and-verifies",
                    test_fix_writes_the_edited_stream_and_verifies);
    g_test_add_func("/pipeline/verify-catches-a-corrupted-write",
                    test_verify_catches_a_corrupted_write);
    g_test_add_func("/pipeline/refusal-writes-nothing",
                    test_refusal_writes_nothing);
    g_test_add_func("/pipeline/a-refusal-of-the-plan-writes-no-recipe-file",
                    test_a_refusal_of_the_plan_writes_no_recipe_file);
    g_test_add_func("/pipeline/recipe-files-come-before-the-first-image-write",
                    test_recipe_files_come_before_the_first_image_write);
    g_test_add_func("/pipeline/dry-run-plans-and-writes-nothing",
                    test_dry_run_plans_and_writes_nothing);
    g_test_add_func("/pipeline/steps-on-a-stream-in-memory",
                    test_steps_on_a_stream_in_memory);
    g_test_add_func("/judge/tail-path-equals-full-walk",
                    test_judge_tail_path_equals_full_walk);
    g_test_add_func("/translate/writes-a-file-that-verifies",
                    test_translate_writes_a_file_that_verifies);
    g_test_add_func("/outcome/exit-codes", test_exit_codes_of_outcomes);
    g_test_add_func("/outcome/ambiguous-is-not-usage",
                    test_an_ambiguous_request_is_not_a_usage_error);
    rc = g_test_run();
    g_bytes_unref(base_image);
    return rc;
}
