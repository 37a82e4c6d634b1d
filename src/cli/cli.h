/*
 * Shared pieces of the qsnapfix commands: the command line (one parser
 * for every command), error messages, human formatting the way qemu-img
 * prints it, JSON output. The work itself is the application layer's
 * (src/app); a command parses, calls it, and renders what it returns.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QSNAPFIX_CLI_H
#define QSNAPFIX_CLI_H

#include <glib.h>
#include <stdio.h>

#include "app/exit_codes.h"
#include "app/report.h"
#include "json/json.h"
#include "qcow2.h"

/* Commands: argv[0] is the command name. */
int qsnapfix_cmd_inspect(int argc, char **argv);
int qsnapfix_cmd_extract(int argc, char **argv);
int qsnapfix_cmd_fix(int argc, char **argv);
int qsnapfix_cmd_translate(int argc, char **argv);
int qsnapfix_cmd_prove(int argc, char **argv);
int qsnapfix_cmd_scan(int argc, char **argv);
int qsnapfix_cmd_undo(int argc, char **argv);
int qsnapfix_cmd_drop_originals(int argc, char **argv);
/* Expert/test tool: apply an edit list to a VM state (cmd_splice.c). */
int qsnapfix_cmd_splice(int argc, char **argv);
/* Demo/test tool: the translator's rules backwards (cmd_oldify.c). */
int qsnapfix_cmd_oldify(int argc, char **argv);
int qsnapfix_cmd_relay(int argc, char **argv);

/* qsnapfix --version: version, targets, library versions (version.c). */
void qsnapfix_print_version(FILE *out);

/* Print "qsnapfix: MESSAGE" on stderr and return the exit code. */
int qsnapfix_report(const GError *err);
void qsnapfix_warn(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* --output= */
typedef enum {
    QSNAPFIX_OUTPUT_HUMAN,
    QSNAPFIX_OUTPUT_JSON,
    QSNAPFIX_OUTPUT_JSONL, /* one object per image, as each completes */
} QsnapfixOutput;

/* ---- the command line ------------------------------------------------- */

typedef struct CliCommand {
    const char *name;           /* "fix": messages, prgname "qsnapfix fix" */
    const char *operands;       /* "IMAGE": usage line and --help */
    guint min_operands;         /* fewer: operands_error */
    guint max_operands;         /* more: operands_error; 0 = no limit */
    const char *operands_error; /* "need exactly one IMAGE" */
    const char *summary;        /* --help: before the options */
    const char *description;    /* --help: after them */
    bool with_output;           /* --output=human|json */
    bool with_jsonl;            /* --output=jsonl as well */
    /* Set by cli_parse(). */
    gboolean help;
    char *output;
    QsnapfixOutput format;
    char **operand; /* NULL-terminated (never NULL after cli_parse) */
} CliCommand;

/*
 * Parse a command line with GOption: the command's own entries, then more
 * (both may be NULL), then --output, --help and the operands; our own
 * --help (to stdout, our exit codes), the output format and the number of
 * operands checked. Returns -1 to go on, else the exit code.
 */
int cli_parse(CliCommand *c, const GOptionEntry *own, const GOptionEntry *more,
              int *argc, char ***argv);
/* "qsnapfix: NAME: MESSAGE (see --help)" (with --output=json also as a
 * report on stdout); returns the usage exit code. */
int cli_usage(const CliCommand *c, const char *message);
void cli_command_clear(CliCommand *c);

/* ---- progress: the line on a terminal (progress.h) ------------------- */

#include "progress.h"

/* ---- human formats ---------------------------------------------------- */

/* qemu-img's human formats (block/qapi.c, util/cutils.c). */
char *qsnapfix_size_to_str(uint64_t bytes);
/* "ID TAG VM SIZE ..." header and one row, as qemu-img snapshot -l. */
void qsnapfix_print_snapshot_header(FILE *out);
void qsnapfix_print_snapshot_row(FILE *out, const Qcow2Snapshot *sn);

/* A string safe for terminals: invalid UTF-8 replaced, control
 * characters as \xNN (JSON strings need none of this: json.h escapes). */
char *qsnapfix_printable(const char *s);
/* "SIGTERM" or "SIGINT": the stop request a fix answered. */
const char *cli_signal_name(int sig);
/* "IMAGE: snapshot ID "NAME"", or IMAGE alone when there is no id (a
 * stream file, a save image); every part printable. */
char *cli_snapshot_label(const char *image, const char *id, const char *name);
/* Who wrote a VM state, with which accelerator ("qemu-kvm 1.0, kvm"). */
char *cli_writer_str(const VmsWriterInfo *w);
/* One finding on one line: INDENT RULE ACTION SUBJECT: TEXT (subject and
 * text printable). */
void cli_print_finding(FILE *out, const char *indent, const TrFinding *f,
                       const char *text);

/* ---- JSON reports: built by app/report.h; a command prints them --------- */

/*
 * A command failed as a whole: its line on stderr, and with --output=json
 * a report on stdout (report, taken, holding what the command knows, e.g.
 * "image"; NULL: a bare one) with "error" and "exit-code". Returns the
 * exit code.
 */
int cli_fail(const CliCommand *c, QjValue *report, const GError *err);

#endif
