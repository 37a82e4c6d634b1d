/*
 * What would stop a write, found before anything is written: `fix` asks
 * before it writes the recipe files and splices (a fix that cannot finish
 * must not leave files behind), `fix --dry-run` and `scan` ask to predict
 * what the real fix will hit.
 *
 *   permission   the effective user's (access(2) with AT_EACCESS, as the
 *                kernel will judge the open): the image, to rewrite it in
 *                place; the recipe directory, to create files there;
 *   space        what the write plan takes (the sink's plan: fresh
 *                clusters of the new VM state and metadata; recipe files)
 *                against what statvfs(2) says an unprivileged writer may
 *                still take, summed where both go to one file system.
 *
 * Errors are G_FILE_ERROR: ACCES/ROFS/PERM (exit code 5), NOSPC (16), so
 * the prediction gives the code the real run would give. A path that
 * does not exist is no obstacle here (an image held in memory; a file
 * still to be created is judged by its directory).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_PREFLIGHT_H
#define APP_PREFLIGHT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "translate/translate.h"

/*
 * May the effective user rewrite image in place? (A writable open would
 * fail: the prediction of the real run's error.)
 */
bool app_preflight_image(const char *image, GError **errp);

/* May the effective user create path (in its directory, then renamed)?
 * A path that exists and is not a regular file is written in place. */
bool app_preflight_new_file(const char *path, GError **errp);

/*
 * May the effective user create the recipe's files? Their directory must
 * be writable, except for files already there with the same content
 * (unchanged[i]; NULL: not known, every file counts).
 */
bool app_preflight_recipe_dir(const TrRecipe *recipe, const bool *unchanged,
                              GError **errp);

/* Bytes that something new takes on the file system holding where. */
typedef struct AppSpaceNeed {
    const char *where; /* a file or directory on it; NULL: nothing needed */
    uint64_t bytes;
    const char *what; /* for the message: "the VM state and its metadata" */
} AppSpaceNeed;

/*
 * Free space for every need (needs on one file system summed), against
 * what an unprivileged writer may still take there (statvfs f_bavail);
 * a need whose file system cannot be found is not checked.
 */
bool app_check_space(const AppSpaceNeed *needs, guint n, GError **errp);

#endif
