/*
 * The profile of a QEMU binary (--target=auto, --qemu CMD), measured from
 * the binary itself as docs/targets.md §4 describes and as
 * tests/qsnapfix_tests/target_facts.py measures the shipped profiles:
 *
 *   -version, -M help          the version, the machine types (deprecated)
 *   -M M -dump-vmstate FILE    every vmsd a device class registers (M: the
 *                              binary's oldest i440fx machine)
 *   own streams                for each device configuration, QEMU started
 *                              paused with it, its properties read (qom-get)
 *                              and its state migrated to a file, parsed:
 *                              the vmstates outside device classes, the RAM
 *                              blocks and their lengths, the framing
 *   probes                     'audio' and 'block', registered but never
 *                              sent, loaded into it (-incoming) to see
 *                              which versions it takes, and what with
 *
 * The facts are cached by the binary's hash (and its version line) in
 * --cache-dir or $XDG_CACHE_HOME/qsnapfix/targets: a second run reads them
 * in milliseconds. When they are the facts of a target qsnapfix ships
 * (qemu-7.2, qemu-10.0), the profile is that target; otherwise it is
 * built from them (tr_target_build()). A QEMU without -dump-vmstate (< 2.1)
 * or without the device options the measurement uses (< 4.0) cannot be
 * profiled: the error says so and names the shipped target that fits.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_TARGET_PROBE_H
#define APP_TARGET_PROBE_H

#include "qemu.h"
#include "translate/translate.h"

typedef struct AppTargetProbe AppTargetProbe;

/*
 * Profile q's binary (cache_dir NULL: the user's cache directory).
 * built: always build the profile from the facts, even when they are a
 * shipped target's (tests compare the builder with the shipped profiles).
 */
AppTargetProbe *app_target_probe(AppQemu *q, const char *cache_dir, bool built,
                                 GError **errp);
void app_target_probe_free(AppTargetProbe *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AppTargetProbe, app_target_probe_free)

/* The profile (valid while p lives). */
const TrTarget *app_target_probe_target(const AppTargetProbe *p);
/* Where it came from, one line: "qemu-7.2: the facts of QEMU 7.2.22
 * (/usr/bin/qemu-system-x86_64) are the shipped profile's (cached)". */
const char *app_target_probe_origin(const AppTargetProbe *p);

/* ---- the target a front end was asked for (options_choose.c) ---------- */

/* "qemu-7.2 (default), qemu-10.0 or qemu-2.0", from the target table. */
char *app_target_names(void);
/*
 * The target named (NULL: the default), or with name "auto", or no name
 * but a qemu command, the profile of that QEMU binary (qemu NULL:
 * qemu-system-x86_64 in PATH), measured once and cached in cache_dir
 * (NULL: the default): then *probe holds it (the caller frees it). An
 * unknown name is a G_OPTION_ERROR.
 */
const TrTarget *app_target_choose(const char *name, const char *qemu,
                                  const char *cache_dir,
                                  AppTargetProbe **probe, GError **errp);
/* Rule ids whose loss is accepted, from options given as "R10,R4" or
 * repeated (given non-NULL); each checked (a G_OPTION_ERROR otherwise). */
char **app_accept_loss_parse(char **given, GError **errp);

#endif
