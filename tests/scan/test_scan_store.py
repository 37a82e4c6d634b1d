#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`qsnapfix scan` over a store the test builds from images real QEMU made:

* the qcow2 fixture matrix (tests/qsnapfix_tests/fixtures.py: every cluster
  size, refcount width, compression, extended L2, backing and data files, disk-
  only snapshots, synthetic VM states that are not streams);
* the project's guest saved by QEMU 7.2 (compatible), the same reshaped
  like qemu-kvm 1.0 (`qsnapfix oldify`; named .img: found by magic), a qxl
  guest reshaped like qemu-kvm 1.2 (no extension; R10 reads the ROM's
  pages: the scan walks that one in full), two refusals (a qxl ROM past
  8 KiB; a device the target lacks);
* a disk-only image, a raw file named .qcow2 and a text file (skipped), a
  stream cut short (snapshot error) and a header pointing past the end of
  the file (image error), a copy with the dirty bit (fix blocked, exit 7),
  a copy held by a running qemu-system-x86_64 (in use, fix blocked, exit
  6), symlinks: a loop, a self loop, a dangling one, an alias of an image.

It checks the verdicts and facts, that the default scan and --full agree on
every snapshot and --full says what `fix --dry-run` says, the exit codes,
that the store (checksums, mtimes, directory listings) is unchanged after
every kind of scan, that the held image is reported in use and its QEMU
undisturbed, --jobs, the human table, unreadable files (as an unprivileged
user) and the command line."""
import json
import os
import shutil
import struct
import subprocess
import tempfile

import scanlib
from scanlib import (NEEDS_FIX, OK, PARTIAL, REFUSED, check,
                     check_eq, scan)
from qsnapfix_tests import fixtures
from qsnapfix_tests import guest_fixture
from qsnapfix_tests import stores
from qsnapfix_tests.stores import copy
from qsnapfix_tests import testlib
from qsnapfix_tests.testlib import BIN, main, run, skip

QXL = ("-m", "128", "-hda", "@IMAGE@", "-vga", "qxl", "-net",
       "nic,model=rtl8139", "-net", "user")


class Store:
    """The store, built once for all tests of this run."""
    root = None
    qemu = None  # the monitor of the QEMU holding in-use.qcow2

    def path(self, *parts):
        return os.path.join(self.root, *parts)


STORE = Store()


def guest(dest, device_args=guest_fixture.GUEST_DEVICE_ARGS, oldify=None):
    """The project's guest saved by QEMU 7.2 (cached), maybe reshaped."""
    return stores.guest_image(dest, oldify, device_args)


def build_store():
    root = tempfile.mkdtemp(prefix="qsnapfix-scan-store-")
    os.chmod(root, 0o755)
    STORE.root = root
    for d in ("fixtures", "guest", "refused", "damaged", "links"):
        os.mkdir(os.path.join(root, d))

    # the fixture matrix: images and the files they refer to
    for fx in fixtures.fixtures():
        for f in os.listdir(os.path.dirname(fx.path)):
            if f.startswith(fx.name) and not f.endswith(".qemu-vmstate"):
                src = os.path.join(os.path.dirname(fx.path), f)
                if not os.path.exists(STORE.path("fixtures", f)):
                    copy(src, STORE.path("fixtures", f))

    g72 = guest(STORE.path("guest", "qemu-7.2.qcow2"))
    qk10 = guest(STORE.path("guest", "qk10.img"),
                 oldify=["--as", "qemu-kvm-1.0"])
    guest(STORE.path("guest", "qk12-qxl"), QXL,
          oldify=["--as", "qemu-kvm-1.2"])
    guest(STORE.path("refused", "qxl-rom-past-8k.qcow2"), QXL,
          oldify=["--as", "qemu-kvm-1.2", "--qxl-modes", "224"])
    guest(STORE.path("refused", "pci-assign.qcow2"),
          oldify=["--as", "qemu-kvm-1.0", "--add-section",
                  "0000:00:06.0/pci-assign"])

    disk_only = STORE.path("disk-only.qcow2")
    testlib.qemu_img("create", "-q", "-f", "qcow2", disk_only, "16M")
    testlib.qemu_img("snapshot", "-c", "before-upgrade", disk_only)
    testlib.qemu_img("create", "-q", "-f", "raw", STORE.path("raw.qcow2"),
                     "1M")
    with open(STORE.path("notes.txt"), "w") as f:
        f.write("not an image\n")

    cut = copy(g72, STORE.path("damaged", "stream-cut-short.qcow2"))
    size = fixtures.snapshot_entries(cut)[0][1]["vm_state_size32"]
    fixtures.set_vm_state_size(cut, 0, size // 2)
    bad = copy(g72, STORE.path("damaged", "l1-past-eof.qcow2"))
    fixtures.patch(bad, 40, struct.pack(">Q", 1 << 40))  # l1_table_offset

    dirty = copy(qk10, STORE.path("dirty.qcow2"))
    hd = fixtures.header_fields(dirty)
    fixtures.patch(dirty, 72, struct.pack(
        ">Q", hd["incompatible_features"] | 1))

    os.symlink("..", STORE.path("links", "up"))
    os.symlink("self", STORE.path("links", "self"))
    os.symlink("nowhere", STORE.path("links", "dangling"))
    os.symlink("../guest/qemu-7.2.qcow2", STORE.path("links", "alias.qcow2"))

    in_use = copy(qk10, STORE.path("in-use.qcow2"))
    STORE.qemu = testlib.hold_image(in_use)


def stop_store():
    if STORE.qemu:
        STORE.qemu.quit()
    if STORE.root:
        shutil.rmtree(STORE.root, ignore_errors=True)


# ---------------------------------------------------------------------------


def verdicts(doc, path):
    im = scanlib.images_by_path(doc)[path]
    return [(s["name"], s["verdict"]) for s in im["snapshots"]]


def test_every_image_gets_its_verdict_and_facts():
    rc, doc, err = scan(STORE.root)
    check_eq(rc, PARTIAL, "exit code with damaged images in the store")
    by = scanlib.images_by_path(doc)
    p = STORE.path

    check_eq(verdicts(doc, p("guest", "qemu-7.2.qcow2")),
             [("s1", "compatible")], "QEMU 7.2 guest")
    s = by[p("guest", "qk10.img")]["snapshots"][0]
    check_eq((s["verdict"], s["writer"]["program"], s["writer"]["version"]),
             ("fixable", "qemu-kvm", "1.0"), "oldified 1.0 guest")
    fired = {r["id"] for r in s["rules"]}
    check({"R1", "R2", "R4", "R6", "R9"} <= fired, f"1.0 rules: {fired}")
    check(all(r["evidence"] for r in s["rules"]), "every rule has evidence")
    check(s["fix"]["clusters-written"] > 0 and s["fix"]["bytes-written"] > 0,
          f"bytes a fix writes: {s['fix']}")
    check_eq(s["analysis"]["path"], "tail", "1.0 guest read by the tail")

    s = by[p("guest", "qk12-qxl")]["snapshots"][0]
    check_eq((s["verdict"], s["writer"]["version"]), ("fixable", "1.2"),
             "oldified 1.2 qxl guest (no file extension)")
    check(("R10", "edit") in scanlib.rules(s), f"R10 cut: {s['rules']}")
    check_eq((s["analysis"]["path"], s["analysis"]["full-walk-because"]),
             ("full", "R10"), "the qxl ROM needs its pages")

    s = by[p("refused", "qxl-rom-past-8k.qcow2")]["snapshots"][0]
    check_eq(s["verdict"], "refused", "qxl ROM past 8 KiB")
    check("R10" in s["reason"] and "content ends at" in s["reason"],
          f"reason: {s['reason']}")
    s = by[p("refused", "pci-assign.qcow2")]["snapshots"][0]
    check_eq((s["verdict"], s["analysis"]["path"]), ("refused", "tail"),
             "unknown device")
    check("pci-assign" in s["reason"] and "--drop-section" in s["reason"],
          f"reason: {s['reason']}")

    check_eq(verdicts(doc, p("disk-only.qcow2")),
             [("before-upgrade", "disk-only")], "disk-only image")
    check_eq(verdicts(doc, p("fixtures", "v2-multi.qcow2")),
             [("s1", "compatible"), ("d1", "disk-only"),
              ("s2", "compatible")], "v2-multi fixture")
    for f in ("c512", "c2m", "rc1", "rc64", "xl2", "zstd", "lazy"):
        v = {x for _, x in verdicts(doc, p("fixtures", f"{f}.qcow2"))}
        check_eq(v, {"compatible"}, f"fixture {f}")
    fx = by[p("fixtures", "c512.qcow2")]["format"]
    check_eq((fx["version"], fx["cluster-size"]), (3, 512), "c512 facts")
    fx = by[p("fixtures", "overlay.qcow2")]["format"]
    check_eq(fx["backing-filename"], "overlay-base.qcow2", "overlay facts")

    s = by[p("damaged", "stream-cut-short.qcow2")]["snapshots"][0]
    check_eq((s["verdict"], s["exit-code"]), ("error", 14), "stream cut short")
    im = by[p("damaged", "l1-past-eof.qcow2")]
    check_eq((im["status"], im["error"]["exit-code"]), ("error", 10),
             "header damage")
    check("past the end of the file" in im["error"]["message"],
          im["error"]["message"])
    check(p("damaged", "l1-past-eof.qcow2") in err, f"stderr: {err}")

    im = by[p("dirty.qcow2")]
    check_eq((im["format"]["dirty-flag"], im["fix-blocked"]["exit-code"],
              im["snapshots"][0]["verdict"], im["snapshots"][0]["fix"]["exact"]),
             (True, 7, "fixable", False), "dirty image")
    check("qemu-img check -r all" in im["fix-blocked"]["message"],
          im["fix-blocked"]["message"])

    skipped = {s["path"]: s["reason"] for s in doc["skipped"]}
    check_eq(skipped.get(p("notes.txt")), "not a qcow2 image", "text file")
    check_eq(skipped.get(p("raw.qcow2")), "not a qcow2 image", "raw .qcow2")
    check_eq(skipped.get(p("links", "self")), "symlink loop", "self link")
    check_eq(skipped.get(p("links", "dangling")), "dangling symlink",
             "dangling link")
    check("symlink loop" in skipped.get(p("links", "up"), ""),
          f"loop up the tree: {skipped.get(p('links', 'up'))}")
    check_eq(skipped.get(p("links", "alias.qcow2")),
             f"the same file as {p('guest', 'qemu-7.2.qcow2')}", "alias")

    sm = doc["summary"]
    snaps = scanlib.snapshots(doc).values()
    for verdict, key in (("compatible", "compatible"), ("fixable", "fixable"),
                         ("refused", "refused"), ("error", "errors"),
                         ("disk-only", "disk-only")):
        check_eq(sm[key], sum(s["verdict"] == verdict for s in snaps),
                 f"summary {key}")
    check_eq((sm["unreadable"], sm["skipped"], sm["in-use"]),
             (1, len(doc["skipped"]), 1), "summary images")
    print(f"store: {sm['images']} images, {sm['snapshots']} snapshots: "
          f"{sm['compatible']} compatible, {sm['fixable']} fixable, "
          f"{sm['refused']} refused, {sm['errors']} errors, "
          f"{sm['disk-only']} disk-only; {len(doc['skipped'])} skipped")


def test_in_use_image_is_reported_and_its_qemu_undisturbed():
    held = STORE.path("in-use.qcow2")
    p = run(["qemu-img", "snapshot", "-l", held], ok_codes=None)
    check(p.returncode != 0 and "lock" in p.stderr,
          f"QEMU holds the image: {p.stderr}")
    rc, doc, _ = scan(held, STORE.path("guest", "qk10.img"))
    check_eq(rc, NEEDS_FIX, "exit code")
    im, control = doc["images"]
    check_eq((im["in-use"], control["in-use"]), (True, False), "in-use")
    check(101 in im["lock-bytes"] and 201 in im["lock-bytes"],
          f"write lock bytes: {im['lock-bytes']}")
    check_eq((im["fix-blocked"]["exit-code"], control["fix-blocked"]),
             (6, None), "fix blocked by the running QEMU")
    check_eq(scanlib.rules(im["snapshots"][0]),
             scanlib.rules(control["snapshots"][0]), "judged all the same")
    human = run([BIN, "scan", held], ok_codes=(NEEDS_FIX,)).stdout
    check("IN USE by qemu" in human and "1 in use by a running QEMU, 1 "
          "where" in human, human)
    # QEMU still holds its locks and answers
    p = run(["qemu-img", "snapshot", "-l", held], ok_codes=None)
    check(p.returncode != 0 and "lock" in p.stderr, "locks still held")
    status = STORE.qemu.cmd("info status")
    check("paused" in status, f"QEMU after the scans: {status!r}")


def test_scans_write_nothing():
    before = scanlib.tree_fingerprint(STORE.root)
    for args in ([], ["--full"], ["--jobs", "1"], ["--shrink-vram"],
                 ["--drop-roms", "--rom-dir", STORE.path("guest")]):
        scan(*args, STORE.root)
    run([BIN, "scan", STORE.root], ok_codes=(PARTIAL,))
    after = scanlib.tree_fingerprint(STORE.root)
    scanlib.check_unchanged(before, after, "store after 6 scans")
    print(f"{len(before)} paths unchanged (sha256, mtime, size, listings)")


def test_default_scan_and_full_agree_and_full_is_fix_dry_run():
    _, tail, _ = scan(STORE.root)
    _, full, _ = scan("--full", STORE.root)
    n = scanlib.compare_modes(tail, full)
    m = scanlib.compare_with_fix(full)
    print(f"{n} snapshots: default == --full; {m} == fix --dry-run")
    check(m >= 20, f"compared with fix: {m}")
    # the tail path reads less than the walk wherever it was used
    fs = scanlib.snapshots(full)
    for key, s in scanlib.snapshots(tail).items():
        if s.get("analysis", {}).get("path") == "tail" and \
                s["vm-state-size"] > (512 << 10):
            check(s["analysis"]["bytes-read"] <
                  fs[key]["analysis"]["bytes-read"] / 4,
                  f"{key}: tail read {s['analysis']['bytes-read']}, full "
                  f"{fs[key]['analysis']['bytes-read']}")
    walked = sorted(os.path.relpath(k[0], STORE.root)
                    for k, s in scanlib.snapshots(tail).items()
                    if s["verdict"] not in ("error", "disk-only") and
                    s["analysis"]["path"] == "full")
    check_eq(walked, ["guest/qk12-qxl", "refused/qxl-rom-past-8k.qcow2"],
             "snapshots walked in full by default (R10 reads the qxl ROM)")


def test_fix_options_judge_as_fix_would():
    """--shrink-vram makes R4 read vga.vram's pages (full walk);
    --keep-block-sections keeps R9's records, so the 1.0 fix no longer
    shifts the stream: the default scan's estimate (it never runs the
    splice's dry run, which reads every table) is then the exact plan's
    count of data clusters."""
    guest_dir = STORE.path("guest")
    qk10 = STORE.path("guest", "qk10.img")
    for opts in (["--shrink-vram"], ["--keep-block-sections"],
                 ["--drop-roms"]):
        _, tail, _ = scan(*opts, guest_dir)
        _, full, _ = scan(*opts, "--full", guest_dir)
        scanlib.compare_modes(tail, full)
        scanlib.compare_with_fix(full, fix_args=opts)
        s = scanlib.images_by_path(tail)[qk10]["snapshots"][0]
        if opts == ["--shrink-vram"]:
            check_eq((s["analysis"]["full-walk-because"],
                      ("R4", "edit") in scanlib.rules(s)), ("R4", True),
                     "R4 --shrink-vram")
        elif opts == ["--keep-block-sections"]:
            f = scanlib.images_by_path(full)[qk10]["snapshots"][0]["fix"]
            check_eq((("R9", "note") in scanlib.rules(s), s["fix"]["exact"],
                      s["analysis"]["path"], f["exact"]),
                     (True, False, "tail", True),
                     "R9 kept: estimated by default, exact with --full")
            check_eq((s["fix"]["clusters-written"], s["fix"]["clusters-shared"]),
                     (f["clusters-written"], f["clusters-shared"]),
                     "R9 kept: the estimate is the exact plan's data clusters")
            check(s["fix"]["clusters-written"] <= 2,
                  f"a version fix writes a cluster or two: {s['fix']}")
        else:
            check(("R6", "loss") in scanlib.rules(s), f"{s['rules']}")


def test_exit_codes():
    p = STORE.path
    cases = [
        ((p("guest", "qemu-7.2.qcow2"), p("disk-only.qcow2")), OK),
        ((p("guest", "qk10.img"), p("guest", "qemu-7.2.qcow2")), NEEDS_FIX),
        ((p("guest", "qk10.img"), p("refused", "pci-assign.qcow2")), REFUSED),
        ((p("refused"), p("damaged", "stream-cut-short.qcow2")), PARTIAL),
        ((p("guest"), p("damaged", "l1-past-eof.qcow2")), PARTIAL),
        ((p("no-such-image.qcow2"), p("guest", "qemu-7.2.qcow2")), PARTIAL),
        ((p("notes.txt"),), PARTIAL),  # named, but not an image
    ]
    for paths, want in cases:
        rc, _, _ = scan(*paths)
        names = " ".join(os.path.relpath(x, STORE.root) for x in paths)
        check_eq(rc, want, f"scan {names}")


def test_jobs_do_not_change_the_report():
    _, one, _ = scan("--jobs", "1", STORE.root)
    _, four, _ = scan("--jobs", "4", STORE.root)
    # the two runs may straddle a second (slow under ASan): the time each
    # report was made is not what --jobs could change
    one.pop("timestamp")
    four.pop("timestamp")
    check_eq(four, one, "--jobs 4 vs --jobs 1")


def test_human_report_is_aligned_and_sums_up():
    out = run([BIN, "scan", STORE.root], ok_codes=(PARTIAL,)).stdout
    _, doc, _ = scan(STORE.root)
    header_at = None
    rows = 0
    for line in out.splitlines():
        if line.startswith("  ID "):
            header_at = line.index("VERDICT")
            size_end = line.index("VM SIZE") + len("VM SIZE")
        elif header_at and line.startswith("  ") and not line.startswith(
                "      ") and not line.startswith("  fix blocked"):
            verdict = line[header_at:].split()[0]
            check(verdict in ("compatible", "fixable", "refused", "error",
                              "disk-only"), f"misaligned row: {line!r}")
            check(line[size_end - 1] == "B", f"VM SIZE column: {line!r}")
            rows += 1
        elif not line.startswith(" "):
            header_at = None
    check_eq(rows, doc["summary"]["snapshots"], "table rows")
    sm = doc["summary"]
    want = (f"  snapshots:  {sm['snapshots']}: {sm['compatible']} compatible, "
            f"{sm['fixable']} fixable, {sm['refused']} refused, "
            f"{sm['errors']} errors, {sm['disk-only']} disk-only")
    check(want in out, f"summary line {want!r} in:\n{out[-600:]}")


def test_unreadable_files_are_reported_not_fatal():
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("SKIP test_unreadable_files_are_reported_not_fatal: needs root "
              "and setpriv to scan as an unprivileged user")
        return
    d = tempfile.mkdtemp(prefix="qsnapfix-scan-unreadable-")
    try:
        os.chmod(d, 0o755)
        ok = copy(STORE.path("disk-only.qcow2"), os.path.join(d, "ok.qcow2"))
        secret = copy(ok, os.path.join(d, "secret.qcow2"))
        os.mkdir(os.path.join(d, "private"))
        copy(ok, os.path.join(d, "private", "vm.qcow2"))
        os.chmod(ok, 0o644)
        os.chmod(secret, 0o000)
        os.chmod(os.path.join(d, "private"), 0o700)
        p = run(["setpriv", "--reuid=65534", "--regid=65534",
                 "--clear-groups", BIN, "scan", "--output=json", d],
                ok_codes=None)
        doc = json.loads(p.stdout)
        check_eq(p.returncode, PARTIAL, f"exit code; stderr {p.stderr}")
        by = scanlib.images_by_path(doc)
        check_eq(by[ok]["status"], "scanned", "the readable image")
        for bad in (secret, os.path.join(d, "private")):
            check_eq(by[bad]["status"], "error", f"{bad}")
            check("Permission denied" in by[bad]["error"]["message"],
                  by[bad]["error"]["message"])
            check(bad in p.stderr, f"stderr names {bad}: {p.stderr}")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_command_line():
    p = run([BIN, "scan", "--help"])
    for w in ("--jobs", "--full", "--target", "17", "15", "reads only"):
        check(w in p.stdout, f"{w!r} in --help")
    p = run([BIN, "--help"])
    check("scan" in p.stdout, "scan listed in qsnapfix --help")
    for args in ([], ["--jobs", "0", "."], ["--target", "qemu-9", "."],
                 ["--output=xml", "."], ["--bogus", "."]):
        p = run([BIN, "scan", *args], ok_codes=(2,))
        check(p.stderr.startswith("qsnapfix: ") and
              len(p.stderr.strip().splitlines()) == 1,
              f"scan {args}: one-line error: {p.stderr!r}")


if __name__ == "__main__":
    if guest_fixture.guest_elf() is None:
        skip("the test guest is not built (QSNAPFIX_GUEST)")
    try:
        build_store()
        main([test_every_image_gets_its_verdict_and_facts,
              test_in_use_image_is_reported_and_its_qemu_undisturbed,
              test_scans_write_nothing,
              test_default_scan_and_full_agree_and_full_is_fix_dry_run,
              test_fix_options_judge_as_fix_would,
              test_exit_codes,
              test_jobs_do_not_change_the_report,
              test_human_report_is_aligned_and_sums_up,
              test_unreadable_files_are_reported_not_fatal,
              test_command_line])
    finally:
        stop_store()
