#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Refusals, made from real streams: `qsnapfix fix` gives exit code 4, one
line on stderr naming the image, the snapshot, the rule, the evidence and
what to do, a "refused" JSON report with the reason, and leaves the image
byte-identical (checksum and mtime). Where an option can lift the refusal
(--drop-section), the fixed snapshot resumes.

* a qxl ROM whose content (header + mode list) runs past the target's
  8 KiB: the project's guest with -vga qxl, saved by QEMU 7.2, reshaped
  like qemu-kvm 1.2 (16 KiB ROM, PCI revision 3) with a mode list of 224
  entries; the refusal names --accept-loss=R10 and the modes it loses, and
  with it the ROM is cut (a "loss" finding, the ROM's mode count lowered
  to the modes that fit), the recipe keeps qxl-vga.revision=3, and the
  guest resumes;
* a device the target lacks: a `pci-assign` section added to the guest's
  stream;
* --shrink-vram with data above the cut: qemu-kvm 1.0's real qk10-a
  snapshot (../shared) with one vga.vram fill page above 8 MiB turned into
  data; the untouched qk10-a shrinks fine and resumes (and, with
  --keep-block-sections, is fixed writing a few clusters and resumes).
"""
import json
import os
import shutil
import tempfile

from qsnapfix_tests import fixlib
from qsnapfix_tests.fixlib import check, check_eq
from qsnapfix_tests import guest_fixture
from qsnapfix_tests import resume
from qsnapfix_tests.testlib import (BIN, REAL_IMAGES_DIR, main,
                                    real_image_manifest, run, skip)

QXL = ("-m", "128", "-hda", "@IMAGE@", "-vga", "qxl", "-net",
       "nic,model=rtl8139", "-net", "user")


def check_refused(image, snapshot, *args, rule, words):
    """fix refuses: exit 4, the one-line message, the JSON reason, and the
    image not written. Returns the JSON snapshot report."""
    before = fixlib.file_fingerprint(image)
    p = run([BIN, "fix", image, "--snapshot", snapshot, *args], ok_codes=(4,))
    lines = [l for l in p.stderr.splitlines() if l.startswith("qsnapfix:")]
    check_eq(len(lines), 1, f"stderr lines: {p.stderr!r}")
    line = lines[0]
    for w in (image, f'"{snapshot}"', "refused", rule, *words):
        check(w in line, f"{w!r} not in the message: {line}")
    check("refused:" in p.stdout, f"human report: {p.stdout}")
    j = run([BIN, "fix", image, "--snapshot", snapshot, *args,
             "--output=json"], ok_codes=(4,))
    rep = json.loads(j.stdout)
    s = rep["snapshots"][0]
    check_eq((rep["exit-code"], s["status"], s["edits"], s["recipe"]),
             (4, "refused", [], None), "JSON report")
    check(rule in s["reason"], f"JSON reason: {s['reason']}")
    check_eq(fixlib.file_fingerprint(image), before,
             "image after a refused fix")
    print(f"refused as expected: {line}")
    return s


def test_qxl_rom_content_past_8k_is_refused():
    wd = tempfile.mkdtemp(prefix="qsnapfix-e2e-refuse-qxl-")
    try:
        snap = guest_fixture.guest_snapshot(wd, device_args=QXL)
        fixlib.oldify(snap.image, snap.snapshot, "--as", "qemu-kvm-1.2",
                      "--qxl-modes", "224")
        s = check_refused(snap.image, snap.snapshot, rule="R10",
                          words=["qxl.vrom", "content ends at",
                                 "way out: --accept-loss=R10",
                                 "of its 224 modes"])
        r10 = [r for r in s["rules"] if r["id"] == "R10"]
        check_eq([r["action"] for r in r10], ["refuse"], "R10 findings")
        check_eq(r10[0]["way-out"]["option"], "--accept-loss=R10",
                 "JSON way out")
        check("are lost" in r10[0]["way-out"]["risk"],
              f"JSON risk: {r10[0]['way-out']}")

        rc, rep, _ = fixlib.fix(snap.image, "--snapshot", snap.snapshot,
                                "--accept-loss=R10")
        s = rep["snapshots"][0]
        check_eq((rc, s["status"]), (0, "fixed"), "fix --accept-loss=R10")
        loss = [r for r in s["rules"] if r["id"] == "R10"]
        check_eq([r["action"] for r in loss], ["loss"], "R10 findings")
        check("mode count 224 ->" in loss[0]["change"], loss[0]["change"])
        check("qxl-vga.revision=3" in s["recipe"]["command-line"],
              f"recipe: {s['recipe']['command-line']}")
        r = fixlib.load(QXL, snap.image, snap.snapshot, s["recipe"])
        ok, why = resume.judge_resume(r, snap.saved_counter + 1,
                                      snap.saved_counter + 3, min_counters=3)
        check(ok, why)
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def test_accept_loss_names_the_rules_that_take_one():
    """--accept-loss with a rule that takes no loss is a usage error that
    lists the rules that do."""
    p = run([BIN, "fix", "nothing.qcow2", "--accept-loss=R10,R2"],
            ok_codes=(2,))
    check("rule 'R2' takes no loss (rules that do: R4, R10, ram)" in
          p.stderr, f"stderr: {p.stderr}")


def test_unknown_device_is_refused_and_can_be_dropped():
    wd = tempfile.mkdtemp(prefix="qsnapfix-e2e-refuse-dev-")
    try:
        snap = guest_fixture.guest_snapshot(wd)
        fixlib.oldify(snap.image, snap.snapshot, "--as", "qemu-kvm-1.0",
                      "--add-section", "0000:00:06.0/pci-assign")
        check_refused(snap.image, snap.snapshot, rule="target",
                      words=["pci-assign", "no device that loads it",
                             "--drop-section"])
        rc, rep, _ = fixlib.fix(snap.image, "--drop-section", "pci-assign")
        s = rep["snapshots"][0]
        check_eq((rc, s["status"]), (0, "fixed"), "fix --drop-section")
        check(any(r["id"] == "drop-section" and r["action"] == "loss"
                  for r in s["rules"]), f"loss reported: {s['rules']}")
        r = fixlib.load(guest_fixture.GUEST_DEVICE_ARGS, snap.image,
                        snap.snapshot, s["recipe"])
        ok, why = resume.judge_resume(r, snap.saved_counter + 1,
                                      snap.saved_counter + 3, min_counters=3)
        check(ok, why)
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def test_mixed_results_exit_15():
    """--all over a fixable and a refused snapshot: the first is fixed,
    the second left byte-identical, exit code 15."""
    wd = tempfile.mkdtemp(prefix="qsnapfix-e2e-mixed-")
    try:
        snap = guest_fixture.guest_snapshot(wd)
        guest_fixture.take_snapshot(snap.image, wd, name="s2", counter=5)
        fixlib.oldify(snap.image, "s1", "--as", "qemu-kvm-1.0")
        fixlib.oldify(snap.image, "s2", "--as", "qemu-kvm-1.0",
                      "--add-section", "0000:00:06.0/pci-assign")
        s2 = fixlib.vmstate_sha256(snap.image, "s2")
        rc, rep, err = fixlib.fix(snap.image, "--all", ok=(15,))
        check_eq({x["name"]: x["status"] for x in rep["snapshots"]},
                 {"s1": "fixed", "s2": "refused"}, "statuses")
        check_eq(rep["exit-code"], 15, "JSON exit code")
        check("s2" in err and "pci-assign" in err, f"stderr: {err}")
        check_eq(fixlib.vmstate_sha256(snap.image, "s2"), s2,
                 "the refused snapshot's VM state")
        fixlib.check_clean(snap.image)
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def qk10a():
    images = real_image_manifest()
    image = os.path.join(REAL_IMAGES_DIR, "qk10-a-default.qcow2")
    if images is None or not os.path.isfile(image):
        return None, None
    return image, next(i for i in images if i["name"] == "qk10-a-default")


def test_shrink_with_data_above_8m_is_refused():
    image, entry = qk10a()
    if image is None:
        print("SKIP test_shrink_with_data_above_8m_is_refused: needs "
              "../shared and qk10-a-default.qcow2 unpacked in the cache")
        return
    wd = tempfile.mkdtemp(prefix="qsnapfix-e2e-refuse-shrink-")
    try:
        # the real stream: every vga.vram page above 8 MiB is a fill page
        good = resume.copy_image(image, wd, "good.qcow2")
        rc, rep, _ = fixlib.fix(good, "--shrink-vram")
        s = rep["snapshots"][0]
        check_eq((rc, s["status"]), (0, "fixed"), "fix --shrink-vram")
        check(any(r["id"] == "R4" and r["action"] == "edit"
                  for r in s["rules"]), f"R4 cut the block: {s['rules']}")
        check(not any("vgamem" in a for a in s["recipe"]["qemu-args"]),
              f"no vgamem setting: {s['recipe']['qemu-args']}")
        fixlib.check_clean(good)
        r = fixlib.load(entry["device_args"], good, "s1", s["recipe"])
        low, high = entry["snapshots"][0]["expect_first_counter_between"]
        ok, why = resume.judge_resume(r, low, high, min_counters=3)
        check(ok, f"shrunk qk10-a: {why}")

        # --keep-block-sections: no length change, so almost all shared
        quick = resume.copy_image(image, wd, "quick.qcow2")
        rc, rep, _ = fixlib.fix(quick, "--keep-block-sections")
        s = rep["snapshots"][0]
        check_eq((rc, s["status"]), (0, "fixed"), "--keep-block-sections")
        check(s["write"]["clusters-written"] <= 4 and
              s["write"]["clusters-shared"] > 900,
              f"--keep-block-sections wrote {s['write']}")
        fixlib.check_clean(quick)
        r = fixlib.load(entry["device_args"], quick, "s1", s["recipe"])
        ok, why = resume.judge_resume(r, low, high, min_counters=3)
        check(ok, f"qk10-a with its block sections: {why}")
        print(f"--keep-block-sections: {s['write']['clusters-written']} "
              f"clusters written, {s['write']['clusters-shared']} shared; "
              f"{r.summary()}")

        bad = resume.copy_image(image, wd, "bad.qcow2")
        fixlib.oldify(bad, "s1", "--as", "keep", "--vram-data-at",
                      str(9 << 20))
        check_refused(bad, "s1", "--shrink-vram", rule="R4",
                      words=["vga.vram", "1 data page(s)",
                             "without --shrink-vram"])
    finally:
        shutil.rmtree(wd, ignore_errors=True)


if __name__ == "__main__":
    if guest_fixture.guest_elf() is None:
        skip("the test guest is not built (QSNAPFIX_GUEST)")
    main([test_qxl_rom_content_past_8k_is_refused,
          test_accept_loss_names_the_rules_that_take_one,
          test_unknown_device_is_refused_and_can_be_dropped,
          test_mixed_results_exit_15,
          test_shrink_with_data_above_8m_is_refused])
