#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The test guest boots under QEMU 7.2 (TCG), says QSF-BOOT once, counts
from 1 every 200 ms and keeps time with the PIT at the host's pace. Its
lines carry the project's own marker, QSF, never the real images' CEO."""
import os
import re
import shutil
import tempfile
import time

from qsnapfix_tests import guest_fixture
from qsnapfix_tests import resume
from qsnapfix_tests.testlib import check, check_eq, main, qemu_img, skip

LINE = re.compile(r"^QSF n=(\d+) up=(\d+)\.(\d\d)(?: tsc=(-?\d+)\.(\d\d))?$",
                  re.M)
REPORT_SECONDS = 0.2


def boot_and_watch(append=None, counters=12, seconds=30):
    work = tempfile.mkdtemp(prefix="qsnapfix-guest-")
    try:
        disk = os.path.join(work, "disk.qcow2")
        qemu_img("create", "-q", "-f", "qcow2", disk, "16M")
        args = guest_fixture.boot_args(guest_fixture.GUEST_DEVICE_ARGS, disk,
                                       work, append=append)
        return resume.watch(args, machine=guest_fixture.GUEST_MACHINE,
                            counters=counters, timeout=seconds, cwd=work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def parsed_lines(serial):
    """(n, up, tsc or None) of each complete counter line."""
    out = []
    for m in LINE.finditer(serial[:serial.rfind("\n") + 1]):
        up = int(m.group(2)) + int(m.group(3)) / 100
        tsc = None
        if m.group(4) is not None:
            sign = -1 if m.group(4).startswith("-") else 1
            tsc = int(m.group(4)) + sign * int(m.group(5)) / 100
        out.append((int(m.group(1)), up, tsc))
    return out


def test_prints_boot_once_then_counts_from_one():
    r = boot_and_watch()
    check(r.loaded, f"guest did not run: {r.error}")
    check_eq(r.serial.count("QSF-BOOT"), 1, "QSF-BOOT lines")
    check(r.serial.startswith("QSF-BOOT"), f"output starts {r.serial[:40]!r}")
    check("CEO" not in r.serial, "the real images' marker is not ours")
    check(not r.fault_seen, f"guest fault: {r.serial[-200:]}")
    check(len(r.counters) >= 12, f"counters {r.counters}")
    check_eq(r.counters, list(range(1, len(r.counters) + 1)), "counters")
    for n, up, _ in parsed_lines(r.serial):
        # Reports fall on PIT reloads at (n-1) * 200 ms; a late wake-up
        # may delay one by a PIT period (50 ms).
        check(abs(up - (n - 1) * REPORT_SECONDS) <= 0.06,
              f"line n={n} says up={up:.2f}, want {(n - 1) * 0.2:.2f}")


def test_guest_time_runs_at_host_pace():
    """Guest seconds per host second, both measured in this run."""
    work = tempfile.mkdtemp(prefix="qsnapfix-guest-pace-")
    seen = {}
    try:
        disk = os.path.join(work, "disk.qcow2")
        qemu_img("create", "-q", "-f", "qcow2", disk, "16M")
        args = guest_fixture.boot_args(guest_fixture.GUEST_DEVICE_ARGS, disk,
                                       work)
        with resume.Qemu(args, work, machine=guest_fixture.GUEST_MACHINE,
                         deadline=time.monotonic() + 40, cwd=work) as qemu:
            check(qemu.connect(), f"QEMU did not start: {qemu.stderr()}")
            while len(seen) < 16 and time.monotonic() < qemu.deadline:
                for n, up, _ in parsed_lines(qemu.serial()):
                    seen.setdefault(n, (up, time.monotonic()))
                time.sleep(0.01)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    check(len(seen) >= 16, f"only {len(seen)} lines")
    first, last = min(seen), max(seen)
    guest = seen[last][0] - seen[first][0]
    host = seen[last][1] - seen[first][1]
    ratio = guest / host
    print(f"guest time {guest:.2f}s over host time {host:.2f}s: "
          f"ratio {ratio:.3f}")
    check(0.85 <= ratio <= 1.15, f"guest/host time ratio {ratio:.3f}")


def test_tsc_option_reports_a_calibrated_tsc():
    r = boot_and_watch(append="tsc", counters=8)
    ready = re.search(r"^QSF-READY tsc_hz=(\d+) tsc_at_zero=(\d+)$",
                      r.serial, re.M)
    check(ready is not None, f"no QSF-READY line: {r.serial[:200]!r}")
    hz = int(ready.group(1))
    check(1e8 < hz < 1e11, f"tsc_hz {hz}")
    lines = parsed_lines(r.serial)
    check(len(lines) >= 8 and all(t is not None for _, _, t in lines),
          f"lines without tsc=: {r.serial[:300]!r}")
    # Under TCG the TSC follows the host's clock while the PIT's periods
    # reach the guest only when its vCPU runs: on a loaded host a few may
    # arrive late, so `up` can lag behind the TSC but never run ahead of
    # it, and over the run both must advance at the same pace.
    for n, up, tsc in lines:
        check(tsc >= up - 0.06, f"n={n}: tsc={tsc} runs behind up={up}")
    (_, up0, tsc0), (_, up1, tsc1) = lines[0], lines[-1]
    pace = (tsc1 - tsc0) / (up1 - up0)
    check(0.8 <= pace <= 1.25,
          f"TSC seconds per PIT second {pace:.3f} (lines {lines})")


def test_multiboot_command_line_word_must_match_exactly():
    r = boot_and_watch(append="tscx notsc", counters=3)
    check("QSF-READY" not in r.serial and " tsc=" not in r.serial,
          f"tsc mode enabled by a look-alike word: {r.serial[:200]!r}")
    check_eq(r.counters[:3], [1, 2, 3], "counters")


if __name__ == "__main__":
    if guest_fixture.guest_elf() is None:
        skip("the test guest is not built (QSNAPFIX_GUEST)")
    main([test_prints_boot_once_then_counts_from_one,
          test_guest_time_runs_at_host_pace,
          test_tsc_option_reports_a_calibrated_tsc,
          test_multiboot_command_line_word_must_match_exactly])
