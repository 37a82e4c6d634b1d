/*
 * Fingerprinting, by the rules of vmstate-reference §5. Facts are taken
 * from section headers, layout variants (which the parser chose by
 * payload length), the RAM block list and a few payload fields.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "fingerprint.h"

#include <stdarg.h>
#include <string.h>

#include "layout.h"
#include "vmdesc.h"

typedef struct Facts {
    const VmsStream *s;
    VmsWriterInfo *w;
    /* upstream version bounds, as major*100+minor (e.g. 203 = 2.3) */
    int lower;
    int upper;
} Facts;

static void evidence(Facts *f, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void evidence(Facts *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_ptr_array_add(f->w->evidence, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

static void hint(Facts *f, const char *text)
{
    for (guint i = 0; i < f->w->machine_hints->len; i++) {
        if (!strcmp(g_ptr_array_index(f->w->machine_hints, i), text)) {
            return;
        }
    }
    g_ptr_array_add(f->w->machine_hints, g_strdup(text));
}

static void at_least(Facts *f, int version)
{
    f->lower = MAX(f->lower, version);
}

static void at_most(Facts *f, int version)
{
    f->upper = MIN(f->upper, version);
}

/* First FULL section whose vmsd name (idstr after the last '/') is name. */
static const VmsSection *device(const VmsStream *s, const char *name)
{
    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        if (sec->type == VMS_SECTION_FULL &&
            !strcmp(vms_section_vmsd_name(sec), name)) {
            return sec;
        }
    }
    return NULL;
}

static bool has_subsection(const VmsStream *s, const char *name)
{
    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        for (guint k = 0; sec->subsections && k < sec->subsections->len; k++) {
            if (!strcmp(g_array_index(sec->subsections, VmsSubsection, k).name,
                        name)) {
                return true;
            }
        }
    }
    return false;
}

static const char *variant(const VmsSection *sec)
{
    const char *v = sec && sec->layout ? vms_layout_variant(sec->layout) : NULL;
    return v ? v : "";
}

static bool field_value(const VmsSection *sec, const char *path, uint64_t *v)
{
    VmsFieldLoc loc;
    if (!sec || !sec->layout ||
        !vms_section_find_field(sec, path, &loc, NULL) ||
        loc.kind != VMS_FIELD_INT) {
        return false;
    }
    *v = loc.value;
    return true;
}

static const char *ram_order(const VmsStream *s)
{
    bool alpha = true, by_size = true;
    for (guint i = 1; i < s->ram_blocks->len; i++) {
        const VmsRamBlock *a = vms_stream_block(s, i - 1);
        const VmsRamBlock *b = vms_stream_block(s, i);
        alpha &= strcmp(a->id, b->id) < 0;
        by_size &= a->length >= b->length;
    }
    if (s->ram_blocks->len < 3) {
        return "short";
    }
    return alpha ? "alphabetical" : by_size ? "by size" : "registration";
}

/*
 * The qemu-kvm writer of a translated stream, from the markers the
 * translation leaves alone: the i8259 instance ids (0.15: the I/O bases),
 * the RAM code (0.15/1.0: blocks in allocation order, pages in the START
 * record; 1.1/1.2: sorted by name) and live 'block' sections (1.1 and
 * older, when kept).
 */
static void translated_qemu_kvm(Facts *f)
{
    const VmsStream *s = f->s;
    const VmsSection *pic = device(s, "i8259");
    const char *order = ram_order(s);
    bool old_ram = s->first_page_in_start || !strcmp(order, "registration");
    bool block = vms_stream_find_section(s, "block", -1) != NULL;
    uint32_t len;
    const char *named = NULL;

    f->w->program = "qemu-kvm";
    f->w->translated = true;
    g_free(f->w->version);
    if (pic && (pic->instance_id == 0x20 || pic->instance_id == 0xa0)) {
        evidence(f, "translated: i8259 instance ids are the I/O bases "
                    "0x20/0xa0: qemu-kvm 0.15");
        f->w->version = g_strdup("0.15");
    } else if (old_ram) {
        evidence(f,
                 "translated: the 0.15/1.0 RAM code (%s), i8259 instance "
                 "ids 0/1: qemu-kvm 1.0",
                 s->first_page_in_start ? "pages in the START 'ram' record"
                                        : "blocks in allocation order");
        f->w->version = g_strdup("1.0");
    } else if (block) {
        evidence(f, "translated: the 1.1/1.2 RAM code with live 'block' "
                    "sections: qemu-kvm 1.1");
        f->w->version = g_strdup("1.1");
    } else {
        evidence(f, "translated: the 1.1/1.2 RAM code (blocks sorted by "
                    "name), no live 'block' sections: qemu-kvm 1.2 (or a "
                    "1.1 whose block sections the translation removed)");
        f->w->version = g_strdup("1.2");
    }
    for (guint i = 0; i < s->sections->len && !named; i++) {
        named = vms_section_machine(vms_stream_section(s, i), &len);
    }
    f->w->translated_for = named ? g_strdup_printf("-M %.*s", (int)len, named)
                                 : g_strdup("a machine type before 2.4");
}

static void qemu_kvm_version(Facts *f)
{
    const VmsStream *s = f->s;
    const VmsSection *pit = device(s, "i8254");
    const VmsSection *pic = device(s, "i8259");
    bool block = vms_stream_find_section(s, "block", -1) != NULL;
    const char *order = ram_order(s);

    f->w->program = "qemu-kvm";
    if (pit && pit->version_id == 2 && !strcmp(variant(pit), "qemu-kvm")) {
        evidence(f,
                 "i8254 is version 2 with a %" PRIu64 "-byte payload (the "
                 "leading 'flags' field): qemu-kvm 1.0 or older (R2)",
                 pit->payload_len);
        if (pic && (pic->instance_id == 0x20 || pic->instance_id == 0xa0)) {
            evidence(f, "i8259 instance ids are the I/O bases 0x20/0xa0: "
                        "qemu-kvm 0.15");
            f->w->version = g_strdup("0.15");
        } else {
            evidence(f, "i8259 instance ids are 0/1: qemu-kvm 1.0");
            f->w->version = g_strdup("1.0");
        }
    } else if (pit && pit->version_id == 3) {
        evidence(f, "i8254 is version 3: qemu-kvm 1.1 or later");
        if (block) {
            evidence(f, "live 'block' sections are present: savevm of "
                        "qemu-kvm 1.1 or older");
            f->w->version = g_strdup("1.1");
        } else {
            evidence(f, "no live 'block' sections: qemu-kvm 1.2");
            f->w->version = g_strdup("1.2");
        }
    } else {
        f->w->version = g_strdup("unknown");
    }
    if (block && strcmp(f->w->version, "1.1")) {
        evidence(f, "live 'block' sections (EOS only): written by qemu-kvm "
                    "0.15/1.0 savevm");
    }
    if (!strcmp(order, "alphabetical")) {
        evidence(f, "RAM block list sorted by name: the 1.2 RAM code");
    } else if (!strcmp(order, "registration")) {
        evidence(f, "RAM block list in allocation order (pc.ram first): the "
                    "0.15/1.0 RAM code");
    }
    if (s->first_page_in_start) {
        evidence(f, "the START 'ram' section already carries pages: 0.15/1.0 "
                    "RAM code");
    }
}

static void upstream_version(Facts *f, const VmsSection *pm)
{
    const VmsStream *s = f->s;
    const VmsSection *pit = device(s, "i8254");
    const VmsSection *rtc = device(s, "mc146818rtc");
    const VmsSection *uhci = device(s, "uhci");

    f->w->program = "qemu";
    if (pm && pm->version_id == 2) {
        evidence(f,
                 "piix4_pm is version 2 with a %" PRIu64 "-byte payload "
                 "(4-word GPE arrays): upstream QEMU 1.0-1.2",
                 pm->payload_len);
        at_least(f, 100);
        at_most(f, 102);
    } else if (pm && pm->version_id == 3) {
        evidence(f, "piix4_pm is version 3: QEMU 1.3 or later");
        at_least(f, 103);
    }
    if (pit && pit->version_id == 2) {
        evidence(f,
                 "i8254 is version 2 with %" PRIu64 " bytes: upstream "
                 "QEMU 1.0 or older",
                 pit->payload_len);
        at_most(f, 100);
    }
    if (rtc && rtc->version_id == 2) {
        evidence(f, "mc146818rtc is version 2: QEMU 1.2 or older");
        at_most(f, 102);
    }
    if (device(s, "mch")) {
        evidence(f, "a Q35 chipset ('mch' section): QEMU 1.4 or later");
        at_least(f, 104);
    }
    if (uhci && uhci->version_id >= 3) {
        evidence(f, "uhci is version 3: QEMU 2.1 or later");
        at_least(f, 201);
    }
    if (s->has_vmdesc) {
        evidence(f, "a VM description (JSON) follows EOF: QEMU 2.3 or later");
        at_least(f, 203);
    }
    if (s->has_footers) {
        evidence(f, "sections end with footers: QEMU 2.4 or later, machine "
                    "type 2.4 or later");
        at_least(f, 204);
    }
    if (has_subsection(s, "fw_cfg/dma")) {
        evidence(f, "subsection fw_cfg/dma: QEMU 2.5 or later");
        at_least(f, 205);
    }
    if (has_subsection(s, "cpu/poll_control_msr")) {
        evidence(f, "subsection cpu/poll_control_msr: QEMU 4.1 or later");
        at_least(f, 401);
    }
    if (f->lower > f->upper) {
        /* no QEMU writes both: a stream rewritten after its writer */
        evidence(f,
                 "the markers disagree (QEMU >= %d.%d and <= %d.%d): "
                 "not as one QEMU wrote it",
                 f->lower / 100, f->lower % 100, f->upper / 100,
                 f->upper % 100);
        translated_qemu_kvm(f);
    } else if (f->upper < 10000) {
        f->w->version =
            g_strdup_printf("%d.%d..%d.%d", f->lower / 100, f->lower % 100,
                            f->upper / 100, f->upper % 100);
    } else if (f->lower) {
        f->w->version =
            g_strdup_printf(">=%d.%d", f->lower / 100, f->lower % 100);
    } else {
        f->w->version = g_strdup("unknown");
    }
}

static void accelerator(Facts *f)
{
    const VmsStream *s = f->s;
    const VmsSection *cpu = device(s, "cpu");
    const VmsSection *tpr = device(s, "kvm-tpr-opt");
    uint64_t tsc = 0, state = 0;
    bool tsc_known = field_value(cpu, "env.tsc", &tsc);
    /* qemu-kvm <= 1.0's kvm-tpr-opt.c only patches under KVM; the later
     * kvmvapic also runs under TCG, so only the old one is evidence. */
    bool old_tpr_active =
        !strcmp(f->w->program, "qemu-kvm") && f->w->version &&
        (!strcmp(f->w->version, "0.15") || !strcmp(f->w->version, "1.0")) &&
        field_value(tpr, "state", &state) && state;

    f->w->accel = "tcg";
    if (device(s, "kvmclock")) {
        evidence(f, "a 'kvmclock' section: the VM ran under KVM");
        f->w->accel = "kvm";
    }
    if (tsc_known && tsc) {
        evidence(f, "cpu.env.tsc is nonzero (KVM reads the TSC MSR)");
        f->w->accel = "kvm";
    }
    /*
     * A KVM vCPU always has a running TSC, so a zero TSC outweighs the
     * vapic state (a stream reshaped from a TCG one keeps its vapic on).
     */
    if (old_tpr_active && !tsc_known) {
        evidence(f, "kvm-tpr-opt (qemu-kvm <= 1.0) is active: it only "
                    "patches under KVM");
        f->w->accel = "kvm";
    } else if (old_tpr_active && !strcmp(f->w->accel, "tcg")) {
        evidence(f, "kvm-tpr-opt is active, but cpu.env.tsc is 0, which a "
                    "KVM vCPU never saves");
    }
    if (!strcmp(f->w->accel, "tcg")) {
        evidence(f, tsc_known ? "no kvmclock section and cpu.env.tsc is 0: TCG"
                              : "no kvmclock section: TCG");
    }
}

/* "1.2/usb-ptr": a USB device named by its port only ("^[0-9.]+/usb-";
 * by hand: a regex compiled for every section of every stream costs
 * more than the rest of the fingerprint). */
static bool usb_by_port(const char *idstr)
{
    size_t n = strspn(idstr, "0123456789.");

    return n > 0 && g_str_has_prefix(idstr + n, "/usb-");
}

static void machine(Facts *f)
{
    const VmsStream *s = f->s;
    const VmsSection *pm = device(s, "piix4_pm");

    for (guint i = 0; i < s->sections->len; i++) {
        const VmsSection *sec = vms_stream_section(s, i);
        uint32_t len;
        const char *name = vms_section_machine(sec, &len);
        if (name) {
            f->w->machine = g_strndup(name, len);
            evidence(f, "the configuration record names machine '%s'",
                     f->w->machine);
        }
        if (sec->type == VMS_SECTION_FULL && sec->idstr &&
            usb_by_port(sec->idstr)) {
            hint(f, "USB device names without the controller path: "
                    "qemu-kvm 0.15/1.0, or 1.1/1.2 with -M pc-1.0 or older");
        }
    }
    if (device(s, "mch")) {
        hint(f, "q35");
    } else if (device(s, "I440FX")) {
        hint(f, "i440fx");
    }
    if (pm && pm->layout && pm->version_id == 3 &&
        vms_layout_variant(pm->layout)) {
        char *h = g_strdup_printf("piix4_pm layout of machine types %s",
                                  vms_layout_variant(pm->layout));
        hint(f, h);
        g_free(h);
    }
    if (vms_stream_find_block(s, "system.flash") >= 0) {
        hint(f, "BIOS as pflash (system.flash, isa-bios): qemu 1.2 with "
                "-M pc-1.2 under TCG");
    }
}

/* A stream QEMU wrote whose framing qsnapfix changed says so in its VM
 * description (vmdesc.h): its devices are still its writer's. */
static void framed_by_qsnapfix(Facts *f)
{
    g_autofree char *framed =
        f->s->has_vmdesc ? vms_vmdesc_framed_for(f->s->vmdesc_json) : NULL;

    if (!framed || f->w->translated) {
        return;
    }
    evidence(f,
             "the VM description says qsnapfix framed the stream for -M "
             "%s: its devices are still its writer's",
             framed);
    f->w->translated = true;
    f->w->translated_for = g_strdup_printf("-M %s", framed);
}

VmsWriterInfo *vms_fingerprint(const VmsStream *s)
{
    VmsWriterInfo *w = g_new0(VmsWriterInfo, 1);
    Facts f = {.s = s, .w = w, .lower = 0, .upper = 10000};
    const VmsSection *pm = device(s, "piix4_pm");

    w->evidence = g_ptr_array_new_with_free_func(g_free);
    w->machine_hints = g_ptr_array_new_with_free_func(g_free);
    if (pm && pm->version_id == 2 && !strcmp(variant(pm), "qemu-kvm")) {
        evidence(&f,
                 "piix4_pm is version 2 with the v3 layout (%" PRIu64
                 "-byte payload): only qemu-kvm writes that (R1)",
                 pm->payload_len);
        qemu_kvm_version(&f);
    } else {
        upstream_version(&f, pm);
    }
    accelerator(&f);
    machine(&f);
    framed_by_qsnapfix(&f);
    return w;
}

char *vms_writer_describe(const VmsWriterInfo *w)
{
    if (w->translated) {
        return g_strdup_printf("%s %s, translated for %s", w->program,
                               w->version, w->translated_for);
    }
    return g_strdup_printf("%s %s", w->program, w->version ? w->version : "?");
}

void vms_writer_info_free(VmsWriterInfo *w)
{
    if (!w) {
        return;
    }
    g_free(w->version);
    g_free(w->translated_for);
    g_free(w->machine);
    g_ptr_array_free(w->machine_hints, TRUE);
    g_ptr_array_free(w->evidence, TRUE);
    g_free(w);
}
