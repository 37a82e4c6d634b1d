/*
 * Which guest is in an image: the operating system, distribution, version,
 * hostname, architecture and root filesystem that libguestfs's inspection
 * finds on the image's disk (what virt-inspector reports), read-only.
 *
 * libguestfs boots a small appliance (a Linux kernel under QEMU) to read
 * the guest's filesystems, so an inspection costs seconds (with KVM) to a
 * minute (TCG), and the library is an optional run-time dependency: it is
 * loaded with dlopen() by app_guestfs_load() only when a command asks for
 * it, so qsnapfix neither links against it nor pays for it at start-up.
 *
 * Read-only: the image is added to the appliance with readonly=1 and
 * format=qcow2, which makes libguestfs put a throw-away qcow2 overlay over
 * it (writes go there) and open the image itself without QEMU's locks
 * (file.backing.file.locking=off), so an image a running QEMU holds can be
 * inspected: what is seen is the disk as last flushed, which may be
 * inconsistent while the guest writes. Nothing takes a lock on the image.
 *
 * A snapshot's disk: QEMU's -drive cannot open a qcow2 internal snapshot,
 * but qemu-nbd can (--load-snapshot, read-only, here without locks:
 * file.locking=off); the snapshot's disk is exported on a private Unix
 * socket and libguestfs reads it over NBD, again through its overlay.
 *
 * No printing here: results are plain data, failures are GErrors.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef APP_GUEST_INSPECT_H
#define APP_GUEST_INSPECT_H

#include <glib.h>

#define APP_GUEST_ERROR (app_guest_error_quark())
GQuark app_guest_error_quark(void);

typedef enum {
    APP_GUEST_ERROR_NOT_INSTALLED, /* no libguestfs.so.0 (install libguestfs0)
                                    */
    APP_GUEST_ERROR_NOT_BUILT,     /* built without libguestfs's header */
    APP_GUEST_ERROR_FAILED,        /* libguestfs (or qemu-nbd) failed */
} AppGuestError;

/* The loaded library: the functions we call, resolved by name. */
typedef struct AppGuestfs AppGuestfs;

/* Load libguestfs.so.0; NULL with APP_GUEST_ERROR_NOT_INSTALLED when it is
 * missing or lacks a function we need. */
AppGuestfs *app_guestfs_load(GError **error);
void app_guestfs_unload(AppGuestfs *lib);

/* One operating system found (virt-inspector's <operatingsystem>). The
 * strings are libguestfs's: "unknown" where it could not tell. */
typedef struct AppGuestOs {
    char *root;         /* root filesystem's device, e.g. "/dev/sda1" */
    char *type;         /* "linux", "windows", "freebsd", ... */
    char *distro;       /* "debian", "ubuntu", "fedora", "rhel", ... */
    char *product_name; /* "Debian GNU/Linux 12 (bookworm)" */
    int major_version;
    int minor_version;
    char *hostname;
    char *arch; /* "x86_64", "i386", ... */
} AppGuestOs;

typedef struct AppGuest {
    char *snapshot; /* the snapshot whose disk was read; NULL: active disk */
    GPtrArray *os;  /* AppGuestOs *; empty: no operating system found */
} AppGuest;

/*
 * Inspect the qcow2 image at path, read-only: its active disk (snapshot
 * NULL) or the disk of its internal snapshot with that name (needs
 * qemu-nbd). Takes seconds to a minute: it starts and stops an appliance.
 * Safe to call from several threads at once, one image each.
 */
AppGuest *app_guest_inspect(const AppGuestfs *lib, const char *path,
                            const char *snapshot, GError **error);
void app_guest_free(AppGuest *g);

#endif
