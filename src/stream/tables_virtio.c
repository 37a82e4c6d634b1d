/*
 * virtio devices: the common part every virtio-pci section starts with,
 * then the device part, then (QEMU >= 2.x) the "virtio/..." subsections.
 *
 * The common part depends on the PCI config inside it: MSI-X table, PBA,
 * config vector and per-queue vectors are present iff the config space has
 * an MSI-X capability, and the table size comes from that capability. Old
 * qemu-kvm wrote it old-style (register_savevm), QEMU 7.2 through a vmsd
 * pseudo-field "virtio"; the bytes are the same.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tables.h"

#include <string.h>

#define VIRTIO_QUEUE_MAX 1024
#define ELEMENT_SIZE     49168 /* raw VirtQueueElement, x86_64 host */
#define PCI_CAP_ID_MSIX  0x11

unsigned vms_pci_msix_entries(const uint8_t *config, size_t len)
{
    unsigned ptr, hops = 0;

    if (len < 0x40 || !(config[0x06] & 0x10)) {
        return 0;
    }
    ptr = config[0x34] & ~3u;
    while (ptr && ptr + 4 <= len && hops++ < 48) {
        if (config[ptr] == PCI_CAP_ID_MSIX) {
            unsigned control = config[ptr + 2] | config[ptr + 3] << 8;
            return (control & 0x7ff) + 1;
        }
        ptr = config[ptr + 1] & ~3u;
    }
    return 0;
}

/* ---- virtio/... subsections (QEMU >= 2.x) -------------------------------- */

static const VmsLayout vq_state = {
    .name = "virtqueue_state",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U64("vring.avail"),
            U64("vring.used"),
            END_FIELDS,
        },
};
static const VmsLayout packed_vq_state = {
    .name = "packed_virtqueue_state",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U16("last_avail_idx"),
            BOOL("last_avail_wrap_counter"),
            U16("used_idx"),
            BOOL("used_wrap_counter"),
            U32("inuse"),
            END_FIELDS,
        },
};
static const VmsLayout ringsize_state = {
    .name = "ringsize_state",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U32("vring.num_default"), END_FIELDS},
};
static const VmsLayout modern_queue_state = {
    .name = "virtio_pci/modern_queue_state",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U16("num"),
            UNUSED(1),
            BOOL("enabled"),
            U32_ARRAY("desc", 2),
            U32_ARRAY("avail", 2),
            U32_ARRAY("used", 2),
            END_FIELDS,
        },
};
static const VmsLayout virtio_pci_modern_state = {
    .name = "virtio_pci/modern_state",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U32("dfselect"),
            U32("gfselect"),
            U32_ARRAY("guest_features", 2),
            STRUCT_ARRAY("vqs", VIRTIO_QUEUE_MAX, modern_queue_state),
            END_FIELDS,
        },
};
static const VmsLayout virtio_pci_extra = {
    .name = "virtio_pci",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){END_FIELDS},
    .subsections = SUBSECTIONS(&virtio_pci_modern_state),
};
static const VmsLayout sub_device_endian = {
    .name = "virtio/device_endian",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U8("device_endian"), END_FIELDS},
};
static const VmsLayout sub_64bit_features = {
    .name = "virtio/64bit_features",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U64("guest_features"), END_FIELDS},
};
static const VmsLayout sub_virtqueues = {
    .name = "virtio/virtqueues",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT_ARRAY("vq", VIRTIO_QUEUE_MAX, vq_state),
            END_FIELDS,
        },
};
static const VmsLayout sub_packed = {
    .name = "virtio/packed_virtqueues",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT_ARRAY("vq", VIRTIO_QUEUE_MAX, packed_vq_state),
            END_FIELDS,
        },
};
static const VmsLayout sub_ringsize = {
    .name = "virtio/ringsize",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT_ARRAY("vq", VIRTIO_QUEUE_MAX, ringsize_state),
            END_FIELDS,
        },
};
static const VmsLayout sub_broken = {
    .name = "virtio/broken",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){BOOL("broken"), END_FIELDS},
};
static const VmsLayout sub_extra_state = {
    .name = "virtio/extra_state",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            STRUCT("extra_state", virtio_pci_extra),
            END_FIELDS,
        },
};
static const VmsLayout sub_started = {
    .name = "virtio/started",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){BOOL("started"), END_FIELDS},
};
static const VmsLayout sub_disabled = {
    .name = "virtio/disabled",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){BOOL("disabled"), END_FIELDS},
};
static const VmsLayout virtio_subsections = {
    .name = "virtio",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){END_FIELDS},
    .subsections =
        SUBSECTIONS(&sub_device_endian, &sub_64bit_features, &sub_virtqueues,
                    &sub_packed, &sub_ringsize, &sub_broken, &sub_extra_state,
                    &sub_started, &sub_disabled),
};

/* ---- the common part ----------------------------------------------------- */

static bool walk_queue(VmsWalk *w, unsigned i, bool msix, GError **errp)
{
    char name[48];
    bool ok;

    g_snprintf(name, sizeof(name), "vq[%u].num", i);
    ok = vms_walk_int(w, name, 4, false, NULL, errp);
    g_snprintf(name, sizeof(name), "vq[%u].pa", i);
    ok = ok && vms_walk_int(w, name, 8, false, NULL, errp);
    g_snprintf(name, sizeof(name), "vq[%u].last_avail_idx", i);
    ok = ok && vms_walk_int(w, name, 2, false, NULL, errp);
    if (ok && msix) {
        g_snprintf(name, sizeof(name), "vq[%u].vector", i);
        ok = vms_walk_int(w, name, 2, false, NULL, errp);
    }
    return ok;
}

bool vms_custom_virtio(VmsWalk *w, const VmsField *f, GError **errp)
{
    const VirtioDevicePart *part = f->arg;
    uint8_t config[256];
    uint64_t config_len, nqueues;
    unsigned msix;

    /* virtio_pci_save_config: PCIDevice, MSI-X state, config vector. */
    if (!vms_walk_int(w, "pci.version_id", 4, true, NULL, errp) ||
        !vms_walk_buffer(w, "pci.config", 256, config, errp) ||
        !vms_walk_buffer(w, "pci.irq_state", 16, NULL, errp)) {
        return false;
    }
    msix = vms_pci_msix_entries(config, sizeof(config));
    if (msix) {
        if (!vms_walk_buffer(w, "msix.table", msix * 16u, NULL, errp) ||
            !vms_walk_buffer(w, "msix.pba", (msix + 7u) / 8u, NULL, errp) ||
            !vms_walk_int(w, "config_vector", 2, false, NULL, errp)) {
            return false;
        }
    }
    if (!vms_walk_int(w, "status", 1, false, NULL, errp) ||
        !vms_walk_int(w, "isr", 1, false, NULL, errp) ||
        !vms_walk_int(w, "queue_sel", 2, false, NULL, errp) ||
        !vms_walk_int(w, "guest_features", 4, false, NULL, errp) ||
        !vms_walk_int(w, "config_len", 4, false, &config_len, errp)) {
        return false;
    }
    if (config_len > 4096) {
        w->r->pos -= 4;
        return vms_walk_fail(w, errp,
                             "virtio config_len %" PRIu64 " is implausible",
                             config_len);
    }
    if (!vms_walk_buffer(w, "config", config_len, NULL, errp) ||
        !vms_walk_int(w, "num_queues", 4, false, &nqueues, errp)) {
        return false;
    }
    if (nqueues > VIRTIO_QUEUE_MAX) {
        w->r->pos -= 4;
        return vms_walk_fail(w, errp, "%" PRIu64 " virtqueues (at most %u)",
                             nqueues, VIRTIO_QUEUE_MAX);
    }
    for (unsigned i = 0; i < nqueues; i++) {
        if (!walk_queue(w, i, msix != 0, errp)) {
            return false;
        }
    }

    /* The device part. */
    if (part && part->custom && !part->custom(w, f, errp)) {
        return false;
    }
    if (part && part->layout && !vms_walk_layout(w, part->layout, 0, errp)) {
        return false;
    }
    /* QEMU >= 2.x: the transport/common subsections. */
    return vms_walk_layout(w, &virtio_subsections, 1, errp);
}

/* ---- virtio-net (version 11 in every era) -------------------------------- */

static const VmsLayout net_rss = {
    .name = "virtio-net-device/rss",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            BOOL("rss_data.enabled"),
            BOOL("rss_data.redirect"),
            BOOL("rss_data.populate_hash"),
            U32("rss_data.hash_types"),
            U16("rss_data.indirections_len"),
            U16("rss_data.default_queue"),
            U8_ARRAY("rss_data.key", 40),
            U16_ARRAY("rss_data.indirections_table", 0,
                      .count_from = "rss_data.indirections_len"),
            END_FIELDS,
        },
};
static const VmsLayout net_device_subsections = {
    .name = "virtio-net-device",
    .min_version = 11,
    .max_version = 11,
    .fields = (const VmsField[]){END_FIELDS},
    .subsections = SUBSECTIONS(&net_rss),
};

#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2

static bool net_device(VmsWalk *w, const VmsField *f, GError **errp)
{
    uint64_t in_use, features = 0, nqueues = 0, curr_pairs;

    (void)f;
    vms_walk_lookup(w, "guest_features", &features);
    vms_walk_lookup(w, "num_queues", &nqueues);
    if (!vms_walk_buffer(w, "mac", 6, NULL, errp) ||
        !vms_walk_int(w, "tx_waiting", 4, false, NULL, errp) ||
        !vms_walk_int(w, "mergeable_rx_bufs", 4, false, NULL, errp) ||
        !vms_walk_int(w, "status", 2, false, NULL, errp) ||
        !vms_walk_int(w, "promisc", 1, false, NULL, errp) ||
        !vms_walk_int(w, "allmulti", 1, false, NULL, errp) ||
        !vms_walk_int(w, "mac_table.in_use", 4, false, &in_use, errp)) {
        return false;
    }
    if (in_use > 4096) {
        return vms_walk_fail(w, errp, "MAC table of %" PRIu64 " entries",
                             in_use);
    }
    if (!vms_walk_buffer(w, "mac_table.macs", in_use * 6, NULL, errp) ||
        !vms_walk_buffer(w, "vlans", 512, NULL, errp) ||
        !vms_walk_int(w, "has_vnet_hdr", 4, false, NULL, errp) ||
        !vms_walk_int(w, "mac_table.multi_overflow", 1, false, NULL, errp) ||
        !vms_walk_int(w, "mac_table.uni_overflow", 1, false, NULL, errp) ||
        !vms_walk_int(w, "alluni", 1, false, NULL, errp) ||
        !vms_walk_int(w, "nomulti", 1, false, NULL, errp) ||
        !vms_walk_int(w, "nouni", 1, false, NULL, errp) ||
        !vms_walk_int(w, "nobcast", 1, false, NULL, errp) ||
        !vms_walk_int(w, "has_ufo", 1, false, NULL, errp)) {
        return false;
    }
    /* Multiqueue (QEMU >= 1.4): 2 queues per pair plus the control queue. */
    if (nqueues > 3) {
        if (!vms_walk_int(w, "max_queue_pairs", 2, false, NULL, errp) ||
            !vms_walk_int(w, "curr_queue_pairs", 2, false, &curr_pairs, errp)) {
            return false;
        }
        for (uint64_t i = 1; i < curr_pairs && i < 512; i++) {
            if (!vms_walk_int(w, "vqs.tx_waiting", 4, false, NULL, errp)) {
                return false;
            }
        }
    }
    if ((features >> VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) & 1 &&
        !vms_walk_int(w, "curr_guest_offloads", 8, false, NULL, errp)) {
        return false;
    }
    return vms_walk_layout(w, &net_device_subsections, 11, errp);
}

static const VirtioDevicePart net_part = {.custom = net_device};
const VmsLayout vms_virtio_net = {
    .name = "virtio-net",
    .min_version = 11,
    .max_version = 11,
    .fields =
        (const VmsField[]){
            CUSTOM("virtio", vms_custom_virtio, .arg = &net_part),
            END_FIELDS,
        },
};

/* ---- virtio-blk (version 2): queued requests, then a 0 byte -------------- */

static bool blk_device(VmsWalk *w, const VmsField *f, GError **errp)
{
    uint64_t nqueues = 0;

    (void)f;
    vms_walk_lookup(w, "num_queues", &nqueues);
    for (unsigned n = 0;; n++) {
        uint64_t more;
        if (!vms_walk_int(w, "request_follows", 1, true, &more, errp)) {
            return false;
        }
        if (!more) {
            return true;
        }
        if (more != 1 || n > 1024) {
            w->r->pos--;
            return vms_walk_fail(w, errp,
                                 "request marker %d (0 or 1 "
                                 "expected)",
                                 (int)(int8_t)more);
        }
        /* QEMU >= 2.7 names the queue when there are several. */
        if (nqueues > 1 &&
            !vms_walk_int(w, "request.vq", 4, false, NULL, errp)) {
            return false;
        }
        if (!vms_walk_buffer(w, "request.elem", ELEMENT_SIZE, NULL, errp)) {
            return false;
        }
    }
}

static const VirtioDevicePart blk_part = {.custom = blk_device};
const VmsLayout vms_virtio_blk = {
    .name = "virtio-blk",
    .min_version = 2,
    .max_version = 2,
    .fields =
        (const VmsField[]){
            CUSTOM("virtio", vms_custom_virtio, .arg = &blk_part),
            END_FIELDS,
        },
};

/* ---- virtio-balloon (version 1) ------------------------------------------ */

static const VmsLayout balloon_free_page = {
    .name = "virtio-balloon-device/free-page-report",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U32("free_page_hint_cmd_id"),
            U32("free_page_hint_status"),
            END_FIELDS,
        },
};
static const VmsLayout balloon_page_poison = {
    .name = "virtio-balloon-device/page-poison",
    .min_version = 1,
    .max_version = 1,
    .fields = (const VmsField[]){U32("poison_val"), END_FIELDS},
};
static const VmsLayout balloon_device = {
    .name = "virtio-balloon-device",
    .min_version = 0,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            U32("num_pages"),
            U32("actual"),
            END_FIELDS,
        },
    .subsections = SUBSECTIONS(&balloon_free_page, &balloon_page_poison),
};
static const VirtioDevicePart balloon_part = {.layout = &balloon_device};
const VmsLayout vms_virtio_balloon = {
    .name = "virtio-balloon",
    .min_version = 1,
    .max_version = 1,
    .note = "R16: PCI class 0x0500 in qemu-kvm 0.15/1.0 (pc-1.0)",
    .fields =
        (const VmsField[]){
            CUSTOM("virtio", vms_custom_virtio, .arg = &balloon_part),
            END_FIELDS,
        },
};

/* ---- virtio-scsi (version 1): the common part only --------------------- */

/* qemu-kvm 1.1/1.2 (old-style, virtio_save alone) and QEMU 7.2/10.0 write
 * no device part; queued requests travel in the disks' sections. */
static const VirtioDevicePart scsi_part = {.layout = NULL};
const VmsLayout vms_virtio_scsi = {
    .name = "virtio-scsi",
    .min_version = 1,
    .max_version = 1,
    .fields =
        (const VmsField[]){
            CUSTOM("virtio", vms_custom_virtio, .arg = &scsi_part),
            END_FIELDS,
        },
};

/* ---- virtio-serial ("virtio-console", version 3) ------------------------- */

static bool serial_device(VmsWalk *w, const VmsField *f, GError **errp)
{
    uint64_t max_ports, nr_active;

    (void)f;
    if (w->version < 2) {
        return true;
    }
    if (!vms_walk_int(w, "config.cols", 2, false, NULL, errp) ||
        !vms_walk_int(w, "config.rows", 2, false, NULL, errp) ||
        !vms_walk_int(w, "config.max_nr_ports", 4, false, &max_ports, errp)) {
        return false;
    }
    if (max_ports > 4096) {
        return vms_walk_fail(w, errp, "%" PRIu64 " ports", max_ports);
    }
    if (!vms_walk_buffer(w, "ports_map", (max_ports + 31) / 32 * 4, NULL,
                         errp) ||
        !vms_walk_int(w, "nr_active_ports", 4, false, &nr_active, errp)) {
        return false;
    }
    if (nr_active > max_ports) {
        return vms_walk_fail(w, errp, "%" PRIu64 " active ports of %" PRIu64,
                             nr_active, max_ports);
    }
    for (uint64_t i = 0; i < nr_active; i++) {
        uint64_t popped = 0;
        if (!vms_walk_int(w, "port.id", 4, false, NULL, errp) ||
            !vms_walk_int(w, "port.guest_connected", 1, false, NULL, errp) ||
            !vms_walk_int(w, "port.host_connected", 1, false, NULL, errp)) {
            return false;
        }
        if (w->version < 3) {
            continue;
        }
        if (!vms_walk_int(w, "port.elem_popped", 4, false, &popped, errp)) {
            return false;
        }
        if (popped &&
            (!vms_walk_int(w, "port.iov_idx", 4, false, NULL, errp) ||
             !vms_walk_int(w, "port.iov_offset", 8, false, NULL, errp) ||
             !vms_walk_buffer(w, "port.elem", ELEMENT_SIZE, NULL, errp))) {
            return false;
        }
    }
    return true;
}

static const VirtioDevicePart serial_part = {.custom = serial_device};
const VmsLayout vms_virtio_serial = {
    .name = "virtio-console",
    .min_version = 1,
    .max_version = 3,
    .fields =
        (const VmsField[]){
            CUSTOM("virtio", vms_custom_virtio, .arg = &serial_part),
            END_FIELDS,
        },
};
