/*
 * Who wrote a stream: qemu-kvm 0.15, 1.0, 1.1, 1.2 or an upstream QEMU
 * version range; KVM or TCG; machine-type hints. Every conclusion comes
 * with the evidence a user can check in `qsnapfix inspect`
 * (vmstate-reference §5).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VMS_FINGERPRINT_H
#define VMS_FINGERPRINT_H

#include "stream.h"

G_BEGIN_DECLS

typedef struct VmsWriterInfo {
    const char *program; /* "qemu-kvm", "qemu" or "unknown" */
    char *version;       /* "0.15", "1.0", "1.2", ">=4.1", "1.0..1.2", … */
    const char *accel;   /* "kvm" or "tcg" */
    char *machine;       /* exact machine type (CONFIGURATION), or NULL */
    GPtrArray *machine_hints; /* char *: what the stream says about it */
    GPtrArray *evidence;      /* char *: one sentence per finding */
} VmsWriterInfo;

VmsWriterInfo *vms_fingerprint(const VmsStream *s);
void vms_writer_info_free(VmsWriterInfo *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmsWriterInfo, vms_writer_info_free)

G_END_DECLS

#endif
