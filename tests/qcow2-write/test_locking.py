#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""QEMU's image locking, from both sides, with the real QEMU:
  - a running qemu-system-x86_64 makes the splice refuse (exit 6) and the
    image stays untouched (sha256, mtime); a dry run still works;
  - a qemu-io reader with -U (force-share) does not stop the splice, one
    without -U does - exactly as QEMU's own writer (qemu-img snapshot -c)
    fares against the same reader;
  - while the library holds an image for writing, a QEMU started on it
    refuses it, and so does qemu-img without -U;
  - the lock bytes the library holds are the ones a QEMU writer holds
    (read from /proc/locks), and byte 300, its own;
  - who holds an image is named: a running QEMU (its command and pid,
    found through /proc/PID/fdinfo: OFD locks show pid -1 everywhere
    else) or another qsnapfix writing it (byte 300), for fix and scan;
    two real qsnapfix processes at once, the first held while it has the
    image locked (its progress line blocks on a full pty).
"""
import fcntl
import json
import os
import shutil
import subprocess
import termios
import time

import wtlib
from wtlib import Edit, check, check_eq, fixtures, testlib

FX = fixtures.fixture("v3-reverted")
EDITS = [Edit(1000, 2, b"\x01\x02")]


def ofd_locks(path):
    """{(kind, start, end)} of the OFD locks on path's inode."""
    st = os.stat(path)
    dev = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    out = set()
    with open("/proc/locks") as f:
        for line in f:
            parts = line.split()
            if "->" in parts:
                continue  # a waiter
            if len(parts) >= 8 and parts[1] == "OFDLCK" and parts[5] == dev:
                out.add((parts[3], int(parts[6]), int(parts[7])))
    return out


def lock_bytes(locks):
    return sorted(b for _, s, e in locks for b in range(s, e + 1))


def splice(image, work, *extra):
    return wtlib.splice_cli(image, "s1", EDITS, work, *extra, ok_codes=None)


def copy_fixture(work):
    image = os.path.join(work, "image.qcow2")
    shutil.copyfile(FX.path, image)
    return image


class Holder:
    """A process that keeps the image open until stopped."""

    def __init__(self, argv, ready=None):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        if ready:
            line = self.proc.stdout.readline()
            if ready not in line:
                raise testlib.Failure(f"{argv[0]}: {line}"
                                      f"{self.proc.stderr.read()}")

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def wait_for_locks(path, want, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        locks = ofd_locks(path)
        if want <= set(lock_bytes(locks)):
            return locks
        time.sleep(0.05)
    raise testlib.Failure(f"locks on {path}: {ofd_locks(path)}")


def test_running_qemu_makes_the_splice_refuse_and_nothing_is_written():
    work = testlib.workdir("lock-qemu")
    try:
        image = copy_fixture(work)
        os.utime(image, ns=(10**18, 10**18))
        before = testlib.file_fingerprint(image)
        mon = testlib.Monitor(["-M", "pc", "-m", "64", "-nodefaults", "-S",
                               "-drive", f"file={image},format=qcow2,if=ide"])
        try:
            qemu_locks = wait_for_locks(image, {100, 101, 201})
            rc, _, err = splice(image, work)
            check_eq(rc, 6, f"exit code while QEMU runs: {err}")
            check("in use by a running QEMU" in err and "write" in err,
                  f"message: {err}")
            check_eq(err.count("\n"), 1, "one line")
            check_eq(testlib.file_fingerprint(image), before,
                     "image untouched (sha256, mtime, size)")
            rc, dry, err = splice(image, work, "--dry-run")
            check_eq(rc, 0, f"a dry run reads only: {err}")
            check(dry["bytes-written"] > 0, "the dry run reports the plan")
            check_eq(testlib.file_fingerprint(image), before, "after dry run")
        finally:
            mon.quit()
        rc, _, err = splice(image, work)
        check_eq(rc, 0, f"after QEMU quit: {err}")
        wtlib.check_image(image)
        print(f"     QEMU held lock bytes {lock_bytes(qemu_locks)}")
    finally:
        shutil.rmtree(work)


def qemu_writer_allowed(image):
    """Would QEMU's own writer (qemu-img snapshot -c) get the image?"""
    p = testlib.run(["qemu-img", "snapshot", "-c", "probe", image],
                    ok_codes=None)
    if p.returncode == 0:
        testlib.qemu_img("snapshot", "-d", "probe", image)
    return p.returncode == 0


def test_readers_block_the_splice_exactly_when_they_block_qemu():
    for force_share in (True, False):
        work = testlib.workdir("lock-reader")
        try:
            image = copy_fixture(work)
            argv = ["qemu-io", "-r", "-f", "qcow2", image]
            if force_share:
                argv.insert(1, "-U")
            reader = Holder(argv)
            try:
                wait_for_locks(image, {100})
                qemu_ok = qemu_writer_allowed(image)
                rc, _, err = splice(image, work)
            finally:
                reader.stop()
            what = "qemu-io -U" if force_share else "qemu-io without -U"
            check_eq(qemu_ok, force_share, f"QEMU's writer next to {what}")
            check_eq(rc, 0 if qemu_ok else 6, f"splice next to {what}: {err}")
            wtlib.check_image(image)
        finally:
            shutil.rmtree(work)


def test_qemu_started_while_the_library_writes_refuses_the_image():
    work = testlib.workdir("lock-held")
    try:
        image = copy_fixture(work)
        hold = Holder([wtlib.CRASHTEST, "hold", image], ready="locked")
        try:
            ours = ofd_locks(image)
            p = testlib.run(["qemu-system-x86_64", "-M", "pc", "-m", "64",
                             "-nodefaults", "-display", "none", "-accel",
                             "tcg", "-S", "-drive",
                             f"file={image},format=qcow2,if=ide"],
                            ok_codes=None, timeout=120)
            check(p.returncode != 0 and 'Failed to get "write" lock'
                  in p.stderr, f"QEMU started anyway: {p.returncode} "
                               f"{p.stderr}")
            p = testlib.run(["qemu-img", "info", image], ok_codes=None)
            check(p.returncode != 0 and "lock" in p.stderr,
                  f"qemu-img info without -U: {p.stderr}")
            testlib.run(["qemu-img", "info", "-U", image])
            rc, _, err = splice(image, work)
            check_eq(rc, 6, f"a second writer: {err}")
            check(f"in use by another qsnapfix writing it (lock byte 300, "
                  f"by qcow2-crashtest pid {hold.proc.pid})" in err, err)
        finally:
            hold.stop()
        check_eq(ofd_locks(image), set(), "locks released on close")
        testlib.run(["qemu-img", "info", image])
        # The bytes a QEMU writer holds (section 7 of qcow2-reference.md),
        # and the library's own, which QEMU never uses.
        check_eq(lock_bytes(ours), [100, 101, 103, 201, 203, 300],
                 "lock bytes the library holds")
        check_eq({k for k, _, _ in ours}, {"READ"}, "shared locks only")
    finally:
        shutil.rmtree(work)


def scan_holder(image):
    p = testlib.run([testlib.BIN, "scan", "--output=json", image],
                    ok_codes=(0, 17, 4))
    im = json.loads(p.stdout)["images"][0]
    return im["in-use"], im["lock-holder"], im["fix-blocked"]


def test_a_running_qemu_is_named_with_its_pid():
    work = testlib.workdir("lock-who-qemu")
    try:
        image = copy_fixture(work)
        mon = testlib.Monitor(["-M", "pc", "-m", "64", "-nodefaults", "-S",
                               "-drive", f"file={image},format=qcow2,if=ide"])
        try:
            wait_for_locks(image, {100, 101, 201})
            pid = mon.proc.pid
            p = testlib.run([testlib.BIN, "fix", "--all", image],
                            ok_codes=(6,))
            check("in use by a running QEMU" in p.stderr and
                  f"by qemu-system-x86 pid {pid})" in p.stderr, p.stderr)
            in_use, holder, blocked = scan_holder(image)
            check_eq((in_use, holder), (True, {"program": "qemu", "processes": [
                {"pid": pid, "command": "qemu-system-x86"}]}), "scan")
            check(f"pid {pid}" in blocked["message"], blocked["message"])
        finally:
            mon.quit()
        check_eq(scan_holder(image)[:2], (False, None), "after QEMU quit")
    finally:
        shutil.rmtree(work)


def held_on_a_full_pty(argv):
    """Start argv with stderr on a pty whose buffer is full: its first
    progress line blocks it (after it opened and locked the image) until
    release() reads the pty."""
    master, slave = os.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[3] &= ~(termios.ECHO | termios.ICANON)
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    flags = fcntl.fcntl(slave, fcntl.F_GETFL)
    fcntl.fcntl(slave, fcntl.F_SETFL, flags | os.O_NONBLOCK)
    # To the last byte, again after the kernel moved what it could on to
    # the reading side (it does so in the background): full when two
    # rounds in a row take nothing more.
    idle = 0
    while idle < 2:
        wrote = 0
        for chunk in (4096, 1):
            try:
                while True:
                    wrote += os.write(slave, b"." * chunk)
            except BlockingIOError:
                pass
        idle = idle + 1 if not wrote else 0
        time.sleep(0.05)
    fcntl.fcntl(slave, fcntl.F_SETFL, flags)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)

    def release():
        fcntl.fcntl(master, fcntl.F_SETFL, os.O_NONBLOCK)
        end = time.time() + 120
        while proc.poll() is None and time.time() < end:
            try:
                os.read(master, 65536)
            except BlockingIOError:
                time.sleep(0.01)
            except OSError:
                break
        rc = proc.wait(timeout=60)
        os.close(master)
        return rc
    return proc, release


def test_two_qsnapfix_at_once_the_second_names_the_first():
    work = testlib.workdir("lock-who-qsnapfix")
    try:
        image = copy_fixture(work)
        first, release = held_on_a_full_pty(
            [testlib.BIN, "fix", "--all", image])
        try:
            wait_for_locks(image, {101, 201, 300})
            p = testlib.run([testlib.BIN, "fix", "--all", image],
                            ok_codes=(6,))
            check(f"in use by another qsnapfix writing it (lock byte 300, "
                  f"by qsnapfix pid {first.pid}); wait for it to finish"
                  in p.stderr, p.stderr)
            check("QEMU" not in p.stderr, p.stderr)
            in_use, holder, blocked = scan_holder(image)
            check_eq((in_use, holder), (True, {
                "program": "qsnapfix",
                "processes": [{"pid": first.pid, "command": "qsnapfix"}]}),
                "scan")
            check("another qsnapfix" in blocked["message"], blocked)
            human = testlib.run([testlib.BIN, "scan", image],
                                ok_codes=None).stdout
            check("IN USE by qsnapfix" in human, human)
            check("0 in use by a running QEMU, 1 being fixed by another "
                  "qsnapfix" in human, human)
        finally:
            rc = release()
        check_eq(rc, 0, "the first fix went on and finished")
        check_eq(ofd_locks(image), set(), "locks released")
        wtlib.check_image(image)
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    testlib.main([
        test_running_qemu_makes_the_splice_refuse_and_nothing_is_written,
        test_readers_block_the_splice_exactly_when_they_block_qemu,
        test_qemu_started_while_the_library_writes_refuses_the_image,
        test_a_running_qemu_is_named_with_its_pid,
        test_two_qsnapfix_at_once_the_second_names_the_first,
    ])
