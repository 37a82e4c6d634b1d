#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A batch fix asked to stop (SIGINT) stops at a safe point between or
inside images, at every point it can be asked: before each of its
file-changing calls (journal records, the images' writes and flushes),
through the LD_PRELOAD shim of the save image tests. Each time:
  - the exit code is 130 (or 0 when the request came after the last call
    and nothing was left to stop) and stderr says how many images were
    not begun;
  - qemu-img check finds no corruption and no leak in any image (a fix
    stopped before its commit gives back what it took);
  - every VM state is the old one or the one an uninterrupted batch
    writes;
  - the journal does not call an unfinished image finished: `fix
    --resume` completes the batch to the uninterrupted end state.
The store: three copies of the project's guest reshaped like qemu-kvm
1.0, fixed one at a time (-j 1: the same order every run)."""
import json
import os
import shutil
import subprocess

import batchlib
from qsnapfix_tests import testlib
from qsnapfix_tests.stores import copy, guest_image
from qsnapfix_tests.testlib import BIN, check, check_eq

PRELOAD = os.environ.get("SAVEFILE_CRASH_PRELOAD")
IMAGES = ("a.qcow2", "b.qcow2", "c.qcow2")


def make_store(template, root):
    os.makedirs(root)
    for name in IMAGES:
        copy(template, os.path.join(root, name))
    return root


def fix(*args, env=None):
    return subprocess.run([BIN, "fix", "-j", "1", *args], capture_output=True,
                          text=True, env=env, timeout=600)


def batch(root, journal, env=None):
    roms = root + ".roms"
    os.makedirs(roms, exist_ok=True)
    return fix("--rom-dir", roms, "--journal", journal, root, env=env)


def journal_steps(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def test_sigint_at_every_call_stops_cleanly_and_resume_completes():
    if not PRELOAD:
        testlib.skip("SAVEFILE_CRASH_PRELOAD is not set (run through ctest)")
    work = testlib.workdir("batch-interrupt")
    try:
        template = guest_image(os.path.join(work, "qk10.qcow2"),
                               ["--as", "qemu-kvm-1.0"])
        ref = make_store(template, os.path.join(work, "ref"))
        old = batchlib.states(ref, work)
        p = batch(ref, os.path.join(work, "ref.jsonl"))
        check_eq(p.returncode, 0, p.stderr)
        new = batchlib.states(ref, work)
        check(all(old[k] != new[k] for k in old), "the reference fixed all")

        def rel(states, root):
            return {(k[0][len(root):], k[1]): v for k, v in states.items()}
        old, new = rel(old, ref), rel(new, ref)

        stopped = 0
        for n in range(1, 400):
            root = os.path.join(work, f"run{n}")
            journal = root + ".jsonl"
            make_store(template, root)
            env = dict(os.environ, LD_PRELOAD=PRELOAD,
                       QSNAPFIX_CRASH_AT=str(n), QSNAPFIX_CRASH_SIGNAL="2",
                       ASAN_OPTIONS="verify_asan_link_order=0:detect_leaks=0")
            p = batch(root, journal, env)
            what = f"SIGINT before call {n}"
            if p.returncode == 0:
                check("interrupted" not in p.stderr, f"{what}: {p.stderr}")
                shutil.rmtree(root)
                break  # past the last call: nothing left to stop
            stopped += 1
            check_eq(p.returncode, 130, f"{what}: {p.stderr}")
            check("qsnapfix: interrupted (SIGINT): " in p.stderr and
                  "not begun; every image is its old or its new self; fix "
                  "--resume with the journal continues" in p.stderr,
                  f"{what}: {p.stderr}")
            batchlib.check_images(root, what)
            now = rel(batchlib.states(root, work), root)
            check_eq(set(now), set(old), f"{what}: snapshots")
            for k, v in now.items():
                check(v in (old[k], new[k]), f"{what}: {k} old or new")
            steps = journal_steps(journal) if os.path.exists(journal) else []
            finished = {s["image"] for s in steps if s["step"] == "image"}
            for s in steps:
                if s["step"] == "end":
                    check_eq(s["status"], "interrupted", f"{what}: end")
            for k, v in now.items():
                if root + k[0] in finished:
                    check_eq(v, new[k], f"{what}: {k} journaled finished")
            if steps:
                p = fix("--resume", journal)
                check_eq(p.returncode, 0, f"{what}: --resume: {p.stderr}")
                batchlib.check_images(root, f"{what}, resumed")
                check_eq(rel(batchlib.states(root, work), root), new,
                         f"{what}: resumed to the uninterrupted end")
            shutil.rmtree(root)
        else:
            check(False, "the batch never ran to its end")
        check(stopped >= 3 * 3, f"stopped at only {stopped} points")
        print(f"{stopped} stop points, each clean and resumed (a store of "
              f"{len(IMAGES)} images)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    testlib.main([test_sigint_at_every_call_stops_cleanly_and_resume_completes])
