/*
 * Unit tests of qsnapfix's JSON module (src/json/json.h): the pretty
 * layout byte for byte, QEMU's string escaping class by class, numbers at
 * their limits, what the reader accepts and refuses (with line and
 * column), accessors on input of the wrong shape, and round trips.
 * (test_qemu_names.py compares the escaping with qemu-img's own output.)
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "json/json.h"

static char *escaped(const char *s)
{
    g_autoptr(GString) out = g_string_new(NULL);
    qj_write_string(out, s);
    return g_string_free(g_steal_pointer(&out), false);
}

static void assert_escapes(const char *raw, const char *want)
{
    g_autofree char *got = escaped(raw);
    g_assert_cmpstr(got, ==, want);
}

static void test_strings_are_escaped_as_qemu_escapes_them(void)
{
    assert_escapes("plain / text", "\"plain / text\"");
    assert_escapes("a\"b\\c", "\"a\\\"b\\\\c\"");
    assert_escapes("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
    /* other control characters and DEL: \u, upper-case hex */
    assert_escapes("\x01\x1f\x7f", "\"\\u0001\\u001F\\u007F\"");
    /* everything from U+0080 up is escaped; beyond the BMP a pair */
    assert_escapes("\xc3\xa9\xe2\x82\xac", "\"\\u00E9\\u20AC\"");
    assert_escapes("\xf0\x9f\x98\x80", "\"\\uD83D\\uDE00\"");
    /* modified UTF-8's NUL */
    assert_escapes("ov\xc0\x80x", "\"ov\\u0000x\"");
    /* invalid UTF-8: one U+FFFD per invalid sequence, as qemu-img */
    assert_escapes("bad\xff\xfez", "\"bad\\uFFFD\\uFFFDz\"");
    assert_escapes("x\x80y", "\"x\\uFFFDy\"");               /* stray */
    assert_escapes("trunc\xc3", "\"trunc\\uFFFD\"");         /* cut short */
    assert_escapes("x\xe2\x82", "\"x\\uFFFD\"");             /* two of three */
    assert_escapes("x\xe2\x82y", "\"x\\uFFFDy\"");           /* y survives */
    assert_escapes("sur\xed\xa0\x80", "\"sur\\uFFFD\"");     /* surrogate */
    assert_escapes("nc\xef\xbf\xbe", "\"nc\\uFFFD\"");       /* U+FFFE */
    assert_escapes("nc\xef\xb7\x90", "\"nc\\uFFFD\"");       /* U+FDD0 */
    assert_escapes("ol\xc1\x81", "\"ol\\uFFFD\"");           /* overlong A */
    assert_escapes("big\xf4\x90\x80\x80", "\"big\\uFFFD\""); /* > U+10FFFF */
    assert_escapes("", "\"\"");
}

static QjValue *sample(void)
{
    QjValue *root = qj_object();
    QjValue *inner = qj_set_object(root, "inner");
    QjValue *list = qj_set_array(root, "list");

    qj_set_str(root, "name", "s1");
    qj_set_int(inner, "size", -5);
    qj_set_null(inner, "none");
    qj_set_object(inner, "empty");
    qj_append_int(list, 1);
    qj_append_str(list, "two");
    qj_set_array(qj_append_object(list), "nothing");
    qj_set_bool(root, "ok", true);
    return root;
}

static void test_pretty_layout_is_the_reports_layout(void)
{
    g_autoptr(QjValue) root = sample();
    g_autofree char *text = qj_to_string(root, QJ_PRETTY);

    /* 4 spaces, " : ", [] and {} empty */
    g_assert_cmpstr(text, ==,
                    "{\n"
                    "    \"inner\" : {\n"
                    "        \"size\" : -5,\n"
                    "        \"none\" : null,\n"
                    "        \"empty\" : {}\n"
                    "    },\n"
                    "    \"list\" : [\n"
                    "        1,\n"
                    "        \"two\",\n"
                    "        {\n"
                    "            \"nothing\" : []\n"
                    "        }\n"
                    "    ],\n"
                    "    \"name\" : \"s1\",\n"
                    "    \"ok\" : true\n"
                    "}");
}

static void test_compact_layout_is_one_line(void)
{
    g_autoptr(QjValue) root = sample();
    g_autofree char *text = qj_to_string(root, QJ_COMPACT);

    g_assert_cmpstr(text, ==,
                    "{\"inner\":{\"size\":-5,\"none\":null,\"empty\":{}},"
                    "\"list\":[1,\"two\",{\"nothing\":[]}],\"name\":\"s1\","
                    "\"ok\":true}");
}

static void test_setting_a_name_again_replaces_in_place(void)
{
    g_autoptr(QjValue) o = qj_object();
    g_autofree char *text = NULL;

    qj_set_int(o, "a", 1);
    qj_set_int(o, "b", 2);
    qj_set_str(o, "a", "again");
    text = qj_to_string(o, QJ_COMPACT);
    g_assert_cmpstr(text, ==, "{\"a\":\"again\",\"b\":2}");
}

static void test_numbers_at_their_limits(void)
{
    g_autoptr(QjValue) a = qj_array();
    g_autofree char *text = NULL;
    g_autoptr(QjValue) back = NULL;
    int64_t i;
    uint64_t u;
    double d;

    qj_append_int(a, INT64_MIN);
    qj_append_int(a, INT64_MAX);
    qj_append(a, qj_uint(UINT64_MAX));
    qj_append(a, qj_double(0.1));
    qj_append(a, qj_double(-3.0));
    qj_append(a, qj_double(0.715671));
    qj_append(a, qj_double(1.0 / 3));
    qj_append(a, qj_double(1e300));
    text = qj_to_string(a, QJ_COMPACT);
    /* doubles: the shortest text that reads back as the same double */
    g_assert_cmpstr(text, ==,
                    "[-9223372036854775808,9223372036854775807,"
                    "18446744073709551615,0.1,-3.0,0.715671,"
                    "0.3333333333333333,1e+300]");
    back = qj_parse(text, strlen(text), NULL);
    g_assert_nonnull(back);
    g_assert_true(qj_as_int(qj_at(back, 0), &i) && i == INT64_MIN);
    g_assert_false(qj_as_uint(qj_at(back, 0), &u));
    g_assert_true(qj_as_int(qj_at(back, 1), &i) && i == INT64_MAX);
    g_assert_false(qj_as_int(qj_at(back, 2), &i));
    g_assert_true(qj_as_uint(qj_at(back, 2), &u) && u == UINT64_MAX);
    g_assert_cmpint(qj_kind(qj_at(back, 3)), ==, QJ_DOUBLE);
    g_assert_true(qj_as_double(qj_at(back, 3), &d) && d == 0.1);
    g_assert_cmpint(qj_kind(qj_at(back, 4)), ==, QJ_DOUBLE);
    g_assert_true(qj_as_double(qj_at(back, 6), &d) && d == 1.0 / 3);
    g_assert_true(qj_as_double(qj_at(back, 7), &d) && d == 1e300);
    /* beyond 64 bits: a double, not an error */
    g_clear_pointer(&back, qj_free);
    back = qj_parse("18446744073709551616", 20, NULL);
    g_assert_cmpint(qj_kind(back), ==, QJ_DOUBLE);
}

static void test_reader_decodes_every_escape(void)
{
    const char text[] = "{\"s\": \"q\\\"b\\\\s\\/\\b\\f\\n\\r\\t"
                        "\\u00e9\\u20AC\\ud83d\\ude00\\u0000 raw \xc3\xa9\"}";
    g_autoptr(GError) err = NULL;
    g_autoptr(QjValue) v = qj_parse(text, strlen(text), &err);

    g_assert_no_error(err);
    g_assert_cmpstr(qj_get_str(v, "s"), ==,
                    "q\"b\\s/\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                    "\xc0\x80 raw \xc3\xa9");
}

static void assert_refused(const char *text, const char *want)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(QjValue) v = qj_parse(text, strlen(text), &err);

    g_assert_null(v);
    g_assert_nonnull(err);
    if (!strstr(err->message, want)) {
        g_error("'%s': got '%s', want '%s'", text, err->message, want);
    }
}

static void test_reader_refuses_what_is_not_one_json_value(void)
{
    assert_refused("", "line 1, column 1: expected a value but the text ends");
    assert_refused("{\"a\": 1,\n  \"a\": 2}", "line 2, column 3: duplicate");
    assert_refused("[1, 2", "expected ',' or ']'");
    assert_refused("[1,]", "line 1, column 4: expected a value");
    assert_refused("{\"a\" 1}", "expected ':'");
    assert_refused("{a: 1}", "expected a member name");
    assert_refused("1 2", "line 1, column 3: more text after the value");
    assert_refused("01", "more text");
    assert_refused("-", "expected a value");
    assert_refused("1.", "digit after the decimal point");
    assert_refused("1e", "digit in the exponent");
    assert_refused("1e999", "too large");
    assert_refused("tru", "expected a value");
    assert_refused("\"a\nb\"", "control character 0x0a");
    assert_refused("\"\\x41\"", "invalid escape");
    assert_refused("\"\\u12\"", "four hex digits");
    assert_refused("\"\\ud800\"", "unpaired high surrogate");
    assert_refused("\"\\ud800\\u0041\"", "unpaired high surrogate");
    assert_refused("\"\\udc00\"", "unpaired low surrogate");
    assert_refused("\"\xff\"", "invalid UTF-8");
    assert_refused("\"\xc3\"", "invalid UTF-8");
    assert_refused("\"abc", "not closed");
    assert_refused("nul\0l", "expected a value");
}

static void test_reader_limits_nesting(void)
{
    g_autoptr(GString) deep = g_string_new(NULL);
    g_autoptr(QjValue) ok = NULL;

    for (int i = 0; i < QJ_MAX_DEPTH; i++) {
        g_string_append_c(deep, '[');
    }
    for (int i = 0; i < QJ_MAX_DEPTH; i++) {
        g_string_append_c(deep, ']');
    }
    ok = qj_parse(deep->str, deep->len, NULL);
    g_assert_nonnull(ok);
    g_string_prepend_c(deep, '[');
    g_string_append_c(deep, ']');
    assert_refused(deep->str, "nested deeper than 256");
}

static void test_accessors_tolerate_the_wrong_shape(void)
{
    const char text[] = "{\"n\": \"5\", \"a\": [true], \"o\": {}}";
    g_autoptr(QjValue) v = qj_parse(text, strlen(text), NULL);
    bool b = false;

    g_assert_nonnull(v);
    g_assert_null(qj_get_str(v, "missing"));
    g_assert_cmpint(qj_get_int(v, "n", 7), ==, 7); /* a string, not 5 */
    g_assert_cmpstr(qj_get_str(v, "n"), ==, "5");
    g_assert_null(qj_get(qj_get(v, "a"), "x")); /* an array */
    g_assert_null(qj_at(qj_get(v, "o"), 0));    /* an object */
    g_assert_null(qj_at(qj_get(v, "a"), 1));    /* past the end */
    g_assert_true(qj_as_bool(qj_at(qj_get(v, "a"), 0), &b) && b);
    g_assert_cmpuint(qj_length(qj_get(v, "n")), ==, 0);
    g_assert_cmpuint(qj_length(NULL), ==, 0);
    g_assert_cmpint(qj_kind(NULL), ==, QJ_NULL);
    g_assert_false(qj_get_bool(NULL, "x", false));
}

static void test_big_objects_stay_fast_and_refuse_duplicates(void)
{
    g_autoptr(GString) text = g_string_new("{");
    g_autoptr(QjValue) v = NULL;

    for (int i = 0; i < 20000; i++) {
        g_string_append_printf(text, "%s\"m%d\": %d", i ? ", " : "", i, i);
    }
    g_string_append(text, "}");
    v = qj_parse(text->str, text->len, NULL);
    g_assert_nonnull(v);
    g_assert_cmpuint(qj_length(v), ==, 20000);
    g_assert_cmpint(qj_get_int(v, "m12345", -1), ==, 12345);
    g_string_insert(text, text->len - 1, ", \"m17\": 0");
    assert_refused(text->str, "duplicate member name");
}

static void test_written_text_reads_back_the_same(void)
{
    g_autoptr(QjValue) root = sample();
    QjValue *list = qj_set_array(root, "names");
    g_autofree char *pretty = NULL, *again = NULL;
    g_autoptr(QjValue) back = NULL;
    const char *names[] = {"a\nb",
                           "t\tab",
                           "\x01\x1f\x7f",
                           "q\"uo\\te",
                           "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
                           "ov\xc0\x80x"};

    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        qj_append_str(list, names[i]);
    }
    pretty = qj_to_string(root, QJ_PRETTY);
    back = qj_parse(pretty, strlen(pretty), NULL);
    g_assert_nonnull(back);
    again = qj_to_string(back, QJ_PRETTY);
    g_assert_cmpstr(again, ==, pretty);
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_assert_cmpstr(qj_as_str(qj_at(qj_get(back, "names"), i)), ==,
                        names[i]);
    }
}

static void test_parse_file_names_the_file(void)
{
    g_autofree char *dir = g_dir_make_tmp("qsnapfix-json-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "report.json", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(QjValue) v = NULL;

    g_assert_true(g_file_set_contents(path, "{\"a\": [1,\n 2,, 3]}", -1, NULL));
    v = qj_parse_file(path, &err);
    g_assert_null(v);
    g_assert_true(g_str_has_prefix(err->message, path));
    g_assert_nonnull(strstr(err->message, "line 2, column 4"));
    g_clear_error(&err);
    g_assert_true(g_file_set_contents(path, " [\"ok\"]\n", -1, NULL));
    v = qj_parse_file(path, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(qj_as_str(qj_at(v, 0)), ==, "ok");
    g_unlink(path);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/json/strings_are_escaped_as_qemu_escapes_them",
                    test_strings_are_escaped_as_qemu_escapes_them);
    g_test_add_func("/json/pretty_layout_is_the_reports_layout",
                    test_pretty_layout_is_the_reports_layout);
    g_test_add_func("/json/compact_layout_is_one_line",
                    test_compact_layout_is_one_line);
    g_test_add_func("/json/setting_a_name_again_replaces_in_place",
                    test_setting_a_name_again_replaces_in_place);
    g_test_add_func("/json/numbers_at_their_limits",
                    test_numbers_at_their_limits);
    g_test_add_func("/json/reader_decodes_every_escape",
                    test_reader_decodes_every_escape);
    g_test_add_func("/json/reader_refuses_what_is_not_one_json_value",
                    test_reader_refuses_what_is_not_one_json_value);
    g_test_add_func("/json/reader_limits_nesting", test_reader_limits_nesting);
    g_test_add_func("/json/accessors_tolerate_the_wrong_shape",
                    test_accessors_tolerate_the_wrong_shape);
    g_test_add_func("/json/big_objects_stay_fast_and_refuse_duplicates",
                    test_big_objects_stay_fast_and_refuse_duplicates);
    g_test_add_func("/json/written_text_reads_back_the_same",
                    test_written_text_reads_back_the_same);
    g_test_add_func("/json/parse_file_names_the_file",
                    test_parse_file_names_the_file);
    return g_test_run();
}
