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
 *   R29  virtio-pci vectors: the MSI-X table size (config-checked, and
 *        it sizes the MSI-X part of the payload). qemu-kvm's
 *        virtio-serial-pci has max_ports + 1 = 32, QEMU 10.0's
 *        pc-i440fx-2.4 2 ("Failed to load virtio-console:virtio").
 *   R27  intel-hda old_msi_addr: its MSI capability sits at 0x50 for
 *        machines up to 2.1 (and in every qemu-kvm), at 0x60 for newer
 *        ones. The capability pointer and the capability's bytes are
 *        config-checked ("Bad config data: i=0x34"); with msi=off the
 *        device has no capability at all.
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

/* The recipe gets -global DRIVER.PROPERTY=VALUE; the finding says so and
 * what it gives the guest (takes gives). */
static void set_global(TrContext *ctx, const TrHit *hit, const char *driver,
                       const char *property, const char *value, char *gives)
{
    tr_recipe_add_global(ctx->recipe, driver, property, value);
    tr_finding_set(hit->finding, TR_ACTION_SETTING,
                   g_strdup_printf("-global %s.%s=%s: %s", driver, property,
                                   value, gives));
    g_free(gives);
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
        const VmsSection *sec = tr_live_device(ctx, i, "piix4_pm");
        if (!sec) {
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
    set_global(ctx, hit, "PIIX4_PM", PCIHP_BRIDGE, hit->value ? "on" : "off",
               g_strdup("the hotplug interface the guest's ACPI tables "
                        "describe"));
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
        const VmsSection *sec;
        const uint8_t *p =
            tr_live_device_payload(ctx, i, "vga", CONFIG_AT + 256, &sec);
        /* the PCI std VGA; ISA VGA and vmware-svga's "vga" have no path */
        if (!p || !strchr(sec->idstr, '/')) {
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
    /* worded as before set_global() existed: the golden outputs hold it */
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

/* ---- R27: intel-hda MSI capability address ------------------------------ */

#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAP_ID_MSI      0x05
#define HDA_MSI_OLD         0x50 /* machines <= 2.1 (old_msi_addr=on) */
#define HDA_MSI_NEW         0x60

/* The config space's MSI capability offset, or 0 if it has none. */
static unsigned msi_offset(const uint8_t *config)
{
    unsigned ptr, hops = 0;

    if (!(config[0x06] & PCI_STATUS_CAP_LIST)) {
        return 0;
    }
    for (ptr = config[0x34] & ~3u; ptr >= 0x40 && hops++ < 48;
         ptr = config[ptr + 1] & ~3u) {
        if (config[ptr] == PCI_CAP_ID_MSI) {
            return ptr;
        }
    }
    return 0;
}

/* ICH6 HDA (intel-hda) or ICH9 HDA (ich9-intel-hda), by device id. */
static const char *hda_driver(const uint8_t *config)
{
    return config[0x02] == 0x3e && config[0x03] == 0x29 ? "ich9-intel-hda"
                                                        : "intel-hda";
}

static void r27_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;

    if (!judged_by_defaults(ctx)) {
        return;
    }
    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec;
        const uint8_t *p =
            tr_live_device_payload(ctx, i, "intel-hda", CONFIG_AT + 256, &sec);
        if (!p) {
            continue;
        }
        const uint8_t *config = p + CONFIG_AT;
        const char *driver = hda_driver(config);
        unsigned have = msi_offset(config);
        unsigned want = machine_default_on(ctx, driver, "old_msi_addr")
                            ? HDA_MSI_OLD
                            : HDA_MSI_NEW;
        if (have == want) {
            continue;
        }
        tr_hit_add(ctx, hits, i, G_MAXUINT, have, sec->idstr,
                   have ? g_strdup_printf("'%s' has its MSI capability at "
                                          "0x%02x; %s -M %s puts %s's at "
                                          "0x%02x (config-checked)",
                                          sec->idstr, have, ctx->target->name,
                                          ctx->recipe->machine, driver, want)
                        : g_strdup_printf("'%s' has no MSI capability (the "
                                          "source set msi off); %s -M %s "
                                          "gives %s one at 0x%02x "
                                          "(config-checked)",
                                          sec->idstr, ctx->target->name,
                                          ctx->recipe->machine, driver, want));
    }
}

static bool r27_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsSection *sec = vms_stream_section(ctx->stream, hit->section);
    size_t len;
    const char *driver = hda_driver(tr_payload(sec, &len) + CONFIG_AT);

    if (hit->value == 0) {
        set_global(ctx, hit, driver, "msi", "off",
                   g_strdup("no MSI capability, as the guest saw"));
        return true;
    }
    if (hit->value != HDA_MSI_OLD && hit->value != HDA_MSI_NEW) {
        g_autofree char *drop = tr_drop_section_option(sec);
        tr_refuse(hit->finding,
                  g_strdup_printf("no setting of %s puts the MSI "
                                  "capability at 0x%02x (old_msi_addr "
                                  "gives 0x50 or 0x60)",
                                  driver, (unsigned)hit->value),
                  drop, tr_section_loss(sec));
        return true;
    }
    set_global(ctx, hit, driver, "old_msi_addr",
               hit->value == HDA_MSI_OLD ? "on" : "off",
               g_strdup_printf("the MSI capability at 0x%02x, as the guest "
                               "saw",
                               (unsigned)hit->value));
    return true;
}

/* R27 — intel-hda's MSI capability at another address than the target
 * machine's (qemu-kvm and machines <= 2.1: 0x50; newer: 0x60).
 * Evidence: the section's PCI config (status capability bit, capability
 * list). Setting: -global intel-hda.old_msi_addr=on (or off; msi=off for a
 * device without the capability). */
const TrRule tr_rule_r27_hda_msi = {
    .id = "R27",
    .title = "intel-hda MSI capability address (old_msi_addr)",
    .fixes = "an 'intel-hda' section whose MSI capability (config-checked) "
             "is not where the target machine puts it: qemu-kvm and "
             "machines up to 2.1 at 0x50, newer machines at 0x60 (\"Bad "
             "config data\")",
    .actions = TR_MAY_SET | TR_MAY_REFUSE,
    .needs = TR_NEEDS("drop-section", "R9"),
    .detect = r27_detect,
    .plan = r27_plan,
};

/* ---- R29: virtio-pci MSI-X vectors ----------------------------------- */

/* The virtio devices whose vectors the target profiles measure. */
static const struct {
    const char *vmsd;
    const char *driver;
} virtio_pci[] = {
    {"virtio-blk", "virtio-blk-pci"},
    {"virtio-console", "virtio-serial-pci"},
    {"virtio-scsi", "virtio-scsi-pci"},
};

static const char *virtio_pci_driver(const VmsSection *sec)
{
    for (guint i = 0; i < G_N_ELEMENTS(virtio_pci); i++) {
        if (!strcmp(tr_vmsd(sec), virtio_pci[i].vmsd)) {
            return virtio_pci[i].driver;
        }
    }
    return NULL;
}

static void r29_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;

    if (!judged_by_defaults(ctx)) {
        return;
    }
    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        const char *driver = virtio_pci_driver(sec);
        size_t len;
        const uint8_t *p = tr_payload(sec, &len);
        if (!tr_section_live(ctx, i) || !driver || !strchr(sec->idstr, '/') ||
            !p || len < CONFIG_AT + 256) {
            continue;
        }
        const char *want = tr_machine_default(ctx->target, ctx->recipe->machine,
                                              driver, "vectors");
        unsigned have = vms_pci_msix_entries(p + CONFIG_AT, 256);
        if (!want || g_ascii_strtoull(want, NULL, 10) == have) {
            continue;
        }
        tr_hit_add(ctx, hits, i, G_MAXUINT, have, sec->idstr,
                   g_strdup_printf("'%s' has %u MSI-X vectors; %s -M %s "
                                   "gives %s %s (the table size is "
                                   "config-checked and sizes the payload)",
                                   sec->idstr, have, ctx->target->name,
                                   ctx->recipe->machine, driver, want));
    }
}

static bool r29_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsSection *sec = vms_stream_section(ctx->stream, hit->section);
    const char *driver = virtio_pci_driver(sec);
    g_autofree char *value = g_strdup_printf("%u", (unsigned)hit->value);

    set_global(ctx, hit, driver, "vectors", value,
               g_strdup("the MSI-X table the guest saw"));
    return true;
}

/* R29 — a virtio-pci device whose MSI-X vector count is not the target
 * machine's default (qemu-kvm's virtio-serial-pci: 32; QEMU 10.0
 * pc-i440fx-2.4: 2; -M pc-0.12: none).
 * Evidence: the MSI-X capability of the section's PCI config; fact of the
 * target: the measured default (qom-get vectors).
 * Setting: -global DRIVER.vectors=N. */
const TrRule tr_rule_r29_virtio_vectors = {
    .id = "R29",
    .title = "virtio-pci MSI-X vectors of another machine type",
    .fixes = "a virtio-pci section whose MSI-X table size (config-checked, "
             "and it sizes the payload) is not the target machine's "
             "default: the load fails (\"Failed to load "
             "virtio-console:virtio\")",
    .actions = TR_MAY_SET,
    .needs = TR_NEEDS("drop-section", "R9"),
    .detect = r29_detect,
    .plan = r29_plan,
};
