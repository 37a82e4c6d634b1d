/*
 * Shared by `fix` and `translate`: options, the analysis of one stream,
 * the verification after a write, and the files the recipe refers to.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "exit_codes.h"
#include "fix.h"
#include "stream/layout.h"

const char fix_common_help[] =
    "Targets (--target): qemu-7.2 (default; Debian 12's QEMU with machine\n"
    "pc-i440fx-1.4), qemu-10.0 (Debian 13's QEMU with its oldest i440fx\n"
    "machine, pc-i440fx-2.4; the VM state grows: a CONFIGURATION record,\n"
    "section footers and fill pages expanded) and qemu-2.1 (stock upstream\n"
    "1.7-2.2, e.g. Fedora 21, with the source's own machine type).\n"
    "\n"
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
    "\n"
    "Exit codes: 0 fixed; 3 nothing to do (already compatible); 4 refused\n"
    "(the reason is printed, nothing written); 2 bad command line; 5 I/O\n"
    "error; 6 image in use by a running QEMU; 7 needs repair; 8 unsupported\n"
    "image feature; 9 no such snapshot / no VM state; 10-13 malformed\n"
    "qcow2 structures; 14 the VM state does not parse; 15 several\n"
    "snapshots with different results; 16 no space left; 70 internal error\n"
    "(including a fix whose result did not verify).\n";

GOptionEntry *fix_option_entries(FixOptions *o)
{
    GOptionEntry entries[] = {
        {"target", 0, 0, G_OPTION_ARG_STRING, &o->target_name,
         "Target QEMU: qemu-7.2 (default), qemu-10.0 or qemu-2.1", "TARGET"},
        {"machine", 0, 0, G_OPTION_ARG_STRING, &o->machine,
         "Machine type for the recipe (default: from the target and stream)",
         "TYPE"},
        {"dry-run", 'n', 0, G_OPTION_ARG_NONE, &o->dry_run,
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
        {"rom-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->rom_dir,
         "Directory for extracted ROM/BIOS/flash files", "DIR"},
        {"drop-section", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->drop_sections,
         "Remove this section (its state is lost); repeatable", "NAME"},
        {"output", 0, 0, G_OPTION_ARG_STRING, &o->output_format,
         "Report format: human (default) or json", "FORMAT"},
        {"help", 'h', 0, G_OPTION_ARG_NONE, &o->help, "Show this help", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    return g_memdup2(entries, sizeof(entries));
}

bool fix_options_finish(FixOptions *o, GError **errp)
{
    if (!qsnapfix_parse_output(o->output_format, &o->format, errp)) {
        return false;
    }
    o->target =
        o->target_name ? tr_target_find(o->target_name) : tr_target_default();
    if (!o->target) {
        g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "unknown --target '%s' (known: qemu-7.2, qemu-10.0, "
                    "qemu-2.1)",
                    o->target_name);
        return false;
    }
    if (o->rom_dir && !g_file_test(o->rom_dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--rom-dir %s: not a directory", o->rom_dir);
        return false;
    }
    return true;
}

void fix_options_clear(FixOptions *o)
{
    g_free(o->target_name);
    g_free(o->machine);
    g_free(o->rom_dir);
    g_strfreev(o->drop_sections);
    g_free(o->output_format);
}

int fix_parse_command(const FixCommand *cmd, FixOptions *o, int *argc,
                      char ***argv)
{
    g_autofree GOptionEntry *shared = fix_option_entries(o);
    /* NULL: the usage line names what G_OPTION_REMAINING describes. */
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) err = NULL;
    int rc;

    for (GOptionEntry *x = shared; cmd->hide_dry_run && x->long_name; x++) {
        if (!strcmp(x->long_name, "dry-run")) {
            x->flags |= G_OPTION_FLAG_HIDDEN;
        }
    }
    g_option_context_set_summary(ctx, cmd->summary);
    g_option_context_set_description(ctx, cmd->description);
    g_option_context_add_main_entries(ctx, cmd->entries, NULL);
    g_option_context_add_main_entries(ctx, shared, NULL);
    g_set_prgname(cmd->prgname);
    rc = qsnapfix_parse_options(ctx, argc, argv, &o->help);
    if (rc < 0 && !fix_options_finish(o, &err)) {
        rc = qsnapfix_report(err);
    }
    return rc;
}

const char *fix_status_name(FixStatus s)
{
    switch (s) {
    case FIX_FIXED:
        return "fixed";
    case FIX_COMPATIBLE:
        return "compatible";
    case FIX_REFUSED:
        return "refused";
    case FIX_ERROR:
        return "error";
    }
    return "?";
}

FixOutcome *fix_outcome_new(const char *id, const char *name)
{
    FixOutcome *o = g_new0(FixOutcome, 1);

    o->id = g_strdup(id);
    o->name = g_strdup(name);
    return o;
}

void fix_outcome_free(FixOutcome *o)
{
    if (!o) {
        return;
    }
    g_free(o->id);
    g_free(o->name);
    vms_writer_info_free(o->writer);
    tr_result_free(o->result);
    g_clear_error(&o->error);
    g_free(o->kept_as);
    g_free(o);
}

void fix_outcome_take_result(FixOutcome *o, TrResult *r, uint64_t old_size)
{
    tr_result_free(o->result);
    o->result = r;
    o->old_size = o->new_size = old_size;
    if (r->refused) {
        o->status = FIX_REFUSED;
    } else if (r->edits->len) {
        o->status = FIX_FIXED;
        o->new_size = r->new_size;
    } else {
        o->status = FIX_COMPATIBLE;
    }
}

void fix_outcome_fail(FixOutcome *o, GError *err)
{
    g_clear_error(&o->error);
    o->error = err;
    o->status = FIX_ERROR;
}

int fix_outcome_exit_code(const FixOutcome *o)
{
    switch (o->status) {
    case FIX_FIXED:
        return QSNAPFIX_EXIT_OK;
    case FIX_COMPATIBLE:
        return QSNAPFIX_EXIT_NOTHING_TO_DO;
    case FIX_REFUSED:
        return QSNAPFIX_EXIT_REFUSED;
    case FIX_ERROR:
        return o->error ? qsnapfix_exit_code(o->error) : QSNAPFIX_EXIT_INTERNAL;
    }
    return QSNAPFIX_EXIT_INTERNAL;
}

int fix_exit_code(GPtrArray *outcomes)
{
    bool any_fixed = false, any_failed = false, all_failed = true;
    int failed_code = -1;

    for (guint i = 0; i < outcomes->len; i++) {
        const FixOutcome *o = g_ptr_array_index(outcomes, i);
        bool failed = o->status == FIX_REFUSED || o->status == FIX_ERROR;
        int code = fix_outcome_exit_code(o);

        any_fixed |= o->status == FIX_FIXED;
        any_failed |= failed;
        all_failed &= failed;
        if (failed) {
            failed_code = failed_code < 0 || failed_code == code
                              ? code
                              : QSNAPFIX_EXIT_PARTIAL;
        }
    }
    if (!outcomes->len) {
        return QSNAPFIX_EXIT_NOTHING_TO_DO;
    }
    if (any_failed) {
        return all_failed ? failed_code : QSNAPFIX_EXIT_PARTIAL;
    }
    return any_fixed ? QSNAPFIX_EXIT_OK : QSNAPFIX_EXIT_NOTHING_TO_DO;
}

char *fix_safe_name(const char *s)
{
    char *r = g_strdup(s && *s ? s : "snapshot");

    for (char *c = r; *c; c++) {
        if (!g_ascii_isalnum(*c) && *c != '.' && *c != '-' && *c != '_') {
            *c = '_';
        }
    }
    return r;
}

void fix_snapshot_file_names(const FixOptions *o, const char *image,
                             const char *snapshot_name, char **dir,
                             char **prefix)
{
    g_autofree char *abs = g_canonicalize_filename(image, NULL);
    g_autofree char *base = g_path_get_basename(abs);
    g_autofree char *safe = fix_safe_name(snapshot_name);

    *dir = o->rom_dir ? g_canonicalize_filename(o->rom_dir, NULL)
                      : g_path_get_dirname(abs);
    *prefix = g_strdup_printf("%s.%s", base, safe);
}

TrOptions fix_tr_options(const FixOptions *o, const char *file_dir,
                         const char *file_prefix)
{
    TrOptions t = {
        .target = o->target,
        .machine = o->machine,
        .shrink_vram = o->shrink_vram,
        .drop_roms = o->drop_roms,
        .keep_block_sections = o->keep_block_sections,
        .file_dir = file_dir,
        .file_prefix = file_prefix,
        .drop_sections = (const char *const *)o->drop_sections,
    };
    return t;
}

static VmsStream *parse_all(VmsSource *src, GError **errp)
{
    VmsParseOptions popts = {.flags = VMS_PARSE_RECORD_PAGES};
    return vms_stream_parse(src, &popts, errp);
}

bool fix_analyse(FixOutcome *out, VmsSource *src, const FixOptions *o,
                 const char *file_dir, const char *file_prefix,
                 VmsStream **stream_out, GError **errp)
{
    g_autoptr(VmsStream) s = parse_all(src, errp);
    TrOptions t = fix_tr_options(o, file_dir, file_prefix);
    TrResult *r;

    if (!s) {
        return false;
    }
    out->writer = vms_fingerprint(s);
    r = tr_translate(s, src, &t, errp);
    if (!r) {
        return false;
    }
    fix_outcome_take_result(out, r, s->size);
    *stream_out = g_steal_pointer(&s);
    return true;
}

Qcow2Edit *fix_qcow2_edits(const TrResult *r)
{
    Qcow2Edit *e = g_new0(Qcow2Edit, r->edits->len ? r->edits->len : 1);

    for (guint i = 0; i < r->edits->len; i++) {
        const TrEdit *t = &g_array_index(r->edits, TrEdit, i);
        gsize len;
        e[i].offset = t->offset;
        e[i].old_length = t->old_length;
        e[i].data = g_bytes_get_data(t->data, &len);
        e[i].length = len;
    }
    return e;
}

bool fix_verify(VmsSource *written, const FixOptions *o, const char *file_dir,
                const char *file_prefix, const TrResult *first, GError **errp)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VmsStream) s = parse_all(written, &err);
    TrOptions t = fix_tr_options(o, file_dir, file_prefix);
    g_autoptr(TrResult) again = NULL;

    /* The fix removes the evidence the machine type was inferred from
     * (qemu-kvm's piix4_pm v2): check against the same machine. */
    t.machine = first->recipe->machine;

    if (!s) {
        g_set_error(errp, TR_ERROR, TR_ERROR_STREAM,
                    "the written VM state does not parse: %s", err->message);
        return false;
    }
    if (s->size != first->new_size) {
        g_set_error(errp, TR_ERROR, TR_ERROR_STREAM,
                    "the written VM state is %" PRIu64 " bytes, %" PRIu64
                    " expected",
                    s->size, first->new_size);
        return false;
    }
    again = tr_translate(s, written, &t, &err);
    if (!again) {
        g_set_error(errp, TR_ERROR, TR_ERROR_STREAM, "the written VM state: %s",
                    err->message);
        return false;
    }
    if (again->refused || again->edits->len) {
        const TrFinding *f = tr_result_refusal(again);
        for (guint i = 0; !f && i < again->findings->len; i++) {
            const TrFinding *x = g_ptr_array_index(again->findings, i);
            f = x->action == TR_ACTION_EDIT ? x : NULL;
        }
        g_set_error(errp, TR_ERROR, TR_ERROR_STREAM,
                    "the written VM state still needs %s (%s: %s)",
                    again->refused ? "a refusal" : "edits", f ? f->rule : "?",
                    f ? f->evidence : "?");
        return false;
    }
    if (!tr_recipe_same_settings(first->recipe, again->recipe)) {
        g_autofree char *a = tr_recipe_command_line(first->recipe);
        g_autofree char *b = tr_recipe_command_line(again->recipe);
        g_set_error(errp, TR_ERROR, TR_ERROR_STREAM,
                    "the written VM state asks for other settings: '%s' "
                    "instead of '%s'",
                    b, a);
        return false;
    }
    return true;
}

/* Write path only if its content differs, through a temporary file. */
static bool write_file(const char *path, GBytes *bytes, GError **errp)
{
    g_autofree char *old = NULL;
    gsize old_len = 0, len;
    const uint8_t *data = g_bytes_get_data(bytes, &len);

    if (g_file_get_contents(path, &old, &old_len, NULL) && old_len == len &&
        !memcmp(old, data, len)) {
        return true;
    }
    if (!g_file_set_contents_full(path, (const char *)data, (gssize)len,
                                  G_FILE_SET_CONTENTS_CONSISTENT, 0644, errp)) {
        g_prefix_error(errp, "cannot write a recipe file: ");
        return false;
    }
    return true;
}

GPtrArray *fix_read_files(const TrResult *r, const VmsStream *s, VmsSource *src,
                          GError **errp)
{
    g_autoptr(GPtrArray) all =
        g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);

    for (guint i = 0; i < r->recipe->files->len; i++) {
        const TrFile *f = g_ptr_array_index(r->recipe->files, i);
        GBytes *bytes = tr_extract_block(s, src, f->block_index, errp);
        if (!bytes) {
            return NULL;
        }
        g_ptr_array_add(all, bytes);
    }
    return g_steal_pointer(&all);
}

bool fix_write_files(const TrResult *r, GPtrArray *contents, GError **errp)
{
    for (guint i = 0; i < r->recipe->files->len; i++) {
        const TrFile *f = g_ptr_array_index(r->recipe->files, i);
        if (!write_file(f->path, g_ptr_array_index(contents, i), errp)) {
            return false;
        }
    }
    return true;
}
