/*
 * qsnapfix scan [--target T] [--jobs N] [--full] [--output=json] PATH...:
 * the dry run over whole image stores. Every image under PATH (qcow2 by
 * magic), every snapshot: what wrote its VM state, whether the target
 * loads it, what a fix would change and write. Reads only, takes no lock:
 * safe on a live store (images a running QEMU holds are reported as such).
 *
 * Images are scanned by --jobs worker threads (the libraries keep no
 * global state; each image has its own handles) and reported in walk
 * order as they complete, so a scan of thousands of images streams.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>
#include <unistd.h>

#include "exit_codes.h"
#include "scan.h"

#define PROGRESS_INTERVAL_US (200 * 1000)
#define MAX_JOBS             64 /* threads, whatever --jobs says */

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
    "Verdicts and rule ids are the same either way; the bytes a fix would\n"
    "write are marked as estimated where the tail path cannot know them.\n"
    "\n"
    "Exit codes of scan: 0 every image scanned, nothing needs fixing; 17\n"
    "some snapshots need fixing (and can be fixed); 4 some would be refused\n"
    "(the others may still be fixable); 15 some images or snapshots could\n"
    "not be read (the rest is still reported); 2 bad command line. The\n"
    "most severe applies: 15, then 4, then 17.\n"
    "\n"
    "The options shared with fix judge the snapshots as `fix` with those\n"
    "options would; a blocked fix is reported with the exit code `fix`\n"
    "would give (README, \"Exit codes\").\n"
    "\n";

typedef struct ScanRun {
    const ScanOptions *o;
    GPtrArray *entries; /* ScanEntry * */
    ScanImage **results;
    gint next; /* next entry to take (atomic) */
    GMutex lock;
    GCond done;
    guint completed;
} ScanRun;

static gpointer worker(gpointer data)
{
    ScanRun *run = data;

    for (;;) {
        guint i = (guint)g_atomic_int_add(&run->next, 1);
        const ScanEntry *e;
        ScanImage *im = NULL;

        if (i >= run->entries->len) {
            return NULL;
        }
        e = g_ptr_array_index(run->entries, i);
        if (e->kind == SCAN_ENTRY_IMAGE) {
            im = scan_image(e->path, run->o);
        }
        g_mutex_lock(&run->lock);
        run->results[i] = im;
        run->completed++;
        g_cond_broadcast(&run->done);
        g_mutex_unlock(&run->lock);
    }
}

/* A line on stderr while a TTY watches; cleared before any output. */
typedef struct Progress {
    bool on;
    bool shown;
    gint64 last;
} Progress;

static void progress_clear(Progress *p)
{
    if (p->shown) {
        fputs("\r\033[K", stderr);
        p->shown = false;
    }
}

static void progress_show(Progress *p, guint done, guint total)
{
    gint64 now = g_get_monotonic_time();

    if (!p->on || now - p->last < PROGRESS_INTERVAL_US) {
        return;
    }
    p->last = now;
    fprintf(stderr, "\rqsnapfix scan: %u/%u", done, total);
    p->shown = true;
}

static void report_errors_stderr(const ScanImage *im)
{
    if (im->error) {
        fprintf(stderr, "qsnapfix: %s\n", im->error->message);
        return;
    }
    for (guint i = 0; i < im->snapshots->len; i++) {
        const ScanSnapshot *ss = g_ptr_array_index(im->snapshots, i);
        if (ss->verdict == SCAN_ERROR && ss->outcome->error) {
            fprintf(stderr, "qsnapfix: %s\n", ss->outcome->error->message);
        }
    }
}

static void emit(const ScanOptions *o, JsonBuilder *images,
                 JsonBuilder *skipped, const ScanEntry *e, const ScanImage *im,
                 ScanSummary *sum)
{
    bool json = o->fix.format == QSNAPFIX_OUTPUT_JSON;

    if (im) {
        scan_summary_add_image(sum, im);
        report_errors_stderr(im);
        if (json) {
            scan_json_image(images, im);
        } else {
            scan_print_image_human(im);
        }
        return;
    }
    scan_summary_add_entry(sum, e);
    if (e->kind == SCAN_ENTRY_ERROR) {
        fprintf(stderr, "qsnapfix: %s\n", e->reason);
    }
    if (json) {
        scan_json_entry(e->kind == SCAN_ENTRY_ERROR ? images : skipped, e);
    } else {
        scan_print_entry_human(e);
    }
    fflush(stdout);
}

static void print_json(const ScanOptions *o, JsonBuilder *images,
                       JsonBuilder *skipped, const ScanSummary *sum, int rc)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_end_array(images);
    json_builder_end_array(skipped);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "target");
    json_builder_add_string_value(b, tr_target_name(o->fix.target));
    json_builder_set_member_name(b, "mode");
    json_builder_add_string_value(b, o->full ? "full" : "tail");
    json_builder_set_member_name(b, "images");
    json_builder_add_value(b, json_builder_get_root(images));
    json_builder_set_member_name(b, "skipped");
    json_builder_add_value(b, json_builder_get_root(skipped));
    scan_json_summary(b, sum);
    json_builder_set_member_name(b, "exit_code");
    json_builder_add_int_value(b, rc);
    json_builder_end_object(b);
    qsnapfix_print_json(json_builder_get_root(b));
}

static int run_scan(const ScanOptions *o)
{
    ScanRun run = {.o = o, .entries = scan_walk(o->paths)};
    guint n = run.entries->len;
    guint jobs = (guint)CLAMP(MIN(o->jobs, (gint)n), 1, MAX_JOBS);
    g_autofree GThread **threads = g_new0(GThread *, jobs);
    g_autoptr(JsonBuilder) images = json_builder_new();
    g_autoptr(JsonBuilder) skipped = json_builder_new();
    ScanSummary sum = {0};
    Progress progress = {.on = isatty(STDERR_FILENO)};
    int rc;

    run.results = g_new0(ScanImage *, MAX(n, 1));
    g_mutex_init(&run.lock);
    g_cond_init(&run.done);
    json_builder_begin_array(images);
    json_builder_begin_array(skipped);
    for (guint t = 0; t < jobs; t++) {
        threads[t] = g_thread_new("scan", worker, &run);
    }
    /* Report in walk order: entry i once its worker is done with it. */
    g_mutex_lock(&run.lock);
    for (guint i = 0; i < n; i++) {
        ScanImage *im;

        while (run.completed < n && !run.results[i] &&
               ((const ScanEntry *)g_ptr_array_index(run.entries, i))->kind ==
                   SCAN_ENTRY_IMAGE) {
            g_cond_wait_until(&run.done, &run.lock,
                              g_get_monotonic_time() + PROGRESS_INTERVAL_US);
            progress_show(&progress, run.completed, n);
        }
        im = g_steal_pointer(&run.results[i]);
        g_mutex_unlock(&run.lock);
        progress_clear(&progress);
        emit(o, images, skipped, g_ptr_array_index(run.entries, i), im, &sum);
        scan_image_free(im);
        g_mutex_lock(&run.lock);
    }
    g_mutex_unlock(&run.lock);
    for (guint t = 0; t < jobs; t++) {
        g_thread_join(threads[t]);
    }
    progress_clear(&progress);

    rc = scan_exit_code(&sum);
    if (o->fix.format == QSNAPFIX_OUTPUT_JSON) {
        print_json(o, images, skipped, &sum, rc);
    } else {
        scan_print_summary_human(&sum, o);
    }
    g_mutex_clear(&run.lock);
    g_cond_clear(&run.done);
    g_free(run.results);
    g_ptr_array_unref(run.entries);
    return rc;
}

/* scan's text, then fix's on targets and options (not its exit codes). */
static char *scan_help(void)
{
    const char *end = strstr(fix_common_help, "\nExit codes:");
    size_t n =
        end ? (size_t)(end - fix_common_help) + 1 : strlen(fix_common_help);

    return g_strdup_printf("%s%.*s", scan_description, (int)n, fix_common_help);
}

int qsnapfix_cmd_scan(int argc, char **argv)
{
    ScanOptions o = {.jobs = (gint)g_get_num_processors()};
    FixOptions *f = &o.fix;
    GOptionEntry entries[] = {
        {"jobs", 'j', 0, G_OPTION_ARG_INT, &o.jobs,
         "Images scanned in parallel (default: the number of CPUs; at most "
         "64)",
         "N"},
        {"full", 0, 0, G_OPTION_ARG_NONE, &o.full,
         "Read every record and plan every fix exactly (as fix --dry-run)",
         NULL},
        {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o.paths, NULL,
         "PATH..."},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autofree char *description = scan_help();
    /* fix's options judge as fix would; --dry-run is accepted (a scan is
     * always one) but not listed. */
    FixCommand cmd = {
        .prgname = "qsnapfix scan",
        .summary = "qsnapfix scan: dry run over image stores (reads only)",
        .description = description,
        .entries = entries,
        .hide_dry_run = true,
    };
    int rc = fix_parse_command(&cmd, f, &argc, &argv);

    if (rc < 0 && (!o.paths || !o.paths[0])) {
        fprintf(stderr, "qsnapfix: scan: need at least one PATH (see "
                        "--help)\n");
        rc = QSNAPFIX_EXIT_USAGE;
    }
    if (rc < 0 && o.jobs < 1) {
        fprintf(stderr, "qsnapfix: scan: --jobs must be at least 1\n");
        rc = QSNAPFIX_EXIT_USAGE;
    }
    if (rc < 0) {
        rc = run_scan(&o);
    }
    fix_options_clear(f);
    g_strfreev(o.paths);
    return rc;
}
