#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Truncated and bit-flipped streams (a corpus made here from real ones)
give one clear line naming the stream, the offset and the section, and a
documented exit code (14), never a crash; the same under ASan/UBSan, where
this test runs the sanitized binary. A truncated stream is always refused;
a flipped structure byte is refused or its section is reported as located
by resync (opaque: never edited); a flip inside a value changes nothing."""
import json
import os
import random
import shutil

import streamlib
from qsnapfix_tests import testlib
from qsnapfix_tests.testlib import check, check_eq

BAD_STREAM = 14


def sources(work):
    """Small real streams: the KVM reference stream and, if present, a
    qemu-kvm 1.0 KVM snapshot extracted with qsnapfix extract; without
    ../shared, one written here by QEMU 7.2."""
    shared = testlib.shared_dir()
    if not shared:
        if not shutil.which("qemu-system-x86_64"):
            testlib.skip("neither ../shared nor qemu-system-x86_64")
        import make_streams
        entries, where = make_streams.generate()
        return [os.path.join(where, entries[0]["stream"])]
    out = [s for s in streamlib.reference_streams() if "kvm14" in s]
    images = os.path.join(testlib.CACHE, "shared-images")
    img = os.path.join(images, "qk10k-d-usbtablet.qcow2")
    if os.path.exists(img):
        dst = os.path.join(work, "qk10k.mig")
        testlib.qsnapfix("extract", img, "--snapshot", "s1", "-o", dst)
        out.append(dst)
    return out


def corpus(path, work):
    """(name, bytes) of damaged copies, chosen from the stream's layout."""
    data = open(path, "rb").read()
    doc = streamlib.inspect_json("--stream", path)
    secs = doc["sections"]
    rnd = random.Random(os.path.basename(path))
    cases = [("empty", b""), ("magic-only", data[:4]), ("header", data[:8]),
             ("no-eof", data[:doc["eof-offset"]])]
    start = secs[0]
    cases.append(("mem-size-list", data[:start["payload-offset"] + 20]))
    for n in range(6):
        cut = rnd.randrange(start["payload-offset"], doc["eof-offset"])
        cases.append((f"cut-{cut:#x}", data[:cut]))
    devices = [s for s in secs if s["type"] == "full"]
    for s in rnd.sample(devices, min(12, len(devices))):
        mid = s["payload-offset"] + s["payload-size"] // 2
        cases.append((f"cut-in-{s['idstr']}", data[:mid]))
        flip = bytearray(data)
        flip[s["offset"]] ^= 0x40  # the type byte
        cases.append((f"type-of-{s['idstr']}", bytes(flip)))
        flip = bytearray(data)
        flip[s["idstr-offset"]] ^= 0x80  # the idstr length
        cases.append((f"idlen-of-{s['idstr']}", bytes(flip)))
        flip = bytearray(data)
        flip[s["version-offset"] + 3] ^= 0x10  # an unknown version
        cases.append((f"version-of-{s['idstr']}", bytes(flip)))
        flip = bytearray(data)
        for k in range(4):
            i = s["payload-offset"] + rnd.randrange(max(1, s["payload-size"]))
            flip[i] ^= 1 << rnd.randrange(8)
        cases.append((f"payload-of-{s['idstr']}", bytes(flip)))
    for n in range(20):
        flip = bytearray(data)
        i = rnd.randrange(8, len(data))
        flip[i] ^= 0xff
        cases.append((f"random-{i:#x}", bytes(flip)))
    for name, blob in cases:
        p = os.path.join(work, f"{os.path.basename(path)}.{name}".replace("/", "_"))
        with open(p, "wb") as f:
            f.write(blob)
        yield name, p


def test_damaged_streams_fail_cleanly():
    work = testlib.workdir("corrupt")
    outcome = {"refused": 0, "resynced": 0, "unchanged": 0}
    try:
        for src in sources(work):
            original = streamlib.devices(streamlib.inspect_json("--stream", src))
            for name, path in corpus(src, work):
                structural = not name.startswith(("payload-", "random-"))
                for extra in ([], ["--tail"]):
                    p = testlib.qsnapfix("inspect", "--stream", path,
                                         "--output=json", *extra,
                                         ok_codes=None)
                    what = f"{name} {extra}: exit {p.returncode}: {p.stderr}"
                    check("AddressSanitizer" not in p.stderr and
                          "runtime error" not in p.stderr, what)
                    check(p.returncode in (0, BAD_STREAM), what)
                    if p.returncode == BAD_STREAM:
                        outcome["refused"] += 1
                        lines = p.stderr.strip().split("\n")
                        check_eq(len(lines), 1, f"{name}: one line: {p.stderr}")
                        check(lines[0].startswith(f"qsnapfix: {path}: "), what)
                        check("offset 0x" in lines[0], what)
                        continue
                    check(not name.startswith(("cut", "no-eof", "empty",
                                               "magic", "header", "mem-size")),
                          f"{name}: a truncated stream parsed: {what}")
                    doc = json.loads(p.stdout)
                    if doc["parse"]["resynced"]:
                        outcome["resynced"] += 1
                        continue
                    check(not structural, f"{name}: damage not noticed")
                    check_eq(streamlib.devices(doc), original,
                             f"{name}: a value flip moved no boundary")
                    outcome["unchanged"] += 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"     {outcome}")
    total = sum(outcome.values())
    check(outcome["refused"] >= total // 5, f"damage refused: {outcome}")


def test_errors_inside_a_section_name_it():
    work = testlib.workdir("corrupt-msg")
    try:
        src = sources(work)[0]
        data = open(src, "rb").read()
        doc = streamlib.inspect_json("--stream", src)
        pit = [s for s in doc["sections"] if s["idstr"] == "i8254"][0]
        cut = os.path.join(work, "cut.mig")
        with open(cut, "wb") as f:
            f.write(data[:pit["payload-offset"] + 50])
        p = testlib.qsnapfix("inspect", "--stream", cut, ok_codes=(BAD_STREAM,))
        check(f"section {pit['section-id']} 'i8254' (FULL at "
              f"{pit['offset']:#x})" in p.stderr, p.stderr)
        check("truncated" in p.stderr, p.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    testlib.main([test_damaged_streams_fail_cleanly,
                  test_errors_inside_a_section_name_it])
