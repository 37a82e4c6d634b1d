/*
 * Permission and free space before a write (preflight.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "preflight.h"

/* 0, or why the effective user may not have mode on path. */
static int access_error(const char *path, int mode)
{
    return faccessat(AT_FDCWD, path, mode, AT_EACCESS) == 0 ? 0 : errno;
}

bool app_preflight_image(const char *image, GError **errp)
{
    int err = access_error(image, W_OK);

    if (!err || err == ENOENT) {
        return true;
    }
    g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(err),
                "not writable for this user (%s); fix rewrites %s in place",
                g_strerror(err), image);
    return false;
}

bool app_preflight_new_file(const char *path, GError **errp)
{
    g_autofree char *dir = g_path_get_dirname(path);
    struct stat st;
    int err;

    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        err = S_ISDIR(st.st_mode) ? 0 : access_error(path, W_OK);
    } else {
        err = access_error(dir, W_OK | X_OK);
    }
    if (!err || err == ENOENT) {
        return true;
    }
    g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(err),
                "cannot create %s: its directory is not writable for this "
                "user (%s)",
                path, g_strerror(err));
    return false;
}

bool app_preflight_recipe_dir(const TrRecipe *recipe, const bool *unchanged,
                              GError **errp)
{
    for (guint i = 0; i < recipe->files->len; i++) {
        const TrFile *f = g_ptr_array_index(recipe->files, i);
        g_autofree char *dir = NULL;
        int err;

        if (unchanged && unchanged[i]) {
            continue; /* nothing to write */
        }
        dir = g_path_get_dirname(f->path);
        err = access_error(dir, W_OK | X_OK);
        if (err && err != ENOENT) {
            g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(err),
                        "cannot create the recipe file %s: its directory is "
                        "not writable for this user (%s); choose another "
                        "with --rom-dir",
                        f->path, g_strerror(err));
            return false;
        }
    }
    return true;
}

/* The file system of where: a file, else its directory. */
static bool file_system_of(const char *where, struct stat *st,
                           struct statvfs *vfs)
{
    g_autofree char *dir = NULL;

    if (stat(where, st) == 0 && statvfs(where, vfs) == 0) {
        return true;
    }
    dir = g_path_get_dirname(where);
    return stat(dir, st) == 0 && statvfs(dir, vfs) == 0;
}

bool app_check_space(const AppSpaceNeed *needs, guint n, GError **errp)
{
    for (guint i = 0; i < n; i++) {
        struct statvfs vfs;
        struct stat st, other;
        struct statvfs ignored;
        g_autoptr(GString) what = g_string_new(NULL);
        uint64_t total = 0, free_bytes;
        bool first_of_its_fs = true;

        if (!needs[i].where || !needs[i].bytes ||
            !file_system_of(needs[i].where, &st, &vfs)) {
            continue;
        }
        /* Each file system once: at its first need, with all of them. */
        for (guint k = 0; k < n && first_of_its_fs; k++) {
            if (!needs[k].where || !needs[k].bytes ||
                !file_system_of(needs[k].where, &other, &ignored) ||
                other.st_dev != st.st_dev) {
                continue;
            }
            if (k < i) {
                first_of_its_fs = false;
                break;
            }
            g_autofree char *size =
                g_format_size_full(needs[k].bytes, G_FORMAT_SIZE_IEC_UNITS);
            g_string_append_printf(what, "%s%s: %s", what->len ? "; " : "",
                                   needs[k].what, size);
            total += needs[k].bytes;
        }
        free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
        if (first_of_its_fs && total > free_bytes) {
            g_autofree char *need =
                g_format_size_full(total, G_FORMAT_SIZE_IEC_UNITS);
            g_autofree char *have =
                g_format_size_full(free_bytes, G_FORMAT_SIZE_IEC_UNITS);
            g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_NOSPC,
                        "not enough free space: up to %s needed (%s) on the "
                        "file system of %s, which has %s free",
                        need, what->str, needs[i].where, have);
            return false;
        }
    }
    return true;
}
