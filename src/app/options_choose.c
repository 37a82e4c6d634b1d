/*
 * What a front end was asked, made into AppOptions' values: the target
 * (a shipped profile by name, or the measured profile of a QEMU binary)
 * and the losses the user accepts. Every front end resolves them alike.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "target_probe.h"

/* "qemu-7.2 (default), qemu-10.0 or qemu-2.0", from the target table. */
char *app_target_names(void)
{
    const TrTarget *const *t = tr_targets();
    GString *s = g_string_new(NULL);

    for (guint i = 0; t[i]; i++) {
        if (i) {
            g_string_append(s, t[i + 1] ? ", " : " or ");
        }
        g_string_append(s, tr_target_name(t[i]));
        if (t[i] == tr_target_default()) {
            g_string_append(s, " (default)");
        }
    }
    return g_string_free(s, false);
}

/* The binary's profile (measured once, then cached). */
static const TrTarget *profiled_target(const char *qemu, const char *cache_dir,
                                       AppTargetProbe **probe, GError **errp)
{
    g_autoptr(AppQemu) q = app_qemu_new(qemu, errp);

    if (!q) {
        return NULL;
    }
    *probe = app_target_probe(q, cache_dir,
                              g_getenv("QSNAPFIX_TARGET_BUILT") != NULL, errp);
    if (!*probe) {
        return NULL;
    }
    return app_target_probe_target(*probe);
}

const TrTarget *app_target_choose(const char *name, const char *qemu,
                                  const char *cache_dir, AppTargetProbe **probe,
                                  GError **errp)
{
    bool auto_target = (name && !strcmp(name, "auto")) || (!name && qemu);
    const TrTarget *target;

    *probe = NULL;
    if (auto_target) {
        return profiled_target(qemu, cache_dir, probe, errp);
    }
    target = name ? tr_target_find(name) : tr_target_default();
    if (!target) {
        g_autofree char *names = app_target_names();
        g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "unknown --target '%s' (known: %s)", name, names);
    }
    return target;
}

char **app_accept_loss_parse(char **given, GError **errp)
{
    /* "R10,R4" and repeated options alike */
    g_autofree char *all = g_strjoinv(",", given);
    g_auto(GStrv) rules = g_strsplit(all, ",", -1);

    for (guint i = 0; rules[i]; i++) {
        g_autoptr(GError) err = NULL;
        if (!tr_loss_rule_check(rules[i], &err)) {
            g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--accept-loss: %s", err->message);
            return NULL;
        }
    }
    return g_steal_pointer(&rules);
}
