/*
 * The one place where errors become exit codes (exit_codes.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "exit_codes.h"
#include "guest_inspect.h"
#include "libvirt/savefile.h"
#include "live/pipe.h"
#include "qemu.h"
#include "qcow2.h"
#include "stream/stream.h"
#include "translate/translate.h"

static int qcow2_exit_code(int code)
{
    switch ((Qcow2ErrorCode)code) {
    case QCOW2_ERROR_IO:
        return APP_EXIT_IO;
    case QCOW2_ERROR_NO_SPACE:
        return APP_EXIT_NO_SPACE;
    case QCOW2_ERROR_HEADER:
    case QCOW2_ERROR_EXTENSION:
        return APP_EXIT_BAD_HEADER;
    case QCOW2_ERROR_SNAPSHOT_TABLE:
        return APP_EXIT_BAD_SNAPSHOT_TABLE;
    case QCOW2_ERROR_MAPPING:
    case QCOW2_ERROR_COMPRESSED:
        return APP_EXIT_BAD_MAPPING;
    case QCOW2_ERROR_REFCOUNT:
        return APP_EXIT_BAD_REFCOUNT;
    case QCOW2_ERROR_UNSUPPORTED:
        return APP_EXIT_UNSUPPORTED;
    case QCOW2_ERROR_NEEDS_REPAIR:
    case QCOW2_ERROR_INCONSISTENT:
        return APP_EXIT_NEEDS_REPAIR;
    case QCOW2_ERROR_CANCELLED:
        return APP_EXIT_INTERRUPTED; /* 128 + SIGINT */
    case QCOW2_ERROR_IN_USE:
        return APP_EXIT_IN_USE;
    case QCOW2_ERROR_NOT_FOUND:
        return APP_EXIT_NOT_FOUND;
    case QCOW2_ERROR_INVALID:
        return APP_EXIT_INTERNAL; /* the program misused the library */
    }
    return APP_EXIT_INTERNAL;
}

static int stream_exit_code(int code)
{
    switch ((VmsErrorCode)code) {
    case VMS_ERROR_IO:
        return APP_EXIT_IO;
    case VMS_ERROR_NOT_FOUND:
        return APP_EXIT_NOT_FOUND;
    case VMS_ERROR_INVALID:
        return APP_EXIT_INTERNAL;
    default:
        return APP_EXIT_BAD_STREAM; /* the bytes are not a stream */
    }
}

static int savefile_exit_code(int code)
{
    switch ((LvSaveErrorCode)code) {
    case LVSAVE_ERROR_NOT_SAVE_IMAGE:
        return APP_EXIT_BAD_STREAM;
    case LVSAVE_ERROR_PARTIAL:
    case LVSAVE_ERROR_UNSUPPORTED:
    case LVSAVE_ERROR_TOO_LARGE:
        return APP_EXIT_UNSUPPORTED;
    case LVSAVE_ERROR_BAD_HEADER:
    case LVSAVE_ERROR_TRUNCATED:
        return APP_EXIT_BAD_HEADER;
    }
    return APP_EXIT_INTERNAL;
}

G_DEFINE_QUARK(qsnapfix - app - request - error - quark, app_request_error)

int app_exit_code(const GError *err)
{
    if (!err) {
        return APP_EXIT_OK;
    }
    if (err->domain == QCOW2_ERROR) {
        return qcow2_exit_code(err->code);
    }
    if (err->domain == VMS_ERROR) {
        return stream_exit_code(err->code);
    }
    if (err->domain == TR_ERROR) {
        /* a refusal is REFUSED, a shape the operation does not handle
         * UNSUPPORTED; anything else means our own result did not
         * hold up (a verification or composition failure): a bug */
        switch (err->code) {
        case TR_ERROR_REFUSED:
            return APP_EXIT_REFUSED;
        case TR_ERROR_UNSUPPORTED:
            return APP_EXIT_UNSUPPORTED;
        default:
            return APP_EXIT_INTERNAL;
        }
    }
    if (err->domain == LIVE_ERROR) {
        /* in flight: a refusal, a decision the stream cannot wait for, or
         * device state that disagrees with the recipe sent at the head */
        return APP_EXIT_REFUSED;
    }
    if (err->domain == LVSAVE_ERROR) {
        return savefile_exit_code(err->code);
    }
    if (err->domain == APP_REQUEST_ERROR) {
        return APP_EXIT_AMBIGUOUS;
    }
    if (err->domain == APP_GUEST_ERROR) {
        /* no libguestfs; or it could not read the disk */
        return err->code == APP_GUEST_ERROR_FAILED ? APP_EXIT_IO
                                                   : APP_EXIT_MISSING_TOOL;
    }
    if (err->domain == G_OPTION_ERROR) {
        return APP_EXIT_USAGE;
    }
    if (err->domain == APP_QEMU_ERROR) {
        /* the target QEMU could not be run or profiled here */
        return APP_EXIT_NOT_PROVEN;
    }
    if (err->domain == G_FILE_ERROR) {
        return err->code == G_FILE_ERROR_NOSPC ? APP_EXIT_NO_SPACE
                                               : APP_EXIT_IO;
    }
    return APP_EXIT_INTERNAL;
}

int app_exit_code_of_failures(const GArray *codes, gboolean all_failed)
{
    int code = -1;

    for (guint i = 0; i < codes->len; i++) {
        int c = g_array_index(codes, int, i);
        code = code < 0 || code == c ? c : APP_EXIT_PARTIAL;
    }
    if (code < 0) {
        return APP_EXIT_OK;
    }
    return all_failed ? code : APP_EXIT_PARTIAL;
}
