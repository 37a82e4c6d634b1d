/*
 * The rules run backwards: turn a stream QEMU 7.2 wrote (-M pc-i440fx-1.4)
 * into one shaped like qemu-kvm 1.0's or 1.2's, so that the demo and the
 * tests have "old" snapshots that need nothing from ../shared, and so that
 * every forward rule meets its evidence in a stream QEMU really wrote.
 *
 * Each step undoes one forward rule where the stream shows the 7.2 form,
 * and is itself a finding with its evidence. Extra options damage a stream
 * on purpose, to make the refusals testable from real streams.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "backwards.h"
#include "plan.h"
#include "recipe.h"
#include "rules.h"
#include "stream/bytes.h"
#include "stream/layout.h"
#include "stream/writer.h"

typedef struct Back {
    const VmsStream *s;
    VmsSource *src;
    const TrBackwardsOptions *o;
    TrResult *r;
    TrPlan *plan;
    uint32_t next_id;
} Back;

static TrFinding *finding(Back *b, const char *rule, const char *title,
                          const char *subject, char *evidence, char *change)
{
    TrFinding *f = tr_result_add_finding(b->r, rule, title, subject, evidence);

    f->change = change;
    return f;
}

static VmsSection *full(const Back *b, const char *vmsd)
{
    for (guint i = 0; i < b->s->sections->len; i++) {
        VmsSection *sec = vms_stream_section(b->s, i);
        if (sec->type == VMS_SECTION_FULL && sec->idstr &&
            !strcmp(vms_section_vmsd_name(sec), vmsd)) {
            return sec;
        }
    }
    return NULL;
}

/* Set a section's header version (from -> to) when it is at `from`. */
static void set_version(Back *b, const char *vmsd, uint32_t from, uint32_t to,
                        uint64_t need_len, const char *rule, const char *why)
{
    VmsSection *sec = full(b, vmsd);

    if (!sec || sec->version_id != from ||
        (need_len && sec->payload_len != need_len)) {
        return;
    }
    TrFinding *f =
        finding(b, rule, why, sec->idstr,
                g_strdup_printf("'%s' is version %u (%" PRIu64 " bytes)",
                                sec->idstr, from, sec->payload_len),
                g_strdup_printf("header version %u -> %u", from, to));
    tr_plan_patch_be32(b->plan, f, sec->version_offset, to);
}

/* Remove a field of a section and lower its version (rtl8139, uhci). */
static void drop_field(Back *b, const char *vmsd, uint32_t from, uint32_t to,
                       const char *path)
{
    VmsSection *sec = full(b, vmsd);
    VmsFieldLoc loc;

    if (!sec || sec->version_id != from ||
        !vms_section_find_field(sec, path, &loc, NULL)) {
        return;
    }
    TrFinding *f = finding(
        b, "back", "a field the old writer did not have", sec->idstr,
        g_strdup_printf("'%s' v%u has '%s' (%" PRIu64 " bytes at payload "
                        "offset %" PRIu64 ")",
                        sec->idstr, from, path, loc.size, loc.payload_offset),
        g_strdup_printf("field removed, version %u -> %u", from, to));
    tr_plan_drop(b->plan, f, loc.offset, loc.size);
    tr_plan_patch_be32(b->plan, f, sec->version_offset, to);
}

/* R26 backwards: ehci v2 -> v1, without the two registers v2 added. */
static void ehci_v1(Back *b)
{
    VmsSection *sec = full(b, "ehci");
    VmsFieldLoc pending, frindex;

    if (!sec || sec->version_id != 2 ||
        !vms_section_find_field(sec, "ehci.usbsts_pending", &pending, NULL) ||
        !vms_section_find_field(sec, "ehci.usbsts_frindex", &frindex, NULL) ||
        frindex.offset != pending.offset + pending.size) {
        return;
    }
    TrFinding *f = finding(
        b, "R26", "ehci version 1 (QEMU 1.1/1.2)", sec->idstr,
        g_strdup_printf("'%s' is version 2 (%" PRIu64 " bytes)", sec->idstr,
                        sec->payload_len),
        g_strdup("usbsts_pending and usbsts_frindex removed, version 2 -> "
                 "1"));
    tr_plan_drop(b->plan, f, pending.offset, pending.size + frindex.size);
    tr_plan_patch_be32(b->plan, f, sec->version_offset, 1);
}

static void drop_sections(Back *b, const char *vmsd, const char *why)
{
    for (guint i = 0; i < b->s->sections->len; i++) {
        VmsSection *sec = vms_stream_section(b->s, i);
        if (sec->type == VMS_SECTION_FULL && sec->idstr &&
            !strcmp(vms_section_vmsd_name(sec), vmsd)) {
            TrFinding *f =
                finding(b, "back", why, sec->idstr,
                        g_strdup_printf("'%s' is in the stream", sec->idstr),
                        g_strdup("section removed"));
            tr_plan_drop(b->plan, f, sec->offset, sec->end - sec->offset);
        }
    }
}

/* R3 backwards: "0000:00:01.2/1/usb-ptr" -> "1/usb-ptr" */
static void usb_port_names(Back *b)
{
    for (guint i = 0; i < b->s->sections->len; i++) {
        VmsSection *sec = vms_stream_section(b->s, i);
        const char *usb = sec->idstr ? strstr(sec->idstr, "/usb-") : NULL;
        const char *first = sec->idstr ? strchr(sec->idstr, '/') : NULL;
        if (sec->type != VMS_SECTION_FULL || !usb || first == usb) {
            continue;
        }
        VmsBuilder *w = vms_builder_new_memory();
        vms_builder_string8(w, first + 1);
        TrFinding *f =
            finding(b, "R3", "USB device named by port only (qemu-kvm <= 1.0)",
                    sec->idstr,
                    g_strdup_printf("'%s' names its controller", sec->idstr),
                    g_strdup_printf("idstr -> '%s'", first + 1));
        tr_plan_put(b->plan, f, sec->idstr_offset, 1 + strlen(sec->idstr), w);
    }
}

/* R16 backwards: virtio-balloon class 0x00ff -> 0x0500 */
static void balloon_class(Back *b)
{
    static const uint8_t memory_ram[2] = {0x00, 0x05};
    VmsSection *sec = full(b, "virtio-balloon");
    gsize len;
    const uint8_t *p =
        sec && sec->payload ? g_bytes_get_data(sec->payload, &len) : NULL;

    if (!p || len < 16 || p[14] != 0xff || p[15] != 0x00) {
        return;
    }
    TrFinding *f =
        finding(b, "R16", "virtio-balloon class 0x0500", sec->idstr,
                g_strdup("PCI class 0x00ff"), g_strdup("PCI class -> 0x0500"));
    tr_plan_patch(b->plan, f, sec->payload_offset + 14, 2, memory_ram, 2);
}

static void resize_block(Back *b, const char *suffix, uint64_t from,
                         uint64_t to, const char *rule, const char *why)
{
    for (guint i = 0; i < b->s->ram_blocks->len; i++) {
        const VmsRamBlock *blk = vms_stream_block(b->s, i);
        if (!g_str_has_suffix(blk->id, suffix) || blk->length != from) {
            continue;
        }
        g_autofree char *a = tr_size_str(from);
        g_autofree char *c = tr_size_str(to);
        TrFinding *f =
            finding(b, rule, why, blk->id,
                    g_strdup_printf("RAM block '%s' is %s", blk->id, a),
                    g_strdup_printf("block length %s -> %s", a, c));
        tr_plan_ram_resize(b->plan, f, i, to);
    }
}

static void rename_block(Back *b, const char *from, const char *to,
                         const char *rule, const char *why)
{
    int i = vms_stream_find_block(b->s, from);

    if (i < 0) {
        return;
    }
    TrFinding *f =
        finding(b, rule, why, from, g_strdup_printf("RAM block '%s'", from),
                g_strdup_printf("renamed '%s'", to));
    tr_plan_ram_rename(b->plan, f, (guint)i, to);
}

/* R9 backwards: empty "block" START/PART/END beside the ram records. */
static void block_sections(Back *b)
{
    const VmsStream *s = b->s;
    uint32_t id = b->next_id++;
    guint placed = 0;
    TrFinding *f = NULL;

    if (vms_stream_find_section(s, "block", -1)) {
        return;
    }
    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        if (sec->kind != VMS_KIND_RAM || placed == 3) {
            continue;
        }
        VmsBuilder *w = vms_builder_new_memory();
        vms_builder_section(w, sec->type, id, "block", 0, 1);
        vms_builder_block_eos(w);
        if (!f) {
            f = finding(b, "R9", "block-migration sections of 0.15/1.0",
                        "block", g_strdup("no 'block' sections"),
                        g_strdup_printf("empty START/PART/END 'block' "
                                        "(section id %u) beside 'ram'",
                                        id));
        }
        tr_plan_put(b->plan, f, sec->offset, 0, w);
        placed++;
    }
}

static void drop_vmdesc(Back *b)
{
    const VmsStream *s = b->s;

    if (!s->has_vmdesc) {
        return;
    }
    TrFinding *f = finding(b, "R11", "no VM description before QEMU 2.3",
                           "vmdesc", g_strdup("a VMDESCRIPTION trailer"),
                           g_strdup("trailer removed"));
    tr_plan_drop(b->plan, f, s->vmdesc_offset, s->size - s->vmdesc_offset);
}

/* ---- damage on purpose -----------------------------------------------------
 */

static void ram_id_zero(Back *b)
{
    for (guint i = 0; i < b->s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(b->s, i);
        if (sec->kind == VMS_KIND_RAM) {
            TrFinding *f = finding(
                b, "R8", "live section with id 0", "ram",
                g_strdup_printf("'ram' has section id %u", sec->section_id),
                g_strdup("section id -> 0"));
            tr_plan_patch_be32(b->plan, f, sec->section_id_offset, 0);
        }
    }
}

static bool qxl_modes(Back *b, GError **errp)
{
    const VmsStream *s = b->s;

    for (guint i = 0; i < s->ram_blocks->len; i++) {
        const VmsRamBlock *blk = vms_stream_block(s, i);
        const VmsPage *pg = vms_stream_find_page(s, i, 0);
        uint8_t head[32], n[4];

        if (!g_str_has_suffix(blk->id, "/qxl.vrom")) {
            continue;
        }
        if (!pg || (pg->flags & VMS_RAM_FILL) ||
            !vms_source_read(b->src, vms_page_data_offset(s, pg), head,
                             sizeof(head), errp)) {
            if (errp && !*errp) {
                g_set_error(errp, TR_ERROR, TR_ERROR_STREAM,
                            "%s: no qxl ROM header page to change", blk->id);
            }
            return false;
        }
        uint32_t modes = vms_le32(head + 24);
        if (modes + 4 > VMS_PAGE_SIZE) {
            g_set_error(errp, TR_ERROR, TR_ERROR_STREAM,
                        "%s: mode list at 0x%x is not in the first page",
                        blk->id, modes);
            return false;
        }
        vms_put_le32(n, b->o->qxl_modes);
        TrFinding *f = finding(
            b, "R10", "qxl ROM mode list made longer", blk->id,
            g_strdup_printf("mode list at 0x%x", modes),
            g_strdup_printf(
                "n_modes -> %u (content ends at %" PRIu64 ")", b->o->qxl_modes,
                (uint64_t)modes + 4 + (uint64_t)32 * b->o->qxl_modes));
        tr_plan_patch(b->plan, f, vms_page_data_offset(s, pg) + modes, 4, n, 4);
    }
    return true;
}

static bool vram_data(Back *b, GError **errp)
{
    const VmsStream *s = b->s;
    int blk = vms_stream_find_block(s, "vga.vram");
    const VmsPage *pg =
        blk < 0 ? NULL
                : vms_stream_find_page(s, (guint)blk, b->o->vram_data_at);
    g_autofree uint8_t *data = g_malloc(VMS_PAGE_SIZE);
    VmsBuilder *w;

    if (!pg || !(pg->flags & VMS_RAM_FILL)) {
        g_set_error(errp, TR_ERROR, TR_ERROR_STREAM,
                    "vga.vram has no fill page record at 0x%" PRIx64
                    " to turn into data",
                    b->o->vram_data_at);
        return false;
    }
    for (guint i = 0; i < VMS_PAGE_SIZE; i++) {
        data[i] = (uint8_t)(0x5a ^ i);
    }
    TrFinding *f =
        finding(b, "R4", "data in vga.vram above 8 MiB", "vga.vram",
                g_strdup_printf("fill page record at 0x%" PRIx64, pg->addr),
                g_strdup("turned into a data page"));
    /* the record's addr|flags word only: its block name stays */
    w = vms_builder_new_memory();
    vms_builder_be64(w,
                     pg->addr | ((pg->flags & ~VMS_RAM_FILL) | VMS_RAM_PAGE));
    tr_plan_put(b->plan, f, pg->offset, 8, w);
    tr_plan_patch(b->plan, f, vms_page_data_offset(s, pg), 1, data,
                  VMS_PAGE_SIZE);
    return true;
}

static void add_section(Back *b)
{
    const VmsStream *s = b->s;
    VmsBuilder *w = vms_builder_new_memory();
    uint8_t payload[16] = {0};

    vms_builder_section(w, VMS_SECTION_FULL, b->next_id++, b->o->add_section, 0,
                        1);
    vms_builder_bytes(w, payload, sizeof(payload));
    TrFinding *f = finding(b, "target", "a device the target lacks",
                           b->o->add_section, g_strdup("requested"),
                           g_strdup("FULL section added before EOF"));
    tr_plan_put(b->plan, f, s->eof_offset, 0, w);
}

/* ---- the eras
 * ----------------------------------------------------------------- */

/* A cirrus VGA: its section, or (at the head of a stream, before any
 * section) its option ROM's RAM block. */
static bool has_cirrus(const Back *b)
{
    for (guint i = 0; i < b->s->ram_blocks->len; i++) {
        if (g_str_has_suffix(vms_stream_block(b->s, i)->id,
                             "/cirrus_vga.rom")) {
            return true;
        }
    }
    return full(b, "cirrus_vga") != NULL;
}

static void as_qemu_kvm_10(Back *b)
{
    set_version(b, "piix4_pm", 3, 2, 312, "R1",
                "piix4_pm v2 with the v3 layout (qemu-kvm)");
    set_version(b, "i8254", 3, 2, 108, "R2",
                "i8254 v2 with the flags word (qemu-kvm <= 1.0)");
    drop_field(b, "rtl8139", 5, 4, "tally_counters.RxOkMul");
    drop_field(b, "uhci", 3, 2, "pending_int_mask");
    set_version(b, "slirp", 4, 3, 131, "back", "slirp v3 (idle)");
    usb_port_names(b);
    balloon_class(b);
    if (has_cirrus(b)) {
        resize_block(b, "vga.vram", 8 << 20, 16 << 20, "R4",
                     "qemu-kvm's 16 MiB cirrus VRAM");
    }
    resize_block(b, "/rtl8139.rom", 128 << 10, 64 << 10, "R6",
                 "a 64 KiB NIC ROM (pxe ROMs of the 0.15/1.0 distros)");
    resize_block(b, "/e1000.rom", 128 << 10, 64 << 10, "R6",
                 "a 64 KiB NIC ROM (pxe ROMs of the 0.15/1.0 distros)");
    resize_block(b, "/virtio-net-pci.rom", 128 << 10, 64 << 10, "R6",
                 "a 64 KiB NIC ROM (pxe ROMs of the 0.15/1.0 distros)");
    block_sections(b);
    drop_sections(b, "parallel_isa", "no parallel port state before 2.x");
    drop_sections(b, "globalstate", "no global state before 2.4");
    drop_vmdesc(b);
}

static void as_qemu_kvm_12(Back *b)
{
    set_version(b, "piix4_pm", 3, 2, 312, "R1",
                "piix4_pm v2 with the v3 layout (qemu-kvm)");
    drop_field(b, "rtl8139", 5, 4, "tally_counters.RxOkMul");
    drop_field(b, "uhci", 3, 2, "pending_int_mask");
    set_version(b, "slirp", 4, 3, 131, "back", "slirp v3 (idle)");
    if (has_cirrus(b)) {
        resize_block(b, "vga.vram", 8 << 20, 16 << 20, "R4",
                     "qemu-kvm's 16 MiB cirrus VRAM");
    }
    ehci_v1(b);
    rename_block(b, "system.flash0", "system.flash", "R17",
                 "qemu-kvm 1.2 names its BIOS flash 'system.flash'");
    resize_block(b, "/qxl.vrom", 8 << 10, 16 << 10, "R10",
                 "the 16 KiB qxl ROM of 1.2 (spice-protocol with qxl-4)");
    drop_sections(b, "hpet", "Ubuntu's qemu-kvm 1.2 has no HPET under TCG");
    drop_sections(b, "parallel_isa", "no parallel port state before 2.x");
    drop_sections(b, "globalstate", "no global state before 2.4");
    drop_vmdesc(b);
}

/* qxl PCI revision 4 -> 3, as qemu-kvm 1.2's qxl-vga reports */
static void qxl_revision(Back *b)
{
    VmsSection *sec = full(b, "qxl");
    gsize len;
    const uint8_t *p =
        sec && sec->payload ? g_bytes_get_data(sec->payload, &len) : NULL;
    static const uint8_t three = 3;

    if (!p || len < 13 || p[12] != 4) {
        return;
    }
    TrFinding *f =
        finding(b, "R24", "qxl PCI revision 3 (qemu-kvm 1.2)", sec->idstr,
                g_strdup("PCI revision 4"), g_strdup("PCI revision -> 3"));
    tr_plan_patch(b->plan, f, sec->payload_offset + 12, 1, &three, 1);
}

TrResult *tr_backwards(const VmsStream *s, VmsSource *src,
                       const TrBackwardsOptions *o, GError **errp)
{
    g_autoptr(TrResult) r = tr_result_new(tr_target_default(), s->size);
    Back b = {.s = s, .src = src, .o = o, .r = r};
    bool ok = true;

    if (!s->pages || s->tail_path) {
        g_set_error(errp, TR_ERROR, TR_ERROR_INVALID,
                    "%s: parsed without its page records", s->name);
        return NULL;
    }
    if (s->has_footers && o->as && strcmp(o->as, "keep")) {
        /* qemu-kvm never wrote footers, and the shapes above do not take
         * them out: the result would be neither stream */
        g_set_error(errp, TR_ERROR, TR_ERROR_UNSUPPORTED,
                    "%s: its sections end with SECTION_FOOTERs (written for a "
                    "machine type >= 2.4); --as %s reshapes streams of "
                    "-M pc-i440fx-1.4, which have none",
                    s->name, o->as);
        return NULL;
    }
    r->writer = g_strdup(o->as ? o->as : "keep");
    b.plan = tr_plan_new(s, true);
    for (guint i = 0; i < s->sections->len; i++) {
        b.next_id = MAX(b.next_id, vms_stream_section(s, i)->section_id + 1);
    }
    if (o->new_section_id) {
        b.next_id = o->new_section_id;
    }

    if (!g_strcmp0(o->as, "qemu-kvm-1.0")) {
        as_qemu_kvm_10(&b);
    } else if (!g_strcmp0(o->as, "qemu-kvm-1.2")) {
        as_qemu_kvm_12(&b);
        qxl_revision(&b);
    } else if (o->as && strcmp(o->as, "keep")) {
        g_set_error(errp, TR_ERROR, TR_ERROR_INVALID,
                    "unknown shape '%s' (qemu-kvm-1.0, qemu-kvm-1.2, keep)",
                    o->as);
        ok = false;
    }
    if (ok && o->ram_id_zero) {
        ram_id_zero(&b);
    }
    if (ok && o->qxl_modes) {
        ok = qxl_modes(&b, errp);
    }
    if (ok && o->vram_data_at) {
        ok = vram_data(&b, errp);
    }
    if (ok && o->add_section) {
        add_section(&b);
    }
    ok = ok && tr_plan_build(b.plan, r->edits, &r->new_size, errp);
    tr_plan_free(b.plan);
    return ok ? g_steal_pointer(&r) : NULL;
}
