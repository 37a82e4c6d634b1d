/*
 * Writing streams: a builder that produces a migration stream from scratch
 * (header, sections, RAM block lists and page records, subsections, EOF,
 * VM description), and the serialiser that writes a parsed VmsStream back
 * out through it, byte for byte.
 *
 * Builder calls do not fail one by one: the first error (from the sink) is
 * kept and returned by vms_builder_finish(), like QEMU's QEMUFile.
 *
 * This is the one place that encodes stream bytes: the translator asks a
 * builder in memory for the bytes of each edit (a header field, a block
 * list, a page record's header, a footer) instead of encoding them itself.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VMS_WRITER_H
#define VMS_WRITER_H

#include "stream.h"

G_BEGIN_DECLS

typedef struct VmsBuilder VmsBuilder;

/* Where the bytes go; return false (with errp set) to stop. */
typedef bool (*VmsSinkFn)(void *opaque, const void *data, size_t len,
                          GError **errp);

VmsBuilder *vms_builder_new(VmsSinkFn sink, void *opaque);
/* Append to a byte array (small streams, tests). */
VmsBuilder *vms_builder_new_bytes(GByteArray *out);
/* Build in memory; vms_builder_free_to_bytes() hands the bytes over. */
VmsBuilder *vms_builder_new_memory(void);
/* The bytes a memory builder built; frees the builder. */
GBytes *vms_builder_free_to_bytes(VmsBuilder *b);
/* Flush; false with the first error any call met. */
bool vms_builder_finish(VmsBuilder *b, GError **errp);
void vms_builder_free(VmsBuilder *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmsBuilder, vms_builder_free)
/* Bytes produced so far (the offset of the next byte). */
uint64_t vms_builder_offset(const VmsBuilder *b);

/* ---- container ----------------------------------------------------------- */
void vms_builder_header(VmsBuilder *b);
/* QEMU_VM_CONFIGURATION with the machine type name (no subsections). */
void vms_builder_configuration(VmsBuilder *b, const char *machine);
/*
 * A section header: START and FULL carry idstr, instance and version;
 * PART and END only the section id (the other arguments are ignored).
 * The payload follows through the calls below.
 */
void vms_builder_section(VmsBuilder *b, VmsRecordType type, uint32_t section_id,
                         const char *idstr, uint32_t instance,
                         uint32_t version);
void vms_builder_footer(VmsBuilder *b, uint32_t section_id);
/* 0x05, the name, be32 version; the subsection's fields follow. */
void vms_builder_subsection(VmsBuilder *b, const char *name, uint32_t version);
void vms_builder_eof(VmsBuilder *b);
void vms_builder_vmdesc(VmsBuilder *b, const char *json, size_t len);

/* ---- payload bytes ------------------------------------------------------- */
void vms_builder_u8(VmsBuilder *b, uint8_t v);
void vms_builder_be16(VmsBuilder *b, uint16_t v);
void vms_builder_be32(VmsBuilder *b, uint32_t v);
void vms_builder_be64(VmsBuilder *b, uint64_t v);
void vms_builder_bytes(VmsBuilder *b, const void *data, size_t len);
/* A length byte and the bytes (idstrs, RAM block and subsection names). */
void vms_builder_string8(VmsBuilder *b, const char *s);
/* A be32 length and the bytes (the CONFIGURATION record's machine name). */
void vms_builder_string32(VmsBuilder *b, const char *s);

/* ---- RAM ----------------------------------------------------------------- */
typedef struct VmsBlockSpec {
    const char *id;
    uint64_t length;
} VmsBlockSpec;

/* The MEM_SIZE record: total = sum of the lengths, then each entry. */
void vms_builder_ram_mem_size(VmsBuilder *b, const VmsBlockSpec *blocks,
                              guint n);
/*
 * The header of a page record: the be64 addr|flags, then the block name
 * unless flags has VMS_RAM_CONTINUE. The data follows (4096 bytes for
 * VMS_RAM_PAGE, the fill byte for VMS_RAM_FILL).
 */
void vms_builder_ram_header(VmsBuilder *b, const char *block, uint64_t addr,
                            uint64_t flags);
/*
 * A page record with explicit flags (VMS_RAM_PAGE or VMS_RAM_FILL, maybe
 * VMS_RAM_CONTINUE): the block name is written unless CONTINUE is set.
 * data: 4096 bytes for PAGE, 1 fill byte for FILL.
 */
void vms_builder_ram_record(VmsBuilder *b, const char *block, uint64_t addr,
                            unsigned flags, const uint8_t *data);
/* The same, with CONTINUE set exactly when the block is the previous one
 * (what every QEMU writes; the state carries across sections). */
void vms_builder_ram_page(VmsBuilder *b, const char *block, uint64_t addr,
                          const uint8_t *data);
void vms_builder_ram_fill(VmsBuilder *b, const char *block, uint64_t addr,
                          uint8_t fill);
void vms_builder_ram_eos(VmsBuilder *b);
/* A "block" live section payload with no data: be64 EOS. */
void vms_builder_block_eos(VmsBuilder *b);

/* ---- serialising a parsed stream ----------------------------------------- */
/*
 * Write s again. Device payloads and the trailer come from the model; page
 * data (not kept in the model) is read from src, which must be the source
 * s was parsed from, with VMS_PARSE_RECORD_PAGES. A stream parsed by the
 * tail path cannot be written (its pages were not walked).
 */
bool vms_stream_write(const VmsStream *s, VmsSource *src, VmsBuilder *b,
                      GError **errp);

G_END_DECLS

#endif
