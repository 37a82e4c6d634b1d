/*
 * Proving that a VM state loads in the target QEMU (prove.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "exit_codes.h"
#include "fix.h"
#include "prove.h"
#include "vm_args.h"

/* How long a load may take: a minute, and a second per 32 MiB of stream
 * (TCG on a slow host loads about that fast). */
#define LOAD_BASE_SECONDS  60.0
#define LOAD_BYTES_PER_SEC (32.0 * 1024 * 1024)
/* How often the run state is asked while the load goes on. */
#define STATUS_STEP_US (50 * 1000)

const char *app_proof_status_name(AppProofStatus s)
{
    switch (s) {
    case APP_PROOF_LOADS:
        return "loads";
    case APP_PROOF_FAILS:
        return "fails";
    case APP_PROOF_REFUSED:
        return "refused";
    case APP_PROOF_UNPROVEN:
        return "unproven";
    case APP_PROOF_ERROR:
        return "error";
    }
    return "?";
}

AppProof *app_proof_new(const char *id, const char *name)
{
    AppProof *p = g_new0(AppProof, 1);

    p->outcome = app_outcome_new(id, name);
    p->argv = g_ptr_array_new_with_free_func(g_free);
    p->vm_notes = g_ptr_array_new_with_free_func(g_free);
    p->expected = g_ptr_array_new_with_free_func(g_free);
    p->other = g_ptr_array_new_with_free_func(g_free);
    return p;
}

void app_proof_free(AppProof *p)
{
    if (!p) {
        return;
    }
    app_outcome_free(p->outcome);
    g_free(p->qemu_version);
    g_ptr_array_unref(p->argv);
    g_ptr_array_unref(p->vm_notes);
    g_free(p->reason);
    g_free(p->run_state);
    g_ptr_array_unref(p->expected);
    g_ptr_array_unref(p->other);
    g_free(p);
}

static void unproven(AppProof *out, char *why)
{
    out->status = APP_PROOF_UNPROVEN;
    g_free(out->reason);
    out->reason = why;
}

/* ---- the QEMU command line ---------------------------------------------- */

static unsigned recipe_gives(const TrRecipe *r)
{
    unsigned gives = 0;

    for (guint i = 0; i < r->settings->len; i++) {
        const TrSetting *s = g_ptr_array_index(r->settings, i);
        if (s->kind == TR_SETTING_BIOS) {
            gives |= APP_RECIPE_GIVES_BIOS;
        } else if (s->kind == TR_SETTING_PFLASH) {
            gives |= APP_RECIPE_GIVES_PFLASH;
        }
    }
    return gives;
}

/*
 * -machine TYPE[,accel=X][,the VM's own machine options], then -accel
 * for a QEMU that has it (>= 4.0 here; 2.x takes accel= on -machine), the
 * recipe's settings, the VM's options, and the stream on standard input.
 */
static void build_argv(AppProof *out, const TrRecipe *r, const char *accel,
                       bool accel_option, const AppVmArgs *vm)
{
    GPtrArray *a = out->argv;
    g_autoptr(GPtrArray) settings = tr_recipe_qemu_args(r);
    GString *machine = g_string_new(r->machine ? r->machine : "pc");

    if (!accel_option) {
        g_string_append_printf(machine, ",accel=%s", accel);
    }
    if (vm->machine_opts) {
        g_string_append_printf(machine, ",%s", vm->machine_opts);
    }
    g_ptr_array_add(a, g_strdup("-machine"));
    g_ptr_array_add(a, g_string_free(machine, FALSE));
    if (accel_option) {
        g_ptr_array_add(a, g_strdup("-accel"));
        g_ptr_array_add(a, g_strdup(accel));
    }
    for (guint i = 0; i < settings->len; i++) {
        g_ptr_array_add(a, g_strdup(g_ptr_array_index(settings, i)));
    }
    for (guint i = 0; i < vm->args->len; i++) {
        g_ptr_array_add(a, g_strdup(g_ptr_array_index(vm->args, i)));
    }
    g_ptr_array_add(a, g_strdup("-incoming"));
    g_ptr_array_add(a, g_strdup("fd:0"));
}

/* ---- the stream into QEMU ------------------------------------------------ */

typedef struct Feeder {
    int fd; /* the pipe's write end; closed when done */
    VmsSource *src;
    const GArray *edits; /* NULL: as it is */
    uint64_t size;
    GError *error; /* EPIPE: QEMU stopped reading */
    bool done;
} Feeder;

static gpointer feed(gpointer data)
{
    Feeder *f = data;
    sigset_t pipe_signal;
    g_autoptr(AppSink) sink = app_sink_fd(f->fd, "QEMU's standard input");
    AppWriteStats st = {0};
    AppWrite w = {.old = f->src, .edits = f->edits, .new_size = f->size};

    /* a QEMU that refuses the stream closes the pipe: EPIPE, no signal */
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_signal, NULL);
    app_sink_write(sink, &w, &st, &f->error);
    app_write_stats_clear(&st);
    close(f->fd);
    f->fd = -1;
    f->done = true;
    return NULL;
}

/* ---- what QEMU printed --------------------------------------------------- */

/* "[TIMESTAMP ]qemu-system-x86_64: warning: X" -> "X" */
static const char *message_of(const char *line)
{
    const char *q = strstr(line, "qemu-system-");
    const char *p = q ? strstr(q, ": ") : NULL;

    if (p) {
        line = p + 2;
    }
    return g_str_has_prefix(line, "warning: ") ? line + 9 : line;
}

/* Lines a QEMU prints on every start, whatever it loads: QEMU 2.0 under
 * today's GLib (g_mem_set_vtable is a no-op). */
static const char *const noise[] = {
    "custom memory allocation vtable not supported",
    NULL,
};

static bool is_noise(const char *line)
{
    for (guint i = 0; noise[i]; i++) {
        if (strstr(line, noise[i])) {
            return true;
        }
    }
    return false;
}

static void sort_output(AppProof *out, const TrRecipe *r, const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        const char *line = g_strstrip(lines[i]);
        bool expected = false;
        if (!*line || is_noise(line)) {
            continue;
        }
        for (guint k = 0; k < r->warnings->len && !expected; k++) {
            const TrWarning *w = g_ptr_array_index(r->warnings, k);
            if (g_str_has_prefix(message_of(line), w->message)) {
                g_ptr_array_add(out->expected, g_strdup(w->message));
                expected = true;
            }
        }
        if (!expected) {
            g_ptr_array_add(out->other, g_strdup(line));
        }
    }
}

/* QEMU's error: what it printed but its warnings (all of it if that is
 * all), one line after the other; NULL: nothing. */
static char *failure_reason(const GPtrArray *lines)
{
    g_autoptr(GString) errors = g_string_new(NULL);
    g_autoptr(GString) all = g_string_new(NULL);

    for (guint i = 0; i < lines->len; i++) {
        const char *line = g_ptr_array_index(lines, i);
        g_string_append_printf(all, "%s%s", all->len ? "; " : "", line);
        if (!strstr(line, ": warning: ")) {
            g_string_append_printf(errors, "%s%s", errors->len ? "; " : "",
                                   line);
        }
    }
    return errors->len ? g_strdup(errors->str)
           : all->len  ? g_strdup(all->str)
                       : NULL;
}

/* ---- one proof ----------------------------------------------------------- */

static char *run_state(AppVm *vm, gint64 deadline, GError **errp)
{
    g_autoptr(QjValue) st =
        app_vm_qmp(vm, "query-status", NULL, deadline, errp);

    return g_strdup(qj_get_str(st, "status"));
}

/*
 * After a load that QEMU took, the vCPU must hold the saved registers,
 * not its reset state (CS selector f000 based at ffff0000, which the
 * BIOS's first far jump leaves for good, and CR0 60000010): QEMU 2.0
 * ignores a KVM_SET_XSAVE that KVM refuses and then sets no segment
 * register, paused as if all went well. NULL: the registers look loaded.
 */
static char *vcpu_at_reset(AppVm *vm, gint64 deadline)
{
    g_autoptr(QjValue) regs =
        app_vm_qmp(vm, "human-monitor-command",
                   "{\"command-line\": \"info registers\"}", deadline, NULL);
    const char *text = qj_as_str(regs);

    if (text && strstr(text, "CS =f000 ffff0000") &&
        strstr(text, "CR0=60000010")) {
        return g_strdup("QEMU stands paused, but the vCPU's segment and "
                        "control registers are at their reset values (CS "
                        "base ffff0000, CR0 60000010): the saved ones did not "
                        "reach it (KVM refused them: see R23)");
    }
    return NULL;
}

/* Start QEMU on the stream and watch the load. */
static void load(AppProof *out, VmsSource *src, const GArray *edits,
                 uint64_t size, const AppProveOptions *po)
{
    const TrRecipe *r = out->outcome->result->recipe;
    int pipefd[2];
    Feeder f = {.src = src, .edits = edits, .size = size};
    GError *err = NULL;
    double timeout =
        po->timeout > 0 ? po->timeout
                        : LOAD_BASE_SECONDS + (double)size / LOAD_BYTES_PER_SEC;
    gint64 start = g_get_monotonic_time();
    gint64 deadline = start + (gint64)(timeout * G_USEC_PER_SEC);
    g_autoptr(AppVm) vm = NULL;
    GThread *feeder;

    if (pipe(pipefd) < 0 || fcntl(pipefd[1], F_SETFD, FD_CLOEXEC) < 0) {
        unproven(out, g_strdup_printf("pipe: %s", g_strerror(errno)));
        return;
    }
    vm = app_vm_start(po->qemu, (const char *const *)out->argv->pdata,
                      pipefd[0], &err);
    close(pipefd[0]);
    if (!vm) {
        close(pipefd[1]);
        unproven(out, g_strdup(err->message));
        g_error_free(err);
        return;
    }
    f.fd = pipefd[1];
    out->bytes = size;
    feeder = g_thread_new("qsnapfix-feed", feed, &f);

    /* QEMU runs its main loop (QMP) once the load is under way, or
     * exits when it refuses the stream or its options */
    while (!app_vm_exited(vm, NULL) && g_get_monotonic_time() < deadline) {
        if (!out->run_state || !strcmp(out->run_state, "inmigrate")) {
            g_clear_error(&err);
            if (app_vm_connect(vm, deadline, &err)) {
                g_free(out->run_state);
                out->run_state = run_state(vm, deadline, &err);
            }
        }
        if (out->run_state && strcmp(out->run_state, "inmigrate")) {
            break;
        }
        g_usleep(STATUS_STEP_US);
    }
    out->seconds = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
    if (!app_vm_exited(vm, NULL) && !out->run_state) {
        g_free(out->run_state);
        out->run_state = NULL;
    }
    g_autofree char *printed = app_vm_output(vm);
    bool exited = app_vm_exited(vm, NULL);
    bool paused = !exited && out->run_state &&
                  (!strcmp(out->run_state, "paused") ||
                   !strcmp(out->run_state, "prelaunch"));
    g_autofree char *at_reset = paused ? vcpu_at_reset(vm, deadline) : NULL;

    /* stop QEMU before joining: a QEMU still reading lets the feeder end */
    g_clear_pointer(&vm, app_vm_free);
    g_thread_join(feeder);
    sort_output(out, r, printed);
    if (at_reset) {
        out->status = APP_PROOF_FAILS;
        out->reason = g_steal_pointer(&at_reset);
    } else if (paused) {
        out->status = APP_PROOF_LOADS;
    } else if (exited ||
               (out->run_state && strcmp(out->run_state, "inmigrate"))) {
        out->status = APP_PROOF_FAILS;
        out->reason = failure_reason(out->other);
        if (!out->reason) {
            out->reason =
                g_strdup_printf("QEMU ended in state '%s'",
                                out->run_state ? out->run_state : "exited");
        }
    } else {
        out->status = APP_PROOF_FAILS;
        out->reason = g_strdup_printf(
            "the load did not end within %.0f s (state '%s'%s%s)", timeout,
            out->run_state ? out->run_state : "no QMP answer", err ? ": " : "",
            err ? err->message : "");
    }
    g_clear_error(&err);
    g_clear_error(&f.error);
}

void app_prove(AppSource *source, const AppOptions *o,
               const AppProveOptions *po, AppProof *out)
{
    GError *err = NULL;
    g_autoptr(VmsSource) src = app_source_open(source, &err);
    g_autoptr(VmsStream) s = NULL;
    g_autofree char *dir =
        src ? g_dir_make_tmp("qsnapfix-prove-XXXXXX", &err) : NULL;
    AppRecipeNames names = {.dir = dir, .prefix = (char *)"vm"};
    g_autoptr(AppVmArgs) vm = NULL;
    const TrResult *r;
    const char *version;
    char *why = NULL;

    if (!src || !dir || !app_analyse(src, o, &names, out->outcome, &s, &err)) {
        app_outcome_fail(out->outcome, err);
        out->status = APP_PROOF_ERROR;
        goto out;
    }
    r = out->outcome->result;
    if (r->refused && !po->as_is) {
        out->status = APP_PROOF_REFUSED;
        goto out;
    }
    version = app_qemu_version(po->qemu, &err);
    if (!version) {
        unproven(out, g_strdup(err->message));
        g_clear_error(&err);
        goto out;
    }
    out->qemu_version = g_strdup(version);
    if (r->recipe->accel && !strcmp(r->recipe->accel, "kvm") &&
        !app_kvm_usable(&why)) {
        unproven(out, g_strdup_printf("the recipe needs KVM: %s", why));
        g_free(why);
        goto out;
    }
    if (!app_write_recipe_files(r, s, src, &err)) {
        unproven(out, g_strdup(err->message));
        g_clear_error(&err);
        goto out;
    }
    vm = app_vm_args_sanitize(po->vm_args, recipe_gives(r->recipe));
    for (guint i = 0; i < vm->notes->len; i++) {
        g_ptr_array_add(out->vm_notes,
                        g_strdup(g_ptr_array_index(vm->notes, i)));
    }
    build_argv(out, r->recipe, r->recipe->accel ? r->recipe->accel : "tcg",
               app_qemu_version_number(version) >= 4000, vm);
    g_ptr_array_add(out->argv, NULL);
    out->edited = !po->as_is && r->edits->len;
    load(out, src, out->edited ? r->edits : NULL,
         out->edited ? r->new_size : src->size, po);
    g_ptr_array_remove_index(out->argv, out->argv->len - 1);
out:
    if (dir) {
        app_remove_dir(dir);
    }
}

GPtrArray *app_prove_path(const char *path, const char *snapshot, bool all,
                          const AppOptions *o, const AppProveOptions *po,
                          GError **errp)
{
    GPtrArray *proofs =
        g_ptr_array_new_with_free_func((GDestroyNotify)app_proof_free);
    static const char magic[4] = {'Q', 'F', 'I', (char)0xfb};
    char head[4] = {0};
    FILE *f = fopen(path, "rb");
    bool qcow2 = f && fread(head, 1, 4, f) == 4 && !memcmp(head, magic, 4);

    if (f) {
        fclose(f);
    }
    if (!qcow2) {
        g_autoptr(AppSource) source = app_source_file(path);
        AppProof *p = app_proof_new(NULL, path);
        g_ptr_array_add(proofs, p);
        app_prove(source, o, po, p);
        return proofs;
    }
    Qcow2Image *img = qcow2_open(path, QCOW2_OPEN_READ_ONLY, errp);
    g_autoptr(GArray) picked =
        img ? app_pick_snapshots(img, snapshot, all, errp) : NULL;
    if (!picked) {
        qcow2_close(img);
        g_ptr_array_unref(proofs);
        return NULL;
    }
    for (guint i = 0; i < picked->len; i++) {
        guint index = g_array_index(picked, guint, i);
        const Qcow2Snapshot *sn = qcow2_snapshot_get(img, index);
        g_autoptr(AppSource) source = app_source_qcow2(img, index);
        AppProof *p = app_proof_new(sn->id, sn->name);
        g_ptr_array_add(proofs, p);
        app_prove(source, o, po, p);
    }
    qcow2_close(img);
    return proofs;
}

int app_proof_exit_code(const AppProof *p)
{
    switch (p->status) {
    case APP_PROOF_LOADS:
        return APP_EXIT_OK;
    case APP_PROOF_FAILS:
        return APP_EXIT_DOES_NOT_LOAD;
    case APP_PROOF_REFUSED:
        return APP_EXIT_REFUSED;
    case APP_PROOF_UNPROVEN:
        return APP_EXIT_NOT_PROVEN;
    case APP_PROOF_ERROR:
        return app_outcome_exit_code(p->outcome);
    }
    return APP_EXIT_INTERNAL;
}

int app_proofs_exit_code(AppProof *const *proofs, guint n)
{
    int code = -1;

    for (guint i = 0; i < n; i++) {
        int c = app_proof_exit_code(proofs[i]);
        code = code < 0 || code == c ? c : APP_EXIT_PARTIAL;
    }
    return code < 0 ? APP_EXIT_OK : code; /* no VM state: nothing to do */
}

bool app_prove_qemu_is_target(AppQemu *q, const TrTarget *t, GError **errp)
{
    const char *line = app_qemu_version(q, errp);
    g_autofree char *v = line ? app_qemu_version_short(line) : NULL;
    g_autofree char *want = g_strdup_printf("%s.", tr_target_qemu_version(t));

    if (!line) {
        return false;
    }
    if (!v || !g_str_has_prefix(v, want)) {
        g_set_error(errp, APP_QEMU_ERROR, APP_QEMU_ERROR_UNUSABLE,
                    "%s is %s, not %s: give the target's QEMU with --qemu",
                    app_qemu_program(q), line, tr_target_name(t));
        return false;
    }
    return true;
}
