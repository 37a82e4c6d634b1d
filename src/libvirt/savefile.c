/*
 * libvirt's save image: parsing and building the bytes before the stream.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "savefile.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

G_DEFINE_QUARK(qsnapfix - lvsave - error - quark, lvsave_error)

/* Field offsets of the header (after the magic: 5 words, 14 unused). */
enum {
    OFF_VERSION = 16,
    OFF_DATA_LEN = 20,
    OFF_WAS_RUNNING = 24,
    OFF_FORMAT = 28,
    OFF_COOKIE = 32,
    OFF_UNUSED = 36,
    N_UNUSED = 14,
};
G_STATIC_ASSERT(OFF_UNUSED + 4 * N_UNUSED == LVSAVE_HEADER_SIZE);
G_STATIC_ASSERT(sizeof(LVSAVE_MAGIC) - 1 == LVSAVE_MAGIC_LEN);
G_STATIC_ASSERT(sizeof(LVSAVE_MAGIC_PARTIAL) - 1 == LVSAVE_MAGIC_LEN);

/* libvirt 0.9.x padded to this block size: it appended the stream with dd. */
#define ALIGNED_BLOCK ((uint64_t)4096)
#define ALIGNED_MIN   ((uint64_t)1024)
#define ROOMY_PAD     ((uint64_t)64 * 1024)

static const struct {
    const char *name;
    const char *program;
} formats[LVSAVE_FORMAT_COUNT] = {
    [LVSAVE_FORMAT_RAW] = {"raw", NULL},
    [LVSAVE_FORMAT_GZIP] = {"gzip", "gzip"},
    [LVSAVE_FORMAT_BZIP2] = {"bzip2", "bzip2"},
    [LVSAVE_FORMAT_XZ] = {"xz", "xz"},
    [LVSAVE_FORMAT_LZOP] = {"lzop", "lzop"},
    [LVSAVE_FORMAT_ZSTD] = {"zstd", "zstd"},
    [LVSAVE_FORMAT_SPARSE] = {"sparse", NULL},
};

const char *lvsave_format_name(uint32_t format)
{
    return format < LVSAVE_FORMAT_COUNT ? formats[format].name : NULL;
}

const char *lvsave_format_program(LvSaveFormat format)
{
    return (unsigned)format < LVSAVE_FORMAT_COUNT ? formats[format].program
                                                  : NULL;
}

LvSaveFormat lvsave_stream_format(const LvSaveHeader *h)
{
    return h->version < 2 ? LVSAVE_FORMAT_RAW : (LvSaveFormat)h->format;
}

LvSaveProbe lvsave_probe(const void *buf, size_t len)
{
    if (len < LVSAVE_MAGIC_LEN) {
        return LVSAVE_PROBE_NONE;
    }
    if (!memcmp(buf, LVSAVE_MAGIC, LVSAVE_MAGIC_LEN)) {
        return LVSAVE_PROBE_COMPLETE;
    }
    if (!memcmp(buf, LVSAVE_MAGIC_PARTIAL, LVSAVE_MAGIC_LEN)) {
        return LVSAVE_PROBE_PARTIAL;
    }
    return LVSAVE_PROBE_NONE;
}

static uint32_t get32(const uint8_t *p, bool big_endian)
{
    return big_endian ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                            (uint32_t)p[2] << 8 | p[3]
                      : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
                            (uint32_t)p[1] << 8 | p[0];
}

static void put32(uint8_t *p, uint32_t v, bool big_endian)
{
    for (int i = 0; i < 4; i++) {
        uint8_t byte = (uint8_t)(v >> (8 * i));
        p[big_endian ? 3 - i : i] = byte;
    }
}

static void read_fields(const uint8_t *p, bool big_endian, LvSaveHeader *h)
{
    h->big_endian = big_endian;
    h->version = get32(p + OFF_VERSION, big_endian);
    h->data_len = get32(p + OFF_DATA_LEN, big_endian);
    h->was_running = get32(p + OFF_WAS_RUNNING, big_endian);
    h->format = get32(p + OFF_FORMAT, big_endian);
    h->cookie_offset = get32(p + OFF_COOKIE, big_endian);
    for (int i = 0; i < N_UNUSED; i++) {
        h->unused[i] = get32(p + OFF_UNUSED + 4 * i, big_endian);
    }
}

static bool header_error(GError **errp, LvSaveErrorCode code, const char *fmt,
                         ...) G_GNUC_PRINTF(3, 4);

static bool header_error(GError **errp, LvSaveErrorCode code, const char *fmt,
                         ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(errp, LVSAVE_ERROR, code, msg);
    g_free(msg);
    return false;
}

bool lvsave_header_parse(const void *buf, size_t len, LvSaveHeader *h,
                         GError **errp)
{
    const uint8_t *p = buf;

    memset(h, 0, sizeof(*h));
    switch (lvsave_probe(buf, len)) {
    case LVSAVE_PROBE_NONE:
        return header_error(errp, LVSAVE_ERROR_NOT_SAVE_IMAGE,
                            "offset 0x0: no \"%s\" magic: not a libvirt "
                            "save image",
                            LVSAVE_MAGIC);
    case LVSAVE_PROBE_PARTIAL:
        h->partial = true;
        return header_error(
            errp, LVSAVE_ERROR_PARTIAL,
            "offset 0x0: magic \"%s\": libvirt never finished writing this "
            "save image (the save failed or was interrupted; libvirt "
            "refuses it too: \"save image is incomplete\")",
            LVSAVE_MAGIC_PARTIAL);
    case LVSAVE_PROBE_COMPLETE:
        break;
    }
    if (len < LVSAVE_HEADER_SIZE) {
        return header_error(errp, LVSAVE_ERROR_TRUNCATED,
                            "the file ends after %zu bytes, inside the "
                            "%d-byte libvirt save header",
                            len, LVSAVE_HEADER_SIZE);
    }
    read_fields(p, false, h);
    if (h->version > LVSAVE_VERSION_MAX) {
        /* Written on a host of the other byte order (libvirt swaps too). */
        read_fields(p, true, h);
    }
    if (h->version < 1 || h->version > LVSAVE_VERSION_MAX) {
        return header_error(errp, LVSAVE_ERROR_UNSUPPORTED,
                            "offset 0x%x: save image version %" PRIu32
                            " (libvirt writes 1 or 2)",
                            OFF_VERSION, get32(p + OFF_VERSION, false));
    }
    if (h->format >= LVSAVE_FORMAT_COUNT) {
        return header_error(errp, LVSAVE_ERROR_UNSUPPORTED,
                            "offset 0x%x: unknown compression format %" PRIu32
                            " (known: 0 raw to 6 sparse)",
                            OFF_FORMAT, h->format);
    }
    if (lvsave_stream_format(h) == LVSAVE_FORMAT_SPARSE) {
        return header_error(errp, LVSAVE_ERROR_UNSUPPORTED,
                            "offset 0x%x: format 6 (sparse): QEMU's "
                            "mapped-ram file layout (libvirt >= 10.x), not "
                            "a sequential migration stream; qsnapfix does "
                            "not read it",
                            OFF_FORMAT);
    }
    if (h->data_len == 0 || h->data_len > LVSAVE_DATA_MAX) {
        return header_error(errp, LVSAVE_ERROR_BAD_HEADER,
                            "offset 0x%x: domain XML area of %" PRIu32
                            " bytes (libvirt writes 1 to %" PRIu32 ")",
                            OFF_DATA_LEN, h->data_len, LVSAVE_DATA_MAX);
    }
    if (h->cookie_offset >= h->data_len) {
        return header_error(errp, LVSAVE_ERROR_BAD_HEADER,
                            "offset 0x%x: save cookie at %" PRIu32
                            " lies past the %" PRIu32 "-byte domain XML area",
                            OFF_COOKIE, h->cookie_offset, h->data_len);
    }
    return true;
}

uint64_t lvsave_stream_offset(const LvSaveHeader *h)
{
    return LVSAVE_HEADER_SIZE + (uint64_t)h->data_len;
}

void lvsave_image_free(LvSaveImage *img)
{
    if (!img) {
        return;
    }
    g_free(img->xml);
    g_free(img->cookie);
    g_free(img);
}

/* A NUL-terminated string at the start of [p, p + len), or NULL. */
static char *string_in(const uint8_t *p, size_t len, size_t *used)
{
    const uint8_t *nul = memchr(p, 0, len);

    if (!nul) {
        return NULL;
    }
    *used = (size_t)(nul - p) + 1;
    return g_strndup((const char *)p, (size_t)(nul - p));
}

static size_t count_nonzero(const uint8_t *p, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        n += p[i] != 0;
    }
    return n;
}

LvSaveImage *lvsave_image_parse(const LvSaveHeader *h, const void *data,
                                size_t len, size_t *stray_bytes, GError **errp)
{
    const uint8_t *p = data;
    size_t xml_area = h->cookie_offset ? h->cookie_offset : h->data_len;
    size_t xml_used = 0, cookie_used = 0, stray;
    g_autoptr(LvSaveImage) img = g_new0(LvSaveImage, 1);

    if (len < h->data_len) {
        header_error(errp, LVSAVE_ERROR_TRUNCATED,
                     "the file ends inside the domain XML area "
                     "(%zu of %" PRIu32 " bytes at offset 0x%x)",
                     len, h->data_len, LVSAVE_HEADER_SIZE);
        return NULL;
    }
    img->header = *h;
    img->xml = string_in(p, xml_area, &xml_used);
    if (!img->xml) {
        header_error(errp, LVSAVE_ERROR_BAD_HEADER,
                     "offset 0x%x: the domain XML has no terminating NUL "
                     "within its %zu bytes",
                     LVSAVE_HEADER_SIZE, xml_area);
        return NULL;
    }
    if (!img->xml[0]) {
        header_error(errp, LVSAVE_ERROR_BAD_HEADER,
                     "offset 0x%x: the domain XML is empty",
                     LVSAVE_HEADER_SIZE);
        return NULL;
    }
    stray = count_nonzero(p + xml_used, xml_area - xml_used);
    if (h->cookie_offset) {
        size_t cookie_area = h->data_len - h->cookie_offset;
        img->cookie =
            string_in(p + h->cookie_offset, cookie_area, &cookie_used);
        if (!img->cookie) {
            header_error(errp, LVSAVE_ERROR_BAD_HEADER,
                         "offset 0x%" PRIx64 ": the save cookie has no "
                         "terminating NUL within its %zu bytes",
                         (uint64_t)LVSAVE_HEADER_SIZE + h->cookie_offset,
                         cookie_area);
            return NULL;
        }
        stray += count_nonzero(p + h->cookie_offset + cookie_used,
                               cookie_area - cookie_used);
    }
    if (stray_bytes) {
        *stray_bytes = stray;
    }
    return g_steal_pointer(&img);
}

LvSaveImage *lvsave_parse(const void *buf, size_t len, GError **errp)
{
    LvSaveHeader h;

    if (!lvsave_header_parse(buf, len, &h, errp)) {
        return NULL;
    }
    return lvsave_image_parse(&h, (const uint8_t *)buf + LVSAVE_HEADER_SIZE,
                              len - LVSAVE_HEADER_SIZE, NULL, errp);
}

/* The data_len a layout gives for `used` bytes of XML and cookie. */
static bool layout_length(const LvSaveHeader *old, LvSaveLayout layout,
                          uint64_t used, uint64_t *length, GError **errp)
{
    uint64_t end;

    switch (layout) {
    case LVSAVE_LAYOUT_PRESERVE:
        if (used <= old->data_len) {
            *length = old->data_len;
            return true;
        }
        layout = lvsave_stream_offset(old) % ALIGNED_BLOCK
                     ? LVSAVE_LAYOUT_ROOMY
                     : LVSAVE_LAYOUT_ALIGNED;
        return layout_length(old, layout, used, length, errp);
    case LVSAVE_LAYOUT_KEEP:
        if (used > old->data_len) {
            return header_error(errp, LVSAVE_ERROR_TOO_LARGE,
                                "the new domain XML needs %" PRIu64
                                " bytes; the save image has room for %" PRIu32,
                                used, old->data_len);
        }
        *length = old->data_len;
        return true;
    case LVSAVE_LAYOUT_COMPACT:
        *length = used;
        break;
    case LVSAVE_LAYOUT_ALIGNED:
        end = LVSAVE_HEADER_SIZE + used + ALIGNED_MIN;
        /* libvirt adds a whole block when it is already aligned */
        *length = used + ALIGNED_MIN + (ALIGNED_BLOCK - end % ALIGNED_BLOCK);
        break;
    case LVSAVE_LAYOUT_ROOMY:
        *length = used + ROOMY_PAD;
        break;
    }
    if (*length > LVSAVE_DATA_MAX) {
        return header_error(errp, LVSAVE_ERROR_TOO_LARGE,
                            "a domain XML area of %" PRIu64
                            " bytes is more than %" PRIu32,
                            *length, LVSAVE_DATA_MAX);
    }
    return true;
}

GBytes *lvsave_build(const LvSaveImage *img, LvSaveLayout layout, GError **errp)
{
    const LvSaveHeader *h = &img->header;
    size_t xml_len = strlen(img->xml) + 1;
    size_t cookie_len = img->cookie ? strlen(img->cookie) + 1 : 0;
    uint64_t length = 0;
    uint8_t *out;

    if (h->version < 1 || h->version > LVSAVE_VERSION_MAX ||
        h->format >= LVSAVE_FORMAT_COUNT) {
        header_error(errp, LVSAVE_ERROR_UNSUPPORTED,
                     "cannot write a version %" PRIu32 " save image with "
                     "format %" PRIu32,
                     h->version, h->format);
        return NULL;
    }
    if (!layout_length(h, layout, xml_len + cookie_len, &length, errp)) {
        return NULL;
    }
    out = g_malloc0(LVSAVE_HEADER_SIZE + length);
    memcpy(out, LVSAVE_MAGIC, LVSAVE_MAGIC_LEN);
    put32(out + OFF_VERSION, h->version, h->big_endian);
    put32(out + OFF_DATA_LEN, (uint32_t)length, h->big_endian);
    put32(out + OFF_WAS_RUNNING, h->was_running, h->big_endian);
    put32(out + OFF_FORMAT, h->format, h->big_endian);
    put32(out + OFF_COOKIE, img->cookie ? (uint32_t)xml_len : 0, h->big_endian);
    for (int i = 0; i < N_UNUSED; i++) {
        put32(out + OFF_UNUSED + 4 * i, h->unused[i], h->big_endian);
    }
    memcpy(out + LVSAVE_HEADER_SIZE, img->xml, xml_len);
    if (img->cookie) {
        memcpy(out + LVSAVE_HEADER_SIZE + xml_len, img->cookie, cookie_len);
    }
    return g_bytes_new_take(out, LVSAVE_HEADER_SIZE + length);
}
