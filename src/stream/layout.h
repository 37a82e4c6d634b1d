/*
 * Device payload layouts: what the bytes of a section payload mean.
 *
 * Each vmstate (by vmsd name and version range, sometimes in several
 * writer-specific variants) is described by a table (layout_internal.h);
 * one interpreter walks the tables. The same walk answers three questions:
 * how long is this payload (the parser), what does it say (inspect), and
 * where is field X (the translator).
 *
 * Walks report fields to a visitor in stream order. Paths name fields the
 * way QEMU's vmstate does where it can: "pci.config", "timers[1].period",
 * "bus[0].ifs[1].identify_data"; a subsection's fields are prefixed with
 * its name in brackets: "[cpu/async_pf_msr].async_pf_en_msr".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VMS_LAYOUT_H
#define VMS_LAYOUT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "stream.h"

G_BEGIN_DECLS

/* ---- the tables ---------------------------------------------------------- */

/* The built-in tables (every device the project knows). */
const VmsLayoutSet *vms_layouts_builtin(void);
/* A copy of set that does not know vmsd_name (tests force resync). */
VmsLayoutSet *vms_layouts_without(const VmsLayoutSet *set,
                                  const char *vmsd_name);
void vms_layouts_free(VmsLayoutSet *set);
/*
 * The layouts that may explain vmsd_name at version, best first. Returns
 * how many were stored in out (at most max).
 */
guint vms_layouts_lookup(const VmsLayoutSet *set, const char *vmsd_name,
                         uint32_t version, const VmsLayout **out, guint max);

const char *vms_layout_name(const VmsLayout *l);
/* Which writers use it: NULL (all) or e.g. "qemu-kvm", "upstream". */
const char *vms_layout_variant(const VmsLayout *l);

/* ---- walking ------------------------------------------------------------- */

typedef enum {
    VMS_FIELD_INT,       /* one integer: value */
    VMS_FIELD_INT_ARRAY, /* count integers of elem_size bytes */
    VMS_FIELD_BUFFER,    /* size opaque bytes */
    VMS_FIELD_UNUSED,    /* size bytes that carry nothing */
    VMS_FIELD_STRUCT_BEGIN,
    VMS_FIELD_STRUCT_END, /* size: the whole struct, subsections included */
    VMS_FIELD_SUBSECTION_BEGIN,
    VMS_FIELD_SUBSECTION_END,
} VmsFieldEventKind;

/* Buffers up to this size are handed to the visitor. */
#define VMS_EVENT_BYTES_MAX 4096

typedef struct VmsFieldEvent {
    VmsFieldEventKind kind;
    const char *path; /* full path */
    const char *name; /* last component */
    guint depth;      /* 0 = top level of the payload */
    uint64_t offset;  /* absolute stream offset */
    uint64_t size;    /* bytes */
    uint32_t elem_size;
    uint32_t count;
    bool is_signed;
    bool little_endian;
    uint64_t value;       /* INT (sign-extended if is_signed) */
    const uint8_t *bytes; /* INT_ARRAY/BUFFER/UNUSED when size <= MAX */
    uint32_t version;     /* SUBSECTION_BEGIN */
} VmsFieldEvent;

/* Return false to stop the walk early (not an error). */
typedef bool (*VmsFieldVisitor)(void *opaque, const VmsFieldEvent *ev);

/* Walk a parsed section's stored payload with the layout that parsed it. */
bool vms_section_walk(const VmsSection *sec, VmsFieldVisitor fn, void *opaque,
                      GError **errp);

/*
 * Walk bytes with a layout at a section version; offsets in events are
 * base + position. *consumed gets the payload length the layout implies.
 */
bool vms_layout_walk_bytes(const VmsLayout *l, uint32_t version,
                           const uint8_t *data, size_t len, uint64_t base,
                           VmsFieldVisitor fn, void *opaque, uint64_t *consumed,
                           GError **errp);

typedef struct VmsFieldLoc {
    VmsFieldEventKind kind;
    uint64_t offset;         /* absolute stream offset */
    uint64_t payload_offset; /* from the start of the payload */
    uint64_t size;
    uint64_t value; /* INT */
} VmsFieldLoc;

/* Where is the field at path in this section? NOT_FOUND if absent. */
bool vms_section_find_field(const VmsSection *sec, const char *path,
                            VmsFieldLoc *loc, GError **errp);

/*
 * MSI-X table entries announced by a PCI config space's MSI-X capability,
 * 0 if it has none (what decides virtio's layout).
 */
unsigned vms_pci_msix_entries(const uint8_t *config, size_t len);

G_END_DECLS

#endif
