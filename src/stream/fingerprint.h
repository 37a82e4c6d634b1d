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
    /*
     * The stream is not as its writer left it: its markers disagree (one
     * says QEMU >= 1.3, another <= 1.2), as after qsnapfix translated a
     * qemu-kvm stream. program and version are then the original
     * writer's, from the markers a translation leaves alone; and
     * translated_for the machine it was translated for, as the framing
     * shows ("pc-i440fx-2.4", or "a machine type before 2.4").
     */
    bool translated;
    char *translated_for;
    const char *accel;        /* "kvm" or "tcg" */
    char *machine;            /* exact machine type (CONFIGURATION), or NULL */
    GPtrArray *machine_hints; /* char *: what the stream says about it */
    GPtrArray *evidence;      /* char *: one sentence per finding */
} VmsWriterInfo;

VmsWriterInfo *vms_fingerprint(const VmsStream *s);
/* "qemu-kvm 1.0", "qemu >=2.3", "qemu-kvm 1.0, translated for -M
 * pc-i440fx-2.4" (without the accelerator). */
char *vms_writer_describe(const VmsWriterInfo *w);
void vms_writer_info_free(VmsWriterInfo *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmsWriterInfo, vms_writer_info_free)

G_END_DECLS

#endif
