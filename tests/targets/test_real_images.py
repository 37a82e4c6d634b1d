#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`qsnapfix fix --target=TARGET` on every snapshot of every real image of
../shared/images/manifest.json, on copies, loaded into that target's QEMU
(qsnapfix_tests/targets.py: qemu-7.2, the host's; qemu-10.0 from
scripts/qemu10; qemu-2.0 from scripts/qemu20). Usage: test_real_images.py
TARGET.

* unfixed, the target's QEMU with the image's device_args (and the
  target's machine, or the source's own for a target that keeps it) does
  not load a snapshot that needs fixing, and the failed load leaves the
  image's size as it was;
* `--dry-run --all` writes nothing (checksum and mtime), exits as the real
  run will, and reports exactly the status, edits, write plan and recipe
  options the real run then has for each snapshot;
* fixed one snapshot at a time: exit 0 and status "fixed"; or "compatible"
  (exit 0, image untouched) for a stream already written for a machine
  the target has (QEMU 7.2's streams on 7.2; on 10.0, 7.2's
  pc-i440fx-7.2); or "refused" (exit 4, image untouched) for a stream a
  QEMU newer than the target wrote (QEMU 7.2's streams on 2.0); fixing
  one snapshot leaves every other snapshot's VM state byte-identical;
* the recipe's machine is the target's, or the source's own (manifest
  source_machine; pc-0.15 for qemu-kvm 0.15, whose "pc-0.14" had the
  devices of upstream's pc-0.15); a KVM stream's recipe asks for KVM;
* where the target wants fill pages expanded (R20), the growth is the R20
  findings' byte count, 4095 per non-zero fill page `inspect` counts;
  elsewhere nothing is expanded;
* a 7.2 stream keeps its VM description (vmdesc) after EOF, with, where
  the fix framed it for a machine its writer did not run (a CONFIGURATION
  record for qemu-10.0's pc-i440fx-2.4), the record of that
  ("qsnapfix-framed-for");
* `qemu-img check` (7.2 and the target's) is clean, every snapshot's disk
  and the active disk compare equal to the original (`qemu-img compare`),
  and a second run finds every snapshot compatible, writes nothing, and
  derives the same recipe from the fixed stream (also the machine of a
  target that keeps the source's, which it infers from the markers a
  translation leaves alone);
* the target's QEMU started with -M <recipe machine>, the image's
  device_args, the recipe's qemu_args and -loadvm resumes the guest: first
  counter in expect_first_counter_between, no boot line (resume.booted());
* the originals in the cache are unchanged at the end.

KVM images need a usable /dev/kvm. Their bare-metal guest times itself by
the TSC, which this host's KVM may not restore on a load
(docs/tsc-after-load.md): the counter check is then skipped with the
measured reason; the load itself is still checked, and so is the vCPU: it
runs the guest's protected-mode code, not the reset state a refused
register write leaves (QEMU 2.0 ignores a failed KVM_SET_XSAVE and runs
the BIOS from reset instead). Two images are worked on at a time.
"""
import json
import os
import re
import shutil
import sys
import tempfile

from qsnapfix_tests import fixlib, resume, targets
from qsnapfix_tests.fixlib import Kvm, check, check_eq
from qsnapfix_tests.testlib import load_manifest, main

PARALLEL = 2
LOAD_TIMEOUT = 40.0
KVM_SILENT_TIMEOUT = 8.0
# `info registers`: "CS =0008 00000000 ffffffff 00c09b00 DPL=0 CS32 [-RA]"
CS_LINE = re.compile(r"^CS =([0-9a-f]{4}) .*\b(CS16|CS32|CS64)\b", re.M)

# Streams a QEMU newer than the target wrote: refused, nothing written.
NEWER_THAN_TARGET = {"qemu-2.0": ("qemu-7.2",)}

TARGET = None  # set by __main__


def expected_status(image, inspect0):
    if image["writer"].startswith(NEWER_THAN_TARGET.get(TARGET.name, ())):
        return "refused"
    if image["writer"] == TARGET.name:
        return "compatible"  # the target's own stream
    if TARGET.machine and inspect0["writer"].get("machine"):
        return "compatible"  # CONFIGURATION names a machine it has
    return "fixed"


def grown_by_fill_expansion(snap_report):
    """Bytes the R20 findings say the expansion adds."""
    total = 0
    for r in targets.rule_text(snap_report, "R20"):
        words = r["change"].split("grows by ")[1].split()
        total += int(words[0])
    return total


def nonzero_fill_pages(inspect):
    """Fill page records whose byte is not 0, as `qsnapfix inspect` counts
    them per RAM block."""
    return sum(n for b in inspect["ram-blocks"]
               for byte, n in b["fill-bytes"].items() if byte != "0")


def vmdesc_json(data, inspect):
    vd = inspect["vmdesc"]
    return json.loads(data[vd["offset"] + 5:vd["offset"] + 5 + vd["size"]]) \
        if vd else None


def inspect(image, snap):
    return json.loads(fixlib.run([fixlib.BIN, "inspect", image, "-s", snap,
                                  "--output=json"]).stdout)


def check_fixed_report(name, snap, s, image, inspect0, first):
    """The recipe machine and the growth of one fixed snapshot."""
    if TARGET.machine:
        check_eq(s["recipe"]["machine"], TARGET.machine,
                 f"{name}/{snap}: recipe machine")
    else:
        # the machine whose devices match the source's: qemu-kvm 0.15
        # called its default pc-0.14 (manifest source_machine), but its
        # devices are upstream's pc-0.15
        check(s["recipe"]["machine"] in
              (image["source_machine"], "pc-0.15"),
              f"{name}/{snap}: recipe machine {s['recipe']['machine']} for "
              f"a source that ran {image['source_machine']}")
    expanded = grown_by_fill_expansion(s)
    old, new = s["vm-state-size"]["old"], s["vm-state-size"]["new"]
    if not TARGET.expands_fill_pages:
        check_eq(expanded, 0, f"{name}/{snap}: fill pages expanded")
    elif first:
        check_eq(expanded, 4095 * nonzero_fill_pages(inspect0),
                 f"{name}/{snap}: bytes the fill expansion adds")
    if TARGET.expands_fill_pages and image["accel"] == "tcg" and \
            image["writer"].startswith("qemu-kvm"):
        check(expanded > 0, f"{name}/{snap}: no fill page expanded")
        check(s["write"]["bytes-written"] >= new,
              f"{name}/{snap}: wrote {s['write']['bytes-written']} bytes "
              f"for a {new}-byte VM state that shifted everywhere")
    if expanded:
        check(new - old >= expanded, f"{name}/{snap}: grew {new - old} "
              f"bytes, less than the {expanded} R20 reports")
    return f"fill expansion +{expanded} bytes, " \
           f"{s['write']['bytes-written']} bytes written"


def vcpu_in_guest_code(r):
    """(True, line) when `info registers` shows a protected-mode code
    segment (the guest's), not the real-mode reset state."""
    m = CS_LINE.search(r.monitor.get("info registers", ""))
    return (bool(m) and m.group(2) != "CS16",
            m.group(0) if m else "no CS line in `info registers`")


def resume_snapshot(name, image, copy, snap_info, recipe, kvm, log):
    snap = snap_info["name"]
    if image["accel"] == "kvm" and not kvm.usable:
        log.append(f"{name}/{snap}: load SKIPPED (KVM not usable: "
                   f"{kvm.why})")
        return
    low, high = snap_info["expect_first_counter_between"]
    quiet_reason = fixlib.tsc_quiet_reason(image, copy, snap, kvm,
                                           LOAD_TIMEOUT)
    r = TARGET.load(image["device_args"], copy, snap, recipe,
                    accel=image["accel"],
                    timeout=KVM_SILENT_TIMEOUT if quiet_reason
                    else LOAD_TIMEOUT,
                    monitor=("info registers",) if image["accel"] == "kvm"
                    else ())
    log.append(f"{name}/{snap}: {TARGET.label} load: {r.summary()}")
    if image["accel"] == "kvm":
        ok, cs = vcpu_in_guest_code(r)
        check(ok, f"{name}/{snap}: the vCPU is not in the guest's code "
                  f"after the load: {cs}")
        log.append(f"{name}/{snap}: vCPU {cs}")
    if quiet_reason:
        check(r.loaded and r.status == "running" and not r.boot_seen,
              f"{name}/{snap}: {r.summary()}")
        log.append(f"{name}/{snap}: counter check SKIPPED: {quiet_reason}")
        return
    ok, why = resume.judge_resume(
        r, low, high, min_counters=1 if image["guest"] == "bare" else 3)
    check(ok, f"{name}/{snap}: {why}; stderr: {r.stderr[-300:]}")


EXIT_CODE = {"fixed": 0, "compatible": 0, "refused": 4}


def fix_one_at_a_time(name, copy, snaps, expect, dry, image, inspect0, log):
    """`fix --snapshot S` for each S in turn, checked against the dry
    run; every other snapshot's VM state stays byte-identical. Returns
    {snapshot: report}."""
    reports = {}
    for snap in snaps:
        others = {o: fixlib.vmstate_sha256(copy, o)
                  for o in snaps if o != snap}
        rc, rep, _ = fixlib.fix(copy, "--snapshot", snap,
                                f"--target={TARGET.name}", ok=(0, 4))
        s = reports[snap] = fixlib.by_name(rep)[snap]
        check_eq((rc, rep["changed"], s["status"]),
                 (EXIT_CODE[expect], expect == "fixed", expect),
                 f"{name}/{snap}: exit code, changed, status")
        for o, digest in others.items():
            check_eq(fixlib.vmstate_sha256(copy, o), digest,
                     f"{name}: VM state of {o} after fixing {snap}")
        fixlib.check_dry_run_matches(dry[snap], s, f"{name}/{snap}")
        rules = ",".join(f"{x['id']}:{x['action']}" for x in s["rules"])
        log.append(f"{name}/{snap}: {s['status']} [{rules}] "
                   f"{len(s['edits'])} edits, {s['vm-state-size']['old']} "
                   f"-> {s['vm-state-size']['new']} bytes")
        if expect == "compatible":
            # named by its CONFIGURATION record, else the one it ran
            check_eq(s["recipe"]["machine"],
                     inspect0["writer"].get("machine") or
                     image["source_machine"],
                     f"{name}/{snap}: the stream's own machine kept")
        elif expect == "fixed":
            log.append(f"{name}/{snap}: " + check_fixed_report(
                name, snap, s, image, inspect0, snap == snaps[0]))
        if expect != "refused" and image["accel"] == "kvm":
            check_eq(s["recipe"]["accel"], "kvm",
                     f"{name}/{snap}: recipe accel of a KVM stream")
    return reports


def check_nothing_left(name, copy, snaps, reports):
    """A second fix of each snapshot: compatible, nothing written, the
    same recipe derived from the fixed stream."""
    fixed_print = fixlib.file_fingerprint(copy)
    for snap in snaps:
        rc, again, _ = fixlib.fix(copy, "--snapshot", snap,
                                  f"--target={TARGET.name}")
        check_eq((rc, again["changed"], again["snapshots"][0]["status"]),
                 (0, False, "compatible"),
                 f"{name}/{snap}: exit code, changed, status of a second "
                 f"fix")
        check_eq(again["snapshots"][0]["recipe"], reports[snap]["recipe"],
                 f"{name}/{snap}: the recipe of a second fix")
    check_eq(fixlib.file_fingerprint(copy), fixed_print,
             f"{name}: image after a second fix")


def fix_image(image, images_dir, kvm):
    """All checks on one image; returns (log lines, failures)."""
    log, failures = [], []
    name = image["name"]
    original = os.path.join(images_dir, image["file"])
    work = tempfile.mkdtemp(prefix=f"qsnapfix-e2e-{TARGET.name}-{name}-")
    snaps = [s["name"] for s in image["snapshots"]]
    try:
        copy = resume.copy_image(original, work)
        old_state = {s: fixlib.vmstate_bytes(copy, s) for s in snaps[:1]}
        inspect0 = inspect(copy, snaps[0])
        expect = expected_status(image, inspect0)
        before = fixlib.file_fingerprint(copy)

        # 1. dry run: nothing written, a plan to compare with
        rc, dry, _ = fixlib.fix(copy, "--all", "--dry-run",
                                f"--target={TARGET.name}", ok=(0, 4))
        check_eq(fixlib.file_fingerprint(copy), before,
                 f"{name}: image after --dry-run")
        check_eq((rc, dry["changed"]),
                 (EXIT_CODE[expect], expect == "fixed"),
                 f"{name}: --dry-run exit code, changed")
        dry = fixlib.by_name(dry)

        # 2. unfixed: the target's QEMU refuses it
        if expect == "fixed" and (image["accel"] != "kvm" or kvm.usable):
            r = TARGET.load(image["device_args"], copy, snaps[0],
                            {"machine": TARGET.unfixed_machine(image),
                             "qemu-args": []},
                            accel=image["accel"], counters=1, timeout=20)
            check(not r.loaded, f"{name}: unfixed snapshot loaded in "
                                f"{TARGET.label}: {r.summary()}")
            log.append(f"{name}: unfixed: {r.summary()}")
            check_eq(fixlib.file_fingerprint(copy)[2], before[2],
                     f"{name}: size after the failed load")

        # 3. fix one snapshot at a time
        reports = fix_one_at_a_time(name, copy, snaps, expect, dry, image,
                                    inspect0, log)
        if expect != "fixed":
            check_eq(fixlib.file_fingerprint(copy), before,
                     f"{name}: image after a fix that found it {expect}")
        if expect == "refused":
            return log, failures

        # 4. the 7.2 stream's vmdesc is kept after EOF (and says when the
        # fix framed the stream for another machine)
        if inspect0["vmdesc"] and expect == "fixed":
            new = vmdesc_json(fixlib.vmstate_bytes(copy, snaps[0]),
                              inspect(copy, snaps[0]))
            framed = new.pop("qsnapfix-framed-for", None)
            check_eq(framed, reports[snaps[0]]["recipe"]["machine"]
                     if any(r["id"] == "R18" for r in
                            reports[snaps[0]]["rules"]) else None,
                     f"{name}: the VM description's framing record")
            check(new == vmdesc_json(old_state[snaps[0]], inspect0),
                  f"{name}: the VM description changed")

        # 5. consistent, disks unchanged, nothing left to do
        fixlib.check_clean(copy)
        TARGET.check_clean(copy)
        fixlib.check_disks_equal(original, copy, snaps)
        check_nothing_left(name, copy, snaps, reports)

        # 6. resume in the target's QEMU
        for snap_info in image["snapshots"]:
            resume_snapshot(name, image, copy, snap_info,
                            reports[snap_info["name"]]["recipe"], kvm, log)
    except Exception as e:  # noqa: BLE001 - collected per image
        failures.append(f"{name}: {e}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return log, failures


def test_fix_and_resume_every_snapshot():
    images, images_dir = load_manifest()
    print(TARGET.ensure())
    kvm = Kvm()
    originals = {i["file"]: fixlib.file_fingerprint(
        os.path.join(images_dir, i["file"])) for i in images}
    failures = fixlib.for_each_image(
        images, lambda i: fix_image(i, images_dir, kvm), parallel=PARALLEL)
    for name, before in originals.items():
        if fixlib.file_fingerprint(os.path.join(images_dir, name)) != before:
            failures.append(f"{name}: the original image changed")
    check(not failures, "\n".join(failures))


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in targets.ALL:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(targets.ALL)}")
    TARGET = targets.ALL[sys.argv[1]]
    main([test_fix_and_resume_every_snapshot])
