/*
 * Compressed clusters: raw deflate (window bits 12, as QEMU writes it) and
 * zstd frames without a length prefix. The stored length is only known to
 * 512-byte granularity, so decoding stops once one cluster is produced and
 * trailing bytes are ignored.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "qcow2-internal.h"

static bool inflate_raw(const uint8_t *in, size_t in_len, uint8_t *out,
                        size_t out_len)
{
    z_stream z;
    int ret;
    bool ok;

    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, -12) != Z_OK) {
        return false;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)in_len;
    z.next_out = out;
    z.avail_out = (uInt)out_len;
    ret = inflate(&z, Z_FINISH);
    /* Z_BUF_ERROR: the input holds more than one cluster's worth. */
    ok = (ret == Z_STREAM_END || ret == Z_BUF_ERROR || ret == Z_OK) &&
         z.avail_out == 0;
    inflateEnd(&z);
    return ok;
}

static bool zstd_decode(const uint8_t *in, size_t in_len, uint8_t *out,
                        size_t out_len)
{
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    ZSTD_inBuffer input = {in, in_len, 0};
    ZSTD_outBuffer output = {out, out_len, 0};
    bool ok = true;

    if (!dctx) {
        return false;
    }
    while (output.pos < output.size) {
        size_t in_before = input.pos, out_before = output.pos;
        size_t ret = ZSTD_decompressStream(dctx, &output, &input);

        if (ZSTD_isError(ret)) {
            ok = false;
            break;
        }
        if (input.pos == in_before && output.pos == out_before) {
            ok = false; /* input exhausted before a full cluster */
            break;
        }
    }
    ZSTD_freeDCtx(dctx);
    return ok;
}

bool qcow2_read_compressed(Qcow2Image *img, const Qcow2Mapping *map,
                           uint8_t *out, GError **errp)
{
    uint64_t host = map->host_offset;
    uint64_t len = map->compressed_length;
    uint64_t file_size = img->header.file_size;
    g_autofree uint8_t *in = NULL;
    uint64_t avail;
    bool ok;

    if (host >= file_size) {
        qcow2_error(
            errp, img, QCOW2_ERROR_COMPRESSED, "compressed cluster", host,
            "data starts past the end of the file (0x%" PRIx64 " bytes)",
            file_size);
        return false;
    }
    if (!qcow2_check_no_fixed_overlap(img, host, len, QCOW2_ERROR_COMPRESSED,
                                      "compressed cluster", host, errp)) {
        return false;
    }
    /* The last compressed cluster may end inside its last sector. */
    avail = MIN(len, file_size - host);
    in = g_malloc0(len);
    if (!qcow2_pread(img, in, avail, host, errp)) {
        return false;
    }
    if (img->header.compression_type == QCOW2_COMPRESSION_ZSTD) {
        ok = zstd_decode(in, len, out, img->cluster_size);
    } else {
        ok = inflate_raw(in, len, out, img->cluster_size);
    }
    if (!ok) {
        qcow2_error(
            errp, img, QCOW2_ERROR_COMPRESSED, "compressed cluster", host,
            "%" PRIu64 " bytes of %s data do not decompress to one "
            "%" PRIu64 "-byte cluster",
            len,
            img->header.compression_type == QCOW2_COMPRESSION_ZSTD ? "zstd"
                                                                   : "deflate",
            img->cluster_size);
        return false;
    }
    return true;
}
