/*
 * QEMU's image locks as the library sees them from outside: what
 * qcow2_probe_locks() reports while other open file descriptions hold lock
 * bytes (the library's own writer, a qemu-img -U reader, a QEMU that
 * refuses to share write), that it takes nothing itself, and that
 * qcow2_locks_conflict_with_writer() agrees with what a writable open then
 * actually gets. (A running QEMU: tests/scan, the in-use image.)
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "qcow2.h"

/* bits: 0 consistent read, 1 write, 3 resize */
#define WRITER_HOLDS   0xbu
#define WRITER_REFUSES 0xau

typedef struct LockFile {
    char *path;
} LockFile;

static void lock_file_init(LockFile *f)
{
    g_autoptr(GError) err = NULL;
    char zeros[1024] = {0};
    int fd = g_file_open_tmp("qsnapfix-locks-XXXXXX", &f->path, &err);

    g_assert_no_error(err);
    g_assert_cmpint(write(fd, zeros, sizeof(zeros)), ==, sizeof(zeros));
    close(fd);
}

static void lock_file_clear(LockFile *f)
{
    unlink(f->path);
    g_free(f->path);
}

static Qcow2LockProbe probe(const char *path)
{
    g_autoptr(GError) err = NULL;
    Qcow2LockProbe p;

    g_assert_true(qcow2_probe_locks(path, &p, &err));
    g_assert_no_error(err);
    return p;
}

/* A descriptor of its own holding a read lock on byte, as QEMU takes. */
static int hold_byte(const char *path, off_t byte)
{
    struct flock fl = {
        .l_type = F_RDLCK,
        .l_whence = SEEK_SET,
        .l_start = byte,
        .l_len = 1,
    };
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(fcntl(fd, F_OFD_SETLK, &fl), ==, 0);
    return fd;
}

static bool writer_gets_locks(const char *path, GError **errp)
{
    Qcow2IO *io = qcow2_io_posix_open(path, true, errp);
    bool ok;

    g_assert_nonnull(io);
    ok = io->ops->lock(io, QCOW2_LOCK_WRITER, errp);
    qcow2_io_close(io);
    return ok;
}

static void test_probe_sees_a_writer_and_takes_nothing(void)
{
    LockFile f;
    g_autoptr(GError) err = NULL;
    Qcow2LockProbe p;

    lock_file_init(&f);
    p = probe(f.path);
    g_assert_cmphex(p.held, ==, 0);
    g_assert_cmphex(p.denied, ==, 0);
    g_assert_false(qcow2_locks_conflict_with_writer(&p));

    Qcow2IO *w = qcow2_io_posix_open(f.path, true, &err);
    g_assert_no_error(err);
    g_assert_true(w->ops->lock(w, QCOW2_LOCK_WRITER, &err));
    g_assert_no_error(err);
    p = probe(f.path);
    g_assert_cmphex(p.held, ==, WRITER_HOLDS);     /* bytes 100 101 103 */
    g_assert_cmphex(p.denied, ==, WRITER_REFUSES); /* bytes 201 203 */
    g_assert_true(qcow2_locks_conflict_with_writer(&p));
    g_assert_false(writer_gets_locks(f.path, &err));
    g_assert_error(err, QCOW2_ERROR, QCOW2_ERROR_IN_USE);
    g_clear_error(&err);

    /* once the writer lets go, nothing is left: the probes took nothing */
    g_assert_true(w->ops->lock(w, QCOW2_LOCK_NONE, &err));
    p = probe(f.path);
    g_assert_cmphex(p.held | p.denied, ==, 0);
    g_assert_true(writer_gets_locks(f.path, &err));
    g_assert_no_error(err);
    qcow2_io_close(w);
    lock_file_clear(&f);
}

static void test_probe_judges_readers_as_a_writer_would(void)
{
    LockFile f;
    g_autoptr(GError) err = NULL;
    Qcow2LockProbe p;
    int force_share, no_write;

    lock_file_init(&f);
    /* qemu-img -U: consistent read held, everything shared */
    force_share = hold_byte(f.path, QCOW2_LOCK_PERM_BASE);
    p = probe(f.path);
    g_assert_cmphex(p.held, ==, 1u << QCOW2_PERM_CONSISTENT_READ);
    g_assert_cmphex(p.denied, ==, 0);
    g_assert_false(qcow2_locks_conflict_with_writer(&p));
    g_assert_true(writer_gets_locks(f.path, &err));
    g_assert_no_error(err);

    /* a reader that does not share write */
    no_write = hold_byte(f.path, QCOW2_LOCK_SHARED_BASE + QCOW2_PERM_WRITE);
    p = probe(f.path);
    g_assert_cmphex(p.denied, ==, 1u << QCOW2_PERM_WRITE);
    g_assert_true(qcow2_locks_conflict_with_writer(&p));
    g_assert_false(writer_gets_locks(f.path, &err));
    g_assert_error(err, QCOW2_ERROR, QCOW2_ERROR_IN_USE);
    g_assert_nonnull(strstr(err->message, "lock byte 201"));

    close(no_write);
    close(force_share);
    lock_file_clear(&f);
}

static void test_probe_of_a_missing_file_is_an_io_error(void)
{
    g_autoptr(GError) err = NULL;
    Qcow2LockProbe p;

    g_assert_false(qcow2_probe_locks("/nonexistent/image.qcow2", &p, &err));
    g_assert_error(err, QCOW2_ERROR, QCOW2_ERROR_IO);
    g_assert_nonnull(strstr(err->message, "/nonexistent/image.qcow2: "));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qcow2/locks/probe-sees-a-writer-and-takes-nothing",
                    test_probe_sees_a_writer_and_takes_nothing);
    g_test_add_func("/qcow2/locks/probe-judges-readers-as-a-writer-would",
                    test_probe_judges_readers_as_a_writer_would);
    g_test_add_func("/qcow2/locks/probe-of-a-missing-file-is-an-io-error",
                    test_probe_of_a_missing_file_is_an_io_error);
    return g_test_run();
}
