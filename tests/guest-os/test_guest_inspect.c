/*
 * src/app/guest_inspect.c on images whose guest the test made and knows
 * (tests/qsnapfix_tests/guest_images.py; QSNAPFIX_GUEST_IMAGES holds them
 * and expected.json): libguestfs reports the distribution, version,
 * hostname, architecture and root of the active disk and of a disk-only
 * snapshot's disk, an image without an operating system has none, the
 * image is never written, and a libguestfs.so.0 without the functions we
 * need is refused as not installed.
 *
 * Each inspection boots libguestfs's appliance (tens of seconds under TCG):
 * the cases are few and nothing here depends on timing.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>

#include "app/guest_inspect.h"
#include "json/json.h"

static AppGuestfs *lib;
static const char *images;

/* expected.json's entry for (image, snapshot or NULL): its "os" array. */
static const QjValue *expected_os(const QjValue *cases, const char *image,
                                  const char *snapshot)
{
    for (guint i = 0; i < qj_length(cases); i++) {
        const QjValue *c = qj_at(cases, i);

        if (!g_strcmp0(qj_get_str(c, "image"), image) &&
            !g_strcmp0(qj_get_str(c, "snapshot"), snapshot)) {
            return qj_get(c, "os");
        }
    }
    g_error("expected.json has no case %s %s", image, snapshot);
}

static void check_os(const AppGuestOs *got, const QjValue *want)
{
    g_assert_cmpstr(got->type, ==, qj_get_str(want, "type"));
    g_assert_cmpstr(got->distro, ==, qj_get_str(want, "distro"));
    g_assert_cmpstr(got->product_name, ==, qj_get_str(want, "product_name"));
    g_assert_cmpint(got->major_version, ==,
                    qj_get_int(want, "major_version", -1));
    g_assert_cmpint(got->minor_version, ==,
                    qj_get_int(want, "minor_version", -1));
    g_assert_cmpstr(got->hostname, ==, qj_get_str(want, "hostname"));
    g_assert_cmpstr(got->arch, ==, qj_get_str(want, "arch"));
    g_assert_cmpstr(got->root, ==, qj_get_str(want, "root"));
}

static char *file_digest(const char *path)
{
    g_autofree char *data = NULL;
    gsize len = 0;

    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)data, len);
}

/* Inspect image (its snapshot's disk if snapshot): what expected.json says,
 * and the image's bytes unchanged. */
static void check_inspection(const char *image, const char *snapshot)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(QjValue) cases = NULL;
    g_autofree char *expected = g_build_filename(images, "expected.json", NULL);
    g_autofree char *path = g_build_filename(images, image, NULL);
    g_autofree char *before = file_digest(path);
    g_autofree char *after = NULL;
    gint64 start = g_get_monotonic_time();
    AppGuest *g;
    const QjValue *want;

    cases = qj_parse_file(expected, &err);
    g_assert_no_error(err);
    want = expected_os(cases, image, snapshot);
    g = app_guest_inspect(lib, path, snapshot, &err);
    g_assert_no_error(err);
    g_assert_nonnull(g);
    g_test_message("%s%s%s: %u operating system(s) in %.1f s", image,
                   snapshot ? " snapshot " : "", snapshot ? snapshot : "",
                   g->os->len,
                   (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC);
    g_assert_cmpstr(g->snapshot, ==, snapshot);
    g_assert_cmpuint(g->os->len, ==, qj_length(want));
    for (guint i = 0; i < g->os->len; i++) {
        check_os(g_ptr_array_index(g->os, i), qj_at(want, i));
    }
    app_guest_free(g);
    after = file_digest(path);
    g_assert_cmpstr(after, ==, before);
}

static void test_debian12_on_whole_disk_ext4(void)
{
    check_inspection("debian12.qcow2", NULL);
}

static void test_ubuntu_active_disk_is_after_the_upgrade(void)
{
    check_inspection("ubuntu.qcow2", NULL);
}

static void test_ubuntu_snapshot_disk_is_before_the_upgrade(void)
{
    check_inspection("ubuntu.qcow2", "precise");
}

static void test_image_without_os_has_none(void)
{
    check_inspection("no-os.qcow2", NULL);
}

static void test_missing_snapshot_is_an_error(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *path = g_build_filename(images, "fedora17.qcow2", NULL);
    AppGuest *g = app_guest_inspect(lib, path, "no-such-snapshot", &err);

    g_assert_null(g);
    g_assert_error(err, APP_GUEST_ERROR, APP_GUEST_ERROR_FAILED);
    g_assert_nonnull(strstr(err->message, "no-such-snapshot"));
}

/* A libguestfs.so.0 that is not libguestfs (FAKE_LIBGUESTFS_DIR holds one
 * with none of its functions): in a child, which finds it first. */
static void test_library_without_functions_is_not_installed(void)
{
    if (g_test_subprocess()) {
        g_autoptr(GError) err = NULL;
        AppGuestfs *fake = app_guestfs_load(&err);

        g_assert_null(fake);
        g_assert_error(err, APP_GUEST_ERROR, APP_GUEST_ERROR_NOT_INSTALLED);
        g_assert_nonnull(strstr(err->message, "install libguestfs0"));
        return;
    }
    const char *fake_dir = g_getenv("FAKE_LIBGUESTFS_DIR");
    g_autofree char *saved = g_strdup(g_getenv("LD_LIBRARY_PATH"));

    g_assert_nonnull(fake_dir);
    /* The dynamic loader reads LD_LIBRARY_PATH when the child starts. */
    g_setenv("LD_LIBRARY_PATH", fake_dir, TRUE);
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    if (saved) {
        g_setenv("LD_LIBRARY_PATH", saved, TRUE);
    } else {
        g_unsetenv("LD_LIBRARY_PATH");
    }
    g_test_trap_assert_passed();
}

int main(int argc, char **argv)
{
    g_autoptr(GError) err = NULL;
    int rc;

    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/guest-inspect/library-without-functions-is-not-installed",
                    test_library_without_functions_is_not_installed);
    if (g_test_subprocess()) {
        return g_test_run();
    }
    images = g_getenv("QSNAPFIX_GUEST_IMAGES");
    if (!images) {
        g_print("SKIP: QSNAPFIX_GUEST_IMAGES is not set\n");
        return 77;
    }
    lib = app_guestfs_load(&err);
    if (!lib) {
        g_print("SKIP: %s\n", err->message);
        return 77;
    }
    g_test_add_func("/guest-inspect/debian12-on-whole-disk-ext4",
                    test_debian12_on_whole_disk_ext4);
    g_test_add_func("/guest-inspect/ubuntu-active-disk-is-after-the-upgrade",
                    test_ubuntu_active_disk_is_after_the_upgrade);
    g_test_add_func("/guest-inspect/ubuntu-snapshot-disk-is-before-the-upgrade",
                    test_ubuntu_snapshot_disk_is_before_the_upgrade);
    g_test_add_func("/guest-inspect/image-without-os-has-none",
                    test_image_without_os_has_none);
    g_test_add_func("/guest-inspect/missing-snapshot-is-an-error",
                    test_missing_snapshot_is_an_error);
    rc = g_test_run();
    app_guestfs_unload(lib);
    return rc;
}
