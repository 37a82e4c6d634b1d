/*
 * Cross-checking a parse against the stream's own VMDESCRIPTION trailer
 * (QEMU >= 2.3 writes one: every device section with the size of every
 * field it wrote).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VMS_VMDESC_H
#define VMS_VMDESC_H

#include "stream.h"

G_BEGIN_DECLS

typedef struct VmsVmdescCheck {
    guint devices;     /* device sections compared */
    guint subsections; /* subsections compared */
    uint64_t bytes;    /* payload bytes accounted for */
    guint opaque;      /* devices QEMU describes as one opaque field
                          (old-style, virtio): length compared only */
} VmsVmdescCheck;

/*
 * The FULL sections of s, in order, must be the vmdesc's devices (idstr,
 * instance, version), each payload as long as its fields add up to, every
 * field QEMU describes (nested structs, array elements and subsections
 * included) starting where a field of our layout starts, with the same
 * subsections. NOT_FOUND if the stream has no vmdesc; BAD_PAYLOAD naming
 * the first difference otherwise.
 */
bool vms_stream_check_vmdesc(const VmsStream *s, VmsVmdescCheck *out,
                             GError **errp);

/*
 * The record that a stream QEMU wrote was framed again by qsnapfix: a
 * stream with a VM description whose CONFIGURATION record qsnapfix wrote
 * (for a machine type its writer did not run) says so in the description,
 * a member QEMU's loader and its analysis script ignore:
 * {"qsnapfix-framed-for": "pc-i440fx-2.4", ...}. The JSON with the
 * member set (g_free), and the machine it names (g_free; NULL: none).
 */
char *vms_vmdesc_mark_framed(const char *json, const char *machine);
char *vms_vmdesc_framed_for(const char *json);

G_END_DECLS

#endif
