/*
 * Exit codes of the qsnapfix program, and the one table that turns an
 * error into one (exit.c). Documented in qsnapfix(1), EXIT STATUS, and
 * README.md ("Exit codes"); scripts rely on them, so never renumber or
 * reuse a number. Outcomes map to them through outcome.h and scan.h,
 * which use this table for their errors.
 *
 * Made for loops over images: success is 0 whether something was done or
 * nothing needed doing (the JSON report says which: "changed"); a code
 * above 0 means this image needs a look.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_EXIT_CODES_H
#define APP_EXIT_CODES_H

#include <glib.h>

enum {
    APP_EXIT_OK = 0,    /* done, or nothing to do (already loads, no VM
                           state): the report says which */
    APP_EXIT_USAGE = 2, /* bad command line */
    /* 3 was "nothing to do" until 0.1.0; now 0. Not given, not reused. */
    APP_EXIT_REFUSED = 4,      /* fix: would lose data; reason given */
    APP_EXIT_IO = 5,           /* a file could not be read/written */
    APP_EXIT_IN_USE = 6,       /* image locked by a running QEMU */
    APP_EXIT_NEEDS_REPAIR = 7, /* dirty/corrupt bit: run qemu-img check */
    APP_EXIT_UNSUPPORTED = 8,  /* image feature qsnapfix cannot handle */
    APP_EXIT_NOT_FOUND = 9,    /* no such snapshot / no VM state */
    APP_EXIT_BAD_HEADER = 10,  /* malformed qcow2 header or extension */
    APP_EXIT_BAD_SNAPSHOT_TABLE = 11,
    APP_EXIT_BAD_MAPPING = 12,   /* malformed L1/L2 or compressed data */
    APP_EXIT_BAD_REFCOUNT = 13,  /* malformed refcount structures */
    APP_EXIT_BAD_STREAM = 14,    /* the VM state does not parse */
    APP_EXIT_PARTIAL = 15,       /* several snapshots: some failed */
    APP_EXIT_NO_SPACE = 16,      /* ENOSPC while writing */
    APP_EXIT_NEEDS_FIX = 17,     /* scan: some snapshots need fixing */
    APP_EXIT_MISSING_TOOL = 18,  /* an option needs what is not installed */
    APP_EXIT_DOES_NOT_LOAD = 19, /* prove: the target QEMU refused it */
    APP_EXIT_NOT_PROVEN = 20,    /* prove, --target=auto: the target QEMU
                                    cannot be used here (no such QEMU,
                                    another release, no KVM) */
    APP_EXIT_AMBIGUOUS = 21,     /* fix: several snapshots hold VM state and
                                    none was named (--snapshot or --all) */
    APP_EXIT_INTERNAL = 70,      /* a bug in qsnapfix */
    APP_EXIT_INTERRUPTED = 130,  /* SIGINT (SIGTERM: 143); the image intact */
};

/*
 * The exit code for an error: every library error domain that reaches the
 * program is listed; G_OPTION_ERROR is a bad command line (or argument),
 * G_FILE_ERROR a file we were given; anything else is a bug.
 */
int app_exit_code(const GError *err);
/*
 * Several items' code from their failures' codes (int): 0 when none
 * failed; the failures' code when every item failed (all_failed) and
 * alike; else 15.
 */
int app_exit_code_of_failures(const GArray *codes, gboolean all_failed);

/* What was asked for does not pick one thing (-> APP_EXIT_AMBIGUOUS). */
#define APP_REQUEST_ERROR (app_request_error_quark())
GQuark app_request_error_quark(void);
typedef enum {
    APP_REQUEST_AMBIGUOUS,
} AppRequestError;

#endif
