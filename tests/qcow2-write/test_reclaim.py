#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""qcow2_reclaim_leaks: the leaked clusters a cut write leaves, given back
as qemu-img check -r leaks gives them back, crash-safe at every write.

Leaked images come from splices cut by a crash (the fault-injecting
Qcow2IO of test_crash.py, on the same cases: shared with the active L1,
shared by two snapshots, 1-bit refcounts, extended L2, 512-byte clusters,
a VM state inside a grown disk, refcount table growth), before and after
their commit; QEMU itself leaves none where we could cut it (qemu-io
'write' then 'abort', or a blkdebug error on the L2 update, on a
lazy_refcounts=off image: checked here, so that a QEMU that starts
leaking is noticed), and from refcounts raised by hand (a free cluster
given refcount 1, a snapshot's cluster refcount 2 where one path
reaches it).

For each leaked image: qemu-img check shows leaks and no corruption; a
dry run counts exactly those leaks and writes nothing; the reclaim
stopped after each of its writes (process crash, power loss with seeds
1-3, EIO, ENOSPC, EIO on each flush) leaves no corruption and at most the
leaks it found, every snapshot's VM state and table entry and the active
disk as they were; a reclaim run to the end leaves qemu-img check with no
leak (but where the active L1 maps a VM state inside the virtual disk
through a COPIED-clear entry: LEFT_INSIDE_DISK). An image with a
corruption besides its leaks is refused, untouched.
"""
import hashlib
import os
import shutil

import test_crash
import wtlib
from wtlib import check, check_eq, testlib
from qsnapfix_tests import fixtures
from qsnapfix_tests import qcow2_pokes as pk
from qsnapfix_tests import stores

CASES = {c["name"]: c for c in test_crash.CASES}
# A VM state inside the virtual disk (older than a disk resize) that the
# active L1 maps too: a splice cut between its commit and the move of the
# active side to copies leaves clusters at refcount 2 with one reference
# through an entry whose COPIED flag is clear; they stay leaked (lowering
# them needs the flag set: no order of the two writes is safe).
LEFT_INSIDE_DISK = ("vmstate-inside-grown-disk-relocation",)


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def leaks(path):
    _, data = testlib.qemu_img_check(path)
    check_eq(data.get("corruptions", 0), 0, f"{path}: corruptions")
    return data.get("leaks", 0)


def reclaim(image, mode="count", n=0, seed=0, *extra):
    return wtlib.parse_crashtest(
        wtlib.crashtest("reclaim", mode, n, seed, image, *extra))


class Leaked:
    """An image with leaks, and what must survive their reclaim."""

    def __init__(self, case, image, state, what):
        self.case, self.image, self.what = case, image, what
        self.state = state  # "old" or "new": the cut splice's snapshot
        self.table = wtlib.snapshot_table(image)
        self.leaks = leaks(image)
        check(self.leaks > 0, f"{what}: no leak to reclaim")

    def verify(self, work, image, what):
        """VM states, table entries and active disk as in the leaked
        image."""
        c = self.case
        want = c.files[self.state]
        others = [f"{n}={c.files['other-' + n]}" for n in c.others]
        p = wtlib.crashtest("verify", image, c.snapshot, want, want, *others)
        check(p.returncode == 0, f"{what}: {p.stdout.strip()}")
        check_eq(wtlib.snapshot_table(image), self.table,
                 f"{what}: snapshot table")
        check(wtlib.qemu_compare(self.image, image),
              f"{what}: the active disk changed")


def cut_splices(case, writes):
    """Leaked images from splices cut by a crash: before the commit and
    after it (each crash point tried from the middle on until both)."""
    found = {}
    for n in sorted(range(1, writes), key=lambda n: abs(n - writes // 2)):
        r = case.run("crash", n)
        check_eq(r["result"], "error", f"crash n={n}: result")
        state = case.verify(f"crash n={n}", r)
        if state not in found and leaks(case.image):
            path = os.path.join(case.work, f"leaked-{state}.qcow2")
            shutil.copyfile(case.image, path)
            found[state] = Leaked(case, path, state,
                                  f"{case.spec['name']}, cut at write {n}")
        if len(found) == 2:
            break
    return list(found.values())


def reclaim_matrix(lk):
    """Dry run, every stop of the reclaim, then the whole reclaim."""
    work = os.path.join(lk.case.work, "reclaim")
    os.makedirs(work, exist_ok=True)
    image = os.path.join(work, "image.qcow2")
    shutil.copyfile(lk.image, image)
    before = digest(image)
    r = reclaim(image, "count", 0, 0, "dry-run")
    check_eq(r["result"], "ok", f"{lk.what}: dry run: {r['message']}")
    check_eq(int(r["leaked"]), lk.leaks, f"{lk.what}: dry run counts")
    check_eq(digest(image), before, f"{lk.what}: a dry run wrote")

    total = reclaim(image)
    check_eq(total["result"], "ok", f"{lk.what}: {total['message']}")
    check_eq(int(total["leaked"]), lk.leaks, f"{lk.what}: leaks found")
    left = int(total["left"])
    check(not left or lk.case.spec["name"] in LEFT_INSIDE_DISK,
          f"{lk.what}: {left} leaks left")
    check_eq(leaks(image), left, f"{lk.what}: leaks after the reclaim")
    lk.verify(work, image, f"{lk.what}: after the reclaim")
    check(int(total["discarded"]) > 0 or not int(total["freed"]),
          f"{lk.what}: freed clusters not discarded: {total}")
    again = reclaim(image)
    check_eq((again["result"], int(again["leaked"]), again["writes"]),
             ("ok", left, "0"), f"{lk.what}: a second reclaim")

    writes, flushes = int(total["writes"]), int(total["flushes"])
    check(writes >= 1 and flushes >= 1, f"{lk.what}: {total}")
    plan = wtlib.fault_plan(writes, flushes)
    for mode, n, seed in plan:
        what = f"{lk.what}: reclaim {mode} n={n} seed={seed}"
        shutil.copyfile(lk.image, image)
        r = reclaim(image, mode, n, seed)
        if mode in ("crash", "power"):
            check_eq(r["result"], "ok" if n >= writes else "error",
                     f"{what}: result")
        else:
            check_eq(r["result"], "error", f"{what}: result")
            check("\n" not in r["message"] and
                  "the image is consistent" in r["message"],
                  f"{what}: message: {r['message']!r}")
        now = leaks(image)
        check(now <= lk.leaks, f"{what}: {now} leaks, {lk.leaks} before")
        if r["result"] == "ok" and mode == "crash":
            check_eq(now, left, f"{what}: leaks after a completed reclaim")
        lk.verify(work, image, what)
        r = reclaim(image)
        check_eq(r["result"], "ok", f"{what}: then reclaimed: {r['message']}")
        check_eq(leaks(image), left, f"{what}: then reclaimed: leaks")
    return writes, len(plan)


def run_case(name):
    work = testlib.workdir("reclaim")
    try:
        case = test_crash.Case(CASES[name], work)
        total = case.run("count", 0)
        check_eq(total["result"], "ok", f"{name}: {total['message']}")
        leaked = cut_splices(case, int(total["writes"]))
        check(leaked, f"{name}: no crash point left a leak")
        for lk in leaked:
            writes, stops = reclaim_matrix(lk)
            print(f"     {lk.what} ({lk.state} VM state): {lk.leaks} leaks, "
                  f"reclaim {writes} writes, {stops} stops")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def make_test(name):
    def test():
        run_case(name)
    test.__name__ = "test_reclaim_after_cut_splice_" + name.replace("-", "_")
    return test


def test_qemu_leaves_no_leak_where_we_can_cut_it():
    """If a QEMU starts leaking on these, test its leaks here too."""
    work = testlib.workdir("reclaim-qemu")
    try:
        p = os.path.join(work, "q.qcow2")
        for cmds in (["write -P 0x11 0 64k", "abort"],
                     ["write -P 0x11 0 64k", "flush", "write 1M 64k",
                      "abort"]):
            testlib.qemu_img("create", "-q", "-f", "qcow2", "-o",
                             "lazy_refcounts=off", p, "64M")
            testlib.qemu_io(p, *cmds, ok_codes=None)
            check_eq(leaks(p), 0, f"qemu-io {cmds}: leaks")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def hand_leaked(work):
    """v3-reverted with a free cluster at refcount 1 (appended to the
    file) and a VM state data cluster one path more than its references
    (lowered, not freed)."""
    case = test_crash.Case(CASES["shared-with-active-after-revert"], work)
    shutil.copyfile(case.pristine, case.image)
    size = os.path.getsize(case.image)
    cs = pk.hdr(case.image)["cluster_size"]
    with open(case.image, "ab") as f:
        f.write(bytes(cs - size % cs) + b"\x5a" * cs)
    pk.set_refcount(case.image, size + (cs - size % cs) % cs, 1)
    data = pk.first_vmstate_l2_entry(case.image)[1] & pk.L1E_MASK
    at, width = pk.refcount_at(case.image, data)
    rc = int.from_bytes(pk.read_at(case.image, at, width), "big")
    pk.set_refcount(case.image, data, rc + 1)
    return case


def test_reclaim_of_leaks_made_by_hand():
    work = testlib.workdir("reclaim-hand")
    try:
        case = hand_leaked(work)
        path = os.path.join(work, "leaked.qcow2")
        shutil.copyfile(case.image, path)
        lk = Leaked(case, path, "old", "leaks made by hand")
        check_eq(lk.leaks, 2, f"{lk.what}: qemu-img check's leaks")
        writes, stops = reclaim_matrix(lk)
        print(f"     {lk.what}: {lk.leaks} leaks, reclaim {writes} writes, "
              f"{stops} stops")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_corruption_is_refused_untouched():
    """A refcount below its references beside the leaks: refused
    (QCOW2_ERROR_INCONSISTENT), nothing written."""
    work = testlib.workdir("reclaim-corrupt")
    try:
        case = hand_leaked(work)
        pk.set_refcount(case.image, pk.hdr(case.image)["snapshots_offset"], 0)
        before = digest(case.image)
        r = reclaim(case.image)
        check_eq((r["result"], r["writes"]), ("error", "0"), f"{r}")
        check_eq(r["code"], "14", f"error code: {r['message']}")
        check("qemu-img check -r all" in r["message"], r["message"])
        check_eq(digest(case.image), before, "a refused reclaim wrote")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def extract(image, snapshot, work):
    out = os.path.join(work, "vmstate.bin")
    testlib.qsnapfix("extract", image, "--snapshot", snapshot, "-o", out)
    return digest(out)


def test_fix_reclaim_leaks_option():
    """qsnapfix fix --reclaim-leaks on the project's guest reshaped like
    qemu-kvm 1.0, leaked by a splice cut before its commit: without the
    option the leaks are reported and left (today's behaviour); a dry run
    counts them and writes nothing; with it they are given back first
    (leaks-reclaimed), qemu-img check finds none, and the fixed VM state
    is byte-identical to the fix of the image that never leaked."""
    work = testlib.workdir("reclaim-fix")
    try:
        pristine = stores.guest_image(os.path.join(work, "pristine.qcow2"),
                                      ["--as", "qemu-kvm-1.0"])
        snap = fixtures.snapshot_entries(pristine)[0][1]["name"]
        ref = stores.copy(pristine, os.path.join(work, "ref.qcow2"))
        testlib.qsnapfix("fix", ref)
        want = extract(ref, snap, work)
        old = extract(pristine, snap, work)

        leaked = os.path.join(work, "leaked.qcow2")
        edit = wtlib.Edit(100, 0, b"\x5a" * 200000).arg()
        stores.copy(pristine, leaked)
        total = wtlib.parse_crashtest(wtlib.crashtest(
            "run", "count", 0, 0, leaked, snap, edit))
        for n in range(int(total["writes"]) // 2, 0, -1):
            stores.copy(pristine, leaked)
            wtlib.crashtest("run", "crash", n, 0, leaked, snap, edit)
            if leaks(leaked):
                break
        n_leaks = leaks(leaked)
        check(n_leaks > 0, "no cut splice left a leak")
        check_eq(extract(leaked, snap, work), old, "the cut splice's state")

        image = os.path.join(work, "image.qcow2")
        stores.copy(leaked, image)
        rep = testlib.qsnapfix_json("fix", image)
        check("leaks-reclaimed" not in rep, f"{rep.keys()}")
        check_eq(rep["snapshots"][0]["write"]["leaked-clusters"], n_leaks,
                 "without --reclaim-leaks: reported")
        check_eq(leaks(image), n_leaks, "without --reclaim-leaks: left")

        stores.copy(leaked, image)
        before = digest(image)
        rep = testlib.qsnapfix_json("fix", image, "--reclaim-leaks", "-n")
        check_eq((rep["leaks-reclaimed"], rep["leaks-left"]), (n_leaks, 0),
                 "dry run")
        check_eq(digest(image), before, "a dry run wrote")

        rep = testlib.qsnapfix_json("fix", image, "--reclaim-leaks")
        check_eq((rep["leaks-reclaimed"], rep["leaks-left"]), (n_leaks, 0),
                 "--reclaim-leaks")
        check_eq(rep["snapshots"][0]["write"]["leaked-clusters"], 0,
                 "the fix's own check after the reclaim")
        check_eq(leaks(image), 0, "--reclaim-leaks: leaks after")
        check_eq(extract(image, snap, work), want,
                 "the fixed VM state, as the fix of the unleaked image")

        stores.copy(leaked, image)
        p = testlib.qsnapfix("fix", image, "--reclaim-leaks")
        check(f"{n_leaks} leaked clusters reclaimed" in p.stdout, p.stdout)
        check_eq(leaks(image), 0, "human run: leaks after")
        print(f"     cut splice left {n_leaks} leaked clusters: reclaimed")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    testlib.main([test_fix_reclaim_leaks_option,
                  test_qemu_leaves_no_leak_where_we_can_cut_it,
                  test_reclaim_of_leaks_made_by_hand,
                  test_corruption_is_refused_untouched] +
                 [make_test(n) for n in CASES])
