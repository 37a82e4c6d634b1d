#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Snapshot names in JSON are written exactly as qemu-img writes them, and
every name read from our JSON finds its snapshot again with --snapshot.

Names hold a newline, a tab, other control bytes, quotes, a backslash,
non-ASCII UTF-8 (one character beyond the BMP), modified UTF-8's NUL
("\\xC0\\x80") and invalid UTF-8. Snapshots with VM state get the names
from `qsnapfix splice --keep-original` (a copy of a QEMU-made VM state
under that name); disk-only ones are made by `qemu-img snapshot -c`. The
string literals of every name in `qemu-img info --output=json` and in
inspect, scan and fix --dry-run are compared byte for byte.

A name that is not valid UTF-8 shows as qemu-img shows it (each invalid
sequence as U+FFFD): that text is not the name, so such a snapshot is
found by its ID (or by the raw bytes, which --snapshot takes as they are).
"""
import json
import os
import re
import shutil
import subprocess

from qsnapfix_tests import fixtures
from qsnapfix_tests.testlib import (BIN, Failure, check, check_eq, main,
                                    workdir)

NAMES = [b"a\nb", b"t\tab", b"c\x01\x1f\x7fd", b'q"uo\\te', b"back\\slash",
         "é€😀".encode(), b"ov\xc0\x80x", b"bad\xff\xfez", b"trunc\xc3",
         b"sur\xed\xa0\x80", b"mix\n\"\xc3\xa9\\\t"]

LITERAL = rb'"((?:[^"\\]|\\.)*)"'


def run(argv, ok=(0,)):
    p = subprocess.run([os.fsencode(a) if isinstance(a, str) else a
                        for a in argv], capture_output=True, timeout=600)
    if p.returncode not in ok:
        raise Failure(f"{argv}: exit {p.returncode}: {p.stderr!r}")
    return p


def name_literals(text, key_sep):
    """The raw string literals of every "name" member, in order."""
    return re.findall(rb'"name"' + key_sep + LITERAL, text)


def make_image():
    d = workdir("qemu-names")
    img = os.path.join(d, "names.qcow2")
    shutil.copyfile(fixtures.fixture("c4k").path, img)
    noop = os.path.join(d, "noop.edits")
    with open(noop, "w") as f:
        f.write("0 0 -\n")  # nothing replaced: the VM state as it is
    for n in NAMES:
        run([BIN, "splice", img, "--snapshot", "s1", "--edits", noop,
             b"--keep-original", n])
    for n in NAMES:
        run(["qemu-img", "snapshot", "-c", b"disk-" + n, img])
    run(["qemu-img", "check", img])
    return img


IMAGE = None


def image():
    global IMAGE
    if IMAGE is None:
        IMAGE = make_image()
    return IMAGE


def qemu_names(img):
    out = run(["qemu-img", "info", "--output=json", img]).stdout
    return name_literals(out, rb': ')


def test_names_are_written_as_qemu_img_writes_them():
    img = image()
    want = qemu_names(img)
    check_eq(len(want), 1 + 2 * len(NAMES), "qemu-img's snapshots")
    inspect = run([BIN, "inspect", "--output=json", img]).stdout
    check_eq(name_literals(inspect, rb' : '), want, "inspect's names")
    scan = run([BIN, "scan", "--output=json", img], ok=(0, 17)).stdout
    check_eq(name_literals(scan, rb' : '), want, "scan's names")
    fix = run([BIN, "fix", "--all", "--dry-run", "--output=json", img],
              ok=(0,)).stdout
    check_eq(name_literals(fix, rb' : '),
             want[:1 + len(NAMES)], "fix's names (snapshots with VM state)")
    # the classes, spelled out once: escapes, \\u, U+FFFD
    check(b"a\\nb" in want and b"t\\tab" in want, want)
    check(b"c\\u0001\\u001F\\u007Fd" in want, want)
    check(b"\\u00E9\\u20AC\\uD83D\\uDE00" in want, want)
    check(b"ov\\u0000x" in want and b"bad\\uFFFD\\uFFFDz" in want, want)


def test_every_valid_name_round_trips_into_snapshot():
    img = image()
    doc = json.loads(run([BIN, "inspect", "--output=json", img]).stdout)
    tried = 0
    for sn in doc["snapshots"]:
        name = sn["name"]
        if "\ufffd" in name:
            continue  # not the name: see the next test
        raw = name.encode("utf-8", "surrogatepass").replace(b"\0",
                                                           b"\xc0\x80")
        tried += 1
        if sn["vm-state-size"]:
            got = json.loads(run([BIN, "inspect", "--output=json",
                                  "--snapshot", raw, img]).stdout)
            check_eq(got["size"], sn["vm-state-size"], f"{name!r}: size")
            fix = json.loads(run([BIN, "fix", "--dry-run", "--output=json",
                                  "--snapshot", raw, img], ok=(0,)).stdout)
            check_eq(fix["snapshots"][0]["id"], sn["id"], f"{name!r}: fix")
            check_eq(fix["snapshots"][0]["name"], name, f"{name!r}: name")
        else:
            p = run([BIN, "extract", "--snapshot", raw, "-o", "/dev/null",
                     img], ok=(9,))
            check(f'snapshot {sn["id"]} '.encode() in p.stderr,
                  f"{name!r}: found as a disk-only snapshot: {p.stderr!r}")
            # the message quotes the name with its control bytes escaped:
            # one line, nothing a terminal would act on
            check(p.stderr.count(b"\n") == 1 and p.stderr.endswith(b"\n")
                  and not re.search(rb"[\x00-\x09\x0b-\x1f\x7f]",
                                    p.stderr),
                  f"{name!r}: one printable line: {p.stderr!r}")
    check_eq(tried, 1 + 2 * (len(NAMES) - 3), "names tried")


def test_names_that_are_not_utf8_are_found_by_id_or_bytes():
    img = image()
    doc = json.loads(run([BIN, "inspect", "--output=json", img]).stdout)
    bad = [sn for sn in doc["snapshots"]
           if "\ufffd" in sn["name"] and sn["vm-state-size"]]
    check_eq(len(bad), 3, "snapshots with VM state whose name is not UTF-8")
    for sn in bad:
        by_id = json.loads(run([BIN, "inspect", "--output=json",
                                "--snapshot", sn["id"], img]).stdout)
        check_eq(by_id["size"], sn["vm-state-size"], f"{sn['id']}: by ID")
    raw = json.loads(run([BIN, "inspect", "--output=json", "--snapshot",
                          b"bad\xff\xfez", img]).stdout)
    check_eq(raw["source"]["snapshot"], "bad\ufffd\ufffdz", "by raw bytes")


if __name__ == "__main__":
    main([test_names_are_written_as_qemu_img_writes_them,
          test_every_valid_name_round_trips_into_snapshot,
          test_names_that_are_not_utf8_are_found_by_id_or_bytes])
