#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A real SIGINT (and SIGTERM) at random points of a real `qsnapfix fix
--all` run. Whenever the signal lands (before the process started its
work, while it reads, while it writes, after a commit, after the end):
  - the exit code is 0 (too late to stop anything) or 128 + the signal,
    with one line saying where each snapshot is (fixed, unchanged with
    what was given back, not begun: as the VM states read afterwards)
    and that the image is consistent; in JSON too (or the process died
    of the signal before it set up its handler, before it opened the
    image: the file is byte-identical);
  - qemu-img check finds no corruption and no leak: a run stopped before
    its commit gave back what it had allocated;
  - every snapshot's VM state is either the old one or the one an
    uninterrupted fix writes;
  - if no snapshot was fixed, the file has its old length.
The points are random but seeded (the same on every run); where they
land depends on the machine's speed, and every outcome is checked. The
image is qemu-kvm 1.0's two-snapshot qk10-f1 from ../shared (a full
rewrite of two 60 MiB VM states), or without ../shared the project's
guest reshaped like qemu-kvm 1.0 (a run too short to be stopped in the
middle often, but checked all the same)."""
import json
import os
import random
import shutil
import signal
import subprocess
import time

import wtlib
from wtlib import check, check_eq, testlib
from qsnapfix_tests import guest_fixture

POINTS = 12


def source_image(work):
    shared = testlib.shared_dir()
    path = os.path.join(testlib.CACHE, "shared-images",
                        "qk10-f1-twosnaps.qcow2")
    if shared and os.path.exists(path):
        return path
    if guest_fixture.guest_elf() is None:
        testlib.skip("neither ../shared nor the test guest")
    snap = guest_fixture.guest_snapshot(work)
    testlib.qsnapfix("oldify", snap.image, "--snapshot", snap.snapshot,
                     "--as", "qemu-kvm-1.0")
    return snap.image


def digests(image):
    """{snapshot name: sha256 of its VM state}."""
    out = {}
    info = json.loads(testlib.qsnapfix("inspect", "--output=json",
                                       "--no-layout", image).stdout)
    for s in info["snapshots"]:
        if s["vm-state-size"]:
            p = testlib.qsnapfix("extract", image, "-s", s["name"], "-o",
                                 image + ".vm", "--output=json")
            out[s["name"]] = json.loads(p.stdout)["sha256"]
            os.unlink(image + ".vm")
    return out


def fix_argv(image, work, *extra):
    roms = os.path.join(work, "roms")
    os.makedirs(roms, exist_ok=True)
    return [testlib.BIN, "fix", "--all", image, "--rom-dir", roms, *extra]


def interrupted_run(image, work, delay, sig, json_report):
    extra = ["--output=json"] if json_report else []
    proc = subprocess.Popen(fix_argv(image, work, *extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(delay)
    try:
        proc.send_signal(sig)
    except ProcessLookupError:
        pass
    out, err = proc.communicate(timeout=600)
    return proc.returncode, out, err


def check_state_line(what, err, out, sig, fixed, names):
    """The one line on where the image is, against the VM states read
    afterwards; the JSON report carries the same line."""
    lines = [l for l in err.splitlines()
             if f"interrupted ({sig.name}): " in l and "snapshot" in l]
    check(len(lines) == 1 and "the image is consistent" in lines[0],
          f"{what}: the state line: {err}")
    line = lines[0]
    for n in names:
        if n in fixed:
            check(f'"{n}" fixed' in line, f"{what}: {n} fixed: {line}")
        else:
            check(f'"{n}" unchanged' in line or f'"{n}" not begun' in line,
                  f"{what}: {n} unchanged: {line}")
    if out:
        report = json.loads(out)
        check_eq(report["exit-code"], 128 + sig, f"{what}: JSON exit-code")
        check_eq(report["interrupted"],
                 {"signal": sig.name, "state": line[len("qsnapfix: "):]},
                 f"{what}: JSON interrupted")


def test_sigint_at_random_points_leaves_old_or_new_and_nothing_behind():
    work = testlib.workdir("interrupt")
    try:
        src = source_image(work)
        old = digests(src)
        ref = os.path.join(work, "reference.qcow2")
        shutil.copyfile(src, ref)
        t0 = time.monotonic()
        p = testlib.run(fix_argv(ref, work))
        duration = time.monotonic() - t0
        new = digests(ref)
        check(all(new[n] != old[n] for n in old), "the fix changes them all")
        rng = random.Random(9)
        outcomes = {}
        for i in range(POINTS):
            sig = signal.SIGTERM if i == POINTS - 1 else signal.SIGINT
            delay = rng.uniform(0, duration * 1.2)
            image = os.path.join(work, "image.qcow2")
            shutil.copyfile(src, image)
            pristine = testlib.sha256_file(image)
            json_report = i % 3 == 2
            rc, out, err = interrupted_run(image, work, delay, sig,
                                           json_report)
            what = f"signal {sig.name} after {delay:.3f}s: exit {rc}"
            check(rc in (0, 128 + sig, -sig), f"{what}: {err}")
            if rc == -sig:
                # before the program caught signals: it had not begun
                check_eq(testlib.sha256_file(image), pristine,
                         f"{what}: killed before it started")
            wtlib.check_image(image)  # no corruption, no leak
            now = digests(image)
            fixed = [n for n in old if now[n] == new[n]]
            check(all(now[n] in (old[n], new[n]) for n in old),
                  f"{what}: a VM state is neither old nor new")
            if rc > 0:
                check_state_line(what, err, out if json_report else "", sig,
                                 fixed, list(old))
            if not fixed:
                check_eq(os.path.getsize(image), os.path.getsize(src),
                         f"{what}: file length")
            key = f"exit {rc}, {len(fixed)} fixed"
            outcomes[key] = outcomes.get(key, 0) + 1
        print(f"     uninterrupted: {duration:.2f}s; outcomes: {outcomes}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    testlib.main([
        test_sigint_at_random_points_leaves_old_or_new_and_nothing_behind,
    ])
