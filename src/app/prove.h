/*
 * Prove that a VM state loads in the target QEMU, without running the
 * guest and without writing anything of the user's:
 *
 *   source --analyse--> rules: edits + recipe (as fix --dry-run)
 *   recipe files (ROM/BIOS/flash) into a private directory
 *   QEMU: -S, the recipe's machine/accelerator/settings, the VM's own
 *         options made safe (vm_args.h), -incoming fd:0
 *   the stream, with the fix's edits applied on the fly (or as it is),
 *         written into QEMU's standard input
 *   QMP query-status until the load ends: "paused" = it loaded; QEMU
 *         exiting = it did not (its error is reported); then quit.
 *
 * The disks are read through -snapshot (or replaced by null nodes), so
 * the image and everything the VM's options name stay as they were; the
 * proof answers "does what fix writes (or what the snapshot holds now)
 * load in this QEMU with this recipe?". It is much faster than resuming
 * the guest and watching it: a load of a 128 MiB guest takes a second or
 * two.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_PROVE_H
#define APP_PROVE_H

#include "io.h"
#include "options.h"
#include "outcome.h"
#include "qemu.h"

typedef enum {
    APP_PROOF_LOADS,    /* QEMU loaded it and stands paused */
    APP_PROOF_FAILS,    /* QEMU refused it (error given) */
    APP_PROOF_REFUSED,  /* the rules refuse it: nothing to load */
    APP_PROOF_UNPROVEN, /* it cannot be tried here (no KVM, ...) */
    APP_PROOF_ERROR,    /* the VM state could not be read or analysed */
} AppProofStatus;

const char *app_proof_status_name(AppProofStatus s); /* "loads", ... */

typedef struct AppProveOptions {
    AppQemu *qemu;              /* the target's binary */
    const char *const *vm_args; /* the VM's own options; may be NULL */
    bool as_is;                 /* load the stream without the fix's edits */
    double timeout;             /* seconds for the load; 0: by size */
} AppProveOptions;

typedef struct AppProof {
    AppProofStatus status;
    AppOutcome *outcome; /* the rules' analysis: writer, result, error */
    bool edited;         /* the stream loaded had the fix's edits */
    char *qemu_version;  /* its -version line */
    GPtrArray *argv;     /* char *: the QEMU command line run */
    GPtrArray *vm_notes; /* char *: what was done to the VM's options */
    char *reason;        /* FAILS: QEMU's error; UNPROVEN: why */
    char *run_state;     /* query-status after the load ("paused") */
    GPtrArray *expected; /* char *: the recipe's expected warnings seen */
    GPtrArray *other;    /* char *: anything else QEMU printed */
    double seconds;      /* from QEMU's start to the end of the load */
    uint64_t bytes;      /* stream bytes handed to QEMU */
} AppProof;

AppProof *app_proof_new(const char *id, const char *name);
void app_proof_free(AppProof *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AppProof, app_proof_free)

/* Prove one VM state (o: the rules' options; its rom_dir is ignored). */
void app_prove(AppSource *source, const AppOptions *o,
               const AppProveOptions *po, AppProof *out);

/*
 * Prove the snapshots of a qcow2 image (picked as fix picks them), or a
 * stream file (snapshot and all ignored): AppProof * in order. NULL with
 * errp when the image cannot be opened or nothing is picked.
 */
GPtrArray *app_prove_path(const char *path, const char *snapshot, bool all,
                          const AppOptions *o, const AppProveOptions *po,
                          GError **errp);

/* 0 loads, 19 does not load, 4 refused, 20 not proven, else the error's;
 * several: as app_outcomes_exit_code() combines them; none: 0. */
int app_proof_exit_code(const AppProof *p);
int app_proofs_exit_code(AppProof *const *proofs, guint n);

/* Is q the target's release (e.g. 7.2.x for qemu-7.2)? A proof in
 * another release proves nothing about the target. */
bool app_prove_qemu_is_target(AppQemu *q, const TrTarget *t, GError **errp);

#endif
