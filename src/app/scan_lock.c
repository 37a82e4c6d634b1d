/*
 * Is a QEMU holding this image? QEMU (2.10 and later) marks each opener's
 * block permissions with open-file-description (OFD) read locks on the
 * image file (qcow2-reference.md §7). The qcow2 library probes them
 * without taking any (qcow2_probe_locks(): a scan must not disturb the
 * VM) and says whether they conflict with the writer's locks `fix` takes.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "scan.h"

void app_probe_locks(const char *path, AppLocks *out)
{
    g_autoptr(GError) err = NULL;

    memset(out, 0, sizeof(*out));
    out->probed = qcow2_probe_locks(path, &out->taken, &err);
    if (!out->probed) {
        out->error = g_strdup(err->message);
    }
}

bool app_locks_in_use(const AppLocks *l)
{
    return l->probed && qcow2_locks_conflict_with_writer(&l->taken);
}

char *app_locks_bytes_str(const AppLocks *l)
{
    GString *g = g_string_new(NULL);

    for (int n = 0; n < QCOW2_PERM_COUNT; n++) {
        if (l->taken.held & (1u << n)) {
            g_string_append_printf(g, "%s%d", g->len ? " " : "",
                                   QCOW2_LOCK_PERM_BASE + n);
        }
    }
    for (int n = 0; n < QCOW2_PERM_COUNT; n++) {
        if (l->taken.denied & (1u << n)) {
            g_string_append_printf(g, "%s%d", g->len ? " " : "",
                                   QCOW2_LOCK_SHARED_BASE + n);
        }
    }
    return g_string_free(g, FALSE);
}

void app_locks_clear(AppLocks *l)
{
    g_free(l->error);
    l->error = NULL;
}
