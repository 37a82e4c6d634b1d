#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`qsnapfix fix --target=qemu-10.0` on every snapshot of every real image
of ../shared/images/manifest.json, on copies, loaded into QEMU 10.0:

* unfixed, QEMU 10.0 -M pc-i440fx-2.4 with the image's device_args does
  not load the snapshot (images written for machines older than 2.4);
* fixed: exit 0 and status "fixed" (or "compatible", exit 3, for a stream
  already written for a machine QEMU 10.0 has, e.g. pc-i440fx-7.2); the
  growth of the VM state is reported: the R20 findings' byte counts, the
  old and new sizes, and the bytes the write made;
* a 7.2 stream keeps its VM description (vmdesc) after EOF;
* `qemu-img check` (7.2 and 10.0) is clean and a second run has nothing
  to do and writes nothing;
* QEMU 10.0 started with -M <recipe machine>, the image's device_args,
  the recipe's qemu_args and -loadvm resumes the guest: first counter in
  expect_first_counter_between, no CEO-BOOT.

KVM images need a usable /dev/kvm. Their bare-metal guest times itself by
the TSC, which this host's KVM may not restore on a load
(docs/tsc-after-load.md): as in tests/e2e-fix, the counter check is then
skipped with the measured reason and the load itself is still checked.
Two images are worked on at a time.
"""
import concurrent.futures
import os
import shutil
import tempfile
import time

import q10lib
from qsnapfix_tests import fixlib
from qsnapfix_tests.fixlib import Kvm, check, check_eq, load_manifest
from qsnapfix_tests import resume
from qsnapfix_tests.testlib import main

PARALLEL = 2
LOAD_TIMEOUT = 40.0
KVM_SILENT_TIMEOUT = 8.0


def grown_by_fill_expansion(snap_report):
    """Bytes the R20 findings say the expansion adds."""
    total = 0
    for r in q10lib.rule_text(snap_report, "R20"):
        words = r["change"].split("grows by ")[1].split()
        total += int(words[0])
    return total


def nonzero_fill_pages(inspect):
    """Fill page records whose byte is not 0, as `qsnapfix inspect` counts
    them per RAM block."""
    return sum(n for b in inspect["ram_blocks"]
               for byte, n in b["fill_bytes"].items() if byte != "0")


def vmdesc_bytes(data, inspect):
    vd = inspect["vmdesc"]
    return data[vd["offset"]:vd["offset"] + 5 + vd["size"]] if vd else None


def fix_image(image, images_dir, kvm):
    log, failures = [], []
    name = image["name"]
    original = os.path.join(images_dir, image["file"])
    work = tempfile.mkdtemp(prefix=f"qsnapfix-e2e-q10-{name}-")
    snaps = [s["name"] for s in image["snapshots"]]
    try:
        copy = resume.copy_image(original, work)
        old_state = {s: fixlib.vmstate_bytes(copy, s) for s in snaps[:1]}
        inspect0 = fixlib.run([fixlib.BIN, "inspect", copy, "-s", snaps[0],
                               "--output=json"]).stdout
        import json
        inspect0 = json.loads(inspect0)
        machine = inspect0["writer"].get("machine")
        upgraded = machine is None  # no CONFIGURATION: machine < 2.4

        # 1. unfixed: QEMU 10.0 -M pc-i440fx-2.4 refuses it
        if upgraded and (image["accel"] != "kvm" or kvm.usable):
            r = q10lib.load(image["device_args"], copy, snaps[0],
                            {"machine": q10lib.MACHINE, "qemu_args": []},
                            accel=image["accel"], counters=1, timeout=20)
            check(not r.loaded, f"{name}: unfixed snapshot loaded in QEMU "
                                f"10.0: {r.summary()}")
            log.append(f"{name}: unfixed: {r.summary()}")

        # 2. fix every snapshot
        rc, rep, _ = fixlib.fix(copy, "--all", f"--target={q10lib.TARGET}")
        reports = fixlib.by_name(rep)
        check_eq(rc, 0 if upgraded else 3, f"{name}: exit code")
        for snap in snaps:
            s = reports[snap]
            check_eq(s["status"], "fixed" if upgraded else "compatible",
                     f"{name}/{snap}: status")
            rules = ",".join(f"{x['id']}:{x['action']}" for x in s["rules"])
            old, new = s["vm_state_size"]["old"], s["vm_state_size"]["new"]
            log.append(f"{name}/{snap}: {s['status']} [{rules}] "
                       f"{len(s['edits'])} edits, {old} -> {new} bytes")
            if not upgraded:
                check_eq(s["recipe"]["machine"], machine,
                         f"{name}/{snap}: the stream's own machine kept")
                continue
            check_eq(s["recipe"]["machine"], q10lib.MACHINE,
                     f"{name}/{snap}: recipe machine")
            expanded = grown_by_fill_expansion(s)
            check_eq(expanded, 4095 * nonzero_fill_pages(inspect0)
                     if snap == snaps[0] else expanded,
                     f"{name}/{snap}: bytes the fill expansion adds")
            if image["writer"].startswith("qemu-kvm") and \
                    image["accel"] == "tcg":
                check(expanded > 0, f"{name}/{snap}: no fill page expanded")
            check(new - old >= expanded, f"{name}/{snap}: grew {new - old} "
                  f"bytes, less than the {expanded} R20 reports")
            check(s["write"]["bytes_written"] >= new,
                  f"{name}/{snap}: wrote {s['write']['bytes_written']} bytes "
                  f"for a {new}-byte VM state that shifted everywhere")
            log.append(f"{name}/{snap}: fill expansion +{expanded} bytes, "
                       f"{s['write']['bytes_written']} bytes written")

        # 3. the 7.2 stream's vmdesc is kept after EOF
        if inspect0["vmdesc"] and upgraded:
            inspect1 = json.loads(fixlib.run(
                [fixlib.BIN, "inspect", copy, "-s", snaps[0],
                 "--output=json"]).stdout)
            check(vmdesc_bytes(fixlib.vmstate_bytes(copy, snaps[0]),
                               inspect1) ==
                  vmdesc_bytes(old_state[snaps[0]], inspect0),
                  f"{name}: the VM description changed")

        # 4. consistent, nothing left to do
        fixlib.check_clean(copy)
        q10lib.check_clean_10(copy)
        fixed_print = fixlib.file_fingerprint(copy)
        rc, again, _ = fixlib.fix(copy, "--all", f"--target={q10lib.TARGET}")
        check_eq(rc, 3, f"{name}: exit code of a second fix")
        check_eq(fixlib.file_fingerprint(copy), fixed_print,
                 f"{name}: image after a second fix")

        # 5. resume in QEMU 10.0
        for snap_info in image["snapshots"]:
            snap = snap_info["name"]
            recipe = reports[snap]["recipe"]
            if image["accel"] == "kvm" and not kvm.usable:
                log.append(f"{name}/{snap}: load SKIPPED (KVM not usable: "
                           f"{kvm.why})")
                continue
            low, high = snap_info["expect_first_counter_between"]
            quiet_reason = fixlib.tsc_quiet_reason(image, copy, snap, kvm,
                                                   LOAD_TIMEOUT)
            r = q10lib.load(image["device_args"], copy, snap, recipe,
                            accel=image["accel"],
                            timeout=KVM_SILENT_TIMEOUT if quiet_reason
                            else LOAD_TIMEOUT)
            log.append(f"{name}/{snap}: QEMU 10.0 load: {r.summary()}")
            if quiet_reason:
                check(r.loaded and r.status == "running" and
                      not r.boot_seen, f"{name}/{snap}: {r.summary()}")
                log.append(f"{name}/{snap}: counter check SKIPPED: "
                           f"{quiet_reason}")
                continue
            ok, why = resume.judge_resume(
                r, low, high,
                min_counters=1 if image["guest"] == "bare" else 3)
            check(ok, f"{name}/{snap}: {why}; stderr: {r.stderr[-300:]}")
    except Exception as e:  # noqa: BLE001 - collected per image
        failures.append(f"{name}: {e}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return log, failures


def test_fix_for_qemu10_and_resume_every_snapshot():
    images, images_dir = load_manifest()
    print(q10lib.ensure())
    kvm = Kvm()
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(lambda i: fix_image(i, images_dir, kvm),
                                images))
    failures = []
    for log, fails in results:
        for line in log:
            print(line)
        failures += fails
    print(f"{sum(len(i['snapshots']) for i in images)} snapshots of "
          f"{len(images)} images in {time.monotonic() - t0:.1f}s "
          f"({PARALLEL} at a time)")
    check(not failures, "\n".join(failures))


if __name__ == "__main__":
    main([test_fix_for_qemu10_and_resume_every_snapshot])
