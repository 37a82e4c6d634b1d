/*
 * Unit tests of the libvirt save image module (src/libvirt/savefile.h):
 * headers as libvirt 0.7, 0.9.x and 9.0 wrote them, both byte orders,
 * every refusal, and build(parse(x)) == x.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>
#include <string.h>

#include "libvirt/savefile.h"

typedef struct RawHeader {
    const char *magic;
    uint32_t words[5]; /* version, data_len, was_running, format, cookie */
    bool big_endian;
} RawHeader;

static void put32(uint8_t *p, uint32_t v, bool be)
{
    for (int i = 0; i < 4; i++) {
        p[be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
    }
}

/* A header (and data area) written independently of the module. */
static GByteArray *raw_file(const RawHeader *h, const char *xml,
                            const char *cookie)
{
    GByteArray *b = g_byte_array_new();
    uint8_t hdr[LVSAVE_HEADER_SIZE] = {0};
    size_t area = h->words[1];

    memcpy(hdr, h->magic, 16);
    for (int i = 0; i < 5; i++) {
        put32(hdr + 16 + 4 * i, h->words[i], h->big_endian);
    }
    g_byte_array_append(b, hdr, sizeof(hdr));
    g_byte_array_set_size(b, LVSAVE_HEADER_SIZE + area);
    memset(b->data + LVSAVE_HEADER_SIZE, 0, area);
    if (xml) {
        memcpy(b->data + LVSAVE_HEADER_SIZE, xml, strlen(xml));
    }
    if (cookie) {
        memcpy(b->data + LVSAVE_HEADER_SIZE + h->words[4], cookie,
               strlen(cookie));
    }
    return b;
}

static const char xml[] = "<domain type='kvm'><name>vm1</name></domain>\n";

static void test_probe_tells_complete_partial_and_other_files(void)
{
    g_assert_cmpint(lvsave_probe("LibvirtQemudSave\2\0\0\0", 20), ==,
                    LVSAVE_PROBE_COMPLETE);
    g_assert_cmpint(lvsave_probe("LibvirtQemudPart", 16), ==,
                    LVSAVE_PROBE_PARTIAL);
    g_assert_cmpint(lvsave_probe("LibvirtQemudSav", 15), ==, LVSAVE_PROBE_NONE);
    g_assert_cmpint(lvsave_probe("QEVM\0\0\0\3", 8), ==, LVSAVE_PROBE_NONE);
    g_assert_cmpint(lvsave_probe("QFI\xfb\0\0\0\3xxxxxxxx", 16), ==,
                    LVSAVE_PROBE_NONE);
}

static void test_libvirt_09_header_is_read_field_by_field(void)
{
    /* 0.9.x: version 2, gzip, the XML padded to a 4 KiB stream offset */
    RawHeader h = {LVSAVE_MAGIC, {2, 4004, 1, 1, 0}, false};
    g_autoptr(GByteArray) f = raw_file(&h, xml, NULL);
    g_autoptr(GError) err = NULL;
    size_t stray = 99;
    LvSaveHeader hd;
    g_autoptr(LvSaveImage) img = NULL;

    g_assert_true(lvsave_header_parse(f->data, f->len, &hd, &err));
    g_assert_no_error(err);
    g_assert_false(hd.big_endian);
    g_assert_cmpuint(hd.version, ==, 2);
    g_assert_cmpuint(hd.data_len, ==, 4004);
    g_assert_cmpuint(hd.was_running, ==, 1);
    g_assert_cmpuint(lvsave_stream_format(&hd), ==, LVSAVE_FORMAT_GZIP);
    g_assert_cmpstr(lvsave_format_name(hd.format), ==, "gzip");
    g_assert_cmpstr(lvsave_format_program(LVSAVE_FORMAT_GZIP), ==, "gzip");
    g_assert_cmpuint(lvsave_stream_offset(&hd), ==, 4096);
    img = lvsave_image_parse(&hd, f->data + LVSAVE_HEADER_SIZE,
                             f->len - LVSAVE_HEADER_SIZE, &stray, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(img->xml, ==, xml);
    g_assert_null(img->cookie);
    g_assert_cmpuint(stray, ==, 0);
}

static void test_libvirt_90_header_has_a_cookie(void)
{
    /* what libvirt 9.0 wrote here (tests/libvirt): XML 1985 bytes with
     * its NUL, cookie 353, data_len = both + 64 KiB */
    g_autofree char *long_xml = g_strnfill(1984, 'x');
    g_autofree char *cookie = g_strnfill(352, 'c');
    LvSaveImage img = {.header = {.version = 2, .was_running = 1},
                       .xml = long_xml,
                       .cookie = cookie};
    g_autoptr(GError) err = NULL;
    g_autoptr(GBytes) b = lvsave_build(&img, LVSAVE_LAYOUT_ROOMY, &err);
    gsize len;
    const uint8_t *p = g_bytes_get_data(b, &len);
    g_autoptr(LvSaveImage) back = NULL;

    g_assert_no_error(err);
    g_assert_cmpuint(len, ==, 67966); /* the stream offset libvirt used */
    g_assert_cmpuint(p[20] | p[21] << 8 | p[22] << 16, ==, 67874);
    g_assert_cmpuint(p[32] | p[33] << 8, ==, 1985);
    back = lvsave_parse(p, len, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(back->xml, ==, long_xml);
    g_assert_cmpstr(back->cookie, ==, cookie);
}

static void test_big_endian_header_is_swapped(void)
{
    RawHeader h = {LVSAVE_MAGIC, {2, 200, 0, 3, 0}, true};
    g_autoptr(GByteArray) f = raw_file(&h, xml, NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(LvSaveImage) img = lvsave_parse(f->data, f->len, &err);
    g_autoptr(GBytes) again = NULL;

    g_assert_no_error(err);
    g_assert_true(img->header.big_endian);
    g_assert_cmpuint(img->header.data_len, ==, 200);
    g_assert_cmpuint(img->header.format, ==, LVSAVE_FORMAT_XZ);
    g_assert_cmpuint(img->header.was_running, ==, 0);
    /* written back in its own byte order, byte for byte */
    again = lvsave_build(img, LVSAVE_LAYOUT_KEEP, &err);
    g_assert_no_error(err);
    g_assert_cmpmem(g_bytes_get_data(again, NULL), g_bytes_get_size(again),
                    f->data, f->len);
}

static void test_version_1_stream_is_raw(void)
{
    /* 0.6-0.7: no format field (libvirt zeroed it), no padding */
    RawHeader h = {LVSAVE_MAGIC, {1, sizeof(xml), 1, 0, 0}, false};
    g_autoptr(GByteArray) f = raw_file(&h, xml, NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(LvSaveImage) img = lvsave_parse(f->data, f->len, &err);
    g_autoptr(GBytes) compact = NULL;

    g_assert_no_error(err);
    g_assert_cmpuint(lvsave_stream_format(&img->header), ==, LVSAVE_FORMAT_RAW);
    g_assert_cmpuint(lvsave_stream_offset(&img->header), ==,
                     LVSAVE_HEADER_SIZE + sizeof(xml));
    compact = lvsave_build(img, LVSAVE_LAYOUT_COMPACT, &err);
    g_assert_no_error(err);
    g_assert_cmpmem(g_bytes_get_data(compact, NULL), g_bytes_get_size(compact),
                    f->data, f->len);
}

static void expect_refusal(const RawHeader *h, const char *x, const char *c,
                           LvSaveErrorCode code, const char *words)
{
    g_autoptr(GByteArray) f = raw_file(h, x, c);
    g_autoptr(GError) err = NULL;
    g_autoptr(LvSaveImage) img = lvsave_parse(f->data, f->len, &err);

    g_assert_null(img);
    g_assert_error(err, LVSAVE_ERROR, (gint)code);
    if (!strstr(err->message, words)) {
        g_error("message '%s' lacks '%s'", err->message, words);
    }
}

static void test_refusals_name_what_is_wrong(void)
{
    RawHeader part = {LVSAVE_MAGIC_PARTIAL, {2, 100, 1, 0, 0}, false};
    RawHeader v3 = {LVSAVE_MAGIC, {3, 100, 1, 0, 0}, false};
    RawHeader v0 = {LVSAVE_MAGIC, {0, 100, 1, 0, 0}, false};
    RawHeader fmt = {LVSAVE_MAGIC, {2, 100, 1, 7, 0}, false};
    RawHeader sparse = {LVSAVE_MAGIC, {2, 100, 1, 6, 0}, false};
    RawHeader empty = {LVSAVE_MAGIC, {2, 0, 1, 0, 0}, false};
    RawHeader huge = {LVSAVE_MAGIC, {2, LVSAVE_DATA_MAX + 1, 1, 0, 0}, false};
    RawHeader cookie = {LVSAVE_MAGIC, {2, 100, 1, 0, 100}, false};
    RawHeader ok = {LVSAVE_MAGIC, {2, 100, 1, 0, 0}, false};
    RawHeader other = {"QEVM\0\0\0\3\1\0\0\0\0\0\0\0", {0}, false};
    g_autofree char *nonul = g_strnfill(100, 'x');

    expect_refusal(&part, xml, NULL, LVSAVE_ERROR_PARTIAL,
                   "save image is incomplete");
    expect_refusal(&v3, xml, NULL, LVSAVE_ERROR_UNSUPPORTED, "version 3");
    expect_refusal(&v0, xml, NULL, LVSAVE_ERROR_UNSUPPORTED, "version 0");
    expect_refusal(&fmt, xml, NULL, LVSAVE_ERROR_UNSUPPORTED, "format 7");
    expect_refusal(&sparse, xml, NULL, LVSAVE_ERROR_UNSUPPORTED, "mapped-ram");
    expect_refusal(&empty, NULL, NULL, LVSAVE_ERROR_BAD_HEADER,
                   "area of 0 bytes");
    /* the area is not there at all: only the header is checked */
    {
        g_autoptr(GError) err = NULL;
        uint8_t hdr[LVSAVE_HEADER_SIZE] = {0};
        LvSaveHeader h;
        memcpy(hdr, LVSAVE_MAGIC, 16);
        put32(hdr + 16, 2, false);
        put32(hdr + 20, huge.words[1], false);
        g_assert_false(lvsave_header_parse(hdr, sizeof(hdr), &h, &err));
        g_assert_error(err, LVSAVE_ERROR, LVSAVE_ERROR_BAD_HEADER);
        g_clear_error(&err);
        g_assert_false(lvsave_header_parse(hdr, 60, &h, &err));
        g_assert_error(err, LVSAVE_ERROR, LVSAVE_ERROR_TRUNCATED);
    }
    expect_refusal(&cookie, xml, NULL, LVSAVE_ERROR_BAD_HEADER,
                   "past the 100-byte");
    expect_refusal(&ok, nonul, NULL, LVSAVE_ERROR_BAD_HEADER,
                   "no terminating NUL");
    expect_refusal(&ok, "", NULL, LVSAVE_ERROR_BAD_HEADER, "is empty");
    expect_refusal(&other, NULL, NULL, LVSAVE_ERROR_NOT_SAVE_IMAGE,
                   "not a libvirt save image");
}

static void test_truncated_area_is_refused(void)
{
    RawHeader h = {LVSAVE_MAGIC, {2, 4004, 1, 0, 0}, false};
    g_autoptr(GByteArray) f = raw_file(&h, xml, NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(LvSaveImage) img = lvsave_parse(f->data, 1000, &err);

    g_assert_null(img);
    g_assert_error(err, LVSAVE_ERROR, LVSAVE_ERROR_TRUNCATED);
}

static void test_stray_bytes_in_the_padding_are_counted(void)
{
    RawHeader h = {LVSAVE_MAGIC, {2, 300, 1, 0, 0}, false};
    g_autoptr(GByteArray) f = raw_file(&h, xml, NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(LvSaveImage) img = NULL;
    LvSaveHeader hd;
    size_t stray = 0;

    f->data[LVSAVE_HEADER_SIZE + 250] = 'z';
    f->data[LVSAVE_HEADER_SIZE + 251] = 'z';
    g_assert_true(lvsave_header_parse(f->data, f->len, &hd, &err));
    img = lvsave_image_parse(&hd, f->data + LVSAVE_HEADER_SIZE, 300, &stray,
                             &err);
    g_assert_no_error(err);
    g_assert_cmpstr(img->xml, ==, xml);
    g_assert_cmpuint(stray, ==, 2);
}

static uint64_t built_length(const LvSaveImage *img, LvSaveLayout layout,
                             GError **errp)
{
    g_autoptr(GBytes) b = lvsave_build(img, layout, errp);
    return b ? g_bytes_get_size(b) : 0;
}

static void test_layouts_place_the_stream_like_libvirt(void)
{
    LvSaveImage img = {.header = {.version = 2, .data_len = 500},
                       .xml = (char *)xml};
    g_autoptr(GError) err = NULL;
    uint64_t used = sizeof(xml); /* with its NUL */

    g_assert_cmpuint(built_length(&img, LVSAVE_LAYOUT_COMPACT, &err), ==,
                     LVSAVE_HEADER_SIZE + used);
    g_assert_cmpuint(built_length(&img, LVSAVE_LAYOUT_ALIGNED, &err), ==, 4096);
    g_assert_cmpuint(built_length(&img, LVSAVE_LAYOUT_ROOMY, &err), ==,
                     LVSAVE_HEADER_SIZE + used + 65536);
    g_assert_cmpuint(built_length(&img, LVSAVE_LAYOUT_KEEP, &err), ==,
                     LVSAVE_HEADER_SIZE + 500);
    g_assert_cmpuint(built_length(&img, LVSAVE_LAYOUT_PRESERVE, &err), ==,
                     LVSAVE_HEADER_SIZE + 500);
    g_assert_no_error(err);

    /* an XML of 92 + n + 1024 = 8192 exactly: libvirt adds a whole block */
    {
        g_autofree char *x = g_strnfill(8192 - 92 - 1024 - 1, 'x');
        LvSaveImage big = {.header = {.version = 2}, .xml = x};
        g_assert_cmpuint(built_length(&big, LVSAVE_LAYOUT_ALIGNED, &err), ==,
                         8192 + 4096);
    }

    /* no room: KEEP refuses, PRESERVE grows in the image's own style */
    img.header.data_len = 10;
    g_assert_cmpuint(built_length(&img, LVSAVE_LAYOUT_KEEP, &err), ==, 0);
    g_assert_error(err, LVSAVE_ERROR, LVSAVE_ERROR_TOO_LARGE);
    g_clear_error(&err);
    img.header.data_len = 4096 - LVSAVE_HEADER_SIZE; /* was aligned */
    {
        g_autofree char *x = g_strnfill(5000, 'x');
        LvSaveImage grown = img;
        grown.xml = x;
        g_assert_cmpuint(
            built_length(&grown, LVSAVE_LAYOUT_PRESERVE, &err) % 4096, ==, 0);
        grown.header.data_len = 100; /* was not aligned */
        g_assert_cmpuint(built_length(&grown, LVSAVE_LAYOUT_PRESERVE, &err), ==,
                         LVSAVE_HEADER_SIZE + 5001 + 65536);
    }
    g_assert_no_error(err);
}

static void test_build_keeps_the_other_fields(void)
{
    LvSaveImage img = {
        .header = {.version = 2,
                   .format = LVSAVE_FORMAT_LZOP,
                   .was_running = 0,
                   .unused = {[3] = 0xdeadbeef}},
        .xml = (char *)xml,
        .cookie = (char *)"<cookie/>",
    };
    g_autoptr(GError) err = NULL;
    g_autoptr(GBytes) b = lvsave_build(&img, LVSAVE_LAYOUT_ALIGNED, &err);
    g_autoptr(LvSaveImage) back = NULL;

    g_assert_no_error(err);
    back = lvsave_parse(g_bytes_get_data(b, NULL), g_bytes_get_size(b), &err);
    g_assert_no_error(err);
    g_assert_cmpuint(back->header.format, ==, LVSAVE_FORMAT_LZOP);
    g_assert_cmpuint(back->header.was_running, ==, 0);
    g_assert_cmpuint(back->header.unused[3], ==, 0xdeadbeef);
    g_assert_cmpuint(back->header.cookie_offset, ==, sizeof(xml));
    g_assert_cmpstr(back->cookie, ==, "<cookie/>");

    /* version 1 had no format field: whatever it holds is kept, and the
     * stream is raw */
    img.header.version = 1;
    g_bytes_unref(b);
    b = lvsave_build(&img, LVSAVE_LAYOUT_ALIGNED, &err);
    g_assert_no_error(err);
    lvsave_image_free(back);
    back = lvsave_parse(g_bytes_get_data(b, NULL), g_bytes_get_size(b), &err);
    g_assert_no_error(err);
    g_assert_cmpuint(back->header.format, ==, LVSAVE_FORMAT_LZOP);
    g_assert_cmpuint(lvsave_stream_format(&back->header), ==,
                     LVSAVE_FORMAT_RAW);

    /* a version libvirt never wrote is not written either */
    img.header.version = 3;
    g_assert_null(lvsave_build(&img, LVSAVE_LAYOUT_ALIGNED, &err));
    g_assert_error(err, LVSAVE_ERROR, LVSAVE_ERROR_UNSUPPORTED);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/savefile/probe_tells_complete_partial_and_other_files",
                    test_probe_tells_complete_partial_and_other_files);
    g_test_add_func("/savefile/libvirt_09_header_is_read_field_by_field",
                    test_libvirt_09_header_is_read_field_by_field);
    g_test_add_func("/savefile/libvirt_90_header_has_a_cookie",
                    test_libvirt_90_header_has_a_cookie);
    g_test_add_func("/savefile/big_endian_header_is_swapped",
                    test_big_endian_header_is_swapped);
    g_test_add_func("/savefile/version_1_stream_is_raw",
                    test_version_1_stream_is_raw);
    g_test_add_func("/savefile/refusals_name_what_is_wrong",
                    test_refusals_name_what_is_wrong);
    g_test_add_func("/savefile/truncated_area_is_refused",
                    test_truncated_area_is_refused);
    g_test_add_func("/savefile/stray_bytes_in_the_padding_are_counted",
                    test_stray_bytes_in_the_padding_are_counted);
    g_test_add_func("/savefile/layouts_place_the_stream_like_libvirt",
                    test_layouts_place_the_stream_like_libvirt);
    g_test_add_func("/savefile/build_keeps_the_other_fields",
                    test_build_keeps_the_other_fields);
    return g_test_run();
}
