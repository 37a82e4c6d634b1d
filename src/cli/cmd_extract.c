/*
 * qsnapfix extract IMAGE --snapshot ID|NAME -o FILE: write the raw VM
 * state bytes of one snapshot, exactly what QEMU's loadvm would read.
 * Streams in fixed-size chunks (memory stays bounded for any size) into a
 * temporary file renamed into place at the end, so FILE is never left
 * half-written.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "exit_codes.h"

#define EXTRACT_CHUNK (4u * 1024 * 1024)

typedef struct ExtractOptions {
    char *output_format;
    char *snapshot;
    char *out_path;
    gboolean help;
    char **args;
    QsnapfixOutput format;
} ExtractOptions;

static const char extract_description[] =
    "Write the raw VM state (the migration stream savevm stored) of one\n"
    "internal snapshot of IMAGE to FILE ('-' for stdout). The snapshot is\n"
    "looked up as QEMU does: by ID first, then by name. Zero and\n"
    "unallocated clusters read as zeros; compressed clusters are inflated.\n"
    "\n"
    "JSON output (--output=json; not with -o -): {filename, snapshot {id,\n"
    "name}, vm-state-size, output, bytes-written, sha256}.\n"
    "\n"
    "Exit codes: 0 ok; 2 bad command line; 5 I/O error (reading the image\n"
    "or writing FILE); 8 unsupported feature (e.g. encryption); 9 no such\n"
    "snapshot or it has no VM state; 10 bad header; 11 bad snapshot table;\n"
    "12 bad L1/L2 table or compressed cluster; 16 no space left writing\n"
    "FILE.\n";

/* Stream the VM state to fd, hashing it on the way if sum is given. */
static bool copy_vmstate(Qcow2Image *img, const Qcow2Snapshot *sn, int fd,
                         const char *path, GChecksum *sum, GError **errp)
{
    g_autofree uint8_t *buf = g_malloc(EXTRACT_CHUNK);

    for (uint64_t off = 0; off < sn->vm_state_size;) {
        size_t n =
            (size_t)MIN((uint64_t)EXTRACT_CHUNK, sn->vm_state_size - off);
        if (!qcow2_read_vmstate(img, sn, off, buf, n, errp) ||
            !qsnapfix_write_all(fd, buf, n, path, errp)) {
            return false;
        }
        if (sum) {
            g_checksum_update(sum, buf, n);
        }
        off += n;
    }
    return true;
}

typedef struct ExtractJob {
    Qcow2Image *img;
    const Qcow2Snapshot *sn;
    GChecksum *sum;
} ExtractJob;

static bool write_extract(int fd, const char *path, void *opaque, GError **errp)
{
    ExtractJob *j = opaque;
    return copy_vmstate(j->img, j->sn, fd, path, j->sum, errp);
}

static void print_result(const ExtractOptions *o, const char *image,
                         const Qcow2Snapshot *sn, GChecksum *sum)
{
    g_autofree char *id = qsnapfix_printable(sn->id);
    g_autofree char *name = qsnapfix_printable(sn->name);
    g_autoptr(JsonBuilder) b = NULL;

    if (o->format == QSNAPFIX_OUTPUT_HUMAN) {
        if (strcmp(o->out_path, "-")) {
            g_autofree char *size = qsnapfix_size_to_str(sn->vm_state_size);
            fprintf(stderr,
                    "qsnapfix: %s: snapshot %s \"%s\": wrote %" PRIu64
                    " bytes (%s) of VM state to %s\n",
                    image, id, name, sn->vm_state_size, size, o->out_path);
        }
        return;
    }
    b = qsnapfix_json_snapshot_report(image, id, name);
    json_builder_set_member_name(b, "vm-state-size");
    json_builder_add_int_value(b, (int64_t)sn->vm_state_size);
    json_builder_set_member_name(b, "output");
    json_builder_add_string_value(b, o->out_path);
    json_builder_set_member_name(b, "bytes-written");
    json_builder_add_int_value(b, (int64_t)sn->vm_state_size);
    json_builder_set_member_name(b, "sha256");
    json_builder_add_string_value(b, g_checksum_get_string(sum));
    json_builder_end_object(b);
    qsnapfix_print_json(json_builder_get_root(b));
}

static int extract(const ExtractOptions *o, const char *image)
{
    g_autoptr(GError) err = NULL;
    /* The hash is only reported in JSON: do not pay for it otherwise. */
    g_autoptr(GChecksum) sum = o->format == QSNAPFIX_OUTPUT_JSON
                                   ? g_checksum_new(G_CHECKSUM_SHA256)
                                   : NULL;
    Qcow2Image *img = qcow2_open(image, QCOW2_OPEN_READ_ONLY, &err);
    const Qcow2Snapshot *sn;
    bool ok;

    if (!img) {
        return qsnapfix_report(err);
    }
    if (qcow2_header(img)->incompatible_features & QCOW2_INCOMPAT_CORRUPT) {
        qsnapfix_warn("%s: the corrupt bit is set: the VM state read may be "
                      "wrong; check with: qemu-img check %s",
                      image, image);
    }
    qcow2_collect_warnings(img, true);
    sn = qcow2_snapshot_find(img, o->snapshot, &err);
    if (sn && !sn->vm_state_size) {
        g_set_error(&err, QCOW2_ERROR, QCOW2_ERROR_NOT_FOUND,
                    "%s: snapshot %s \"%s\" has no VM state (disk-only "
                    "snapshot)",
                    image, sn->id, sn->name);
        sn = NULL;
    }
    if (!sn) {
        qcow2_close(img);
        return qsnapfix_report(err);
    }
    if (!strcmp(o->out_path, "-")) {
        ok = copy_vmstate(img, sn, STDOUT_FILENO, "stdout", sum, &err);
    } else {
        ExtractJob job = {img, sn, sum};
        ok = qsnapfix_write_file_atomic(o->out_path, false, write_extract, &job,
                                        &err);
    }
    if (ok) {
        g_autoptr(GPtrArray) warnings = qcow2_take_warnings(img);

        for (guint i = 0; warnings && i < warnings->len; i++) {
            qsnapfix_warn("%s", (const char *)g_ptr_array_index(warnings, i));
        }
        print_result(o, image, sn, sum);
    }
    qcow2_close(img);
    return ok ? QSNAPFIX_EXIT_OK : qsnapfix_report(err);
}

int qsnapfix_cmd_extract(int argc, char **argv)
{
    ExtractOptions o = {0};
    GOptionEntry entries[] = {
        {"snapshot", 's', 0, G_OPTION_ARG_STRING, &o.snapshot,
         "The snapshot, by ID or name (required)", "ID|NAME"},
        {"output-file", 'o', 0, G_OPTION_ARG_FILENAME, &o.out_path,
         "Where to write the VM state ('-' = stdout; required)", "FILE"},
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
        ctx, "qsnapfix extract: write a snapshot's raw VM state to a file");
    g_option_context_set_description(ctx, extract_description);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_set_prgname("qsnapfix extract");
    rc = qsnapfix_parse_options(ctx, &argc, &argv, &o.help);
    if (rc < 0 && !qsnapfix_parse_output(o.output_format, &o.format, &err)) {
        rc = qsnapfix_report(err);
    }
    if (rc < 0 &&
        (!o.args || g_strv_length(o.args) != 1 || !o.snapshot || !o.out_path)) {
        fprintf(stderr, "qsnapfix: extract: need IMAGE, --snapshot and -o "
                        "(see --help)\n");
        rc = QSNAPFIX_EXIT_USAGE;
    }
    if (rc < 0 && o.format == QSNAPFIX_OUTPUT_JSON &&
        !strcmp(o.out_path, "-")) {
        fprintf(stderr, "qsnapfix: extract: --output=json needs -o FILE\n");
        rc = QSNAPFIX_EXIT_USAGE;
    }
    if (rc < 0) {
        rc = extract(&o, o.args[0]);
    }
    g_free(o.output_format);
    g_free(o.snapshot);
    g_free(o.out_path);
    g_strfreev(o.args);
    return rc;
}
