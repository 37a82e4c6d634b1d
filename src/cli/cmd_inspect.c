/*
 * qsnapfix inspect IMAGE...: the header summary and the snapshot list the
 * way `qemu-img snapshot -l` shows it, plus where each snapshot's VM state
 * is mapped. Reads only the header, its extensions, the snapshot table,
 * the L1/L2 tables covering VM states and the refcount blocks of their
 * clusters: never guest data or VM state bytes.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "app/inspect.h"
#include "app/io.h"
#include "app/report.h"
#include "inspect_stream.h"
#include "fix.h"

typedef struct InspectOptions {
    gboolean no_layout;
    gboolean stats;
    char **images;
    QsnapfixOutput format;
    /* The migration stream of one snapshot (cmd_inspect_stream.c) */
    char *snapshot;
    char *stream;
    char *sections;
    gboolean tail;
} InspectOptions;

static const char inspect_description[] =
    "Show the qcow2 header summary and the internal snapshots of each IMAGE\n"
    "(like 'qemu-img snapshot -l'), and where each snapshot's VM state is\n"
    "mapped. Only metadata is read (header, extensions, snapshot table, the\n"
    "L1/L2 tables and refcount blocks covering VM states); safe on images\n"
    "in use.\n"
    "\n"
    "JSON output (--output=json): one object per image (an array when\n"
    "several images are given) with qemu-img info's names where the facts\n"
    "are the same:\n"
    "  filename, format (\"qcow2\"), virtual-size, cluster-size,\n"
    "  dirty-flag, backing-filename, backing-filename-format,\n"
    "  format-specific {type, data {compat, compression-type,\n"
    "    lazy-refcounts, refcount-bits, corrupt, extended-l2, data-file,\n"
    "    data-file-raw, encrypted}},\n"
    "  snapshots[] {id, name, vm-state-size, date-sec, date-nsec,\n"
    "    vm-clock-sec, vm-clock-nsec, icount (absent when -1)}\n"
    "and qsnapfix's own facts:\n"
    "  file-size, header {version, header-length, incompatible-features,\n"
    "    compatible-features, autoclear-features, l1-table-offset, l1-size,\n"
    "    refcount-table-offset, refcount-table-clusters, snapshots-offset,\n"
    "    nb-snapshots, encryption-method, bitmaps, unknown-extensions[]},\n"
    "  snapshots[].{disk-size, l1-table-offset, l1-size, extra-data-size,\n"
    "    vm-state-size-32, table-offset, has-vm-state}\n"
    "  snapshots[].vm-state {offset (guest offset of byte 0), clusters,\n"
    "    normal, compressed, zero, unallocated, past-l1, shared (data\n"
    "    clusters with refcount > 1: shared with another snapshot or the\n"
    "    active disk), l2-tables, l2-shared, first-host-offset}\n"
    "  error {message, exit-code} when the image could not be read.\n"
    "\n"
    "Exit codes: 0 ok; 2 bad command line; 5 I/O error; 8 unsupported\n"
    "feature; 10 bad header or extension; 11 bad snapshot table; 12 bad\n"
    "L1/L2 table or compressed cluster; 13 bad refcount structure; 15 some\n"
    "of several images failed; with --snapshot/--stream also 9 no such\n"
    "snapshot or no VM state and 14 not a migration stream. Errors are one\n"
    "line on stderr:\n"
    "  qsnapfix: IMAGE: STRUCTURE at 0xOFFSET: PROBLEM\n";

/* ---- human --------------------------------------------------------- */

static void print_save(const AppSaveFacts *f, bool first)
{
    const LvSaveHeader *h;
    g_autofree char *fsize = NULL, *ssize = NULL, *dom = NULL;

    if (!f->img) {
        return;
    }
    h = &f->img->header;
    fsize = qsnapfix_size_to_str(f->file_size);
    ssize = qsnapfix_size_to_str(f->stream_size);
    dom = qsnapfix_printable(f->domain ? f->domain : "?");
    printf("%simage: %s\n", first ? "" : "\n", f->path);
    printf("file format: libvirt save image (version %u%s%s)\n", h->version,
           h->big_endian ? ", big-endian" : "",
           f->img->cookie ? ", with a save cookie" : "");
    printf("file size: %s (%" PRIu64 " bytes)\n", fsize, f->file_size);
    printf("domain: %s, machine %s, emulator %s%s\n", dom,
           f->machine ? f->machine : "?", f->emulator ? f->emulator : "?",
           f->emulator_exists ? "" : " (not on this host)");
    printf("stream: at 0x%" PRIx64 ", %s, %s; the guest %s\n", f->stream_offset,
           lvsave_format_name(lvsave_stream_format(h)), ssize,
           h->was_running ? "resumes after a restore" : "stays paused");
    if (f->writer) {
        printf("written by: %s %s, %s\n", f->writer->program,
               f->writer->version ? f->writer->version : "?", f->writer->accel);
    }
    cli_print_record(&f->record, "");
    if (f->original_of) {
        g_autofree char *of = qsnapfix_printable(f->original_of);
        printf("original of: %s (kept by its fix; qsnapfix undo puts it "
               "back)\n",
               of);
    }
}

static void print_features(const Qcow2Header *h)
{
    printf("Format specific information:\n");
    printf("    compat: %s\n", app_qcow2_compat(h));
    printf("    compression type: %s\n", app_qcow2_compression(h));
    printf("    lazy refcounts: %s\n",
           h->compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS ? "true"
                                                                : "false");
    printf("    refcount bits: %" PRIu32 "\n", h->refcount_bits);
    printf("    corrupt: %s\n",
           h->incompatible_features & QCOW2_INCOMPAT_CORRUPT ? "true"
                                                             : "false");
    printf("    extended l2: %s\n", h->extended_l2 ? "true" : "false");
    if (h->data_file) {
        g_autofree char *df = qsnapfix_printable(h->data_file);
        printf("    data file: %s\n", df);
    }
    if (h->crypt_method) {
        printf("    encrypted: %s\n", h->crypt_method == 2 ? "luks" : "aes");
    }
}

/*
 * Where each VM state lives: its guest offset, how its clusters are mapped
 * and how many are shared (refcount > 1) with other snapshots or the
 * active disk. Columns line up with the snapshot list above.
 */
static void print_layouts(const AppImageFacts *r)
{
    static const char layout_columns[] =
        "%-10s%-17s%12s%10s%8s%7s%6s%9s%8s  %s\n";

    printf("VM state:\n");
    printf(layout_columns, "ID", "TAG", "STARTS AT", "CLUSTERS", "NORMAL",
           "COMPR", "ZERO", "UNALLOC", "SHARED", "L2 TABLES (SHARED)");
    for (guint i = 0; i < qcow2_snapshot_count(r->img); i++) {
        const Qcow2Snapshot *sn = qcow2_snapshot_get(r->img, i);
        const Qcow2VmstateLayout *l = &r->layouts[i];
        g_autofree char *id = qsnapfix_printable(sn->id);
        g_autofree char *name = qsnapfix_printable(sn->name);
        char id_col[64], at[32], n[6][24], l2[48];

        /* "%-9s " like qemu-img: a long ID still leaves a space. */
        g_snprintf(id_col, sizeof(id_col), "%-9s ", id);
        if (!sn->vm_state_size) {
            printf("%s%-16s %s\n", id_col, name, "no VM state (disk only)");
            continue;
        }
        if (sn->error) {
            printf("%s%-16s error: %s\n", id_col, name, sn->error);
            continue;
        }
        g_snprintf(at, sizeof(at), "0x%" PRIx64,
                   qcow2_vmstate_base(r->img, sn));
        g_snprintf(n[0], sizeof(n[0]), "%" PRIu64, l->clusters);
        g_snprintf(n[1], sizeof(n[1]), "%" PRIu64, l->normal);
        g_snprintf(n[2], sizeof(n[2]), "%" PRIu64, l->compressed);
        g_snprintf(n[3], sizeof(n[3]), "%" PRIu64, l->zero);
        g_snprintf(n[4], sizeof(n[4]), "%" PRIu64, l->unallocated);
        g_snprintf(n[5], sizeof(n[5]), "%" PRIu64, l->shared);
        g_snprintf(l2, sizeof(l2), "%" PRIu64 " (%" PRIu64 ")", l->l2_tables,
                   l->l2_shared);
        printf(layout_columns, id_col, name, at, n[0], n[1], n[2], n[3], n[4],
               n[5], l2);
    }
}

/* What fixes left with the snapshots (app/record.h). */
static void print_records(const AppImageFacts *r)
{
    bool header = false;

    for (guint i = 0; i < qcow2_snapshot_count(r->img); i++) {
        const Qcow2Snapshot *sn = qcow2_snapshot_get(r->img, i);
        g_autofree char *id = qsnapfix_printable(sn->id);
        AppRecord record;

        if (app_record_read(sn, &record) == APP_RECORD_NONE) {
            continue;
        }
        if (!header) {
            printf("Records of qsnapfix:\n");
            header = true;
        }
        printf("  %s:\n", id);
        cli_print_record(&record, "    ");
        app_record_clear(&record);
    }
}

static void print_human(const AppImageFacts *r, bool first)
{
    const Qcow2Header *h;
    g_autofree char *vsize = NULL;
    g_autofree char *fsize = NULL;

    if (!r->img) {
        return;
    }
    h = qcow2_header(r->img);
    vsize = qsnapfix_size_to_str(h->size);
    fsize = qsnapfix_size_to_str(h->file_size);
    printf("%simage: %s\n", first ? "" : "\n", r->path);
    printf("file format: qcow2 (version %" PRIu32 ")\n", h->version);
    printf("virtual size: %s (%" PRIu64 " bytes)\n", vsize, h->size);
    printf("file size: %s (%" PRIu64 " bytes)\n", fsize, h->file_size);
    printf("cluster_size: %" PRIu64 "\n", h->cluster_size);
    if (h->backing_file) {
        g_autofree char *bf = qsnapfix_printable(h->backing_file);
        printf("backing file: %s\n", bf);
    }
    if (h->incompatible_features & QCOW2_INCOMPAT_DIRTY) {
        printf("dirty: true (refcounts may be stale)\n");
    }
    if (qcow2_snapshot_count(r->img)) {
        printf("Snapshot list:\n");
        qsnapfix_print_snapshot_header(stdout);
        for (guint i = 0; i < qcow2_snapshot_count(r->img); i++) {
            qsnapfix_print_snapshot_row(stdout, qcow2_snapshot_get(r->img, i));
        }
        if (r->layouts) {
            print_layouts(r);
        }
        print_records(r);
    }
    print_features(h);
}

/* One image's report: the document itself, or one more in its array. */
static void add_report(QjValue **json, QjValue *image)
{
    if (*json) {
        qj_append(*json, image);
    } else {
        *json = image;
    }
}

static int inspect_all(const InspectOptions *o)
{
    guint n = g_strv_length(o->images);
    /* one image: its object; several: an array of them */
    g_autoptr(QjValue) json = n > 1 ? qj_array() : NULL;
    int status = APP_EXIT_OK;
    guint failed = 0;

    for (guint i = 0; i < n; i++) {
        AppImageFacts r;

        if (app_is_savefile(o->images[i])) {
            AppSaveFacts f;
            app_save_facts(&f, o->images[i]);
            if (o->format == QSNAPFIX_OUTPUT_JSON) {
                add_report(&json, app_report_save(&f));
            } else {
                print_save(&f, i == 0);
            }
            if (f.err) {
                failed++;
                status = qsnapfix_report(f.err);
            }
            app_save_facts_clear(&f);
            continue;
        }
        app_image_facts(&r, o->images[i], !o->no_layout);
        if (o->format == QSNAPFIX_OUTPUT_JSON) {
            add_report(&json, app_report_image(&r));
        } else {
            print_human(&r, i == 0);
        }
        if (r.err) {
            failed++;
            status = qsnapfix_report(r.err);
        }
        if (o->stats && r.img) {
            fprintf(stderr,
                    "qsnapfix: %s: read %" PRIu64 " bytes in %" PRIu64
                    " calls\n",
                    o->images[i], qcow2_io_bytes_read(r.img),
                    qcow2_io_read_calls(r.img));
        }
        app_image_facts_clear(&r);
    }
    if (o->format == QSNAPFIX_OUTPUT_JSON) {
        qj_print(json);
    }
    return n > 1 && failed ? APP_EXIT_PARTIAL : status;
}

/* --snapshot / --stream: one migration stream, section by section. */
static int inspect_one_stream(const CliCommand *c, const InspectOptions *o)
{
    guint n = g_strv_length(o->images);
    StreamInspectOptions so = {
        .snapshot = o->snapshot,
        .stream = o->stream,
        .sections = o->sections,
        .tail = o->tail,
        .stats = o->stats,
        .format = o->format,
        .command = c,
    };

    if (o->stream ? n != 0 : (n != 1 || !o->snapshot)) {
        return cli_usage(c, "use IMAGE --snapshot ID|NAME, or --stream FILE");
    }
    so.image = n ? o->images[0] : NULL;
    return qsnapfix_inspect_stream(&so);
}

int qsnapfix_cmd_inspect(int argc, char **argv)
{
    InspectOptions o = {0};
    GOptionEntry entries[] = {
        {"no-layout", 0, 0, G_OPTION_ARG_NONE, &o.no_layout,
         "Do not map VM states (read only the header and snapshot table)",
         NULL},
        {"stats", 0, 0, G_OPTION_ARG_NONE, &o.stats,
         "Print how many bytes were read from each image on stderr", NULL},
        {"snapshot", 's', 0, G_OPTION_ARG_FILENAME, &o.snapshot,
         "Parse this snapshot's VM state (ID or name, as QEMU looks it up)",
         "ID|NAME"},
        {"stream", 0, 0, G_OPTION_ARG_FILENAME, &o.stream,
         "Parse a raw migration stream file ('-' = stdin) instead of an "
         "image",
         "FILE"},
        {"sections", 0, 0, G_OPTION_ARG_STRING, &o.sections,
         "With --snapshot/--stream: decode this device's fields (idstr or "
         "vmsd name)",
         "NAME"},
        {"tail", 0, 0, G_OPTION_ARG_NONE, &o.tail,
         "With --snapshot/--stream: find the device sections from the end "
         "of the stream instead of walking every RAM page",
         NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    CliCommand c = {
        .name = "inspect",
        .operands = "IMAGE...",
        .summary = "qsnapfix inspect: show an image's snapshots and where "
                   "their VM state lives",
        .description = inspect_description,
        .with_output = true,
    };
    int rc = cli_parse(&c, entries, NULL, &argc, &argv);

    o.images = c.operand;
    o.format = c.format;
    if (rc < 0 && (o.snapshot || o.stream || o.sections || o.tail)) {
        rc = inspect_one_stream(&c, &o);
    }
    if (rc < 0 && !o.images[0]) {
        rc = cli_usage(&c, "no IMAGE given");
    }
    if (rc < 0) {
        rc = inspect_all(&o);
    }
    g_free(o.snapshot);
    g_free(o.stream);
    g_free(o.sections);
    cli_command_clear(&c);
    return rc;
}
