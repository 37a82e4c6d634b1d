#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Crash safety of the splice, at every write.

The library runs with a fault-injecting Qcow2IO (faultio.c) that stops it
after write N for every N from 0 to the total: once as a process crash
(issued writes stay) and three times as a power loss (writes since the
last flush dropped, kept or torn per 512-byte sector, seeds 1-3). It also
fails each write in turn with EIO and with ENOSPC (half written), and
each flush with EIO, and asks it to stop (as SIGINT does) after each
write in turn. After every stop:
  - qemu-img check reports no corruption (leaks are allowed after a
    crash or power loss; after a failure or a cancellation before the
    commit the splice gives back what it allocated: no leak, and the file
    has its old length again);
  - the snapshot's VM state is byte-identical to the old one or to the
    new one (read through the library; QEMU's own reading, revert + read,
    is sampled);
  - every other snapshot's VM state and table entry is unchanged, and
    the active disk equals the pristine image (qemu-img compare).
The cases are a representative subset of the fixture matrix chosen to
cover every write path (shared with the active L1, shared between
snapshots, 1-bit refcounts, extended L2, 512-byte clusters with refcount
block growth, compressed VM state inside a grown disk whose active side
moves to copies, refcount table growth); the functional edit tests
(test_splice.py) use the whole matrix.
"""
import os
import shutil

import wtlib
from wtlib import Edit, check, check_eq, fixtures, testlib

FX = {fx.name: fx for fx in fixtures.fixtures()}
MIB = 1 << 20


def table_growth_image(work):
    """512-byte clusters and 64-bit refcounts: a refcount block describes
    32 KiB and one table cluster 2 MiB, so a 2.5 MiB insertion grows the
    refcount table. The VM state is written with qemu-io 'write -b' and
    the snapshot entry's size patched in (qemu-img snapshot -c writes 0)."""
    p = os.path.join(work, "rc64-c512.qcow2")
    testlib.qemu_img("create", "-q", "-f", "qcow2", "-o",
                     "cluster_size=512,refcount_bits=64", p, "4M")
    testlib.qemu_io(p, "write -P 0x11 0 65536",
                    "write -b -P 0x5a 0 65536", "write -b -P 0x5b 65536 4096")
    testlib.qemu_img("snapshot", "-c", "big", p)
    fixtures.set_vm_state_size(p, 0, 65536 + 4000)
    return p


CASES = [
    dict(name="shared-with-active-after-revert", fixture="v3-reverted",
         snapshot="s1",
         edits=[Edit(0, 0, b"\xaa\xbb\xcc"), Edit(5000, 100, b""),
                Edit(70000, 3, bytes(range(1, 6)))]),
    dict(name="shared-by-two-snapshots-and-active", fixture="prediscard-shared",
         snapshot="a", edits=[Edit(200000, 4, b"\xde\xad\xbe\xef")]),
    dict(name="512-byte-clusters-insertion", fixture="c512", snapshot="s1",
         edits=[Edit(300, 0, b"\x77" * 700)]),
    dict(name="1-bit-refcounts-deletion", fixture="rc1", snapshot="s1",
         edits=[Edit(1000, 5000, b"")]),
    dict(name="extended-l2-shrink", fixture="xl2", snapshot="s2",
         edits=[Edit(600000, 100000, b"\x01\x02")]),
    dict(name="vmstate-inside-grown-disk-relocation", fixture="cvm-zlib",
         snapshot="c1",
         edits=[Edit(2 * 65536 + 100, 1, b"\xff"), Edit(200000, 0, b"abc")]),
    dict(name="refcount-table-growth", fixture=None, snapshot="big",
         edits=[Edit(100, 0, b"\x3c" * (5 * MIB // 2))]),
]


class Case:
    def __init__(self, spec, work):
        self.spec = spec
        self.work = work
        self.snapshot = spec["snapshot"]
        self.edits = spec["edits"]
        if spec["fixture"]:
            fx = FX[spec["fixture"]]
            self.pristine = fx.path
            self.rc_bits = fx.facts["refcount_bits"]
            size = wtlib.vm_state_size(fx.path, self.snapshot)
            self.old = fixtures.qemu_vmstate(fx, self.snapshot, size)
            self.others = {
                s["name"]: fixtures.qemu_vmstate(
                    fx, s["name"], wtlib.vm_state_size(fx.path, s["name"]))
                for s in fx.facts["snapshots"]
                if s["vmstate"] and s["name"] != self.snapshot}
        else:
            self.pristine = table_growth_image(work)
            self.rc_bits = 64
            self.old = wtlib.qemu_vmstate(self.pristine, self.snapshot, work)
            self.others = {}
        self.new = wtlib.apply_edits(self.old, self.edits)
        self.files = {}
        for name, data in [("old", self.old), ("new", self.new),
                           *[(f"other-{n}", d) for n, d in self.others.items()]]:
            self.files[name] = os.path.join(work, f"{name}.bin")
            with open(self.files[name], "wb") as f:
                f.write(data)
        self.table = wtlib.snapshot_table(self.pristine)
        self.image = os.path.join(work, "image.qcow2")
        self.outcomes = {}
        self.qemu_reads = 0

    def run(self, mode, n, seed=0):
        shutil.copyfile(self.pristine, self.image)
        return wtlib.parse_crashtest(wtlib.crashtest(
            "run", mode, n, seed, self.image, self.snapshot,
            *[e.arg() for e in self.edits]))

    def verify(self, what, result):
        """The checks after one stop; returns 'old' or 'new'."""
        others = [f"{n}={self.files['other-' + n]}" for n in self.others]
        p = wtlib.crashtest("verify", self.image, self.snapshot,
                            self.files["old"], self.files["new"], *others)
        check(p.returncode == 0, f"{what}: {p.stdout.strip()} "
                                 f"({result['message']})")
        state = p.stdout.split("state=")[1].split()[0]
        done = result["result"] == "ok"
        gave_back = (not done and state == "old" and what.split()[0] in
                     ("eio", "enospc", "flush-eio", "cancel") and
                     "could not be confirmed" not in result["message"])
        wtlib.check_image(self.image, allow_leaks=not done and not gave_back)
        if gave_back:
            check("was given back" in result["message"],
                  f"{what}: {result['message']}")
            check_eq(os.path.getsize(self.image),
                     os.path.getsize(self.pristine), f"{what}: file length")
        if done:
            check_eq(state, "new", f"{what}: completed splice")
        table = wtlib.snapshot_table(self.image)
        for name, entry in self.table.items():
            if name != self.snapshot:
                check_eq(table.get(name), entry, f"{what}: snapshot {name}")
        check(wtlib.qemu_compare(self.pristine, self.image),
              f"{what}: the active disk changed")
        key = (what.split()[0], state)
        self.outcomes[key] = self.outcomes.get(key, 0) + 1
        return state

    def qemu_agrees(self, what, state):
        """QEMU's own reading (revert a copy, read the VM state area)."""
        got = wtlib.qemu_vmstate(self.image, self.snapshot, self.work,
                                 self.rc_bits)
        check(got == (self.new if state == "new" else self.old),
              f"{what}: QEMU reads a VM state that is not the {state} one")
        self.qemu_reads += 1


def run_case(spec):
    work = testlib.workdir("crash")
    try:
        c = Case(spec, work)
        total = c.run("count", 0)
        check_eq(total["result"], "ok", f"{spec['name']}: {total['message']}")
        writes, flushes = int(total["writes"]), int(total["flushes"])
        check(writes >= 5, f"{spec['name']}: only {writes} writes")
        plan = wtlib.fault_plan(writes, flushes, cancel=True)
        seen_states = set()
        for i, (mode, n, seed) in enumerate(plan):
            what = f"{mode} n={n} seed={seed} ({spec['name']})"
            r = c.run(mode, n, seed)
            if mode in ("crash", "power"):
                check_eq(r["result"], "ok" if n >= writes else "error",
                         f"{what}: result")
            elif mode == "cancel":
                check(r["result"] == "ok" or r["code"] == "15",
                      f"{what}: {r}")
            else:
                check_eq(r["result"], "error", f"{what}: result")
                want = "2" if mode == "enospc" else "1"
                check_eq(r["code"], want, f"{what}: error code")
                check("\n" not in r["message"] and r["message"],
                      f"{what}: one-line message: {r['message']!r}")
            state = c.verify(what, r)
            # QEMU reads a sample: the first old and the first new outcome
            # of each mode, and every 16th stop.
            if (mode, state) not in seen_states or i % 16 == 0:
                c.qemu_agrees(what, state)
            seen_states.add((mode, state))
        check(("crash", "old") in seen_states and ("crash", "new") in seen_states,
              f"{spec['name']}: crashes should end both ways: {seen_states}")
        summary = ", ".join(f"{m} {s} {k}" for (m, s), k in
                            sorted(c.outcomes.items()))
        print(f"     {spec['name']}: {writes} writes, {flushes} flushes, "
              f"{len(plan)} stops ({summary}); QEMU read {c.qemu_reads}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def make_test(spec):
    def test():
        run_case(spec)
    test.__name__ = "test_every_write_point_leaves_old_or_new_" + \
        spec["name"].replace("-", "_")
    return test


if __name__ == "__main__":
    testlib.main([make_test(s) for s in CASES])
