/*
 * LD_PRELOAD shim for the save image crash tests: the process named
 * qsnapfix is killed (SIGKILL, as a crash or `kill -9` would) just before
 * its N-th call that changes a file: a write() to a regular file,
 * copy_file_range(), fsync(), fdatasync(), link(), rename(). N is
 * QSNAPFIX_CRASH_AT; the calls are counted from 1. Other processes (the
 * compressor qsnapfix runs) are left alone. With QSNAPFIX_CRASH_SIGNAL=2
 * the signal is SIGINT instead (a stop request the program may answer).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static long crash_at = -1;
static long calls;
static int crash_signal = SIGKILL;

static void step(void)
{
    if (crash_at < 0) {
        const char *n = getenv("QSNAPFIX_CRASH_AT");
        const char *sig = getenv("QSNAPFIX_CRASH_SIGNAL");

        if (sig) {
            crash_signal = atoi(sig);
        }
        crash_at = n && !strcmp(program_invocation_short_name, "qsnapfix")
                       ? atol(n)
                       : 0;
    }
    if (crash_at > 0 && ++calls == crash_at) {
        kill(getpid(), crash_signal);
    }
}

ssize_t write(int fd, const void *buf, size_t len)
{
    static ssize_t (*real)(int, const void *, size_t);
    struct stat st;
    int saved = errno;

    if (!real) {
        real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    }
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        step();
    }
    errno = saved;
    return real(fd, buf, len);
}

ssize_t copy_file_range(int in, loff_t *in_at, int out, loff_t *out_at,
                        size_t len, unsigned flags)
{
    static ssize_t (*real)(int, loff_t *, int, loff_t *, size_t, unsigned);

    if (!real) {
        real = (ssize_t(*)(int, loff_t *, int, loff_t *, size_t,
                           unsigned))dlsym(RTLD_NEXT, "copy_file_range");
    }
    step();
    return real(in, in_at, out, out_at, len, flags);
}

#define WRAP1(name, type)                                                      \
    int name(type a)                                                           \
    {                                                                          \
        static int (*real)(type);                                              \
        if (!real) {                                                           \
            real = (int (*)(type))dlsym(RTLD_NEXT, #name);                     \
        }                                                                      \
        step();                                                                \
        return real(a);                                                        \
    }
#define WRAP2(name)                                                            \
    int name(const char *a, const char *b)                                     \
    {                                                                          \
        static int (*real)(const char *, const char *);                        \
        if (!real) {                                                           \
            real =                                                             \
                (int (*)(const char *, const char *))dlsym(RTLD_NEXT, #name);  \
        }                                                                      \
        step();                                                                \
        return real(a, b);                                                     \
    }

WRAP1(fsync, int)
WRAP1(fdatasync, int)
WRAP2(link)
WRAP2(rename)
