/*
 * qsnapfix: command dispatch.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "exit_codes.h"

typedef struct Command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary; /* NULL: not listed (expert tools, see README) */
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
    {"splice", qsnapfix_cmd_splice, NULL},
    {"oldify", qsnapfix_cmd_oldify, NULL},
};

static void print_usage(FILE *out)
{
    fputs("usage: qsnapfix COMMAND [OPTIONS] ...\n\nCommands:\n", out);
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (commands[i].summary) {
            fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
        }
    }
    fputs("\nRun 'qsnapfix COMMAND --help' for a command's options, its JSON\n"
          "fields and exit codes.\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return QSNAPFIX_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        print_usage(stdout);
        return QSNAPFIX_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("qsnapfix %s\n", QSNAPFIX_VERSION);
        return QSNAPFIX_EXIT_OK;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (!strcmp(argv[1], commands[i].name)) {
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "qsnapfix: unknown command '%s'\n", argv[1]);
    print_usage(stderr);
    return QSNAPFIX_EXIT_USAGE;
}
