/*
 * Exit codes of the qsnapfix program. Documented in docs/man/qsnapfix.1
 * (EXIT STATUS; tests/package checks every code is there) and README.md ("Exit
 * codes"); scripts rely on them, so never renumber.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QSNAPFIX_EXIT_CODES_H
#define QSNAPFIX_EXIT_CODES_H

enum {
    QSNAPFIX_EXIT_OK = 0,            /* done (fix: the snapshot was fixed) */
    QSNAPFIX_EXIT_USAGE = 2,         /* bad command line */
    QSNAPFIX_EXIT_NOTHING_TO_DO = 3, /* fix: already compatible */
    QSNAPFIX_EXIT_REFUSED = 4,       /* fix: would lose data; reason given */
    QSNAPFIX_EXIT_IO = 5,            /* a file could not be read/written */
    QSNAPFIX_EXIT_IN_USE = 6,        /* image locked by a running QEMU */
    QSNAPFIX_EXIT_NEEDS_REPAIR = 7,  /* dirty/corrupt bit: run qemu-img check */
    QSNAPFIX_EXIT_UNSUPPORTED = 8,   /* image feature qsnapfix cannot handle */
    QSNAPFIX_EXIT_NOT_FOUND = 9,     /* no such snapshot / no VM state */
    QSNAPFIX_EXIT_BAD_HEADER = 10,   /* malformed qcow2 header or extension */
    QSNAPFIX_EXIT_BAD_SNAPSHOT_TABLE = 11,
    QSNAPFIX_EXIT_BAD_MAPPING = 12,  /* malformed L1/L2 or compressed data */
    QSNAPFIX_EXIT_BAD_REFCOUNT = 13, /* malformed refcount structures */
    QSNAPFIX_EXIT_BAD_STREAM = 14,   /* the VM state does not parse */
    QSNAPFIX_EXIT_PARTIAL = 15,      /* several snapshots: some failed */
    QSNAPFIX_EXIT_NO_SPACE = 16,     /* ENOSPC while writing */
    QSNAPFIX_EXIT_NEEDS_FIX = 17,    /* scan: some snapshots need fixing */
    QSNAPFIX_EXIT_INTERNAL = 70,     /* a bug in qsnapfix */
};

#endif
