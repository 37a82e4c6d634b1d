#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Reproduce the measurements of docs/tsc-after-load.md (not a ctest: the
numbers depend on the host's KVM and uptime, there is nothing to assert).

    tests/e2e/tsc_probe.py streams          clock fields of the real images
    tests/e2e/tsc_probe.py gap 0 10 30      own guest: save under KVM, wait,
                                            load; TSC jump per wait
    tests/e2e/tsc_probe.py kvmclock [WAIT]  load, run 3 s, save again:
                                            kvmclock vs TSC advance
    tests/e2e/tsc_probe.py m72k             load m72k-a under KVM, show what
                                            its TSC-timed guest does

Needs PYTHONPATH=tests (the test library), QSNAPFIX_GUEST (a built
guest.elf) and, for streams/m72k, QSNAPFIX_SHARED and QSNAPFIX_CACHE with
the unpacked images.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from qsnapfix_tests import guest_fixture
from qsnapfix_tests import qcow2_vmstate
from qsnapfix_tests import resume
from qsnapfix_tests import vmstate_clocks
from qsnapfix_tests.testlib import CACHE, load_manifest, shared_dir

LINE = re.compile(r"^(?:QSF|CEO) n=(\d+) up=(-?\d+\.\d\d) tsc=(-?\d+\.\d\d)", re.M)
READY = re.compile(r"tsc_hz=(\d+) tsc_at_zero=(\d+)")


def host_uptime():
    with open("/proc/uptime") as f:
        return float(f.read().split()[0])


def host_tsc_hz():
    out = subprocess.run(["dmesg"], capture_output=True, text=True).stdout
    m = re.search(r"tsc: Detected ([\d.]+) MHz", out)
    return float(m.group(1)) * 1e6 if m else None


def manifest():
    return load_manifest()[0]


def serial_hz(name):
    path = os.path.join(shared_dir(), "images", "serial",
                        f"{name}.save.serial.txt")
    try:
        with open(path) as f:
            m = re.search(r"tsc_hz=(\d+)", f.read())
        return int(m.group(1)) if m else None
    except FileNotFoundError:
        return None


def cmd_streams():
    print(f"{'image':30} {'cpu.tsc':>15} {'= s':>9} {'kvmclock s':>10} "
          f"{'vm clock s':>10} {'ticks_offset':>13}")
    for image in manifest():
        path = os.path.join(CACHE, "shared-images", image["file"])
        for snap in image["snapshots"]:
            c = vmstate_clocks.clocks(
                qcow2_vmstate.read_vmstate(path, snap["name"]))
            hz = serial_hz(image["name"])
            tsc_s = f"{c['cpu.tsc'] / hz:9.1f}" if hz else f"{'':>9}"
            kvmclock = (f"{c['kvmclock.clock'] / 1e9:10.3f}"
                        if c["kvmclock.clock"] is not None else f"{'-':>10}")
            print(f"{image['name'] + '/' + snap['name']:30} "
                  f"{c['cpu.tsc']:15} {tsc_s} {kvmclock} "
                  f"{c['timer.cpu_clock_offset'] / 1e9:10.3f} "
                  f"{c['timer.cpu_ticks_offset']:13}")


def save_own_guest(workdir):
    disk = os.path.join(workdir, "disk.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, "16M"],
                   check=True)
    saved = guest_fixture.take_snapshot(disk, workdir, accel="kvm",
                                        append="tsc", counter=10)
    with open(os.path.join(workdir, "serial.log")) as f:
        boot = f.read()
    hz, at_zero = map(int, READY.search(boot).groups())
    print(f"boot: tsc_hz={hz} tsc_at_zero={at_zero} = {at_zero / hz:.1f}s "
          f"of TSC; host uptime now {host_uptime():.1f}s")
    c = vmstate_clocks.clocks(qcow2_vmstate.read_vmstate(disk, "s1"))
    n, up, tsc = LINE.findall(boot)[-1]
    print(f"saved after n={saved}: stream cpu.tsc is "
          f"{(c['cpu.tsc'] - at_zero) / hz:.2f}s after up=0 (last line "
          f"n={n} up={up} tsc={tsc}); kvmclock {c['kvmclock.clock'] / 1e9:.3f}s")
    return disk, hz


def cmd_gap(waits):
    wd = tempfile.mkdtemp(prefix="qsnapfix-tsc-gap-")
    try:
        disk, _ = save_own_guest(wd)
        saved_at = time.monotonic()
        for wait in waits:
            time.sleep(max(0.0, wait - (time.monotonic() - saved_at)))
            copy = resume.copy_image(disk, wd, "copy.qcow2")
            gap = time.monotonic() - saved_at
            r = resume.resume(
                guest_fixture.image_args(guest_fixture.GUEST_DEVICE_ARGS,
                                         copy),
                loadvm="s1", accel="kvm", machine=guest_fixture.GUEST_MACHINE,
                counters=2, timeout=30)
            lines = LINE.findall(r.serial)
            if not lines:
                print(f"wait {gap:5.1f}s: {r.summary()}")
                continue
            n, up, tsc = lines[0]
            print(f"wait {gap:5.1f}s: first line n={n} up={up} tsc={tsc}: "
                  f"TSC jump {float(tsc) - float(up):+.2f}s")
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def cmd_kvmclock(wait):
    wd = tempfile.mkdtemp(prefix="qsnapfix-tsc-kvmclock-")
    try:
        disk, hz = save_own_guest(wd)
        before = vmstate_clocks.clocks(qcow2_vmstate.read_vmstate(disk, "s1"))
        time.sleep(wait)
        args = [*guest_fixture.image_args(guest_fixture.GUEST_DEVICE_ARGS,
                                          disk), "-loadvm", "s1"]
        with resume.Qemu(args, wd, accel="kvm",
                         machine=guest_fixture.GUEST_MACHINE,
                         deadline=time.monotonic() + 60) as qemu:
            if not qemu.connect():
                sys.exit(f"load failed: {qemu.stderr()}")
            start = time.monotonic()
            time.sleep(3)
            qemu.qmp.execute("stop")
            ran = time.monotonic() - start
            qemu.hmp("savevm s2")
        after = vmstate_clocks.clocks(qcow2_vmstate.read_vmstate(disk, "s2"))
        print(f"waited {wait}s before loading s1, ran {ran:.2f}s, saved s2")
        for key, scale in (("kvmclock.clock", 1e9),
                           ("timer.cpu_clock_offset", 1e9), ("cpu.tsc", hz)):
            print(f"  {key:24} s1 {before[key] / scale:10.3f}s  s2 "
                  f"{after[key] / scale:10.3f}s  advance "
                  f"{(after[key] - before[key]) / scale:+8.3f}s")
        print(f"  host uptime {host_uptime():.1f}s")
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def cmd_m72k():
    image = next(i for i in manifest() if i["name"].startswith("m72k-a"))
    wd = tempfile.mkdtemp(prefix="qsnapfix-tsc-m72k-")
    try:
        copy = resume.copy_image(
            os.path.join(CACHE, "shared-images", image["file"]), wd)
        c = vmstate_clocks.clocks(qcow2_vmstate.read_vmstate(copy, "s1"))
        hz_here = host_tsc_hz()
        print(f"saved cpu.tsc {c['cpu.tsc']} = {c['cpu.tsc'] / hz_here:.1f}s "
              f"of this host's TSC; host uptime {host_uptime():.1f}s")
        args = [a.replace("@IMAGE@", copy) for a in image["device_args"]]
        args += ["-loadvm", "s1"]
        with resume.Qemu(args, wd, accel="kvm", machine=image["source_machine"],
                         deadline=time.monotonic() + 60) as qemu:
            if not qemu.connect():
                sys.exit(f"load failed: {qemu.stderr()}")
            time.sleep(3)
            qemu.qmp.execute("stop")
            uptime = host_uptime()
            qemu.hmp("savevm s2")
            serial = qemu.serial()
        again = vmstate_clocks.clocks(qcow2_vmstate.read_vmstate(copy, "s2"))
        print(f"loaded, ran 3 s, stopped at host uptime {uptime:.1f}s and "
              f"saved again: cpu.tsc {again['cpu.tsc']} = "
              f"{again['cpu.tsc'] / hz_here:.1f}s of this host's TSC "
              f"({(again['cpu.tsc'] - c['cpu.tsc']) / hz_here:+.1f}s from the "
              f"saved value); kvmclock {c['kvmclock.clock'] / 1e9:.3f}s -> "
              f"{again['kvmclock.clock'] / 1e9:.3f}s")
        print("serial after the load: " +
              (" | ".join(serial.splitlines()[:6]) or "(nothing)"))
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    what, rest = sys.argv[1], sys.argv[2:]
    if what == "streams":
        cmd_streams()
    elif what == "gap":
        cmd_gap([float(w) for w in rest] or [0.0, 10.0, 30.0])
    elif what == "kvmclock":
        cmd_kvmclock(float(rest[0]) if rest else 20.0)
    elif what == "m72k":
        cmd_m72k()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
