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
    } else if (app_locks_in_use(out)) {
        out->holders = qcow2_lock_holders(path); /* rare: worth the look */
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
    if (l->taken.tool) {
        g_string_append_printf(g, "%s%d", g->len ? " " : "",
                               QCOW2_LOCK_TOOL_BYTE);
    }
    return g_string_free(g, FALSE);
}

const char *app_locks_holder_program(const AppLocks *l)
{
    if (!app_locks_in_use(l)) {
        return NULL;
    }
    return l->taken.tool ? "qsnapfix" : "qemu";
}

char *app_locks_in_use_message(const AppLocks *l)
{
    g_autofree char *bytes = NULL, *who = NULL, *by = NULL;

    if (!app_locks_in_use(l)) {
        return NULL;
    }
    bytes = app_locks_bytes_str(l);
    who = qcow2_lock_holders_str(l->holders);
    by = who ? g_strdup_printf(", by %s", who) : g_strdup("");
    if (l->taken.tool) {
        return g_strdup_printf("in use by another qsnapfix writing it (lock "
                               "bytes %s taken%s); wait for it to finish",
                               bytes, by);
    }
    return g_strdup_printf("in use by a running QEMU (lock bytes %s taken%s); "
                           "stop the VM before fixing",
                           bytes, by);
}

void app_locks_clear(AppLocks *l)
{
    g_free(l->error);
    l->error = NULL;
    if (l->holders) {
        g_array_unref(l->holders);
        l->holders = NULL;
    }
}
