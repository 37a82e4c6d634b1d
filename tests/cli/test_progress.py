#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The progress line: on a terminal, every command that goes through a
whole VM state (fix, translate, extract, splice) or a store (scan) shows
one line on stderr -- what, how far, how fast, how long still -- rewritten
in place and cleared before the report; in a pipe, nothing.

Standard error is a pty (python's pty module, 200 columns); the line's
content is asserted, not its timing: each step draws at its start (0 of
N) and at its end (N of N, 100%) whatever the speed, at most ten times a
second between.
"""
import fcntl
import os
import re
import select
import shutil
import struct
import subprocess
import termios

from qsnapfix_tests import fixtures
from qsnapfix_tests.testlib import (BIN, CACHE, Failure, check, check_eq,
                                    main, workdir)

WORK = workdir("progress")
SIZE = r"[0-9.]+ (?:[KMGTPE]i)?B"
LINE = re.compile(r"qsnapfix: (?P<what>.+?): (?P<step>reading|writing|"
                  r"verifying) (?P<done>" + SIZE + r") of (?P<total>" + SIZE +
                  r") \((?P<pct>[0-9]+)%\), (?P<rate>" + SIZE +
                  r"/s|\? B/s), (?P<eta>[0-9:]+|\?) left")
IMAGES = re.compile(r"qsnapfix scan: (?P<done>[0-9]+) of (?P<total>[0-9]+) "
                    r"images \((?P<pct>[0-9]+)%\), " + SIZE + r" read, "
                    r"[0-9.]+ images/s, (?:[0-9:]+|\?) left")
CLEAR = "\r\x1b[K"


def on_a_terminal(*args):
    """Run qsnapfix ARGS with stderr on a 200-column pty; (rc, stdout,
    everything written to the pty)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    p = subprocess.Popen([BIN, *map(str, args)], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=slave, cwd=WORK)
    os.close(slave)
    tty = b""
    while True:
        r, _, _ = select.select([master], [], [], 60)
        if not r:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the pty
            break
        if not chunk:
            break
        tty += chunk
    out = p.stdout.read()
    p.wait(timeout=60)
    os.close(master)
    return p.returncode, out.decode(), tty.decode("utf-8", "replace")


def lines(tty):
    """The progress lines drawn, in order: each begins with CLEAR and is
    ended by the next one (what follows the last is other output)."""
    return [x for x in tty.split(CLEAR)[1:-1] if x.strip()]


def steps(tty, what, verified=None):
    """[(step, pct)] of the lines about what (verifying: about verified,
    what was written, if given); every line must parse."""
    got = []
    for x in lines(tty):
        m = LINE.fullmatch(x.strip())
        if not m:
            raise Failure(f"not a progress line: {x!r}")
        check_eq(m["what"], verified if verified and
                 m["step"] == "verifying" else what, "what the line is about")
        got.append((m["step"], int(m["pct"])))
        if m["pct"] == "100":
            check_eq((m["done"], m["eta"]), (m["total"], "0:00"), x)
    return got


def ends_and_starts(got):
    """Each step's first and last percentage, steps in order."""
    out = []
    for step, pct in got:
        if not out or out[-1][0] != step:
            out.append([step, pct, pct])
        out[-1][2] = pct
    return [tuple(x) for x in out]


def image():
    """A qemu-kvm 1.0 image (every step runs) or, without ../shared, a
    QEMU 7.2 fixture (compatible: reading only)."""
    real = os.path.join(CACHE, "shared-images", "qk10-a-default.qcow2")
    src = real if os.path.exists(real) else fixtures.fixture("c4k").path
    dst = os.path.join(WORK, "vm.qcow2")
    shutil.copyfile(src, dst)
    return dst, os.path.exists(real)


def test_fix_shows_reading_writing_verifying_then_clears():
    img, old = image()
    rc, out, tty = on_a_terminal("fix", img)
    check_eq(rc, 0, "fix")
    got = ends_and_starts(steps(tty, f'{img}: snapshot 1 "s1"'))
    want = [("reading", 0, 100)]
    if old:
        want += [("writing", 0, 100), ("verifying", 0, 100)]
    check_eq(got, want, "steps, each from 0% to 100%")
    check(tty.endswith(CLEAR), f"the line is cleared at the end: {tty[-80:]!r}")
    check("fixed" in out or "compatible" in out, out)


def test_translate_extract_and_splice_show_their_step():
    img, old = image()
    mig = os.path.join(WORK, "vm.mig")
    rc, _, tty = on_a_terminal("extract", img, "-s", "s1", "-o", mig)
    check_eq((rc, ends_and_starts(steps(tty, f'{img}: snapshot 1 "s1"'))),
             (0, [("writing", 0, 100)]), "extract")
    out = os.path.join(WORK, "t.mig")
    rc, _, tty = on_a_terminal("translate", mig, out)
    # (OUT is written even when nothing changes: a copy; read back if not)
    want = [("reading", 0, 100), ("writing", 0, 100)] + (
        [("verifying", 0, 100)] if old else [])
    check_eq((rc, ends_and_starts(steps(tty, mig, out))), (0, want),
             "translate")
    edits = os.path.join(WORK, "noop.edits")
    with open(edits, "w") as f:
        f.write("0 0 -\n")
    rc, _, tty = on_a_terminal("splice", img, "-s", "s1", "--edits", edits,
                               "--keep-original", "copy")
    check_eq(rc, 0, "splice")
    check_eq(ends_and_starts(steps(tty, img))[-1][2], 100, "splice ends")


def test_scan_counts_images():
    d = os.path.join(WORK, "store")
    os.makedirs(d, exist_ok=True)
    for name in ("c4k", "c512", "v2-multi"):
        shutil.copyfile(fixtures.fixture(name).path,
                        os.path.join(d, f"{name}.qcow2"))
    rc, out, tty = on_a_terminal("scan", d)
    check_eq(rc, 0, "scan")
    got = []
    for x in lines(tty):
        m = IMAGES.fullmatch(x.strip())
        if not m:
            raise Failure(f"not a scan progress line: {x!r}")
        got.append((int(m["done"]), int(m["total"])))
    check_eq((got[0], got[-1]), ((0, 3), (3, 3)), "from 0 to 3 of 3 images")
    check(tty.endswith(CLEAR), "cleared at the end")
    check("Summary" in out, out)


def test_nothing_when_stderr_is_not_a_terminal():
    img, _ = image()
    for args in (["fix", "--dry-run", img], ["scan", img],
                 ["extract", img, "-s", "s1", "-o", os.devnull]):
        p = subprocess.run([BIN, *args], capture_output=True, text=True)
        check(p.returncode in (0, 17), f"{args}: exit {p.returncode}")
        check("\r" not in p.stderr and not LINE.search(p.stderr) and
              not IMAGES.search(p.stderr), f"{args}: stderr {p.stderr!r}")


if __name__ == "__main__":
    try:
        main([test_fix_shows_reading_writing_verifying_then_clears,
              test_translate_extract_and_splice_show_their_step,
              test_scan_counts_images,
              test_nothing_when_stderr_is_not_a_terminal])
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
