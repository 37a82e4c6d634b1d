#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A live migration through `qsnapfix relay`, with real QEMUs:

    QEMU 7.2 (the project's guest, counting and dirtying 8 MiB of pages
    at every report) --migrate tcp--> relay A (--as qemu-kvm-1.0: the
    stream reshaped like qemu-kvm 1.0's, test only) --> relay B (the fix)
    --> QEMU 7.2 started with the recipe relay B wrote from the head

* the source is held to several RAM passes (low bandwidth, 1 ms downtime)
  before it may finish: PART records send the same pages again;
* relay B writes its recipe before it connects, and the target, started
  with it, resumes the guest: the counter goes on from the source's last
  one, no QSF-BOOT, and no QSF-FAULT (a page that arrived stale);
* the ROM file of the recipe holds the stream's ROM (its 0x55AA mark),
  not the placeholder written at the head;
* a relay that refuses (here: --shrink-vram, which needs page data before
  the target starts) closes the migration: it fails, and the source's
  guest counts on.
"""
import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import types

from qsnapfix_tests import guest_fixture, resume
from qsnapfix_tests.testlib import BIN, check, check_eq, main, skip

MACHINE = guest_fixture.GUEST_MACHINE
DEADLINE = 240.0
PASSES = 4


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Relay:
    def __init__(self, work, name, listen, connect, *args):
        self.log = os.path.join(work, f"relay-{name}.log")
        self.recipe = os.path.join(work, f"recipe-{name}.json")
        self.proc = subprocess.Popen(
            [BIN, "relay", "--listen", f"127.0.0.1:{listen}", "--connect",
             f"127.0.0.1:{connect}", "--recipe", self.recipe, "--rom-dir",
             work, *args], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))

    def text(self):
        with open(self.log) as f:
            return f.read()

    def wait_listening(self, deadline):
        while "listening on" not in self.text():
            check(self.proc.poll() is None and time.monotonic() < deadline,
                  f"relay did not listen: {self.text()}")
            time.sleep(0.05)

    def finish(self, timeout=60):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


def counters(qemu):
    return resume.counters_in(qemu.serial())


def wait_counter(qemu, at_least, deadline):
    while not counters(qemu) or counters(qemu)[-1] < at_least:
        check(not qemu.exited() and time.monotonic() < deadline,
              f"guest did not reach {at_least}: {qemu.serial()[-200:]!r} "
              f"{qemu.stderr()[-300:]}")
        time.sleep(0.05)


def migrate_state(src):
    return src.qmp.execute("query-migrate")


def start_source(work, image, deadline):
    src_dir = os.path.join(work, "source")
    os.makedirs(src_dir)
    args = guest_fixture.boot_args(guest_fixture.GUEST_DEVICE_ARGS, image,
                                   src_dir, append="dirty")
    src = resume.Qemu(args, src_dir, machine=MACHINE, deadline=deadline,
                      cwd=src_dir)
    check(src.connect(), f"source QEMU: {src.stderr()}")
    wait_counter(src, 5, deadline)
    # slow enough that 8 MiB of dirty pages per report never converge
    src.qmp.execute("migrate-set-parameters",
                    {"downtime-limit": 1, "max-bandwidth": 8 << 20})
    return src


@contextlib.contextmanager
def migration_through_relays(*fix_args):
    """The guest running in the source, migrating through relay A (oldify)
    and relay B (the fix, with fix_args) to a port a target may listen on:
    yields work, deadline, image, src, old, fix and target_port."""
    if guest_fixture.guest_elf() is None:
        skip("the test guest is not built")
    work = tempfile.mkdtemp(prefix="qsnapfix-relay-")
    deadline = time.monotonic() + DEADLINE
    image = os.path.join(work, "disk.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", image,
                    guest_fixture.GUEST_DISK_SIZE], check=True)
    pa, pb, pt = free_port(), free_port(), free_port()
    old = Relay(work, "oldify", pa, pb, "--as", "qemu-kvm-1.0")
    fix = Relay(work, "fix", pb, pt, *fix_args)
    try:
        old.wait_listening(deadline)
        fix.wait_listening(deadline)
        with start_source(work, image, deadline) as src:
            src.qmp.execute("migrate", {"uri": f"tcp:127.0.0.1:{pa}"})
            yield types.SimpleNamespace(work=work, deadline=deadline,
                                        image=image, src=src, old=old,
                                        fix=fix, target_port=pt)
    finally:
        for r in (old, fix):
            r.finish(timeout=5)
        shutil.rmtree(work, ignore_errors=True)


def test_guest_keeps_counting_through_two_relays():
    with migration_through_relays() as m:
        src, old, fix, deadline = m.src, m.old, m.fix, m.deadline
        while not os.path.exists(fix.recipe):
            check(migrate_state(src)["status"] in ("setup", "active"),
                  f"migration: {migrate_state(src)}; relays: "
                  f"{old.text()} {fix.text()}")
            check(time.monotonic() < deadline, "no recipe")
            time.sleep(0.05)
        with open(fix.recipe) as f:
            head = json.load(f)
        check_eq(head["stage"], "head", "recipe stage")
        recipe = head["recipe"]
        args = recipe["qemu-args"]
        check("cirrus-vga.vgamem_mb=16" in args,
              f"recipe without the 16 MiB cirrus VRAM: {args}")
        rom = [f for f in recipe["files"] if f["kind"] == "rom"]
        check_eq([(f["block"], f["length"]) for f in rom],
                 [("0000:00:03.0/rtl8139.rom", 65536)], "ROM files")

        dst_dir = os.path.join(m.work, "target")
        os.makedirs(dst_dir)
        dst_args = [*guest_fixture.image_args(
            guest_fixture.GUEST_DEVICE_ARGS, m.image), *args,
            "-incoming", f"tcp:127.0.0.1:{m.target_port}"]
        with resume.Qemu(dst_args, dst_dir, machine=recipe["machine"],
                         deadline=deadline) as dst:
            check(dst.connect(), f"target QEMU: {dst.stderr()}")
            while migrate_state(src)["ram"]["dirty-sync-count"] < PASSES:
                check(migrate_state(src)["status"] == "active" and
                      time.monotonic() < deadline,
                      f"migration: {migrate_state(src)}")
                time.sleep(0.1)
            src.qmp.execute("migrate-set-parameters",
                            {"downtime-limit": 2000,
                             "max-bandwidth": 1 << 30})
            while migrate_state(src)["status"] not in ("completed",
                                                       "failed"):
                check(time.monotonic() < deadline, "migration hangs")
                time.sleep(0.05)
            state = migrate_state(src)
            check_eq(state["status"], "completed",
                     f"migration ({old.text()} {fix.text()})")
            passes = state["ram"]["dirty-sync-count"]
            check(passes >= PASSES, f"only {passes} RAM passes")
            last = guest_fixture.last_complete_counter(src.serial())
            wait_counter(dst, last + 3, deadline)
            seen = counters(dst)
            serial = dst.serial()
            check(not resume.booted(serial),
                  f"the guest rebooted: {serial[:200]!r}")
            check(not resume.faulted(serial),
                  f"the guest found a stale page: {serial[:300]!r}")
            check(last + 1 <= seen[0] <= last + 3,
                  f"first counter {seen[0]} after {last} at the source")
            check_eq(dst.status(), "running", "target status")
            print(f"{passes} RAM passes; source stopped at {last}, "
                  f"target counts {seen[:4]}")
        check_eq(old.finish(), 0, f"oldify relay: {old.text()}")
        check_eq(fix.finish(), 0, f"fix relay: {fix.text()}")
        with open(fix.recipe) as f:
            final = json.load(f)
        check_eq(final["stage"], "final", "recipe stage at the end")
        check_eq(final["recipe"]["qemu-args"], args, "final recipe")
        check(final["stats"]["records"] >= PASSES,
              f"PART/END records relayed: {final['stats']}")
        with open(rom[0]["path"], "rb") as f:
            data = f.read()
        check_eq(len(data), 65536, "ROM file length")
        check_eq(data[:2], b"\x55\xaa", "ROM file's option ROM mark")
        print(f"fix relay: {final['stats']}")


def test_a_refusing_relay_leaves_the_source_running():
    with migration_through_relays("--shrink-vram") as m:
        src, fix, deadline = m.src, m.fix, m.deadline
        while migrate_state(src)["status"] not in ("failed",
                                                   "completed"):
            check(time.monotonic() < deadline, "migration hangs")
            time.sleep(0.05)
        check_eq(migrate_state(src)["status"], "failed",
                 "migration through a refusing relay")
        check_eq(fix.finish(), 4, f"fix relay: {fix.text()}")
        check("R4" in fix.text() and "page data" in fix.text(),
              f"fix relay's reason: {fix.text()}")
        check(not os.path.exists(fix.recipe), "a recipe was written")
        now = counters(src)[-1]
        wait_counter(src, now + 3, deadline)
        check_eq(src.status(), "running", "source status")
        print(f"refused: {fix.text().strip().splitlines()[-1]}; the "
              f"source counts on past {now}")


if __name__ == "__main__":
    main([test_guest_keeps_counting_through_two_relays,
          test_a_refusing_relay_leaves_the_source_running])
