/*
 * qsnapfix scan [--target T] [--jobs N] [--full] [--output=json] PATH...:
 * the dry run over whole image stores. Every image under PATH (qcow2 by
 * magic), every snapshot: what wrote its VM state, whether the target
 * loads it, what a fix would change and write. Reads only, takes no lock:
 * safe on a live store (images a running QEMU holds are reported as such).
 *
 * Images are scanned by --jobs worker threads (app_run_ordered(): the
 * libraries keep no global state; each image has its own handles) and
 * reported in walk order as they complete, so a scan of thousands of
 * images streams. The scan itself is src/app/scan.h's; here: options,
 * the progress line and the report.
 *
 * --guest loads libguestfs (dlopen) here, only when given: without it the
 * program never touches the library (start-up stays as fast as before).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>
#include <unistd.h>

#include "app/report.h"
#include "progress.h"
#include "scan.h"

static const char scan_description[] =
    "Scan every qcow2 image under each PATH (files are recognised by their\n"
    "magic; directories are walked recursively, following symlinks, each\n"
    "file once) and judge every snapshot's VM state for the target QEMU:\n"
    "  compatible  loads as it is (maybe with settings: see the recipe)\n"
    "  fixable     `qsnapfix fix` would make it load: the rules that\n"
    "              would fire with their evidence, the recipe, and the\n"
    "              bytes the fix would write\n"
    "  refused     `fix` would refuse (the reason is given)\n"
    "  error       the VM state could not be read or parsed\n"
    "  disk-only   the snapshot has no VM state\n"
    "Per image: format facts, whether a running QEMU holds it (its lock\n"
    "bytes are probed, no lock is taken), and what would stop `fix` from\n"
    "writing it now. Nothing is ever written.\n"
    "\n"
    "By default each VM state is read at its head and tail only (about\n"
    "70 KiB whatever its size); snapshots whose verdict depends on RAM\n"
    "page data (qxl ROM, --shrink-vram) are walked in full. --full walks\n"
    "every snapshot and plans every fix exactly as `fix --dry-run` does.\n"
    "Verdicts and rule ids are the same either way; by default the bytes a\n"
    "fix would write are estimated from the edits (--full: exact).\n"
    "\n"
    "Exit codes of scan: 0 every image scanned, nothing needs fixing; 17\n"
    "some snapshots need fixing (and can be fixed); 4 some would be refused\n"
    "(the others may still be fixable); 15 some images or snapshots could\n"
    "not be read (the rest is still reported); 2 bad command line. The\n"
    "most severe applies: 15, then 4, then 17. With --exit-zero, 17 and 4\n"
    "become 0 (for `set -e` scripts that read the report); 15 and 2 stay.\n"
    "\n"
    "--guest identifies each image's guest (OS, distribution, version,\n"
    "hostname, architecture, root filesystem: what virt-inspector reports)\n"
    "from its active disk with libguestfs, read-only and without locks;\n"
    "--guest-snapshots also each snapshot's disk (through qemu-nbd). Each\n"
    "disk costs an appliance start (seconds with KVM, about a minute under\n"
    "TCG; run in parallel up to --jobs): the cost is printed per disk and\n"
    "in all. A disk without an operating system is \"unknown\", one that\n"
    "cannot be inspected counts as unreadable (exit 15). Needs libguestfs0\n"
    "(exit 18 without it); LIBGUESTFS_* variables apply (e.g.\n"
    "LIBGUESTFS_BACKEND_SETTINGS=force_tcg where KVM refuses its CPU).\n"
    "\n"
    "The options shared with fix judge the snapshots as `fix` with those\n"
    "options would; a blocked fix is reported with the exit code `fix`\n"
    "would give (README, \"Exit codes\").\n"
    "\n";

/* The report as it streams: one image or entry at a time, in walk order. */
typedef struct Scan {
    const AppScanOptions *o;
    QsnapfixOutput format;
    QjValue *images, *skipped; /* arrays, owned by the report */
    const AppScanTotals *t;    /* as far as the scan got */
    CliProgress progress;      /* a line on stderr while a TTY watches */
    guint done;                /* entries reported */
} Scan;

/* e.g. qsnapfix: vm.qcow2: snapshot "s1": guest inspection: libguestfs: ... */
static void report_guest_error_stderr(const AppScanImage *im,
                                      const char *snapshot,
                                      const AppScanGuest *g)
{
    g_autofree char *path = NULL;
    g_autofree char *where = NULL;

    if (!g->error) {
        return;
    }
    path = qsnapfix_printable(im->path);
    where = snapshot ? g_strdup_printf(": snapshot \"%s\"", snapshot)
                     : g_strdup("");
    fprintf(stderr, "qsnapfix: %s%s: guest inspection: %s\n", path, where,
            g->error->message);
}

static void report_errors_stderr(const AppScanImage *im)
{
    if (im->error) {
        fprintf(stderr, "qsnapfix: %s\n", im->error->message);
        return;
    }
    report_guest_error_stderr(im, NULL, &im->guest);
    for (guint i = 0; i < im->snapshots->len; i++) {
        const AppScanSnapshot *ss = g_ptr_array_index(im->snapshots, i);
        const AppJudgement *j = &ss->judged;
        if (j->verdict == APP_VERDICT_ERROR && j->outcome->error) {
            fprintf(stderr, "qsnapfix: %s\n", j->outcome->error->message);
        }
        report_guest_error_stderr(im, ss->name, &ss->guest);
    }
}

/* One entry of the walk, in walk order: its failures on stderr, then
 * its lines, its object in the report, or its JSONL line. */
static void scanned(const AppScanEntry *e, const AppScanImage *im, void *opaque)
{
    Scan *scan = opaque;
    g_autoptr(QjValue) line = NULL;
    QjValue *list = e->kind == APP_ENTRY_SKIPPED ? scan->skipped : scan->images;

    cli_progress_clear(&scan->progress);
    if (im) {
        report_errors_stderr(im);
    } else if (e->kind == APP_ENTRY_ERROR) {
        fprintf(stderr, "qsnapfix: %s\n", e->reason);
    }
    if (scan->format == QSNAPFIX_OUTPUT_JSONL) {
        list = line = qj_array(); /* the object alone, on one line */
    }
    if (scan->format == QSNAPFIX_OUTPUT_HUMAN && im) {
        scan_print_image_human(im);
    } else if (scan->format == QSNAPFIX_OUTPUT_HUMAN) {
        scan_print_entry_human(e);
        fflush(stdout);
    } else if (im) {
        app_report_scan_image(list, im);
    } else {
        app_report_scan_entry(list, e);
    }
    if (line) {
        qj_print_line(qj_at(line, 0));
    }
    scan->done++;
    cli_progress_images(&scan->progress, scan->done, scan->t->entries,
                        scan->t->sum.bytes_read);
}

static void tick(guint done, guint total, void *opaque)
{
    Scan *scan = opaque;
    cli_progress_images(&scan->progress, scan->done, total,
                        scan->t->sum.bytes_read);
}

static int run_scan(const AppScanOptions *o, QsnapfixOutput format,
                    char **paths, guint jobs, bool exit_zero)
{
    g_autoptr(QjValue) report = app_report_scan_new(o);
    AppScanTotals t;
    Scan scan = {.o = o, .format = format, .t = &t};

    cli_progress_init(&scan.progress, "qsnapfix scan");
    if (format == QSNAPFIX_OUTPUT_JSON) {
        scan.images = qj_set_array(report, "images");
        scan.skipped = qj_set_array(report, "skipped");
    }
    app_scan_run(paths, o, jobs, exit_zero, scanned, tick, &scan, &t);
    cli_progress_done(&scan.progress);
    if (format == QSNAPFIX_OUTPUT_HUMAN) {
        scan_print_summary_human(&t.sum, o);
        if (o->guestfs) {
            scan_print_guest_summary_human(&t.sum, jobs, t.elapsed);
        }
    } else {
        app_report_scan_end(report, o, &t.sum, t.elapsed, t.exit_code);
        /* jsonl: the images went out as lines; this is the last, the
         * totals */
        if (format == QSNAPFIX_OUTPUT_JSONL) {
            qj_print_line(report);
        } else {
            qj_print(report);
        }
    }
    return t.exit_code;
}

/* scan's text, then fix's on targets and options (not its exit codes). */
static char *scan_help(void)
{
    g_autofree char *common = fix_common_help(false);

    return g_strconcat(scan_description, common, NULL);
}

int qsnapfix_cmd_scan(int argc, char **argv)
{
    FixOptions o = {0};
    gint jobs = (gint)g_get_num_processors();
    gboolean full = false, exit_zero = false;
    gboolean guest = false;
    gboolean guest_snapshots = false;
    GOptionEntry entries[] = {
        {"jobs", 'j', 0, G_OPTION_ARG_INT, &jobs,
         "Images scanned in parallel (default: the number of CPUs; at most "
         "64)",
         "N"},
        {"full", 0, 0, G_OPTION_ARG_NONE, &full,
         "Read every record and plan every fix exactly (as fix --dry-run)",
         NULL},
        {"exit-zero", 0, 0, G_OPTION_ARG_NONE, &exit_zero,
         "Exit 0 when snapshots need fixing or would be refused (17, 4); "
         "the report says which",
         NULL},
        {"guest", 0, 0, G_OPTION_ARG_NONE, &guest,
         "Identify each image's guest OS, distribution, version and hostname "
         "(libguestfs: an appliance per image)",
         NULL},
        {"guest-snapshots", 0, 0, G_OPTION_ARG_NONE, &guest_snapshots,
         "With --guest, also each snapshot's disk (an appliance per snapshot)",
         NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autofree char *description = scan_help();
    CliCommand c = {
        .name = "scan",
        .operands = "PATH...",
        .min_operands = 1,
        .operands_error = "need at least one PATH",
        .summary = "qsnapfix scan: dry run over image stores (reads only)",
        .description = description,
        .with_output = true,
        .with_jsonl = true,
    };
    /* fix's options judge as fix would; --dry-run is accepted (a scan is
     * always one) but not listed. */
    int rc = fix_parse_command(&c, entries, &o, FIX_HIDE_DRY_RUN, &argc, &argv);
    AppGuestfs *guestfs = NULL;

    if (rc < 0 && jobs < 1) {
        rc = cli_usage(&c, "--jobs must be at least 1");
    }
    if (rc < 0 && (guest || guest_snapshots)) {
        g_autoptr(GError) err = NULL;

        guestfs = app_guestfs_load(&err);
        if (!guestfs) {
            fprintf(stderr, "qsnapfix: scan --guest: %s\n", err->message);
            rc = app_exit_code(err);
        }
    }
    if (rc < 0) {
        AppScanOptions so = {.fix = o.app,
                             .full = full,
                             .guestfs = guestfs,
                             .guest_snapshots = guest_snapshots};
        rc = run_scan(&so, c.format, c.operand, (guint)jobs, exit_zero);
    }
    app_guestfs_unload(guestfs);
    fix_options_clear(&o);
    cli_command_clear(&c);
    return rc;
}
