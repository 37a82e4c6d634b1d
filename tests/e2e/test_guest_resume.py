#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""QEMU 7.2 (-M pc-i440fx-1.4, TCG) resumes the project's guest from its
own savevm and from a migration stream, and the resume harness tells a
resume from a reboot and from a failed load."""
import os
import re
import shutil
import tempfile

from qsnapfix_tests import guest_fixture
from qsnapfix_tests import qcow2_vmstate
from qsnapfix_tests import resume
from qsnapfix_tests.testlib import (assert_check_clean, check, check_eq, main,
                     qemu_img, skip)

MACHINE = guest_fixture.GUEST_MACHINE
UP = re.compile(r"^(?:QSF|CEO) n=(\d+) up=(\d+\.\d\d)", re.M)


class Workdir:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="qsnapfix-e2e-guest-")
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


def assert_resumed(result, saved, min_counters=3):
    ok, why = resume.judge_resume(result, saved, saved + 3,
                                  min_counters=min_counters)
    check(ok, f"{why}; {result.summary()}; stderr: {result.stderr[-300:]}")
    check_eq(result.counters,
             list(range(result.first_counter,
                        result.first_counter + len(result.counters))),
             "counters after the load")
    # The guest's PIT clock is part of the state: up continues from where
    # it was (report n is due at (n-1) * 0.2 s), it does not restart.
    n, up = UP.search(result.serial).groups()
    check(abs(float(up) - (int(n) - 1) * 0.2) <= 0.06,
          f"first line after the load: n={n} up={up}")


def test_loadvm_resumes_the_saved_counter():
    with Workdir() as wd:
        snap = guest_fixture.guest_snapshot(wd)
        check(snap.saved_counter >= 10, f"saved counter {snap.saved_counter}")
        r = resume.resume(snap.load_args(), loadvm=snap.snapshot,
                          machine=MACHINE, counters=3, timeout=30)
        print(f"saved at n={snap.saved_counter}: {r.summary()}")
        assert_resumed(r, snap.saved_counter)
        assert_check_clean(snap.image)


def test_loadvm_resumes_with_the_kernel_option_too():
    """-kernel only feeds the multiboot loader at boot: with -loadvm the
    saved RAM wins, so a recipe may keep or drop it."""
    with Workdir() as wd:
        snap = guest_fixture.guest_snapshot(wd)
        args = guest_fixture.boot_args(guest_fixture.GUEST_DEVICE_ARGS,
                                       snap.image, wd)
        r = resume.resume(args, loadvm=snap.snapshot, machine=MACHINE,
                          counters=3, timeout=30, cwd=wd)
        assert_resumed(r, snap.saved_counter)


def test_incoming_stream_resumes_the_saved_counter():
    with Workdir() as wd:
        disk = os.path.join(wd, "disk.qcow2")
        qemu_img("create", "-q", "-f", "qcow2", disk, "16M")
        stream = os.path.join(wd, "guest.mig")
        saved = guest_fixture.take_stream(disk, wd, stream, counter=6)
        check(os.path.getsize(stream) > 100_000,
              f"stream of {os.path.getsize(stream)} bytes")
        with open(stream, "rb") as f:
            check_eq(f.read(8), b"QEVM\0\0\0\3", "stream header")
        args = guest_fixture.image_args(guest_fixture.GUEST_DEVICE_ARGS, disk)
        r = resume.resume(args, incoming=stream, machine=MACHINE,
                          counters=3, timeout=30)
        print(f"saved at n={saved}: {r.summary()}")
        assert_resumed(r, saved)


def test_a_boot_is_not_taken_for_a_resume():
    """Negative control: the same image started without -loadvm boots the
    guest again; the harness must call that a reboot."""
    with Workdir() as wd:
        snap = guest_fixture.guest_snapshot(wd)
        args = guest_fixture.boot_args(guest_fixture.GUEST_DEVICE_ARGS,
                                       snap.image, wd)
        r = resume.watch(args, machine=MACHINE, counters=2, timeout=30,
                         cwd=wd)
        check(r.loaded, f"boot failed: {r.error}")
        check(r.boot_seen, f"no QSF-BOOT on a boot: {r.serial[:100]!r}")
        check_eq(r.first_counter, 1, "first counter of a boot")
        ok, why = resume.judge_resume(r, snap.saved_counter,
                                      snap.saved_counter + 3)
        check(not ok and "rebooted" in why, f"judged {ok} {why!r}")


def test_a_corrupt_vmstate_is_reported_as_not_loaded():
    """Negative control: overwrite the stream's magic in the snapshot's own
    clusters (qemu-io on the raw file); QEMU must refuse, and the harness
    must say so with QEMU's error."""
    with Workdir() as wd:
        snap = guest_fixture.guest_snapshot(wd)
        head = qcow2_vmstate.read_vmstate(snap.image, snap.snapshot, 0, 4)
        check_eq(head, b"QEVM", "vmstate magic before the damage")
        qcow2_vmstate.overwrite_vmstate(snap.image, snap.snapshot, 0, 0xA5, 16)
        check_eq(qcow2_vmstate.read_vmstate(snap.image, snap.snapshot, 0, 4),
                 b"\xa5" * 4, "vmstate magic after the damage")
        assert_check_clean(snap.image)
        r = resume.resume(snap.load_args(), loadvm=snap.snapshot,
                          machine=MACHINE, counters=1, timeout=30)
        print(r.summary())
        check(not r.loaded, f"a damaged vmstate loaded: {r.summary()}")
        check("Not a migration stream" in r.error, f"error {r.error!r}")
        check_eq(r.counters, [], "counters from a failed load")


def test_a_section_version_too_new_is_reported_as_not_loaded():
    """Negative control closer to what the translator meets: a device
    section whose version QEMU does not know (cpu v12 -> v99)."""
    with Workdir() as wd:
        snap = guest_fixture.guest_snapshot(wd)
        stream = qcow2_vmstate.read_vmstate(snap.image, snap.snapshot)
        header = b"\x03cpu" + (0).to_bytes(4, "big") + (12).to_bytes(4, "big")
        check_eq(stream.count(header), 1, "cpu section headers (v12)")
        version_low_byte = stream.index(header) + len(header) - 1
        qcow2_vmstate.overwrite_vmstate(snap.image, snap.snapshot,
                                        version_low_byte, 99, 1)
        r = resume.resume(snap.load_args(), loadvm=snap.snapshot,
                          machine=MACHINE, counters=1, timeout=30)
        print(r.summary())
        check(not r.loaded, f"a cpu v99 section loaded: {r.summary()}")
        check("unsupported version 99 for 'cpu'" in r.error,
              f"error {r.error!r}")


def test_loadvm_needs_the_snapshot_in_the_top_image():
    """Why tests copy images instead of using -snapshot: QEMU's temporary
    overlay has no internal snapshots, so -loadvm cannot find them."""
    with Workdir() as wd:
        snap = guest_fixture.guest_snapshot(wd)
        r = resume.resume([*snap.load_args(), "-snapshot"],
                          loadvm=snap.snapshot, machine=MACHINE, timeout=30)
        check(not r.loaded, f"-snapshot with -loadvm loaded: {r.summary()}")
        check("does not exist" in r.error, f"error {r.error!r}")


if __name__ == "__main__":
    if guest_fixture.guest_elf() is None:
        skip("the test guest is not built (QSNAPFIX_GUEST)")
    main([test_loadvm_resumes_the_saved_counter,
          test_loadvm_resumes_with_the_kernel_option_too,
          test_incoming_stream_resumes_the_saved_counter,
          test_a_boot_is_not_taken_for_a_resume,
          test_a_corrupt_vmstate_is_reported_as_not_loaded,
          test_a_section_version_too_new_is_reported_as_not_loaded,
          test_loadvm_needs_the_snapshot_in_the_top_image])
