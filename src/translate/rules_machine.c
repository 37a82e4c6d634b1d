/*
 * The machine around the devices: machine type and CPU model (R15), the
 * accelerator (kvm), HPET (hpet), ACPI (acpi), the APIC's vapic (R25), the
 * RAM split below 4 GiB (R28). These never edit the stream; they fill the
 * recipe, or refuse, each from stream evidence.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rules.h"
#include "stream/fingerprint.h"

static bool has_live(const TrContext *ctx, const char *vmsd)
{
    const VmsStream *s = ctx->stream;

    for (guint i = 0; i < s->sections->len; i++) {
        if (tr_section_live(ctx, i) &&
            !strcmp(tr_vmsd(vms_stream_section(s, i)), vmsd)) {
            return true;
        }
    }
    return false;
}

/* ---- who wrote it -------------------------------------------------------- */

/* The source's machine type on a target that has the old ones (qemu-2.0). */
static const char *writer_machine(const VmsWriterInfo *w)
{
    bool pc10_hint = false;

    for (guint i = 0; i < w->machine_hints->len; i++) {
        pc10_hint = pc10_hint ||
                    strstr(g_ptr_array_index(w->machine_hints, i), "pc-1.0");
    }
    if (!w->version) {
        return NULL;
    }
    if (!strcmp(w->version, "0.15")) {
        /* qemu-kvm 0.15 called its default machine "pc-0.14", but without
         * the compat properties upstream's pc-0.14 has: its virtio devices
         * offer EVENT_IDX as upstream's pc-0.15 does (QEMU 2.0 -M pc-0.14
         * refuses a qemu-kvm 0.15 virtio-net guest that acked it) */
        return "pc-0.15";
    }
    if (!strcmp(w->version, "1.0") || !strcmp(w->version, "1.0..1.0")) {
        return "pc-1.0";
    }
    if (!strcmp(w->version, "1.1") || !strcmp(w->version, "1.2") ||
        !strcmp(w->version, "1.0..1.2")) {
        /* USB named by port only: 1.1/1.2 ran -M pc-1.0 or older */
        return pc10_hint                    ? "pc-1.0"
               : !strcmp(w->version, "1.1") ? "pc-1.1"
                                            : "pc-1.2";
    }
    return NULL;
}

static char *join_evidence(const VmsWriterInfo *w)
{
    g_autoptr(GString) g = g_string_new(NULL);

    for (guint i = 0; i < w->evidence->len && i < 3; i++) {
        g_string_append_printf(g, "%s%s", i ? "; " : "",
                               (char *)g_ptr_array_index(w->evidence, i));
    }
    return g_strdup(g->str);
}

/* A PC without a PCI bus: -M isapc, which always has its two ISA IDE
 * buses (no PCIBUS section, "isa-ide" sections). */
static bool isa_only_pc(const TrContext *ctx)
{
    return !has_live(ctx, "PCIBUS") && has_live(ctx, "isa-ide");
}

/* ---- machine type -------------------------------------------------------- */

bool tr_machine_kept(const TrTarget *t, const char *named)
{
    return named && t->reads_configuration && tr_target_has_machine(t, named);
}

static void machine_detect(TrContext *ctx, GArray *hits)
{
    g_autofree char *named = vms_stream_machine(ctx->stream);
    const VmsWriterInfo *w = ctx->writer;
    g_autofree char *why = join_evidence(w);
    const char *machine = writer_machine(w);
    bool qemu_kvm = !strcmp(w->program, "qemu-kvm");
    g_autofree char *who = vms_writer_describe(w);
    g_autofree char *lacked = NULL;

    g_free(ctx->result->writer);
    ctx->result->writer = g_strdup_printf("%s (%s)", who, w->accel);
    if (named && !tr_machine_kept(ctx->target, named)) {
        /* R18 frames the stream for the recipe's machine */
        lacked = g_steal_pointer(&named);
    }
    if (ctx->opts->machine) {
        ctx->recipe->machine = g_strdup(ctx->opts->machine);
    } else if (named) {
        ctx->recipe->machine = g_strdup(named);
        if (!ctx->target->machine || strcmp(named, ctx->target->machine)) {
            tr_hit_add(ctx, hits, G_MAXUINT, G_MAXUINT, 0, "machine",
                       g_strdup_printf("the CONFIGURATION record names "
                                       "machine type '%s'",
                                       named));
        }
    } else if (isa_only_pc(ctx) && tr_target_has_isapc(ctx->target)) {
        ctx->recipe->machine = g_strdup("isapc");
        tr_hit_add(ctx, hits, G_MAXUINT, G_MAXUINT, 0, "machine",
                   g_strdup("'isa-ide' sections and no 'PCIBUS' section: a "
                            "PC without PCI, -M isapc (an i440fx machine "
                            "has no ISA IDE to load them into)"));
    } else if (ctx->target->machine) {
        ctx->recipe->machine = g_strdup(ctx->target->machine);
    } else if (machine) {
        ctx->recipe->machine = g_strdup(machine);
        tr_hit_add(ctx, hits, G_MAXUINT, G_MAXUINT, 0, "machine",
                   g_strdup_printf("written by %s (%s): its machine type "
                                   "was '%s'",
                                   who, why, machine));
    } else {
        ctx->recipe->machine = g_strdup("pc");
        tr_recipe_add_note(
            ctx->recipe,
            lacked ? g_strdup_printf("machine type: the stream was written "
                                     "for '%s', which %s does not have",
                                     lacked, ctx->target->name)
                   : g_strdup_printf("machine type: the stream does not "
                                     "tell (writer %s); use the source's "
                                     "own",
                                     who));
    }
    if (qemu_kvm && !strcmp(ctx->recipe->machine, "isapc")) {
        ctx->recipe->cpu_model = g_strdup("486");
        ctx->recipe->cpu_reason =
            g_strdup("486 is the default CPU of -M isapc in qemu-kvm and in "
                     "the target alike (keep the source's -cpu if it set "
                     "one)");
    } else if (qemu_kvm && w->version && strcmp(w->version, "unknown")) {
        ctx->recipe->cpu_model = g_strdup("qemu64");
        ctx->recipe->cpu_model_id =
            g_strdup_printf("QEMU Virtual CPU version %s", w->version);
        ctx->recipe->cpu_reason = g_strdup_printf(
            "qemu64 is qemu-kvm's default CPU on x86_64 (keep the source's "
            "-cpu if it set one); the guest read model-id '%s' (or %s.x) at "
            "boot",
            ctx->recipe->cpu_model_id, w->version);
    }
}

static bool machine_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    tr_finding_set(hit->finding, TR_ACTION_SETTING,
                   g_strdup_printf("-M %s", ctx->recipe->machine));
    return true;
}

/* R15 — the machine type the stream was written for.
 * Evidence: a CONFIGURATION record names it (QEMU >= 2.4), or, for a
 * target that has the old machines, the writer's fingerprint implies it.
 * Setting: -M TYPE. A record naming a machine the target lacks (or
 * cannot read: QEMU 2.0) is left to R18. */
const TrRule tr_rule_r15_machine = {
    .id = "R15",
    .title = "machine type",
    .fixes = "the stream was written for a machine type (named in its "
             "CONFIGURATION record, or implied by its writer) that the "
             "target must run as well",
    .actions = TR_MAY_SET,
    .needs = TR_NEEDS("drop-section"),
    .detect = machine_detect,
    .plan = machine_plan,
};

/* ---- kvm: the accelerator ------------------------------------------------ */

static void kvm_detect(TrContext *ctx, GArray *hits)
{
    if (has_live(ctx, "kvmclock")) {
        tr_hit_add(ctx, hits, G_MAXUINT, G_MAXUINT, 0, "kvmclock",
                   g_strdup("a 'kvmclock' section: the writer ran under KVM, "
                            "and QEMU creates kvmclock only with KVM (under "
                            "TCG: \"Unknown savevm section or instance "
                            "'kvmclock'\")"));
    }
}

static bool kvm_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    TrRecipe *r = ctx->recipe;

    r->accel = g_strdup("kvm");
    r->accel_machine_property = ctx->target->accel_machine_property;
    r->accel_reason = g_strdup("the stream has a kvmclock section");
    tr_recipe_add_note(
        r, g_strdup("the guest's clock: the stream's kvmclock and TSC "
                    "values are loaded as saved; how far the guest's "
                    "TSC jumps on resume depends on the host (see "
                    "README, \"Guest time after a resume\")"));
    tr_finding_set(hit->finding, TR_ACTION_SETTING,
                   g_strdup_printf("%s (or --drop-section kvmclock to "
                                   "load under TCG, losing the guest's "
                                   "kvmclock state)",
                                   r->accel_machine_property
                                       ? "-machine accel=kvm"
                                       : "-accel kvm"));
    return true;
}

/* kvm — a stream written under KVM.
 * Evidence: a "kvmclock" section. Setting: -accel kvm. */
const TrRule tr_rule_kvm = {
    .id = "kvm",
    .title = "stream written under KVM",
    .fixes = "a 'kvmclock' section: QEMU registers kvmclock only under KVM, "
             "so under TCG the load fails (\"Unknown savevm section or "
             "instance 'kvmclock'\")",
    .actions = TR_MAY_SET,
    .needs = TR_NEEDS("drop-section"),
    .detect = kvm_detect,
    .plan = kvm_plan,
};

/* ---- hpet: a machine without one ----------------------------------------- */

static void hpet_detect(TrContext *ctx, GArray *hits)
{
    /* -M isapc has no HPET in any QEMU */
    if (!has_live(ctx, "hpet") && has_live(ctx, "mc146818rtc") &&
        !isa_only_pc(ctx)) {
        tr_hit_add(ctx, hits, G_MAXUINT, G_MAXUINT, 0, "hpet",
                   g_strdup("no 'hpet' section: the source machine had no "
                            "HPET (e.g. Ubuntu's qemu-kvm 1.2 under TCG); "
                            "the target's would be one the guest never "
                            "saw"));
    }
}

static bool hpet_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    bool option = ctx->target->hpet_syntax == TR_HPET_NO_HPET_OPTION;

    tr_recipe_add_no_hpet(ctx->recipe, option);
    tr_finding_set(hit->finding, TR_ACTION_SETTING,
                   g_strdup(option ? "-no-hpet" : "-machine hpet=off"));
    return true;
}

/* hpet — a PC machine without an HPET.
 * Evidence: an "mc146818rtc" section and no "hpet" section.
 * Setting: -machine hpet=off (-no-hpet on old targets). */
const TrRule tr_rule_hpet = {
    .id = "hpet",
    .title = "source machine without HPET",
    .fixes = "a PC stream (an 'mc146818rtc' section) without an 'hpet' "
             "section: the target would add an HPET the guest never saw",
    .actions = TR_MAY_SET,
    .needs = TR_NEEDS("drop-section"),
    .detect = hpet_detect,
    .plan = hpet_plan,
};

/* ---- acpi: a machine without ACPI ---------------------------------------- */

static void acpi_detect(TrContext *ctx, GArray *hits)
{
    if (has_live(ctx, "PIIX3") && !has_live(ctx, "piix4_pm")) {
        tr_hit_add(ctx, hits, G_MAXUINT, G_MAXUINT, 0, "piix4_pm",
                   g_strdup("a PIIX3 chipset without a 'piix4_pm' section: "
                            "the source ran without ACPI (-no-acpi); the "
                            "target would add its power management device "
                            "at 00:01.3 under a guest that never saw it"));
    }
}

static bool acpi_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const char *option = ctx->target->hpet_syntax == TR_HPET_NO_HPET_OPTION
                             ? "-no-acpi"
                             : "-machine acpi=off";

    tr_recipe_add_note(ctx->recipe,
                       g_strdup_printf("the source had no ACPI: start the "
                                       "target with %s (libvirt: no <acpi/> "
                                       "in <features>); the stream loads "
                                       "either way",
                                       option));
    tr_finding_set(hit->finding, TR_ACTION_NOTE,
                   g_strdup_printf("%s keeps the machine as the guest knew "
                                   "it (see the recipe's note)",
                                   option));
    return true;
}

/* acpi — a PC that ran without ACPI.
 * Evidence: a "PIIX3" section and no "piix4_pm" section.
 * Note: -machine acpi=off (-no-acpi on old targets). */
const TrRule tr_rule_acpi = {
    .id = "acpi",
    .title = "source machine without ACPI",
    .fixes = "a PC stream (a 'PIIX3' section) without 'piix4_pm': the "
             "source ran with -no-acpi; the target would add an ACPI device "
             "the guest never saw (the stream still loads)",
    .actions = TR_MAY_NOTE,
    .needs = TR_NEEDS("drop-section"),
    .detect = acpi_detect,
    .plan = acpi_plan,
};

/* ---- R25: the vapic a machine switches off ------------------------------- */

static void r25_detect(TrContext *ctx, GArray *hits)
{
    /* the machine is R15's, which runs first */
    if (has_live(ctx, "kvm-tpr-opt") &&
        tr_compat_is_off(tr_target_compat(ctx->target, ctx->recipe->machine,
                                          "apic", "vapic"))) {
        tr_hit_add(ctx, hits, G_MAXUINT, G_MAXUINT, 0, "kvm-tpr-opt",
                   g_strdup_printf("a 'kvm-tpr-opt' section (the APIC's TPR "
                                   "access optimisation); %s -M %s switches "
                                   "apic.vapic off (compat property), so "
                                   "under TCG no device loads it "
                                   "(\"Unknown savevm section or instance "
                                   "'kvm-tpr-opt'\")",
                                   ctx->target->name, ctx->recipe->machine));
    }
}

static bool r25_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    tr_recipe_add_global(ctx->recipe, "apic", "vapic", "on");
    tr_finding_set(hit->finding, TR_ACTION_SETTING,
                   g_strdup("-global apic.vapic=on: the TCG APIC then "
                            "creates the vapic device that loads the "
                            "section, as the source had (KVM's APIC is "
                            "another type and keeps it anyway)"));
    return true;
}

/* R25 — kvm-tpr-opt on a machine whose compat properties switch the vapic
 * off (QEMU 1.1-2.x -M pc-1.0 and older: apic.vapic=off).
 * Evidence: a "kvm-tpr-opt" section (qemu-kvm 0.15/1.0 write it under TCG
 * too); fact of the target: the recipe machine's compat property.
 * Setting: -global apic.vapic=on. */
const TrRule tr_rule_r25_vapic = {
    .id = "R25",
    .title = "kvm-tpr-opt on a machine without vapic",
    .fixes = "a 'kvm-tpr-opt' section on a machine whose compat properties "
             "switch apic.vapic off: under TCG no vapic device exists and "
             "the load fails (\"Unknown savevm section or instance "
             "'kvm-tpr-opt'\")",
    .actions = TR_MAY_SET,
    .needs = TR_NEEDS("drop-section"),
    .detect = r25_detect,
    .plan = r25_plan,
};

/* ---- R28: the RAM split below 4 GiB ------------------------------------- */

/* 3.5 GiB: the split of every qemu-kvm and of machines before 2.0 */
#define LOWMEM_3_5G 0xe0000000ULL

/* "1.0..1.2" or "1.2": is the newest version the writer may be <= 1.7? */
static bool upstream_before_2_0(const char *version)
{
    const char *upper = version ? strstr(version, "..") : NULL;
    unsigned major, minor;

    upper = upper ? upper + 2 : version;
    return upper && g_ascii_isdigit(upper[0]) &&
           sscanf(upper, "%u.%u", &major, &minor) == 2 &&
           major * 1000 + minor <= 1007;
}

static bool writer_split_at_3_5g(const VmsWriterInfo *w)
{
    return !strcmp(w->program, "qemu-kvm") ||
           (!strcmp(w->program, "qemu") && upstream_before_2_0(w->version));
}

static void r28_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;

    if (!tr_machine_gigabyte_aligned(ctx->recipe->machine) ||
        !writer_split_at_3_5g(ctx->writer)) {
        return;
    }
    for (guint b = 0; b < s->ram_blocks->len; b++) {
        const VmsRamBlock *ram = vms_stream_block(s, b);
        if (strcmp(ram->id, "pc.ram") || ram->length < LOWMEM_3_5G) {
            continue;
        }
        g_autofree char *size = tr_size_str(ram->length);
        tr_hit_add(ctx, hits, G_MAXUINT, b, ram->length, ram->id,
                   g_strdup_printf("RAM block 'pc.ram' is %s: %s mapped "
                                   "3.5 GiB of it below 4 GiB; %s -M %s "
                                   "maps only 3 GiB there (machines since "
                                   "2.0 align the split to 1 GiB), so the "
                                   "guest's RAM between 3 and 3.5 GiB would "
                                   "move above 4 GiB under it",
                                   size, ctx->result->writer, ctx->target->name,
                                   ctx->recipe->machine));
    }
}

static bool r28_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    tr_refuse_no_way_out(
        hit->finding,
        g_strdup_printf("the guest's memory map cannot be kept on -M %s",
                        ctx->recipe->machine),
        g_strdup("no option of a machine since 2.0 moves the split back "
                 "(max-ram-below-4g cannot raise it past 3 GiB); a machine "
                 "before 2.0 keeps it: --target qemu-7.2 (pc-i440fx-1.4) or "
                 "qemu-2.0 (the source's own machine)"));
    return true;
}

/* R28 — a guest of 3.5 GiB or more written with the 3.5 GiB split, for a
 * machine that splits at 3 GiB (gigabyte_align, i440fx/q35 >= 2.0).
 * Evidence: RAM block "pc.ram" >= 3.5 GiB, a writer whose machines all
 * split at 3.5 GiB (qemu-kvm, QEMU <= 1.7), the recipe's machine.
 * Action: refused (the load would succeed and the guest lose the RAM it
 * had at 3-3.5 GiB). */
const TrRule tr_rule_r28_ram_split = {
    .id = "R28",
    .title = "RAM split below 4 GiB of another machine type",
    .fixes = "a guest with 3.5 GiB of RAM or more whose writer mapped 3.5 "
             "GiB below 4 GiB, for a target machine (>= 2.0) that maps "
             "3 GiB: QEMU loads it, and the guest finds a PCI hole where "
             "its RAM was",
    .actions = TR_MAY_REFUSE,
    .detect = r28_detect,
    .plan = r28_plan,
};
