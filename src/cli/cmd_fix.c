/*
 * qsnapfix fix IMAGE [--snapshot ID|NAME | --all]: translate snapshots'
 * VM state in place so that the target QEMU loads them.
 *
 * Per snapshot: parse the VM state to EOF, run the rules, and (unless
 * refused or already compatible) hand the edit list to
 * qcow2_splice_vmstate(), which rewrites copy-on-write and commits the
 * snapshot table atomically. Then the new VM state is read back, parsed to
 * EOF and run through the rules again: nothing may be left to do before
 * success is reported. The recipe's files (extracted ROM/BIOS/flash
 * images) are written before the splice, so that an unwritable --rom-dir
 * stops the fix before the image is touched. --dry-run runs the same splice in
 * planning mode: the same edits, the same statistics, nothing written.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "exit_codes.h"
#include "fix.h"
#include "source_qcow2.h"

typedef struct FixCmd {
    FixOptions o;
    char *snapshot;
    gboolean all;
    char **args;
} FixCmd;

static const char fix_description_head[] =
    "Make the VM state of IMAGE's internal snapshots load in the target\n"
    "QEMU. With one snapshot holding VM state, that one is fixed; with\n"
    "several, name one (--snapshot, by ID or name as QEMU looks it up) or\n"
    "use --all. The rewrite is copy-on-write (unchanged clusters stay\n"
    "shared) and the snapshot table is switched in one atomic write; the\n"
    "result is read back and checked before success is reported.\n"
    "--keep-original keeps the old VM state as snapshot NAME.orig.\n"
    "\n";

static bool splice_options_for(const FixCmd *c, const Qcow2Snapshot *sn,
                               Qcow2SpliceOptions *so, char **keep_name)
{
    memset(so, 0, sizeof(*so));
    so->dry_run = c->o.dry_run;
    if (c->o.keep_original) {
        *keep_name = g_strdup_printf("%s.orig", sn->name);
        so->keep_original_name = *keep_name;
    }
    return true;
}

static void take_stats(FixOutcome *out, const Qcow2SpliceStats *st)
{
    out->have_stats = true;
    out->clusters_written = st->clusters_written;
    out->clusters_shared = st->clusters_shared;
    out->clusters_freed = st->clusters_freed;
    out->metadata_clusters = st->metadata_clusters;
    out->bytes_written = st->bytes_written;
}

static void fix_one(const FixCmd *c, Qcow2Image *img, const char *image,
                    const char *snap_id, FixOutcome *out)
{
    GError *err = NULL;
    const Qcow2Snapshot *sn = qcow2_snapshot_find(img, snap_id, &err);
    g_autofree char *dir = NULL;
    g_autofree char *prefix = NULL;
    g_autoptr(VmsSource) src = NULL;
    g_autoptr(VmsStream) s = NULL;
    g_autoptr(GPtrArray) files = NULL;

    if (!sn) {
        fix_outcome_fail(out, err);
        return;
    }
    fix_snapshot_file_names(&c->o, image, sn->name, &dir, &prefix);
    src = qsnapfix_source_qcow2(img, sn, &err);
    if (!src || !fix_analyse(out, src, &c->o, dir, prefix, &s, &err)) {
        fix_outcome_fail(out, err);
        return;
    }
    if (out->status == FIX_REFUSED) {
        return;
    }
    /*
     * The recipe's files first: they come from the stream as read now (the
     * snapshot handle is stale once the splice commits), and a directory
     * they cannot be written to must stop us before the image is touched.
     */
    files = c->o.dry_run ? NULL : fix_read_files(out->result, s, src, &err);
    if (!c->o.dry_run &&
        (!files || !fix_write_files(out->result, files, &err))) {
        fix_outcome_fail(out, err);
        return;
    }
    if (out->status == FIX_FIXED) {
        Qcow2SpliceOptions so;
        Qcow2SpliceStats st = {0};
        g_autofree char *keep = NULL;
        g_autofree Qcow2Edit *edits = fix_qcow2_edits(out->result);

        splice_options_for(c, sn, &so, &keep);
        if (!qcow2_splice_vmstate(img, sn, edits, out->result->edits->len, &so,
                                  &st, &err)) {
            fix_outcome_fail(out, err);
            return;
        }
        take_stats(out, &st);
        out->wrote = !c->o.dry_run;
        out->kept_as = g_steal_pointer(&keep);
        if (st.new_size != out->result->new_size) {
            fix_outcome_fail(out, g_error_new(TR_ERROR, TR_ERROR_STREAM,
                                              "%s: snapshot %s: the write "
                                              "produced %" PRIu64
                                              " bytes of VM state, %" PRIu64
                                              " planned",
                                              image, snap_id, st.new_size,
                                              out->result->new_size));
            return;
        }
    }
    if (c->o.dry_run) {
        return;
    }
    if (out->status == FIX_FIXED) {
        const Qcow2Snapshot *now = qcow2_snapshot_find(img, out->id, &err);
        g_autoptr(VmsSource) again =
            now ? qsnapfix_source_qcow2(img, now, &err) : NULL;
        if (!again ||
            !fix_verify(again, &c->o, dir, prefix, out->result, &err)) {
            g_prefix_error(&err,
                           "%s: snapshot %s \"%s\": after the fix: ", image,
                           out->id, out->name);
            fix_outcome_fail(out, err);
        }
    }
}

/* Snapshots to work on: --snapshot, --all, or the only one with VM state. */
static GPtrArray *pick_snapshots(const FixCmd *c, Qcow2Image *img,
                                 const char *image, GError **errp)
{
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
    guint with_state = 0;

    if (c->snapshot) {
        const Qcow2Snapshot *sn = qcow2_snapshot_find(img, c->snapshot, errp);
        if (!sn) {
            g_ptr_array_unref(ids);
            return NULL;
        }
        g_ptr_array_add(ids, g_strdup(sn->id));
        return ids;
    }
    for (guint i = 0; i < qcow2_snapshot_count(img); i++) {
        const Qcow2Snapshot *sn = qcow2_snapshot_get(img, i);
        if (sn->vm_state_size) {
            with_state++;
            g_ptr_array_add(ids, g_strdup(sn->id));
        }
    }
    if (!with_state) {
        g_set_error(errp, QCOW2_ERROR, QCOW2_ERROR_NOT_FOUND,
                    "%s: no snapshot holds VM state (nothing to fix)", image);
        g_ptr_array_unref(ids);
        return NULL;
    }
    if (with_state > 1 && !c->all) {
        g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "%s: %u snapshots hold VM state: name one with "
                    "--snapshot or use --all",
                    image, with_state);
        g_ptr_array_unref(ids);
        return NULL;
    }
    return ids;
}

static void report(const FixCmd *c, const char *image, GPtrArray *outcomes,
                   int rc)
{
    if (c->o.format == QSNAPFIX_OUTPUT_JSON) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "image");
        json_builder_add_string_value(b, image);
        fix_print_json_report(b, &c->o, (FixOutcome *const *)outcomes->pdata,
                              outcomes->len, rc);
        return;
    }
    for (guint i = 0; i < outcomes->len; i++) {
        const FixOutcome *out = g_ptr_array_index(outcomes, i);
        g_autofree char *id = qsnapfix_printable(out->id);
        g_autofree char *name = qsnapfix_printable(out->name);
        g_autofree char *what =
            g_strdup_printf("%s: snapshot %s \"%s\"", image, id, name);
        g_autofree char *load = g_strdup_printf("-loadvm %s", name);
        fix_print_human(out, what, load, c->o.dry_run);
    }
}

/* One line per failed snapshot on stderr, as for every other error. */
static void report_failures(const char *image, GPtrArray *outcomes)
{
    for (guint i = 0; i < outcomes->len; i++) {
        const FixOutcome *out = g_ptr_array_index(outcomes, i);
        g_autofree char *what = g_strdup_printf("%s: snapshot %s \"%s\"", image,
                                                out->id, out->name);
        fix_print_failure(out, what);
    }
}

static int run_fix(FixCmd *c, const char *image)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) outcomes =
        g_ptr_array_new_with_free_func((GDestroyNotify)fix_outcome_free);
    Qcow2OpenFlags flags =
        c->o.dry_run ? QCOW2_OPEN_READ_ONLY : QCOW2_OPEN_WRITABLE;
    Qcow2Image *img = qcow2_open(image, flags, &err);
    g_autoptr(GPtrArray) ids = NULL;
    int rc;

    if (!img) {
        return qsnapfix_report(err);
    }
    ids = pick_snapshots(c, img, image, &err);
    if (!ids) {
        qcow2_close(img);
        return qsnapfix_report(err);
    }
    for (guint i = 0; i < ids->len; i++) {
        const char *id = g_ptr_array_index(ids, i);
        const Qcow2Snapshot *sn = qcow2_snapshot_find(img, id, NULL);
        FixOutcome *out = fix_outcome_new(id, sn ? sn->name : id);
        g_ptr_array_add(outcomes, out);
        fix_one(c, img, image, id, out);
    }
    qcow2_close(img);
    rc = fix_exit_code(outcomes);
    report(c, image, outcomes, rc);
    report_failures(image, outcomes);
    return rc;
}

int qsnapfix_cmd_fix(int argc, char **argv)
{
    FixCmd c = {0};
    GOptionEntry entries[] = {
        {"snapshot", 's', 0, G_OPTION_ARG_STRING, &c.snapshot,
         "The snapshot to fix, by ID or name", "ID|NAME"},
        {"all", 'a', 0, G_OPTION_ARG_NONE, &c.all,
         "Fix every snapshot that holds VM state", NULL},
        {"keep-original", 0, 0, G_OPTION_ARG_NONE, &c.o.keep_original,
         "Keep the old VM state as snapshot NAME.orig", NULL},
        {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &c.args, NULL,
         "IMAGE"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autofree char *description =
        g_strconcat(fix_description_head, fix_common_help, NULL);
    FixCommand cmd = {
        .prgname = "qsnapfix fix",
        .summary = "qsnapfix fix: make old snapshots load in today's QEMU",
        .description = description,
        .entries = entries,
    };
    int rc = fix_parse_command(&cmd, &c.o, &argc, &argv);

    if (rc < 0 && (!c.args || g_strv_length(c.args) != 1)) {
        fprintf(stderr, "qsnapfix: fix: need exactly one IMAGE (see "
                        "--help)\n");
        rc = QSNAPFIX_EXIT_USAGE;
    }
    if (rc < 0 && c.snapshot && c.all) {
        fprintf(stderr, "qsnapfix: fix: --snapshot and --all exclude each "
                        "other\n");
        rc = QSNAPFIX_EXIT_USAGE;
    }
    if (rc < 0) {
        rc = run_fix(&c, c.args[0]);
    }
    fix_options_clear(&c.o);
    g_free(c.snapshot);
    g_strfreev(c.args);
    return rc;
}
