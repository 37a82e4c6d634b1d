#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""inspect/extract on the real images written by qemu-kvm 0.15/1.0/1.2 and
QEMU 7.2 (../shared/images, unpacked by scripts/test into
$QSNAPFIX_CACHE/shared-images). Skipped when they are absent."""
import json
import os
import shutil

from qsnapfix_tests import testlib
from qsnapfix_tests.testlib import check, check_eq

UTC = dict(os.environ, TZ="UTC")


IMAGES = testlib.real_images()


def test_inspect_lists_the_manifest_snapshots():
    for m, path in IMAGES:
        info = json.loads(testlib.qsnapfix("inspect", "--output=json",
                                           path).stdout)
        check_eq([s["name"] for s in info["snapshots"]],
                 [s["name"] for s in m["snapshots"]], f"{m['name']}: names")
        compat = info["format-specific"]["data"]["compat"]
        check_eq(compat, testlib.qemu_img_info(path)["format-specific"][
            "data"]["compat"], f"{m['name']}: compat")
        # manifest.json says "patch)" for two KVM images (a manifest bug).
        if m["qcow2_compat"] in ("0.10", "1.1"):
            check_eq(compat, m["qcow2_compat"], f"{m['name']}: compat")
        for s in info["snapshots"]:
            vs = s["vm-state"]
            check(vs["normal"] == vs["clusters"] > 0,
                  f"{m['name']} {s['name']}: VM state fully allocated: {vs}")


def test_old_qemu_kvm_left_the_last_vmstate_shared_with_the_active_disk():
    """qemu-kvm before the 'discard VM state after savevm' change keeps the
    VM state mapped in the active L1, so the newest snapshot's VM state
    clusters have refcount 2; QEMU 7.2 discards it (refcount 1). Old writers
    also wrote less extra data per entry (0.15/1.0: none, 1.2: 16 bytes)."""
    extra = {"qemu-kvm-0.15.0": 0, "qemu-kvm-1.0": 0, "qemu-kvm-1.2.0": 16,
             "qemu-7.2": 24}
    for m, path in IMAGES:
        snaps = json.loads(testlib.qsnapfix("inspect", "--output=json",
                                            path).stdout)["snapshots"]
        last = snaps[-1]["vm-state"]
        old = m["writer"].startswith("qemu-kvm")
        check_eq(last["shared"], last["clusters"] if old else 0,
                 f"{m['name']} ({m['writer']}): shared VM state clusters")
        check_eq(last["l2-shared"], 1 if old else 0, f"{m['name']}: L2")
        check_eq({s["extra-data-size"] for s in snaps}, {extra[m["writer"]]},
                 f"{m['name']} ({m['writer']}): extra data size")


def test_sizes_and_table_equal_qemu_img_snapshot_l():
    for m, path in IMAGES:
        ours = testlib.run([testlib.BIN, "inspect", path], env=UTC).stdout
        theirs = testlib.run(["qemu-img", "snapshot", "-l", "-U", path],
                             env=UTC).stdout
        check_eq(ours[ours.index("Snapshot list:"):ours.index("VM state:")],
                 theirs, f"{m['name']}: snapshot table")
        ours_json = json.loads(testlib.qsnapfix("inspect", "--output=json",
                                                path).stdout)
        theirs_json = testlib.qemu_img_info(path)
        check_eq([s["vm-state-size"] for s in ours_json["snapshots"]],
                 [s["vm-state-size"] for s in theirs_json["snapshots"]],
                 f"{m['name']}: VM state sizes")


def test_extract_every_snapshot_cleanly():
    work = testlib.workdir("real-extract")
    n = 0
    try:
        for m, path in IMAGES:
            info = testlib.qemu_img_info(path)
            for s in info["snapshots"]:
                out = os.path.join(work, "vmstate.bin")
                p = testlib.qsnapfix("extract", "--output=json", path,
                                     "--snapshot", s["name"], "-o", out)
                report = json.loads(p.stdout)
                check_eq(os.path.getsize(out), s["vm-state-size"],
                         f"{m['name']} {s['name']}: size")
                with open(out, "rb") as f:
                    head = f.read(8)
                check_eq(head, b"QEVM\0\0\0\3", f"{m['name']}: stream magic")
                check_eq(report["sha256"], testlib.sha256_file(out),
                         f"{m['name']}: reported sha256")
                os.unlink(out)
                n += 1
    finally:
        shutil.rmtree(work)
    check(n >= 20, f"only {n} snapshots extracted")


def test_small_vmstates_equal_what_qemu_reads():
    """The KVM images' VM states are ~1 MiB: compare them byte for byte
    with QEMU's own read (revert a copy, qemu-io 'read -b -v')."""
    work = testlib.workdir("real-qemu")
    n = 0
    try:
        for m, path in IMAGES:
            info = testlib.qemu_img_info(path)
            for s in info["snapshots"]:
                if s["vm-state-size"] > 2 << 20:
                    continue
                want = testlib.read_vmstate_via_qemu(path, s["name"],
                                                     s["vm-state-size"], work)
                out = os.path.join(work, "ours.bin")
                testlib.qsnapfix("extract", path, "-s", s["name"], "-o", out)
                with open(out, "rb") as f:
                    check(f.read() == want,
                          f"{m['name']} {s['name']}: differs from QEMU's read")
                n += 1
    finally:
        shutil.rmtree(work)
    check(n >= 3, f"only {n} small VM states compared")


def test_images_are_never_modified():
    for m, path in IMAGES[:3]:
        before = testlib.file_fingerprint(path)
        testlib.qsnapfix("inspect", path)
        check_eq(testlib.file_fingerprint(path), before, f"{m['name']}")
        check_eq(before[0], m["sha256"], f"{m['name']}: manifest sha256")


if __name__ == "__main__":
    testlib.main([
        test_inspect_lists_the_manifest_snapshots,
        test_old_qemu_kvm_left_the_last_vmstate_shared_with_the_active_disk,
        test_sizes_and_table_equal_qemu_img_snapshot_l,
        test_extract_every_snapshot_cleanly,
        test_small_vmstates_equal_what_qemu_reads,
        test_images_are_never_modified,
    ])
