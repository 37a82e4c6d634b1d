# SPDX-License-Identifier: GPL-2.0-or-later
"""Does this host's KVM give a loaded guest back its saved TSC?

On some hosts (the nested "PVM" KVM these tests were written on) it does
not: a KVM guest's TSC is always the host's own, whatever QEMU writes to
MSR_IA32_TSC at reset or at load (docs/tsc-after-load.md). A guest that
times itself with the TSC -- the bare-metal guest of the real KVM images --
then jumps by the time between save and load, or, when the saved TSC is
ahead of the host's, sits silent until the host's TSC catches up.

probe() measures it once per process with the project's guest (which keeps
its own time with the PIT and reports the TSC beside it): boot under KVM,
save, wait, load, compare. Tests on TSC-timed snapshots can then skip with
the reason instead of failing for a property of the host:

    tsc = kvm_tsc.probe()
    wait = tsc.seconds_until_host_passes(saved_cpu_tsc)
    if not tsc.restored and wait > 0:
        skip(f"... {tsc.describe()}; the guest would wait {wait:.0f}s")
"""
import dataclasses
import functools
import os
import re
import shutil
import subprocess
import tempfile
import time

from qsnapfix_tests import guest_fixture
from qsnapfix_tests import resume

READY = re.compile(r"tsc_hz=(\d+) tsc_at_zero=(\d+)")
LINE = re.compile(r"^(?:QSF|CEO) n=(\d+) up=(\d+\.\d\d) tsc=(-?\d+\.\d\d)", re.M)
WAIT_SECONDS = 2.0


@dataclasses.dataclass
class TscBehaviour:
    restored: bool          # the guest TSC continued from the saved value
    jump: float             # TSC seconds gained across save+wait+load
    wait: float             # seconds between save and load
    hz: int                 # the guest's calibrated TSC frequency
    tsc_at: tuple           # (time.monotonic(), guest TSC then)

    def tsc_now(self):
        """The TSC a new KVM guest reads now, if it follows the host."""
        when, value = self.tsc_at
        return value + int((time.monotonic() - when) * self.hz)

    def seconds_until_host_passes(self, saved_tsc):
        """How long until the host's TSC reaches saved_tsc (<= 0: done).
        Only meaningful when not restored."""
        return (saved_tsc - self.tsc_now()) / self.hz

    def describe(self):
        verdict = ("restores the saved TSC" if self.restored else
                   "does not restore the saved TSC (guest TSC = host TSC)")
        return (f"KVM {verdict}: TSC jump {self.jump:+.2f}s across a "
                f"{self.wait:.1f}s save-to-load gap")


@functools.lru_cache(maxsize=None)
def probe():
    """Measure once per process; needs usable KVM and the test guest."""
    usable, why = resume.kvm_usable()
    if not usable:
        raise RuntimeError(f"KVM is not usable: {why}")
    work = tempfile.mkdtemp(prefix="qsnapfix-kvm-tsc-")
    try:
        disk = os.path.join(work, "disk.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk,
                        "16M"], check=True)
        stopped = []
        guest_fixture.take_snapshot(
            disk, work, accel="kvm", append="tsc", counter=3,
            before_stop=lambda qemu: stopped.append(time.monotonic()))
        # QEMU reads the TSC it saves right after the stop (at savevm).
        saved_at = stopped[0]
        with open(os.path.join(work, "serial.log")) as f:
            boot = f.read()
        hz, at_zero = map(int, READY.search(boot).groups())
        time.sleep(WAIT_SECONDS)
        load_started = time.monotonic()
        r = resume.resume(
            guest_fixture.image_args(guest_fixture.GUEST_DEVICE_ARGS, disk),
            loadvm="s1", accel="kvm", machine=guest_fixture.GUEST_MACHINE,
            counters=1, timeout=30)
        lines = LINE.findall(r.serial)
        if not lines:
            raise RuntimeError(f"probe guest did not resume: {r.summary()}")
        _, up, tsc = lines[0]
        # r.seconds ends when the first line was seen (50 ms polling), not
        # when QEMU had quit.
        now = load_started + r.seconds
        wait = now - saved_at
        jump = float(tsc) - float(up)
        # tsc is the guest's TSC seconds since its up=0, when the TSC read
        # at_zero: so the TSC now (give or take the 50 ms polling).
        tsc_value = at_zero + int(float(tsc) * hz)
        return TscBehaviour(restored=jump < 0.5 * wait, jump=jump, wait=wait,
                            hz=hz, tsc_at=(now, tsc_value))
    finally:
        shutil.rmtree(work, ignore_errors=True)
