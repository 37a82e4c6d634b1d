#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What QEMU 7.2 (the host's) and QEMU 10.0 (scripts/qemu10; skipped when
it cannot be had) do to data in a qcow2 image they do not know: the
unknown snapshot extra data where qsnapfix keeps its record of a fix and
the mark of a kept original, and an unknown header extension. Each claim
of docs/image-record.md is one check here:

* qemu-img check finds nothing wrong with either; qemu-img info and
  snapshot -l show the snapshots as before;
* every qemu-img command that rewrites the snapshot table or the header
  keeps both, on the entries they belong to: snapshot -c, snapshot -d of
  another snapshot, snapshot -a, check -r all, amend to compat=0.10 and
  back, resize, bitmap --add, amend lazy_refcounts=on;
* qemu-system-x86_64 keeps them through savevm of another snapshot,
  loadvm of the snapshot that carries one (the guest runs) and delvm of
  another; savevm under the same name replaces the snapshot, and with it
  its extra data (the record goes with the VM state it described);
* QEMU itself writes 24 bytes of extra data of its own (the day a QEMU
  writes more, a field of its own would land where qsnapfix's record
  starts: this check fails first);
* QEMU older than 5.0 does not keep unknown extra data: QEMU 2.0's
  qemu-img snapshot -c writes every entry back with its own 16 bytes, the
  record and the mark are gone (scripts/qemu20; skipped without it).

The records are qsnapfix's own (a fix with --keep-original of the
project's guest reshaped like qemu-kvm 1.0); after every step `qsnapfix
scan` still reads them."""
import json
import os
import shutil
import subprocess
import tempfile
import time

import batchlib
from qsnapfix_tests import snapshot_extra as sx
from qsnapfix_tests import testlib
from qsnapfix_tests.testlib import BIN, check, check_eq, run

QEMU10 = os.path.join(testlib.SRC, "scripts", "qemu10")
EXT_TYPE = 0x71736e70  # an extension type QEMU does not know
EXT_DATA = b"qsnapfix test extension"


class Qemu:
    def __init__(self, version):
        self.version = version
        self.img = ["qemu-img"] if version == "7.2" else [QEMU10, "img"]
        self.system = (["qemu-system-x86_64"] if version == "7.2"
                       else [QEMU10, "system"])

    def qemu_img(self, *args, ok=(0,)):
        return run([*self.img, *map(str, args)], ok_codes=ok)

    def monitor(self, image, commands):
        """BIOS only, TCG; the monitor's replies."""
        argv = [*self.system, "-accel", "tcg", "-display", "none",
                "-monitor", "stdio", "-M", "pc", "-m", "64", "-nodefaults",
                "-drive", f"file={image},format=qcow2,if=ide"]
        p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        time.sleep(0.5)
        out, err = p.communicate("".join(c + "\n" for c in commands) +
                                 "quit\n", timeout=180)
        check(p.returncode == 0, f"QEMU {self.version}: {err}")
        return out


def qemu10_available():
    p = subprocess.run([QEMU10, "root"], capture_output=True, text=True,
                       timeout=1500)
    return p.returncode == 0


def records(image):
    """{snapshot name: record kind} as qsnapfix scan reads them."""
    p = run([BIN, "scan", "--output=json", image], ok_codes=(0, 4, 15, 17))
    doc = json.loads(p.stdout)
    return {s["name"]: (s.get("record") or {}).get("kind")
            for s in doc["images"][0].get("snapshots", [])}


def the_image(work):
    """The guest reshaped like qemu-kvm 1.0, fixed with --keep-original
    (a record on s1, a mark on s1.orig), a disk-only snapshot d1 and an
    unknown header extension."""
    image = os.path.join(work, "fixed.qcow2")
    batchlib.guest_image(image, ["--as", "qemu-kvm-1.0"])
    run([BIN, "fix", image, "--keep-original"])
    testlib.qemu_img("snapshot", "-c", "d1", image)
    sx.add_header_extension(image, EXT_TYPE, EXT_DATA)
    return image


def kept(image, want_tails, what):
    """The record, the mark and the extension are where they were."""
    tails = sx.tails(image)
    for name, tail in want_tails.items():
        if name in tails:
            check_eq(tails[name], tail, f"{what}: {name}'s extra data")
    exts = dict(sx.header_extensions(image))
    check_eq(exts.get(EXT_TYPE), EXT_DATA, f"{what}: the unknown extension")
    got = records(image)
    for name in want_tails:
        if name in got:
            check_eq(got[name], {"s1": "fix", "s1.orig": "original"}[name],
                     f"{what}: scan reads {name}'s record")


def qemu_img_steps(q, base, want, work):
    steps = [
        ("check", lambda p: q.qemu_img("check", p)),
        ("snapshot -c", lambda p: q.qemu_img("snapshot", "-c", "new", p)),
        ("snapshot -d d1", lambda p: q.qemu_img("snapshot", "-d", "d1", p)),
        ("snapshot -a s1", lambda p: q.qemu_img("snapshot", "-a", "s1", p)),
        ("check -r all", lambda p: q.qemu_img("check", "-r", "all", p)),
        ("amend compat=0.10 and back", lambda p: (
            q.qemu_img("amend", "-o", "compat=0.10", p),
            q.qemu_img("amend", "-o", "compat=1.1", p))),
        ("resize +16M", lambda p: q.qemu_img("resize", p, "+16M")),
        ("bitmap --add", lambda p: q.qemu_img("bitmap", "--add", p, "b0")),
        ("amend lazy_refcounts=on", lambda p: q.qemu_img(
            "amend", "-o", "lazy_refcounts=on", p)),
    ]
    for name, step in steps:
        p = os.path.join(work, "step.qcow2")
        shutil.copyfile(base, p)
        step(p)
        what = f"QEMU {q.version}: qemu-img {name}"
        kept(p, want, what)
        rc = q.qemu_img("check", "--output=json", p, ok=(0, 3)).returncode
        check_eq(rc, 0, f"{what}: qemu-img check")
        info = json.loads(q.qemu_img("info", "--output=json", p).stdout)
        check({"s1", "s1.orig"} <= {s["name"] for s in info["snapshots"]},
              f"{what}: snapshots listed")


def qemu_system_steps(q, work):
    """savevm, loadvm, delvm on an image QEMU made, with hand-made tails
    (the guest's own snapshot needs its recipe to load; a BIOS-only one
    loads as it is)."""
    tail = b"\0" * 8 + b"QSNAPFIX" + b"\0\x01\0\0\0\0\0\x02{}" + b"\0" * 6
    base = os.path.join(work, "bios.qcow2")
    q.qemu_img("create", "-q", "-f", "qcow2", base, "16M")
    q.monitor(base, ["savevm s1", "savevm s2"])
    sx.set_tails_in_place(base, {"s1": tail})
    sx.add_header_extension(base, EXT_TYPE, EXT_DATA)
    check_eq(sx.extra_sizes(base)["s2"], sx.QEMU_EXTRA,
             f"QEMU {q.version} writes 24 bytes of extra data of its own")
    for name, cmds, want in (
            ("savevm s3", ["savevm s3"], tail),
            ("loadvm s1", ["loadvm s1", "info status"], tail),
            ("delvm s2", ["delvm s2"], tail),
            ("savevm s1 again", ["savevm s1"], b"")):
        p = os.path.join(work, "step.qcow2")
        shutil.copyfile(base, p)
        out = q.monitor(p, cmds)
        what = f"QEMU {q.version}: {name}"
        check("Error" not in out and "error" not in out, f"{what}: {out}")
        if name.startswith("loadvm"):
            check("VM status: running" in out, f"{what}: the guest runs")
        check_eq(sx.tails(p)["s1"], want, f"{what}: s1's extra data")
        check_eq(dict(sx.header_extensions(p)).get(EXT_TYPE), EXT_DATA,
                 f"{what}: the unknown extension")
        check_eq(q.qemu_img("check", "--output=json", p).returncode, 0,
                 f"{what}: qemu-img check")


def run_for(version):
    q = Qemu(version)
    work = tempfile.mkdtemp(prefix=f"qsnapfix-record-{version}-")
    try:
        base = the_image(work)
        want = {n: t for n, t in sx.tails(base).items() if t}
        check_eq(sorted(want), ["s1", "s1.orig"], "the fix left two records")
        kept(base, want, "after the fix")
        qemu_img_steps(q, base, want, work)
        qemu_system_steps(q, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_qemu_7_2_keeps_the_record_and_unknown_extensions():
    run_for("7.2")


def test_qemu_10_0_keeps_the_record_and_unknown_extensions():
    if not qemu10_available():
        print("     (QEMU 10.0 tree unavailable: not checked)")
        return
    run_for("10.0")


def test_qemu_2_0_drops_the_record_on_a_table_rewrite():
    qemu20 = os.path.join(testlib.SRC, "scripts", "qemu20")
    work = tempfile.mkdtemp(prefix="qsnapfix-record-2.0-")
    try:
        p = subprocess.run([qemu20, "img", "--version"], capture_output=True,
                           text=True, timeout=1500)
        if " 2.0." not in p.stdout:  # its --version exits 1
            print("     (QEMU 2.0 unavailable: not checked)")
            return
        base = the_image(work)
        run([qemu20, "img", "snapshot", "-c", "new", base])
        check_eq(sx.extra_sizes(base),
                 {"s1": 16, "s1.orig": 16, "d1": 16, "new": 16},
                 "QEMU 2.0 writes its own 16 bytes of extra data, no more")
        check_eq(records(base), {"s1": None, "s1.orig": None, "d1": None,
                                 "new": None}, "no record left")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    testlib.main([test_qemu_7_2_keeps_the_record_and_unknown_extensions,
                  test_qemu_10_0_keeps_the_record_and_unknown_extensions,
                  test_qemu_2_0_drops_the_record_on_a_table_rewrite])
