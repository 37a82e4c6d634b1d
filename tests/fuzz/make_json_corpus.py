#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Make the JSON fuzzer's seed corpus (tests/fuzz/corpus/json): what the
reader is for -- qsnapfix's own reports (inspect, scan, fix --dry-run) and
the VM description (VMDESCRIPTION) of a QEMU-written stream -- plus the
corners of the grammar: every escape, surrogate pairs, numbers at their
limits, deep nesting, JSONL lines.

    make_json_corpus.py QSNAPFIX OUTDIR IMAGE...

Each IMAGE's first snapshot with VM state gives the VM description (if
its stream has one).
"""
import json
import os
import subprocess
import sys
import tempfile

CORNERS = {
    "escapes": rb'["\"\\\/\b\f\n\r\t", "\u00e9\u20AC\ud83d\ude00\u0000",'
               rb' "raw \xc3\xa9 \xf0\x9f\x98\x80"]',
    "numbers": b"[0, -0, 1e308, -1e-400, 0.1, 18446744073709551615,"
               b" -9223372036854775808, 18446744073709551616, 1E+2]",
    "nested": b"[" * 40 + b"{}" + b"]" * 40,
    "empty": b'{"a": {}, "b": [], "c": "", "d": null, "e": [true, false]}',
    "jsonl": b'{"image": "a.qcow2", "status": "fixed"}\n'
             b'{"image": "b.qcow2", "status": "skipped"}\n',
    "duplicate": b'{"a": 1, "a": 2}',
    "bad-utf8": b'["\xff\xfe", "\xc3"]',
}


def qsnapfix(binary, *args, ok=(0, 3, 4, 15, 17)):
    p = subprocess.run([binary, *args], capture_output=True)
    if p.returncode not in ok:
        sys.exit(f"{args}: exit {p.returncode}: {p.stderr.decode()}")
    return p.stdout


def vmdesc(binary, image):
    doc = json.loads(qsnapfix(binary, "inspect", "--output=json", image))
    for sn in doc.get("snapshots", []):
        if not sn["vm-state-size"]:
            continue
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "vmstate")
            qsnapfix(binary, "extract", image, "--snapshot", sn["id"], "-o",
                     out)
            info = json.loads(qsnapfix(binary, "inspect", "--output=json",
                                       "--stream", out))
            if not info["vmdesc"]:
                return None
            with open(out, "rb") as f:
                # the JSON text follows the 0x06 byte and its be32 length
                f.seek(info["vmdesc"]["offset"] + 5)
                return f.read(info["vmdesc"]["size"])
    return None


def main():
    binary, outdir, images = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(outdir, exist_ok=True)
    seeds = dict(CORNERS)
    for image in images:
        base = os.path.splitext(os.path.basename(image))[0]
        seeds[f"{base}-inspect"] = qsnapfix(binary, "inspect",
                                            "--output=json", image)
        seeds[f"{base}-scan"] = qsnapfix(binary, "scan", "--output=json",
                                         image)
        seeds[f"{base}-fix"] = qsnapfix(binary, "fix", "--all", "--dry-run",
                                        "--output=json", image)
        desc = vmdesc(binary, image)
        if desc:
            seeds[f"{base}-vmdesc"] = desc
    for name, data in seeds.items():
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
