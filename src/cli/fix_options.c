/*
 * The options `fix`, `translate` and `scan` share, turned into the
 * application's AppOptions, and their --help text.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "fix.h"

/* After the targets' paragraph, which is built from the target table. */
static const char fix_options_help[] =
    "Each rule that fires is reported with the evidence from the stream,\n"
    "what it does (edit, setting, loss, refuse) and the resume recipe: the\n"
    "machine type, accelerator and QEMU options to add to the VM's own\n"
    "device options, the files they refer to, and libvirt XML fragments.\n"
    "\n"
    "  --shrink-vram   cut a 16 MiB cirrus vga.vram to the target's 8 MiB\n"
    "                  (refused unless every page above the cut is a fill\n"
    "                  page) instead of -global cirrus-vga.vgamem_mb=16\n"
    "  --drop-roms     remove option ROM blocks of another size instead of\n"
    "                  extracting them to files for romfile=\n"
    "  --keep-block-sections  keep 0.15/1.0's empty 'block' sections (R9):\n"
    "                  the targets load them, and removing them shifts and\n"
    "                  rewrites the whole VM state\n"
    "  --rom-dir DIR   where extracted ROM/BIOS/flash files go (default:\n"
    "                  beside the image or input file)\n"
    "  --drop-section NAME  remove a section the target cannot load (idstr\n"
    "                  or device name; repeatable): its state is lost\n"
    "  --accept-loss RULE[,RULE]  take the loss a rule's refusal names as\n"
    "                  its way out (reported as a 'loss' finding):\n"
    "@LOSS_RULES@"
    "\n"
    "Exit codes: 0 fixed, or nothing to do (already compatible, or no\n"
    "snapshot holds VM state: the report says which); 4 refused (the\n"
    "reason is printed, nothing written); 2 bad command line; 5 I/O error;\n"
    "6 image in use by a running QEMU; 7 needs repair; 8 unsupported image\n"
    "feature; 9 no such snapshot, or the one named has no VM state; 10-13\n"
    "malformed qcow2 structures; 14 the VM state does not parse; 15\n"
    "several snapshots with different results; 16 no space left; 21\n"
    "several snapshots hold VM state and none was named (--snapshot or\n"
    "--all); 70 internal error (including a fix whose result did not\n"
    "verify).\n";

char *fix_common_help(bool with_exit_codes)
{
    const TrTarget *const *t = tr_targets();
    GString *s = g_string_new("Targets (--target):\n");
    const char *end =
        with_exit_codes ? NULL : strstr(fix_options_help, "\nExit codes:");

    for (guint i = 0; t[i]; i++) {
        g_string_append_printf(s, "  %-10s %s%s\n", tr_target_name(t[i]),
                               tr_target_description(t[i]),
                               t[i] == tr_target_default() ? " (default)" : "");
    }
    g_string_append_c(s, '\n');
    g_string_append_len(s, fix_options_help,
                        end ? end - fix_options_help + 1 : -1);
    g_auto(GStrv) losses = tr_loss_rules();
    g_autoptr(GString) lines = g_string_new(NULL);
    for (guint i = 0; losses[i]; i++) {
        g_string_append_printf(lines, "                  %s\n", losses[i]);
    }
    g_string_replace(s, "@LOSS_RULES@", lines->str, 1);
    return g_string_free(s, false);
}

static GOptionEntry *fix_option_entries(FixOptions *o, unsigned hidden)
{
    g_autofree char *names = app_target_names();

    g_free(o->target_help);
    o->target_help = g_strdup_printf(
        "Target QEMU: %s, or auto (the profile of qemu-system-x86_64 or "
        "of --qemu)",
        names);
    GOptionEntry entries[] = {
        {"target", 0, 0, G_OPTION_ARG_STRING, &o->target_name, o->target_help,
         "TARGET"},
        {"qemu", 0, 0, G_OPTION_ARG_STRING, &o->qemu,
         "The target QEMU (a program or a wrapper command): its profile, "
         "unless --target names a shipped one; prove runs it",
         "CMD"},
        {"cache-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->cache_dir,
         "Where profiles of QEMU binaries are kept (default: "
         "$XDG_CACHE_HOME/qsnapfix/targets)",
         "DIR"},
        {"machine", 0, 0, G_OPTION_ARG_STRING, &o->machine,
         "Machine type for the recipe (default: from the target and stream)",
         "TYPE"},
        {"dry-run", 'n', hidden & FIX_HIDE_DRY_RUN ? G_OPTION_FLAG_HIDDEN : 0,
         G_OPTION_ARG_NONE, &o->dry_run,
         "Show the edits and the recipe; write nothing", NULL},
        {"shrink-vram", 0, 0, G_OPTION_ARG_NONE, &o->shrink_vram,
         "Cut a 16 MiB cirrus vga.vram (R4) instead of asking for "
         "vgamem_mb=16",
         NULL},
        {"drop-roms", 0, 0, G_OPTION_ARG_NONE, &o->drop_roms,
         "Remove option ROMs of another size (R6) instead of extracting them",
         NULL},
        {"keep-block-sections", 0, 0, G_OPTION_ARG_NONE,
         &o->keep_block_sections,
         "R9: keep qemu-kvm 0.15/1.0's empty 'block' sections (no full "
         "rewrite)",
         NULL},
        {"rom-dir", 0, hidden & FIX_HIDE_ROM_DIR ? G_OPTION_FLAG_HIDDEN : 0,
         G_OPTION_ARG_FILENAME, &o->rom_dir,
         "Directory for extracted ROM/BIOS/flash files", "DIR"},
        {"drop-section", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->drop_sections,
         "Remove this section (its state is lost); repeatable", "NAME"},
        {"accept-loss", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->accept_loss,
         "Take the loss these rules describe (their refusal's way out)",
         "RULE[,RULE]"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    return g_memdup2(entries, sizeof(entries));
}

static bool fix_options_finish(FixOptions *o, GError **errp)
{
    const TrTarget *target = app_target_choose(o->target_name, o->qemu,
                                               o->cache_dir, &o->probe, errp);

    if (!target) {
        return false;
    }
    if (o->probe) {
        /* --target=auto, or --qemu without --target */
        o->qemu_profiled = true;
        fprintf(stderr, "qsnapfix: target %s\n",
                app_target_probe_origin(o->probe));
    }
    if (o->accept_loss) {
        char **rules = app_accept_loss_parse(o->accept_loss, errp);
        if (!rules) {
            return false;
        }
        g_strfreev(o->accept_loss);
        o->accept_loss = rules;
    }
    if (o->rom_dir && !g_file_test(o->rom_dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--rom-dir %s: not a directory", o->rom_dir);
        return false;
    }
    o->app = (AppOptions){
        .target = target,
        .machine = o->machine,
        .rom_dir = o->rom_dir,
        .drop_sections = (const char *const *)o->drop_sections,
        .accept_loss = (const char *const *)o->accept_loss,
        .shrink_vram = o->shrink_vram,
        .drop_roms = o->drop_roms,
        .keep_block_sections = o->keep_block_sections,
        .keep_original = o->keep_original,
        .reclaim_leaks = o->reclaim_leaks,
        .dry_run = o->dry_run,
    };
    return true;
}

void fix_options_clear(FixOptions *o)
{
    g_free(o->target_name);
    g_free(o->machine);
    g_free(o->rom_dir);
    g_strfreev(o->drop_sections);
    g_strfreev(o->accept_loss);
    g_free(o->target_help);
    g_free(o->qemu);
    g_free(o->cache_dir);
    app_target_probe_free(o->probe);
}

int fix_parse_command(CliCommand *c, const GOptionEntry *own, FixOptions *o,
                      unsigned hidden, int *argc, char ***argv)
{
    g_autofree GOptionEntry *shared = fix_option_entries(o, hidden);
    g_autoptr(GError) err = NULL;
    int rc = cli_parse(c, own, shared, argc, argv);

    if (rc < 0 && !fix_options_finish(o, &err)) {
        rc = cli_fail(c, NULL, err);
    }
    return rc;
}
