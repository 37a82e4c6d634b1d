/*
 * Shared pieces of the qsnapfix commands: error reporting and the one
 * GError -> exit code table, human formatting the way qemu-img prints it,
 * JSON output.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QSNAPFIX_CLI_H
#define QSNAPFIX_CLI_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "qcow2.h"

/* Commands: argv[0] is the command name. */
int qsnapfix_cmd_inspect(int argc, char **argv);
int qsnapfix_cmd_extract(int argc, char **argv);
int qsnapfix_cmd_fix(int argc, char **argv);
int qsnapfix_cmd_translate(int argc, char **argv);
int qsnapfix_cmd_scan(int argc, char **argv);
/* Expert/test tool: apply an edit list to a VM state (cmd_splice.c). */
int qsnapfix_cmd_splice(int argc, char **argv);
/* Demo/test tool: the translator's rules backwards (cmd_oldify.c). */
int qsnapfix_cmd_oldify(int argc, char **argv);
int qsnapfix_cmd_relay(int argc, char **argv);

/* qsnapfix --version: version, targets, library versions (version.c). */
void qsnapfix_print_version(FILE *out);

/* The exit code for an error (src/cli/exit_codes.h), from one table. */
int qsnapfix_exit_code(const GError *err);
/* Print "qsnapfix: MESSAGE" on stderr and return the exit code. */
int qsnapfix_report(const GError *err);
void qsnapfix_warn(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* --output= */
typedef enum {
    QSNAPFIX_OUTPUT_HUMAN,
    QSNAPFIX_OUTPUT_JSON,
} QsnapfixOutput;

bool qsnapfix_parse_output(const char *value, QsnapfixOutput *out,
                           GError **errp);

/*
 * Parse options with GOption, our own --help (so that help goes to stdout
 * and exit codes stay ours). Returns -1 to continue, else an exit code.
 */
int qsnapfix_parse_options(GOptionContext *ctx, int *argc, char ***argv,
                           const gboolean *help_requested);

/* qemu-img's human formats (block/qapi.c, util/cutils.c). */
char *qsnapfix_size_to_str(uint64_t bytes);
char *qsnapfix_date_str(uint32_t date_sec);
char *qsnapfix_clock_str(uint64_t vm_clock_nsec);
/* "ID TAG VM SIZE ..." header and one row, as qemu-img snapshot -l. */
void qsnapfix_print_snapshot_header(FILE *out);
void qsnapfix_print_snapshot_row(FILE *out, const Qcow2Snapshot *sn);

/* Write all of buf to fd (path names it in the error). */
bool qsnapfix_write_all(int fd, const void *buf, size_t len, const char *path,
                        GError **errp);
/*
 * Create path complete or not at all: write_fn fills a temporary file
 * beside it (fd; path for messages), which is then (sync: fsync'd,) closed
 * and renamed over path; on failure it is removed.
 */
typedef bool (*QsnapfixFileWriter)(int fd, const char *path, void *opaque,
                                   GError **errp);
bool qsnapfix_write_file_atomic(const char *path, bool sync,
                                QsnapfixFileWriter write_fn, void *opaque,
                                GError **errp);

/* A string safe for JSON/terminals (invalid UTF-8 replaced). */
char *qsnapfix_printable(const char *s);

/* Pretty JSON of a node (consumed) on stdout, newline-terminated. */
void qsnapfix_print_json(JsonNode *root);

/*
 * A new JSON report about one snapshot: its object begun with "filename"
 * (the image) and "snapshot" {id, name}, as extract and splice report it.
 */
JsonBuilder *qsnapfix_json_snapshot_report(const char *image, const char *id,
                                           const char *name);
/* Object members: strings made printable (NULL: null), integers, booleans,
 * and an array of printable strings (NULL: empty). */
void qsnapfix_json_str(JsonBuilder *b, const char *name, const char *value);
void qsnapfix_json_int(JsonBuilder *b, const char *name, int64_t value);
void qsnapfix_json_bool(JsonBuilder *b, const char *name, bool value);
void qsnapfix_json_strings(JsonBuilder *b, const char *name, GPtrArray *a);

#endif
