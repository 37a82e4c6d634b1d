/*
 * Which guest is in an image (guest_inspect.h): libguestfs, loaded at run
 * time. Without libguestfs's header at build time, every call says so.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "guest_inspect.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#ifdef QSNAPFIX_HAVE_GUESTFS_H
#include <guestfs.h>
#endif

G_DEFINE_QUARK(app - guest - error - quark, app_guest_error)

#define LIBGUESTFS_SONAME "libguestfs.so.0"

void app_guest_free(AppGuest *g)
{
    if (!g) {
        return;
    }
    g_free(g->snapshot);
    g_ptr_array_unref(g->os);
    g_free(g);
}

#ifndef QSNAPFIX_HAVE_GUESTFS_H

struct AppGuestfs {
    int unused;
};

AppGuestfs *app_guestfs_load(GError **error)
{
    g_set_error(error, APP_GUEST_ERROR, APP_GUEST_ERROR_NOT_BUILT,
                "this qsnapfix was built without libguestfs's header "
                "(libguestfs-dev): guest inspection is not available");
    return NULL;
}

void app_guestfs_unload(AppGuestfs *lib)
{
    g_free(lib);
}

AppGuest *app_guest_inspect(const AppGuestfs *lib, const char *path,
                            const char *snapshot, GError **error)
{
    app_guestfs_unload(app_guestfs_load(error));
    return NULL;
}

#else

static void guest_os_free(gpointer p)
{
    AppGuestOs *os = p;

    g_free(os->root);
    g_free(os->type);
    g_free(os->distro);
    g_free(os->product_name);
    g_free(os->hostname);
    g_free(os->arch);
    g_free(os);
}

/* Every libguestfs function we call; the types come from its header. */
#define GUESTFS_FUNCTIONS(X)                                                   \
    X(guestfs_create_flags)                                                    \
    X(guestfs_close)                                                           \
    X(guestfs_set_error_handler)                                               \
    X(guestfs_set_event_callback)                                              \
    X(guestfs_add_drive_opts_argv)                                             \
    X(guestfs_launch)                                                          \
    X(guestfs_shutdown)                                                        \
    X(guestfs_inspect_os)                                                      \
    X(guestfs_inspect_get_type)                                                \
    X(guestfs_inspect_get_distro)                                              \
    X(guestfs_inspect_get_product_name)                                        \
    X(guestfs_inspect_get_major_version)                                       \
    X(guestfs_inspect_get_minor_version)                                       \
    X(guestfs_inspect_get_hostname)                                            \
    X(guestfs_inspect_get_arch)

struct AppGuestfs {
    void *dl;
#define DECLARE_FUNCTION(name) __typeof__(name) *name;
    GUESTFS_FUNCTIONS(DECLARE_FUNCTION)
#undef DECLARE_FUNCTION
};

AppGuestfs *app_guestfs_load(GError **error)
{
    AppGuestfs *lib = g_new0(AppGuestfs, 1);

    /* RTLD_NODELETE: libguestfs keeps process-wide state (per-thread error
     * storage, an exit handler); it stays mapped after app_guestfs_unload. */
    lib->dl = dlopen(LIBGUESTFS_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!lib->dl) {
        g_set_error(error, APP_GUEST_ERROR, APP_GUEST_ERROR_NOT_INSTALLED,
                    "guest inspection needs libguestfs (install libguestfs0): "
                    "%s",
                    dlerror());
        g_free(lib);
        return NULL;
    }
#define RESOLVE_FUNCTION(name)                                                 \
    lib->name = (__typeof__(name) *)dlsym(lib->dl, #name);                     \
    if (!lib->name) {                                                          \
        g_set_error(error, APP_GUEST_ERROR, APP_GUEST_ERROR_NOT_INSTALLED,     \
                    "%s has no %s (install libguestfs0 1.38 or later)",        \
                    LIBGUESTFS_SONAME, #name);                                 \
        app_guestfs_unload(lib);                                               \
        return NULL;                                                           \
    }
    GUESTFS_FUNCTIONS(RESOLVE_FUNCTION)
#undef RESOLVE_FUNCTION
    return lib;
}

void app_guestfs_unload(AppGuestfs *lib)
{
    if (!lib) {
        return;
    }
    if (lib->dl) {
        dlclose(lib->dl);
    }
    g_free(lib);
}

/* A handle, the first error it raised and the tail of what its appliance
 * printed (QEMU's own error lines land there). */
typedef struct Handle {
    guestfs_h *g;
    char *first_error;
    GString *console;
} Handle;

#define CONSOLE_TAIL 16384 /* bytes of appliance output kept */

/* libguestfs raises a failed launch's cause before the generic
 * "guestfs_launch failed ..." it leaves as the call's last error: the
 * first error of a handle is the one to report. */
static void keep_first_error(guestfs_h *g, void *opaque, const char *msg)
{
    Handle *h = opaque;

    if (!h->first_error) {
        h->first_error = g_strdup(msg);
    }
}

static void keep_console_tail(guestfs_h *g, void *opaque, uint64_t event,
                              int event_handle, int flags, const char *buf,
                              size_t buf_len, const uint64_t *array,
                              size_t array_len)
{
    Handle *h = opaque;

    g_string_append_len(h->console, buf, (gssize)buf_len);
    if (h->console->len > 2 * CONSOLE_TAIL) {
        g_string_erase(h->console, 0, (gssize)(h->console->len - CONSOLE_TAIL));
    }
}

/* The last line QEMU itself printed ("qemu-system-x86_64: -drive ...:
 * Could not open backing file: ..."), which says why a launch failed
 * where libguestfs only says that it did; or NULL. */
static char *qemu_error_line(const Handle *h)
{
    g_auto(GStrv) lines = g_strsplit(h->console->str, "\n", -1);
    char *found = NULL;

    for (char **l = lines; *l; l++) {
        if (g_str_has_prefix(g_strstrip(*l), "qemu-system")) {
            g_free(found);
            found = g_strdup(*l);
        }
    }
    return found;
}

/* Why a call on the handle failed, as one line: QEMU's words if it said
 * any, else the first line of the handle's first error (the rest is
 * libguestfs's advice to debug, given here in short). */
static void set_guestfs_error(GError **error, const Handle *h, const char *what)
{
    g_autofree char *qemu = h ? qemu_error_line(h) : NULL;
    const char *first = h ? h->first_error : NULL;
    g_autofree char *line = NULL;

    if (qemu) {
        g_set_error(error, APP_GUEST_ERROR, APP_GUEST_ERROR_FAILED,
                    "libguestfs: %s: %s", what, qemu);
        return;
    }
    line = first ? g_strndup(first, strcspn(first, "\n"))
                 : g_strdup(g_strerror(errno));
    g_set_error(error, APP_GUEST_ERROR, APP_GUEST_ERROR_FAILED,
                "libguestfs: %s: %s (LIBGUESTFS_DEBUG=1 shows more)", what,
                g_strstrip(line));
}

/* ---- a snapshot's disk over NBD ----------------------------------------- */

/* qemu-nbd serving one snapshot's disk, read-only, on a private socket. */
typedef struct NbdExport {
    char *dir;    /* private temporary directory: socket and pid file */
    char *socket; /* "unix:DIR/nbd.sock", libguestfs's server string */
    pid_t pid;
} NbdExport;

static void nbd_export_stop(NbdExport *x)
{
    g_autofree char *sock = NULL;
    g_autofree char *pidfile = NULL;

    if (!x->dir) {
        return;
    }
    if (x->pid > 0 && kill(x->pid, SIGTERM) == 0) {
        /* Not our child (qemu-nbd --fork daemonised): wait for it to go. */
        for (int i = 0; i < 500 && kill(x->pid, 0) == 0; i++) {
            g_usleep(10 * 1000);
        }
    }
    sock = g_build_filename(x->dir, "nbd.sock", NULL);
    pidfile = g_build_filename(x->dir, "qemu-nbd.pid", NULL);
    g_unlink(sock);
    g_unlink(pidfile);
    g_rmdir(x->dir);
    g_clear_pointer(&x->dir, g_free);
    g_clear_pointer(&x->socket, g_free);
}

/* qemu's option syntax: a comma inside a value is written twice. */
static char *qemu_opt_escape(const char *value)
{
    g_auto(GStrv) parts = g_strsplit(value, ",", -1);

    return g_strjoinv(",,", parts);
}

static bool nbd_export_start(NbdExport *x, const char *path,
                             const char *snapshot, GError **error)
{
    g_autofree char *sock = NULL;
    g_autofree char *pidfile = NULL;
    g_autofree char *opt_socket = NULL;
    g_autofree char *opt_pidfile = NULL;
    g_autofree char *opt_snapshot = NULL;
    g_autofree char *name = NULL;
    g_autofree char *image_path = NULL;
    g_autofree char *image_opts = NULL;
    g_autofree char *err = NULL;
    g_autofree char *pid_text = NULL;
    int status = 0;

    x->dir = g_dir_make_tmp("qsnapfix-guest-XXXXXX", error);
    if (!x->dir) {
        return false;
    }
    sock = g_build_filename(x->dir, "nbd.sock", NULL);
    pidfile = g_build_filename(x->dir, "qemu-nbd.pid", NULL);
    opt_socket = g_strconcat("--socket=", sock, NULL);
    opt_pidfile = g_strconcat("--pid-file=", pidfile, NULL);
    name = qemu_opt_escape(snapshot);
    opt_snapshot = g_strconcat("--load-snapshot=snapshot.name=", name, NULL);
    /* file.locking=off: no lock, like the rest of scan (qemu-nbd 7.2 has
     * no --force-share). */
    image_path = qemu_opt_escape(path);
    image_opts = g_strconcat("driver=qcow2,file.driver=file,file.locking=off,"
                             "file.filename=",
                             image_path, NULL);
    /* --fork returns once the socket listens; --persistent and --shared
     * let libguestfs's overlay creation and its QEMU connect in turn. */
    const char *argv[] = {"qemu-nbd",   "--read-only", "--persistent",
                          "--shared=4", "--fork",      opt_snapshot,
                          opt_socket,   opt_pidfile,   "--image-opts",
                          image_opts,   NULL};

    if (!g_spawn_sync(NULL, (char **)argv, NULL,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                      NULL, NULL, &err, &status, error)) {
        g_prefix_error(error, "qemu-nbd (install qemu-utils): ");
        nbd_export_stop(x);
        return false;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_strdelimit(g_strstrip(err), "\n", ' ');
        g_set_error(error, APP_GUEST_ERROR, APP_GUEST_ERROR_FAILED,
                    "snapshot \"%s\": qemu-nbd: %s", snapshot, err);
        nbd_export_stop(x);
        return false;
    }
    if (g_file_get_contents(pidfile, &pid_text, NULL, NULL)) {
        x->pid = (pid_t)g_ascii_strtoll(pid_text, NULL, 10);
    }
    x->socket = g_strconcat("unix:", sock, NULL);
    return true;
}

/* ---- inspection -----------------------------------------------------------
 */

static bool add_drive(const AppGuestfs *lib, Handle *h, const char *path,
                      const NbdExport *nbd, GError **error)
{
    struct guestfs_add_drive_opts_argv opts = {
        .bitmask = GUESTFS_ADD_DRIVE_OPTS_READONLY_BITMASK |
                   GUESTFS_ADD_DRIVE_OPTS_FORMAT_BITMASK,
        .readonly = 1,
        .format = "qcow2",
    };
    char *server[] = {nbd->socket, NULL};
    const char *filename = path;

    if (nbd->socket) {
        /* The export is the snapshot's disk as raw bytes. */
        opts.bitmask |= GUESTFS_ADD_DRIVE_OPTS_PROTOCOL_BITMASK |
                        GUESTFS_ADD_DRIVE_OPTS_SERVER_BITMASK;
        opts.format = "raw";
        opts.protocol = "nbd";
        opts.server = server;
        filename = ""; /* the export name: qemu-nbd's default */
    }
    if (lib->guestfs_add_drive_opts_argv(h->g, filename, &opts) == -1) {
        set_guestfs_error(error, h, "add drive");
        return false;
    }
    return true;
}

/* One root: virt-inspector's fields. Strings are malloc()ed by libguestfs;
 * a field it cannot tell stays NULL (and is reported as "unknown"). */
static AppGuestOs *inspect_root(const AppGuestfs *lib, guestfs_h *g,
                                const char *root)
{
    AppGuestOs *os = g_new0(AppGuestOs, 1);
    char *(*const getters[])(guestfs_h *, const char *) = {
        lib->guestfs_inspect_get_type,
        lib->guestfs_inspect_get_distro,
        lib->guestfs_inspect_get_product_name,
        lib->guestfs_inspect_get_hostname,
        lib->guestfs_inspect_get_arch,
    };
    char **fields[] = {&os->type, &os->distro, &os->product_name, &os->hostname,
                       &os->arch};

    os->root = g_strdup(root);
    for (size_t i = 0; i < G_N_ELEMENTS(getters); i++) {
        char *value = getters[i](g, root);

        *fields[i] = g_strdup(value ? value : "unknown");
        free(value);
    }
    os->major_version = MAX(lib->guestfs_inspect_get_major_version(g, root), 0);
    os->minor_version = MAX(lib->guestfs_inspect_get_minor_version(g, root), 0);
    return os;
}

static bool inspect_handle(const AppGuestfs *lib, Handle *h, const char *path,
                           const NbdExport *nbd, AppGuest *out, GError **error)
{
    char **roots;

    if (!add_drive(lib, h, path, nbd, error)) {
        return false;
    }
    if (lib->guestfs_launch(h->g) == -1) {
        set_guestfs_error(error, h, "appliance start");
        return false;
    }
    roots = lib->guestfs_inspect_os(h->g);
    if (!roots) {
        set_guestfs_error(error, h, "inspection");
        return false;
    }
    for (char **r = roots; *r; r++) {
        g_ptr_array_add(out->os, inspect_root(lib, h->g, *r));
        free(*r);
    }
    free(roots);
    lib->guestfs_shutdown(h->g);
    return true;
}

AppGuest *app_guest_inspect(const AppGuestfs *lib, const char *path,
                            const char *snapshot, GError **error)
{
    AppGuest *out = g_new0(AppGuest, 1);
    NbdExport nbd = {0};
    Handle h = {.console = g_string_new(NULL)};
    bool ok = false;

    out->snapshot = g_strdup(snapshot);
    out->os = g_ptr_array_new_with_free_func(guest_os_free);
    if (snapshot && !nbd_export_start(&nbd, path, snapshot, error)) {
        goto out;
    }
    /* The environment's LIBGUESTFS_* settings apply (backend, memory,
     * cache directory); no close-on-exit handler: we close every handle. */
    h.g = lib->guestfs_create_flags(GUESTFS_CREATE_NO_CLOSE_ON_EXIT);
    if (!h.g) {
        set_guestfs_error(error, NULL, "create handle");
        goto out;
    }
    /* Errors are ours to say (libguestfs would print them on stderr). */
    lib->guestfs_set_error_handler(h.g, keep_first_error, &h);
    lib->guestfs_set_event_callback(h.g, keep_console_tail,
                                    GUESTFS_EVENT_APPLIANCE, 0, &h);
    ok = inspect_handle(lib, &h, path, &nbd, out, error);

out:
    if (h.g) {
        lib->guestfs_close(h.g);
    }
    g_free(h.first_error);
    g_string_free(h.console, TRUE);
    nbd_export_stop(&nbd);
    if (!ok) {
        g_clear_pointer(&out, app_guest_free);
    }
    return out;
}

#endif
