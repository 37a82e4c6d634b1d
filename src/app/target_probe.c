/*
 * Profiling a QEMU binary (target_probe.h). What is measured, and how,
 * is the same as tests/qsnapfix_tests/target_facts.py (which writes the
 * shipped profiles' facts): a binary that says what a shipped target's
 * binary said gets that target.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib/gstdio.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "stream/stream.h"
#include "stream/writer.h"
#include "target_probe.h"
#include "translate/target_facts.h"

/* Bump when what is measured changes: older caches are then ignored. */
#define FACTS_LAYOUT 3
/* Deadlines: one QEMU run (start, QMP, migrate or load, quit). */
#define RUN_SECONDS 60
#define POLL_US     (50 * 1000)

/* ---- what is measured ---------------------------------------------------- */

/* name -> device options; the configurations of target_facts.py, with
 * user networking restricted (restrict=on: nothing reaches the host or
 * outside; the facts are the same) */
typedef struct Config {
    const char *name;
    const char *const *args;
} Config;

static const char *const cfg_cirrus[] = {
    "-vga", "cirrus", "-nic", "user,model=rtl8139,restrict=on", NULL};
static const char *const cfg_std[] = {
    "-vga",    "std",     "-nic",       "user,model=e1000,restrict=on",
    "-usb",    "-device", "usb-tablet", "-device",
    "usb-kbd", NULL};
static const char *const cfg_vmware[] = {
    "-vga", "vmware", "-nic", "user,model=ne2k_pci,restrict=on", NULL};
static const char *const cfg_virtio[] = {
    "-vga",      "none",
    "-nic",      "user,model=virtio-net-pci,restrict=on",
    "-nic",      "user,model=pcnet,restrict=on",
    "-blockdev", "null-co,node-name=d0",
    "-device",   "virtio-blk-pci,drive=d0",
    "-device",   "virtio-balloon-pci",
    "-device",   "virtio-serial-pci",
    NULL};
static const char *const cfg_sound[] = {"-vga",      "none",
                                        "-nic",      "none",
                                        "-audiodev", "none,id=a0",
                                        "-device",   "AC97,audiodev=a0",
                                        "-device",   "ES1370,audiodev=a0",
                                        "-device",   "intel-hda",
                                        "-device",   "hda-duplex,audiodev=a0",
                                        NULL};
static const char *const cfg_qxl[] = {"-vga", "qxl", "-nic", "none", NULL};
static const char *const cfg_newest[] = {
    "-machine", "pc", "-vga", "std", "-nic", "user,model=e1000,restrict=on",
    NULL};
static const char *const cfg_isa[] = {"-vga",
                                      "none",
                                      "-nic",
                                      "none",
                                      "-audiodev",
                                      "none,id=a0",
                                      "-device",
                                      "sb16,audiodev=a0",
                                      "-device",
                                      "cs4231a,audiodev=a0",
                                      "-device",
                                      "gus,audiodev=a0",
                                      "-device",
                                      "i6300esb",
                                      "-device",
                                      "ib700",
                                      "-device",
                                      "usb-ehci",
                                      "-usb",
                                      "-device",
                                      "usb-hub,bus=usb-bus.0",
                                      "-device",
                                      "pci-serial",
                                      NULL};

static const char *const cfg_eepro100_scsi[] = {
    "-vga",
    "none",
    "-nic",
    "user,model=i82551,restrict=on",
    "-nic",
    "user,model=i82557b,restrict=on",
    "-nic",
    "user,model=i82559er,restrict=on",
    "-device",
    "isa-ide,iobase=0x1e8,iobase2=0x3ee,irq=11",
    "-device",
    "lsi53c895a,id=scsi0",
    "-blockdev",
    "null-co,node-name=d0",
    "-device",
    "scsi-hd,drive=d0,bus=scsi0.0",
    "-device",
    "virtio-scsi-pci",
    "-usb",
    "-blockdev",
    "null-co,node-name=d1",
    "-device",
    "usb-storage,drive=d1",
    NULL};

static const Config configs[] = {
    {"cirrus-rtl8139", cfg_cirrus},
    {"std-e1000-usb", cfg_std},
    {"vmware-ne2k", cfg_vmware},
    {"virtio-pcnet", cfg_virtio},
    {"sound", cfg_sound},
    {"qxl", cfg_qxl},
    {"newest-machine", cfg_newest},
    {"isa-sound-watchdogs-ehci", cfg_isa},
    {"eepro100-scsi", cfg_eepro100_scsi},
};

/* What QEMU says when a device of a configuration is not in this build. */
static const char *const unavailable[] = {"not a valid device model name",
                                          "not available", "is not a valid",
                                          "unsupported", NULL};

/* QOM type -> the properties a rule depends on. */
static const struct {
    const char *type;
    const char *const *props;
} qom_props[] = {
    {"apic", (const char *const[]){"vapic", NULL}},
    {"kvm-apic", (const char *const[]){"vapic", NULL}},
    {"PIIX4_PM",
     (const char *const[]){"acpi-pci-hotplug-with-bridge-support", NULL}},
    {"VGA", (const char *const[]){"qemu-extended-regs", "vgamem_mb", NULL}},
    {"cirrus-vga", (const char *const[]){"vgamem_mb", NULL}},
    {"vmware-svga", (const char *const[]){"vgamem_mb", NULL}},
    {"qxl-vga", (const char *const[]){"revision", "vgamem_mb", "ram_size_mb",
                                      "vram_size_mb", NULL}},
    {"usb-tablet", (const char *const[]){"full-path", NULL}},
    {"virtio-balloon-pci", (const char *const[]){"class", NULL}},
    {"intel-hda", (const char *const[]){"old_msi_addr", NULL}},
    {"virtio-blk-pci", (const char *const[]){"vectors", NULL}},
    {"virtio-serial-pci", (const char *const[]){"vectors", NULL}},
    {"virtio-scsi-pci", (const char *const[]){"vectors", NULL}},
};

/* Sections registered but never sent, loaded to see what takes them. */
static const struct {
    const char *vmsd;
    const char *with, *without; /* configurations; without NULL: none */
    const uint8_t *payload;
    size_t len;
} probes[] = {
    {"audio", "sound", "cirrus-rtl8139", NULL, 0},
    {"block", "cirrus-rtl8139", NULL, (const uint8_t[]){0, 0, 0, 0, 0, 0, 0, 2},
     8},
};

/* ---- the facts, owned ---------------------------------------------------- */

typedef struct Facts {
    GStringChunk *str;
    char *version, *machine;
    GPtrArray *machines, *deprecated; /* const char * (in str) */
    GArray *vmsds, *streamed, *probed, *ram, *props;
    bool configuration, footers;
    TrTargetFacts view;
} Facts;

static Facts *facts_new(void)
{
    Facts *f = g_new0(Facts, 1);

    f->str = g_string_chunk_new(4096);
    f->machines = g_ptr_array_new();
    f->deprecated = g_ptr_array_new();
    f->vmsds = g_array_new(TRUE, TRUE, sizeof(TrSectionSpec));
    f->streamed = g_array_new(TRUE, TRUE, sizeof(TrStreamedFact));
    f->probed = g_array_new(TRUE, TRUE, sizeof(TrProbedFact));
    f->ram = g_array_new(TRUE, TRUE, sizeof(TrRamFact));
    f->props = g_array_new(TRUE, TRUE, sizeof(TrPropFact));
    return f;
}

static void facts_free(Facts *f)
{
    if (!f) {
        return;
    }
    g_string_chunk_free(f->str);
    g_free(f->version);
    g_free(f->machine);
    g_ptr_array_unref(f->machines);
    g_ptr_array_unref(f->deprecated);
    g_array_unref(f->vmsds);
    g_array_unref(f->streamed);
    g_array_unref(f->probed);
    g_array_unref(f->ram);
    g_array_unref(f->props);
    g_free(f);
}

static const char *keep(Facts *f, const char *s)
{
    return s ? g_string_chunk_insert_const(f->str, s) : NULL;
}

/* The TrTargetFacts the rules see, pointing into f. */
static const TrTargetFacts *facts_view(Facts *f, const char *name)
{
    g_ptr_array_add(f->machines, NULL);
    g_ptr_array_add(f->deprecated, NULL);
    g_ptr_array_set_size(f->machines, f->machines->len - 1);
    g_ptr_array_set_size(f->deprecated, f->deprecated->len - 1);
    f->view = (TrTargetFacts){
        .name = keep(f, name),
        .version = keep(f, f->version),
        .machine = keep(f, f->machine),
        .machines = (const char *const *)f->machines->pdata,
        .deprecated_machines = (const char *const *)f->deprecated->pdata,
        .vmsds = (const TrSectionSpec *)(void *)f->vmsds->data,
        .streamed = (const TrStreamedFact *)(void *)f->streamed->data,
        .probed = (const TrProbedFact *)(void *)f->probed->data,
        .ram = (const TrRamFact *)(void *)f->ram->data,
        .props = (const TrPropFact *)(void *)f->props->data,
        .configuration = f->configuration,
        .footers = f->footers,
    };
    return &f->view;
}

static gint compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- facts as text lines: comparing and caching -------------------------- */

/* Every fact as a line ("vmsd cpu 11 12"), sorted: two binaries say the
 * same about themselves when their lines are equal (version aside). */
static GPtrArray *fact_lines(const TrTargetFacts *f)
{
    GPtrArray *l = g_ptr_array_new_with_free_func(g_free);

    g_ptr_array_add(l, g_strdup_printf("machine %s", f->machine));
    for (guint i = 0; f->machines && f->machines[i]; i++) {
        g_ptr_array_add(l, g_strdup_printf("machines %s", f->machines[i]));
    }
    for (guint i = 0; f->deprecated_machines && f->deprecated_machines[i];
         i++) {
        g_ptr_array_add(
            l, g_strdup_printf("deprecated %s", f->deprecated_machines[i]));
    }
    for (const TrSectionSpec *s = f->vmsds; s && s->vmsd; s++) {
        g_ptr_array_add(l, g_strdup_printf("vmsd %s %u %u", s->vmsd,
                                           s->min_version, s->max_version));
    }
    for (const TrStreamedFact *s = f->streamed; s && s->vmsd; s++) {
        g_ptr_array_add(l,
                        g_strdup_printf("streamed %s %u", s->vmsd, s->version));
    }
    for (const TrProbedFact *p = f->probed; p && p->vmsd; p++) {
        g_ptr_array_add(l, g_strdup_printf("probed %s %u %u %s %d", p->vmsd,
                                           p->min_version, p->max_version,
                                           p->with, p->loads_without));
    }
    for (const TrRamFact *r = f->ram; r && r->block; r++) {
        g_ptr_array_add(l, g_strdup_printf("ram %s %s %" PRIu64, r->config,
                                           r->block, r->length));
    }
    for (const TrPropFact *p = f->props; p && p->name; p++) {
        g_ptr_array_add(l, g_strdup_printf("prop %s %s", p->name,
                                           p->value ? p->value : "(none)"));
    }
    g_ptr_array_add(
        l, g_strdup_printf("framing %d %d", f->configuration, f->footers));
    g_ptr_array_sort(l, compare_strings);
    return l;
}

static bool same_facts(const TrTargetFacts *a, const TrTargetFacts *b)
{
    g_autoptr(GPtrArray) x = fact_lines(a);
    g_autoptr(GPtrArray) y = fact_lines(b);

    if (x->len != y->len) {
        return false;
    }
    for (guint i = 0; i < x->len; i++) {
        if (strcmp(g_ptr_array_index(x, i), g_ptr_array_index(y, i))) {
            return false;
        }
    }
    return true;
}

/* The cache: the version line, then the fact lines (one a line). */
static char *facts_text(const TrTargetFacts *f)
{
    g_autoptr(GPtrArray) l = fact_lines(f);
    GString *g = g_string_new(NULL);

    g_string_append_printf(g, "qsnapfix target facts %d\nversion %s\n",
                           FACTS_LAYOUT, f->version);
    for (guint i = 0; i < l->len; i++) {
        g_string_append_printf(g, "%s\n", (char *)g_ptr_array_index(l, i));
    }
    return g_string_free(g, FALSE);
}

static Facts *facts_parse(const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autofree char *head =
        g_strdup_printf("qsnapfix target facts %d", FACTS_LAYOUT);
    Facts *f;

    if (!lines[0] || strcmp(lines[0], head)) {
        return NULL;
    }
    f = facts_new();
    for (guint i = 1; lines[i]; i++) {
        g_auto(GStrv) w = g_strsplit(lines[i], " ", 6);
        guint n = g_strv_length(w);
        if (n >= 2 && !strcmp(w[0], "version")) {
            f->version = g_strdup(lines[i] + 8);
        } else if (n == 2 && !strcmp(w[0], "machine")) {
            f->machine = g_strdup(w[1]);
        } else if (n == 2 && !strcmp(w[0], "machines")) {
            g_ptr_array_add(f->machines, (char *)keep(f, w[1]));
        } else if (n == 2 && !strcmp(w[0], "deprecated")) {
            g_ptr_array_add(f->deprecated, (char *)keep(f, w[1]));
        } else if (n == 4 && !strcmp(w[0], "vmsd")) {
            TrSectionSpec s = {keep(f, w[1]), atoi(w[2]), atoi(w[3])};
            g_array_append_val(f->vmsds, s);
        } else if (n == 3 && !strcmp(w[0], "streamed")) {
            TrStreamedFact s = {keep(f, w[1]), atoi(w[2])};
            g_array_append_val(f->streamed, s);
        } else if (n == 6 && !strcmp(w[0], "probed")) {
            TrProbedFact p = {keep(f, w[1]), atoi(w[2]), atoi(w[3]),
                              keep(f, w[4]), atoi(w[5])};
            g_array_append_val(f->probed, p);
        } else if (n == 4 && !strcmp(w[0], "ram")) {
            TrRamFact r = {keep(f, w[1]), keep(f, w[2]),
                           g_ascii_strtoull(w[3], NULL, 10)};
            g_array_append_val(f->ram, r);
        } else if (n >= 3 && !strcmp(w[0], "prop")) {
            const char *v = lines[i] + 6 + strlen(w[1]);
            TrPropFact p = {keep(f, w[1]),
                            strcmp(v, "(none)") ? keep(f, v) : NULL};
            g_array_append_val(f->props, p);
        } else if (n == 3 && !strcmp(w[0], "framing")) {
            f->configuration = atoi(w[1]);
            f->footers = atoi(w[2]);
        }
    }
    if (!f->version || !f->machine) {
        facts_free(f);
        return NULL;
    }
    return f;
}

/* ---- running the binary -------------------------------------------------- */

/* -M help: class names (aliases dropped), and those marked deprecated. */
static bool read_machines(AppQemu *q, Facts *f, GError **errp)
{
    static const char *const args[] = {"-M", "help", NULL};
    g_autofree char *out = NULL;
    g_auto(GStrv) lines = NULL;

    if (!app_qemu_run(q, args, RUN_SECONDS, &out, NULL, errp)) {
        return false;
    }
    lines = g_strsplit(out, "\n", -1);
    for (guint i = 1; lines[i]; i++) {
        g_auto(GStrv) w = g_strsplit(g_strstrip(lines[i]), " ", 2);
        if (!w[0] || !*w[0] || strstr(lines[i], "(alias of")) {
            continue;
        }
        g_ptr_array_add(f->machines, (char *)keep(f, w[0]));
        if (g_str_has_suffix(lines[i], "(deprecated)")) {
            g_ptr_array_add(f->deprecated, (char *)keep(f, w[0]));
        }
    }
    g_ptr_array_sort(f->machines, compare_strings);
    return true;
}

/* The oldest "pc-i440fx-X.Y" the binary has, or NULL. */
static const char *oldest_i440fx(const Facts *f)
{
    const char *best = NULL;
    unsigned best_v = G_MAXUINT;

    for (guint i = 0; i < f->machines->len; i++) {
        const char *m = g_ptr_array_index(f->machines, i);
        unsigned major, minor;
        char end;
        if (sscanf(m, "pc-i440fx-%u.%u%c", &major, &minor, &end) == 2 &&
            major * 1000 + minor < best_v) {
            best = m;
            best_v = major * 1000 + minor;
        }
    }
    return best;
}

/* -dump-vmstate: vmsd name -> [min, max] over every device class. */
static bool read_dump(AppQemu *q, Facts *f, GError **errp)
{
    g_autofree char *dir = g_dir_make_tmp("qsnapfix-dump-XXXXXX", errp);
    g_autofree char *path =
        dir ? g_build_filename(dir, "dump.json", NULL) : NULL;
    const char *args[] = {"-M", f->machine, "-display", "none", "-dump-vmstate",
                          path, NULL};
    g_autoptr(QjValue) root = NULL;
    g_autoptr(GHashTable) ranges =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    bool ok = dir && app_qemu_run(q, args, RUN_SECONDS, NULL, NULL, errp) &&
              (root = qj_parse_file(path, errp));

    if (path) {
        g_unlink(path);
    }
    if (dir) {
        g_rmdir(dir);
    }
    if (!ok) {
        g_prefix_error(errp, "-dump-vmstate: ");
        return false;
    }
    for (guint i = 0; i < qj_length(root); i++) {
        const QjValue *d = qj_get(qj_member(root, i, NULL), "Description");
        const char *name = qj_get_str(d, "name");
        if (!name) {
            continue;
        }
        uint32_t lo = (uint32_t)qj_get_int(d, "minimum_version_id", 0);
        uint32_t hi = (uint32_t)qj_get_int(d, "version_id", 0);
        TrSectionSpec *old = g_hash_table_lookup(ranges, name);
        if (old) {
            old->min_version = MIN(old->min_version, lo);
            old->max_version = MAX(old->max_version, hi);
        } else {
            TrSectionSpec *s = g_new0(TrSectionSpec, 1);
            *s = (TrSectionSpec){keep(f, name), lo, hi};
            g_hash_table_insert(ranges, (char *)s->vmsd, s);
        }
    }
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, ranges);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        g_array_append_val(f->vmsds, *(TrSectionSpec *)value);
    }
    if (!f->vmsds->len) {
        g_set_error(errp, APP_QEMU_ERROR, APP_QEMU_ERROR_FAILED,
                    "-dump-vmstate listed no vmstate");
        return false;
    }
    return true;
}

/* A configuration's own stream and what the run showed. */
typedef struct Own {
    const Config *config;
    bool unavailable;
    GBytes *stream;
    VmsStream *s;
    GPtrArray *props; /* "TYPE.prop", value (NULL: none), pairs */
} Own;

static void own_clear(Own *o)
{
    g_clear_pointer(&o->stream, g_bytes_unref);
    g_clear_pointer(&o->s, vms_stream_free);
    g_clear_pointer(&o->props, g_ptr_array_unref);
}

/* The options of a run of configuration c on the facts' machine. */
static GPtrArray *run_args(const Facts *f, const Config *c, const char *more,
                           const char *more_value)
{
    GPtrArray *a = g_ptr_array_new();
    bool own_machine = false;

    for (guint i = 0; c->args[i]; i++) {
        own_machine = own_machine || !strcmp(c->args[i], "-machine");
    }
    g_ptr_array_add(a, (char *)"-accel");
    g_ptr_array_add(a, (char *)"tcg");
    if (!own_machine) {
        g_ptr_array_add(a, (char *)"-M");
        g_ptr_array_add(a, f->machine);
    }
    for (guint i = 0; c->args[i]; i++) {
        g_ptr_array_add(a, (char *)c->args[i]);
    }
    g_ptr_array_add(a, (char *)"-m");
    g_ptr_array_add(a, (char *)"16");
    if (more) {
        g_ptr_array_add(a, (char *)more);
        g_ptr_array_add(a, (char *)more_value);
    }
    g_ptr_array_add(a, NULL);
    return a;
}

static char *qom_value(const QjValue *v)
{
    bool b;
    int64_t i;
    uint64_t u;

    if (qj_as_bool(v, &b)) {
        return g_strdup(b ? "on" : "off");
    }
    if (qj_as_str(v)) {
        return g_strdup(qj_as_str(v));
    }
    if (qj_as_int(v, &i)) {
        return g_strdup_printf("%" PRId64, i);
    }
    if (qj_as_uint(v, &u)) {
        return g_strdup_printf("%" PRIu64, u);
    }
    return NULL;
}

/* qom-list from path down: every (path, type) of its children. */
static void qom_walk(AppVm *vm, const char *path, guint depth, gint64 deadline,
                     GPtrArray *found)
{
    g_autofree char *args = g_strdup_printf("{\"path\": \"%s\"}", path);
    g_autoptr(QjValue) list =
        depth > 6 ? NULL : app_vm_qmp(vm, "qom-list", args, deadline, NULL);

    for (guint i = 0; qj_kind(list) == QJ_ARRAY && i < qj_length(list); i++) {
        const QjValue *p = qj_at(list, i);
        const char *type = qj_get_str(p, "type");
        const char *name = qj_get_str(p, "name");
        if (!type || !name || !g_str_has_prefix(type, "child<")) {
            continue;
        }
        g_autofree char *child =
            g_strdup_printf("%s/%s", strcmp(path, "/") ? path : "", name);
        g_ptr_array_add(found, g_strdup(child));
        g_ptr_array_add(found, g_strndup(type + 6, strlen(type) - 7));
        qom_walk(vm, child, depth + 1, deadline, found);
    }
}

static GPtrArray *read_props(AppVm *vm, gint64 deadline)
{
    g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *props = g_ptr_array_new_with_free_func(g_free);

    qom_walk(vm, "/machine", 0, deadline, found);
    for (guint i = 0; i + 1 < found->len; i += 2) {
        const char *path = g_ptr_array_index(found, i);
        const char *type = g_ptr_array_index(found, i + 1);
        for (guint t = 0; t < G_N_ELEMENTS(qom_props); t++) {
            if (strcmp(qom_props[t].type, type)) {
                continue;
            }
            for (const char *const *p = qom_props[t].props; *p; p++) {
                g_autofree char *args = g_strdup_printf(
                    "{\"path\": \"%s\", \"property\": \"%s\"}", path, *p);
                g_autoptr(QjValue) v =
                    app_vm_qmp(vm, "qom-get", args, deadline, NULL);
                g_ptr_array_add(props, g_strdup_printf("%s.%s", type, *p));
                g_ptr_array_add(props, qom_value(v));
            }
        }
    }
    return props;
}

static const char *migrate_status(AppVm *vm, gint64 deadline, GError **errp,
                                  char **owned)
{
    g_autoptr(QjValue) st =
        app_vm_qmp(vm, "query-migrate", NULL, deadline, errp);

    *owned = g_strdup(qj_get_str(st, "status"));
    return *owned;
}

/* Start c paused, read its properties, migrate it into a file, parse it. */
static bool measure(AppQemu *q, const Facts *f, const Config *c, Own *own,
                    GError **errp)
{
    gint64 deadline = g_get_monotonic_time() + RUN_SECONDS * G_USEC_PER_SEC;
    g_autoptr(GPtrArray) args = run_args(f, c, NULL, NULL);
    g_autoptr(AppVm) vm =
        app_vm_start(q, (const char *const *)args->pdata, -1, errp);
    g_autoptr(GError) err = NULL;

    own->config = c;
    if (!vm) {
        return false;
    }
    if (!app_vm_connect(vm, deadline, &err)) {
        for (guint i = 0; unavailable[i]; i++) {
            if (strstr(err->message, unavailable[i])) {
                own->unavailable = true;
                return true;
            }
        }
        g_propagate_prefixed_error(errp, g_steal_pointer(&err),
                                   "%s: ", c->name);
        return false;
    }
    own->props = read_props(vm, deadline);
    g_autofree char *file = g_build_filename(app_vm_dir(vm), "own.mig", NULL);
    g_autofree char *uri =
        g_strdup_printf("{\"uri\": \"exec:cat > %s\"}", file);
    g_autoptr(QjValue) r = app_vm_qmp(vm, "migrate", uri, deadline, errp);
    g_autofree char *status = NULL;
    while (r && g_get_monotonic_time() < deadline) {
        g_free(status);
        if (!migrate_status(vm, deadline, errp, &status) ||
            !strcmp(status, "completed") || !strcmp(status, "failed") ||
            !strcmp(status, "cancelled")) {
            break;
        }
        g_usleep(POLL_US);
    }
    if (!status || strcmp(status, "completed")) {
        if (errp && !*errp) {
            g_set_error(errp, APP_QEMU_ERROR, APP_QEMU_ERROR_FAILED,
                        "%s: migrate: %s", c->name,
                        status ? status : "no answer");
        }
        return false;
    }
    gchar *data;
    gsize len;
    if (!g_file_get_contents(file, &data, &len, errp)) {
        return false;
    }
    own->stream = g_bytes_new_take(data, len);
    g_autoptr(VmsSource) src = vms_source_new_memory(
        g_bytes_get_data(own->stream, NULL), len, c->name);
    own->s = vms_stream_parse(src, NULL, errp);
    return own->s != NULL;
}

/* own's stream with a FULL section of vmsd put in front of its EOF. */
static GBytes *with_section(const Own *own, const char *vmsd, uint32_t version,
                            const uint8_t *payload, size_t len)
{
    const VmsStream *s = own->s;
    g_autoptr(GByteArray) rec = g_byte_array_new();
    g_autoptr(VmsBuilder) b = vms_builder_new_bytes(rec);
    uint32_t sid = 0;
    gsize total;
    const uint8_t *data = g_bytes_get_data(own->stream, &total);
    GByteArray *out = g_byte_array_new();

    for (guint i = 0; i < s->sections->len; i++) {
        sid = MAX(sid, vms_stream_section(s, i)->section_id);
    }
    vms_builder_section(b, VMS_SECTION_FULL, sid + 1, vmsd, 0, version);
    if (len) {
        vms_builder_bytes(b, payload, len);
    }
    if (s->has_footers) {
        vms_builder_footer(b, sid + 1);
    }
    vms_builder_finish(b, NULL);
    g_byte_array_append(out, data, (guint)s->eof_offset);
    g_byte_array_append(out, rec->data, rec->len);
    g_byte_array_append(out, data + s->eof_offset,
                        (guint)(total - s->eof_offset));
    return g_byte_array_free_to_bytes(out);
}

/* Does QEMU with c load the stream (paused afterwards)? */
static bool loads(AppQemu *q, const Facts *f, const Config *c, GBytes *stream)
{
    gint64 deadline = g_get_monotonic_time() + RUN_SECONDS * G_USEC_PER_SEC;
    g_autofree char *file = NULL;
    int fd = g_file_open_tmp("qsnapfix-probe-XXXXXX.mig", &file, NULL);
    gsize len;
    const char *data = g_bytes_get_data(stream, &len);
    bool ok = fd >= 0 && write(fd, data, len) == (ssize_t)len;
    g_autofree char *incoming = g_strdup_printf("exec:cat %s", file);
    g_autoptr(GPtrArray) args = run_args(f, c, "-incoming", incoming);
    g_autoptr(AppVm) vm = NULL;
    char *state = NULL;

    if (fd >= 0) {
        close(fd);
    }
    if (ok) {
        vm = app_vm_start(q, (const char *const *)args->pdata, -1, NULL);
    }
    while (vm && !app_vm_exited(vm, NULL) &&
           g_get_monotonic_time() < deadline) {
        g_autoptr(QjValue) st =
            app_vm_connect(vm, deadline, NULL)
                ? app_vm_qmp(vm, "query-status", NULL, deadline, NULL)
                : NULL;
        g_free(state);
        state = g_strdup(qj_get_str(st, "status"));
        if (state && strcmp(state, "inmigrate")) {
            break;
        }
        g_usleep(POLL_US);
    }
    ok = vm && !app_vm_exited(vm, NULL) && state &&
         (!strcmp(state, "paused") || !strcmp(state, "prelaunch"));
    g_free(state);
    if (file) {
        g_unlink(file);
    }
    return ok;
}

static Own *find_own(Own *owns, const char *name)
{
    for (guint i = 0; i < G_N_ELEMENTS(configs); i++) {
        if (!strcmp(owns[i].config->name, name)) {
            return owns[i].s ? &owns[i] : NULL;
        }
    }
    return NULL;
}

static void run_probes(AppQemu *q, Facts *f, Own *owns)
{
    for (guint p = 0; p < G_N_ELEMENTS(probes); p++) {
        Own *with = find_own(owns, probes[p].with);
        Own *without =
            probes[p].without ? find_own(owns, probes[p].without) : NULL;
        int lo = -1, hi = -1;
        bool loads_without;
        for (uint32_t v = 0; with && v <= 2; v++) {
            g_autoptr(GBytes) s = with_section(
                with, probes[p].vmsd, v, probes[p].payload, probes[p].len);
            if (loads(q, f, with->config, s)) {
                lo = lo < 0 ? (int)v : lo;
                hi = (int)v;
            }
        }
        if (lo < 0) {
            continue;
        }
        loads_without = true;
        if (probes[p].without && without) {
            g_autoptr(GBytes) s = with_section(
                without, probes[p].vmsd, hi, probes[p].payload, probes[p].len);
            loads_without = loads(q, f, without->config, s);
        }
        TrProbedFact fact = {keep(f, probes[p].vmsd), (uint32_t)lo,
                             (uint32_t)hi, keep(f, probes[p].with),
                             loads_without};
        g_array_append_val(f->probed, fact);
    }
}

static bool dumped(const Facts *f, const char *vmsd)
{
    for (guint i = 0; i < f->vmsds->len; i++) {
        if (!strcmp(g_array_index(f->vmsds, TrSectionSpec, i).vmsd, vmsd)) {
            return true;
        }
    }
    return false;
}

/* From the own streams: what target_facts.py and scripts/target-profile
 * take from them (streamed vmstates, RAM, properties, framing). */
static void collect(Facts *f, Own *owns)
{
    g_autoptr(GHashTable) streamed = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) ram =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GHashTable) props = g_hash_table_new(g_str_hash, g_str_equal);
    int configuration = -1, footers = -1;
    /* configurations in name order, as the generator walks them */
    Own *order[G_N_ELEMENTS(configs)];

    for (guint i = 0; i < G_N_ELEMENTS(configs); i++) {
        order[i] = &owns[i];
    }
    for (guint i = 0; i < G_N_ELEMENTS(configs); i++) {
        for (guint j = i + 1; j < G_N_ELEMENTS(configs); j++) {
            if (strcmp(order[j]->config->name, order[i]->config->name) < 0) {
                Own *t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
    }
    for (guint i = 0; i < G_N_ELEMENTS(configs); i++) {
        const Own *o = order[i];
        const VmsStream *s = o->s;
        bool profile = s && strcmp(o->config->name, "newest-machine");
        for (guint k = 0; s && k < s->sections->len; k++) {
            const VmsSection *sec = vms_stream_section(s, k);
            if (!sec->idstr || sec->kind == VMS_KIND_CONFIGURATION ||
                sec->kind == VMS_KIND_COMMAND) {
                continue;
            }
            const char *vmsd = vms_section_vmsd_name(sec);
            if (dumped(f, vmsd)) {
                continue;
            }
            uint32_t v = GPOINTER_TO_UINT(g_hash_table_lookup(streamed, vmsd));
            g_hash_table_insert(streamed, (char *)keep(f, vmsd),
                                GUINT_TO_POINTER(MAX(v, sec->version_id + 1)));
        }
        if (!profile) {
            continue;
        }
        for (guint k = 0; k < s->ram_blocks->len; k++) {
            const VmsRamBlock *b = vms_stream_block(s, k);
            char *key = g_strdup_printf("%s %" PRIu64, b->id, b->length);
            if (g_hash_table_contains(ram, key)) {
                g_free(key);
                continue;
            }
            g_hash_table_add(ram, key);
            TrRamFact r = {keep(f, o->config->name), keep(f, b->id), b->length};
            g_array_append_val(f->ram, r);
        }
        for (guint k = 0; o->props && k + 1 < o->props->len; k += 2) {
            const char *v = g_ptr_array_index(o->props, k + 1);
            g_hash_table_insert(props,
                                (char *)keep(f, g_ptr_array_index(o->props, k)),
                                v ? (char *)keep(f, v) : NULL);
        }
        g_autofree char *named = vms_stream_machine(s);
        configuration =
            configuration < 0 || configuration == !!named ? !!named : 0;
        footers = footers < 0 || footers == s->has_footers ? s->has_footers : 0;
    }
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, streamed);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        TrStreamedFact s = {k, GPOINTER_TO_UINT(v) - 1};
        g_array_append_val(f->streamed, s);
    }
    g_hash_table_iter_init(&it, props);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        TrPropFact p = {k, v};
        g_array_append_val(f->props, p);
    }
    f->configuration = configuration > 0;
    f->footers = footers > 0;
}

static Facts *measure_all(AppQemu *q, const char *version, GError **errp)
{
    Facts *f = facts_new();
    Own owns[G_N_ELEMENTS(configs)] = {0};
    bool ok = true;

    f->version = g_strdup(version);
    if (!read_machines(q, f, errp)) {
        facts_free(f);
        return NULL;
    }
    f->machine = g_strdup(oldest_i440fx(f));
    if (!f->machine) {
        g_set_error(errp, APP_QEMU_ERROR, APP_QEMU_ERROR_UNUSABLE,
                    "%s has no i440fx machine type (pc-i440fx-*)", version);
        facts_free(f);
        return NULL;
    }
    if (!read_dump(q, f, errp)) {
        facts_free(f);
        return NULL;
    }
    for (guint i = 0; ok && i < G_N_ELEMENTS(configs); i++) {
        ok = measure(q, f, &configs[i], &owns[i], errp);
    }
    if (ok) {
        collect(f, owns);
        run_probes(q, f, owns);
    }
    for (guint i = 0; i < G_N_ELEMENTS(configs); i++) {
        own_clear(&owns[i]);
    }
    if (!ok) {
        facts_free(f);
        return NULL;
    }
    return f;
}

/* ---- the cache ----------------------------------------------------------- */

/* The binary's file, the command's words and its version line, hashed. */
static char *cache_key(AppQemu *q, const char *version, GError **errp)
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_autoptr(GMappedFile) m =
        g_mapped_file_new(app_qemu_program(q), FALSE, errp);
    const char *const *cmd = app_qemu_command(q);

    if (!m) {
        return NULL;
    }
    g_checksum_update(sum, (const guchar *)g_mapped_file_get_contents(m),
                      g_mapped_file_get_length(m));
    for (guint i = 1; cmd[i]; i++) {
        g_checksum_update(sum, (const guchar *)cmd[i], strlen(cmd[i]) + 1);
    }
    g_checksum_update(sum, (const guchar *)version, strlen(version));
    return g_strndup(g_checksum_get_string(sum), 16);
}

/* ---- the profile --------------------------------------------------------- */

struct AppTargetProbe {
    Facts *facts;
    TrTarget *built; /* NULL: a shipped target */
    const TrTarget *target;
    char *origin;
};

void app_target_probe_free(AppTargetProbe *p)
{
    if (!p) {
        return;
    }
    tr_target_free(p->built);
    facts_free(p->facts);
    g_free(p->origin);
    g_free(p);
}

const TrTarget *app_target_probe_target(const AppTargetProbe *p)
{
    return p->target;
}

const char *app_target_probe_origin(const AppTargetProbe *p)
{
    return p->origin;
}

/* QEMU < 2.1 has no -dump-vmstate; < 4.0 not the options measured. */
static bool can_profile(AppQemu *q, const char *version, GError **errp)
{
    unsigned v = app_qemu_version_number(version);

    if (v >= 4000) {
        return true;
    }
    g_set_error(errp, APP_QEMU_ERROR, APP_QEMU_ERROR_UNUSABLE,
                "%s (%s) cannot be profiled: %s; its proven profile is "
                "--target qemu-2.0 for QEMU 2.0 to 2.2",
                app_qemu_program(q), version,
                v < 2001 ? "it has no -dump-vmstate (that came with QEMU 2.1)"
                         : "the device options the measurement uses (-nic, "
                           "-audiodev) came with QEMU 4.0");
    return false;
}

AppTargetProbe *app_target_probe(AppQemu *q, const char *cache_dir, bool built,
                                 GError **errp)
{
    const char *version = app_qemu_version(q, errp);
    g_autofree char *key = version ? cache_key(q, version, errp) : NULL;
    g_autofree char *dir = NULL, *path = NULL, *text = NULL;
    g_autoptr(AppTargetProbe) p = g_new0(AppTargetProbe, 1);
    g_autofree char *short_version = NULL;
    const char *how = "cached";

    if (!key || !can_profile(q, version, errp)) {
        return NULL;
    }
    dir = cache_dir ? g_strdup(cache_dir)
                    : g_build_filename(g_get_user_cache_dir(), "qsnapfix",
                                       "targets", NULL);
    path = g_strdup_printf("%s/%s-v%d.facts", dir, key, FACTS_LAYOUT);
    if (g_file_get_contents(path, &text, NULL, NULL)) {
        p->facts = facts_parse(text);
    }
    if (!p->facts) {
        how = "measured";
        p->facts = measure_all(q, version, errp);
        if (!p->facts) {
            g_prefix_error(errp, "profiling %s: ", app_qemu_program(q));
            return NULL;
        }
        g_free(text);
        text = facts_text(facts_view(p->facts, "measured"));
        if (g_mkdir_with_parents(dir, 0755) < 0 ||
            !g_file_set_contents(path, text, -1, NULL)) {
            how = "measured, not cached";
        }
    }
    short_version = app_qemu_version_short(version);
    g_autofree char *name = g_strdup_printf("qemu-%s", short_version);
    const TrTargetFacts *f = facts_view(p->facts, name);
    const TrTargetFacts *const shipped[] = {&tr_facts_qemu72, &tr_facts_qemu10};
    for (guint i = 0; !built && i < G_N_ELEMENTS(shipped); i++) {
        if (same_facts(f, shipped[i])) {
            p->target = tr_target_find(shipped[i]->name);
            p->origin = g_strdup_printf(
                "%s: the facts of QEMU %s (%s) are the shipped profile's "
                "(%s)",
                shipped[i]->name, short_version, app_qemu_program(q), how);
        }
    }
    if (!p->target) {
        p->built = tr_target_build(f, errp);
        if (!p->built) {
            return NULL;
        }
        p->target = p->built;
        p->origin = g_strdup_printf(
            "%s: a profile built from the facts of QEMU %s (%s), -M %s (%s)",
            name, short_version, app_qemu_program(q), f->machine, how);
    }
    return g_steal_pointer(&p);
}
