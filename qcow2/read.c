/*
 * Reading guest bytes through an L1 table, and a snapshot's VM state
 * (which lives past the virtual disk end in the snapshot's own address
 * space). Contiguous host runs are read with one pread; memory use is the
 * caller's buffer plus the bounded table caches.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "qcow2-internal.h"

/* A pending read of consecutive host bytes into consecutive buffer bytes. */
typedef struct HostRun {
    Qcow2IO *io;
    uint64_t host;
    uint8_t *dst;
    size_t len;
    uint64_t guest; /* for messages */
} HostRun;

static bool io_size(Qcow2Image *img, Qcow2IO *io, uint64_t *size, GError **errp)
{
    if (io == img->io) {
        *size = img->header.file_size;
        return true;
    }
    return io->ops->get_size(io, size, errp);
}

static bool flush_run(Qcow2Image *img, HostRun *run, GError **errp)
{
    uint64_t size, avail;
    bool ok;

    if (!run->len) {
        return true;
    }
    if (!io_size(img, run->io, &size, errp)) {
        return false;
    }
    if (run->host >= size) {
        qcow2_error(
            errp, img, QCOW2_ERROR_MAPPING, "data cluster", run->host,
            "guest offset 0x%" PRIx64 " maps past the end of the %s (0x%" PRIx64
            " bytes): the image is truncated",
            run->guest, run->io == img->io ? "file" : "data file", size);
        return false;
    }
    /* QEMU reads the bytes of a cluster past the end of file as zeros. */
    avail = MIN((uint64_t)run->len, size - run->host);
    if (run->io == img->io) {
        ok = qcow2_pread(img, run->dst, avail, run->host, errp);
    } else {
        ok = run->io->ops->pread(run->io, run->dst, avail, run->host, errp);
    }
    if (ok && avail < run->len) {
        memset(run->dst + avail, 0, run->len - avail);
    }
    run->len = 0;
    return ok;
}

static bool add_piece(Qcow2Image *img, HostRun *run, Qcow2IO *io, uint64_t host,
                      uint8_t *dst, size_t len, uint64_t guest, GError **errp)
{
    if (run->len && run->io == io && run->host + run->len == host &&
        run->dst + run->len == dst) {
        run->len += len;
        return true;
    }
    if (!flush_run(img, run, errp)) {
        return false;
    }
    *run = (HostRun){
        .io = io, .host = host, .dst = dst, .len = len, .guest = guest};
    return true;
}

static bool zeros(Qcow2Image *img, HostRun *run, uint8_t *dst, size_t len,
                  GError **errp)
{
    if (!flush_run(img, run, errp)) {
        return false;
    }
    memset(dst, 0, len);
    return true;
}

static bool read_compressed_part(Qcow2Image *img, HostRun *run,
                                 const Qcow2Mapping *map, uint64_t in_cluster,
                                 uint8_t *dst, size_t len, GError **errp)
{
    if (!flush_run(img, run, errp)) {
        return false;
    }
    if (!img->zcluster) {
        img->zcluster = g_malloc(img->cluster_size);
    }
    if (img->zcluster_host != map->host_offset) {
        img->zcluster_host = 0;
        if (!qcow2_read_compressed(img, map, img->zcluster, errp)) {
            return false;
        }
        img->zcluster_host = map->host_offset;
    }
    memcpy(dst, img->zcluster + in_cluster, len);
    return true;
}

/* The subclusters of an extended-L2 cluster touched by [in, in + len). */
static bool read_subclusters(Qcow2Image *img, HostRun *run, Qcow2IO *io,
                             const Qcow2Mapping *map, uint64_t guest,
                             uint64_t in, uint8_t *dst, size_t len,
                             GError **errp)
{
    uint64_t scs = img->subcluster_size;
    uint64_t end = in + len;

    while (in < end) {
        uint32_t sc = (uint32_t)(in / scs);
        size_t n = (size_t)MIN(end, (uint64_t)(sc + 1) * scs) - in;
        bool ok;

        if (map->kind == QCOW2_MAP_NORMAL && (map->l2_bitmap >> sc) & 1) {
            ok = add_piece(img, run, io, map->host_offset + in, dst, n, guest,
                           errp);
        } else {
            ok = zeros(img, run, dst, n, errp);
        }
        if (!ok) {
            return false;
        }
        in += n;
        dst += n;
        guest += n;
    }
    return true;
}

static Qcow2IO *data_io_for(Qcow2Image *img, const Qcow2Mapping *map,
                            uint64_t guest, GError **errp)
{
    if (!map->in_data_file) {
        return img->io;
    }
    if (!img->data_io) {
        qcow2_error(errp, img, QCOW2_ERROR_IO, "data file", guest,
                    "cannot read guest data: %s",
                    img->data_io_error ? img->data_io_error
                                       : "no data file was given");
    }
    return img->data_io;
}

/* Encrypted data would need the key: refuse rather than return ciphertext. */
static bool check_not_encrypted(const Qcow2Image *img, GError **errp)
{
    if (img->header.crypt_method) {
        qcow2_error(errp, img, QCOW2_ERROR_UNSUPPORTED, "header",
                    QCOW2_HDR(crypt_method),
                    "encrypted image (method %" PRIu32
                    "): reading its data is not supported",
                    img->header.crypt_method);
        return false;
    }
    return true;
}

/*
 * Guest bytes through snap's L1 table; for a VM state read (vm_base: the
 * guest offset of its byte 0, else NO_VMSTATE) clusters that are known
 * metadata give a warning (warnings.c).
 */
#define NO_VMSTATE UINT64_MAX

static bool read_through(Qcow2Image *img, const Qcow2Snapshot *snap,
                         uint64_t offset, void *buf, size_t len,
                         uint64_t vm_base, GError **errp)
{
    uint64_t cs = img->cluster_size;
    HostRun run = {0};
    uint64_t pos = offset, end;

    if (!check_not_encrypted(img, errp)) {
        return false;
    }
    if (offset > INT64_MAX || len > INT64_MAX - offset) {
        qcow2_error(errp, img, QCOW2_ERROR_INVALID, NULL, 0,
                    "read of %zu bytes at 0x%" PRIx64 " is out of range", len,
                    offset);
        return false;
    }
    end = offset + len;
    while (pos < end) {
        uint64_t in = pos & (cs - 1);
        size_t n = (size_t)MIN(cs - in, end - pos);
        uint8_t *dst = (uint8_t *)buf + (pos - offset);
        Qcow2Mapping map;
        Qcow2IO *io;
        bool ok;

        if (!qcow2_map_cluster(img, snap, pos, &map, errp)) {
            return false;
        }
        if (vm_base != NO_VMSTATE) {
            qcow2_warn_if_metadata(img, snap, pos - vm_base, &map);
        }
        switch (map.kind) {
        case QCOW2_MAP_COMPRESSED:
            ok = read_compressed_part(img, &run, &map, in, dst, n, errp);
            break;
        case QCOW2_MAP_NORMAL:
            io = data_io_for(img, &map, pos, errp);
            if (!io) {
                return false;
            }
            if (img->header.extended_l2) {
                ok = read_subclusters(img, &run, io, &map, pos, in, dst, n,
                                      errp);
            } else {
                ok = add_piece(img, &run, io, map.host_offset + in, dst, n, pos,
                               errp);
            }
            break;
        default:
            ok = zeros(img, &run, dst, n, errp);
            break;
        }
        if (!ok) {
            return false;
        }
        pos += n;
    }
    return flush_run(img, &run, errp);
}

bool qcow2_read_guest(Qcow2Image *img, const Qcow2Snapshot *snap,
                      uint64_t offset, void *buf, size_t len, GError **errp)
{
    return read_through(img, snap, offset, buf, len, NO_VMSTATE, errp);
}

bool qcow2_read_vmstate(Qcow2Image *img, const Qcow2Snapshot *snap,
                        uint64_t offset, void *buf, size_t len, GError **errp)
{
    uint64_t base = qcow2_vmstate_base(img, snap);
    uint64_t mapped_end = (uint64_t)snap->l1_size * qcow2_l2_span(img);

    if (!qcow2_snapshot_usable(snap, errp) || !check_not_encrypted(img, errp)) {
        return false;
    }
    if (offset > snap->vm_state_size || len > snap->vm_state_size - offset) {
        qcow2_error(errp, img, QCOW2_ERROR_INVALID, NULL, 0,
                    "snapshot %s \"%s\": read of %zu bytes at %" PRIu64
                    " is past its VM state (%" PRIu64 " bytes)",
                    snap->id, snap->name, len, offset, snap->vm_state_size);
        return false;
    }
    /*
     * savevm grows the L1 table to cover the VM state before the snapshot
     * copies it, so a VM state reaching past its L1 table is a damaged
     * entry (QEMU would silently read zeros there).
     */
    if (base + snap->vm_state_size > mapped_end) {
        g_autofree char *what =
            g_strdup_printf("snapshot table entry %u", snap->index);
        qcow2_error(errp, img, QCOW2_ERROR_MAPPING, what, snap->table_offset,
                    "snapshot %s \"%s\": VM state ends at 0x%" PRIx64
                    " but its L1 table (%" PRIu32 " entries) maps only up to "
                    "0x%" PRIx64,
                    snap->id, snap->name, base + snap->vm_state_size,
                    snap->l1_size, mapped_end);
        return false;
    }
    return read_through(img, snap, base + offset, buf, len, base, errp);
}
