/*
 * qsnapfix: command dispatch.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "exit_codes.h"

static void print_usage(FILE *out)
{
    fputs("usage: qsnapfix COMMAND [OPTIONS] ...\n"
          "\n"
          "Commands:\n"
          "  inspect IMAGE       show the header and the snapshots\n"
          "  extract IMAGE       write a snapshot's raw VM state to a file\n"
          "\n"
          "Run 'qsnapfix COMMAND --help' for a command's options.\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return QSNAPFIX_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        print_usage(stdout);
        return QSNAPFIX_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("qsnapfix %s\n", QSNAPFIX_VERSION);
        return QSNAPFIX_EXIT_OK;
    }
    fprintf(stderr, "qsnapfix: unknown command '%s'\n", argv[1]);
    print_usage(stderr);
    return QSNAPFIX_EXIT_USAGE;
}
