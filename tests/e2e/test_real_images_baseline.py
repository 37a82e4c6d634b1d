#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Baseline on the real images of ../shared/images (manifest.json), before
any fix: QEMU 7.2 refuses every snapshot written by qemu-kvm, with the
errors recorded in ../shared/docs/baseline-qemu72.md section 1, and loads
and continues every snapshot written by QEMU 7.2 itself.

Each load runs on a throw-away copy (-loadvm writes the image, and it does
not work with -snapshot); two loads run at a time. KVM images are loaded
with KVM only where KVM is usable here.
"""
import concurrent.futures
import os
import shutil
import tempfile
import time

from qsnapfix_tests import resume
from qsnapfix_tests.testlib import check, load_manifest, main

TARGET_MACHINE = "pc-i440fx-1.4"
MIB = 1 << 20
KIB = 1 << 10
PARALLEL_LOADS = 2

# RAM block sizes QEMU 7.2 -M pc-i440fx-1.4 gives the devices of these
# images (m72-a's stream, baseline-qemu72.md section 1). RAM blocks are the
# first thing a stream carries, so the first error of an unfixed qemu-kvm
# stream is its first RAM block that 7.2 lacks or sizes differently.
TARGET_VRAM = {"cirrus": 8 * MIB, "std": 16 * MIB}
TARGET_NIC_ROM = 128 * KIB
NIC_ROMS = ("rtl8139.rom", "virtio-net-pci.rom", "e1000.rom")
UNKNOWN_TO_TARGET = ("isa-bios", "system.flash")


def vga_model(device_args):
    args = list(device_args)
    if "-vga" in args:
        return args[args.index("-vga") + 1]
    return "cirrus"


def expected_first_error(image):
    """The error baseline-qemu72.md predicts from the stream's RAM blocks:
    'Unknown ramblock "isa-bios"' (qemu-kvm 1.2 flash layout, step 1),
    the 16 MiB cirrus vga.vram (0.15/1.0 and KVM images, step 1), and with
    std VGA (16 MiB in 7.2 too) the next one, a 64 KiB NIC ROM (step 2)."""
    vga = vga_model(image["device_args"])
    for block in image["ram_blocks"]:
        rid, length = block["id"], block["length"]
        if rid in UNKNOWN_TO_TARGET:
            return f'Unknown ramblock "{rid}", cannot accept migration'
        if rid == "vga.vram" and length != TARGET_VRAM.get(vga, length):
            return (f"Size mismatch: vga.vram: {length:#x} != "
                    f"{TARGET_VRAM[vga]:#x}")
        if rid.endswith(NIC_ROMS) and length != TARGET_NIC_ROM:
            return f"Size mismatch: {rid}: {length:#x} != {TARGET_NIC_ROM:#x}"
    return None


def load_unfixed(image, snapshot, images_dir):
    work = tempfile.mkdtemp(prefix="qsnapfix-baseline-")
    try:
        copy = resume.copy_image(os.path.join(images_dir, image["file"]),
                                 work)
        args = [a.replace("@IMAGE@", copy) for a in image["device_args"]]
        from_qemu72 = image["writer"].startswith("qemu-7")
        machine = image["source_machine"] if from_qemu72 else TARGET_MACHINE
        # The bare-metal guest of the KVM images times itself with the TSC,
        # which may stall it after the first line on some hosts (see
        # docs/tsc-after-load.md): wait less for its second line.
        bare = image["guest"] == "bare"
        return resume.resume(args, loadvm=snapshot["name"], machine=machine,
                             accel=image["accel"], counters=2,
                             timeout=10 if bare else 40, workdir=work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_baseline_every_snapshot():
    images, images_dir = load_manifest()
    kvm_ok, kvm_why = resume.kvm_usable()
    jobs, skipped = [], []
    for image in images:
        if image["accel"] == "kvm" and not kvm_ok:
            skipped.append(image["name"])
            continue
        for snapshot in image["snapshots"]:
            jobs.append((image, snapshot))
    if skipped:
        print(f"SKIP (KVM not usable: {kvm_why}): {', '.join(skipped)}")
    originals = {i["file"]: os.stat(os.path.join(images_dir, i["file"]))
                 for i in images}

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(PARALLEL_LOADS) as pool:
        results = list(pool.map(lambda j: load_unfixed(*j, images_dir), jobs))
    elapsed = time.monotonic() - t0

    failures, errors_seen = [], {}
    for (image, snapshot), r in zip(jobs, results):
        label = f"{image['name']}/{snapshot['name']} ({image['accel']})"
        print(f"{label:45} {r.summary()}")
        if image["writer"].startswith("qemu-7"):
            low, high = snapshot["expect_first_counter_between"]
            ok, why = resume.judge_resume(
                r, low, high, min_counters=1 if image["guest"] == "bare" else 2)
            if not ok:
                failures.append(f"{label}: 7.2's own snapshot: {why}")
            elif len(r.counters) < 2:
                print(f"{'':45} note: no second line within the wait "
                      "(TSC-timed guest; docs/tsc-after-load.md)")
            continue
        first = r.error.splitlines()[0] if r.error else ""
        errors_seen.setdefault(first, []).append(label)
        want = expected_first_error(image)
        if r.loaded:
            failures.append(f"{label}: unfixed qemu-kvm snapshot loaded: "
                            f"{r.summary()}")
        elif want is None or not first.startswith(want):
            failures.append(f"{label}: error {first!r}, baseline says "
                            f"{want!r}")

    print(f"\n{len(jobs)} loads in {elapsed:.1f}s ({PARALLEL_LOADS} at a "
          f"time). Distinct first errors of the unfixed qemu-kvm snapshots:")
    for error, labels in sorted(errors_seen.items()):
        print(f"  {len(labels):2}x {error}")
    for name, before in originals.items():
        after = os.stat(os.path.join(images_dir, name))
        if (after.st_size, after.st_mtime_ns) != (before.st_size,
                                                  before.st_mtime_ns):
            failures.append(f"{name}: the original image changed")
    check(not failures, "\n".join(failures))


if __name__ == "__main__":
    main([test_baseline_every_snapshot])
