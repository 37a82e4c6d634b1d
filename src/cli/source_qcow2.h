/*
 * A qcow2 snapshot's VM state as a stream byte source.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QSNAPFIX_SOURCE_QCOW2_H
#define QSNAPFIX_SOURCE_QCOW2_H

#include "qcow2.h"
#include "stream/source.h"

/*
 * Reads go through qcow2_read_vmstate(); img and sn must outlive the
 * source. Named 'IMAGE: snapshot ID "NAME"' in messages. NOT_FOUND (in the
 * QCOW2_ERROR domain) if the snapshot has no VM state.
 */
VmsSource *qsnapfix_source_qcow2(Qcow2Image *img, const Qcow2Snapshot *sn,
                                 GError **errp);

#endif
