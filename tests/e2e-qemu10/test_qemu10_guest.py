#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The qemu-10.0 target on the project's own guest (no ../shared needed):

* a snapshot QEMU 7.2 took with -M pc-i440fx-1.4 does not load in QEMU
  10.0 -M pc-i440fx-2.4 ("Configuration section missing"); `qsnapfix fix
  --target=qemu-10.0` fixes it (CONFIGURATION, footers, settings), the
  7.2 VM description stays (with a record of the new framing: the
  stream is not what QEMU 7.2 wrote for pc-i440fx-2.4), `qemu-img check`
  is clean, QEMU 10.0 resumes the guest with the recipe, a second fix has
  nothing to do;
* the same snapshot reshaped like qemu-kvm 1.0 (`qsnapfix oldify`: block
  sections, v2 piix4_pm/i8254, 16 MiB vram, 64 KiB NIC ROM) is fixed for
  QEMU 10.0 and resumes there; `translate` of the raw stream gives the
  stream the fix wrote (non-zero fill pages, which oldify does not make,
  are exercised by the real images and the unit tests);
* a stream and a snapshot QEMU 10.0 itself wrote for pc-i440fx-2.4 come
  out "compatible" (exit 0, nothing written).
"""
import json
import os
import shutil
import tempfile

import q10lib
from qsnapfix_tests import fixlib
from qsnapfix_tests.fixlib import check, check_eq
from qsnapfix_tests import guest_fixture
from qsnapfix_tests import resume
from qsnapfix_tests.testlib import BIN, main, run, skip

BASE = guest_fixture.GUEST_DEVICE_ARGS
TARGET = f"--target={q10lib.TARGET}"


def unfixed_fails(snap, error):
    r = q10lib.load(BASE, snap.image, snap.snapshot,
                    {"machine": q10lib.MACHINE, "qemu-args": []},
                    counters=1, timeout=20)
    check(not r.loaded and error in r.error,
          f"unfixed in QEMU 10.0: {r.summary()}")
    print(f"unfixed: {r.summary()}")


def fix_and_resume(snap, expect_rules):
    rc, rep, _ = fixlib.fix(snap.image, TARGET)
    check_eq(rc, 0, "fix exit code")
    s = rep["snapshots"][0]
    missing = expect_rules - q10lib.rules_of(s)
    check(not missing, f"rules that did not fire: {sorted(missing)}; "
                       f"fired: {sorted(q10lib.rules_of(s))}")
    check_eq(s["recipe"]["machine"], q10lib.MACHINE, "recipe machine")
    fixlib.check_clean(snap.image)
    q10lib.check_clean_10(snap.image)
    r = q10lib.load(BASE, snap.image, snap.snapshot, s["recipe"])
    print(f"fixed ({' '.join(s['recipe']['qemu-args'])}): {r.summary()}")
    ok, why = resume.judge_resume(r, snap.saved_counter + 1,
                                  snap.saved_counter + 3, min_counters=3)
    check(ok, f"{why}; stderr: {r.stderr[-400:]}")
    fixed = fixlib.file_fingerprint(snap.image)
    rc, again, _ = fixlib.fix(snap.image, TARGET)
    check_eq((rc, again["snapshots"][0]["status"], again["changed"]),
             (0, "compatible", False), "second fix")
    check_eq(fixlib.file_fingerprint(snap.image), fixed,
             "image after a second fix")
    return s


def inspect(image, snapshot):
    return json.loads(run([BIN, "inspect", image, "-s", snapshot,
                           "--output=json"]).stdout)


def test_qemu72_pc_i440fx_1_4_snapshot_upgraded():
    wd = tempfile.mkdtemp(prefix="qsnapfix-q10-72-")
    try:
        snap = guest_fixture.guest_snapshot(wd)
        before = inspect(snap.image, snap.snapshot)
        old = fixlib.vmstate_bytes(snap.image, snap.snapshot)
        unfixed_fails(snap, "Configuration section missing")
        s = fix_and_resume(snap, {("R18", "edit"), ("R19", "edit"),
                                  ("R7", "setting"), ("R6", "setting"),
                                  ("R21", "setting")})
        check(not q10lib.rule_text(s, "R20"),
              "a 7.2 stream has no non-zero fill page")
        after = inspect(snap.image, snap.snapshot)
        new = fixlib.vmstate_bytes(snap.image, snap.snapshot)
        vd0, vd1 = before["vmdesc"], after["vmdesc"]
        check(vd0 and vd1, f"vmdesc before {vd0}, after {vd1}")
        desc0 = json.loads(old[vd0["offset"] + 5:])
        desc1 = json.loads(new[vd1["offset"] + 5:])
        check_eq(desc1.pop("qsnapfix-framed-for", None), "pc-i440fx-2.4",
                 "the VM description's record of the new framing")
        check(desc0 == desc1,
              "the VM description after EOF is not kept (but the record)")
        mark = len('"qsnapfix-framed-for": "pc-i440fx-2.4", ')
        n_sections = sum(1 for x in before["sections"]
                         if x["type"] in ("start", "part", "end", "full"))
        check_eq(len(new) - len(old), 18 + 5 * n_sections + mark,
                 "growth: 18-byte CONFIGURATION, a 5-byte footer per "
                 "section, the framing record in the VM description")
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def test_qemu_kvm_10_shape_upgraded():
    wd = tempfile.mkdtemp(prefix="qsnapfix-q10-kvm10-")
    try:
        snap = guest_fixture.guest_snapshot(wd)
        print(fixlib.oldify(snap.image, snap.snapshot, "--as",
                            "qemu-kvm-1.0"))
        raw = os.path.join(wd, "old.mig")
        run([BIN, "extract", snap.image, "-s", snap.snapshot, "-o", raw])
        unfixed_fails(snap, "Configuration section missing")
        s = fix_and_resume(snap, {("R1", "edit"), ("R2", "edit"),
                                  ("R9", "edit"), ("R18", "edit"),
                                  ("R19", "edit"), ("R21", "setting")})
        # translate of the raw stream: the same bytes the fix wrote
        out = os.path.join(wd, "new.mig")
        p = run([BIN, "translate", raw, out, TARGET, "--output=json"])
        rep = json.loads(p.stdout)["snapshots"][0]
        check_eq(rep["vm-state-size"]["new"], s["vm-state-size"]["new"],
                 "translate's new size")
        with open(out, "rb") as f:
            check(f.read() == fixlib.vmstate_bytes(snap.image,
                                                   snap.snapshot),
                  "translate OUT differs from the VM state fix wrote")
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def test_qemu10_own_stream_and_snapshot_are_compatible():
    wd = tempfile.mkdtemp(prefix="qsnapfix-q10-own-")
    try:
        image = os.path.join(wd, "guest.qcow2")
        run(["qemu-img", "create", "-q", "-f", "qcow2", image,
             guest_fixture.GUEST_DISK_SIZE])
        stream = os.path.join(wd, "q10.mig")
        guest_fixture.take_stream(image, wd, stream, counter=3,
                                  machine=q10lib.MACHINE,
                                  qemu=q10lib.QEMU10)
        before = fixlib.file_fingerprint(stream)
        out = os.path.join(wd, "out.mig")
        p = run([BIN, "translate", stream, out, TARGET, "--output=json"],
                ok_codes=(0,))
        rep = json.loads(p.stdout)["snapshots"][0]
        check_eq(rep["status"], "compatible", "QEMU 10.0's own stream")
        check_eq(rep["edits"], [], "edits for QEMU 10.0's own stream")
        check_eq(fixlib.file_fingerprint(stream), before, "IN after translate")
        print(f"QEMU 10.0 stream ({before[2]} bytes): compatible, recipe "
              f"{rep['recipe']['qemu-args']}")

        snapdir = os.path.join(wd, "snap")
        os.mkdir(snapdir)
        image2 = os.path.join(snapdir, "guest.qcow2")
        run(["qemu-img", "create", "-q", "-f", "qcow2", image2,
             guest_fixture.GUEST_DISK_SIZE])
        guest_fixture.take_snapshot(image2, snapdir, counter=3,
                                    machine=q10lib.MACHINE,
                                    qemu=q10lib.QEMU10)
        before = fixlib.file_fingerprint(image2)
        rc, rep, _ = fixlib.fix(image2, TARGET)
        check_eq((rc, rep["snapshots"][0]["status"], rep["changed"]),
                 (0, "compatible", False), "QEMU 10.0's own snapshot")
        check_eq(fixlib.file_fingerprint(image2), before,
                 "image after fixing a compatible snapshot")
    finally:
        shutil.rmtree(wd, ignore_errors=True)


if __name__ == "__main__":
    if guest_fixture.guest_elf() is None:
        skip("the test guest is not built (QSNAPFIX_GUEST)")
    q10lib.ensure()
    main([test_qemu72_pc_i440fx_1_4_snapshot_upgraded,
          test_qemu_kvm_10_shape_upgraded,
          test_qemu10_own_stream_and_snapshot_are_compatible])
