#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`qsnapfix prove --target=TARGET` on every snapshot of every real image
of ../shared/images/manifest.json, in that target's QEMU
(qsnapfix_tests/targets.py). Usage: test_prove.py TARGET.

The images are not fixed first: prove loads what fix would write (its
edits applied on the fly), paused, with the recipe and the image's own
device_args, and asks QMP. For every snapshot:

* a qemu-kvm stream loads (exit 0, status "loads", run state "paused",
  QEMU's run under a second or two); QEMU 7.2's own streams load on 7.2
  and 10.0 and are refused by the rules for 2.0 (exit 4, nothing loaded);
* the warnings the recipe says to expect are the ones QEMU printed: the
  missing VM description on QEMU >= 2.3 for every stream without one,
  the deprecated machine type;
* --as-is (the stream as the snapshot holds it, unfixed) does not load a
  qemu-kvm stream (exit 19) and names QEMU's own error;
* the image is byte-identical afterwards (nothing is written).

KVM images need a usable /dev/kvm (else prove says "unproven", exit 20,
and the test says so). Two images are worked on at a time.
"""
import os
import sys

from qsnapfix_tests import fixlib, targets
from qsnapfix_tests.fixlib import Kvm, check, check_eq
from qsnapfix_tests.testlib import BIN, load_manifest, main, run

PARALLEL = 2
TARGET = None  # set by __main__


def prove(image, path, *args):
    return TARGET.prove(image, path, *args)


def expected_status(image):
    if image["writer"].startswith("qemu-7.2") and TARGET.name == "qemu-2.0":
        return "refused"
    return "loads"


def prove_image(image, images_dir, kvm):
    log, failures = [], []
    name = image["name"]
    path = os.path.join(images_dir, image["file"])
    try:
        before = fixlib.file_fingerprint(path)
        if image["accel"] == "kvm" and not kvm.usable:
            rc, rep = prove(image, path)
            check_eq(rc, 20, f"{name}: exit code without KVM")
            log.append(f"{name}: unproven as expected: KVM not usable "
                       f"({kvm.why})")
            return log, failures
        want = expected_status(image)
        rc, rep = prove(image, path)
        check_eq(rc, {"loads": 0, "refused": 4}[want], f"{name}: exit code")
        for s in rep["snapshots"]:
            what = f"{name}/{s['name']}"
            check_eq(s["status"], want, f"{what}: status ({s['reason']})")
            if want != "loads":
                log.append(f"{what}: {s['status']}")
                continue
            check_eq(s["run-state"], "paused", f"{what}: run state")
            seen = set(s["expected-warnings-seen"])
            said = {w["message"] for w in s["recipe"]["expected-warnings"]}
            check_eq(seen, said, f"{what}: the warnings QEMU printed")
            log.append(f"{what}: loads in {s['seconds']:.1f}s "
                       f"({s['stream-bytes']} bytes, "
                       f"{'edited' if s['edited'] else 'as it is'}; "
                       f"expected warnings seen: {len(seen)})")
        if image["writer"].startswith("qemu-kvm"):
            rc, rep = prove(image, path, "--as-is")
            check_eq(rc, 19, f"{name}: exit code of --as-is")
            for s in rep["snapshots"]:
                errors = targets.without_noise("\n".join(s["qemu-output"]))
                check(s["status"] == "fails" and errors,
                      f"{name}/{s['name']}: --as-is: {s['status']}, "
                      f"{s['reason']}")
                log.append(f"{name}/{s['name']}: as it is: "
                           f"{errors.splitlines()[-1][:150]}")
        check_eq(fixlib.file_fingerprint(path), before,
                 f"{name}: the image after prove")
    except Exception as e:  # noqa: BLE001 - collected per image
        failures.append(f"{name}: {e}")
    return log, failures


def test_prove_says_why_it_cannot():
    """Exit 20 with the reason when the proof cannot be tried: no such
    QEMU, or a QEMU of another release than the target (the host's 7.2
    for qemu-10.0)."""
    images, images_dir = load_manifest()
    path = os.path.join(images_dir, images[0]["file"])
    p = run([BIN, "prove", path, "--qemu=/nonexistent/qemu"], ok_codes=(20,))
    check("/nonexistent/qemu: no such program" in p.stderr, p.stderr)
    if TARGET.script:
        p = run([BIN, "prove", path, f"--target={TARGET.name}"],
                ok_codes=(20,))
        check(f"not {TARGET.name}: give the target's QEMU with --qemu" in
              p.stderr, p.stderr)


def test_prove_every_snapshot():
    images, images_dir = load_manifest()
    print(TARGET.ensure())
    kvm = Kvm()
    failures = fixlib.for_each_image(
        images, lambda i: prove_image(i, images_dir, kvm),
        parallel=PARALLEL)
    check(not failures, "\n".join(failures))


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in targets.ALL:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(targets.ALL)}")
    TARGET = targets.ALL[sys.argv[1]]
    main([test_prove_says_why_it_cannot, test_prove_every_snapshot])
