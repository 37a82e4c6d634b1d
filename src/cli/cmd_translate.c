/*
 * qsnapfix translate IN OUT: the same translation as `fix`, on a raw
 * migration stream file (what `migrate "exec:cat > FILE"` writes). OUT is
 * written through a temporary file renamed into place, then read back,
 * parsed to EOF and checked like a fixed snapshot.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exit_codes.h"
#include "fix.h"
#include "stream_cmd.h"

#define COPY_CHUNK (4u * 1024 * 1024)

typedef struct TranslateCmd {
    FixOptions o;
    char **args;
    char *recipe; /* OUT '-': the recipe as JSON */
    char **also;  /* OUT '-': settings the stream's head cannot show */
} TranslateCmd;

static const char translate_description_head[] =
    "Translate the migration stream in file IN (IN may be '-' for stdin)\n"
    "and write the result to OUT, which must not be IN. With nothing to\n"
    "change, OUT is an identical copy and the exit code is 3.\n"
    "\n"
    "OUT '-' translates the stream as it flows, in one pass and bounded\n"
    "memory, to stdout (migrate \"exec:...\", -incoming \"exec:...\"): the\n"
    "recipe is decided from the stream's head and printed on stderr (and\n"
    "--recipe FILE) before the first byte is written; the device state at\n"
    "the end must agree with it (docs/streaming.md).\n"
    "\n";

static bool copy_range(VmsSource *src, uint64_t from, uint64_t to, int fd,
                       const char *path, uint8_t *buf, GError **errp)
{
    while (from < to) {
        size_t n = (size_t)MIN((uint64_t)COPY_CHUNK, to - from);
        if (!vms_source_read(src, from, buf, n, errp) ||
            !qsnapfix_write_all(fd, buf, n, path, errp)) {
            return false;
        }
        from += n;
    }
    return true;
}

typedef struct EditedJob {
    VmsSource *src;
    const GArray *edits;
} EditedJob;

/* Stream IN with the edits applied into fd (bounded memory). */
static bool write_edited(int fd, const char *path, void *opaque, GError **errp)
{
    const EditedJob *j = opaque;
    g_autofree uint8_t *buf = g_malloc(COPY_CHUNK);
    uint64_t pos = 0;

    for (guint i = 0; i < j->edits->len; i++) {
        const TrEdit *e = &g_array_index(j->edits, TrEdit, i);
        gsize len;
        const uint8_t *data = g_bytes_get_data(e->data, &len);

        if (!copy_range(j->src, pos, e->offset, fd, path, buf, errp) ||
            (len && !qsnapfix_write_all(fd, data, len, path, errp))) {
            return false;
        }
        pos = e->offset + e->old_length;
    }
    return copy_range(j->src, pos, j->src->size, fd, path, buf, errp);
}

static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;

    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

static void translate_one(const TranslateCmd *c, const char *in,
                          const char *out_path, FixOutcome *out)
{
    GError *err = NULL;
    bool from_stdin = !strcmp(in, "-");
    g_autofree char *abs =
        g_canonicalize_filename(from_stdin ? out_path : in, NULL);
    g_autofree char *dir = c->o.rom_dir
                               ? g_canonicalize_filename(c->o.rom_dir, NULL)
                               : g_path_get_dirname(abs);
    g_autofree char *prefix = g_path_get_basename(abs);
    g_autoptr(VmsSource) src = from_stdin ? vms_source_open_stdin(&err)
                                          : vms_source_open_file(in, &err);
    g_autoptr(VmsStream) s = NULL;
    g_autoptr(GPtrArray) files = NULL;
    EditedJob job = {src, NULL};

    if (!src || !fix_analyse(out, src, &c->o, dir, prefix, &s, &err)) {
        fix_outcome_fail(out, err);
        return;
    }
    if (out->status == FIX_REFUSED || c->o.dry_run) {
        return;
    }
    job.edits = out->result->edits;
    files = fix_read_files(out->result, s, src, &err);
    if (!files ||
        !qsnapfix_write_file_atomic(out_path, true, write_edited, &job, &err) ||
        !fix_write_files(out->result, files, &err)) {
        fix_outcome_fail(out, err);
        return;
    }
    out->wrote = true;
    if (out->status == FIX_FIXED) {
        g_autoptr(VmsSource) again = vms_source_open_file(out_path, &err);
        if (!again ||
            !fix_verify(again, &c->o, dir, prefix, out->result, &err)) {
            g_prefix_error(&err, "%s: after the translation: ", out_path);
            fix_outcome_fail(out, err);
        }
    }
}

static int run_translate(TranslateCmd *c, const char *in, const char *out_path)
{
    g_autoptr(FixOutcome) out = fix_outcome_new(NULL, in);
    int rc;

    if (!strcmp(out_path, "-")) {
        return qsnapfix_translate_stream(&c->o, in, c->recipe, c->also);
    }
    if (strcmp(in, "-") && same_file(in, out_path)) {
        fprintf(stderr,
                "qsnapfix: translate: %s: OUT is the same file as "
                "IN; write to another file\n",
                out_path);
        return QSNAPFIX_EXIT_USAGE;
    }
    translate_one(c, in, out_path, out);
    rc = fix_outcome_exit_code(out);
    if (c->o.format == QSNAPFIX_OUTPUT_JSON) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "input");
        json_builder_add_string_value(b, in);
        json_builder_set_member_name(b, "output");
        json_builder_add_string_value(b, out_path);
        fix_print_json_report(b, &c->o, &out, 1, rc);
    } else {
        g_autofree char *load =
            g_strdup_printf("-incoming \"exec:cat %s\"", out_path);
        fix_print_human(out, in, load, c->o.dry_run);
    }
    fix_print_failure(out, in);
    return rc;
}

int qsnapfix_cmd_translate(int argc, char **argv)
{
    TranslateCmd c = {0};
    GOptionEntry entries[] = {
        {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &c.args, NULL,
         "IN OUT"},
        {"recipe", 0, 0, G_OPTION_ARG_FILENAME, &c.recipe,
         "OUT '-': write the recipe as JSON to FILE (at the head, then at "
         "the end)",
         "FILE"},
        {"also", 0, 0, G_OPTION_ARG_STRING_ARRAY, &c.also,
         "OUT '-': a QEMU argument the target has although the stream's "
         "head cannot show it (repeatable, e.g. --also=-machine "
         "--also=hpet=off)",
         "ARG"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autofree char *description =
        g_strconcat(translate_description_head, fix_common_help, NULL);
    FixCommand cmd = {
        .prgname = "qsnapfix translate",
        .summary = "qsnapfix translate: translate a raw migration stream file",
        .description = description,
        .entries = entries,
    };
    int rc = fix_parse_command(&cmd, &c.o, &argc, &argv);

    if (rc < 0 && (!c.args || g_strv_length(c.args) != 2)) {
        fprintf(stderr, "qsnapfix: translate: need IN and OUT (see "
                        "--help)\n");
        rc = QSNAPFIX_EXIT_USAGE;
    }
    if (rc < 0) {
        rc = run_translate(&c, c.args[0], c.args[1]);
    }
    fix_options_clear(&c.o);
    g_strfreev(c.args);
    g_free(c.recipe);
    g_strfreev(c.also);
    return rc;
}
