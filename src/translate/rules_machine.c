/*
 * The machine around the devices: machine type (R15), accelerator
 * (kvmclock), HPET, CPU model, the qxl PCI revision (R10) and the APIC's
 * vapic (R12). These never
 * edit the stream; they fill the recipe, each from stream evidence.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "rules.h"
#include "stream/fingerprint.h"

char *tr_stream_machine(const VmsStream *s)
{
    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        size_t len;
        const uint8_t *p = tr_payload(sec, &len);
        if (sec->kind != VMS_KIND_CONFIGURATION || !p || len < 4) {
            continue;
        }
        uint32_t n = (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
        if (n > len - 4 || n == 0) {
            return NULL;
        }
        return g_strndup((const char *)p + 4, n);
    }
    return NULL;
}

static bool has_live(const TrContext *ctx, const char *vmsd,
                     const VmsSection **found)
{
    const VmsStream *s = ctx->stream;

    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        if (tr_section_live(ctx, i) && !strcmp(tr_vmsd(sec), vmsd)) {
            if (found) {
                *found = sec;
            }
            return true;
        }
    }
    return false;
}

/* ---- who wrote it -------------------------------------------------------- */

/* The source's machine type on a target that has the old ones (qemu-2.1). */
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

/* ---- machine type ----------------------------------------------------------
 */

bool tr_machine_kept(const TrTarget *t, const char *named)
{
    return named &&
           (!t->needs_configuration || tr_target_has_machine(t, named));
}

static void machine_detect(TrContext *ctx, GArray *hits)
{
    g_autofree char *named = tr_stream_machine(ctx->stream);
    g_autoptr(VmsWriterInfo) w = vms_fingerprint(ctx->stream);
    g_autofree char *why = join_evidence(w);
    const char *machine = writer_machine(w);
    bool qemu_kvm = !strcmp(w->program, "qemu-kvm");

    g_free(ctx->result->writer);
    ctx->result->writer = g_strdup_printf(
        "%s %s (%s)", w->program, w->version ? w->version : "?", w->accel);
    if (named && !tr_machine_kept(ctx->target, named)) {
        g_clear_pointer(&named, g_free); /* R18 names the target's */
    }
    if (ctx->opts->machine) {
        ctx->recipe->machine = g_strdup(ctx->opts->machine);
    } else if (named) {
        ctx->recipe->machine = g_strdup(named);
        if (!ctx->target->machine || strcmp(named, ctx->target->machine)) {
            tr_hit_add(ctx, hits, &tr_rule_machine, G_MAXUINT, G_MAXUINT, 0,
                       "machine",
                       g_strdup_printf("the CONFIGURATION record names "
                                       "machine type '%s'",
                                       named));
        }
    } else if (ctx->target->machine) {
        ctx->recipe->machine = g_strdup(ctx->target->machine);
    } else if (machine) {
        ctx->recipe->machine = g_strdup(machine);
        tr_hit_add(ctx, hits, &tr_rule_machine, G_MAXUINT, G_MAXUINT, 0,
                   "machine",
                   g_strdup_printf("written by %s %s (%s): its machine type "
                                   "was '%s'",
                                   w->program, w->version, why, machine));
    } else {
        ctx->recipe->machine = g_strdup("pc");
        tr_recipe_add_note(ctx->recipe,
                           g_strdup_printf("machine type: the stream does "
                                           "not tell (writer %s %s); use the "
                                           "source's own",
                                           w->program, w->version));
    }
    if (qemu_kvm && w->version && strcmp(w->version, "unknown")) {
        ctx->recipe->cpu_model = g_strdup("qemu64");
        ctx->recipe->cpu_model_id =
            g_strdup_printf("QEMU Virtual CPU version %s", w->version);
        ctx->recipe->cpu_reason = g_strdup_printf(
            "qemu64 is qemu-kvm's default CPU on x86_64 (keep the source's "
            "-cpu if it set one); the guest read model-id '%s' (or %s.x) at "
            "boot",
            ctx->recipe->cpu_model_id, w->version);
        tr_recipe_add_xml(ctx->recipe,
                          g_strdup("<cpu mode='custom' match='exact'>"
                                   "<model fallback='forbid'>qemu64</model>"
                                   "</cpu>"));
    }
}

static bool machine_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    g_autofree char *named = tr_stream_machine(ctx->stream);

    if (named && !ctx->target->machine) {
        tr_finding_set(hit->finding, TR_ACTION_REFUSE,
                       g_strdup_printf("%s cannot read CONFIGURATION "
                                       "records (written by QEMU >= 2.4)",
                                       ctx->target->name));
        return true;
    }
    tr_finding_set(hit->finding, TR_ACTION_SETTING,
                   g_strdup_printf("-M %s", ctx->recipe->machine));
    return true;
}

const TrRule tr_rule_machine = {
    .id = "R15",
    .title = "machine type",
    .detect = machine_detect,
    .plan = machine_plan,
};

/* ---- kvmclock, hpet, qxl revision ------------------------------------------
 */

static void env_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;
    const VmsSection *sec = NULL;

    if (has_live(ctx, "kvmclock", NULL)) {
        TrFinding *f = tr_hit_add(
            ctx, hits, &tr_rule_environment, G_MAXUINT, G_MAXUINT, 'k',
            "kvmclock",
            g_strdup("a 'kvmclock' section: the writer ran under KVM, and "
                     "QEMU creates kvmclock only with KVM (under TCG: "
                     "\"Unknown savevm section or instance 'kvmclock'\")"));
        tr_finding_rule(f, "kvm");
    }
    if (has_live(ctx, "kvm-tpr-opt", NULL) &&
        tr_compat_is_off(tr_target_compat(ctx->target, ctx->recipe->machine,
                                          "apic", "vapic"))) {
        TrFinding *f = tr_hit_add(
            ctx, hits, &tr_rule_environment, G_MAXUINT, G_MAXUINT, 'v',
            "kvm-tpr-opt",
            g_strdup_printf("a 'kvm-tpr-opt' section (the APIC's TPR access "
                            "optimisation); %s -M %s switches apic.vapic "
                            "off (compat property), so under TCG no device "
                            "loads it (\"Unknown savevm section or instance "
                            "'kvm-tpr-opt'\")",
                            ctx->target->name, ctx->recipe->machine));
        tr_finding_rule(f, "R12");
    }
    if (!has_live(ctx, "hpet", NULL) && has_live(ctx, "mc146818rtc", NULL)) {
        TrFinding *f = tr_hit_add(
            ctx, hits, &tr_rule_environment, G_MAXUINT, G_MAXUINT, 'h', "hpet",
            g_strdup("no 'hpet' section: the source machine had no HPET "
                     "(e.g. Ubuntu's qemu-kvm 1.2 under TCG); the target's "
                     "would be one the guest never saw"));
        tr_finding_rule(f, "hpet");
    }
    for (guint i = 0; i < s->sections->len; i++) {
        sec = vms_stream_section(s, i);
        size_t len;
        const uint8_t *p = tr_payload(sec, &len);
        if (!tr_section_live(ctx, i) || strcmp(tr_vmsd(sec), "qxl") || !p ||
            len < 4 + 0x0c) {
            continue;
        }
        uint8_t rev = p[4 + 0x08];
        if (rev == ctx->target->qxl_default_revision) {
            continue;
        }
        TrFinding *f = tr_hit_add(
            ctx, hits, &tr_rule_environment, i, G_MAXUINT, 'q', sec->idstr,
            g_strdup_printf("'%s' PCI config revision is %u; %s gives qxl "
                            "revision %u (the revision is config-checked)",
                            sec->idstr, rev, ctx->target->name,
                            ctx->target->qxl_default_revision));
        tr_finding_rule(f, "R10");
    }
}

static bool env_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    TrRecipe *r = ctx->recipe;

    switch (hit->value) {
    case 'k':
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
    case 'v':
        tr_recipe_add_global(r, "apic", "vapic", "on");
        tr_finding_set(hit->finding, TR_ACTION_SETTING,
                       g_strdup("-global apic.vapic=on: the TCG APIC then "
                                "creates the vapic device that loads the "
                                "section, as the source had (KVM's APIC is "
                                "another type and keeps it anyway)"));
        return true;
    case 'h':
        tr_recipe_add_no_hpet(r, ctx->target->hpet_syntax ==
                                     TR_HPET_MACHINE_PROPERTY);
        tr_finding_set(
            hit->finding, TR_ACTION_SETTING,
            g_strdup(ctx->target->hpet_syntax == TR_HPET_MACHINE_PROPERTY
                         ? "-machine hpet=off"
                         : "-no-hpet"));
        return true;
    case 'q': {
        const VmsSection *sec = vms_stream_section(ctx->stream, hit->section);
        size_t len;
        const uint8_t *p = tr_payload(sec, &len);
        /* class 0x0300 (VGA) is the primary qxl-vga; 0x0380 a secondary */
        const char *driver =
            p[4 + 0x0b] == 0x03 && p[4 + 0x0a] == 0x00 ? "qxl-vga" : "qxl";
        g_autofree char *rev = g_strdup_printf("%u", p[4 + 0x08]);
        tr_recipe_add_global(r, driver, "revision", rev);
        tr_finding_set(hit->finding, TR_ACTION_SETTING,
                       g_strdup_printf("-global %s.revision=%s", driver, rev));
        return true;
    }
    }
    return true;
}

const TrRule tr_rule_environment = {
    .id = "environment",
    .title = "accelerator, HPET, qxl revision and vapic",
    .detect = env_detect,
    .plan = env_plan,
};
