/*
 * libvirt's save image ("virsh save", "virsh managedsave", and what
 * libvirt-guests writes for every running domain when the host shuts
 * down): the container around a migration stream. Facts from libvirt's
 * own reader and writers (src/qemu/qemu_saveimage.c today, qemu_driver.c
 * in 0.6-1.x); docs/savefile.md has the details and the history.
 *
 *   offset 0    magic, 16 bytes: "LibvirtQemudSave" (complete) or
 *               "LibvirtQemudPart" (libvirt >= 0.9.5 writes this first and
 *               the real magic only once the stream is complete; libvirt
 *               refuses such a file: "save image is incomplete")
 *   offset 16   version (1 or 2), data_len, was_running, format,
 *               cookie_offset, 14 unused words: 32-bit, in the byte order
 *               of the host that wrote it (a reader that finds a version
 *               above 2 swaps them, as libvirt does)
 *   offset 92   data_len bytes: the domain XML and its NUL; from
 *               cookie_offset (if not 0) the save cookie (libvirt >= 3.2:
 *               <cookie><cpu>...</cpu></cookie>) and its NUL; NUL padding
 *   92+data_len the migration stream, piped through `PROG -dc` when the
 *               version is 2 and the format names a program (version 1
 *               had no format field: its streams are raw)
 *
 * The module parses and builds those bytes; it does no I/O and runs no
 * program (the caller reads the file, decompresses the stream and writes
 * the new file).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef LVSAVE_H
#define LVSAVE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

#define LVSAVE_ERROR (lvsave_error_quark())
GQuark lvsave_error_quark(void);

typedef enum {
    LVSAVE_ERROR_NOT_SAVE_IMAGE = 1, /* no libvirt magic */
    LVSAVE_ERROR_PARTIAL,            /* "LibvirtQemudPart": never finished */
    LVSAVE_ERROR_UNSUPPORTED,        /* version or format we cannot read */
    LVSAVE_ERROR_BAD_HEADER,         /* inconsistent lengths, no NUL, ... */
    LVSAVE_ERROR_TRUNCATED,          /* the file ends inside header/XML */
    LVSAVE_ERROR_TOO_LARGE,          /* XML would not fit (building) */
} LvSaveErrorCode;

#define LVSAVE_HEADER_SIZE   92
#define LVSAVE_MAGIC_LEN     16
#define LVSAVE_MAGIC         "LibvirtQemudSave"
#define LVSAVE_MAGIC_PARTIAL "LibvirtQemudPart"
#define LVSAVE_VERSION_MAX   2
/* The most header data (XML, cookie, padding) accepted: libvirt's own
 * domain XMLs are a few KiB; this only stops absurd lengths. */
#define LVSAVE_DATA_MAX ((uint32_t)16 << 20)

/* The compression format field (libvirt's enum, an on-disk value). */
typedef enum {
    LVSAVE_FORMAT_RAW = 0,
    LVSAVE_FORMAT_GZIP = 1,
    LVSAVE_FORMAT_BZIP2 = 2,
    LVSAVE_FORMAT_XZ = 3,
    LVSAVE_FORMAT_LZOP = 4,
    LVSAVE_FORMAT_ZSTD = 5,   /* libvirt >= 10.x */
    LVSAVE_FORMAT_SPARSE = 6, /* libvirt >= 11.x: QEMU's "mapped-ram" */
    LVSAVE_FORMAT_COUNT
} LvSaveFormat;

typedef struct LvSaveHeader {
    bool partial;    /* "LibvirtQemudPart" (only from lvsave_probe_header) */
    bool big_endian; /* the fields were written big-endian */
    uint32_t version;
    uint32_t data_len;
    uint32_t was_running; /* resume the guest after the restore */
    uint32_t format;      /* LvSaveFormat; 0 in version 1 */
    uint32_t cookie_offset;
    uint32_t unused[14]; /* kept as they are when the file is rewritten */
} LvSaveHeader;

typedef struct LvSaveImage {
    LvSaveHeader header;
    char *xml;    /* the domain XML */
    char *cookie; /* the save cookie, or NULL */
} LvSaveImage;

/* What the first bytes of a file are (for recognising files by magic). */
typedef enum {
    LVSAVE_PROBE_NONE,     /* not a libvirt save image */
    LVSAVE_PROBE_COMPLETE, /* "LibvirtQemudSave" */
    LVSAVE_PROBE_PARTIAL,  /* "LibvirtQemudPart" */
} LvSaveProbe;

LvSaveProbe lvsave_probe(const void *buf, size_t len);

/*
 * The 92-byte header: the magic (a partial image is an error), version 1
 * or 2 in either byte order, a known format, 0 < data_len <=
 * LVSAVE_DATA_MAX, cookie_offset inside data_len.
 */
bool lvsave_header_parse(const void *buf, size_t len, LvSaveHeader *h,
                         GError **errp);

/* Where the migration stream starts: LVSAVE_HEADER_SIZE + data_len. */
uint64_t lvsave_stream_offset(const LvSaveHeader *h);

/*
 * The data area (h->data_len bytes at offset 92): the XML up to its NUL
 * (before cookie_offset), the cookie. Anything else is NUL padding as
 * libvirt writes it; other bytes there are tolerated (libvirt ignores
 * them too) but counted in *stray_bytes when it is not NULL.
 */
LvSaveImage *lvsave_image_parse(const LvSaveHeader *h, const void *data,
                                size_t len, size_t *stray_bytes, GError **errp);
void lvsave_image_free(LvSaveImage *img);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LvSaveImage, lvsave_image_free)

/* Header and data area from one buffer (at least the stream offset). */
LvSaveImage *lvsave_parse(const void *buf, size_t len, GError **errp);

/* "raw", "gzip", ... or NULL for an unknown value. */
const char *lvsave_format_name(uint32_t format);
/* The format a file's stream really has: raw for version 1. */
LvSaveFormat lvsave_stream_format(const LvSaveHeader *h);
/*
 * The program that decompresses (args "-dc") and compresses (args "-c")
 * a stream of this format, as libvirt runs it; NULL for raw (and sparse,
 * which is not a stream: lvsave_header_parse refuses it).
 */
const char *lvsave_format_program(LvSaveFormat format);

/*
 * How much room the new header leaves for the XML (the stream follows):
 *   KEEP     the image's own data_len (the stream offset does not move);
 *            TOO_LARGE when the XML and cookie do not fit;
 *   COMPACT  no padding (libvirt 0.7-0.8);
 *   ALIGNED  1024 bytes, then up to the next 4 KiB file offset (libvirt
 *            0.9.x-1.x: the stream starts 4 KiB-aligned);
 *   ROOMY    64 KiB (libvirt >= 1.x, today's);
 *   PRESERVE KEEP when it fits, else the image's own style (ALIGNED if its
 *            stream started 4 KiB-aligned, ROOMY otherwise).
 */
typedef enum {
    LVSAVE_LAYOUT_KEEP,
    LVSAVE_LAYOUT_COMPACT,
    LVSAVE_LAYOUT_ALIGNED,
    LVSAVE_LAYOUT_ROOMY,
    LVSAVE_LAYOUT_PRESERVE,
} LvSaveLayout;

/*
 * Header and data area of img (complete magic, img's byte order, version
 * and other fields as they are, data_len and cookie_offset from the
 * layout): the bytes before the stream. The stream the caller appends
 * must be in lvsave_stream_format() of that header (version 1: raw,
 * whatever its format word holds).
 */
GBytes *lvsave_build(const LvSaveImage *img, LvSaveLayout layout,
                     GError **errp);

G_END_DECLS

#endif
