/*
 * extract, splice and oldify (tools.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "progress.h"
#include "tools.h"

/* ---- extract ---------------------------------------------------------- */

void app_extract_clear(AppExtract *e)
{
    g_clear_pointer(&e->id, g_free);
    g_clear_pointer(&e->name, g_free);
    g_clear_pointer(&e->sha256, g_free);
    g_clear_pointer(&e->warnings, g_ptr_array_unref);
}

bool app_extract(const char *image, const char *snapshot, const char *out_path,
                 bool want_sha256, const AppProgress *progress, AppExtract *out,
                 GError **errp)
{
    AppWatch watch;
    Qcow2Image *img = qcow2_open(image, QCOW2_OPEN_READ_ONLY, errp);
    const Qcow2Snapshot *sn;
    g_autoptr(AppSource) source = NULL;
    g_autoptr(AppSink) sink = NULL;
    g_autoptr(VmsSource) src = NULL;
    g_autoptr(GArray) no_edits = g_array_new(false, false, sizeof(TrEdit));
    AppWriteStats st = {0};
    AppWrite w = {.edits = no_edits, .want_sha256 = want_sha256};
    bool ok;

    if (!img) {
        return false;
    }
    out->corrupt_bit =
        qcow2_header(img)->incompatible_features & QCOW2_INCOMPAT_CORRUPT;
    qcow2_collect_warnings(img, true);
    sn = qcow2_snapshot_find(img, snapshot, errp);
    source = sn ? app_source_qcow2(img, sn->index) : NULL;
    src = source ? app_source_open(source, errp) : NULL;
    if (!src) {
        qcow2_close(img);
        return false;
    }
    out->id = g_strdup(sn->id);
    out->name = g_strdup(sn->name);
    out->size = sn->vm_state_size;
    sink = !strcmp(out_path, "-") ? app_sink_stdout()
                                  : app_sink_file(out_path, false);
    w.old = src;
    app_watch_source(&watch, progress, APP_STEP_WRITE, src);
    ok = app_sink_write(sink, &w, &st, errp);
    app_watch_end(&watch, ok);
    out->sha256 = g_steal_pointer(&st.sha256);
    out->warnings = qcow2_take_warnings(img);
    app_write_stats_clear(&st);
    g_clear_pointer(&src, vms_source_free);
    qcow2_close(img);
    return ok;
}

/* ---- edit list files -------------------------------------------------- */

static bool parse_number(const char *s, uint64_t *out)
{
    char *end;

    if (!*s || *s == '-') {
        return false;
    }
    *out = g_ascii_strtoull(s, &end, 0);
    return *end == '\0';
}

static GBytes *parse_hex(const char *spec)
{
    size_t n = strlen(spec) / 2;
    uint8_t *d = g_malloc(MAX(n, 1));

    if (strlen(spec) % 2) {
        g_free(d);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        int hi = g_ascii_xdigit_value(spec[2 * i]);
        int lo = g_ascii_xdigit_value(spec[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            g_free(d);
            return NULL;
        }
        d[i] = (uint8_t)(hi << 4 | lo);
    }
    return g_bytes_new_take(d, n);
}

static GBytes *parse_fill(const char *spec)
{
    g_auto(GStrv) f = g_strsplit(spec, ":", 3);
    uint64_t byte, count;
    uint8_t *d;

    if (g_strv_length(f) != 2 || !parse_number(f[0], &byte) || byte > 255 ||
        !parse_number(f[1], &count) || count > G_MAXINT) {
        return NULL;
    }
    d = g_malloc(MAX(count, 1));
    memset(d, (int)byte, count);
    return g_bytes_new_take(d, count);
}

static GBytes *parse_data(const char *spec, const char *dir, GError **errp)
{
    GBytes *b = NULL;

    if (!strcmp(spec, "-")) {
        return g_bytes_new(NULL, 0);
    }
    if (spec[0] == '@') {
        g_autofree char *path = g_path_is_absolute(spec + 1)
                                    ? g_strdup(spec + 1)
                                    : g_build_filename(dir, spec + 1, NULL);
        char *data;
        gsize len;

        if (!g_file_get_contents(path, &data, &len, errp)) {
            return NULL;
        }
        return g_bytes_new_take(data, len);
    }
    b = g_str_has_prefix(spec, "fill:") ? parse_fill(spec + 5)
                                        : parse_hex(spec);
    if (!b) {
        g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "bad data '%s' (hex digits, -, @FILE or fill:BYTE:COUNT)",
                    spec);
    }
    return b;
}

static bool parse_line(GArray *edits, char *line, const char *dir,
                       GError **errp)
{
    g_auto(GStrv) f = NULL;
    TrEdit e = {0};
    char *hash = strchr(line, '#');

    if (hash) {
        *hash = '\0';
    }
    g_strstrip(line);
    if (!*line) {
        return true;
    }
    f = g_strsplit_set(line, " \t", -1);
    /* drop empty fields from repeated blanks */
    for (char **src = f, **dst = f;; src++) {
        if (!*src || **src) {
            *dst++ = *src;
        } else {
            g_free(*src);
        }
        if (!*src) {
            break;
        }
    }
    if (g_strv_length(f) != 3 || !parse_number(f[0], &e.offset) ||
        !parse_number(f[1], &e.old_length)) {
        g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "expected 'OFFSET OLD_LENGTH DATA', got '%s'", line);
        return false;
    }
    e.data = parse_data(f[2], dir, errp);
    if (!e.data) {
        return false;
    }
    g_array_append_val(edits, e);
    return true;
}

static void edit_clear(gpointer p)
{
    TrEdit *e = p;
    g_clear_pointer(&e->data, g_bytes_unref);
}

static GArray *edit_list_read(const char *path, GError **errp)
{
    g_autofree char *text = NULL;
    g_autofree char *dir = g_path_get_dirname(path);
    g_auto(GStrv) lines = NULL;
    g_autoptr(GArray) edits = g_array_new(false, false, sizeof(TrEdit));

    g_array_set_clear_func(edits, edit_clear);
    if (!g_file_get_contents(path, &text, NULL, errp)) {
        return NULL;
    }
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (!parse_line(edits, lines[i], dir, errp)) {
            g_prefix_error(errp, "%s:%u: ", path, i + 1);
            return NULL;
        }
    }
    return g_steal_pointer(&edits);
}

/* ---- splice ----------------------------------------------------------- */

bool app_splice_file(const char *image, const char *snapshot,
                     const char *edits_path, const AppWrite *w,
                     AppWriteStats *st, char **id, char **name, GError **errp)
{
    g_autoptr(GArray) edits = edit_list_read(edits_path, errp);
    g_autoptr(GError) err = NULL;
    Qcow2Image *img = NULL;
    const Qcow2Snapshot *sn = NULL;
    g_autoptr(AppSink) sink = NULL;
    AppWrite req = *w;
    bool ok = false;

    if (!edits) {
        return false;
    }
    img = qcow2_open(
        image, w->dry_run ? QCOW2_OPEN_READ_ONLY : QCOW2_OPEN_WRITABLE, &err);
    sn = img ? qcow2_snapshot_find(img, snapshot, &err) : NULL;
    if (sn) {
        *id = g_strdup(sn->id);
        *name = g_strdup(sn->name);
        sink = app_sink_qcow2(img, sn->index);
        req.edits = edits;
        req.new_size = 0; /* the library checks the list against the size */
        ok = app_sink_write(sink, &req, st, &err);
    }
    if (!ok && err->domain == QCOW2_ERROR && err->code == QCOW2_ERROR_INVALID) {
        err->domain = G_OPTION_ERROR; /* the edit list, or a name taken */
        err->code = G_OPTION_ERROR_BAD_VALUE;
    }
    g_clear_pointer(&sink, app_sink_free);
    qcow2_close(img);
    if (!ok) {
        g_propagate_error(errp, g_steal_pointer(&err));
    }
    return ok;
}

/* ---- oldify ----------------------------------------------------------- */

static VmsStream *parse_all(VmsSource *src, GError **errp)
{
    VmsParseOptions popts = {.flags = VMS_PARSE_RECORD_PAGES};
    return vms_stream_parse(src, &popts, errp);
}

/* The reshaped VM state must be a stream to EOF before a byte of the
 * image changes (oldify's shapes are for tests: a stream they do not
 * know is refused, not written). */
static bool reshaped_parses(VmsSource *src, const TrResult *r,
                            const char *image, GError **errp)
{
    g_autofree uint8_t *copy = NULL;
    const uint8_t *old = src->mapped;
    g_autoptr(GBytes) reshaped = NULL;
    g_autoptr(VmsSource) check = NULL;
    g_autoptr(VmsStream) s = NULL;

    if (!old) {
        copy = g_try_malloc(src->size ? src->size : 1);
        if (!copy) {
            g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_NOMEM,
                        "%s: no memory for a copy of the VM state", image);
            return false;
        }
        if (!vms_source_read(src, 0, copy, src->size, errp)) {
            return false;
        }
        old = copy;
    }
    reshaped = tr_apply_edits(old, src->size, r->edits, errp);
    check = reshaped ? vms_source_new_bytes(reshaped, src->name) : NULL;
    s = check ? parse_all(check, errp) : NULL;
    if (!s) {
        g_prefix_error(errp,
                       "%s: the reshaped VM state (nothing written): ", image);
    }
    return s != NULL;
}

/*
 * Write r's edits through sink, once they are known to make a stream to EOF
 * in memory (nothing written otherwise), and check that the result is still
 * a stream, to EOF; *src and *s (what r was made from) are freed. A sink that
 * writes a whole new file gets the old bytes from *src and writes even
 * without edits; one that writes in place reads them itself.
 */
static bool write_reshaped(const char *image, AppSource *source, AppSink *sink,
                           VmsSource **src, VmsStream **s, const TrResult *r,
                           bool whole_file, GError **errp)
{
    AppWrite w = {.old = whole_file ? *src : NULL,
                  .edits = r->edits,
                  .new_size = r->new_size};
    AppWriteStats st = {0};
    bool ok;

    if (r->edits->len && !reshaped_parses(*src, r, image, errp)) {
        g_clear_pointer(s, vms_stream_free);
        g_clear_pointer(src, vms_source_free);
        return false;
    }
    ok = (!whole_file && !r->edits->len) || app_sink_write(sink, &w, &st, errp);
    app_write_stats_clear(&st);
    g_clear_pointer(s, vms_stream_free);
    g_clear_pointer(src, vms_source_free);
    if (ok) {
        *src = app_source_open(source, errp);
        *s = *src ? parse_all(*src, errp) : NULL;
        if (!*s) {
            g_prefix_error(errp, "%s: the reshaped VM state: ", image);
            ok = false;
        }
    }
    g_clear_pointer(s, vms_stream_free);
    g_clear_pointer(src, vms_source_free);
    return ok;
}

/* A libvirt save image: its stream reshaped, its domain an old host's. */
static bool oldify_savefile(const char *image, const TrBackwardsOptions *bo,
                            TrResult **result, GError **errp)
{
    const char *machine =
        !g_strcmp0(bo->as, "qemu-kvm-1.2") ? "pc-1.2" : "pc-1.0";
    g_autoptr(AppSource) source = app_source_savefile(image);
    g_autoptr(AppSink) sink =
        app_sink_savefile_reshaped(image, machine, "/usr/bin/qemu-kvm");
    g_autoptr(VmsSource) src = app_source_open(source, errp);
    g_autoptr(VmsStream) s = src ? parse_all(src, errp) : NULL;
    TrResult *r = s ? tr_backwards(s, src, bo, errp) : NULL;

    if (!r) {
        return false;
    }
    *result = r;
    return write_reshaped(image, source, sink, &src, &s, r, true, errp);
}

bool app_oldify(const char *image, const char *snapshot,
                const TrBackwardsOptions *bo, TrResult **result, char **id,
                GError **errp)
{
    if (app_is_savefile(image)) {
        *id = NULL;
        return oldify_savefile(image, bo, result, errp);
    }
    Qcow2Image *img = qcow2_open(image, QCOW2_OPEN_WRITABLE, errp);
    const Qcow2Snapshot *sn =
        img ? qcow2_snapshot_find(img, snapshot, errp) : NULL;
    g_autoptr(AppSource) source = sn ? app_source_qcow2(img, sn->index) : NULL;
    g_autoptr(AppSink) sink = sn ? app_sink_qcow2(img, sn->index) : NULL;
    g_autoptr(VmsSource) src = source ? app_source_open(source, errp) : NULL;
    g_autoptr(VmsStream) s = src ? parse_all(src, errp) : NULL;
    TrResult *r = s ? tr_backwards(s, src, bo, errp) : NULL;
    bool ok;

    if (!r) {
        g_clear_pointer(&src, vms_source_free);
        qcow2_close(img);
        return false;
    }
    *result = r;
    *id = g_strdup(sn->id);
    ok = write_reshaped(image, source, sink, &src, &s, r, false, errp);
    g_clear_pointer(&source, app_source_free);
    g_clear_pointer(&sink, app_sink_free);
    qcow2_close(img);
    return ok;
}
