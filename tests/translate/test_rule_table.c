/*
 * The rule table (src/translate/rule_table.c) is consistent: one entry per
 * id, each saying what it fixes and what its findings may do; every rule
 * it needs runs before it and hands something on; the RAM block rules form
 * one walk; every RAM spec of every target names a rule that explains its
 * kind. That every finding of a run carries a table id and a declared
 * action is checked by every run of the translator's unit tests
 * (ts_assert_findings_from_table); here on streams that make most rules
 * fire at once.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "streams.h"
#include "translate/rules.h"
#include "translate/target.h"

static guint index_of(const char *id)
{
    guint n;
    const TrRule *const *t = tr_rule_table(&n);

    for (guint i = 0; i < n; i++) {
        if (!strcmp(t[i]->id, id)) {
            return i;
        }
    }
    return G_MAXUINT;
}

static void test_ids_are_unique_and_entries_complete(void)
{
    guint n;
    const TrRule *const *t = tr_rule_table(&n);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

    g_assert_cmpuint(n, >=, 26);
    for (guint i = 0; i < n; i++) {
        const TrRule *r = t[i];
        if (!g_hash_table_add(seen, (gpointer)r->id)) {
            g_error("rule id '%s' is in the table twice", r->id);
        }
        g_assert_nonnull(r->title);
        g_assert_nonnull(r->fixes);
        g_assert_nonnull(r->plan);
        g_assert_cmpuint(r->actions, !=, 0);
        g_assert_cmpuint(r->actions & ~((1u << (TR_ACTION_NOTE + 1)) - 1), ==,
                         0);
        /* one way to detect: over the stream, or block by block */
        g_assert_true((r->detect != NULL) != (r->detect_block != NULL));
        g_assert_true((r->ram_kinds != 0) == (r->detect_block != NULL));
        /* a rule left undecided without page data reports a note */
        if (r->reads_pages) {
            g_assert_true(r->actions & TR_MAY_NOTE);
        }
        g_assert_true(tr_rule_find(r->id) == r);
    }
    g_assert_null(tr_rule_find("R11"));
}

/* R1-R10 and R15-R24 of vmstate-reference.md and the project; R11-R14
 * need no rule. */
static void test_every_numbered_rule_is_in_the_table(void)
{
    static const char *const ids[] = {
        "R1",     "R2",     "R3",  "R4",   "R5",  "R6",  "R7",
        "R8",     "R9",     "R10", "R15",  "R16", "R17", "R18",
        "R19",    "R20",    "R21", "R22",  "R23", "R24", "drop-section",
        "target", "layout", "kvm", "hpet", "ram"};

    for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
        if (!tr_rule_find(ids[i])) {
            g_error("no rule '%s' in the table", ids[i]);
        }
    }
}

static void test_needs_run_earlier_and_hand_something_on(void)
{
    guint n;
    const TrRule *const *t = tr_rule_table(&n);

    for (guint i = 0; i < n; i++) {
        for (const char *const *need = t[i]->needs; need && *need; need++) {
            guint j = index_of(*need);
            if (j == G_MAXUINT) {
                g_error("%s needs '%s', which is not in the table", t[i]->id,
                        *need);
            }
            if (j >= i) {
                g_error("%s needs %s, which runs after it", t[i]->id, *need);
            }
            if (!t[j]->gives) {
                g_error("%s needs %s, which hands nothing on", t[i]->id, *need);
            }
        }
    }
}

static void test_ram_rules_form_one_walk(void)
{
    guint n, first = G_MAXUINT, last = 0;
    const TrRule *const *t = tr_rule_table(&n);

    for (guint i = 0; i < n; i++) {
        if (t[i]->detect_block) {
            first = MIN(first, i);
            last = i;
        }
    }
    g_assert_cmpuint(first, <, n);
    for (guint i = first; i <= last; i++) {
        if (!t[i]->detect_block) {
            g_error("%s splits the RAM block walk", t[i]->id);
        }
    }
}

static void test_target_ram_specs_name_a_rule_of_their_kind(void)
{
    const TrTarget *const *targets = tr_targets();
    const TrRule *fallback = tr_rule_find("ram");

    for (guint i = 0; targets[i]; i++) {
        for (const TrRamSpec *s = targets[i]->ram; s->match; s++) {
            const TrRule *r = s->rule ? tr_rule_find(s->rule) : fallback;
            if (s->kind == TR_RAM_ANY) {
                continue; /* never a finding */
            }
            if (!r || !r->detect_block) {
                g_error("%s: RAM spec '%s' names '%s', not a RAM block rule",
                        targets[i]->name, s->match, s->rule);
            }
            if (!(r->ram_kinds & (1u << s->kind))) {
                g_error("%s: RAM spec '%s' (kind %d) names %s, which does "
                        "not explain that kind",
                        targets[i]->name, s->match, s->kind, r->id);
            }
        }
    }
}

/* A qemu-kvm 1.0 shaped stream with most of what the rules look for. */
static GBytes *busy_stream(void)
{
    const VmsBlockSpec blocks[] = {{"pc.ram", KiB(64)},
                                   {"vga.vram", MiB(16)},
                                   {"0000:00:03.0/rtl8139.rom", KiB(64)},
                                   {"pc.bios", KiB(128)},
                                   {"unknown.block", KiB(4)}};
    g_autoptr(GByteArray) out = g_byte_array_new();
    VmsBuilder *b = ts_begin(out, 0, blocks, G_N_ELEMENTS(blocks));
    g_autofree uint8_t *zeros = g_malloc0(4096);
    g_autoptr(GBytes) balloon = ts_virtio_balloon(0x0500);
    g_autoptr(GBytes) cirrus = ts_pci_device(0x1013, 0x00b8, 0x0300, 0, 1594);
    gsize blen, clen;
    const void *bp = g_bytes_get_data(balloon, &blen);
    const void *cp = g_bytes_get_data(cirrus, &clen);

    vms_builder_ram_fill(b, "pc.ram", 0, 0xcc);
    vms_builder_ram_page(b, "0000:00:03.0/rtl8139.rom", 0, zeros);
    vms_builder_ram_fill(b, "pc.bios", 0, 0xff);
    ts_ram_end(b);
    vms_builder_section(b, VMS_SECTION_START, 9, "block", 0, 1);
    vms_builder_block_eos(b);
    ts_full(b, 3, "0000:00:01.3/piix4_pm", 0, 2, zeros, 312);
    ts_full(b, 4, "i8254", 0, 2, zeros, 108);
    ts_full(b, 5, "0000:00:05.0/virtio-balloon", 0, 1, bp, blen);
    ts_full(b, 6, "kvmclock", 0, 1, zeros, 8);
    ts_full(b, 7, "pci-assign", 0, 1, zeros, 16);
    ts_full(b, 8, "0000:00:02.0/cirrus_vga", 0, 2, cp, clen);
    return ts_finish(b, out);
}

static void test_a_busy_stream_reports_only_table_rules(void)
{
    g_autoptr(GBytes) in = busy_stream();
    static const char *const targets[] = {"qemu-7.2", "qemu-10.0", "qemu-2.0"};

    for (guint i = 0; i < G_N_ELEMENTS(targets); i++) {
        TrOptions o = {.target = tr_target_find(targets[i])};
        TrOptions drop = o;
        const char *const names[] = {"pci-assign", NULL};
        drop.drop_sections = names;
        drop.drop_roms = true;
        g_autoptr(TsRun) run = ts_run(in, &o);
        g_autoptr(TsRun) dropped = ts_run(in, &drop);
        g_autoptr(TsRun) tail = ts_run_without_pages(in, &drop);

        /* ts_run checked each finding against the table */
        g_assert_cmpuint(run->r->findings->len, >=, 10);
        g_assert_nonnull(ts_finding(run->r, "R4", "vga.vram"));
        g_assert_nonnull(ts_finding(run->r, "ram", "unknown.block"));
        g_assert_nonnull(ts_finding(run->r, "target", "pci-assign"));
        g_assert_nonnull(ts_finding(dropped->r, "drop-section", NULL));
        g_assert_null(ts_finding(dropped->r, "target", "pci-assign"));
        g_assert_nonnull(ts_finding(tail->r, "drop-section", NULL));
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rule-table/ids-are-unique-and-entries-complete",
                    test_ids_are_unique_and_entries_complete);
    g_test_add_func("/rule-table/every-numbered-rule-is-in-the-table",
                    test_every_numbered_rule_is_in_the_table);
    g_test_add_func("/rule-table/needs-run-earlier-and-hand-something-on",
                    test_needs_run_earlier_and_hand_something_on);
    g_test_add_func("/rule-table/ram-rules-form-one-walk",
                    test_ram_rules_form_one_walk);
    g_test_add_func("/rule-table/target-ram-specs-name-a-rule-of-their-kind",
                    test_target_ram_specs_name_a_rule_of_their_kind);
    g_test_add_func("/rule-table/a-busy-stream-reports-only-table-rules",
                    test_a_busy_stream_reports_only_table_rules);
    return g_test_run();
}
