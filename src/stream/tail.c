/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "parser.h"

VmsStream *vms_parse_tail(VmsSource *src, const VmsParseOptions *opts,
                          GError **errp)
{
    (void)src;
    (void)opts;
    g_set_error(errp, VMS_ERROR, VMS_ERROR_INVALID, "tail path: todo");
    return NULL;
}
