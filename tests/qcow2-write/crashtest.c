/*
 * qcow2-crashtest: runs the library's splice through the fault-injecting
 * I/O, and checks what a snapshot's VM state reads as afterwards.
 *
 *   qcow2-crashtest run MODE N SEED IMAGE SNAPSHOT EDIT...
 *       splice with a fault (faultio.h; MODE count|crash|power|eio|enospc|
 *       flush-eio|cancel, N the write or flush it hits), then for power
 *       mode apply the loss. Prints one line:
 *         result=ok|error code=C fired=0|1 writes=W flushes=F lost=L
 *         torn=T kept=K size_before=B size_after=A allocated_before=AB
 *         allocated_after=AA discarded=D
 *       and the error message on a second line. Exit 0 unless the driver
 *       itself failed.
 *       An EDIT may also be an option of the splice: keep=NAME (keep the
 *       original), extra=HEX and original-extra=HEX (the unknown extra
 *       data of the spliced entry and of the kept original).
 *   qcow2-crashtest restore MODE N SEED IMAGE SNAPSHOT ORIGINAL [extra=HEX]
 *   qcow2-crashtest delete MODE N SEED IMAGE SNAPSHOT
 *   qcow2-crashtest reclaim MODE N SEED IMAGE [dry-run]
 *       the same with qcow2_snapshot_restore() / qcow2_snapshot_delete()
 *       / qcow2_reclaim_leaks() instead of the splice (reclaim adds
 *       leaked=L left=K freed=F to the line: leaked clusters found, left
 *       leaked, and freed).
 *   qcow2-crashtest hold IMAGE
 *       open IMAGE for writing (taking QEMU's writer locks, as the splice
 *       does), print "locked", and keep it open until stdin is closed.
 *   qcow2-crashtest verify IMAGE SNAPSHOT OLD NEW [SNAPSHOT=FILE...]
 *       reopen IMAGE read-only: SNAPSHOT's VM state must equal the file
 *       OLD or the file NEW (prints state=old or state=new), every
 *       SNAPSHOT=FILE pair must match exactly. Exit 1 otherwise.
 *
 * EDIT is OFFSET:OLD_LENGTH:DATA with DATA hex digits, '-' (nothing) or
 * fill:BYTE:COUNT.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faultio.h"
#include "write-internal.h"

typedef struct Edits {
    GArray *edits; /* Qcow2Edit */
    GPtrArray *bufs;
    Qcow2SpliceOptions opts;
} Edits;

typedef enum { OP_SPLICE, OP_RESTORE, OP_DELETE, OP_RECLAIM } Op;

static int usage(void)
{
    fprintf(stderr, "usage: qcow2-crashtest run MODE N SEED IMAGE SNAPSHOT "
                    "EDIT...\n"
                    "       qcow2-crashtest restore MODE N SEED IMAGE "
                    "SNAPSHOT ORIGINAL [extra=HEX]\n"
                    "       qcow2-crashtest delete MODE N SEED IMAGE "
                    "SNAPSHOT\n"
                    "       qcow2-crashtest reclaim MODE N SEED IMAGE "
                    "[dry-run]\n"
                    "       qcow2-crashtest hold IMAGE\n"
                    "       qcow2-crashtest verify IMAGE SNAPSHOT OLD NEW "
                    "[SNAPSHOT=FILE...]\n");
    return 2;
}

static void parse_hex(Edits *e, const char *hex, Qcow2ExtraUpdate *x)
{
    size_t len = strlen(hex) / 2;
    uint8_t *data = g_malloc(MAX(len, 1));

    for (size_t i = 0; i < len; i++) {
        data[i] = (uint8_t)(g_ascii_xdigit_value(hex[2 * i]) << 4 |
                            g_ascii_xdigit_value(hex[2 * i + 1]));
    }
    g_ptr_array_add(e->bufs, data);
    x->set = true;
    x->data = data;
    x->len = len;
}

/* keep=NAME, extra=HEX, original-extra=HEX */
static bool parse_option(Edits *e, const char *arg)
{
    if (g_str_has_prefix(arg, "keep=")) {
        e->opts.keep_original_name = arg + 5;
    } else if (g_str_has_prefix(arg, "extra=")) {
        parse_hex(e, arg + 6, &e->opts.extra);
    } else if (g_str_has_prefix(arg, "original-extra=")) {
        parse_hex(e, arg + 15, &e->opts.original_extra);
    } else {
        return false;
    }
    return true;
}

static bool parse_edit(Edits *e, const char *arg)
{
    if (parse_option(e, arg)) {
        return true;
    }
    g_auto(GStrv) f = g_strsplit(arg, ":", 3);
    Qcow2Edit ed = {0};
    uint8_t *data = NULL;
    size_t len = 0;

    if (g_strv_length(f) != 3) {
        return false;
    }
    ed.offset = g_ascii_strtoull(f[0], NULL, 0);
    ed.old_length = g_ascii_strtoull(f[1], NULL, 0);
    if (g_str_has_prefix(f[2], "fill:")) {
        g_auto(GStrv) p = g_strsplit(f[2] + 5, ":", 2);
        if (g_strv_length(p) != 2) {
            return false;
        }
        len = g_ascii_strtoull(p[1], NULL, 0);
        data = g_malloc(MAX(len, 1));
        memset(data, (int)g_ascii_strtoull(p[0], NULL, 0), len);
    } else if (strcmp(f[2], "-")) {
        len = strlen(f[2]) / 2;
        data = g_malloc(MAX(len, 1));
        for (size_t i = 0; i < len; i++) {
            data[i] = (uint8_t)(g_ascii_xdigit_value(f[2][2 * i]) << 4 |
                                g_ascii_xdigit_value(f[2][2 * i + 1]));
        }
    }
    ed.data = data;
    ed.length = len;
    g_ptr_array_add(e->bufs, data);
    g_array_append_val(e->edits, ed);
    return true;
}

/* The operation on sn (and, restore, its original). */
static bool run_op(Op op, Qcow2Image *img, const Qcow2Snapshot *sn,
                   const char *original, Edits *e, Qcow2SpliceStats *st,
                   GError **errp)
{
    Qcow2TableOptions to = {.extra = e->opts.extra};
    Qcow2ReclaimOptions ro = {.dry_run = e->opts.dry_run};
    const Qcow2Snapshot *orig;

    switch (op) {
    case OP_SPLICE:
        return qcow2_splice_vmstate(img, sn, (Qcow2Edit *)e->edits->data,
                                    e->edits->len, &e->opts, st, errp);
    case OP_RESTORE:
        orig = qcow2_snapshot_find(img, original, errp);
        return orig && qcow2_snapshot_restore(img, sn, orig, &to, st, errp);
    case OP_DELETE:
        return qcow2_snapshot_delete(img, sn, &to, st, errp);
    case OP_RECLAIM:
        return qcow2_reclaim_leaks(img, &ro, st, errp);
    }
    return false;
}

static int cmd_run(Op op, int argc, char **argv)
{
    FaultMode mode;
    uint64_t n;
    uint32_t seed;
    Edits e = {.edits = g_array_new(false, false, sizeof(Qcow2Edit)),
               .bufs = g_ptr_array_new_with_free_func(g_free)};
    GError *err = NULL;
    Qcow2IO *io;
    Qcow2Image *img = NULL;
    const Qcow2Snapshot *sn;
    static volatile sig_atomic_t cancel;
    Qcow2SpliceStats st = {0};
    const FaultStats *fs;
    bool ok;
    int rc = 0;

    int first_edit = op == OP_RESTORE ? 6 : op == OP_RECLAIM ? 4 : 5;

    if (argc < (op == OP_SPLICE ? 6 : first_edit) ||
        !fault_mode_parse(argv[0], &mode)) {
        return usage();
    }
    n = g_ascii_strtoull(argv[1], NULL, 0);
    seed = (uint32_t)g_ascii_strtoull(argv[2], NULL, 0);
    for (int i = first_edit; i < argc; i++) {
        if (op == OP_RECLAIM && !strcmp(argv[i], "dry-run")) {
            e.opts.dry_run = true;
        } else if (op == OP_SPLICE ? !parse_edit(&e, argv[i])
                                   : !parse_option(&e, argv[i])) {
            return usage();
        }
    }
    e.opts.cancel = &cancel;
    io = fault_io_open(argv[3], mode, n, seed, &err);
    if (io) {
        fault_io_set_cancel_flag(io, &cancel);
        /* The image owns io from here; keep it alive to apply the loss. */
        img = qcow2_open_io(io, NULL, argv[3], QCOW2_OPEN_WRITABLE, &err);
    }
    if (!img) {
        fprintf(stderr, "qcow2-crashtest: %s\n", err->message);
        return 3;
    }
    sn = op == OP_RECLAIM ? NULL : qcow2_snapshot_find(img, argv[4], &err);
    ok = (sn || op == OP_RECLAIM) &&
         run_op(op, img, sn, op == OP_RESTORE ? argv[5] : NULL, &e, &st, &err);
    fs = fault_io_stats(io);
    if (mode == FAULT_POWER && fs->fired) {
        GError *perr = NULL;
        if (!fault_io_power_loss(io, &perr)) {
            fprintf(stderr, "qcow2-crashtest: %s\n", perr->message);
            g_error_free(perr);
            rc = 3;
        }
    }
    printf("result=%s code=%d fired=%d writes=%" PRIu64 " flushes=%" PRIu64
           " lost=%" PRIu64 " torn=%" PRIu64 " kept=%" PRIu64
           " size_before=%" PRIu64 " size_after=%" PRIu64
           " allocated_before=%" PRIu64 " allocated_after=%" PRIu64
           " discarded=%" PRIu64 " leaked=%" PRIu64 " left=%" PRIu64
           " freed=%" PRIu64 "\n",
           ok ? "ok" : "error", ok ? 0 : err->code, fs->fired, fs->writes,
           fs->flushes, fs->lost_writes, fs->torn_writes, fs->kept_writes,
           st.file_size_before, st.file_size_after, st.allocated_before,
           st.allocated_after, st.discarded_bytes, st.leaked_clusters,
           st.leaks_left, st.clusters_freed);
    printf("%s\n", ok ? "" : err->message);
    g_clear_error(&err);
    qcow2_close(img);
    g_array_free(e.edits, true);
    g_ptr_array_free(e.bufs, true);
    return rc;
}

static bool vmstate_equals(Qcow2Image *img, const Qcow2Snapshot *sn,
                           const char *path, bool *equal, GError **errp)
{
    g_autofree char *want = NULL;
    g_autofree uint8_t *got = NULL;
    gsize len;

    *equal = false;
    if (!g_file_get_contents(path, &want, &len, errp)) {
        return false;
    }
    if (len != sn->vm_state_size) {
        return true;
    }
    got = g_malloc(MAX(len, 1));
    if (!qcow2_read_vmstate(img, sn, 0, got, len, errp)) {
        return false;
    }
    *equal = !memcmp(got, want, len);
    return true;
}

static int cmd_verify(int argc, char **argv)
{
    GError *err = NULL;
    Qcow2Image *img;
    const Qcow2Snapshot *sn;
    bool is_old = false, is_new = false;
    int rc = 0;

    if (argc < 4) {
        return usage();
    }
    img = qcow2_open(argv[0], QCOW2_OPEN_READ_ONLY, &err);
    sn = img ? qcow2_snapshot_find(img, argv[1], &err) : NULL;
    if (!sn || !vmstate_equals(img, sn, argv[2], &is_old, &err) ||
        !vmstate_equals(img, sn, argv[3], &is_new, &err)) {
        printf("state=unreadable: %s\n", err->message);
        g_error_free(err);
        qcow2_close(img);
        return 1;
    }
    if (!is_old && !is_new) {
        printf("state=neither (%" PRIu64 " bytes)\n", sn->vm_state_size);
        rc = 1;
    } else {
        printf("state=%s\n", is_new ? "new" : "old");
    }
    for (int i = 4; i < argc; i++) {
        g_auto(GStrv) kv = g_strsplit(argv[i], "=", 2);
        const Qcow2Snapshot *other = qcow2_snapshot_find(img, kv[0], &err);
        bool same = false;

        if (!other || !vmstate_equals(img, other, kv[1], &same, &err)) {
            printf("other %s: unreadable: %s\n", kv[0], err->message);
            g_clear_error(&err);
            rc = 1;
        } else if (!same) {
            printf("other %s: VM state changed\n", kv[0]);
            rc = 1;
        }
    }
    qcow2_close(img);
    return rc;
}

static int cmd_hold(int argc, char **argv)
{
    GError *err = NULL;
    Qcow2Image *img;
    char buf[64];

    if (argc != 1) {
        return usage();
    }
    img = qcow2_open(argv[0], QCOW2_OPEN_WRITABLE, &err);
    if (!img) {
        printf("refused: %s\n", err->message);
        g_error_free(err);
        return 1;
    }
    printf("locked\n");
    fflush(stdout);
    while (fread(buf, 1, sizeof(buf), stdin) > 0) {
    }
    qcow2_close(img);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "run")) {
        return cmd_run(OP_SPLICE, argc - 2, argv + 2);
    }
    if (argc >= 2 && !strcmp(argv[1], "restore")) {
        return cmd_run(OP_RESTORE, argc - 2, argv + 2);
    }
    if (argc >= 2 && !strcmp(argv[1], "delete")) {
        return cmd_run(OP_DELETE, argc - 2, argv + 2);
    }
    if (argc >= 2 && !strcmp(argv[1], "reclaim")) {
        return cmd_run(OP_RECLAIM, argc - 2, argv + 2);
    }
    if (argc >= 2 && !strcmp(argv[1], "hold")) {
        return cmd_hold(argc - 2, argv + 2);
    }
    if (argc >= 2 && !strcmp(argv[1], "verify")) {
        return cmd_verify(argc - 2, argv + 2);
    }
    return usage();
}
