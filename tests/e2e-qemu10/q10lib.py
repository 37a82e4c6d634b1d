# SPDX-License-Identifier: GPL-2.0-or-later
"""QEMU 10.0 for the qemu-10.0 target's tests: scripts/qemu10 makes (once,
cached under $QSNAPFIX_CACHE/qemu10-root) a Debian 13 tree and runs its
qemu-system-x86_64 / qemu-img; tests skip when it cannot be made."""
import functools
import json
import os
import subprocess

from qsnapfix_tests import resume
from qsnapfix_tests.testlib import SRC, Failure, check, run, skip

SCRIPT = os.path.join(SRC, "scripts", "qemu10")
QEMU10 = [SCRIPT, "system"]
MACHINE = "pc-i440fx-2.4"
TARGET = "qemu-10.0"


@functools.lru_cache(maxsize=None)
def ensure():
    """The QEMU 10.0 version line; skips the test when there is none."""
    p = subprocess.run([SCRIPT, "root"], capture_output=True, text=True,
                       timeout=1500)
    if p.returncode == 77:
        skip(p.stderr.strip().splitlines()[-1])
    if p.returncode != 0:
        raise Failure(f"scripts/qemu10 root: exit {p.returncode}: "
                      f"{p.stderr}")
    v = run([SCRIPT, "version"]).stdout.splitlines()[0]
    check(" 10.0." in v, f"scripts/qemu10 runs {v!r}, not QEMU 10.0")
    return v


def qemu_img(*args, ok_codes=(0,)):
    """The tree's qemu-img (10.0)."""
    return run([SCRIPT, "img", *map(str, args)], ok_codes=ok_codes)


def check_clean_10(image):
    """QEMU 10.0's qemu-img check: no corruption, no leak."""
    p = qemu_img("check", "--output=json", image, ok_codes=None)
    data = json.loads(p.stdout) if p.stdout.strip() else {}
    check(p.returncode == 0 and not data.get("corruptions") and
          not data.get("leaks"),
          f"qemu-img 10.0 check {image}: exit {p.returncode}, {data}")
    return data


def load(device_args, image, snapshot, recipe, *, accel="tcg", counters=3,
         timeout=40.0, machine=None):
    """-loadvm in QEMU 10.0 with the recipe's machine and options."""
    args = [a.replace("@IMAGE@", os.path.abspath(image)) for a in device_args]
    r = resume.resume(args, loadvm=snapshot,
                      machine=machine or recipe["machine"], accel=accel,
                      extra=recipe["qemu_args"], counters=counters,
                      timeout=timeout, qemu=QEMU10)
    r.error = without_module_noise(r.error)
    return r


def without_module_noise(text):
    """QEMU's errors without the lines about modules the tree does not
    have (QEMU then tries its compiled-in module directory, which holds the
    host's 7.2 modules, and reports those as foreign; nothing needs them).
    """
    return "\n".join(line for line in text.splitlines()
                     if "initialize module" not in line and
                     not line.startswith("Only modules from the same build"))


def rules_of(snap_report):
    return {(r["id"], r["action"]) for r in snap_report["rules"]}


def rule_text(snap_report, rule_id):
    return [r for r in snap_report["rules"] if r["id"] == rule_id]
