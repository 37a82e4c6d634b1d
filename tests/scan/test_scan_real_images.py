#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`qsnapfix scan` over the real images of ../shared/images (written by
qemu-kvm 0.15, 1.0, 1.2 and QEMU 7.2), scanned where they were unpacked
(read-only use: the test proves it wrote nothing):

* every image of manifest.json is found and scanned; the qemu-kvm
  snapshots are fixable, the QEMU 7.2 ones compatible (the baseline of
  ../shared/docs/baseline-qemu72.md), exit code 17;
* each snapshot's writer is the MANIFEST's (program, version, accel);
* the default scan and --full agree on every snapshot (verdict, rule ids,
  writer, recipe, write plan or its estimate) and --full says what
  `fix --all --dry-run` says (status, rules and evidence, edits, clusters
  and bytes it would write, recipe);
* the default scan reads a few hundred KiB per image, --full nearly every
  byte of every VM state (page data it skips is not fetched);
* checksums and mtimes of the images are unchanged afterwards;
* for qemu-10.0, whose R20 only the page records decide, the default scan
  walks every snapshot in full and agrees with --full and fix --dry-run.
"""
import os

import scanlib
from scanlib import NEEDS_FIX, check, check_eq, scan
from qsnapfix_tests.testlib import file_fingerprint, load_manifest, main

PER_IMAGE_BUDGET = 512 << 10  # bytes the default scan may read per image


def manifest_writer(writer):
    """MANIFEST 'qemu-kvm-1.0' -> ('qemu-kvm', '1.0'); 'qemu-7.2' -> ..."""
    if writer.startswith("qemu-kvm-"):
        v = writer[len("qemu-kvm-"):]
        return "qemu-kvm", ".".join(v.split(".")[:2])
    return "qemu", writer[len("qemu-"):]


def version_in(version, spec):
    """Does '7.2' satisfy '>=4.1' or '1.0..1.2' (or equal '1.0')?"""
    t = lambda v: tuple(int(x) for x in v.split("."))  # noqa: E731
    if spec.startswith(">="):
        return t(version) >= t(spec[2:])
    if ".." in spec:
        lo, hi = spec.split("..")
        return t(lo) <= t(version) <= t(hi)
    return t(version) == t(spec)


def test_real_store():
    images, d = load_manifest()
    paths = [os.path.join(d, i["file"]) for i in images]
    before = {p: file_fingerprint(p) for p in paths}

    rc, tail, _ = scan(d)
    check_eq(rc, NEEDS_FIX, "exit code: the qemu-kvm snapshots need a fix")
    _, full, _ = scan("--full", d)
    by = scanlib.images_by_path(tail)
    fby = scanlib.images_by_path(full)
    for m in images:
        path = os.path.join(d, m["file"])
        check(path in by, f"{m['file']} found by the scan")
        im = by[path]
        check_eq([s["name"] for s in im["snapshots"]],
                 [s["name"] for s in m["snapshots"]], f"{m['name']} snapshots")
        program, version = manifest_writer(m["writer"])
        want = "compatible" if program == "qemu" else "fixable"
        for s in im["snapshots"]:
            what = f"{m['name']} {s['name']}"
            check_eq(s["verdict"], want, f"{what}: verdict")
            w = s["writer"]
            check_eq((w["program"], w["accel"]), (program, m["accel"]),
                     f"{what}: writer")
            check(version_in(version, w["version"]),
                  f"{what}: version {w['version']} vs {m['writer']}")
            if program == "qemu-kvm":
                check_eq(w["version"], version, f"{what}: qemu-kvm version")
        check(im["bytes-read"] <= PER_IMAGE_BUDGET,
              f"{m['name']}: the default scan read {im['bytes-read']} bytes")
        vm = sum(s["vm-state-size"] for s in im["snapshots"])
        check(fby[path]["bytes-read"] >= vm * 0.9,
              f"{m['name']}: --full read {fby[path]['bytes-read']} of {vm}")

    n = scanlib.compare_modes(tail, full)
    k = scanlib.compare_with_fix(full, set(paths))
    check_eq((n, k), (sum(len(m["snapshots"]) for m in images),) * 2,
             "snapshots compared")
    for p in paths:
        check_eq(file_fingerprint(p), before[p], f"{p} (sha256, mtime, size)")
    t, f = tail["summary"], full["summary"]
    print(f"{len(images)} images, {n} snapshots ({t['fixable']} fixable, "
          f"{t['compatible']} compatible): default == --full == fix "
          f"--dry-run; read {t['bytes-read'] // len(images)} bytes per "
          f"image by default, {f['bytes-read'] // len(images)} with --full "
          f"({f['bytes-read'] / max(t['bytes-read'], 1):.0f}x)")


def test_keep_block_sections_estimates_the_exact_plan_from_the_tail():
    """With --keep-block-sections nothing moves in a qemu-kvm 0.15/1.0
    stream: the default scan (which never runs the splice's dry run: it
    reads every table) estimates from the edit list what --full plans
    exactly, data cluster for data cluster, and --full's plan is fix
    --dry-run's."""
    images, d = load_manifest()
    paths = {os.path.join(d, m["file"]) for m in images}
    _, tail, _ = scan("--keep-block-sections", d)
    _, full, _ = scan("--keep-block-sections", "--full", d)
    scanlib.compare_modes(tail, full)
    scanlib.compare_with_fix(full, paths, ["--keep-block-sections"])
    by_key = scanlib.snapshots(full)
    qk10 = {os.path.join(d, m["file"]) for m in images
            if m["writer"] == "qemu-kvm-1.0"}
    checked = 0
    for key, s in scanlib.snapshots(tail).items():
        if key[0] not in qk10 or s["verdict"] != "fixable":
            continue
        f = by_key[key]["fix"]
        check(not s["fix"]["exact"] and f["exact"],
              f"{key}: estimated by default, exact with --full")
        check_eq((s["fix"]["clusters-written"], s["fix"]["clusters-shared"]),
                 (f["clusters-written"], f["clusters-shared"]),
                 f"{key}: the estimate is the exact plan's data clusters")
        check(f["clusters-written"] <= 2, f"{key}: {f}")
        checked += 1
    check(checked >= len(qk10), f"qemu-kvm 1.0 snapshots checked: {checked}")
    print(f"{checked} qemu-kvm 1.0 fixes estimated from the tail path as "
          f"--full plans them")


def test_qemu10_target_walks_where_fill_pages_decide():
    """For qemu-10.0 a fill page with a byte other than 0 must be expanded
    (R20), and only the page records tell whether a stream has one: the
    translator leaves R20 undecided on the tail path, so every snapshot is
    walked in full, and the verdicts, rules and plans are fix --dry-run's."""
    images, d = load_manifest()
    paths = {os.path.join(d, m["file"]) for m in images}
    _, tail, _ = scan("--target", "qemu-10.0", d)
    _, full, _ = scan("--target", "qemu-10.0", "--full", d)
    n = scanlib.compare_modes(tail, full)
    k = scanlib.compare_with_fix(full, paths, ["--target", "qemu-10.0"])
    snaps = scanlib.snapshots(tail).values()
    because = {s["analysis"]["full-walk-because"] for s in snaps}
    check_eq(because, {"R20"}, "why the qemu-10.0 scan walked in full")
    r20 = [s for s in snaps if any(r["id"] == "R20" for r in s["rules"])]
    check(r20, "R20 fires on some real snapshot")
    check_eq(n, k, "snapshots compared with fix")
    print(f"qemu-10.0: {n} snapshots walked in full for R20 (it fires on "
          f"{len(r20)}): default == --full == fix --dry-run")


if __name__ == "__main__":
    main([test_real_store, test_keep_block_sections_estimates_the_exact_plan_from_the_tail,
          test_qemu10_target_walks_where_fill_pages_decide])
