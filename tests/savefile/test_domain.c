/*
 * Unit tests of the domain XML update (src/libvirt/domain.h): the domain a
 * libvirt 0.9 host put into a save image, merged with the libvirt
 * fragments of a recipe (as the program renders them), element by element;
 * a second merge changes nothing; an element of another namespace in
 * <metadata> is set, read back, replaced and removed.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>
#include <string.h>

#include "libvirt/domain.h"

static const char old_xml[] =
    "<domain type='qemu' id='3'>\n"
    "  <name>vm1</name>\n"
    "  <uuid>5c1f0000-0000-4000-8000-000000000001</uuid>\n"
    "  <memory>131072</memory>\n"
    "  <os>\n"
    "    <type arch='x86_64' machine='pc-1.0'>hvm</type>\n"
    "    <boot dev='hd'/>\n"
    "  </os>\n"
    "  <clock offset='utc'/>\n"
    "  <devices>\n"
    "    <emulator>/usr/bin/qemu-kvm</emulator>\n"
    "    <interface type='user'>\n"
    "      <mac address='52:54:00:12:34:56'/>\n"
    "      <model type='rtl8139'/>\n"
    "    </interface>\n"
    "    <interface type='user'>\n"
    "      <model type='e1000'/>\n"
    "    </interface>\n"
    "    <video>\n"
    "      <model type='cirrus' vram='9216' heads='1'/>\n"
    "    </video>\n"
    "  </devices>\n"
    "</domain>\n";

/* What the program renders for a qemu-kvm 1.0 stream with no HPET, a
 * 64 KiB rtl8139 ROM and the cirrus VRAM of 16 MiB. */
static GPtrArray *recipe_fragments(void)
{
    GPtrArray *f = g_ptr_array_new();

    g_ptr_array_add(f, "<os><type arch='x86_64' machine='pc-i440fx-1.4'>hvm"
                       "</type></os>");
    g_ptr_array_add(f, "<cpu mode='custom' match='exact'><model "
                       "fallback='forbid'>qemu64</model></cpu>");
    g_ptr_array_add(f, "<video><model type='cirrus' vram='16384'/></video>");
    g_ptr_array_add(f, "<qemu:commandline xmlns:qemu='" LVDOM_QEMU_NS "'>"
                       "<qemu:arg value='-global'/>"
                       "<qemu:arg value='cirrus-vga.vgamem_mb=16'/>"
                       "</qemu:commandline>");
    g_ptr_array_add(f, "<interface><model type='rtl8139'/><rom "
                       "file='/var/lib/libvirt/qemu/save/vm1.rom'/>"
                       "</interface>");
    g_ptr_array_add(f, "<clock offset='utc'><timer name='hpet' "
                       "present='no'/></clock>");
    return f;
}

static LvDomain *merged(const char *xml, GPtrArray *changes)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) frags = recipe_fragments();
    LvDomain *d = lvdom_parse(xml, &err);

    g_assert_no_error(err);
    g_assert_true(lvdom_merge(d, frags, changes, &err));
    g_assert_no_error(err);
    return d;
}

static void test_reads_what_the_domain_says(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(LvDomain) d = lvdom_parse(old_xml, &err);
    g_autofree char *name = lvdom_name(d);
    g_autofree char *uuid = lvdom_uuid(d);
    g_autofree char *type = lvdom_type(d);
    g_autofree char *machine = lvdom_machine(d);
    g_autofree char *emulator = lvdom_emulator(d);

    g_assert_no_error(err);
    g_assert_cmpstr(name, ==, "vm1");
    g_assert_cmpstr(uuid, ==, "5c1f0000-0000-4000-8000-000000000001");
    g_assert_cmpstr(type, ==, "qemu");
    g_assert_cmpstr(machine, ==, "pc-1.0");
    g_assert_cmpstr(emulator, ==, "/usr/bin/qemu-kvm");
}

static void test_recipe_lands_in_the_domains_own_elements(void)
{
    g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(LvDomain) d = merged(old_xml, changes);
    g_autofree char *machine = NULL, *emulator = NULL;
    g_autofree char *out = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(LvDomain) again = NULL;

    lvdom_set_emulator(d, "/usr/bin/qemu-system-x86_64");
    out = lvdom_format(d);
    again = lvdom_parse(out, &err);
    g_assert_no_error(err);
    machine = lvdom_machine(again);
    emulator = lvdom_emulator(again);
    g_assert_cmpstr(machine, ==, "pc-i440fx-1.4");
    g_assert_cmpstr(emulator, ==, "/usr/bin/qemu-system-x86_64");
    g_assert_nonnull(strstr(out, "<model type=\"cirrus\" vram=\"16384\" "
                                 "heads=\"1\"/>"));
    g_assert_nonnull(strstr(out, "<timer name=\"hpet\" present=\"no\"/>"));
    g_assert_nonnull(strstr(out, "<cpu mode=\"custom\""));
    g_assert_nonnull(strstr(out, "xmlns:qemu=\"" LVDOM_QEMU_NS "\""));
    g_assert_nonnull(strstr(out, "<qemu:arg value=\"cirrus-vga.vgamem_mb=16\""
                                 "/>"));
    /* the ROM on the rtl8139 only, not on the e1000 */
    {
        const char *rtl = strstr(out, "<model type=\"rtl8139\"/>");
        const char *e1000 = strstr(out, "<model type=\"e1000\"/>");
        const char *rom = strstr(out, "<rom file=");
        g_assert_true(rtl && e1000 && rom && rtl < rom && rom < e1000);
        g_assert_null(strstr(rom + 1, "<rom file="));
    }
    /* untouched parts keep their text */
    g_assert_nonnull(strstr(out, "<mac address=\"52:54:00:12:34:56\"/>"));
    g_assert_nonnull(strstr(out, "<boot dev=\"hd\"/>"));
    g_assert_cmpuint(changes->len, >=, 6);
}

static void test_a_second_merge_changes_nothing(void)
{
    g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(LvDomain) d = merged(old_xml, changes);
    g_autofree char *once = lvdom_format(d);
    g_autoptr(LvDomain) twice = merged(once, changes);
    g_autofree char *out = lvdom_format(twice);

    g_assert_cmpstr(out, ==, once);
}

/* A <qemu:arg> without a value in the domain (found by fuzz_domain: the
 * merge compared the NULL it read) is left as it is, beside the recipe's. */
static void test_an_arg_without_value_is_kept(void)
{
    static const char xml[] =
        "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/"
        "qemu/1.0'><name>a</name><os><type>hvm</type></os>"
        "<qemu:commandline><qemu:arg value='-global'/><qemu:arg "
        "valeu='x.y=1'/></qemu:commandline></domain>";
    g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(LvDomain) d = merged(xml, changes);
    g_autofree char *out = lvdom_format(d);

    g_assert_nonnull(strstr(out, "valeu=\"x.y=1\""));
    g_assert_nonnull(
        strstr(out, "<qemu:arg value=\"cirrus-vga.vgamem_mb=16\"/>"));
}

#define NS "urn:example:test:1"

static void test_metadata_is_set_read_and_removed(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(LvDomain) d = lvdom_parse(old_xml, &err);
    const char *value = "{\"a\":\"<b> & 'c'\"}";
    g_autofree char *none = lvdom_metadata(d, NS, "record");
    g_autofree char *with = NULL, *again = NULL, *without = NULL;
    g_autofree char *got = NULL, *replaced = NULL, *plain = lvdom_format(d);
    g_autoptr(LvDomain) reread = NULL;

    g_assert_null(none);
    lvdom_set_metadata(d, NS, "t", "record", value);
    with = lvdom_format(d);
    /* where libvirt writes it: after <uuid>, before <memory> */
    g_assert_nonnull(strstr(with, "</uuid>\n  <metadata>\n    <t:record "
                                  "xmlns:t=\"" NS "\">"));
    g_assert_true(strstr(with, "<metadata>") < strstr(with, "<memory>"));
    reread = lvdom_parse(with, &err);
    g_assert_no_error(err);
    got = lvdom_metadata(reread, NS, "record");
    g_assert_cmpstr(got, ==, value);
    lvdom_set_metadata(reread, NS, "t", "record", "2");
    replaced = lvdom_metadata(reread, NS, "record");
    g_assert_cmpstr(replaced, ==, "2");
    again = lvdom_format(reread);
    g_assert_null(strstr(strstr(again, "<t:record") + 1, "<t:record"));
    lvdom_set_metadata(reread, NS, "t", "record", NULL);
    without = lvdom_format(reread);
    g_assert_cmpstr(without, ==, plain);
}

static void test_a_domain_cpu_is_kept(void)
{
    g_autofree char *with_cpu = NULL;
    g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(LvDomain) d = NULL;
    g_autofree char *out = NULL;
    gboolean said = FALSE;
    GString *g = g_string_new(old_xml);

    g_string_replace(g, "  <clock",
                     "  <cpu><model>Westmere</model></cpu>\n"
                     "  <clock",
                     1);
    with_cpu = g_string_free(g, FALSE);
    d = merged(with_cpu, changes);
    out = lvdom_format(d);
    g_assert_nonnull(strstr(out, "<model>Westmere</model>"));
    g_assert_null(strstr(out, "qemu64"));
    for (guint i = 0; i < changes->len; i++) {
        said |= strstr(g_ptr_array_index(changes, i), "<cpu> kept") != NULL;
    }
    g_assert_true(said);
}

static void test_what_is_not_xml_is_refused(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(LvDomain) d = lvdom_parse("<domain><name>x</nam></domain>", &err);

    g_assert_null(d);
    g_assert_error(err, LVSAVE_ERROR, LVSAVE_ERROR_BAD_HEADER);
    g_clear_error(&err);
    g_assert_null(lvdom_parse("<network/>", &err));
    g_assert_error(err, LVSAVE_ERROR, LVSAVE_ERROR_BAD_HEADER);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/domain/reads-what-the-domain-says",
                    test_reads_what_the_domain_says);
    g_test_add_func("/domain/recipe-lands-in-the-domains-own-elements",
                    test_recipe_lands_in_the_domains_own_elements);
    g_test_add_func("/domain/a-second-merge-changes-nothing",
                    test_a_second_merge_changes_nothing);
    g_test_add_func("/domain/a-domain-cpu-is-kept", test_a_domain_cpu_is_kept);
    g_test_add_func("/domain/metadata-is-set-read-and-removed",
                    test_metadata_is_set_read_and_removed);
    g_test_add_func("/domain/an-arg-without-value-is-kept",
                    test_an_arg_without_value_is_kept);
    g_test_add_func("/domain/what-is-not-xml-is-refused",
                    test_what_is_not_xml_is_refused);
    return g_test_run();
}
