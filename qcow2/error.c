/*
 * Error domain and the one-line message format shared by the library:
 *   "IMAGE: STRUCTURE at 0xOFFSET: WHAT"
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>

#include "qcow2-internal.h"

G_DEFINE_QUARK(qcow2 - error - quark, qcow2_error)

static void set_error_va(GError **errp, const char *name, Qcow2ErrorCode code,
                         const char *structure, uint64_t offset,
                         const char *fmt, va_list ap)
{
    g_autofree char *what = NULL;

    if (!errp) {
        return;
    }
    what = g_strdup_vprintf(fmt, ap);
    if (structure) {
        g_set_error(errp, QCOW2_ERROR, code, "%s: %s at 0x%" PRIx64 ": %s",
                    name, structure, offset, what);
    } else {
        g_set_error(errp, QCOW2_ERROR, code, "%s: %s", name, what);
    }
}

void qcow2_error(GError **errp, const Qcow2Image *img, Qcow2ErrorCode code,
                 const char *structure, uint64_t offset, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    set_error_va(errp, img->name, code, structure, offset, fmt, ap);
    va_end(ap);
}

void qcow2_error_named(GError **errp, const char *name, Qcow2ErrorCode code,
                       const char *structure, uint64_t offset, const char *fmt,
                       ...)
{
    va_list ap;

    va_start(ap, fmt);
    set_error_va(errp, name, code, structure, offset, fmt, ap);
    va_end(ap);
}
