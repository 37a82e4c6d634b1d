/*
 * Unit tests of the application layer's batch plumbing: the plan a scan
 * report gives a batch (app_plan_from_scan), and undo over paths
 * (app_undo_run) with its report.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "app/batch.h"
#include "app/exit_codes.h"
#include "app/report.h"
#include "app/undo.h"

static char *write_temp(const char *text)
{
    g_autoptr(GError) err = NULL;
    char *path = NULL;
    int fd = g_file_open_tmp("qsnapfix-plan-XXXXXX", &path, &err);

    g_assert_no_error(err);
    g_assert_true(g_file_set_contents(path, text, -1, &err));
    close(fd);
    return path;
}

static const char scan_document[] =
    "{\"images\": ["
    " {\"path\": \"a.qcow2\", \"snapshots\": ["
    "   {\"id\": \"1\", \"verdict\": \"fixable\"},"
    "   {\"id\": \"2\", \"verdict\": \"compatible\"},"
    "   {\"id\": \"3\", \"verdict\": \"fixable\"}]},"
    " {\"path\": \"b.qcow2\", \"snapshots\": ["
    "   {\"id\": \"1\", \"verdict\": \"refused\"}]}],"
    " \"skipped\": []}";

static void test_plan_takes_the_fixable_snapshots(void)
{
    g_autofree char *path = write_temp(scan_document);
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) plan = app_plan_from_scan(path, &err);
    const AppPlanItem *item;

    g_assert_no_error(err);
    g_assert_cmpuint(plan->len, ==, 1); /* b.qcow2 has nothing to fix */
    item = g_ptr_array_index(plan, 0);
    g_assert_cmpstr(item->path, ==, "a.qcow2");
    g_assert_cmpuint(g_strv_length(item->snapshots), ==, 2);
    g_assert_cmpstr(item->snapshots[0], ==, "1");
    g_assert_cmpstr(item->snapshots[1], ==, "3");
    g_unlink(path);
}

static void test_plan_reads_jsonl_and_refuses_a_bad_line(void)
{
    g_autofree char *good =
        write_temp("{\"path\": \"c.qcow2\", \"snapshots\": [{\"id\": \"7\", "
                   "\"verdict\": \"fixable\"}]}\n"
                   "{\"summary\": {}, \"exit-code\": 17}\n");
    g_autofree char *bad = write_temp("{\"path\": \"c.qcow2\"}\nnot json\n");
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) plan = app_plan_from_scan(good, &err);
    g_autoptr(GPtrArray) none = NULL;

    g_assert_no_error(err);
    g_assert_cmpuint(plan->len, ==, 1);
    g_assert_cmpstr(((AppPlanItem *)g_ptr_array_index(plan, 0))->snapshots[0],
                    ==, "7");
    none = app_plan_from_scan(bad, &err);
    g_assert_null(none);
    g_assert_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
    g_assert_nonnull(strstr(err->message, "line 2"));
    g_unlink(good);
    g_unlink(bad);
}

static void count_image(const AppUndoImage *im, void *opaque)
{
    QjValue *images = opaque;

    g_assert_null(im->outcomes);
    g_assert_nonnull(im->error);
    app_report_undo_image(images, im);
}

/* A path that cannot be read is one failed image, with the walk's exit
 * code, in the totals and in the report. */
static void test_undo_reports_an_unreadable_path(void)
{
    char *paths[] = {"/nonexistent/qsnapfix/image.qcow2", NULL};
    AppUndoRunOptions o = {.dry_run = true};
    QjValue *images = NULL;
    g_autoptr(QjValue) report = app_report_undo_new(&o, &images);
    g_autoptr(GError) err = NULL;
    AppUndoTotals t;
    const QjValue *image;

    g_assert_true(app_undo_run(&o, paths, count_image, images, &t, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(t.images, ==, 1);
    g_assert_cmpuint(t.failed, ==, 1);
    g_assert_cmpuint(t.done, ==, 0);
    g_assert_cmpint(t.exit_code, !=, APP_EXIT_OK);
    app_report_undo_end(report, &t);
    image = qj_at(qj_get(report, "images"), 0);
    g_assert_cmpstr(qj_get_str(image, "image"), ==, paths[0]);
    g_assert_cmpint(qj_get_int(image, "exit-code", -1), ==, t.exit_code);
    g_assert_cmpint(qj_get_int(qj_get(report, "summary"), "failed", -1), ==, 1);
}

static void test_undo_refuses_a_missing_journal(void)
{
    AppUndoRunOptions o = {.journal = "/nonexistent/qsnapfix/journal"};
    g_autoptr(GError) err = NULL;
    AppUndoTotals t;

    g_assert_false(app_undo_run(&o, NULL, count_image, NULL, &t, &err));
    g_assert_nonnull(err);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/plan/takes-the-fixable-snapshots",
                    test_plan_takes_the_fixable_snapshots);
    g_test_add_func("/plan/reads-jsonl-and-refuses-a-bad-line",
                    test_plan_reads_jsonl_and_refuses_a_bad_line);
    g_test_add_func("/undo/reports-an-unreadable-path",
                    test_undo_reports_an_unreadable_path);
    g_test_add_func("/undo/refuses-a-missing-journal",
                    test_undo_refuses_a_missing_journal);
    return g_test_run();
}
