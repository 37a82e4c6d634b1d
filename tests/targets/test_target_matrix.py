#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The recipe is a function of the stream and the target: for every real
image x of ../shared and every pair of targets A, B (qemu-7.2, qemu-10.0,
qemu-2.0), on a copy:

* fix_A(x): fixed (or compatible), except QEMU 7.2's own streams for
  qemu-2.0 (refused: a QEMU newer than the target wrote them);
* recipe_A(fix_A(x)) == recipe_A(x): a second `fix --target A` has nothing
  to do and derives the very recipe of the first (machine, accelerator,
  CPU, settings, files, notes, expected warnings), without --machine;
* the writer of fix_A(x) is never an inverted range of versions: a
  qemu-kvm stream is recognised as translated, with its original writer's
  version;
* recipe_B(fix_A(x)) loads in B: `qsnapfix prove --target B` on fix_A(x)
  (B's QEMU, paused, with the image's device_args) says "loads" -- with
  the edits fix_B would make applied on the fly -- or, for QEMU 7.2's own
  streams on qemu-2.0, that the rules refuse them;
* `scan --target B` (the tail path) says what prove found: "fixable"
  where the proof needed the fix's edits, "compatible" where it did not,
  "refused" where the rules refuse.

Every target QEMU must be here (the host's 7.2, scripts/qemu10,
scripts/qemu20); KVM images are proven where KVM is usable. Two images
are worked on at a time; a run takes a few minutes.
"""
import json
import os
import shutil
import tempfile

from qsnapfix_tests import fixlib, targets
from qsnapfix_tests.fixlib import Kvm, check, check_eq
from qsnapfix_tests.testlib import BIN, load_manifest, main, run

PARALLEL = 2
ORDER = ("qemu-7.2", "qemu-10.0", "qemu-2.0")


def newer_than(image, target):
    return image["writer"].startswith("qemu-7.2") and target == "qemu-2.0"


def scan_verdicts(path, target):
    p = run([BIN, "scan", path, f"--target={target}", "--output=json"],
            ok_codes=(0, 4, 17))
    return {s["name"]: s["verdict"]
            for s in json.loads(p.stdout)["images"][0]["snapshots"]
            if s["verdict"] != "disk-only"}


def check_writer(image, what, w):
    version = w["version"] or ""
    if ".." in version:
        lo, hi = version.split("..")
        check(tuple(map(int, lo.split("."))) <= tuple(map(int, hi.split("."))),
              f"{what}: writer range {version} is inverted")
    if image["writer"].startswith("qemu-kvm"):
        check(w["program"] == "qemu-kvm" and w["translated"],
              f"{what}: writer {w}: not recognised as a translated "
              f"qemu-kvm stream")
        want = image["writer"].split("-")[2]  # qemu-kvm-1.2.0 -> 1.2.0
        check(want.startswith(version),
              f"{what}: writer version {version}, the image's is {want}")


def matrix_image(image, images_dir, kvm):
    log, failures = [], []
    name = image["name"]
    if image["accel"] == "kvm" and not kvm.usable:
        return [f"{name}: SKIPPED (KVM not usable: {kvm.why})"], []
    work = tempfile.mkdtemp(prefix=f"qsnapfix-matrix-{name}-")
    try:
        for a in ORDER:
            copy = os.path.join(work, f"{a}.qcow2")
            shutil.copyfile(os.path.join(images_dir, image["file"]), copy)
            rc, first, err = fixlib.fix(copy, "--all", f"--target={a}",
                                        ok=(0, 4))
            if newer_than(image, a):
                check_eq(rc, 4, f"{name}: fix {a}: exit code")
                log.append(f"{name}: fix {a}: refused as expected")
                continue
            check_eq(rc, 0, f"{name}: fix {a}: exit code: {err}")
            rc, again, _ = fixlib.fix(copy, "--all", f"--target={a}")
            check_eq((rc, again["changed"]), (0, False),
                     f"{name}: a second fix {a}: exit code, changed")
            firsts, agains = fixlib.by_name(first), fixlib.by_name(again)
            for snap, s in agains.items():
                check_eq(s["recipe"], firsts[snap]["recipe"],
                         f"{name}/{snap}: recipe_{a}(fix_{a}(x))")
                check_writer(image, f"{name}/{snap}: fix_{a}(x)",
                             s["writer"])
            row = []
            for b in ORDER:
                rc, rep = targets.ALL[b].prove(image, copy)
                want = "refused" if newer_than(image, b) else "loads"
                verdicts = scan_verdicts(copy, b)
                for s in rep["snapshots"]:
                    check_eq(s["status"], want,
                             f"{name}/{s['name']}: prove {b} on fix_{a}(x) "
                             f"({s['reason']})")
                    check_eq(verdicts[s["name"]],
                             "refused" if want == "refused" else
                             "fixable" if s["edited"] else "compatible",
                             f"{name}/{s['name']}: scan {b} on fix_{a}(x)")
                row.append(f"{b} {want}")
            log.append(f"{name}: fix_{a}(x) -> " + ", ".join(row))
    except Exception as e:  # noqa: BLE001 - collected per image
        failures.append(f"{name}: {e}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return log, failures


def test_every_pair_of_targets():
    images, images_dir = load_manifest()
    for t in ORDER:
        print(targets.ALL[t].ensure())
    kvm = Kvm()
    failures = fixlib.for_each_image(
        images, lambda i: matrix_image(i, images_dir, kvm),
        parallel=PARALLEL)
    check(not failures, "\n".join(failures))


if __name__ == "__main__":
    main([test_every_pair_of_targets])
