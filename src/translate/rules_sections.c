/*
 * Rules on section headers and small payload fields: R1 (piix4_pm), R2
 * (i8254), R3 (USB idstr), R8 (live section ids), R9 (block sections),
 * R16 (virtio-balloon class), --drop-section, and the check that refuses
 * what the target cannot load (unknown devices, versions out of range).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "rules.h"

/* ---- --drop-section ------------------------------------------------------ */

static bool drop_requested(const TrContext *ctx, const VmsSection *sec)
{
    const char *const *names = ctx->opts->drop_sections;

    for (guint i = 0; names && names[i]; i++) {
        if (!strcmp(names[i], sec->idstr) ||
            !strcmp(names[i], vms_section_vmsd_name(sec))) {
            return true;
        }
    }
    return false;
}

static void drop_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;

    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        if (!sec->idstr || sec->kind == VMS_KIND_RAM ||
            (sec->type != VMS_SECTION_START && sec->type != VMS_SECTION_FULL) ||
            !drop_requested(ctx, sec)) {
            continue;
        }
        tr_hit_add(ctx, hits, i, G_MAXUINT, 0, sec->idstr,
                   g_strdup_printf("--drop-section names '%s' (instance %u, "
                                   "version %u, %" PRIu64 " bytes of state)",
                                   sec->idstr, sec->instance_id,
                                   sec->version_id, sec->payload_len));
    }
}

static bool drop_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsStream *s = ctx->stream;
    const VmsSection *start = vms_stream_section(s, hit->section);

    /* a live section goes with its PART and END records */
    for (guint i = hit->section; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        if (i == hit->section ||
            ((sec->type == VMS_SECTION_PART || sec->type == VMS_SECTION_END) &&
             sec->start_index == hit->section)) {
            tr_plan_drop(ctx->plan, hit->finding, sec->offset,
                         sec->end - sec->offset);
            tr_give_dropped_section(ctx, i);
        }
    }
    tr_finding_set(hit->finding, TR_ACTION_LOSS,
                   g_strdup_printf("section removed: the target keeps its "
                                   "own reset state for '%s'",
                                   start->idstr));
    return true;
}

/* drop-section: the user gives up a device's state (--drop-section).
 * Evidence: the option names the section's idstr or vmsd name.
 * Edit: the section and its PART/END records removed (a loss). */
const TrRule tr_rule_drop_section = {
    .id = "drop-section",
    .title = "section dropped on request",
    .fixes = "--drop-section names a section: its state is given up, the "
             "target keeps its own reset state for the device",
    .actions = TR_MAY_LOSE,
    .gives = TR_GIVES_DROPPED_SECTIONS,
    .detect = drop_detect,
    .plan = drop_plan,
};

/* ---- R1: piix4_pm ----------------------------------------------------------
 */

/* qemu-kvm's v2 payload (GPE sts/en one be16 each); upstream 1.0-1.2 v2
 * wrote 4-byte arrays: 324 bytes. */
#define PIIX4_PM_QEMU_KVM_V2_LEN 312

static void r1_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;

    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = tr_live_device(ctx, i, "piix4_pm");
        if (!sec || sec->version_id != 2 ||
            sec->payload_len != PIIX4_PM_QEMU_KVM_V2_LEN) {
            continue;
        }
        tr_hit_add(ctx, hits, i, G_MAXUINT, 0, sec->idstr,
                   g_strdup_printf("'%s' says version 2 but its payload is "
                                   "%u bytes, the version-3 layout qemu-kvm "
                                   "wrote (upstream v2 is 324)",
                                   sec->idstr, PIIX4_PM_QEMU_KVM_V2_LEN));
    }
}

static bool set_version_plan(TrContext *ctx, const TrHit *hit, uint32_t to)
{
    const VmsSection *sec = vms_stream_section(ctx->stream, hit->section);

    tr_plan_patch_be32(ctx->plan, hit->finding, sec->version_offset, to);
    tr_give_section_version(ctx, hit->section, to);
    tr_finding_set(hit->finding, TR_ACTION_EDIT,
                   g_strdup_printf("header version %u -> %u; payload "
                                   "unchanged",
                                   sec->version_id, to));
    return true;
}

static bool r1_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    return set_version_plan(ctx, hit, 3);
}

/* R1 — qemu-kvm's piix4_pm: version 2 header, version 3 layout.
 * Evidence: FULL "…/piix4_pm", version 2, payload 312 bytes (upstream
 * 1.0-1.2 v2: 324). Edit: header version 2 -> 3; payload unchanged. */
const TrRule tr_rule_r1_piix4_pm = {
    .id = "R1",
    .title = "piix4_pm version 2 carrying the version-3 layout",
    .fixes = "'piix4_pm' version 2 with a 312-byte payload (upstream v2 is "
             "324): qemu-kvm's v3 layout, which a target loading v3 only "
             "refuses as too old",
    .actions = TR_MAY_EDIT,
    .needs = TR_NEEDS("drop-section", "R9"),
    .gives = TR_GIVES_SECTION_VERSIONS,
    .detect = r1_detect,
    .plan = r1_plan,
};

/* ---- R2: i8254 --------------------------------------------------------------
 */

/* qemu-kvm <= 1.0 v2: u32 flags + 3 channels + i64 = 108; upstream v2: 104 */
#define I8254_QEMU_KVM_V2_LEN 108

static void r2_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;

    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = tr_live_device(ctx, i, "i8254");
        if (!sec || sec->version_id != 2 ||
            sec->payload_len != I8254_QEMU_KVM_V2_LEN) {
            continue;
        }
        tr_hit_add(ctx, hits, i, G_MAXUINT, 0, sec->idstr,
                   g_strdup_printf("'i8254' version 2 payload is %u bytes: "
                                   "qemu-kvm <= 1.0 layout with the leading "
                                   "flags word (upstream v2 is 104)",
                                   I8254_QEMU_KVM_V2_LEN));
    }
}

static bool r2_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    return set_version_plan(ctx, hit, 3);
}

/* R2 — qemu-kvm <= 1.0 i8254: version 2 header, version 3 layout.
 * Evidence: FULL "i8254", version 2, payload 108 bytes (upstream v2: 104).
 * Edit: header version 2 -> 3; payload unchanged. */
const TrRule tr_rule_r2_i8254 = {
    .id = "R2",
    .title = "i8254 version 2 with the qemu-kvm flags word",
    .fixes = "'i8254' version 2 with a 108-byte payload (upstream v2 is 104): "
             "the leading flags word makes it v3's layout, which the target "
             "would misread as v2",
    .actions = TR_MAY_EDIT,
    .needs = TR_NEEDS("drop-section", "R9"),
    .gives = TR_GIVES_SECTION_VERSIONS,
    .detect = r2_detect,
    .plan = r2_plan,
};

/* ---- R3: USB devices named by port only ------------------------------------
 */

/* "1/usb-ptr", "1.2/usb-kbd": a port path, then the vmsd name */
static bool usb_port_only(const char *idstr)
{
    const char *slash = strchr(idstr, '/');

    if (!slash || slash == idstr || strchr(slash + 1, '/') ||
        !g_str_has_prefix(slash + 1, "usb-")) {
        return false;
    }
    for (const char *c = idstr; c < slash; c++) {
        if (!g_ascii_isdigit(*c) && *c != '.') {
            return false;
        }
    }
    return g_ascii_isdigit(idstr[0]);
}

static bool usb_host_controller(const char *vmsd)
{
    return !strcmp(vmsd, "uhci") || !strcmp(vmsd, "ehci") ||
           !strcmp(vmsd, "ohci") || !strcmp(vmsd, "xhci");
}

/* "DDDD:BB:SS.F", as QEMU prints a PCI device's path */
static bool pci_path(const char *s, size_t len)
{
    static const char shape[] = "xxxx:xx:xx.x";

    if (len != sizeof(shape) - 1) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (shape[i] == 'x' ? !g_ascii_isxdigit(s[i]) : s[i] != shape[i]) {
            return false;
        }
    }
    return true;
}

/* "0000:00:01.2/1/usb-ptr": the host controller's PCI path, the port
 * path, then the vmsd name */
static bool usb_full_path(const char *idstr)
{
    const char *slash = strchr(idstr, '/');

    return slash && pci_path(idstr, (size_t)(slash - idstr)) &&
           usb_port_only(slash + 1);
}

/*
 * Does the recipe's machine name USB devices by port only? Machines up to
 * pc-1.0 do on QEMU 1.1-2.x (compat property usb-device.full-path=no);
 * other machines and targets without the property prefix the path. The
 * machine is R15's, which runs first.
 */
static bool target_usb_port_only(const TrContext *ctx)
{
    return tr_compat_is_off(tr_target_compat(ctx->target, ctx->recipe->machine,
                                             "usb-device", "full-path"));
}

/* hit values: rename the section, or ask the target for full paths */
enum { R3_RENAME, R3_FULL_PATH_ON };

static void r3_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;
    bool port_only = target_usb_port_only(ctx);

    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        if (!tr_section_live(ctx, i)) {
            continue;
        }
        if (usb_port_only(sec->idstr) && !port_only) {
            tr_hit_add(ctx, hits, i, G_MAXUINT, R3_RENAME, sec->idstr,
                       g_strdup_printf("section '%s' names the USB port only "
                                       "(qemu-kvm <= 1.0, or -M pc-1.0); the "
                                       "target prefixes the host "
                                       "controller's PCI path",
                                       sec->idstr));
        } else if (usb_full_path(sec->idstr) && port_only) {
            tr_hit_add(ctx, hits, i, G_MAXUINT, R3_FULL_PATH_ON, sec->idstr,
                       g_strdup_printf("section '%s' names the USB device by "
                                       "its full path; %s -M %s names USB "
                                       "devices by port only (compat "
                                       "property usb-device.full-path=no)",
                                       sec->idstr, ctx->target->name,
                                       ctx->recipe->machine));
        }
    }
}

static bool r3_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsStream *s = ctx->stream;
    const VmsSection *sec = vms_stream_section(s, hit->section);
    const VmsSection *hcd = NULL;
    g_autoptr(GString) all = g_string_new(NULL);
    guint n = 0;

    if (hit->value == R3_FULL_PATH_ON) {
        /* on usb-device, the parent type: the machine's own setting there
         * is applied after one on usb-tablet and would undo it */
        tr_recipe_add_global(ctx->recipe, "usb-device", "full-path", "on");
        tr_finding_set(hit->finding, TR_ACTION_SETTING,
                       g_strdup("-global usb-device.full-path=on: the "
                                "target names the device as the stream "
                                "does"));
        return true;
    }
    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *c = vms_stream_section(s, i);
        if (tr_section_live(ctx, i) && usb_host_controller(tr_vmsd(c)) &&
            strchr(c->idstr, '/')) {
            hcd = hcd ? hcd : c;
            g_string_append_printf(all, "%s'%s'", n++ ? ", " : "", c->idstr);
        }
    }
    if (n != 1) {
        int port_len = (int)(strchr(sec->idstr, '/') - sec->idstr);
        g_autofree char *drop = tr_drop_section_option(sec);
        tr_refuse(
            hit->finding,
            n ? g_strdup_printf("the stream has %u USB host controllers (%s): "
                                "which one owns port '%.*s' is not recorded "
                                "in the stream",
                                n, all->str, port_len, sec->idstr)
              : g_strdup_printf("no USB host controller section in the "
                                "stream: cannot tell which PCI path owns "
                                "port '%.*s'",
                                port_len, sec->idstr),
            drop, tr_section_loss(sec));
        return true;
    }

    const char *hcd_path = hcd->idstr;
    size_t path_len = (size_t)(strrchr(hcd_path, '/') - hcd_path);
    g_autofree char *new_id =
        g_strdup_printf("%.*s/%s", (int)path_len, hcd_path, sec->idstr);
    VmsBuilder *w;

    if (strlen(new_id) > 255) {
        g_autofree char *drop = tr_drop_section_option(sec);
        tr_refuse(hit->finding,
                  g_strdup_printf("'%s' would be longer than an idstr can "
                                  "be (255 bytes)",
                                  new_id),
                  drop, tr_section_loss(sec));
        return true;
    }
    w = vms_builder_new_memory();
    vms_builder_string8(w, new_id);
    tr_plan_put(ctx->plan, hit->finding, sec->idstr_offset,
                1 + strlen(sec->idstr), w);
    tr_finding_set(hit->finding, TR_ACTION_EDIT,
                   g_strdup_printf("idstr '%s' -> '%s' (the stream's only "
                                   "USB host controller is '%s')",
                                   sec->idstr, new_id, hcd->idstr));
    return true;
}

/* R3 — USB devices named by their port only (qemu-kvm <= 1.0, -M pc-1.0),
 * where the target's machine names them by their full path.
 * Evidence: FULL "1/usb-ptr" and one USB host controller section.
 * Edit: idstr -> "<controller's PCI path>/1/usb-ptr". On a machine that
 * names them by port (2.0's pc-1.0: usb-device.full-path=no) nothing, and
 * for a full-path name there: -global usb-device.full-path=on. */
const TrRule tr_rule_r3_usb_path = {
    .id = "R3",
    .title = "USB device section named by port only",
    .fixes = "a USB device section named by its port only ('1/usb-ptr'): "
             "the target names it after the host controller's PCI path and "
             "finds no device for the old name (or the reverse, on a "
             "machine that names USB devices by port)",
    .actions = TR_MAY_EDIT | TR_MAY_SET | TR_MAY_REFUSE,
    .needs = TR_NEEDS("drop-section", "R9"),
    .detect = r3_detect,
    .plan = r3_plan,
};

/* ---- R8: live sections with id 0 -------------------------------------------
 */

static void r8_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;

    if (ctx->target->live_id_zero_ok) {
        return;
    }
    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        if (sec->type != VMS_SECTION_START || sec->section_id != 0 ||
            tr_section_dropped(ctx, i)) {
            continue;
        }
        tr_hit_add(ctx, hits, i, G_MAXUINT, 0, sec->idstr,
                   g_strdup_printf("live section '%s' (START at 0x%" PRIx64
                                   ") has section id 0: %s sends its "
                                   "PART/END records to the first handler "
                                   "it registered ('timer')",
                                   sec->idstr, sec->offset, ctx->target->name));
    }
}

static bool r8_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsStream *s = ctx->stream;
    uint32_t max_id = 0;
    guint n = 0;

    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        if (sec->type != VMS_EOF && sec->section_id > max_id) {
            max_id = sec->section_id;
        }
    }
    for (guint i = hit->section; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        bool ours =
            i == hit->section ||
            ((sec->type == VMS_SECTION_PART || sec->type == VMS_SECTION_END) &&
             sec->start_index == hit->section);
        if (ours && !tr_section_dropped(ctx, i)) {
            tr_plan_patch_be32(ctx->plan, hit->finding, sec->section_id_offset,
                               max_id + 1);
            tr_give_section_id(ctx, i, max_id + 1);
            if (sec->has_footer) {
                tr_plan_patch_be32(ctx->plan, hit->finding,
                                   sec->footer_offset + 1, max_id + 1);
            }
            n++;
        }
    }
    tr_finding_set(hit->finding, TR_ACTION_EDIT,
                   g_strdup_printf("section id 0 -> %u (unused) in its %u "
                                   "records",
                                   max_id + 1, n));
    return true;
}

/* R8 — a live section with section id 0.
 * Evidence: START "ram" (or "block") with section id 0.
 * Edit: an unused id in its START, PART and END records (and footers). */
const TrRule tr_rule_r8_live_ids = {
    .id = "R8",
    .title = "live section with section id 0",
    .fixes = "a START record with section id 0: the target sends its PART "
             "and END records to the first handler it registered ('timer')",
    .actions = TR_MAY_EDIT,
    .needs = TR_NEEDS("drop-section", "R9"),
    .gives = TR_GIVES_SECTION_IDS,
    .detect = r8_detect,
    .plan = r8_plan,
};

/* ---- R9: empty block-migration sections ------------------------------------
 */

static void r9_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;

    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        if (sec->type != VMS_SECTION_START || sec->kind != VMS_KIND_BLOCK ||
            tr_section_dropped(ctx, i)) {
            continue;
        }
        /* only when every record of it is just the end-of-section mark */
        bool empty = true;
        guint records = 0;
        for (guint j = i; j < s->sections->len; j++) {
            const VmsSection *r = vms_stream_section(s, j);
            if (j == i ||
                ((r->type == VMS_SECTION_PART || r->type == VMS_SECTION_END) &&
                 r->start_index == i)) {
                empty = empty && r->payload_len == 8;
                records++;
            }
        }
        if (!empty) {
            continue;
        }
        tr_hit_add(ctx, hits, i, G_MAXUINT, records, sec->idstr,
                   g_strdup_printf("%u live 'block' records, each only the "
                                   "end-of-section mark (savevm of qemu-kvm "
                                   "0.15/1.0 or qemu <= 1.1)",
                                   records));
    }
}

static bool r9_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsStream *s = ctx->stream;

    if (ctx->opts->keep_block_sections &&
        tr_target_section(ctx->target, "block")) {
        tr_finding_set(hit->finding, TR_ACTION_NOTE,
                       g_strdup_printf("kept (--keep-block-sections): %s "
                                       "loads 'block' and they carry no "
                                       "state",
                                       ctx->target->name));
        return true;
    }

    for (guint j = hit->section; j < s->sections->len; j++) {
        const VmsSection *r = vms_stream_section(s, j);
        if (j == hit->section ||
            ((r->type == VMS_SECTION_PART || r->type == VMS_SECTION_END) &&
             r->start_index == hit->section)) {
            tr_plan_drop(ctx->plan, hit->finding, r->offset,
                         r->end - r->offset);
            tr_give_dropped_section(ctx, j);
        }
    }
    tr_finding_set(hit->finding, TR_ACTION_EDIT,
                   g_strdup_printf("%" PRIu64 " records removed (they carry "
                                   "no state; builds without block "
                                   "migration reject the name)",
                                   hit->value));
    return true;
}

/* R9 — the empty block-migration sections of a 0.15/1.0 savevm.
 * Evidence: START/PART/END "block", each payload only be64 EOS (8 bytes).
 * Edit: the records removed (kept with --keep-block-sections where the
 * target loads "block"). */
const TrRule tr_rule_r9_block = {
    .id = "R9",
    .title = "empty block-migration sections",
    .fixes = "live 'block' records that hold only the end-of-section mark "
             "(savevm of qemu-kvm 0.15/1.0): builds without block migration "
             "reject the name",
    .actions = TR_MAY_EDIT | TR_MAY_NOTE,
    .needs = TR_NEEDS("drop-section"),
    .gives = TR_GIVES_DROPPED_SECTIONS,
    .detect = r9_detect,
    .plan = r9_plan,
};

/* ---- R16: virtio-balloon PCI class -----------------------------------------
 */

/* PCIDevice = LE32 version + config[256]: config[0x0a] is at payload 14. */
#define PCI_CONFIG_IN_PAYLOAD 4
#define PCI_CLASS_DEVICE      0x0a

static void r16_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;

    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        size_t len;
        const uint8_t *p = tr_payload(sec, &len);
        size_t at = PCI_CONFIG_IN_PAYLOAD + PCI_CLASS_DEVICE;

        if (!tr_section_live(ctx, i) ||
            strcmp(tr_vmsd(sec), "virtio-balloon") || !p || len < at + 2 ||
            p[at] != 0x00 || p[at + 1] != 0x05) {
            continue;
        }
        tr_hit_add(ctx, hits, i, G_MAXUINT, 0, sec->idstr,
                   g_strdup_printf("'%s' PCI class is 0x0500 (memory "
                                   "controller: qemu-kvm 0.15/1.0, or "
                                   "-M pc-1.0); the class is config-checked "
                                   "on load",
                                   sec->idstr));
    }
}

static bool r16_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsSection *sec = vms_stream_section(ctx->stream, hit->section);
    static const uint8_t others[2] = {0xff, 0x00}; /* 0x00ff, little-endian */

    if (ctx->target->balloon_class_property) {
        tr_recipe_add_global(ctx->recipe, "virtio-balloon-pci", "class",
                             "0x0500");
        tr_finding_set(hit->finding, TR_ACTION_SETTING,
                       g_strdup("-global virtio-balloon-pci.class=0x0500 "
                                "keeps the class the guest saw"));
        return true;
    }
    tr_plan_patch(ctx->plan, hit->finding,
                  sec->payload_offset + PCI_CONFIG_IN_PAYLOAD +
                      PCI_CLASS_DEVICE,
                  2, others, 2);
    tr_finding_set(hit->finding, TR_ACTION_EDIT,
                   g_strdup_printf("PCI config class 0x0500 -> 0x00ff, the "
                                   "only class %s gives the device (the "
                                   "guest driver binds by vendor/device id)",
                                   ctx->target->name));
    return true;
}

/* R16 — virtio-balloon with PCI class 0x0500 (qemu-kvm 0.15/1.0).
 * Evidence: FULL "…/virtio-balloon", config bytes 0x0a/0x0b = 00 05.
 * Edit: class -> 0x00ff; or, where the target has the property,
 * -global virtio-balloon-pci.class=0x0500. */
const TrRule tr_rule_r16_balloon_class = {
    .id = "R16",
    .title = "virtio-balloon PCI class 0x0500",
    .fixes = "a 'virtio-balloon' section whose PCI class is 0x0500 (memory "
             "controller): the target gives the device 0x00ff and checks "
             "the class on load (\"Bad config data: i=0xa\")",
    .actions = TR_MAY_EDIT | TR_MAY_SET,
    .needs = TR_NEEDS("drop-section", "R9"),
    .detect = r16_detect,
    .plan = r16_plan,
};

/* ---- what the target cannot load -------------------------------------------
 */

/* hit value of a section the target loads only with a backend (else the
 * version, or 0) */
#define NEEDS_SOMETHING UINT64_MAX

static void unknown_detect(TrContext *ctx, GArray *hits)
{
    const VmsStream *s = ctx->stream;

    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        if (!tr_section_live(ctx, i)) {
            continue;
        }
        const char *vmsd = tr_vmsd(sec);
        const TrSectionSpec *spec = tr_target_section(ctx->target, vmsd);
        const char *needs = tr_target_section_needs(ctx->target, vmsd);
        uint32_t version = tr_section_version(ctx, i);

        if (spec && needs && version >= spec->min_version &&
            version <= spec->max_version) {
            tr_hit_add(ctx, hits, i, G_MAXUINT, NEEDS_SOMETHING, sec->idstr,
                       g_strdup_printf("section '%s' (vmsd '%s', version %u): "
                                       "%s registers it only with %s",
                                       sec->idstr, vmsd, version,
                                       ctx->target->name, needs));
        } else if (!spec) {
            tr_hit_add(ctx, hits, i, G_MAXUINT, 0, sec->idstr,
                       g_strdup_printf("section '%s' (vmsd '%s', version %u): "
                                       "%s has no device that loads it",
                                       sec->idstr, vmsd, sec->version_id,
                                       ctx->target->name));
        } else if (version < spec->min_version || version > spec->max_version) {
            tr_hit_add(ctx, hits, i, G_MAXUINT, version, sec->idstr,
                       g_strdup_printf("section '%s' version %u (%" PRIu64
                                       " bytes): %s loads '%s' versions "
                                       "%u..%u",
                                       sec->idstr, version, sec->payload_len,
                                       ctx->target->name, vmsd,
                                       spec->min_version, spec->max_version));
        }
    }
}

static bool unknown_plan(TrContext *ctx, const TrHit *hit, GError **errp)
{
    const VmsSection *sec = vms_stream_section(ctx->stream, hit->section);

    if (hit->value == NEEDS_SOMETHING) {
        const char *needs = tr_target_section_needs(ctx->target, tr_vmsd(sec));
        tr_recipe_add_note(
            ctx->recipe,
            g_strdup_printf("'%s': the VM must have %s (for audio: the "
                            "sound device's audiodev=, e.g. -audiodev "
                            "none,id=snd0 and audiodev=snd0 on the device), "
                            "or %s refuses the section%s",
                            sec->idstr, needs, ctx->target->name,
                            sec->payload_len ? ""
                                             : "; it carries no state, so "
                                               "--drop-section loses "
                                               "nothing"));
        tr_finding_set(hit->finding, TR_ACTION_NOTE,
                       g_strdup_printf("loads as it is when the VM has %s "
                                       "(see the recipe's note)",
                                       needs));
        return true;
    }

    g_autofree char *drop = tr_drop_section_option(sec);
    tr_refuse(hit->finding, g_strdup("cannot be translated"), drop,
              tr_section_loss(sec));
    return true;
}

/* target — a section the target has no loader for, or not at its version.
 * Evidence: the vmsd name is not in the target's table, or the version
 * (after R1/R2) is outside the target's range.
 * Action: refused, naming --drop-section as the way out; a section the
 * target registers only with a backend (audio) is a note, and the recipe
 * says what the VM needs. */
const TrRule tr_rule_unknown_section = {
    .id = "target",
    .title = "section the target cannot load",
    .fixes = "a section whose device the target does not register, or at a "
             "version outside what its loader takes (\"Unknown savevm "
             "section\", or a silent stop)",
    .actions = TR_MAY_REFUSE | TR_MAY_NOTE,
    .needs = TR_NEEDS("drop-section", "R9", "R1", "R2", "R26"),
    .detect = unknown_detect,
    .plan = unknown_plan,
};
