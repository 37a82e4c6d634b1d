/*
 * qsnapfix oldify IMAGE --snapshot S --as qemu-kvm-1.0|qemu-kvm-1.2|keep
 * [damage options]: the translator's rules run backwards on a snapshot
 * QEMU 7.2 wrote, written back through the same copy-on-write splice as
 * `fix`. A demo and test tool (not listed in `qsnapfix --help`): it makes
 * old-shaped snapshots from the project's own guest, and damaged ones from
 * real streams for the refusal tests.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "exit_codes.h"
#include "fix.h"
#include "source_qcow2.h"
#include "translate/backwards.h"

typedef struct OldifyCmd {
    char *snapshot;
    char *as;
    gboolean ram_id_zero;
    gint qxl_modes;
    gint64 vram_data_at;
    char *add_section;
    gboolean help;
    char **args;
} OldifyCmd;

static const char oldify_description[] =
    "Reshape the VM state of a snapshot QEMU 7.2 wrote (-M pc-i440fx-1.4)\n"
    "like one qemu-kvm wrote: every forward rule of `qsnapfix fix`, run\n"
    "backwards where the stream shows the 7.2 form (--as qemu-kvm-1.0:\n"
    "piix4_pm 3->2, i8254 3->2, rtl8139 5->4, uhci 3->2, USB named by port,\n"
    "balloon class 0x0500, 16 MiB cirrus vga.vram, 64 KiB NIC ROMs, empty\n"
    "'block' sections, no parallel_isa/globalstate/vmdesc; --as\n"
    "qemu-kvm-1.2: piix4_pm 3->2, system.flash0 -> system.flash, 16 KiB qxl\n"
    "ROM with PCI revision 3, no hpet, 16 MiB cirrus vga.vram; --as keep:\n"
    "only the options below). For demos and tests.\n"
    "\n"
    "Exit codes: 0 done; 2 bad command line; 5-16 as for `fix`.\n";

static int run_oldify(OldifyCmd *c, const char *image)
{
    g_autoptr(GError) err = NULL;
    Qcow2Image *img = qcow2_open(image, QCOW2_OPEN_WRITABLE, &err);
    const Qcow2Snapshot *sn;
    g_autoptr(VmsSource) src = NULL;
    g_autoptr(VmsStream) s = NULL;
    g_autoptr(TrResult) r = NULL;
    VmsParseOptions popts = {.flags = VMS_PARSE_RECORD_PAGES};
    TrBackwardsOptions bo = {
        .as = c->as,
        .ram_id_zero = c->ram_id_zero,
        .qxl_modes = (uint32_t)c->qxl_modes,
        .vram_data_at = (uint64_t)c->vram_data_at,
        .add_section = c->add_section,
    };
    Qcow2SpliceOptions so = {0};
    Qcow2SpliceStats st = {0};
    g_autofree Qcow2Edit *edits = NULL;
    g_autofree char *id = NULL;

    if (!img) {
        return qsnapfix_report(err);
    }
    sn = qcow2_snapshot_find(img, c->snapshot, &err);
    src = sn ? qsnapfix_source_qcow2(img, sn, &err) : NULL;
    s = src ? vms_stream_parse(src, &popts, &err) : NULL;
    r = s ? tr_backwards(s, src, &bo, &err) : NULL;
    if (!r) {
        qcow2_close(img);
        return qsnapfix_report(err);
    }
    id = g_strdup(sn->id);
    edits = fix_qcow2_edits(r);
    for (guint i = 0; i < r->findings->len; i++) {
        const TrFinding *f = g_ptr_array_index(r->findings, i);
        printf("  %-7s %s: %s (%s)\n", f->rule, f->subject, f->change,
               f->evidence);
    }
    if (r->edits->len &&
        !qcow2_splice_vmstate(img, sn, edits, r->edits->len, &so, &st, &err)) {
        qcow2_close(img);
        return qsnapfix_report(err);
    }
    /* The result must still be a stream, to EOF. */
    vms_stream_free(g_steal_pointer(&s));
    vms_source_free(g_steal_pointer(&src));
    sn = qcow2_snapshot_find(img, id, &err);
    src = sn ? qsnapfix_source_qcow2(img, sn, &err) : NULL;
    s = src ? vms_stream_parse(src, &popts, &err) : NULL;
    if (!s) {
        g_prefix_error(&err, "%s: the reshaped VM state: ", image);
        vms_source_free(g_steal_pointer(&src));
        qcow2_close(img);
        return qsnapfix_report(err);
    }
    printf("%s: snapshot %s reshaped (%s): %u edit(s), VM state %" PRIu64
           " -> %" PRIu64 " bytes\n",
           image, id, c->as, r->edits->len, r->old_size, r->new_size);
    vms_stream_free(g_steal_pointer(&s));
    vms_source_free(g_steal_pointer(&src));
    qcow2_close(img);
    return QSNAPFIX_EXIT_OK;
}

int qsnapfix_cmd_oldify(int argc, char **argv)
{
    OldifyCmd c = {0};
    GOptionEntry entries[] = {
        {"snapshot", 's', 0, G_OPTION_ARG_STRING, &c.snapshot,
         "The snapshot (required)", "ID|NAME"},
        {"as", 0, 0, G_OPTION_ARG_STRING, &c.as,
         "qemu-kvm-1.0 (default), qemu-kvm-1.2 or keep", "SHAPE"},
        {"ram-id-zero", 0, 0, G_OPTION_ARG_NONE, &c.ram_id_zero,
         "Give the live ram records section id 0 (R8)", NULL},
        {"qxl-modes", 0, 0, G_OPTION_ARG_INT, &c.qxl_modes,
         "Set the qxl ROM's mode count to N (R10 refusal)", "N"},
        {"vram-data-at", 0, 0, G_OPTION_ARG_INT64, &c.vram_data_at,
         "Turn vga.vram's fill page at OFFSET into data (R4 refusal)",
         "OFFSET"},
        {"add-section", 0, 0, G_OPTION_ARG_STRING, &c.add_section,
         "Add a FULL section IDSTR the target lacks", "IDSTR"},
        {"help", 'h', 0, G_OPTION_ARG_NONE, &c.help, "Show this help", NULL},
        {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &c.args, NULL,
         "IMAGE"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    int rc;

    g_option_context_set_summary(
        ctx, "qsnapfix oldify: reshape a 7.2 snapshot like qemu-kvm's");
    g_option_context_set_description(ctx, oldify_description);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_set_prgname("qsnapfix oldify");
    rc = qsnapfix_parse_options(ctx, &argc, &argv, &c.help);
    if (rc < 0 && (!c.args || g_strv_length(c.args) != 1 || !c.snapshot ||
                   c.qxl_modes < 0 || c.vram_data_at < 0)) {
        fprintf(stderr, "qsnapfix: oldify: need IMAGE and --snapshot (see "
                        "--help)\n");
        rc = QSNAPFIX_EXIT_USAGE;
    }
    if (rc < 0) {
        if (!c.as) {
            c.as = g_strdup("qemu-kvm-1.0");
        }
        rc = run_oldify(&c, c.args[0]);
    }
    g_free(c.snapshot);
    g_free(c.as);
    g_free(c.add_section);
    g_strfreev(c.args);
    return rc;
}
