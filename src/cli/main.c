/*
 * qsnapfix: command dispatch.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct Command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary; /* NULL: not listed (expert tools, see qsnapfix(1)) */
} Command;

static const Command commands[] = {
    {"scan", qsnapfix_cmd_scan,
     "dry run over image stores: what each snapshot needs (reads only)"},
    {"inspect", qsnapfix_cmd_inspect,
     "show the header, the snapshots and where their VM state lives"},
    {"extract", qsnapfix_cmd_extract,
     "write a snapshot's raw VM state to a file"},
    {"fix", qsnapfix_cmd_fix,
     "make snapshots' VM state load in today's QEMU (rewrites the image)"},
    {"translate", qsnapfix_cmd_translate,
     "the same on a raw migration stream file: translate IN OUT"},
    {"relay", qsnapfix_cmd_relay,
     "translate a live migration between two QEMUs (TCP)"},
    {"undo", qsnapfix_cmd_undo,
     "give fixed snapshots their kept original VM state back"},
    {"drop-originals", qsnapfix_cmd_drop_originals,
     "release the originals fixes kept, once guests resume"},
    {"prove", qsnapfix_cmd_prove,
     "load a snapshot in the target QEMU, paused, and tell if it loads"},
    {"splice", qsnapfix_cmd_splice, NULL},
    {"oldify", qsnapfix_cmd_oldify, NULL},
};

static void print_usage(FILE *out)
{
    fputs("usage: qsnapfix COMMAND [OPTIONS] ...\n"
          "       qsnapfix help COMMAND\n"
          "       qsnapfix --version\n\nCommands:\n",
          out);
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (commands[i].summary) {
            fprintf(out, "  %-16s %s\n", commands[i].name, commands[i].summary);
        }
    }
    fputs("\nOptions:\n"
          "  -h, --help     Show this help\n"
          "  -V, --version  Show the version, the targets and the libraries\n"
          "\n'qsnapfix help COMMAND' (or 'qsnapfix COMMAND --help') shows a\n"
          "command's options and exit codes; 'man qsnapfix-COMMAND' adds its\n"
          "JSON fields and examples.\n",
          out);
}

static const Command *find_command(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (!strcmp(name, commands[i].name)) {
            return &commands[i];
        }
    }
    return NULL;
}

/* qsnapfix help COMMAND: the same as qsnapfix COMMAND --help. */
static int run_help(int argc, char **argv)
{
    const Command *cmd;
    char *help_argv[] = {NULL, "--help", NULL};

    if (argc < 3) {
        print_usage(stdout);
        return APP_EXIT_OK;
    }
    cmd = find_command(argv[2]);
    if (!cmd || argc > 3) {
        fprintf(stderr, "qsnapfix: help: %s '%s' (see qsnapfix --help)\n",
                cmd ? "one command at a time, not" : "unknown command",
                cmd ? argv[3] : argv[2]);
        return APP_EXIT_USAGE;
    }
    help_argv[0] = (char *)cmd->name;
    return cmd->run(2, help_argv);
}

int main(int argc, char **argv)
{
    const Command *cmd;

    if (argc < 2) {
        print_usage(stderr);
        return APP_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        print_usage(stdout);
        return APP_EXIT_OK;
    }
    if (!strcmp(argv[1], "help")) {
        return run_help(argc, argv);
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        qsnapfix_print_version(stdout);
        return APP_EXIT_OK;
    }
    cmd = find_command(argv[1]);
    if (cmd) {
        return cmd->run(argc - 1, argv + 1);
    }
    fprintf(stderr, "qsnapfix: unknown command '%s'\n", argv[1]);
    print_usage(stderr);
    return APP_EXIT_USAGE;
}
