/*
 * A Qcow2IO for tests that fails on purpose: it stops after the N-th
 * write as a crashing process would, or as a power loss would (writes not
 * yet flushed are then dropped, kept, or torn sector by sector, chosen
 * by a seeded random generator), or it fails one write with EIO or
 * ENOSPC, or one flush with EIO, or it asks the library to stop after
 * the N-th write (as a SIGINT handler would). In count mode it fails nothing
 * and only counts, so a test learns how many write points there are.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef FAULTIO_H
#define FAULTIO_H

#include "qcow2.h"

typedef enum {
    FAULT_COUNT,     /* no fault */
    FAULT_CRASH,     /* after write N, nothing more reaches the file */
    FAULT_POWER,     /* as crash, then unflushed writes dropped or torn */
    FAULT_EIO,       /* write N fails with EIO, nothing written */
    FAULT_ENOSPC,    /* write N writes part of its bytes, then ENOSPC */
    FAULT_FLUSH_EIO, /* flush N fails with EIO */
    FAULT_CANCEL,    /* write N succeeds and sets the cancel flag */
} FaultMode;

typedef struct FaultStats {
    uint64_t writes;  /* writes that reached the file (or were issued) */
    uint64_t flushes; /* flushes that succeeded */
    bool fired;       /* the fault happened */
    /* power loss: unflushed writes at the stop, and what became of them */
    uint64_t lost_writes, torn_writes, kept_writes;
} FaultStats;

/* Open path read-write; the returned I/O belongs to the caller until
 * handed to qcow2_open_io. */
Qcow2IO *fault_io_open(const char *path, FaultMode mode, uint64_t n,
                       uint32_t seed, GError **errp);
/* For power mode: apply the loss to the file now (call once, after the
 * library gave up). Counts what happened in stats. */
bool fault_io_power_loss(Qcow2IO *io, GError **errp);
const FaultStats *fault_io_stats(Qcow2IO *io);
/* The flag FAULT_CANCEL sets (what a SIGINT handler would set). */
void fault_io_set_cancel_flag(Qcow2IO *io, volatile sig_atomic_t *flag);
bool fault_mode_parse(const char *s, FaultMode *mode);

#endif
