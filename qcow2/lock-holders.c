/*
 * Who holds an image's lock bytes. F_OFD_GETLK answers l_pid = -1 for
 * OFD locks, and /proc/locks lists them with pid -1 too: an OFD lock
 * belongs to an open file description, not a process. What the kernel
 * does say is which descriptor holds it: /proc/PID/fdinfo/FD lists the
 * locks of that descriptor ("lock: 1: OFDLCK ADVISORY READ -1
 * MAJ:MIN:INODE START END"). So: every descriptor of every process that
 * refers to the file (stat() through /proc/PID/fd/FD, same device and
 * inode), and of those the ones whose fdinfo shows an OFD lock on a lock
 * byte. Processes of other users are only visible to root; elsewhere
 * than Linux nothing is found.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "write-internal.h"

/* Does this fdinfo line ("lock:\t1: OFDLCK ADVISORY  READ -1
 * fe:00:1234 100 101") lock a lock byte of the file dev:ino? */
static bool locks_a_lock_byte(const char *line, dev_t dev, ino_t ino)
{
    char kind[16], file[64], want[64];
    uint64_t start, end;

    if (!g_str_has_prefix(line, "lock:") ||
        sscanf(line, "lock: %*d: %15s %*s %*s %*d %63s %" SCNu64 " %" SCNu64,
               kind, file, &start, &end) != 4 ||
        strcmp(kind, "OFDLCK")) {
        return false;
    }
    g_snprintf(want, sizeof(want), "%02x:%02x:%lu", major(dev), minor(dev),
               (unsigned long)ino);
    return !strcmp(file, want) && start <= QCOW2_LOCK_TOOL_BYTE &&
           end >= QCOW2_LOCK_PERM_BASE;
}

static bool fd_holds_lock_bytes(const char *pid, const char *fd, dev_t dev,
                                ino_t ino)
{
    g_autofree char *link = g_strdup_printf("/proc/%s/fd/%s", pid, fd);
    g_autofree char *info = NULL;
    g_auto(GStrv) lines = NULL;
    struct stat st;

    if (stat(link, &st) < 0 || st.st_dev != dev || st.st_ino != ino) {
        return false;
    }
    g_free(link);
    link = g_strdup_printf("/proc/%s/fdinfo/%s", pid, fd);
    if (!g_file_get_contents(link, &info, NULL, NULL)) {
        return false;
    }
    lines = g_strsplit(info, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (locks_a_lock_byte(lines[i], dev, ino)) {
            return true;
        }
    }
    return false;
}

static bool process_holds(const char *pid, dev_t dev, ino_t ino)
{
    g_autofree char *path = g_strdup_printf("/proc/%s/fd", pid);
    DIR *d = opendir(path);
    struct dirent *e;
    bool found = false;

    if (!d) {
        return false; /* gone, or another user's */
    }
    while (!found && (e = readdir(d))) {
        found = e->d_name[0] != '.' &&
                fd_holds_lock_bytes(pid, e->d_name, dev, ino);
    }
    closedir(d);
    return found;
}

static gint by_pid(gconstpointer a, gconstpointer b)
{
    return ((const Qcow2LockHolder *)a)->pid -
           ((const Qcow2LockHolder *)b)->pid;
}

static GArray *holders_of(dev_t dev, ino_t ino)
{
    GArray *out = g_array_new(false, true, sizeof(Qcow2LockHolder));
    DIR *proc = opendir("/proc");
    struct dirent *e;
    int self = getpid();

    while (proc && (e = readdir(proc))) {
        Qcow2LockHolder h = {0};
        g_autofree char *comm_path = NULL, *comm = NULL;

        if (!g_ascii_isdigit(e->d_name[0])) {
            continue;
        }
        h.pid = atoi(e->d_name);
        if (h.pid == self || !process_holds(e->d_name, dev, ino)) {
            continue;
        }
        comm_path = g_strdup_printf("/proc/%s/comm", e->d_name);
        if (g_file_get_contents(comm_path, &comm, NULL, NULL)) {
            g_strchomp(comm);
            g_strlcpy(h.command, comm, sizeof(h.command));
        }
        g_array_append_val(out, h);
    }
    if (proc) {
        closedir(proc);
    }
    g_array_sort(out, by_pid);
    return out;
}

GArray *qcow2_lock_holders(const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        return g_array_new(false, true, sizeof(Qcow2LockHolder));
    }
    return holders_of(st.st_dev, st.st_ino);
}

GArray *qcow2_lock_holders_fd(int fd)
{
    struct stat st;

    if (fstat(fd, &st) < 0) {
        return g_array_new(false, true, sizeof(Qcow2LockHolder));
    }
    return holders_of(st.st_dev, st.st_ino);
}

char *qcow2_lock_holders_str(const GArray *holders)
{
    GString *s;

    if (!holders || !holders->len) {
        return NULL;
    }
    s = g_string_new(NULL);
    for (guint i = 0; i < holders->len; i++) {
        const Qcow2LockHolder *h = &g_array_index(holders, Qcow2LockHolder, i);
        g_string_append_printf(s, "%s%s%spid %d", i ? ", " : "", h->command,
                               h->command[0] ? " " : "", h->pid);
    }
    return g_string_free(s, false);
}
