/*
 * Byte order, once for the whole program (stream, translate, commands):
 * the migration stream is big-endian; a few device payloads and guest
 * memory structures (the PCI config's version word, the qxl ROM header)
 * are little-endian. Writing goes through the stream builder (writer.h),
 * which uses these too; qcow2/ is a library of its own and keeps its own.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VMS_BYTES_H
#define VMS_BYTES_H

#include <stdint.h>

static inline uint16_t vms_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t vms_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static inline uint64_t vms_be64(const uint8_t *p)
{
    return (uint64_t)vms_be32(p) << 32 | vms_be32(p + 4);
}

static inline uint32_t vms_le32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline void vms_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void vms_put_be32(uint8_t *p, uint32_t v)
{
    vms_put_be16(p, (uint16_t)(v >> 16));
    vms_put_be16(p + 2, (uint16_t)v);
}

static inline void vms_put_be64(uint8_t *p, uint64_t v)
{
    vms_put_be32(p, (uint32_t)(v >> 32));
    vms_put_be32(p + 4, (uint32_t)v);
}

static inline void vms_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

#endif
