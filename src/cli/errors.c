/*
 * The one place where errors become exit codes. Every library error
 * domain that reaches the program is listed here; anything else is a
 * file error (reading/writing a file we were given) or a bug.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>

#include "cli.h"
#include "exit_codes.h"
#include "stream/stream.h"
#include "translate/translate.h"

static int qcow2_exit_code(int code)
{
    switch ((Qcow2ErrorCode)code) {
    case QCOW2_ERROR_IO:
        return QSNAPFIX_EXIT_IO;
    case QCOW2_ERROR_NO_SPACE:
        return QSNAPFIX_EXIT_NO_SPACE;
    case QCOW2_ERROR_HEADER:
    case QCOW2_ERROR_EXTENSION:
        return QSNAPFIX_EXIT_BAD_HEADER;
    case QCOW2_ERROR_SNAPSHOT_TABLE:
        return QSNAPFIX_EXIT_BAD_SNAPSHOT_TABLE;
    case QCOW2_ERROR_MAPPING:
    case QCOW2_ERROR_COMPRESSED:
        return QSNAPFIX_EXIT_BAD_MAPPING;
    case QCOW2_ERROR_REFCOUNT:
        return QSNAPFIX_EXIT_BAD_REFCOUNT;
    case QCOW2_ERROR_UNSUPPORTED:
        return QSNAPFIX_EXIT_UNSUPPORTED;
    case QCOW2_ERROR_NEEDS_REPAIR:
    case QCOW2_ERROR_INCONSISTENT:
        return QSNAPFIX_EXIT_NEEDS_REPAIR;
    case QCOW2_ERROR_CANCELLED:
        return QSNAPFIX_EXIT_INTERRUPTED; /* 128 + SIGINT */
    case QCOW2_ERROR_IN_USE:
        return QSNAPFIX_EXIT_IN_USE;
    case QCOW2_ERROR_NOT_FOUND:
        return QSNAPFIX_EXIT_NOT_FOUND;
    case QCOW2_ERROR_INVALID:
        return QSNAPFIX_EXIT_INTERNAL; /* the program misused the library */
    }
    return QSNAPFIX_EXIT_INTERNAL;
}

static int stream_exit_code(int code)
{
    switch ((VmsErrorCode)code) {
    case VMS_ERROR_IO:
        return QSNAPFIX_EXIT_IO;
    case VMS_ERROR_NOT_FOUND:
        return QSNAPFIX_EXIT_NOT_FOUND;
    case VMS_ERROR_INVALID:
        return QSNAPFIX_EXIT_INTERNAL;
    default:
        return QSNAPFIX_EXIT_BAD_STREAM; /* the bytes are not a stream */
    }
}

int qsnapfix_exit_code(const GError *err)
{
    if (!err) {
        return QSNAPFIX_EXIT_OK;
    }
    if (err->domain == QCOW2_ERROR) {
        return qcow2_exit_code(err->code);
    }
    if (err->domain == VMS_ERROR) {
        return stream_exit_code(err->code);
    }
    if (err->domain == TR_ERROR) {
        /* a refusal is REFUSED; anything else means our own result did not
         * hold up (a verification or composition failure): a bug */
        return err->code == TR_ERROR_REFUSED ? QSNAPFIX_EXIT_REFUSED
                                             : QSNAPFIX_EXIT_INTERNAL;
    }
    if (err->domain == G_OPTION_ERROR) {
        return QSNAPFIX_EXIT_USAGE;
    }
    if (err->domain == G_FILE_ERROR) {
        return err->code == G_FILE_ERROR_NOSPC ? QSNAPFIX_EXIT_NO_SPACE
                                               : QSNAPFIX_EXIT_IO;
    }
    return QSNAPFIX_EXIT_INTERNAL;
}

int qsnapfix_report(const GError *err)
{
    fprintf(stderr, "qsnapfix: %s\n", err->message);
    return qsnapfix_exit_code(err);
}

void qsnapfix_warn(const char *fmt, ...)
{
    va_list ap;

    fputs("qsnapfix: warning: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
