#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Crash safety of the snapshot-table writes that carry a record or give a
kept original back, at every write:

* the splice with keep-original and new unknown extra data for both
  entries (the fix's record and the original's mark, one table switch);
* qcow2_snapshot_restore: the snapshot given back its kept original's VM
  state, the original's entry removed, the fixed VM state released;
* qcow2_snapshot_delete: the kept original removed and released.

Each runs through the fault-injecting Qcow2IO (as test_crash.py): stopped
after write N for every N as a process crash and as a power loss (seeds
1-3), each write failed with EIO and ENOSPC, each flush with EIO. After
every stop qemu-img check finds no corruption (leaks only where the run
did not complete) and the image holds exactly the old table or the new
one: which snapshots exist, their VM states byte for byte (through the
library; QEMU's own reading is sampled), their unknown extra data, and
every other snapshot unchanged. The fixtures cover a VM state shared
with the active L1 (after a revert: dropping a path must not leave a
COPIED flag wrong), shared by two snapshots and the active L1, and one
inside a grown disk (the active side moves to copies)."""
import os
import shutil

import wtlib
from wtlib import Edit, check, check_eq, fixtures, testlib
from qsnapfix_tests import snapshot_extra

FX = {fx.name: fx for fx in fixtures.fixtures()}
RECORD = b"\0" * 16 + b"QSNAPFIX" + b"fixed: a test record".ljust(32, b".")
MARK = b"\0" * 16 + b"QSNAPFIX" + b"original of s1".ljust(16, b".")
FOREIGN = b"another tool's bytes"

CASES = [
    dict(name="shared-with-active-after-revert", fixture="v3-reverted",
         snapshot="s1", edits=[Edit(0, 0, b"\xaa\xbb"), Edit(5000, 100, b"")]),
    dict(name="shared-by-two-snapshots-and-active",
         fixture="prediscard-shared", snapshot="a",
         edits=[Edit(200000, 4, b"\xde\xad\xbe\xef")]),
    dict(name="vmstate-inside-grown-disk", fixture="cvm-zlib",
         snapshot="c1", edits=[Edit(2 * 65536 + 100, 1, b"\xff")]),
]


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


class Case:
    def __init__(self, spec, work):
        fx = FX[spec["fixture"]]
        self.spec, self.work = spec, work
        self.name = spec["snapshot"]
        self.orig_name = self.name + ".orig"
        self.rc_bits = fx.facts["refcount_bits"]
        self.pristine = fx.path
        self.old = fixtures.qemu_vmstate(
            fx, self.name, wtlib.vm_state_size(fx.path, self.name))
        self.new = wtlib.apply_edits(self.old, spec["edits"])
        self.others = {
            s["name"]: fixtures.qemu_vmstate(
                fx, s["name"], wtlib.vm_state_size(fx.path, s["name"]))
            for s in fx.facts["snapshots"]
            if s["vmstate"] and s["name"] != self.name}
        self.files = {"old": write(os.path.join(work, "old.bin"), self.old),
                      "new": write(os.path.join(work, "new.bin"), self.new)}
        for n, d in self.others.items():
            self.files[n] = write(os.path.join(work, f"other-{n}.bin"), d)
        self.image = os.path.join(work, "image.qcow2")
        self.splice_args = [*[e.arg() for e in spec["edits"]],
                            f"keep={self.orig_name}", f"extra={RECORD.hex()}",
                            f"original-extra={MARK.hex()}"]
        # the fixed image the restore and delete cases start from
        self.fixed = os.path.join(work, "fixed.qcow2")
        shutil.copyfile(self.pristine, self.fixed)
        r = wtlib.parse_crashtest(wtlib.crashtest("run", "count", 0, 0, self.fixed,
                                         self.name, *self.splice_args))
        check_eq(r["result"], "ok", f"{spec['name']}: the fix: {r['message']}")
        self.qemu_reads = 0

    def others_args(self, image_has_orig):
        args = [f"{n}={self.files[n]}" for n in self.others]
        if image_has_orig:
            args.append(f"{self.orig_name}={self.files['old']}")
        return args

    def verify(self, what, done, state_of_new, checks):
        """One stop: check, the table old or new, the VM states."""
        wtlib.check_image(self.image, allow_leaks=not done)
        names = set(wtlib.snapshot_table(self.image))
        tails = snapshot_extra.tails(self.image)
        state = checks(names, tails)
        if done:
            check_eq(state, "new", f"{what}: a completed run")
        return state

    def vm_state_is(self, what, want_file, others_with_orig):
        p = wtlib.crashtest("verify", self.image, self.name, want_file,
                            want_file, *self.others_args(others_with_orig))
        check(p.returncode == 0, f"{what}: {p.stdout.strip()}")

    def qemu_reads_new(self, what, want):
        got = wtlib.qemu_vmstate(self.image, self.name, self.work,
                                 self.rc_bits)
        check(got == want, f"{what}: QEMU reads another VM state")
        self.qemu_reads += 1

    # -- the three operations --------------------------------------------

    def splice(self, mode, n, seed):
        shutil.copyfile(self.pristine, self.image)
        return wtlib.parse_crashtest(wtlib.crashtest("run", mode, n, seed, self.image,
                                            self.name, *self.splice_args))

    def splice_state(self, what):
        def checks(names, tails):
            if self.orig_name in names:
                check_eq(tails[self.name], RECORD, f"{what}: the record")
                check_eq(tails[self.orig_name], MARK, f"{what}: the mark")
                self.vm_state_is(what, self.files["new"], True)
                return "new"
            check_eq(tails[self.name], b"", f"{what}: no record yet")
            self.vm_state_is(what, self.files["old"], False)
            return "old"
        return checks

    def restore(self, mode, n, seed):
        shutil.copyfile(self.fixed, self.image)
        return wtlib.parse_crashtest(wtlib.crashtest(
            "restore", mode, n, seed, self.image, self.name, self.orig_name,
            f"extra={FOREIGN.hex()}"))

    def restore_state(self, what):
        def checks(names, tails):
            if self.orig_name in names:
                check_eq(tails[self.name], RECORD, f"{what}: the record")
                self.vm_state_is(what, self.files["new"], True)
                return "old"
            check_eq(tails[self.name], FOREIGN, f"{what}: the given extra")
            self.vm_state_is(what, self.files["old"], False)
            return "new"
        return checks

    def delete(self, mode, n, seed):
        shutil.copyfile(self.fixed, self.image)
        return wtlib.parse_crashtest(wtlib.crashtest("delete", mode, n, seed,
                                            self.image, self.orig_name))

    def delete_state(self, what):
        def checks(names, tails):
            check_eq(tails[self.name], RECORD, f"{what}: the record")
            has = self.orig_name in names
            self.vm_state_is(what, self.files["new"], has)
            return "old" if has else "new"
        return checks


def matrix(case, op, run, state_checks, qemu_want):
    total = run("count", 0, 0)
    check_eq(total["result"], "ok", f"{op}: {total['message']}")
    writes, flushes = int(total["writes"]), int(total["flushes"])
    plan = wtlib.fault_plan(writes, flushes)
    seen = set()
    for mode, n, seed in plan:
        what = f"{op} {mode} n={n} seed={seed} ({case.spec['name']})"
        r = run(mode, n, seed)
        if mode in ("crash", "power"):
            check_eq(r["result"], "ok" if n >= writes else "error",
                     f"{what}: result")
        else:
            check_eq(r["result"], "error", f"{what}: result")
            check(r["message"] and "\n" not in r["message"],
                  f"{what}: one-line message {r['message']!r}")
        state = case.verify(what, r["result"] == "ok", None,
                            state_checks(what))
        if state == "new" and (mode, state) not in seen and qemu_want:
            case.qemu_reads_new(what, qemu_want)
        seen.add((mode, state))
    check(("crash", "old") in seen and ("crash", "new") in seen,
          f"{op}: crashes should end both ways: {seen}")
    return f"{op} {writes} writes/{len(plan)} stops"


def run_case(spec):
    work = testlib.workdir("crash-table")
    try:
        c = Case(spec, work)
        done = [
            matrix(c, "splice+record", c.splice, c.splice_state, c.new),
            matrix(c, "restore", c.restore, c.restore_state, c.old),
            matrix(c, "delete", c.delete, c.delete_state, None),
        ]
        print(f"     {spec['name']}: {'; '.join(done)}; QEMU read "
              f"{c.qemu_reads}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def make_test(spec):
    def test():
        run_case(spec)
    test.__name__ = "test_every_write_point_leaves_old_or_new_table_" + \
        spec["name"].replace("-", "_")
    return test


if __name__ == "__main__":
    testlib.main([make_test(s) for s in CASES])
