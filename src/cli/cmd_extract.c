/*
 * qsnapfix extract IMAGE --snapshot ID|NAME -o FILE: write the raw VM
 * state bytes of one snapshot, exactly what QEMU's loadvm would read
 * (app_extract(): the snapshot as a source, a file renamed into place or
 * stdout as the sink, in bounded memory). Here: options and the report.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "app/report.h"
#include "app/tools.h"
#include "cli.h"
#include "progress.h"

static const char extract_description[] =
    "Write the raw VM state (the migration stream savevm stored) of one\n"
    "internal snapshot of IMAGE to FILE ('-' for stdout). The snapshot is\n"
    "looked up as QEMU does: by ID first, then by name. Zero and\n"
    "unallocated clusters read as zeros; compressed clusters are inflated.\n"
    "\n"
    "JSON output (--output=json; not with -o -): {qsnapfix {version},\n"
    "timestamp, filename, snapshot {id, name}, vm-state-size, output,\n"
    "bytes-written, sha256, exit-code}; on failure {qsnapfix, timestamp,\n"
    "filename, error {message, exit-code}, exit-code}.\n"
    "\n"
    "Exit codes: 0 ok; 2 bad command line; 5 I/O error (reading the image\n"
    "or writing FILE); 8 unsupported feature (e.g. encryption); 9 no such\n"
    "snapshot or it has no VM state; 10 bad header; 11 bad snapshot table;\n"
    "12 bad L1/L2 table or compressed cluster; 16 no space left writing\n"
    "FILE.\n";

static void print_result(const CliCommand *c, const char *image,
                         const char *out_path, const AppExtract *x)
{
    g_autofree char *id = qsnapfix_printable(x->id);
    g_autofree char *name = qsnapfix_printable(x->name);
    g_autoptr(QjValue) json = NULL;

    if (c->format == QSNAPFIX_OUTPUT_HUMAN) {
        if (strcmp(out_path, "-")) {
            g_autofree char *size = qsnapfix_size_to_str(x->size);
            fprintf(stderr,
                    "qsnapfix: %s: snapshot %s \"%s\": wrote %" PRIu64
                    " bytes (%s) of VM state to %s\n",
                    image, id, name, x->size, size, out_path);
        }
        return;
    }
    json = app_report_extract(image, out_path, x);
    qj_print(json);
}

int qsnapfix_cmd_extract(int argc, char **argv)
{
    g_autofree char *snapshot = NULL, *out_path = NULL;
    GOptionEntry entries[] = {
        {"snapshot", 's', 0, G_OPTION_ARG_FILENAME, &snapshot,
         "The snapshot, by ID or name (required)", "ID|NAME"},
        {"output-file", 'o', 0, G_OPTION_ARG_FILENAME, &out_path,
         "Where to write the VM state ('-' = stdout; required)", "FILE"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    CliCommand c = {
        .name = "extract",
        .operands = "IMAGE",
        .summary =
            "qsnapfix extract: write a snapshot's raw VM state to a file",
        .description = extract_description,
        .with_output = true,
    };
    int rc = cli_parse(&c, entries, NULL, &argc, &argv);

    if (rc < 0 && (g_strv_length(c.operand) != 1 || !snapshot || !out_path)) {
        rc = cli_usage(&c, "need IMAGE, --snapshot and -o");
    }
    if (rc < 0 && c.format == QSNAPFIX_OUTPUT_JSON && !strcmp(out_path, "-")) {
        rc = cli_usage(&c, "--output=json needs -o FILE");
    }
    if (rc < 0) {
        g_autoptr(GError) err = NULL;
        const char *image = c.operand[0];
        AppExtract x = {0};
        CliProgress prog;
        bool ok;

        cli_progress_init(&prog, NULL);
        /* The hash is only reported in JSON: do not pay for it otherwise. */
        ok = app_extract(image, snapshot, out_path,
                         c.format == QSNAPFIX_OUTPUT_JSON, &prog.app, &x, &err);
        cli_progress_done(&prog);

        if (x.corrupt_bit) {
            qsnapfix_warn("%s: the corrupt bit is set: the VM state read may "
                          "be wrong; check with: qemu-img check %s",
                          image, image);
        }
        for (guint i = 0; x.warnings && i < x.warnings->len; i++) {
            qsnapfix_warn("%s", (const char *)g_ptr_array_index(x.warnings, i));
        }
        if (ok) {
            print_result(&c, image, out_path, &x);
        }
        rc = APP_EXIT_OK;
        if (!ok) {
            rc = cli_fail(&c, app_report_file(image), err);
        }
        app_extract_clear(&x);
    }
    cli_command_clear(&c);
    return rc;
}
