# SPDX-License-Identifier: GPL-2.0-or-later
"""The target QEMUs the tests load fixed snapshots in, each with how to run
it and what it needs from a test:

* qemu-7.2: the host's Debian 12 QEMU;
* qemu-10.0: Debian 13's, from a tree scripts/qemu10 makes (cached);
* qemu-2.0: upstream 2.0.2 from ../shared/qemu-2.0, unpacked by
  scripts/qemu20 (cached). It has no -accel (resume.QemuCommand speaks its
  dialect), and a failed -loadvm leaves it running paused ("prelaunch")
  instead of exiting; resume.py judges a load by QMP status either way.

A target that cannot be had here (no network for debootstrap, no
../shared) skips the test with the reason (exit 77).
"""
import dataclasses
import functools
import json
import os
import subprocess

from qsnapfix_tests import resume
from qsnapfix_tests.testlib import BIN, SRC, Failure, check, run, skip

# Lines QEMU prints on every start that say nothing about a load.
NOISE = (
    # QEMU 10.0 from a tree: modules it looks for in the host's 7.2 build
    "initialize module",
    "Only modules from the same build",
    # QEMU 2.0 calls g_mem_set_vtable, which today's GLib ignores
    "custom memory allocation vtable not supported",
)


def without_noise(text):
    return "\n".join(line for line in text.splitlines()
                     if line.strip() and
                     not any(n in line for n in NOISE))


@dataclasses.dataclass(frozen=True)
class Target:
    name: str            # qsnapfix's --target
    label: str           # "QEMU 10.0"
    version_mark: str    # in the version line: " 10.0."
    script: str          # scripts/qemuNN, or None: the host's own
    legacy: bool         # no -accel (QEMU 2.0)
    machine: str         # the machine the target moves every old stream
                         # to, or None: the source's own
    expands_fill_pages: bool  # R20: fill pages other than 0 become pages

    def ensure(self):
        """The version line; skips the test when the QEMU is not here."""
        return _ensure(self)

    def system(self):
        argv = [self.script, "system"] if self.script else [resume.QEMU]
        return resume.QemuCommand(argv, legacy=self.legacy)

    def qemu_img(self, *args, ok_codes=(0,)):
        argv = [self.script, "img"] if self.script else ["qemu-img"]
        return run([*argv, *map(str, args)], ok_codes=ok_codes)

    def check_clean(self, image):
        """This QEMU's qemu-img check: no corruption, no leak."""
        p = self.qemu_img("check", "--output=json", image, ok_codes=None)
        data = json.loads(p.stdout) if p.stdout.strip() else {}
        check(p.returncode == 0 and not data.get("corruptions") and
              not data.get("leaks"),
              f"qemu-img ({self.label}) check {image}: exit "
              f"{p.returncode}, {data}")
        return data

    def qemu_option(self):
        """`qsnapfix prove --qemu CMD` for this QEMU ([]: the host's)."""
        return [f"--qemu={self.script} system"] if self.script else []

    def prove(self, image, path, *args, ok=(0, 4, 19, 20)):
        """`qsnapfix prove --all` of the image at path (a manifest image:
        its device_args) in this QEMU -> (exit code, JSON report)."""
        device_args = [a.replace("@IMAGE@", path)
                       for a in image["device_args"]]
        p = run([BIN, "prove", path, "--all", f"--target={self.name}",
                 *self.qemu_option(), "--output=json", *args, "--",
                 *device_args], ok_codes=ok)
        return p.returncode, json.loads(p.stdout)

    def unfixed_machine(self, image):
        """The machine an unfixed snapshot of a manifest image is tried
        with: the target's own, or the one the source ran."""
        return self.machine or image["source_machine"]

    def load(self, device_args, image, snapshot, recipe, *, accel="tcg",
             counters=3, timeout=40.0, machine=None, monitor=()):
        """-loadvm with the recipe's machine and options; the result's
        error text without the noise every start prints."""
        args = [a.replace("@IMAGE@", os.path.abspath(image))
                for a in device_args]
        r = resume.resume(args, loadvm=snapshot,
                          machine=machine or recipe["machine"], accel=accel,
                          extra=recipe["qemu-args"], counters=counters,
                          timeout=timeout, qemu=self.system(),
                          monitor=monitor)
        r.error = without_noise(r.error)
        return r


QEMU72 = Target("qemu-7.2", "QEMU 7.2", " 7.2.", None, False,
                "pc-i440fx-1.4", False)
QEMU10 = Target("qemu-10.0", "QEMU 10.0", " 10.0.",
                os.path.join(SRC, "scripts", "qemu10"), False,
                "pc-i440fx-2.4", True)
QEMU20 = Target("qemu-2.0", "QEMU 2.0", " 2.0.",
                os.path.join(SRC, "scripts", "qemu20"), True, None, False)

ALL = {t.name: t for t in (QEMU72, QEMU10, QEMU20)}


@functools.lru_cache(maxsize=None)
def _ensure(target):
    if target.script:
        p = subprocess.run([target.script, "root"], capture_output=True,
                           text=True, timeout=1500)
        if p.returncode == 77:
            skip(p.stderr.strip().splitlines()[-1])
        if p.returncode != 0:
            raise Failure(f"{target.script} root: exit {p.returncode}: "
                          f"{p.stderr}")
        v = run([target.script, "version"]).stdout.splitlines()[0]
    else:
        v = run([resume.QEMU, "-version"]).stdout.splitlines()[0]
    check(target.version_mark in v,
          f"{target.name}: the QEMU runs {v!r}, not {target.label}")
    return v


def rules_of(snap_report):
    return {(r["id"], r["action"]) for r in snap_report["rules"]}


def rule_text(snap_report, rule_id):
    return [r for r in snap_report["rules"] if r["id"] == rule_id]
