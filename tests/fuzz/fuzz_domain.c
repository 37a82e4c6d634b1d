/*
 * libFuzzer target: the domain XML a libvirt save image carries
 * (src/libvirt/domain.h), which a fix reads, edits and writes back. The
 * input is the XML; what parses goes through every edit a fix makes (the
 * recipe's fragments merged, the emulator and qsnapfix's record set) and
 * its text must parse again, with the same name, machine and record.
 * Oracles beyond "no crash": a formatted domain always parses; the edits
 * read back as they were set.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libvirt/domain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RECORD_URI "https://qsnapfix.example/record/1"

/* The kinds of fragment the recipe renders (src/libvirt/render.c). */
static const char *const fragments[] = {
    "<os><type arch='x86_64' machine='pc-i440fx-1.4'>hvm</type></os>",
    "<video><model type='cirrus' vram='16384'/></video>",
    "<cpu mode='custom' match='exact'><model fallback='forbid'>qemu64"
    "</model></cpu>",
    "<qemu:commandline xmlns:qemu='" LVDOM_QEMU_NS "'><qemu:arg "
    "value='-global'/><qemu:arg value='cirrus-vga.vgamem_mb=16'/>"
    "</qemu:commandline>",
    NULL,
};

static bool same(char *a, char *b)
{
    bool equal = !g_strcmp0(a, b);

    g_free(a);
    g_free(b);
    return equal;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *xml = g_strndup((const char *)data, size);
    g_autoptr(LvDomain) d = lvdom_parse(xml, NULL);
    g_autoptr(LvDomain) again = NULL;
    g_autoptr(GPtrArray) frags = g_ptr_array_new();
    g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *text = NULL;

    if (!d) {
        return 0;
    }
    g_free(lvdom_name(d));
    g_free(lvdom_uuid(d));
    g_free(lvdom_type(d));
    for (guint i = 0; fragments[i]; i++) {
        g_ptr_array_add(frags, (gpointer)fragments[i]);
    }
    /* a domain the merge cannot take is refused, not half-edited: the
     * text below must parse either way */
    (void)lvdom_merge(d, frags, changes, NULL);
    lvdom_set_emulator(d, "/usr/bin/qemu-system-x86_64");
    lvdom_set_metadata(d, RECORD_URI, "qsnapfix", "record", "{\"a\": 1}");
    text = lvdom_format(d);
    again = lvdom_parse(text, NULL);
    if (!again) {
        abort(); /* what we write, we read */
    }
    if (!same(lvdom_name(d), lvdom_name(again)) ||
        !same(lvdom_machine(d), lvdom_machine(again)) ||
        !same(lvdom_emulator(again), g_strdup("/usr/bin/qemu-system-x86_64")) ||
        !same(lvdom_metadata(again, RECORD_URI, "record"),
              g_strdup("{\"a\": 1}"))) {
        abort();
    }
    return 0;
}
