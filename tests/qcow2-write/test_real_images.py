#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The write path on real images written by qemu-kvm (../shared/images):
qemu-kvm 1.0 and 0.15 never discarded the VM state from the active L1
after savevm, so the newest snapshot's VM state is shared with the active
layer (refcount 2) and older ones were copied on write by later savevms.
Each splice must leave qemu-img check clean, the VM state QEMU reads (the
snapshot loaded read-only by qemu-img convert -l: the VM states are 60 MiB)
equal to the expected bytes, the other snapshot and every disk unchanged.
Skipped without ../shared."""
import os
import shutil

import wtlib
from wtlib import Edit, check, check_eq, testlib

IMAGES = ["qk10-f1-twosnaps", "qk015-a-default"]


def real_image(name):
    shared = testlib.shared_dir()
    if not shared:
        testlib.skip("no ../shared: set QSNAPFIX_SHARED")
    path = os.path.join(testlib.CACHE, "shared-images", f"{name}.qcow2")
    if not os.path.exists(path):
        testlib.skip(f"{path} missing: run {shared}/images/unpack")
    return path


def test_splice_every_snapshot_of_real_qemu_kvm_images():
    for name in IMAGES:
        src = real_image(name)
        work = testlib.workdir("real")
        try:
            image = os.path.join(work, f"{name}.qcow2")
            shutil.copyfile(src, image)
            table = wtlib.snapshot_table(src)
            states = {n: wtlib.qemu_vmstate_tmp(src, n, work) for n in table}
            # newest first: the one the active layer shares
            for snap in sorted(table, key=lambda n: -int(table[n]["id"])):
                old = states[snap]
                edits = [Edit(len(old) // 3, 0, b"inserted by a test"),
                         Edit(len(old) // 2, 4, b"\x00\x01\x02\x03"),
                         Edit(len(old) - 4096, 100, b"")]
                before = wtlib.snapshot_table(image)
                _, st, _ = wtlib.splice_cli(image, snap, edits, work)
                states[snap] = wtlib.apply_edits(old, edits)
                wtlib.check_image(image)
                for n, data in states.items():
                    got = wtlib.qemu_vmstate_tmp(image, n, work)
                    check(got == data, f"{name}/{n} after splicing {snap}")
                after = wtlib.snapshot_table(image)
                for n in before:
                    want = dict(before[n])
                    if n == snap:
                        want["vm-state-size"] = len(states[snap])
                    check_eq(after[n], want, f"{name}: entry {n}")
                check(wtlib.qemu_compare(src, image), f"{name}: active disk")
                print(f"     {name} {snap}: {st['clusters-written']} written, "
                      f"{st['clusters-shared']} shared, "
                      f"{st['clusters-freed']} freed, active L1 entries "
                      f"dropped {st['active-entries-dropped']}")
        finally:
            shutil.rmtree(work)


if __name__ == "__main__":
    testlib.main([test_splice_every_snapshot_of_real_qemu_kvm_images])
