#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`qsnapfix scan --guest` on a store of images whose guest the test made
(tests/qsnapfix_tests/guest_images.py), one of them held by a running
qemu-system-x86_64:

* JSON, --guest-snapshots, --jobs 2: every disk's type, distro, product
  name, version, hostname, arch and root as the images were made (the
  active disk and each snapshot's: Ubuntu 12.10 now, 12.04 in the
  snapshot), "unknown" with no OS, the cost of each and the totals, the
  held image identified and still reported in use, its QEMU undisturbed,
  nothing in the store written;
* the human report: the guest line, "unknown", the cost summary;
* a disk libguestfs cannot open (its backing file is gone): one line
  saying so, exit 15;
* a plain scan never loads libguestfs; a libguestfs.so.0 that is not
  libguestfs: exit 18 and "install libguestfs0", nothing scanned.

Every disk inspected boots libguestfs's appliance (TCG in the tests): the
store is small and nothing depends on timing."""
import json
import os
import shutil
import tempfile

from qsnapfix_tests import guest_images, testlib
from qsnapfix_tests.testlib import (BIN, check, check_eq, file_fingerprint,
                                    main, run, skip)

IMAGES = os.environ.get("QSNAPFIX_GUEST_IMAGES")
SCAN_TIMEOUT = 1800  # seconds: appliances under TCG on a loaded host
MISSING_TOOL = 18


class Store:
    root = None
    qemu = None  # the monitor of the QEMU holding held.qcow2

    def path(self, *parts):
        return os.path.join(self.root, *parts)


STORE = Store()


def build_store():
    STORE.root = tempfile.mkdtemp(prefix="qsnapfix-guest-store-")
    for image in guest_images.IMAGES:
        shutil.copy(os.path.join(IMAGES, image), STORE.path(image))
    held = STORE.path("held.qcow2")
    shutil.copy(os.path.join(IMAGES, "debian12.qcow2"), held)
    STORE.qemu = testlib.hold_image(held)


def stop_store():
    if STORE.qemu:
        STORE.qemu.quit()
    if STORE.root:
        shutil.rmtree(STORE.root, ignore_errors=True)


def store_state():
    return {name: file_fingerprint(STORE.path(name))
            for name in sorted(os.listdir(STORE.root))}


def expected(image, snapshot=None):
    if image == "held.qcow2":
        image = "debian12.qcow2"
    return guest_images.EXPECTED[(image, snapshot)]


def check_guest(guest, want, what):
    check(guest is not None, f"{what}: no guest member")
    check_eq(guest["status"], "identified" if want else "unknown",
             f"{what}: status")
    # (expected.json is the test's own, in Python's names)
    want = [{k.replace("_", "-"): v for k, v in os.items()} for os in want]
    check_eq(guest["operating-systems"], want, f"{what}: operating systems")
    check(guest["seconds"] > 0, f"{what}: the inspection's cost")


def test_scan_guest_json_reports_every_disk():
    before = store_state()
    p = run([BIN, "scan", "--guest", "--guest-snapshots", "--jobs", "2",
             "--output=json", STORE.root], timeout=SCAN_TIMEOUT)
    doc = json.loads(p.stdout)
    check_eq(doc["exit-code"], 0, "exit code")
    images = {os.path.basename(i["path"]): i for i in doc["images"]}
    check_eq(sorted(images), sorted(guest_images.IMAGES + ["held.qcow2"]),
             "images scanned")
    disks = 0
    for name, im in images.items():
        check_guest(im.get("guest"), expected(name), name)
        disks += 1
        for s in im["snapshots"]:
            what = f"{name} snapshot {s['name']}"
            if name == "debian12.qcow2" or name == "held.qcow2":
                want = expected(name)  # savevm: the same disk as now
            else:
                want = expected(name, s["name"])
            check_guest(s.get("guest"), want, what)
            disks += 1
    check_eq(images["held.qcow2"]["in-use"], True, "held image: in use")
    check_eq([s["verdict"] for s in images["held.qcow2"]["snapshots"]],
             ["compatible"], "held image: its snapshot judged as ever")
    g = doc["guests"]
    check_eq((g["inspected"], g["identified"], g["unknown"], g["errors"]),
             (disks, disks - 1, 1, 0), "guest totals")
    check(g["seconds"] > 0 and g["elapsed-seconds"] > 0, "guest costs")
    print(f"     {disks} disks: {g['seconds']:.1f} s of appliance time, "
          f"{g['elapsed-seconds']:.1f} s elapsed with --jobs 2")
    check_eq(store_state(), before, "store after scan --guest")
    out = STORE.qemu.cmd("info status")
    check("paused" in out, f"the held image's QEMU: {out!r}")


def test_scan_guest_human_report():
    no_os = STORE.path("no-os.qcow2")
    p = run([BIN, "scan", "--guest", no_os], timeout=SCAN_TIMEOUT)
    check("  guest: unknown: no operating system found (" in p.stdout,
          f"no-os: {p.stdout!r}")
    check("guests:     1 disk inspected: 0 identified, 1 unknown, 0 could "
          "not be inspected;" in p.stdout, f"summary: {p.stdout!r}")
    check(" s elapsed with --jobs " in p.stdout, f"cost: {p.stdout!r}")


def test_disk_libguestfs_cannot_open_is_an_error():
    """An image whose backing file is gone: qsnapfix reads its header,
    libguestfs cannot add it (its qemu-img fails on the overlay); the error
    is reported in one line, the scan exits 15 (something could not be
    read), the image itself is still scanned."""
    work = tempfile.mkdtemp(prefix="qsnapfix-guest-orphan-")
    try:
        base = os.path.join(work, "base.qcow2")
        orphan = os.path.join(work, "orphan.qcow2")
        run(["qemu-img", "create", "-q", "-f", "qcow2", base, "16M"])
        run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", base,
             "-F", "qcow2", orphan])
        os.unlink(base)
        p = run([BIN, "scan", "--guest", "--output=json", orphan],
                ok_codes=None, timeout=SCAN_TIMEOUT)
        check_eq(p.returncode, 15, "exit code")
        doc = json.loads(p.stdout)
        im = doc["images"][0]
        check_eq(im["status"], "scanned", "the image itself")
        g = im["guest"]
        check_eq(g["status"], "error", "guest status")
        check_eq(g["error"]["exit-code"], 5, "guest error's exit code")
        check(g["error"]["message"].startswith("libguestfs: add drive: ")
              and "\n" not in g["error"]["message"],
              f"the reason: {g['error']['message']!r}")
        check_eq((doc["guests"]["inspected"], doc["guests"]["errors"]),
                 (1, 1), "guest totals")
        check(f"qsnapfix: {orphan}: guest inspection: libguestfs: "
              in p.stderr, f"stderr: {p.stderr!r}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def loads_libguestfs(*args):
    """Run scan with the loader's trace: did it open libguestfs.so.0?"""
    env = dict(os.environ, LD_DEBUG="files")
    p = run([BIN, "scan", *args], env=env, ok_codes=None,
            timeout=SCAN_TIMEOUT)
    return p, "libguestfs.so.0" in p.stderr


def test_plain_scan_never_loads_libguestfs():
    p, loaded = loads_libguestfs(STORE.path("fedora17.qcow2"))
    check_eq(p.returncode, 0, "plain scan")
    check(not loaded, "a scan without --guest loaded libguestfs")
    check("guest:" not in p.stdout and "guests:" not in p.stdout,
          f"plain scan output: {p.stdout!r}")


def test_without_libguestfs_exit_18():
    fake = os.environ["FAKE_LIBGUESTFS_DIR"]
    env = dict(os.environ, LD_LIBRARY_PATH=fake)
    for args in (["--guest"], ["--guest-snapshots", "--output=json"]):
        p = run([BIN, "scan", *args, STORE.root], env=env, ok_codes=None)
        check_eq(p.returncode, MISSING_TOOL, f"scan {args}: exit code")
        check("install libguestfs0" in p.stderr, f"scan {args}: {p.stderr!r}")
        check_eq(p.stdout, "", f"scan {args}: nothing scanned")


if __name__ == "__main__":
    if not IMAGES:
        skip("QSNAPFIX_GUEST_IMAGES is not set (run through ctest)")
    if not os.path.exists(os.path.join(IMAGES, "expected.json")):
        skip(f"no guest images in {IMAGES}")
    p = run([BIN, "scan", "--guest", "--jobs", "1", os.devnull],
            ok_codes=None)
    if p.returncode == MISSING_TOOL:
        skip(p.stderr.strip())
    build_store()
    try:
        main([test_without_libguestfs_exit_18,
              test_plain_scan_never_loads_libguestfs,
              test_disk_libguestfs_cannot_open_is_an_error,
              test_scan_guest_human_report,
              test_scan_guest_json_reports_every_disk])
    finally:
        stop_store()
