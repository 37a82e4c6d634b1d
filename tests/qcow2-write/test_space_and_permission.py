#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What the real fix will hit, predicted by `scan` and `fix --dry-run` and
met by `fix` without leaving anything behind: a user who may not write
where fix writes, a file system too small for the write plan, and a real
ENOSPC in the middle of the write.

The image is the project's guest saved by QEMU and reshaped like qemu-kvm
1.0 (`qsnapfix oldify`), so that fix rewrites its whole VM state (R9) and
writes a recipe file (the NIC's ROM). Run as root: the tests switch to
the nobody user (setpriv) and mount small tmpfs file systems; elsewhere
they are skipped.

  - a writable image in a root-owned directory, as nobody: scan says "fix
    blocked" with exit code 5 (the recipe file cannot be created there),
    fix --dry-run and fix exit 5; no file is created or changed; with a
    --rom-dir nobody may write, all three go through (the prediction
    names the one obstacle);
  - an image nobody may not write: the same, for the image;
  - a tmpfs with less free space than the write plan: scan and fix
    --dry-run predict 16, fix exits 16 with nothing written (the file, the
    directory, the free space as they were);
  - the same tmpfs with statvfs lying (thin-provisioned storage): the
    write meets the real ENOSPC and gives back what it took: the file
    byte-identical, qemu-img check without corruption or leak, the free
    space as before, no recipe file left; and where the write filled
    holes an earlier fix had left inside the file, those are released
    again too.
"""
import contextlib
import json
import os
import re
import shutil
import subprocess

import wtlib
from wtlib import check, check_eq, testlib
from qsnapfix_tests import guest_fixture

IO, NO_SPACE = 5, 16
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
LIAR = os.environ.get("STATVFS_LIAR") or os.path.join(
    testlib.SRC, "build", "tests", "qcow2-write", "libstatvfs-liar.so")


def need_root():
    if os.geteuid() != 0:
        testlib.skip("needs root (setpriv to nobody, tmpfs mounts)")
    if guest_fixture.guest_elf() is None:
        testlib.skip("the test guest is not built (tests/guest)")


def guest_image(directory):
    """The guest's image in directory, reshaped so that fix has work."""
    snap = guest_fixture.guest_snapshot(directory)
    testlib.qsnapfix("oldify", snap.image, "--snapshot", snap.snapshot,
                     "--as", "qemu-kvm-1.0")
    return snap.image


def run(argv, user=None, env=None):
    prefix = NOBODY if user == "nobody" else []
    return testlib.run([*prefix, testlib.BIN, *argv], ok_codes=None,
                       env={**os.environ, **(env or {})}, timeout=300)


def scan_blocked(image, user=None):
    """scan's "fix blocked" of the image: (exit code, message) or None."""
    p = run(["scan", "--output=json", image], user=user)
    check(p.stdout.startswith("{"), f"scan: {p.stderr}")
    b = json.loads(p.stdout)["images"][0]["fix-blocked"]
    return (b["exit-code"], b["message"]) if b else None


def free_bytes(directory):
    st = os.statvfs(directory)
    return st.f_bavail * st.f_frsize


def plan(image):
    """The dry run's write plan: (space needed, file length after); it is
    reported also where the file system is too small for it."""
    p = run(["fix", "--dry-run", "--output=json", image, "--rom-dir",
             os.path.dirname(image)])
    check(p.returncode in (0, NO_SPACE), f"fix --dry-run: {p.stderr}")
    space = json.loads(p.stdout)["snapshots"][0]["write"]["space"]
    return space["needed"], space["file-size-after"]


@contextlib.contextmanager
def tmpfs(directory, size):
    os.makedirs(directory, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}",
                        "tmpfs", directory], capture_output=True, text=True)
    if p.returncode:
        testlib.skip(f"cannot mount a tmpfs: {p.stderr.strip()}")
    try:
        yield directory
    finally:
        subprocess.run(["umount", directory], check=True)


def shrink(directory, free):
    """Resize the tmpfs at directory so that about free bytes are left."""
    st = os.statvfs(directory)
    used = (st.f_blocks - st.f_bfree) * st.f_frsize
    subprocess.run(["mount", "-o", f"remount,size={used + free}", directory],
                   check=True)


def nothing_changed(before, image, dirs, what):
    check_eq(testlib.file_fingerprint(image), before[0], f"{what}: the image")
    check_eq(testlib.dirs_fingerprint(*dirs), before[1],
             f"{what}: the directories")


# ---- permission ------------------------------------------------------------

@contextlib.contextmanager
def root_owned_directory(name, image_mode):
    """A directory of root's that nobody may enter, holding the image
    (image_mode) and roms/, a directory nobody may write; yields (work,
    image, roms, what both hold now)."""
    work = testlib.workdir(name)
    try:
        os.chmod(work, 0o755)
        image = guest_image(work)
        os.chmod(image, image_mode)
        roms = os.path.join(work, "roms")
        os.makedirs(roms)
        os.chmod(roms, 0o777)
        yield work, image, roms, (testlib.file_fingerprint(image),
                                  testlib.dirs_fingerprint(work, roms))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_writable_image_in_a_root_owned_directory_as_nobody():
    need_root()
    with root_owned_directory("nobody", 0o666) as (work, image, roms, before):
        blocked = scan_blocked(image, user="nobody")
        check(blocked is not None and blocked[0] == IO and
              "recipe file" in blocked[1] and "not writable" in blocked[1],
              f"scan: {blocked}")
        for argv in (["fix", "--dry-run", image], ["fix", image]):
            p = run(argv, user="nobody")
            check_eq(p.returncode, IO, f"{argv[:2]}: {p.stderr}")
            check(f"qsnapfix: {image}: snapshot" in p.stderr and
                  "recipe file" in p.stderr and "--rom-dir" in p.stderr,
                  f"{argv[:2]}: the message: {p.stderr}")
            nothing_changed(before, image, (work, roms), " ".join(argv[:2]))

        # with a --rom-dir nobody may write, nothing else stands in the way
        p = run(["fix", "--dry-run", image, "--rom-dir", roms], user="nobody")
        check_eq(p.returncode, 0, f"fix --dry-run --rom-dir: {p.stderr}")
        p = run(["fix", image, "--rom-dir", roms], user="nobody")
        check_eq(p.returncode, 0, f"fix --rom-dir: {p.stderr}")
        check_eq(len(os.listdir(roms)), 1, "the recipe file")
        wtlib.check_image(image)


def test_image_nobody_may_write_is_predicted():
    need_root()
    with root_owned_directory("nobody-ro", 0o644) as (work, image, roms,
                                                      before):
        blocked = scan_blocked(image, user="nobody")
        check(blocked is not None and blocked[0] == IO and
              "not writable" in blocked[1] and "in place" in blocked[1],
              f"scan: {blocked}")
        for argv in (["fix", "--dry-run", image, "--rom-dir", roms],
                     ["fix", image, "--rom-dir", roms]):
            p = run(argv, user="nobody")
            check_eq(p.returncode, IO, f"{argv[:2]}: {p.stderr}")
            nothing_changed(before, image, (work, roms), " ".join(argv[:2]))


# ---- space -------------------------------------------------------------------

def test_a_file_system_too_small_for_the_plan_is_predicted():
    need_root()
    work = testlib.workdir("tmpfs-small")
    try:
        with tmpfs(os.path.join(work, "fs"), "64m") as fs:
            image = guest_image(fs)
            needed, _ = plan(image)
            shrink(fs, needed // 2)
            free = free_bytes(fs)
            check(free < needed, f"free {free}, needed {needed}")
            before = (testlib.file_fingerprint(image),
                      testlib.dirs_fingerprint(fs))

            blocked = scan_blocked(image)
            check(blocked is not None and blocked[0] == NO_SPACE and
                  "not enough free space" in blocked[1], f"scan: {blocked}")
            for argv in (["fix", "--dry-run", image], ["fix", image]):
                p = run(argv)
                check_eq(p.returncode, NO_SPACE, f"{argv[:2]}: {p.stderr}")
                check("not enough free space" in p.stderr,
                      f"{argv[:2]}: {p.stderr}")
                nothing_changed(before, image, (fs,), " ".join(argv[:2]))
                check_eq(free_bytes(fs), free, f"{argv[:2]}: free space")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def enospc_run(image, fs, what):
    """fix with statvfs lying, on a file system too small: the real ENOSPC,
    and everything given back. Returns the offset of the failed write."""
    check(os.path.exists(LIAR), f"{LIAR} is not built")
    free = free_bytes(fs)
    length = os.path.getsize(image)
    digest = testlib.sha256_file(image)
    names = sorted(os.listdir(fs))
    env = {"LD_PRELOAD": LIAR,
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") +
           ":verify_asan_link_order=0"}
    p = run(["fix", image, "--rom-dir", fs], env=env)
    check_eq(p.returncode, NO_SPACE, f"{what}: {p.stderr}")
    check("No space left on device" in p.stderr and
          "what the run had allocated was given back" in p.stderr,
          f"{what}: the message: {p.stderr}")
    check_eq(os.path.getsize(image), length, f"{what}: the file's length")
    check_eq(testlib.sha256_file(image), digest, f"{what}: the file's bytes")
    wtlib.check_image(image)  # no corruption, no leak
    check_eq(free_bytes(fs), free, f"{what}: the file system's free space")
    check_eq(sorted(os.listdir(fs)), names, f"{what}: no recipe file left")
    m = re.search(r"write at 0x([0-9a-f]+)", p.stderr)
    check(m is not None, f"{what}: where: {p.stderr}")
    return int(m.group(1), 16)


def test_a_real_enospc_gives_back_the_file_and_the_free_space():
    """Issue 9's case: qemu-kvm 1.0's qk10-a (62 MiB, no holes) on a
    100 MiB tmpfs; the file grew to 105 MiB and the file system stayed
    full."""
    need_root()
    src = os.path.join(testlib.CACHE, "shared-images", "qk10-a-default.qcow2")
    if not testlib.shared_dir() or not os.path.exists(src):
        testlib.skip("../shared's qk10-a-default is not unpacked")
    work = testlib.workdir("tmpfs-enospc")
    try:
        with tmpfs(os.path.join(work, "fs"), "100m") as fs:
            image = os.path.join(fs, "qk10-a.qcow2")
            shutil.copyfile(src, image)
            needed, length_after = plan(image)
            check(length_after > os.path.getsize(image), "the file grows")
            check(free_bytes(fs) < needed, "the tmpfs is too small")
            at = enospc_run(image, fs, "qk10-a on 100 MiB")
            check(at >= os.path.getsize(image),
                  f"the write failed at 0x{at:x}, inside the file: it had "
                  "no hole to fill")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_a_real_enospc_in_holes_an_earlier_fix_left_releases_them():
    need_root()
    work = testlib.workdir("tmpfs-holes")
    try:
        with tmpfs(os.path.join(work, "fs"), "64m") as fs:
            image = guest_image(fs)
            # fix, then reshape back: the old VM state's clusters became
            # holes, and the reshaped one took some of them back
            testlib.qsnapfix("fix", image, "--rom-dir", work)
            testlib.qsnapfix("oldify", image, "--snapshot", "s1", "--as",
                             "qemu-kvm-1.0")
            needed, length_after = plan(image)
            check_eq(length_after, os.path.getsize(image),
                     "the next fix writes inside the file (into holes)")
            shrink(fs, needed // 2)
            at = enospc_run(image, fs, "holes")
            check(at < os.path.getsize(image),
                  f"the write failed at 0x{at:x}, past the file's end: no "
                  "hole was filled")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    testlib.main([
        test_writable_image_in_a_root_owned_directory_as_nobody,
        test_image_nobody_may_write_is_predicted,
        test_a_file_system_too_small_for_the_plan_is_predicted,
        test_a_real_enospc_gives_back_the_file_and_the_free_space,
        test_a_real_enospc_in_holes_an_earlier_fix_left_releases_them,
    ])
