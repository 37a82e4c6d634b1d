#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""qsnapfix inspect IMAGE --snapshot / --stream FILE: human output, field
dumps, JSON, stdin, and the exit codes of bad command lines, missing
snapshots and non-streams. Uses an image saved here by QEMU 7.2."""
import json
import os
import shutil
import subprocess

import streamlib
from qsnapfix_tests import testlib
from qsnapfix_tests.testlib import check, check_eq

if not shutil.which("qemu-system-x86_64"):
    testlib.skip("qemu-system-x86_64 is not installed")

WORK = testlib.workdir("stream-cli")
IMAGE = os.path.join(WORK, "vm.qcow2")
testlib.qemu_img("create", "-q", "-f", "qcow2", IMAGE, "16M")
testlib.savevm(IMAGE, ["first"], machine="pc-i440fx-1.4",
               extra=["-device", "e1000", "-vga", "cirrus"])
testlib.qemu_img("snapshot", "-c", "disk-only", IMAGE)
STREAM = os.path.join(WORK, "first.mig")
testlib.qsnapfix("extract", IMAGE, "--snapshot", "first", "-o", STREAM)


def test_human_output_shows_writer_blocks_and_sections():
    out = testlib.qsnapfix("inspect", IMAGE, "--snapshot", "first").stdout
    check(f"stream: {IMAGE}: snapshot 1 \"first\"" in out, out[:200])
    check("writer: qemu " in out and ", TCG" in out, out[:400])
    check("RAM blocks:" in out and "pc.ram" in out, "RAM block table")
    check("0000:00:03.0/e1000.rom" in out, "the NIC ROM block")
    lines = [l for l in out.splitlines() if " FULL " in l]
    check(any(" i8254 " in l and "i8254:" in l for l in lines), "i8254 row")
    check(any("e1000: pci 8086:100e class 0200" in l for l in lines),
          "e1000 summary decodes the PCI ids")
    check(out.rstrip().endswith("bytes of JSON"), "ends with the vmdesc")


def test_sections_dumps_one_device_by_name():
    out = testlib.qsnapfix("inspect", "--stream", STREAM,
                           "--sections=i8254").stdout
    check(out.startswith("section ") and "'i8254'" in out, out[:120])
    check("irq_disabled = 0" in out and "channels[2]:" in out, out)
    doc = streamlib.inspect_json("--stream", STREAM,
                                 "--sections=0000:00:01.3/piix4_pm")
    pm = [s for s in doc["sections"] if "fields" in s]
    check_eq(len(pm), 1, "only the named section carries fields")
    fields = {f["path"]: f for f in pm[0]["fields"]}
    check_eq(fields["ar.gpe.sts"]["size"], 2, "gpe.sts size")
    check_eq(fields["parent_obj.config"]["size"], 256, "PCI config")
    check_eq(fields["parent_obj.config"]["hex"][:8], "86801371",
             "vendor 8086 device 7113")


def test_stdin_and_file_give_the_same_json():
    a = streamlib.inspect_json("--stream", STREAM)
    # A pipe, not a file: the source spools it to a temporary file.
    cat = subprocess.Popen(["cat", STREAM], stdout=subprocess.PIPE)
    p = subprocess.run([testlib.BIN, "inspect", "--stream", "-",
                        "--output=json"], stdin=cat.stdout,
                       capture_output=True)
    cat.wait()
    check_eq(p.returncode, 0, p.stderr)
    b = json.loads(p.stdout)
    check_eq(b["sections"], a["sections"], "same sections from a pipe")
    c = streamlib.inspect_json(IMAGE, "--snapshot", "1")
    check_eq(c["sections"], a["sections"], "same sections from the image")
    check_eq(c["source"], {"image": IMAGE, "snapshot": "1"}, "source")


def test_tail_reads_little():
    p = testlib.qsnapfix("inspect", IMAGE, "--snapshot", "first", "--tail",
                         "--stats", "--output=json")
    doc = json.loads(p.stdout)
    check_eq(doc["parse"]["path"], "tail", "tail path taken")
    check(doc["parse"]["bytes-read"] <= streamlib.TAIL_BUDGET,
          f"read {doc['parse']['bytes-read']}")
    check("read " in p.stderr and " bytes in " in p.stderr, p.stderr)


def test_bad_command_lines_and_inputs():
    usage = [("inspect", "--snapshot", "first"),
             ("inspect", IMAGE, IMAGE, "--snapshot", "first"),
             ("inspect", "--stream", STREAM, IMAGE),
             ("inspect", "--stream", STREAM, "--output=xml")]
    for argv in usage:
        p = testlib.qsnapfix(*argv, ok_codes=(2,))
        check(p.stderr.startswith("qsnapfix: "), p.stderr)
    p = testlib.qsnapfix("inspect", IMAGE, "--snapshot", "nosuch",
                         ok_codes=(9,))
    check("nosuch" in p.stderr, p.stderr)
    p = testlib.qsnapfix("inspect", IMAGE, "--snapshot", "disk-only",
                         ok_codes=(9,))
    check("no VM state" in p.stderr, p.stderr)
    p = testlib.qsnapfix("inspect", "--stream", STREAM, "--sections=nosuch",
                         ok_codes=(9,))
    check("no section named 'nosuch'" in p.stderr, p.stderr)
    notstream = os.path.join(WORK, "not.mig")
    with open(notstream, "wb") as f:
        f.write(b"this is not a migration stream")
    p = testlib.qsnapfix("inspect", "--stream", notstream, ok_codes=(14,))
    check_eq(p.stderr.strip().count("\n"), 0, "one line")
    check("not a migration stream" in p.stderr, p.stderr)
    p = testlib.qsnapfix("inspect", "--stream", os.path.join(WORK, "absent"),
                         ok_codes=(5,))


if __name__ == "__main__":
    try:
        testlib.main([test_human_output_shows_writer_blocks_and_sections,
                      test_sections_dumps_one_device_by_name,
                      test_stdin_and_file_give_the_same_json,
                      test_tail_reads_little,
                      test_bad_command_lines_and_inputs])
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
