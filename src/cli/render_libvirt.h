/*
 * The recipe's libvirt XML is built with the JSON reports (app/report.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QSNAPFIX_RENDER_LIBVIRT_H
#define QSNAPFIX_RENDER_LIBVIRT_H

#include "app/report.h"

#define qsnapfix_libvirt_xml app_libvirt_xml

#endif
