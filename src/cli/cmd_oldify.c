/*
 * qsnapfix oldify IMAGE --snapshot S --as qemu-kvm-1.0|qemu-kvm-1.2|keep
 * [damage options]: the translator's rules run backwards on a snapshot
 * QEMU 7.2 wrote, written back through the same copy-on-write splice as
 * `fix` (app_oldify()). A demo and test tool (not listed in `qsnapfix
 * --help`): it makes old-shaped snapshots from the project's own guest,
 * and damaged ones from real streams for the refusal tests.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "app/io.h"
#include "app/tools.h"
#include "cli.h"

static const char oldify_description[] =
    "Reshape the VM state of a snapshot QEMU 7.2 wrote (-M pc-i440fx-1.4)\n"
    "like one qemu-kvm wrote: every forward rule of `qsnapfix fix`, run\n"
    "backwards where the stream shows the 7.2 form (--as qemu-kvm-1.0:\n"
    "piix4_pm 3->2, i8254 3->2, rtl8139 5->4, uhci 3->2, USB named by port,\n"
    "balloon class 0x0500, 16 MiB cirrus vga.vram, 64 KiB NIC ROMs, empty\n"
    "'block' sections, no parallel_isa/globalstate/vmdesc; --as\n"
    "qemu-kvm-1.2: piix4_pm 3->2, ehci 2->1, system.flash0 -> system.flash,\n"
    "16 KiB qxl ROM with PCI revision 3, no hpet, 16 MiB cirrus vga.vram;\n"
    "--as keep:\n"
    "only the options below). For demos and tests.\n"
    "\n"
    "Exit codes: 0 done; 2 bad command line; 5-16 as for `fix`.\n";

int qsnapfix_cmd_oldify(int argc, char **argv)
{
    g_autofree char *snapshot = NULL, *as = NULL, *add_section = NULL;
    gboolean ram_id_zero = false;
    gint qxl_modes = 0;
    gint64 vram_data_at = 0;
    GOptionEntry entries[] = {
        {"snapshot", 's', 0, G_OPTION_ARG_FILENAME, &snapshot,
         "The snapshot (required)", "ID|NAME"},
        {"as", 0, 0, G_OPTION_ARG_STRING, &as,
         "qemu-kvm-1.0 (default), qemu-kvm-1.2 or keep", "SHAPE"},
        {"ram-id-zero", 0, 0, G_OPTION_ARG_NONE, &ram_id_zero,
         "Give the live ram records section id 0 (R8)", NULL},
        {"qxl-modes", 0, 0, G_OPTION_ARG_INT, &qxl_modes,
         "Set the qxl ROM's mode count to N (R10 refusal)", "N"},
        {"vram-data-at", 0, 0, G_OPTION_ARG_INT64, &vram_data_at,
         "Turn vga.vram's fill page at OFFSET into data (R4 refusal)",
         "OFFSET"},
        {"add-section", 0, 0, G_OPTION_ARG_STRING, &add_section,
         "Add a FULL section IDSTR the target lacks", "IDSTR"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    CliCommand c = {
        .name = "oldify",
        .operands = "IMAGE",
        .summary = "qsnapfix oldify: reshape a 7.2 snapshot like qemu-kvm's",
        .description = oldify_description,
    };
    int rc = cli_parse(&c, entries, NULL, &argc, &argv);

    if (rc < 0 && (g_strv_length(c.operand) != 1 ||
                   (!snapshot && !app_is_savefile(c.operand[0])) ||
                   qxl_modes < 0 || vram_data_at < 0)) {
        rc = cli_usage(&c, "need IMAGE and --snapshot (or a libvirt save "
                           "image)");
    }
    if (rc < 0) {
        g_autoptr(GError) err = NULL;
        g_autoptr(TrResult) r = NULL;
        g_autofree char *id = NULL;
        const char *image = c.operand[0];
        TrBackwardsOptions bo = {
            .as = as ? as : "qemu-kvm-1.0",
            .ram_id_zero = ram_id_zero,
            .qxl_modes = (uint32_t)qxl_modes,
            .vram_data_at = (uint64_t)vram_data_at,
            .add_section = add_section,
        };
        bool ok = app_oldify(image, snapshot, &bo, &r, &id, &err);

        for (guint i = 0; r && i < r->findings->len; i++) {
            const TrFinding *f = g_ptr_array_index(r->findings, i);
            printf("  %-7s %s: %s (%s)\n", f->rule, f->subject, f->change,
                   f->evidence);
        }
        if (ok) {
            g_autofree char *what = id ? g_strdup_printf("snapshot %s", id)
                                       : g_strdup("libvirt save image");
            printf("%s: %s reshaped (%s): %u edit(s), VM state "
                   "%" PRIu64 " -> %" PRIu64 " bytes\n",
                   image, what, bo.as, r->edits->len, r->old_size, r->new_size);
        }
        rc = ok ? APP_EXIT_OK : qsnapfix_report(err);
    }
    cli_command_clear(&c);
    return rc;
}
