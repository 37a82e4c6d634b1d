#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The demo behind scripts/demo (run that): old snapshot in, resumed guest
out, on the project's own test guest. Usage: demo.py BUILD_DIR"""
import json
import os
import shlex
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
from qsnapfix_tests import guest_fixture
from qsnapfix_tests import resume

MACHINE = guest_fixture.GUEST_MACHINE


def step(text):
    print(f"\n=== {text}", flush=True)


def show(argv):
    print("$ " + " ".join(shlex.quote(os.path.basename(a) if i == 0 else a)
                          for i, a in enumerate(argv)), flush=True)


def run(argv, ok=(0,), quiet=False):
    show(argv)
    p = subprocess.run(argv, text=True, capture_output=True)
    if not quiet:
        sys.stdout.write(p.stdout)
    sys.stdout.write(p.stderr)
    if p.returncode not in ok:
        sys.exit(f"demo: {os.path.basename(argv[0])} exited {p.returncode}")
    return p


def qemu_line(args, extra, machine):
    return ["qemu-system-x86_64", "-M", machine, *args, *extra,
            "-loadvm", "s1"]


def main():
    build = sys.argv[1]
    qsnapfix = os.path.join(build, "src", "cli", "qsnapfix")
    guest = os.path.join(build, "tests", "guest", "guest.elf")
    os.environ["QSNAPFIX_GUEST"] = guest
    work = tempfile.mkdtemp(prefix="qsnapfix-demo-")
    image = os.path.join(work, "vm.qcow2")
    args = guest_fixture.image_args(guest_fixture.GUEST_DEVICE_ARGS, image)

    step("1. The project's test guest in QEMU 7.2 "
         f"(-M {MACHINE}, cirrus VGA, rtl8139, user networking)")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", image,
                    guest_fixture.GUEST_DISK_SIZE], check=True)
    saved = guest_fixture.take_snapshot(image, work, counter=10)
    print(f"the guest counted to n={saved}; QEMU stopped it and took "
          "'savevm s1'")
    run(["qemu-img", "snapshot", "-l", image])

    step("2. Reshape s1 like qemu-kvm 1.0 wrote it (the rules backwards)")
    run([qsnapfix, "oldify", image, "--snapshot", "s1", "--as",
         "qemu-kvm-1.0"])

    step("3. QEMU 7.2 refuses the old-shaped snapshot")
    show(qemu_line(args, [], MACHINE))
    before = resume.resume(args, loadvm="s1", machine=MACHINE, timeout=30)
    print(resume.qemu_errors(before.stderr) or before.summary())
    if before.loaded:
        sys.exit("demo: QEMU 7.2 loaded the old-shaped snapshot unfixed")

    step("4. qsnapfix fix")
    run([qsnapfix, "fix", image], ok=(0,))
    report = json.loads(run([qsnapfix, "fix", image, "--dry-run",
                             "--output=json"], ok=(0,), quiet=True).stdout)
    recipe = report["snapshots"][0]["recipe"]
    print(f"exit code {report['exit-code']}: "
          f"'{report['snapshots'][0]['status']}' (a second run finds nothing "
          "left to do; the recipe is the same)")

    step("5. QEMU 7.2 with the recipe: the guest resumes")
    show(qemu_line(args, recipe["qemu-args"], recipe["machine"]))
    after = resume.resume(args, loadvm="s1", machine=recipe["machine"],
                          extra=recipe["qemu-args"], timeout=30, counters=5)
    print("".join(after.serial.splitlines(keepends=True)[:5]), end="")
    ok, why = resume.judge_resume(after, saved + 1, saved + 3,
                                  min_counters=3)
    if not ok:
        sys.exit(f"demo: the fixed snapshot did not resume: {why}")
    print(f"saved at n={saved}, resumed at n={after.first_counter}: the "
          "guest continued (no QSF-BOOT, no reboot).")
    print(f"\n(files kept in {work})")


if __name__ == "__main__":
    main()
