/*
 * qsnapfix inspect --snapshot / --stream: the migration stream of one
 * snapshot (or a raw migration file), section by section.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QSNAPFIX_INSPECT_STREAM_H
#define QSNAPFIX_INSPECT_STREAM_H

#include "cli.h"
#include "stream/fingerprint.h"
#include "stream/layout.h"
#include "stream/stream.h"

typedef struct StreamInspectOptions {
    const char *image;    /* with snapshot */
    const char *snapshot; /* ID or name, as QEMU looks it up */
    const char *stream;   /* a raw migration stream file, "-" = stdin */
    const char *sections; /* dump the fields of this device */
    gboolean tail;        /* device sections from the tail of the stream */
    gboolean stats;       /* bytes read, on stderr */
    QsnapfixOutput format;
    const CliCommand *command; /* for the failure report (cli_fail()) */
} StreamInspectOptions;

int qsnapfix_inspect_stream(const StreamInspectOptions *o);

#endif
