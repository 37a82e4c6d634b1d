/*
 * qsnapfix splice IMAGE --snapshot S --edits FILE [--dry-run]
 *                 [--keep-original NAME]
 *
 * An expert and test tool: applies a hand-written edit list to one
 * snapshot's VM state through the library's copy-on-write splice (the
 * same write path `fix` uses), with no knowledge of what the bytes mean.
 * Not listed in `qsnapfix --help`; documented in docs/internals.md.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "exit_codes.h"

typedef struct SpliceOptions {
    char *output_format;
    char *snapshot;
    char *edits_path;
    char *keep_name;
    gboolean dry_run;
    gboolean help;
    char **args;
    QsnapfixOutput format;
} SpliceOptions;

/* The edits and the buffers their data lives in. */
typedef struct EditList {
    GArray *edits;   /* Qcow2Edit */
    GPtrArray *bufs; /* owned data */
} EditList;

static const char splice_description[] =
    "Replace byte ranges of one snapshot's VM state (an expert and test\n"
    "tool: qsnapfix fix computes edits itself). The VM state is rewritten\n"
    "copy-on-write and the snapshot table is switched atomically; the\n"
    "snapshot keeps its ID, name, date and clocks.\n"
    "\n"
    "FILE has one edit per line, sorted by offset, not overlapping:\n"
    "  OFFSET OLD_LENGTH DATA\n"
    "replaces OLD_LENGTH bytes at OFFSET of the old VM state by DATA:\n"
    "  hex digits (0a0b...), '-' for nothing (a deletion), @PATH for a\n"
    "  file's bytes (relative to FILE's directory), or fill:BYTE:COUNT.\n"
    "  Numbers are decimal or 0x-hex;\n"
    "  '#' starts a comment.\n"
    "\n"
    "--dry-run opens the image read-only and reports what would be written.\n"
    "--keep-original NAME keeps the old VM state as a new snapshot NAME\n"
    "sharing every unchanged cluster.\n"
    "\n"
    "JSON output (--output=json): {filename, snapshot {id, name}, dry-run,\n"
    "kept-original, old-size, new-size, clusters-shared, clusters-written,\n"
    "clusters-freed, metadata-clusters, bytes-written, writes, flushes,\n"
    "active-entries-dropped}.\n"
    "\n"
    "Exit codes: 0 done; 2 bad command line or edit list; 5 I/O error;\n"
    "6 image in use by a running QEMU; 7 dirty/corrupt bit set; 8 image\n"
    "feature not supported for writing; 9 no such snapshot; 10-13\n"
    "malformed image; 16 no space left.\n";

static void edit_list_free(EditList *l)
{
    g_array_free(l->edits, true);
    g_ptr_array_free(l->bufs, true);
}

static bool parse_number(const char *s, uint64_t *out)
{
    char *end;

    if (!*s || *s == '-') {
        return false;
    }
    *out = g_ascii_strtoull(s, &end, 0);
    return *end == '\0';
}

static bool parse_data(const char *spec, const char *dir, GBytes **out,
                       GError **errp)
{
    uint64_t byte, count;

    if (!strcmp(spec, "-")) {
        *out = g_bytes_new(NULL, 0);
        return true;
    }
    if (spec[0] == '@') {
        g_autofree char *path = g_path_is_absolute(spec + 1)
                                    ? g_strdup(spec + 1)
                                    : g_build_filename(dir, spec + 1, NULL);
        char *data;
        gsize len;

        if (!g_file_get_contents(path, &data, &len, errp)) {
            return false;
        }
        *out = g_bytes_new_take(data, len);
        return true;
    }
    if (g_str_has_prefix(spec, "fill:")) {
        g_auto(GStrv) f = g_strsplit(spec + 5, ":", 3);
        if (g_strv_length(f) == 2 && parse_number(f[0], &byte) && byte <= 255 &&
            parse_number(f[1], &count) && count <= G_MAXINT) {
            uint8_t *d = g_malloc(MAX(count, 1));
            memset(d, (int)byte, count);
            *out = g_bytes_new_take(d, count);
            return true;
        }
    } else if (strlen(spec) % 2 == 0) {
        size_t n = strlen(spec) / 2;
        uint8_t *d = g_malloc(MAX(n, 1));
        size_t i;

        for (i = 0; i < n; i++) {
            int hi = g_ascii_xdigit_value(spec[2 * i]);
            int lo = g_ascii_xdigit_value(spec[2 * i + 1]);
            if (hi < 0 || lo < 0) {
                break;
            }
            d[i] = (uint8_t)(hi << 4 | lo);
        }
        if (i == n) {
            *out = g_bytes_new_take(d, n);
            return true;
        }
        g_free(d);
    }
    g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "bad data '%s' (hex digits, -, @FILE or fill:BYTE:COUNT)",
                spec);
    return false;
}

static bool parse_line(EditList *l, char *line, const char *dir, GError **errp)
{
    g_auto(GStrv) f = NULL;
    Qcow2Edit e = {0};
    GBytes *data = NULL;
    char *hash = strchr(line, '#');

    if (hash) {
        *hash = '\0';
    }
    g_strstrip(line);
    if (!*line) {
        return true;
    }
    f = g_strsplit_set(line, " \t", -1);
    /* drop empty fields from repeated blanks */
    for (char **src = f, **dst = f;; src++) {
        if (!*src || **src) {
            *dst++ = *src;
        } else {
            g_free(*src);
        }
        if (!*src) {
            break;
        }
    }
    if (g_strv_length(f) != 3 || !parse_number(f[0], &e.offset) ||
        !parse_number(f[1], &e.old_length)) {
        g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "expected 'OFFSET OLD_LENGTH DATA', got '%s'", line);
        return false;
    }
    if (!parse_data(f[2], dir, &data, errp)) {
        return false;
    }
    e.data = g_bytes_get_data(data, &e.length);
    g_ptr_array_add(l->bufs, data);
    g_array_append_val(l->edits, e);
    return true;
}

static bool read_edits(const char *path, EditList *l, GError **errp)
{
    g_autofree char *text = NULL;
    g_autofree char *dir = g_path_get_dirname(path);
    g_auto(GStrv) lines = NULL;

    l->edits = g_array_new(false, false, sizeof(Qcow2Edit));
    l->bufs = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    if (!g_file_get_contents(path, &text, NULL, errp)) {
        return false;
    }
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (!parse_line(l, lines[i], dir, errp)) {
            g_prefix_error(errp, "%s:%u: ", path, i + 1);
            return false;
        }
    }
    return true;
}

static void progress(uint64_t done, uint64_t total, void *opaque)
{
    (void)opaque;
    if (total) {
        fprintf(stderr, "\rqsnapfix: splice: %3u%%",
                (unsigned)(done * 100 / total));
        if (done == total) {
            fputc('\n', stderr);
        }
    }
}

static void print_stats(const SpliceOptions *o, const char *image,
                        const char *id, const char *name,
                        const Qcow2SpliceStats *st)
{
    g_autoptr(JsonBuilder) b = NULL;

    if (o->format == QSNAPFIX_OUTPUT_HUMAN) {
        printf("%s: snapshot %s \"%s\": VM state %" PRIu64 " -> %" PRIu64
               " bytes%s\n",
               image, id, name, st->old_size, st->new_size,
               o->dry_run ? " (dry run: nothing written)" : "");
        printf("  clusters: %" PRIu64 " written, %" PRIu64 " shared, %" PRIu64
               " freed, %" PRIu64 " metadata\n",
               st->clusters_written, st->clusters_shared, st->clusters_freed,
               st->metadata_clusters);
        printf("  I/O: %" PRIu64 " bytes in %" PRIu64 " writes, %" PRIu64
               " flushes\n",
               st->bytes_written, st->writes, st->flushes);
        if (o->keep_name) {
            printf("  the old VM state is kept as snapshot \"%s\"\n",
                   o->keep_name);
        }
        return;
    }
    b = qsnapfix_json_snapshot_report(image, id, name);
    json_builder_set_member_name(b, "dry-run");
    json_builder_add_boolean_value(b, o->dry_run);
    json_builder_set_member_name(b, "kept-original");
    if (o->keep_name) {
        json_builder_add_string_value(b, o->keep_name);
    } else {
        json_builder_add_null_value(b);
    }
    qsnapfix_json_int(b, "old-size", st->old_size);
    qsnapfix_json_int(b, "new-size", st->new_size);
    qsnapfix_json_int(b, "clusters-shared", st->clusters_shared);
    qsnapfix_json_int(b, "clusters-written", st->clusters_written);
    qsnapfix_json_int(b, "clusters-freed", st->clusters_freed);
    qsnapfix_json_int(b, "metadata-clusters", st->metadata_clusters);
    qsnapfix_json_int(b, "bytes-written", st->bytes_written);
    qsnapfix_json_int(b, "writes", st->writes);
    qsnapfix_json_int(b, "flushes", st->flushes);
    qsnapfix_json_int(b, "active-entries-dropped", st->active_entries_dropped);
    json_builder_end_object(b);
    qsnapfix_print_json(json_builder_get_root(b));
}

static int splice(const SpliceOptions *o, const char *image)
{
    g_autoptr(GError) err = NULL;
    EditList l = {0};
    Qcow2SpliceOptions opts = {
        .dry_run = o->dry_run,
        .keep_original_name = o->keep_name,
        .progress = isatty(STDERR_FILENO) ? progress : NULL,
    };
    Qcow2SpliceStats st;
    Qcow2Image *img = NULL;
    const Qcow2Snapshot *sn;
    g_autofree char *id = NULL, *name = NULL;
    int rc = QSNAPFIX_EXIT_OK;

    if (!read_edits(o->edits_path, &l, &err)) {
        fprintf(stderr, "qsnapfix: %s\n", err->message);
        edit_list_free(&l);
        return err->domain == G_FILE_ERROR ? QSNAPFIX_EXIT_IO
                                           : QSNAPFIX_EXIT_USAGE;
    }
    img = qcow2_open(
        image, o->dry_run ? QCOW2_OPEN_READ_ONLY : QCOW2_OPEN_WRITABLE, &err);
    sn = img ? qcow2_snapshot_find(img, o->snapshot, &err) : NULL;
    if (sn) {
        /* Copies: the snapshot list is re-read after the write. */
        id = qsnapfix_printable(sn->id);
        name = qsnapfix_printable(sn->name);
    }
    if (!sn || !qcow2_splice_vmstate(img, sn, (Qcow2Edit *)l.edits->data,
                                     l.edits->len, &opts, &st, &err)) {
        rc = qsnapfix_report(err);
        if (err->domain == QCOW2_ERROR && err->code == QCOW2_ERROR_INVALID) {
            rc = QSNAPFIX_EXIT_USAGE; /* the edit list or a name */
        }
    } else {
        print_stats(o, image, id, name, &st);
    }
    qcow2_close(img);
    edit_list_free(&l);
    return rc;
}

int qsnapfix_cmd_splice(int argc, char **argv)
{
    SpliceOptions o = {0};
    GOptionEntry entries[] = {
        {"snapshot", 's', 0, G_OPTION_ARG_STRING, &o.snapshot,
         "The snapshot, by ID or name (required)", "ID|NAME"},
        {"edits", 'e', 0, G_OPTION_ARG_FILENAME, &o.edits_path,
         "The edit list (required)", "FILE"},
        {"dry-run", 'n', 0, G_OPTION_ARG_NONE, &o.dry_run,
         "Compute and report, write nothing", NULL},
        {"keep-original", 0, 0, G_OPTION_ARG_STRING, &o.keep_name,
         "Keep the old VM state as a new snapshot NAME", "NAME"},
        {"output", 0, 0, G_OPTION_ARG_STRING, &o.output_format,
         "Report format: human (default) or json", "FORMAT"},
        {"help", 'h', 0, G_OPTION_ARG_NONE, &o.help, "Show this help", NULL},
        {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o.args, NULL,
         "IMAGE"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) err = NULL;
    int rc;

    g_option_context_set_summary(
        ctx, "qsnapfix splice: apply an edit list to a snapshot's VM state "
             "(expert/test tool)");
    g_option_context_set_description(ctx, splice_description);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_set_prgname("qsnapfix splice");
    rc = qsnapfix_parse_options(ctx, &argc, &argv, &o.help);
    if (rc < 0 && !qsnapfix_parse_output(o.output_format, &o.format, &err)) {
        rc = qsnapfix_report(err);
    }
    if (rc < 0 && (!o.args || g_strv_length(o.args) != 1 || !o.snapshot ||
                   !o.edits_path)) {
        fprintf(stderr, "qsnapfix: splice: need IMAGE, --snapshot and --edits "
                        "(see --help)\n");
        rc = QSNAPFIX_EXIT_USAGE;
    }
    if (rc < 0) {
        rc = splice(&o, o.args[0]);
    }
    g_free(o.output_format);
    g_free(o.snapshot);
    g_free(o.edits_path);
    g_free(o.keep_name);
    g_strfreev(o.args);
    return rc;
}
