/*
 * Device properties whose default changed between the writer's machine
 * type and the target's, where the stream shows which value the guest
 * had and a -global on the target gives it back:
 *
 *   R21  piix4_pm acpi-pci-hotplug-with-bridge-support: on for machines
 *        >= 2.0, where the payload carries hotplug_select and a 256-bus
 *        status array; off before, with the one {up, down} pair of bus 0.
 *        Loaded into the other layout, the load reads past the payload
 *        ("Missing section footer for 0000:00:01.3/piix4_pm").
 *   R22  std VGA qemu-extended-regs: on for machines >= 2.2, which gives
 *        PCI revision 2; off before (revision 0). The revision is
 *        config-checked ("Bad config data: i=0x8").
 *
 * Judged against the recipe machine's defaults (tr_machine_default: what
 * the profile measured for its own machine, else the compat properties
 * every PC QEMU has), whoever wrote the stream.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "layout.h"
#include "rules.h"

/*
 * Are the stream's devices judged against the recipe machine's defaults?
 * Not on a target that does not know them. A stream QEMU wrote for that
 * very machine agrees with them anyway; one whose CONFIGURATION record
 * qsnapfix wrote (for another target) still has its writer's.
 */
static bool judged_by_defaults(const TrContext *ctx)
{
    return ctx->target->defaults_known;
}

/* Is a boolean property on for the recipe's machine (device default on)? */
static bool machine_default_on(const TrContext *ctx, const char *driver,
                               const char *property)
{
    return !tr_compat_is_off(tr_machine_default(
        ctx->target, ctx->recipe->machine, driver, property));
}

/* ---- R21: piix4_pm PCI hotplug layout ---------------------------------- */

/* PCIDevice 276 + pm1 6 + apm 2 + timer 8 + overflow 8 + gpe 4, then
 * hotplug_select (4) and 256 x {up, down} (8) in the bridge layout. */
#define PIIX4_PCIHP_OFFSET     304
#define PIIX4_PCIHP_BRIDGE_LEN (4 + 256 * 8)
#define PCIHP_BRIDGE           "acpi-pci-hotplug-with-bridge-support"

static bool piix4_has_bridge_layout(const VmsSection *sec)
{
    VmsFieldLoc loc;

    if (sec->layout) {
        return vms_section_find_field(sec, "acpi_pci_hotplug.hotplug_select",
                                      &loc, NULL);
    }
    return sec->payload_len >= PIIX4_PCIHP_OFFSET + PIIX4_PCIHP_BRIDGE_LEN;
}

static void r21_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;

    if (!judged_by_defaults(ctx)) {
        return;
    }
    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        if (!tr_section_live(ctx, i) || strcmp(tr_vmsd(sec), "piix4_pm")) {
            continue;
        }
        bool bridge = piix4_has_bridge_layout(sec);
        if (bridge == machine_default_on(ctx, "PIIX4_PM", PCIHP_BRIDGE)) {
            continue;
        }
        tr_hit_add(ctx, hits, i, G_MAXUINT, bridge, sec->idstr,
                   bridge
                       ? g_strdup_printf("'%s' carries the bridge PCI hotplug "
                                         "state (hotplug_select + 256 buses); "
                                         "%s -M %s has only bus 0's",
                                         sec->idstr, ctx->target->name,
                                         ctx->recipe->machine)
                       : g_strdup_printf("'%s' carries bus 0's PCI hotplug "
                                         "{up, down} only (machine < 2.0); %s "
                                         "-M %s reads hotplug_select + 256 "
                                         "buses",
                                         sec->idstr, ctx->target->name,
                                         ctx->recipe->machine));
    }
}

static bool r21_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const char *value = hit->value ? "on" : "off";

    tr_recipe_add_global(ctx->recipe, "PIIX4_PM",
                         "acpi-pci-hotplug-with-bridge-support", value);
    tr_finding_set(hit->finding, TR_ACTION_SETTING,
                   g_strdup_printf("-global PIIX4_PM.acpi-pci-hotplug-with-"
                                   "bridge-support=%s: the hotplug interface "
                                   "the guest's ACPI tables describe",
                                   value));
    return true;
}

const TrRule tr_rule_r21_piix4_pcihp = {
    .id = "R21",
    .title = "piix4_pm PCI hotplug layout of another machine type",
    .fixes = "a 'piix4_pm' payload with the other PCI hotplug layout (bus 0 "
             "only, or hotplug_select + 256 buses) than the target machine's "
             "default: the load reads past the payload",
    .actions = TR_MAY_SET,
    .needs = TR_NEEDS("drop-section", "R9"),
    .detect = r21_detect,
    .plan = r21_plan,
};

/* ---- R22: std VGA PCI revision ----------------------------------------- */

/* PCIDevice: LE32 version, then config: revision at 0x08, class at 0x0a */
#define CONFIG_AT 4

/* class 0x0380 (other display) is the secondary-vga device */
static const char *vga_driver(const uint8_t *p)
{
    return p[CONFIG_AT + 0x0b] == 0x03 && p[CONFIG_AT + 0x0a] == 0x80
               ? "secondary-vga"
               : "VGA";
}

static void r22_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;

    if (!judged_by_defaults(ctx)) {
        return;
    }
    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        size_t len;
        const uint8_t *p = tr_payload(sec, &len);
        /* the PCI std VGA; ISA VGA and vmware-svga's "vga" have no path */
        if (!tr_section_live(ctx, i) || strcmp(tr_vmsd(sec), "vga") ||
            !strchr(sec->idstr, '/') || !p || len < CONFIG_AT + 256) {
            continue;
        }
        uint8_t rev = p[CONFIG_AT + 0x08];
        uint8_t want =
            machine_default_on(ctx, vga_driver(p), "qemu-extended-regs") ? 2
                                                                         : 0;
        if (rev == want) {
            continue;
        }
        tr_hit_add(ctx, hits, i, G_MAXUINT, rev, sec->idstr,
                   g_strdup_printf("'%s' PCI revision is %u; %s -M %s gives "
                                   "the std VGA revision %u (config-checked)",
                                   sec->idstr, rev, ctx->target->name,
                                   ctx->recipe->machine, want));
    }
}

static bool r22_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsSection *sec = vms_stream_section(ctx->stream, hit->section);
    size_t len;
    const uint8_t *p = tr_payload(sec, &len);
    const char *driver = vga_driver(p);

    if (hit->value != 0 && hit->value != 2) {
        g_autofree char *drop = tr_drop_section_option(sec);
        tr_refuse(hit->finding,
                  g_strdup_printf("no setting of %s gives revision %u "
                                  "(qemu-extended-regs gives 2 or 0)",
                                  driver, (unsigned)hit->value),
                  drop,
                  g_strdup_printf("the display's state is lost: '%s' starts "
                                  "from reset, and the guest's screen stays "
                                  "blank or garbled until it sets a mode "
                                  "again",
                                  sec->idstr));
        return true;
    }
    const char *value = hit->value ? "on" : "off";
    tr_recipe_add_global(ctx->recipe, driver, "qemu-extended-regs", value);
    tr_finding_set(hit->finding, TR_ACTION_SETTING,
                   g_strdup_printf("-global %s.qemu-extended-regs=%s gives "
                                   "revision %u, as the guest saw",
                                   driver, value, (unsigned)hit->value));
    return true;
}

const TrRule tr_rule_r22_vga_revision = {
    .id = "R22",
    .title = "std VGA PCI revision (qemu-extended-regs)",
    .fixes = "a std VGA section whose PCI revision (config byte 8) is not "
             "the target machine's: the revision is config-checked (\"Bad "
             "config data: i=0x8\")",
    .actions = TR_MAY_SET | TR_MAY_REFUSE,
    .needs = TR_NEEDS("drop-section", "R9"),
    .detect = r22_detect,
    .plan = r22_plan,
};
