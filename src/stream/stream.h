/*
 * The migration stream model: a savevm / migration stream ("vmstate") from
 * qemu-kvm 0.15 to QEMU 7.2, parsed section by section with exact offsets.
 *
 * The model is data. A parse reads through a VmsSource and produces a
 * VmsStream: every record (START/PART/END/FULL sections, CONFIGURATION,
 * COMMAND, EOF, the VMDESCRIPTION trailer) with the byte offsets of each
 * header field and of its payload; the RAM block list with the offset of
 * each MEM_SIZE entry; optionally every RAM page record; a copy of every
 * device payload (small: the translator works on it without I/O) and the
 * layout table that explains it (layout.h).
 *
 * Payloads carry no length: the parser knows each device's layout from
 * tables (layout.h). A device the tables do not know is located by
 * resynchronisation (the next section header found by its structure and
 * confirmed by parsing on to EOF) and marked VMS_KIND_OPAQUE.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VMS_STREAM_H
#define VMS_STREAM_H

#include <glib.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>

#include "source.h"

G_BEGIN_DECLS

#define VMS_ERROR (vms_error_quark())
GQuark vms_error_quark(void);

typedef enum {
    VMS_ERROR_IO = 1,       /* the source could not be read */
    VMS_ERROR_TRUNCATED,    /* the stream ends inside a record */
    VMS_ERROR_NOT_A_STREAM, /* bad magic or file version */
    VMS_ERROR_BAD_RECORD,   /* malformed record header, unknown type byte */
    VMS_ERROR_BAD_RAM,      /* malformed RAM section */
    VMS_ERROR_UNSUPPORTED,  /* valid, but not in a savevm stream (XBZRLE…) */
    VMS_ERROR_BAD_PAYLOAD,  /* no layout fits and resync found nothing */
    VMS_ERROR_NOT_FOUND,    /* no such section or field */
    VMS_ERROR_INVALID,      /* caller error */
} VmsErrorCode;

/* Record type bytes (QEMU_VM_*). */
typedef enum {
    VMS_EOF = 0x00,
    VMS_SECTION_START = 0x01,
    VMS_SECTION_PART = 0x02,
    VMS_SECTION_END = 0x03,
    VMS_SECTION_FULL = 0x04,
    VMS_SUBSECTION = 0x05,
    VMS_VMDESCRIPTION = 0x06,
    VMS_CONFIGURATION = 0x07,
    VMS_COMMAND = 0x08,
    VMS_SECTION_FOOTER = 0x7e,
} VmsRecordType;

#define VMS_FILE_MAGIC   0x5145564dU /* "QEVM" */
#define VMS_FILE_VERSION 3U
/* The file header: magic and version, be32 each. */
#define VMS_FILE_HEADER_LEN 8

/* RAM page record flags (low bits of the be64 addr|flags). */
enum {
    VMS_RAM_FULL = 0x01, /* obsolete, never written */
    VMS_RAM_FILL = 0x02, /* "COMPRESS" (<= 2.x) / "ZERO" (7.2): 1 byte */
    VMS_RAM_MEM_SIZE = 0x04,
    VMS_RAM_PAGE = 0x08,
    VMS_RAM_EOS = 0x10,
    VMS_RAM_CONTINUE = 0x20,
    VMS_RAM_XBZRLE = 0x40,
    VMS_RAM_HOOK = 0x80,
    VMS_RAM_COMPRESS_PAGE = 0x100,
};
#define VMS_PAGE_SIZE 4096U

typedef enum {
    VMS_KIND_DEVICE,        /* payload explained by a layout table */
    VMS_KIND_RAM,           /* live section "ram" */
    VMS_KIND_BLOCK,         /* live section "block" (block migration) */
    VMS_KIND_OPAQUE,        /* not understood; located by resync */
    VMS_KIND_CONFIGURATION, /* QEMU_VM_CONFIGURATION (machine type) */
    VMS_KIND_COMMAND,       /* QEMU_VM_COMMAND */
} VmsSectionKind;

typedef struct VmsLayout VmsLayout; /* layout.h */

/* A subsection inside a device payload (any depth), in stream order. */
typedef struct VmsSubsection {
    char *name;      /* e.g. "cpu/async_pv_eoi_msr" */
    uint64_t offset; /* the 0x05 byte */
    uint32_t version;
    uint64_t version_offset; /* its be32 version */
    uint64_t payload_offset;
    uint64_t payload_len;
} VmsSubsection;

/* What a live "ram" section (START/PART/END) carries. */
typedef struct VmsRamSection {
    bool has_mem_size;
    uint64_t mem_size_offset; /* the be64 total|MEM_SIZE */
    uint64_t mem_size_total;
    uint64_t mem_size_end; /* one past the last block entry */
    guint first_page;      /* index into VmsStream.pages (if recorded) */
    guint n_pages;         /* page records in this section */
    uint64_t full_pages;
    uint64_t fill_pages;
    bool has_eos;
    uint64_t eos_offset; /* the be64 EOS */
    uint64_t eos_word;   /* as written: loaders ignore its address bits */
} VmsRamSection;

typedef struct VmsSection {
    VmsRecordType type; /* START, PART, END, FULL, CONFIGURATION, COMMAND */
    VmsSectionKind kind;
    guint index;     /* position in VmsStream.sections */
    uint64_t offset; /* the type byte */
    uint64_t end;    /* one past the last byte, footer included */

    uint32_t section_id;
    uint64_t section_id_offset; /* be32 (0 for CONFIGURATION/COMMAND) */
    /*
     * START/FULL: from the header. PART/END: the idstr, instance and
     * version of the START with the same section id (the *_offset fields
     * stay 0: those bytes are not in a PART/END header).
     */
    char *idstr;
    uint64_t idstr_offset; /* the length byte; the idstr bytes follow */
    uint32_t instance_id;
    uint64_t instance_offset;
    uint32_t version_id;
    uint64_t version_offset;

    uint64_t payload_offset;
    uint64_t payload_len;
    bool has_footer;
    uint64_t footer_offset; /* 0x7e + be32 section id */

    /* Device, opaque, configuration and command records: the payload. */
    GBytes *payload;
    const VmsLayout *layout; /* the table that parsed it; NULL if opaque */
    GArray *subsections;     /* VmsSubsection */
    bool located_by_resync;  /* the end of this section was found by resync */

    guint start_index; /* PART/END: index of the START section */
    VmsRamSection ram; /* kind == VMS_KIND_RAM */
    uint16_t command;  /* kind == VMS_KIND_COMMAND */
} VmsSection;

typedef struct VmsRamBlock {
    char *id;
    uint64_t length;
    uint64_t entry_offset;  /* its idstr length byte in the MEM_SIZE list */
    uint64_t length_offset; /* its be64 length */
    uint64_t full_pages;
    uint64_t fill_pages;
    uint64_t fill_by_byte[256]; /* fill pages per fill byte value */
    bool has_pages;
    uint64_t highest_page; /* offset in the block of the highest page seen */
} VmsRamBlock;

/* One RAM page record (kept with VMS_PARSE_RECORD_PAGES). */
typedef struct VmsPage {
    uint64_t offset; /* the be64 addr|flags */
    uint64_t addr;   /* page offset within its block */
    uint32_t block;  /* index into VmsStream.ram_blocks */
    uint16_t flags;  /* as written: PAGE or FILL, maybe CONTINUE */
    uint8_t fill;    /* FILL: the byte */
} VmsPage;

typedef struct VmsStream {
    char *name;
    uint64_t size; /* bytes in the source */
    uint32_t file_version;
    GPtrArray *sections;      /* VmsSection *, stream order */
    GArray *ram_blocks;       /* VmsRamBlock, MEM_SIZE list order */
    GArray *pages;            /* VmsPage, or NULL when not recorded */
    bool has_footers;         /* SECTION_FOOTER after every section */
    bool first_page_in_start; /* the START "ram" carries pages (<= 1.1) */
    bool has_eof;
    uint64_t eof_offset;
    bool has_vmdesc;
    uint64_t vmdesc_offset; /* the 0x06 byte; be32 length follows */
    uint32_t vmdesc_len;
    char *vmdesc_json; /* NUL-terminated copy */
    GBytes *trailer;   /* bytes after EOF/vmdesc, kept as they are */
    uint64_t trailer_offset;

    /* How it was parsed. */
    bool tail_path; /* RAM pages between these were not walked */
    uint64_t skipped_from;
    uint64_t skipped_to;
    guint n_resynced; /* sections located by resync */
} VmsStream;

typedef struct VmsLayoutSet VmsLayoutSet; /* layout.h */

typedef enum {
    VMS_PARSE_RECORD_PAGES = 1 << 0, /* keep every page record */
    VMS_PARSE_NO_RESYNC = 1 << 1,    /* unknown device: fail, do not resync */
    VMS_PARSE_TAIL = 1 << 2,         /* device sections from the tail */
    VMS_PARSE_TAIL_ONLY = 1 << 3,    /* with TAIL: fail instead of falling
                                        back to the full walk (tests) */
} VmsParseFlags;

typedef struct VmsParseOptions {
    VmsParseFlags flags;
    const VmsLayoutSet *layouts; /* NULL: the built-in tables */
} VmsParseOptions;

/*
 * Parse a whole stream. Errors name the stream, the offset and the
 * section ("qk10.mig: offset 0x3dd8a1: section 18 'i8254' (FULL at
 * 0x3dd87a): ..."), in the VMS_ERROR domain.
 */
VmsStream *vms_stream_parse(VmsSource *src, const VmsParseOptions *opts,
                            GError **errp);
void vms_stream_free(VmsStream *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmsStream, vms_stream_free)

static inline VmsSection *vms_stream_section(const VmsStream *s, guint i)
{
    return g_ptr_array_index(s->sections, i);
}
static inline VmsRamBlock *vms_stream_block(const VmsStream *s, guint i)
{
    return &g_array_index(s->ram_blocks, VmsRamBlock, i);
}

/* First section with this idstr (and instance, unless instance < 0). */
VmsSection *vms_stream_find_section(const VmsStream *s, const char *idstr,
                                    int64_t instance);
/* The vmsd name of a section: the idstr after its last '/'. */
const char *vms_section_vmsd_name(const VmsSection *sec);
const char *vms_record_type_name(VmsRecordType type);
/*
 * The machine type a CONFIGURATION record names: *len bytes at the result
 * (not NUL-terminated), or NULL for any other record.
 */
const char *vms_section_machine(const VmsSection *sec, uint32_t *len);
/* The machine type the stream's CONFIGURATION record names (NULL: no
 * record, or an empty name). */
char *vms_stream_machine(const VmsStream *s);
/* Index of a RAM block by id, or -1. */
int vms_stream_find_block(const VmsStream *s, const char *id);
/* Does any page record of the block lie at or beyond offset? */
bool vms_ram_block_has_page_at_or_beyond(const VmsRamBlock *b, uint64_t offset);
/*
 * The record that sets a page (the last one for it), or NULL; needs
 * VMS_PARSE_RECORD_PAGES. E.g. the first page of a ROM block, to read a
 * header that lives in guest memory.
 */
const VmsPage *vms_stream_find_page(const VmsStream *s, guint block,
                                    uint64_t addr);
/* Where a page record's data (4096 bytes or the fill byte) starts. */
uint64_t vms_page_data_offset(const VmsStream *s, const VmsPage *p);
/* Bytes of a page record, header included. */
uint64_t vms_page_record_len(const VmsStream *s, const VmsPage *p);

G_END_DECLS

#endif
