/*
 * libvirt save images as a source and a sink (io.h; the format:
 * src/libvirt/savefile.h, docs/savefile.md).
 *
 * Write order of the sink (a crash at any moment leaves PATH as it was or
 * complete and new, never a mix):
 *   1. the new image is written to .PATH.qsnapfix-XXXXXX beside PATH
 *      (header, updated domain XML, the stream compressed as before);
 *   2. it is fsync'd and closed;
 *   3. PATH gets a second name, PATH.orig (unless told not to keep it);
 *   4. the new image is renamed over PATH, and the directory fsync'd.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io.h"
#include "libvirt/domain.h"
#include "libvirt/render.h"
#include "libvirt/savefile.h"

extern char **environ;

#define DEFAULT_EMULATOR "qemu-system-x86_64"

bool app_is_savefile(const char *path)
{
    char magic[LVSAVE_MAGIC_LEN];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0) {
        return false;
    }
    n = read(fd, magic, sizeof(magic));
    close(fd);
    return n == (ssize_t)sizeof(magic) &&
           lvsave_probe(magic, sizeof(magic)) != LVSAVE_PROBE_NONE;
}

/* ---- reading ---------------------------------------------------------- */

typedef struct SaveImage {
    LvSaveImage *img;
    uint64_t offset; /* of the stream */
    uint64_t size;   /* of the file */
    struct stat st;
} SaveImage;

static void save_image_clear(SaveImage *si)
{
    lvsave_image_free(si->img);
    si->img = NULL;
}

static bool read_exactly(int fd, void *buf, size_t len, uint64_t at,
                         const char *path, GError **errp)
{
    uint8_t *p = buf;

    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)at);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n < 0) {
                app_file_error(errp, errno, path, "cannot read");
            } else {
                g_set_error(errp, LVSAVE_ERROR, LVSAVE_ERROR_TRUNCATED,
                            "%s: the file ends at 0x%" PRIx64
                            ", inside the libvirt save header",
                            path, at);
            }
            return false;
        }
        p += n;
        at += (uint64_t)n;
        len -= (size_t)n;
    }
    return true;
}

/* The header and domain XML of the image open at fd. */
static bool read_image(int fd, const char *path, SaveImage *si, GError **errp)
{
    uint8_t hdr[LVSAVE_HEADER_SIZE];
    g_autofree uint8_t *area = NULL;
    LvSaveHeader h;
    size_t got = 0;

    memset(si, 0, sizeof(*si));
    if (fstat(fd, &si->st) < 0) {
        app_file_error(errp, errno, path, "cannot stat");
        return false;
    }
    si->size = (uint64_t)si->st.st_size;
    got = (size_t)MIN(si->size, (uint64_t)sizeof(hdr));
    if (!read_exactly(fd, hdr, got, 0, path, errp) ||
        !lvsave_header_parse(hdr, got, &h, errp)) {
        g_prefix_error(errp, "%s: ", path);
        return false;
    }
    si->offset = lvsave_stream_offset(&h);
    if (si->offset > si->size) {
        g_set_error(errp, LVSAVE_ERROR, LVSAVE_ERROR_TRUNCATED,
                    "%s: the file ends at 0x%" PRIx64 ", before the end of "
                    "its domain XML area (0x%" PRIx64 ")",
                    path, si->size, si->offset);
        return false;
    }
    area = g_malloc(h.data_len);
    if (!read_exactly(fd, area, h.data_len, LVSAVE_HEADER_SIZE, path, errp)) {
        return false;
    }
    si->img = lvsave_image_parse(&h, area, h.data_len, NULL, errp);
    if (!si->img) {
        g_prefix_error(errp, "%s: ", path);
        return false;
    }
    return true;
}

/* Run argv with stdin and stdout on these descriptors. */
static bool spawn_filter(const char *const *argv, int in, int out, pid_t *pid,
                         GError **errp)
{
    posix_spawn_file_actions_t fa;
    int rc;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
    rc = posix_spawnp(pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc) {
        g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(rc),
                    "cannot run %s: %s", argv[0], g_strerror(rc));
        return false;
    }
    return true;
}

static bool wait_filter(pid_t pid, const char *const *argv, const char *path,
                        GError **errp)
{
    int status;

    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            app_file_error(errp, errno, path, "waitpid");
            return false;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        g_autofree char *cmd = g_strjoinv(" ", (char **)argv);
        g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                    "%s: `%s` failed (%s %d)", path, cmd,
                    WIFEXITED(status) ? "exit status" : "signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return false;
    }
    return true;
}

/* What libvirt runs: `PROG -dc` (lzop with --ignore-warn), `PROG -c`. */
static void filter_argv(LvSaveFormat format, bool compress, const char *argv[4])
{
    argv[0] = lvsave_format_program(format);
    argv[1] = compress ? "-c" : "-dc";
    argv[2] =
        !compress && format == LVSAVE_FORMAT_LZOP ? "--ignore-warn" : NULL;
    argv[3] = NULL;
}

/* The stream of a compressed image, decompressed into an unlinked
 * temporary file. */
static VmsSource *decompressed(const char *path, const SaveImage *si,
                               GError **errp)
{
    LvSaveFormat format = lvsave_stream_format(&si->img->header);
    const char *argv[4];
    g_autofree char *tmp =
        g_build_filename(g_get_tmp_dir(), "qsnapfix-save-XXXXXX", NULL);
    int in = open(path, O_RDONLY | O_CLOEXEC);
    int out = in < 0 ? -1 : g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0600);
    struct stat st;
    pid_t pid;
    bool ok;

    filter_argv(format, false, argv);
    if (in < 0 || out < 0) {
        app_file_error(errp, errno, in < 0 ? path : tmp, "cannot open");
        if (in >= 0) {
            close(in);
        }
        return NULL;
    }
    unlink(tmp);
    ok = lseek(in, (off_t)si->offset, SEEK_SET) >= 0;
    if (!ok) {
        app_file_error(errp, errno, path, "cannot seek");
    }
    ok = ok && spawn_filter(argv, in, out, &pid, errp);
    close(in);
    ok = ok && wait_filter(pid, argv, path, errp);
    if (ok && fstat(out, &st) < 0) {
        app_file_error(errp, errno, tmp, "cannot stat");
        ok = false;
    }
    if (!ok) {
        close(out);
        return NULL;
    }
    return vms_source_new_fd(out, 0, (uint64_t)st.st_size, path);
}

LvSaveImage *app_savefile_header(const char *path, uint64_t *stream_offset,
                                 uint64_t *file_size, GError **errp)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    SaveImage si;
    bool ok;

    if (fd < 0) {
        app_file_error(errp, errno, path, "cannot open");
        return NULL;
    }
    ok = read_image(fd, path, &si, errp);
    close(fd);
    if (!ok) {
        return NULL;
    }
    *stream_offset = si.offset;
    *file_size = si.size;
    return si.img;
}

AppRecordKind app_savefile_record(const char *path, AppRecord *r)
{
    uint64_t offset, size;
    g_autoptr(LvSaveImage) img =
        app_savefile_header(path, &offset, &size, NULL);
    g_autoptr(LvDomain) d = img ? lvdom_parse(img->xml, NULL) : NULL;
    g_autofree char *json =
        d ? lvdom_metadata(d, APP_SAVEFILE_NS, "record") : NULL;

    return app_record_from_json(json, r);
}

/* PATH for PATH.orig and PATH.orig.N, else NULL. */
static char *fixed_image_of(const char *path)
{
    const char *dot = strstr(path, ".orig");
    const char *tail;

    while (dot && strstr(dot + 1, ".orig")) {
        dot = strstr(dot + 1, ".orig");
    }
    if (!dot || dot == path) {
        return NULL;
    }
    tail = dot + strlen(".orig");
    if (*tail == '.' && tail[1]) {
        for (tail++; g_ascii_isdigit(*tail); tail++) {
        }
    }
    return *tail ? NULL : g_strndup(path, (gsize)(dot - path));
}

bool app_savefile_is_original(const char *path, char **of)
{
    g_autofree char *fixed = fixed_image_of(path);
    g_autofree char *base = g_path_get_basename(path);
    AppRecord r = {0};
    bool original = fixed && app_is_savefile(fixed) &&
                    app_savefile_record(fixed, &r) == APP_RECORD_FIX &&
                    !g_strcmp0(r.kept_as, base);

    app_record_clear(&r);
    if (of) {
        *of = original ? g_steal_pointer(&fixed) : NULL;
    }
    return original;
}

char *app_file_sha256(const char *path, GError **errp)
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_autofree uint8_t *buf = g_malloc(1 << 20);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0) {
        app_file_error(errp, errno, path, "cannot open");
        return NULL;
    }
    while ((n = read(fd, buf, 1 << 20)) != 0) {
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            app_file_error(errp, errno, path, "cannot read");
            close(fd);
            return NULL;
        }
        g_checksum_update(sum, buf, n);
    }
    close(fd);
    return g_strdup(g_checksum_get_string(sum));
}

static VmsSource *open_stream(const char *path, GError **errp)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    SaveImage si;
    VmsSource *src;

    if (fd < 0) {
        app_file_error(errp, errno, path, "cannot open");
        return NULL;
    }
    if (!read_image(fd, path, &si, errp)) {
        close(fd);
        return NULL;
    }
    if (lvsave_stream_format(&si.img->header) == LVSAVE_FORMAT_RAW) {
        src = vms_source_new_fd(fd, si.offset, si.size - si.offset, path);
    } else {
        close(fd);
        src = decompressed(path, &si, errp);
    }
    save_image_clear(&si);
    return src;
}

static VmsSource *savefile_open(AppSource *source, GError **errp)
{
    return open_stream(source->opaque, errp);
}

static void savefile_source_close(AppSource *source)
{
    g_free(source->opaque);
}

static const AppSourceOps savefile_source_ops = {
    .open = savefile_open,
    .close = savefile_source_close,
};

AppSource *app_source_savefile(const char *path)
{
    return app_source_new(&savefile_source_ops, g_strdup(path), path);
}

/* ---- writing ---------------------------------------------------------- */

typedef struct SaveSink {
    char *path;
    char *emulator;
    GPtrArray *changes;
    /* oldify: the domain as an old host's libvirt had it, no recipe */
    bool reshape;
    char *old_machine;
    char *old_emulator;
} SaveSink;

static void note(GPtrArray *changes, char *line)
{
    if (changes) {
        g_ptr_array_add(changes, line);
    } else {
        g_free(line);
    }
}

/* d as XML: *changed against before, then the record set (NULL:
 * removed), which alone is no reason to write. */
static char *with_record(LvDomain *d, const char *before,
                         const AppRecord *record, const char *kept_as,
                         bool *changed)
{
    g_autofree char *after = lvdom_format(d);
    g_autofree char *json = NULL;

    *changed = strcmp(before, after) != 0;
    if (record) {
        AppRecord r = *record;

        r.kept_as = (char *)kept_as;
        json = app_record_to_json(&r);
    }
    lvdom_set_metadata(d, APP_SAVEFILE_NS, "qsnapfix", "record", json);
    return lvdom_format(d);
}

/*
 * The domain XML with the recipe merged in and an emulator that exists
 * (oldify: an old host's); *changed says whether that changed anything.
 * Then the record: record's, kept_as the original's name (NULL: none), or
 * removed (oldify: the image is not a fixed one any more).
 */
static char *updated_domain(const SaveSink *s, const char *xml,
                            const TrRecipe *recipe, const AppRecord *record,
                            const char *kept_as, bool *changed, GError **errp)
{
    g_autoptr(LvDomain) d = lvdom_parse(xml, errp);
    g_autofree char *before = NULL, *emulator = NULL;

    if (!d) {
        g_prefix_error(errp, "%s: ", s->path);
        return NULL;
    }
    before = lvdom_format(d);
    if (s->reshape) {
        g_autofree char *os = g_markup_printf_escaped(
            "<os><type machine='%s'>hvm</type></os>", s->old_machine);
        GPtrArray one = {.pdata = (gpointer *)&os, .len = 1};
        if (!lvdom_merge(d, &one, s->changes, errp)) {
            return NULL;
        }
        lvdom_set_emulator(d, s->old_emulator);
        return with_record(d, before, NULL, NULL, changed);
    }
    if (recipe) {
        g_autoptr(GPtrArray) fragments = qsnapfix_libvirt_xml(recipe);
        if (!lvdom_merge(d, fragments, s->changes, errp)) {
            return NULL;
        }
    }
    emulator = lvdom_emulator(d);
    if (!emulator || access(emulator, X_OK) != 0) {
        g_autofree char *found = s->emulator
                                     ? g_strdup(s->emulator)
                                     : g_find_program_in_path(DEFAULT_EMULATOR);
        if (found) {
            lvdom_set_emulator(d, found);
            note(s->changes,
                 g_strdup_printf("<emulator> %s -> %s (%s)",
                                 emulator ? emulator : "none", found,
                                 emulator ? "no such program here"
                                          : "the domain named none"));
        } else {
            note(s->changes,
                 g_strdup_printf("<emulator> %s kept: no %s on PATH "
                                 "(give --emulator)",
                                 emulator ? emulator : "none",
                                 DEFAULT_EMULATOR));
        }
    }
    return with_record(d, before, record, kept_as, changed);
}

static bool same_file(const char *a, const struct stat *b)
{
    struct stat st;

    return stat(a, &st) == 0 && st.st_dev == b->st_dev &&
           st.st_ino == b->st_ino;
}

/*
 * Where to keep the original: given, else PATH.orig, or the first
 * PATH.orig.N that does not exist, unless one of them is the original
 * already (*present: a link left by a fix that did not finish).
 */
static char *orig_name(const char *path, const char *given,
                       const struct stat *orig, bool *present)
{
    char *name = given ? g_strdup(given) : g_strdup_printf("%s.orig", path);

    for (guint n = 1; !given && access(name, F_OK) == 0; n++) {
        if (same_file(name, orig)) {
            break;
        }
        g_free(name);
        name = g_strdup_printf("%s.orig.%u", path, n);
    }
    *present = same_file(name, orig);
    return name;
}

/* The stream of w into fd: as it is, or through `PROG -c`. */
static bool write_stream(int fd, const char *tmp, LvSaveFormat format,
                         const AppWrite *w, GError **errp)
{
    const char *argv[4];
    int p[2];
    pid_t pid;
    bool ok;

    if (format == LVSAVE_FORMAT_RAW) {
        return app_write_edited(fd, tmp, w, errp);
    }
    filter_argv(format, true, argv);
    if (pipe2(p, O_CLOEXEC) < 0) {
        app_file_error(errp, errno, tmp, "pipe");
        return false;
    }
    if (!spawn_filter(argv, p[0], fd, &pid, errp)) {
        close(p[0]);
        close(p[1]);
        return false;
    }
    close(p[0]);
    ok = app_write_edited(p[1], tmp, w, errp);
    close(p[1]);
    /* wait even after a failed write: the compressor sees EOF and ends */
    return wait_filter(pid, argv, tmp, ok ? errp : NULL) && ok;
}

static bool sync_dir(const char *path, GError **errp)
{
    g_autofree char *dir = g_path_get_dirname(path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bool ok = fd >= 0 && fsync(fd) == 0;

    if (!ok) {
        app_file_error(errp, errno, dir, "cannot sync the directory");
    }
    if (fd >= 0) {
        close(fd);
    }
    return ok;
}

/* The temporary files of fixes of dir/base that were killed (the caller
 * holds the image's lock: none is being written now). */
static void remove_stale_temps(const char *dir, const char *base)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_autofree char *prefix = g_strdup_printf(".%s.qsnapfix-", base);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        if (g_str_has_prefix(name, prefix) &&
            strlen(name) == strlen(prefix) + 6) {
            g_autofree char *path = g_build_filename(dir, name, NULL);
            unlink(path);
        }
    }
}

/* kept: where the original is kept (present: it is there already), or
 * NULL. */
static bool write_new_image(const SaveSink *s, const SaveImage *si,
                            GBytes *head, const char *kept, bool present,
                            const AppWrite *w, AppWriteStats *st, GError **errp)
{
    g_autofree char *dir = g_path_get_dirname(s->path);
    g_autofree char *base = g_path_get_basename(s->path);
    g_autofree char *tmp = g_strdup_printf("%s/.%s.qsnapfix-XXXXXX", dir, base);
    bool linked = false;
    gsize len;
    const void *data = g_bytes_get_data(head, &len);
    struct stat done;
    bool ok;
    int fd;

    remove_stale_temps(dir, base);
    fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, si->st.st_mode & 0777);

    if (fd < 0) {
        app_file_error(errp, errno, s->path, "cannot create a file beside it");
        return false;
    }
    /* the original's owner (libvirt's qemu user) and mode */
    if (fchown(fd, si->st.st_uid, si->st.st_gid) < 0 && errno != EPERM) {
        app_file_error(errp, errno, tmp, "cannot set the owner");
        close(fd);
        unlink(tmp);
        return false;
    }
    ok = app_write_all(fd, data, len, tmp, errp) &&
         write_stream(fd, tmp, lvsave_stream_format(&si->img->header), w, errp);
    if (ok && fsync(fd) < 0) {
        app_file_error(errp, errno, tmp, "cannot write");
        ok = false;
    }
    if (ok && fstat(fd, &done) == 0) {
        st->bytes_written = (uint64_t)done.st_size;
    }
    if (close(fd) < 0 && ok) {
        app_file_error(errp, errno, tmp, "cannot write");
        ok = false;
    }
    /* the last point where a stop request leaves the old image alone */
    ok = ok && !app_write_cancelled(w, s->path, errp);
    if (ok && kept && !present) {
        linked = link(s->path, kept) == 0;
        if (!linked) {
            app_file_error(errp, errno, kept, "cannot keep the original");
            ok = false;
        }
    }
    if (ok && rename(tmp, s->path) < 0) {
        app_file_error(errp, errno, s->path,
                       "cannot rename the new image into place");
        if (linked) {
            unlink(kept);
        }
        ok = false;
    }
    if (!ok) {
        unlink(tmp);
        st->end = APP_WRITE_GIVEN_BACK; /* the old image, untouched */
        return false;
    }
    st->end = APP_WRITE_COMMITTED;
    st->wrote = true;
    st->have_stats = true;
    st->kept_as = g_strdup(kept);
    return sync_dir(s->path, errp);
}

/* The new image, with si read and locked. */
static bool write_locked(SaveSink *s, const AppWrite *w, SaveImage *si,
                         AppWriteStats *st, GError **errp)
{
    g_autofree char *xml = NULL, *kept = NULL, *kept_base = NULL;
    g_autoptr(GBytes) head = NULL;
    LvSaveImage img;
    bool changed = false, present = false;

    if (w->keep_original && !s->reshape) {
        kept = orig_name(s->path, w->keep_original_name, &si->st, &present);
        kept_base = g_path_get_basename(kept);
    }
    xml = updated_domain(s, si->img->xml, w->recipe, w->record, kept_base,
                         &changed, errp);
    if (!xml) {
        return false;
    }
    if ((!w->edits || !w->edits->len) && !changed) {
        return true; /* the image holds the result already */
    }
    img = *si->img;
    img.xml = xml;
    head = lvsave_build(&img, LVSAVE_LAYOUT_PRESERVE, errp);
    return head && (w->dry_run ||
                    write_new_image(s, si, head, kept, present, w, st, errp));
}

/*
 * A fix holds the image's lock (flock) from its reading to the rename: two
 * at once would each keep the same original; the second says so.
 */
static bool lock_image(int fd, const char *path, const AppWrite *w,
                       GError **errp)
{
    if (w->dry_run || flock(fd, LOCK_EX | LOCK_NB) == 0) {
        return true;
    }
    if (errno == EWOULDBLOCK) {
        g_set_error(errp, QCOW2_ERROR, QCOW2_ERROR_IN_USE,
                    "%s: another qsnapfix is writing it", path);
    } else {
        app_file_error(errp, errno, path, "cannot lock");
    }
    return false;
}

static bool savefile_write(AppSink *sink, const AppWrite *w, AppWriteStats *st,
                           GError **errp)
{
    SaveSink *s = sink->opaque;
    int fd = open(s->path, O_RDONLY | O_CLOEXEC);
    SaveImage si;
    bool ok;

    if (fd < 0) {
        app_file_error(errp, errno, s->path, "cannot open");
        return false;
    }
    ok = lock_image(fd, s->path, w, errp) && read_image(fd, s->path, &si, errp);
    if (!ok) {
        close(fd);
        return false;
    }
    ok = write_locked(s, w, &si, st, errp);
    save_image_clear(&si);
    close(fd); /* the lock goes with it */
    return ok;
}

static VmsSource *savefile_read_back(AppSink *sink, GError **errp)
{
    SaveSink *s = sink->opaque;

    return open_stream(s->path, errp);
}

static void savefile_sink_close(AppSink *sink)
{
    SaveSink *s = sink->opaque;

    g_free(s->path);
    g_free(s->emulator);
    g_free(s->old_machine);
    g_free(s->old_emulator);
    g_free(s);
}

static const AppSinkOps savefile_sink_ops = {
    .write = savefile_write,
    .read_back = savefile_read_back,
    .close = savefile_sink_close,
};

AppSink *app_sink_savefile_reshaped(const char *path, const char *machine,
                                    const char *emulator)
{
    SaveSink *s = g_new0(SaveSink, 1);

    s->path = g_strdup(path);
    s->reshape = true;
    s->old_machine = g_strdup(machine);
    s->old_emulator = g_strdup(emulator);
    return app_sink_new(&savefile_sink_ops, s, path);
}

AppSink *app_sink_savefile(const char *path, const char *emulator,
                           GPtrArray *changes)
{
    SaveSink *s = g_new0(SaveSink, 1);

    s->path = g_strdup(path);
    s->emulator = g_strdup(emulator);
    s->changes = changes;
    return app_sink_new(&savefile_sink_ops, s, path);
}
