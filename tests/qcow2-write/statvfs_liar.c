/*
 * LD_PRELOAD library for tests: statvfs(2) and fstatvfs(2) report far
 * more free space than there is, as thin-provisioned or overcommitted
 * storage may. qsnapfix's prediction (preflight) then passes, and the
 * write meets the real ENOSPC of a small file system: the path where the
 * splice gives back what it took.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
/* Both names of each call are defined here: no redirection of one to the
 * other (the build's -D_FILE_OFFSET_BITS=64 would make them collide). */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <sys/statvfs.h>

#define PLENTY ((fsblkcnt_t)1 << 40)

/* Each name glibc exports (the 64-bit ones are what -D_FILE_OFFSET_BITS=64
 * programs call), forwarded, then the free counts raised. */
#define LIE(name, arg_type, buf_type)                                          \
    int name(arg_type arg, struct buf_type *buf)                               \
    {                                                                          \
        int (*real)(arg_type, struct buf_type *) =                             \
            (int (*)(arg_type, struct buf_type *))dlsym(RTLD_NEXT, #name);     \
        int rc = real(arg, buf);                                               \
                                                                               \
        if (rc == 0) {                                                         \
            buf->f_bavail = buf->f_bfree = PLENTY;                             \
        }                                                                      \
        return rc;                                                             \
    }

LIE(statvfs, const char *, statvfs)
LIE(fstatvfs, int, statvfs)
LIE(statvfs64, const char *, statvfs64)
LIE(fstatvfs64, int, statvfs64)
