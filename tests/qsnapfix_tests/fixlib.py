# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers of the `qsnapfix fix` end-to-end tests: run fix and read its JSON,
prove what a run wrote or did not write, compare disks per snapshot, load
a fixed snapshot with its recipe."""
import concurrent.futures
import json
import os
import shutil
import tempfile
import time

from qsnapfix_tests import resume
from qsnapfix_tests import vmstate_clocks
from qsnapfix_tests.testlib import (BIN, Failure, assert_check_clean,
                                    check, check_eq, file_fingerprint, run,
                                    sha256_file)


def fix(image, *args, ok=(0,)):
    """qsnapfix fix IMAGE ARGS --output=json -> (exit code, report)."""
    p = run([BIN, "fix", image, *map(str, args), "--output=json"],
            ok_codes=ok)
    try:
        return p.returncode, json.loads(p.stdout), p.stderr
    except ValueError as e:
        raise Failure(f"fix {image} {args}: no JSON ({e}): {p.stdout!r} "
                      f"{p.stderr!r}")


def oldify(image, snapshot, *args):
    return run([BIN, "oldify", image, "--snapshot", snapshot,
                *map(str, args)]).stdout


def edits_of(snap_report):
    return [(e["offset"], e["old-length"], e["length"])
            for e in snap_report["edits"]]


def by_name(report):
    return {s["name"]: s for s in report["snapshots"]}


def vmstate_sha256(image, snapshot):
    """The snapshot's VM state digest (qsnapfix extract --output=json)."""
    work = tempfile.mkdtemp(prefix="qsnapfix-digest-")
    try:
        out = os.path.join(work, "vmstate")
        p = run([BIN, "extract", image, "--snapshot", snapshot, "-o", out,
                 "--output=json"])
        return json.loads(p.stdout)["sha256"]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def vmstate_bytes(image, snapshot):
    work = tempfile.mkdtemp(prefix="qsnapfix-vmstate-")
    try:
        out = os.path.join(work, "vmstate")
        run([BIN, "extract", image, "--snapshot", snapshot, "-o", out])
        with open(out, "rb") as f:
            return f.read()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_disks_equal(original, fixed, snapshots):
    """qemu-img compare of each snapshot's disk and of the active disk."""
    run(["qemu-img", "compare", "-q", "-f", "qcow2", "-F", "qcow2",
         original, fixed])
    work = tempfile.mkdtemp(prefix="qsnapfix-disks-")
    try:
        for name in snapshots:
            a = os.path.join(work, "a.raw")
            b = os.path.join(work, "b.raw")
            for src, dst in ((original, a), (fixed, b)):
                run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", "-l",
                     f"snapshot.name={name}", src, dst])
            p = run(["qemu-img", "compare", "-q", "-f", "raw", "-F", "raw",
                     a, b], ok_codes=None)
            check(p.returncode == 0,
                  f"snapshot {name}: disk differs after the fix "
                  f"(qemu-img compare exit {p.returncode})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_clean(image):
    """qemu-img check: no corruption, no leak, exit 0."""
    data = assert_check_clean(image)
    return data


def load(device_args, image, snapshot, recipe, *, accel=None, counters=3,
         timeout=40.0):
    args = [a.replace("@IMAGE@", os.path.abspath(image)) for a in device_args]
    return resume.resume(args, loadvm=snapshot, machine=recipe["machine"],
                         accel=accel or recipe["accel"] or "tcg",
                         extra=recipe["qemu-args"], counters=counters,
                         timeout=timeout)


def check_dry_run_matches(dry, real, label):
    """The dry run's statuses, edit lists and write plans are the real
    run's."""
    check_eq(dry["status"], real["status"], f"{label}: dry-run status")
    check_eq(edits_of(dry), edits_of(real), f"{label}: dry-run edits")
    if real["write"]:
        for key in ("clusters-written", "clusters-shared",
                    "metadata-clusters"):
            check_eq(dry["write"][key], real["write"][key],
                     f"{label}: dry-run write.{key}")
        check(not dry["write"]["done"] and real["write"]["done"],
              f"{label}: write.done dry={dry['write']['done']} "
              f"real={real['write']['done']}")
    check_eq(dry["recipe"] and dry["recipe"]["qemu-args"],
             real["recipe"] and real["recipe"]["qemu-args"],
             f"{label}: dry-run recipe")


__all__ = ["fix", "oldify", "edits_of", "by_name", "vmstate_sha256",
           "vmstate_bytes", "check_disks_equal", "check_clean", "load",
           "check_dry_run_matches", "file_fingerprint", "sha256_file",
           "check", "check_eq", "Failure", "run", "BIN"]


def tsc_quiet_reason(image, copy, snap, kvm, timeout):
    """Why a bare-metal guest loaded under KVM here will print nothing for
    longer than timeout, or None. Its loop is timed by the TSC, and this
    host's KVM does not restore the saved TSC (docs/tsc-after-load.md): it
    stays silent until the host's TSC passes the saved value."""
    if image["guest"] != "bare" or image["accel"] != "kvm":
        return None
    tsc = kvm.tsc()
    saved = vmstate_clocks.clocks(vmstate_bytes(copy, snap))["cpu.tsc"]
    wait = tsc.seconds_until_host_passes(saved)
    if tsc.restored or wait <= timeout:
        return None
    return (f"{tsc.describe()}; this TSC-timed guest stays silent for "
            f"{wait:.0f}s")


def for_each_image(images, work, *, parallel=2):
    """work(image) -> (log lines, failures) on every image, `parallel` at
    a time; prints the logs in manifest order and a timing line, returns
    every failure."""
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
        results = list(pool.map(work, images))
    failures = []
    for log, fails in results:
        for line in log:
            print(line)
        failures += fails
    print(f"{sum(len(i['snapshots']) for i in images)} snapshots of "
          f"{len(images)} images in {time.monotonic() - t0:.1f}s "
          f"({parallel} at a time)")
    return failures


class Kvm:
    """Whether KVM images can be loaded, and whether their TSC-timed guest
    can be expected to print (decided once)."""

    def __init__(self):
        self.usable, self.why = resume.kvm_usable()
        self._tsc = None

    def tsc(self):
        if self._tsc is None:
            from qsnapfix_tests import kvm_tsc
            self._tsc = kvm_tsc.probe()
        return self._tsc
