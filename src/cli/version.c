/*
 * qsnapfix --version: the program's version, the targets it translates
 * for (from the translator's own table) and the libraries it runs with.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>
#include <stdio.h>
#include <zlib.h>
#include <zstd.h>

#include "cli.h"
#include "translate/translate.h"

void qsnapfix_print_version(FILE *out)
{
    const TrTarget *const *targets = tr_targets();
    const TrTarget *dflt = tr_target_default();

    fprintf(out, "qsnapfix %s\n", QSNAPFIX_VERSION);
    fputs("targets:", out);
    for (size_t i = 0; targets[i]; i++) {
        fprintf(out, "%s %s%s", i ? "," : "", tr_target_name(targets[i]),
                targets[i] == dflt ? " (default)" : "");
    }
    fputc('\n', out);
    /* Run-time versions, as the libraries tell them. */
    fprintf(out, "libraries: GLib %u.%u.%u, zlib %s, zstd %s\n",
            glib_major_version, glib_minor_version, glib_micro_version,
            zlibVersion(), ZSTD_versionString());
}
