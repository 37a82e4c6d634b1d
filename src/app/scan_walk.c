/*
 * scan PATH...: which files are images. A store is walked, not trusted:
 * qcow2 images are recognised by their magic (stores name them .img, .disk
 * or nothing), symlinks are followed but every directory and file is
 * visited once (a link back up the tree is a loop, reported and cut;
 * links are followed after the real files, which keep their own names), and
 * whatever cannot be read is reported without stopping the walk.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exit_codes.h"
#include "io.h"
#include "scan.h"

static const uint8_t qcow2_magic[4] = {'Q', 'F', 'I', 0xfb};

typedef struct Walk {
    GPtrArray *entries;
    GHashTable *seen; /* "dev:ino" -> first path (owned) */
    GQueue links;     /* symlinks met in directories, followed last */
} Walk;

static void entry_free(AppScanEntry *e)
{
    if (!e) {
        return;
    }
    g_free(e->path);
    g_free(e->reason);
    g_free(e);
}

static void add(Walk *w, const char *path, AppEntryKind kind, int exit_code,
                char *reason)
{
    AppScanEntry *e = g_new0(AppScanEntry, 1);

    e->path = g_strdup(path);
    e->kind = kind;
    e->exit_code = exit_code;
    e->reason = reason;
    g_ptr_array_add(w->entries, e);
}

/* A path that cannot be read, missing ones included, is an I/O error (5)
 * as for fix IMAGE or inspect IMAGE: 9 is for snapshots. */
static void add_errno(Walk *w, const char *path, const char *what, int err)
{
    add(w, path, APP_ENTRY_ERROR, APP_EXIT_IO,
        g_strdup_printf("%s: cannot %s: %s", path, what, g_strerror(err)));
}

/* The first path under which this file or directory was met, or NULL
 * (and it is remembered under path). */
static const char *seen_before(Walk *w, const struct stat *st, const char *path)
{
    char *key = g_strdup_printf("%ju:%ju", (uintmax_t)st->st_dev,
                                (uintmax_t)st->st_ino);
    const char *first = g_hash_table_lookup(w->seen, key);

    if (first) {
        g_free(key);
        return first;
    }
    g_hash_table_insert(w->seen, key, g_strdup(path));
    return NULL;
}

/* 1: qcow2 magic; 0: not; -errno: unreadable. */
static int has_qcow2_magic(const char *path)
{
    uint8_t buf[4];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    int err;

    if (fd < 0) {
        return -errno;
    }
    do {
        n = pread(fd, buf, sizeof(buf), 0);
    } while (n < 0 && errno == EINTR);
    err = errno;
    close(fd);
    if (n < 0) {
        return -err;
    }
    return n == sizeof(buf) && !memcmp(buf, qcow2_magic, sizeof(buf));
}

static void walk_path(Walk *w, const char *path, bool given, bool follow);

static gint compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk_dir(Walk *w, const char *path)
{
    DIR *d = opendir(path);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    struct dirent *de;

    if (!d) {
        add_errno(w, path, "read the directory", errno);
        return;
    }
    errno = 0;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            g_ptr_array_add(names, g_strdup(de->d_name));
        }
        errno = 0;
    }
    if (errno) {
        add_errno(w, path, "read the directory", errno);
    }
    closedir(d);
    /* Byte order, so that the report is the same on every run. */
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *child =
            g_build_filename(path, g_ptr_array_index(names, i), NULL);
        walk_path(w, child, false, false);
    }
}

static void walk_file(Walk *w, const char *path, const struct stat *st,
                      bool given)
{
    const char *first = seen_before(w, st, path);
    int magic;

    if (first) {
        add(w, path, APP_ENTRY_SKIPPED, 0,
            g_strdup_printf("the same file as %s", first));
        return;
    }
    magic = has_qcow2_magic(path);
    if (magic < 0) {
        add_errno(w, path, "read", -magic);
    } else if (magic || app_is_savefile(path)) { /* qcow2, or libvirt's */
        add(w, path, APP_ENTRY_IMAGE, 0, NULL);
    } else if (given) {
        add(w, path, APP_ENTRY_ERROR, APP_EXIT_BAD_HEADER,
            g_strdup_printf("%s: not a qcow2 image (no QFI\\xfb magic at "
                            "offset 0)",
                            path));
    } else {
        add(w, path, APP_ENTRY_SKIPPED, 0, g_strdup("not a qcow2 image"));
    }
}

/*
 * given: named on the command line. follow: a symlink met in a directory
 * may be followed now; until then it waits in w->links, so that a file
 * reached both ways is reported under its own name, not the link's.
 */
static void walk_path(Walk *w, const char *path, bool given, bool follow)
{
    struct stat st;

    if (!given && !follow && lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        g_queue_push_tail(&w->links, g_strdup(path));
        return;
    }

    if (stat(path, &st) < 0) {
        int err = errno;
        struct stat lst;
        bool is_link = lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode);

        if (is_link && err == ELOOP) {
            add(w, path, given ? APP_ENTRY_ERROR : APP_ENTRY_SKIPPED,
                APP_EXIT_IO, g_strdup("symlink loop"));
        } else if (is_link && err == ENOENT && !given) {
            add(w, path, APP_ENTRY_SKIPPED, 0, g_strdup("dangling symlink"));
        } else {
            add_errno(w, path, "stat", err);
        }
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        const char *first = seen_before(w, &st, path);
        if (first) {
            add(w, path, APP_ENTRY_SKIPPED, 0,
                g_strdup_printf("directory already scanned as %s (symlink "
                                "loop or repeated PATH)",
                                first));
            return;
        }
        walk_dir(w, path);
    } else if (S_ISREG(st.st_mode) || (given && S_ISBLK(st.st_mode))) {
        walk_file(w, path, &st, given);
    } else if (given) {
        add(w, path, APP_ENTRY_ERROR, APP_EXIT_IO,
            g_strdup_printf("%s: not a regular file, block device or "
                            "directory",
                            path));
    } else {
        add(w, path, APP_ENTRY_SKIPPED, 0, g_strdup("not a regular file"));
    }
}

GPtrArray *app_scan_walk(char **paths)
{
    Walk w = {
        .entries = g_ptr_array_new_with_free_func((GDestroyNotify)entry_free),
        .seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free),
        .links = G_QUEUE_INIT,
    };

    char *link;

    for (guint i = 0; paths && paths[i]; i++) {
        walk_path(&w, paths[i], true, false);
    }
    while ((link = g_queue_pop_head(&w.links))) {
        walk_path(&w, link, false, true);
        g_free(link);
    }
    g_hash_table_unref(w.seen);
    return w.entries;
}
