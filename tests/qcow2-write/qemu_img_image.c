/*
 * Test images made by qemu-img (qemu_img_image.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib/gstdio.h>
#include <stdbool.h>
#include <stdlib.h>

#include "qemu_img_image.h"

static bool run(const char *const *argv)
{
    gint status = 1;

    return g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
                        NULL, NULL, NULL, &status, NULL) &&
           g_spawn_check_wait_status(status, NULL);
}

GBytes *test_qemu_img_image(const char *size, const char *snapshot)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("qsnapfix-test-XXXXXX", &err);
    g_autofree char *path =
        dir ? g_build_filename(dir, "base.qcow2", NULL) : NULL;
    const char *create[] = {"qemu-img", "create", "-q", "-f",
                            "qcow2",    path,     size, NULL};
    const char *snap[] = {"qemu-img", "snapshot", "-c", snapshot, path, NULL};
    char *data = NULL;
    gsize len;

    if (dir && run(create) && run(snap)) {
        g_file_get_contents(path, &data, &len, NULL);
    }
    if (dir) {
        g_unlink(path);
        g_rmdir(dir);
    }
    if (!data) {
        g_print("1..0 # SKIP qemu-img cannot make the base image\n");
        exit(77);
    }
    return g_bytes_new_take(data, len);
}
