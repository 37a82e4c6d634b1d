#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Under KVM, QEMU 7.2 (-M pc-i440fx-1.4) resumes the project's guest from
its own savevm: the PIT-driven counter and clock continue. The guest runs
with its "tsc" option, so the output also shows what the TSC did across the
load (docs/tsc-after-load.md); that part is reported, not asserted, because
it is a property of the host's KVM."""
import os
import re
import shutil
import tempfile

from qsnapfix_tests import guest_fixture
from qsnapfix_tests import kvm_tsc
from qsnapfix_tests import resume
from qsnapfix_tests.testlib import check, check_eq, main, qemu_img, skip

LINE = re.compile(r"^(?:QSF|CEO) n=(\d+) up=(\d+\.\d\d) tsc=(-?\d+\.\d\d)", re.M)


def test_kvm_loadvm_resumes_the_saved_counter():
    wd = tempfile.mkdtemp(prefix="qsnapfix-e2e-kvm-")
    try:
        disk = os.path.join(wd, "disk.qcow2")
        qemu_img("create", "-q", "-f", "qcow2", disk, "16M")
        saved = guest_fixture.take_snapshot(disk, wd, accel="kvm",
                                            append="tsc", counter=10)
        args = guest_fixture.image_args(guest_fixture.GUEST_DEVICE_ARGS, disk)
        r = resume.resume(args, loadvm="s1", accel="kvm",
                          machine=guest_fixture.GUEST_MACHINE, counters=3,
                          timeout=60)
        print(f"saved at n={saved}: {r.summary()}")
        ok, why = resume.judge_resume(r, saved, saved + 3, min_counters=3)
        check(ok, f"{why}; stderr: {r.stderr[-300:]}")
        check_eq(r.counters, list(range(r.counters[0],
                                        r.counters[0] + len(r.counters))),
                 "counters after the load")
        n, up, tsc = LINE.search(r.serial).groups()
        # The guest prints every 0.2 s of its PIT clock, a little after the
        # tick (later on a busy host): the clock continued from the save if
        # the first line's time is within one period of n's tick.
        check(-0.02 <= float(up) - (int(n) - 1) * 0.2 < 0.2,
              f"first line after the load: n={n} up={up} (the guest clock "
              f"should read within one 0.2 s period after n's tick)")
        print(f"TSC across the load: guest clock up={up}s, TSC says "
              f"{tsc}s: TSC jump {float(tsc) - float(up):+.2f}s "
              f"(see docs/tsc-after-load.md)")
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def test_tsc_probe_is_self_consistent():
    """kvm_tsc.probe() tells whether KVM gives a loaded guest its saved
    TSC back; either way the measured jump must fit the verdict."""
    tsc = kvm_tsc.probe()
    print(tsc.describe())
    check(tsc.wait >= kvm_tsc.WAIT_SECONDS, f"wait {tsc.wait:.2f}s")
    if tsc.restored:
        check(abs(tsc.jump) < 1.0, f"restored, yet jump {tsc.jump:+.2f}s")
    else:
        check(abs(tsc.jump - tsc.wait) < 1.0,
              f"not restored: jump {tsc.jump:+.2f}s should match the "
              f"{tsc.wait:.2f}s gap")
    check(1e8 < tsc.hz < 1e11, f"tsc_hz {tsc.hz}")


if __name__ == "__main__":
    if guest_fixture.guest_elf() is None:
        skip("the test guest is not built (QSNAPFIX_GUEST)")
    usable, why = resume.kvm_usable()
    if not usable:
        skip(f"KVM is not usable here: {why}")
    main([test_kvm_loadvm_resumes_the_saved_counter,
          test_tsc_probe_is_self_consistent])
