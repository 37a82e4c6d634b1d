/*
 * What `translate IN -` and `relay` share on the command line: the run's
 * options (app/stream.h), the recipe's line on stderr at the head, and
 * the report at the end, on stderr: stdout may be the stream.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QSNAPFIX_STREAM_CMD_H
#define QSNAPFIX_STREAM_CMD_H

#include "app/stream.h"
#include "fix.h"

typedef struct StreamCli {
    QsnapfixOutput format;
    AppStreamRun run;
} StreamCli;

/* name: the input in messages ("stdin", IN, "relay"); recipe_path:
 * --recipe FILE or NULL; also: --also ARG... */
void stream_cli_init(StreamCli *s, const FixOptions *o, QsnapfixOutput format,
                     const char *name, const char *recipe_path, char **also);
/* The report of a run that returned ok (res then cleared), or its error;
 * the exit code. */
int stream_cli_finish(const StreamCli *s, bool ok, LiveResult *res,
                      const GError *err);

/* translate IN - (IN may be '-'): stream to stdout. */
int qsnapfix_translate_stream(const FixOptions *o, QsnapfixOutput format,
                              const char *in, const char *recipe_path,
                              char **also);

#endif
