/*
 * The built-in layout tables (internal): one VmsLayout per vmstate, per
 * version range and writer variant. tables_registry.c lists them.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VMS_TABLES_H
#define VMS_TABLES_H

#include "layout_internal.h"

/* Shared structs */
extern const VmsLayout vms_pci_device;  /* PCIDevice: 276 bytes */
extern const VmsLayout vms_pcie_device; /* PCIe: 4116 bytes */
extern const VmsLayout vms_usb_device;  /* USBDevice: 29 bytes */
extern const VmsLayout vms_ide_bus;
extern const VmsLayout vms_ide_drive;
extern const VmsLayout vms_pmsmb;
extern const VmsLayout vms_vga_common;

/* Custom walkers shared between tables */
bool vms_custom_fit_array(VmsWalk *w, const VmsField *f, GError **errp);
bool vms_custom_virtio(VmsWalk *w, const VmsField *f, GError **errp);

/* What VF_CUSTOM "virtio" needs to know about the device part. */
typedef struct VirtioDevicePart {
    const VmsLayout *layout; /* device fields (+ subsections), or NULL */
    VmsCustomFn custom;      /* or a walker */
} VirtioDevicePart;

#endif
