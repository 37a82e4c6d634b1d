/*
 * Running a target QEMU (qemu.h): processes by their id, QMP on a unix
 * socket, every wait bounded by a deadline.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qemu.h"

G_DEFINE_QUARK(qsnapfix - qemu - error - quark, app_qemu_error)

/* How long QEMU gets to quit on request before it is killed. */
#define QUIT_GRACE_US (3 * G_USEC_PER_SEC)
#define POLL_STEP_US  (20 * 1000)

struct AppQemu {
    char **command; /* argv[0] made absolute */
    char *program;
    char *version;
};

AppQemu *app_qemu_new(const char *command, GError **errp)
{
    g_auto(GStrv) argv = NULL;
    g_autofree char *found = NULL;
    AppQemu *q;

    if (!g_shell_parse_argv(command ? command : "qemu-system-x86_64", NULL,
                            &argv, errp)) {
        g_prefix_error(errp, "--qemu: ");
        return NULL;
    }
    found = strchr(argv[0], '/') ? g_canonicalize_filename(argv[0], NULL)
                                 : g_find_program_in_path(argv[0]);
    if (!found || !g_file_test(found, G_FILE_TEST_IS_EXECUTABLE)) {
        g_set_error(errp, APP_QEMU_ERROR, APP_QEMU_ERROR_NOT_FOUND,
                    "%s: no such program%s", argv[0],
                    strchr(argv[0], '/') ? "" : " in PATH");
        return NULL;
    }
    q = g_new0(AppQemu, 1);
    g_free(argv[0]);
    argv[0] = g_strdup(found);
    q->program = g_steal_pointer(&found);
    q->command = g_steal_pointer(&argv);
    return q;
}

void app_qemu_free(AppQemu *q)
{
    if (!q) {
        return;
    }
    g_strfreev(q->command);
    g_free(q->program);
    g_free(q->version);
    g_free(q);
}

const char *const *app_qemu_command(const AppQemu *q)
{
    return (const char *const *)q->command;
}

const char *app_qemu_program(const AppQemu *q)
{
    return q->program;
}

unsigned app_qemu_version_number(const char *line)
{
    const char *v = line ? strstr(line, "version ") : NULL;
    unsigned major, minor;

    return v && sscanf(v + 8, "%u.%u", &major, &minor) == 2
               ? major * 1000 + minor
               : 0;
}

char *app_qemu_version_short(const char *line)
{
    const char *v = line ? strstr(line, "version ") : NULL;
    size_t n = 0;

    if (!v) {
        return NULL;
    }
    v += 8;
    while (g_ascii_isdigit(v[n]) || v[n] == '.') {
        n++;
    }
    return n ? g_strndup(v, n) : NULL;
}

/* argv = the command + args (NULL-terminated). */
static char **full_argv(const AppQemu *q, const char *const *args,
                        const char *const *more)
{
    GPtrArray *a = g_ptr_array_new();

    for (guint i = 0; q->command[i]; i++) {
        g_ptr_array_add(a, g_strdup(q->command[i]));
    }
    for (guint i = 0; args && args[i]; i++) {
        g_ptr_array_add(a, g_strdup(args[i]));
    }
    for (guint i = 0; more && more[i]; i++) {
        g_ptr_array_add(a, g_strdup(more[i]));
    }
    g_ptr_array_add(a, NULL);
    return (char **)g_ptr_array_free(a, FALSE);
}

/* QEMU < 4.0 takes its audio backend from the environment only. */
static char **child_environ(const AppQemu *q)
{
    char **env = g_get_environ();

    if (q->version && app_qemu_version_number(q->version) < 4000) {
        env = g_environ_setenv(env, "QEMU_AUDIO_DRV", "none", TRUE);
    }
    return env;
}

static bool spawn(const AppQemu *q, char **argv, int in, int out, GPid *pid,
                  GError **errp)
{
    g_auto(GStrv) env = child_environ(q);
    int null_in = -1;
    bool ok;

    if (in < 0) {
        null_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        in = null_in;
    }
    ok = g_spawn_async_with_fds(NULL, argv, env, G_SPAWN_DO_NOT_REAP_CHILD,
                                NULL, NULL, pid, in, out, out, errp);
    if (null_in >= 0) {
        close(null_in);
    }
    if (!ok) {
        g_prefix_error(errp, "%s: ", argv[0]);
    }
    return ok;
}

/* Reap pid if it exited: true with its status (-1: killed by a signal). */
static bool reaped(GPid pid, int *status)
{
    int ws;
    pid_t r = waitpid(pid, &ws, WNOHANG);

    if (r != pid) {
        return false;
    }
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    return true;
}

static void kill_and_reap(GPid pid)
{
    int ws;

    kill(pid, SIGKILL);
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
}

static char *read_fd_file(int fd)
{
    GString *g = g_string_new(NULL);
    char buf[4096];
    ssize_t n;

    lseek(fd, 0, SEEK_SET);
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        g_string_append_len(g, buf, n);
    }
    return g_string_free(g, FALSE);
}

static int tmp_fd(GError **errp)
{
    g_autofree char *name = NULL;
    int fd = g_file_open_tmp("qsnapfix-qemu-XXXXXX", &name, errp);

    if (fd >= 0) {
        g_unlink(name);
    }
    return fd;
}

/* Wait for pid until the deadline; false (killed) on the deadline. */
static bool wait_until(GPid pid, gint64 deadline, int *status)
{
    while (!reaped(pid, status)) {
        if (g_get_monotonic_time() >= deadline) {
            kill_and_reap(pid);
            return false;
        }
        g_usleep(POLL_STEP_US);
    }
    return true;
}

static bool run_to_files(AppQemu *q, const char *const *args, double timeout,
                         int fo, int fe, GError **errp)
{
    g_auto(GStrv) argv = full_argv(q, args, NULL);
    g_auto(GStrv) env = child_environ(q);
    gint64 deadline = g_get_monotonic_time() + (gint64)(timeout * 1e6);
    GPid pid;
    int status = 0;

    if (!g_spawn_async_with_fds(NULL, argv, env,
                                G_SPAWN_DO_NOT_REAP_CHILD |
                                    G_SPAWN_STDIN_FROM_DEV_NULL,
                                NULL, NULL, &pid, -1, fo, fe, errp)) {
        return false;
    }
    if (!wait_until(pid, deadline, &status)) {
        g_set_error(errp, APP_QEMU_ERROR, APP_QEMU_ERROR_TIMEOUT,
                    "%s: no answer within %.0f s", q->command[0], timeout);
        return false;
    }
    if (status) {
        g_autofree char *e = read_fd_file(fe);
        g_set_error(errp, APP_QEMU_ERROR, APP_QEMU_ERROR_FAILED,
                    "%s: exit %d: %s", q->command[0], status, g_strstrip(e));
        return false;
    }
    return true;
}

bool app_qemu_run(AppQemu *q, const char *const *args, double timeout,
                  char **out, char **err, GError **errp)
{
    int fo = tmp_fd(errp), fe = fo >= 0 ? tmp_fd(errp) : -1;
    bool ok = fe >= 0 && run_to_files(q, args, timeout, fo, fe, errp);

    if (ok && out) {
        *out = read_fd_file(fo);
    }
    if (ok && err) {
        *err = read_fd_file(fe);
    }
    if (fo >= 0) {
        close(fo);
    }
    if (fe >= 0) {
        close(fe);
    }
    return ok;
}

const char *app_qemu_version(AppQemu *q, GError **errp)
{
    static const char *const args[] = {"-version", NULL};
    g_autofree char *out = NULL;

    if (!q->version) {
        if (!app_qemu_run(q, args, 60, &out, NULL, errp)) {
            return NULL;
        }
        char *nl = strchr(out, '\n');
        q->version = nl ? g_strndup(out, nl - out) : g_strdup(out);
    }
    return q->version;
}

bool app_kvm_usable(char **why)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        *why = g_strdup_printf("/dev/kvm: %s", g_strerror(errno));
        return false;
    }
    close(fd);
    return true;
}

/* ---- a running VM ------------------------------------------------------ */

struct AppVm {
    AppQemu *qemu; /* borrowed */
    char *dir;
    char *qmp_path;
    int output_fd;
    GPid pid;
    bool reaped;
    int status;
    int qmp_fd;
    bool connected; /* capabilities negotiated */
    GString *buf;   /* QMP bytes read, not yet a line */
};

AppVm *app_vm_start(AppQemu *q, const char *const *args, int stdin_fd,
                    GError **errp)
{
    g_autoptr(AppVm) vm = g_new0(AppVm, 1);
    g_autofree char *qmp = NULL;
    g_autofree char *log = NULL;
    g_auto(GStrv) argv = NULL;

    vm->qemu = q;
    app_qemu_version(q, NULL); /* child_environ() reads it */
    vm->qmp_fd = -1;
    vm->output_fd = -1;
    vm->reaped = true; /* until it runs */
    vm->buf = g_string_new(NULL);
    vm->dir = g_dir_make_tmp("qsnapfix-vm-XXXXXX", errp);
    if (!vm->dir) {
        return NULL;
    }
    vm->qmp_path = g_build_filename(vm->dir, "qmp.sock", NULL);
    log = g_build_filename(vm->dir, "qemu.log", NULL);
    vm->output_fd = open(log, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (vm->output_fd < 0) {
        g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "%s: %s", log, g_strerror(errno));
        return NULL;
    }
    qmp = g_strdup_printf("unix:%s,server=on,wait=off", vm->qmp_path);
    const char *const more[] = {"-S",   "-display", "none", "-monitor",
                                "none", "-qmp",     qmp,    NULL};
    argv = full_argv(q, args, more);
    if (!spawn(q, argv, stdin_fd, vm->output_fd, &vm->pid, errp)) {
        return NULL;
    }
    vm->reaped = false;
    return g_steal_pointer(&vm);
}

const char *app_vm_dir(const AppVm *vm)
{
    return vm->dir;
}

bool app_vm_exited(AppVm *vm, int *status)
{
    if (!vm->reaped && reaped(vm->pid, &vm->status)) {
        vm->reaped = true;
    }
    if (vm->reaped && status) {
        *status = vm->status;
    }
    return vm->reaped;
}

char *app_vm_output(const AppVm *vm)
{
    return vm->output_fd >= 0 ? read_fd_file(vm->output_fd) : g_strdup("");
}

static bool exited_error(AppVm *vm, GError **errp)
{
    g_autofree char *out = app_vm_output(vm);

    g_set_error(errp, APP_QEMU_ERROR, APP_QEMU_ERROR_FAILED,
                "QEMU exited (%s %d): %s", vm->status < 0 ? "signal" : "status",
                vm->status, g_strstrip(out));
    return false;
}

static bool timeout_error(const char *what, GError **errp)
{
    g_set_error(errp, APP_QEMU_ERROR, APP_QEMU_ERROR_TIMEOUT,
                "QMP: no answer to %s before the deadline", what);
    return false;
}

/* Wait until fd is ready for events, QEMU exits, or the deadline. */
static bool wait_fd(AppVm *vm, short events, gint64 deadline, const char *what,
                    GError **errp)
{
    for (;;) {
        struct pollfd p = {.fd = vm->qmp_fd, .events = events};
        gint64 left = deadline - g_get_monotonic_time();
        if (left <= 0) {
            return timeout_error(what, errp);
        }
        int r = poll(&p, 1, (int)MIN(left / 1000 + 1, 100));
        if (r > 0) {
            return true;
        }
        if (r < 0 && errno != EINTR) {
            g_set_error(errp, APP_QEMU_ERROR, APP_QEMU_ERROR_QMP, "QMP: %s",
                        g_strerror(errno));
            return false;
        }
        if (app_vm_exited(vm, NULL)) {
            return exited_error(vm, errp);
        }
    }
}

/* One QMP message (a line), parsed. */
static QjValue *read_message(AppVm *vm, gint64 deadline, const char *what,
                             GError **errp)
{
    char *nl;

    while (!(nl = memchr(vm->buf->str, '\n', vm->buf->len))) {
        char chunk[65536];
        if (!wait_fd(vm, POLLIN, deadline, what, errp)) {
            return NULL;
        }
        ssize_t n = recv(vm->qmp_fd, chunk, sizeof(chunk), 0);
        if (n == 0) {
            if (app_vm_exited(vm, NULL)) {
                return exited_error(vm, errp), NULL;
            }
            g_set_error(errp, APP_QEMU_ERROR, APP_QEMU_ERROR_QMP,
                        "QMP: connection closed (%s)", what);
            return NULL;
        }
        if (n < 0 && errno != EINTR && errno != EAGAIN) {
            g_set_error(errp, APP_QEMU_ERROR, APP_QEMU_ERROR_QMP, "QMP: %s",
                        g_strerror(errno));
            return NULL;
        }
        if (n > 0) {
            g_string_append_len(vm->buf, chunk, n);
        }
    }
    gssize len = nl - vm->buf->str;
    QjValue *message = qj_parse(vm->buf->str, len, errp);
    g_string_erase(vm->buf, 0, len + 1);
    if (!message) {
        g_prefix_error(errp, "QMP: ");
    }
    return message;
}

static bool send_all(AppVm *vm, const char *text, gint64 deadline,
                     const char *what, GError **errp)
{
    size_t len = strlen(text), done = 0;

    while (done < len) {
        if (!wait_fd(vm, POLLOUT, deadline, what, errp)) {
            return false;
        }
        ssize_t n = send(vm->qmp_fd, text + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno != EINTR && errno != EAGAIN) {
            g_set_error(errp, APP_QEMU_ERROR, APP_QEMU_ERROR_QMP, "QMP: %s",
                        g_strerror(errno));
            return false;
        }
        done += n > 0 ? (size_t)n : 0;
    }
    return true;
}

QjValue *app_vm_qmp(AppVm *vm, const char *command, const char *arguments,
                    gint64 deadline, GError **errp)
{
    g_autofree char *req =
        arguments ? g_strdup_printf("{\"execute\": \"%s\", \"arguments\": "
                                    "%s}\n",
                                    command, arguments)
                  : g_strdup_printf("{\"execute\": \"%s\"}\n", command);

    if (vm->qmp_fd < 0) {
        g_set_error(errp, APP_QEMU_ERROR, APP_QEMU_ERROR_QMP,
                    "QMP: not connected");
        return NULL;
    }
    if (!send_all(vm, req, deadline, command, errp)) {
        return NULL;
    }
    for (;;) {
        g_autoptr(QjValue) reply = read_message(vm, deadline, command, errp);

        if (!reply) {
            return NULL;
        }
        if (qj_kind(reply) != QJ_OBJECT || qj_get(reply, "event")) {
            continue;
        }
        if (qj_get(reply, "error")) {
            const char *desc = qj_get_str(qj_get(reply, "error"), "desc");
            g_set_error(errp, APP_QEMU_ERROR, APP_QEMU_ERROR_QMP, "%s: %s",
                        command, desc ? desc : "error");
            return NULL;
        }
        if (qj_get(reply, "return")) {
            return qj_steal(reply, "return");
        }
    }
}

static int connect_socket(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int fd;

    if (strlen(path) >= sizeof(a.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(a.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

bool app_vm_connect(AppVm *vm, gint64 deadline, GError **errp)
{
    if (vm->connected) {
        return true;
    }
    while (vm->qmp_fd < 0) {
        if (app_vm_exited(vm, NULL)) {
            return exited_error(vm, errp);
        }
        if (g_get_monotonic_time() >= deadline) {
            return timeout_error("the QMP greeting", errp);
        }
        vm->qmp_fd = connect_socket(vm->qmp_path);
        if (vm->qmp_fd < 0) {
            g_usleep(POLL_STEP_US);
        }
    }
    g_autoptr(QjValue) greeting =
        read_message(vm, deadline, "the QMP greeting", errp);
    if (!greeting) {
        return false;
    }
    g_autoptr(QjValue) caps =
        app_vm_qmp(vm, "qmp_capabilities", NULL, deadline, errp);
    vm->connected = caps != NULL;
    return vm->connected;
}

void app_remove_dir(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, name, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_DIR) &&
            !g_file_test(p, G_FILE_TEST_IS_SYMLINK)) {
            app_remove_dir(p);
        } else {
            g_unlink(p);
        }
    }
    g_rmdir(dir);
}

void app_vm_free(AppVm *vm)
{
    if (!vm) {
        return;
    }
    if (!app_vm_exited(vm, NULL)) {
        gint64 deadline = g_get_monotonic_time() + QUIT_GRACE_US;
        /* the answer does not matter: whether QEMU exits does */
        g_autoptr(QjValue) answer =
            vm->qmp_fd >= 0 ? app_vm_qmp(vm, "quit", NULL, deadline, NULL)
                            : NULL;

        (void)answer;
        while (!app_vm_exited(vm, NULL) && g_get_monotonic_time() < deadline) {
            g_usleep(POLL_STEP_US);
        }
        if (!app_vm_exited(vm, NULL)) {
            kill_and_reap(vm->pid);
            vm->reaped = true;
        }
    }
    if (vm->qmp_fd >= 0) {
        close(vm->qmp_fd);
    }
    if (vm->output_fd >= 0) {
        close(vm->output_fd);
    }
    if (vm->dir) {
        app_remove_dir(vm->dir);
    }
    g_free(vm->dir);
    g_free(vm->qmp_path);
    g_string_free(vm->buf, TRUE);
    g_free(vm);
}
