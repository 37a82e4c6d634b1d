/*
 * Running a target QEMU, for `prove` and for profiling a binary
 * (--target=auto, --qemu): the only place qsnapfix starts QEMU.
 *
 * An AppQemu is the command that runs a qemu-system-x86_64: a path, or a
 * wrapper with its own arguments ("scripts/qemu10 system"). Every run is
 * paused (-S), has no display, QMP on a unix socket in a private temporary
 * directory, a deadline, and is ended by its process id; its output goes
 * to a file in that directory. Nothing here knows what a VM state means.
 *
 *   AppQemu *q = app_qemu_new("qemu-system-x86_64", &err);
 *   AppVm *vm = app_vm_start(q, argv, stream_fd, &err);  // -S, QMP added
 *   app_vm_connect(vm, deadline, &err);                  // QMP greeting
 *   QjValue *st = app_vm_qmp(vm, "query-status", NULL, deadline, &err);
 *   app_vm_free(vm);                                     // quit or kill
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_QEMU_H
#define APP_QEMU_H

#include <glib.h>
#include "json/json.h"
#include <stdbool.h>

#define APP_QEMU_ERROR (app_qemu_error_quark())
GQuark app_qemu_error_quark(void);

typedef enum {
    APP_QEMU_ERROR_NOT_FOUND = 1, /* no such program */
    APP_QEMU_ERROR_FAILED,        /* it ran and failed (exit, message) */
    APP_QEMU_ERROR_TIMEOUT,       /* the deadline passed */
    APP_QEMU_ERROR_QMP,           /* QMP refused a command or broke */
    APP_QEMU_ERROR_UNUSABLE,      /* cannot be used here (no KVM, ...) */
} AppQemuErrorCode;

typedef struct AppQemu AppQemu;

/*
 * command: a shell-quoted command line (a program and maybe arguments of
 * a wrapper); NULL: "qemu-system-x86_64" from PATH.
 */
AppQemu *app_qemu_new(const char *command, GError **errp);
void app_qemu_free(AppQemu *q);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AppQemu, app_qemu_free)

/* The command as given, split into words. */
const char *const *app_qemu_command(const AppQemu *q);
/* The program file the command runs (absolute path). */
const char *app_qemu_program(const AppQemu *q);
/* The first line of -version (asked once), or NULL with errp set. */
const char *app_qemu_version(AppQemu *q, GError **errp);
/* "QEMU emulator version 7.2.22 (...)" -> 7002; 0 if unreadable. */
unsigned app_qemu_version_number(const char *line);
/* "7.2.22" out of the version line, or NULL (g_free). */
char *app_qemu_version_short(const char *line);

/*
 * Run the command with args to completion (not a VM: -version, -M help,
 * -dump-vmstate), standard input /dev/null; out and err may be NULL.
 * Fails (APP_QEMU_ERROR_FAILED, with its standard error) on a non-zero
 * exit, or on the deadline (seconds).
 */
bool app_qemu_run(AppQemu *q, const char *const *args, double timeout,
                  char **out, char **err, GError **errp);

/* Remove a private directory and what is in it. */
void app_remove_dir(const char *dir);

/* Is /dev/kvm usable by this process (opened read-write)? Else why. */
bool app_kvm_usable(char **why);

/* ---- a running VM ------------------------------------------------------ */

typedef struct AppVm AppVm;

/*
 * Start the command with args, -S, -display none, -monitor none and QMP
 * on a socket of its own directory added; standard input is stdin_fd
 * (the stream of -incoming fd:0) or /dev/null (-1); standard output and
 * error go to a file read by app_vm_output(). Takes nothing: stdin_fd
 * stays the caller's (close it after the start to see the end).
 */
AppVm *app_vm_start(AppQemu *q, const char *const *args, int stdin_fd,
                    GError **errp);
/* Stop it (QMP quit, then SIGKILL after a grace period), remove its
 * directory. */
void app_vm_free(AppVm *vm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AppVm, app_vm_free)

/* The VM's private directory (for files it needs). */
const char *app_vm_dir(const AppVm *vm);
/*
 * Wait until QMP answers (capabilities negotiated), QEMU exits or the
 * deadline (g_get_monotonic_time() microseconds) passes. False with errp:
 * exited (APP_QEMU_ERROR_FAILED, its output) or timeout.
 */
bool app_vm_connect(AppVm *vm, gint64 deadline, GError **errp);
/*
 * Run a QMP command (arguments: a JSON object text, or NULL) and return
 * its "return" value (qj_free), skipping events. An "error" reply
 * is APP_QEMU_ERROR_QMP with QEMU's description.
 */
QjValue *app_vm_qmp(AppVm *vm, const char *command, const char *arguments,
                    gint64 deadline, GError **errp);
/* Has QEMU exited? (status: its exit status, -1 for a signal) */
bool app_vm_exited(AppVm *vm, int *status);
/* Everything it printed so far. */
char *app_vm_output(const AppVm *vm);

#endif
