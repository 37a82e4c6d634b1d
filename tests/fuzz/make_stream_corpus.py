#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Make the stream fuzzer's seed corpus (tests/fuzz/corpus/stream) from real
streams: every record kept byte for byte except the RAM page records, which
are dropped (the MEM_SIZE list and EOS stay), so that seeds are small but
cover every era's container and device layouts.

    make_stream_corpus.py QSNAPFIX OUTDIR STREAM|IMAGE:SNAPSHOT...
"""
import json
import os
import subprocess
import sys


def inspect(qsnapfix, target):
    if ":" in target and not os.path.exists(target):
        image, snap = target.rsplit(":", 1)
        argv = [qsnapfix, "inspect", image, "--snapshot", snap]
    else:
        argv = [qsnapfix, "inspect", "--stream", target]
    return json.loads(subprocess.run(argv + ["--output=json"], check=True,
                                     capture_output=True).stdout)


def read_stream(qsnapfix, target, work):
    if ":" in target and not os.path.exists(target):
        image, snap = target.rsplit(":", 1)
        out = os.path.join(work, "extract.mig")
        subprocess.run([qsnapfix, "extract", image, "--snapshot", snap, "-o",
                        out], check=True, capture_output=True)
        target = out
    with open(target, "rb") as f:
        return f.read()


def strip_pages(data, doc):
    out = bytearray(data[:8])
    blocks = doc["ram-blocks"]
    for s in doc["sections"]:
        end = s["offset"] + s["size"]
        if s["kind"] != "ram":
            out += data[s["offset"]:end]
            continue
        out += data[s["offset"]:s["payload-offset"]]
        ram = s["ram"]
        if "mem-size-offset" in ram:
            n = 8 + sum(1 + len(b["id"]) + 8 for b in blocks)
            out += data[ram["mem-size-offset"]:ram["mem-size-offset"] + n]
        out += (0x10).to_bytes(8, "big")
        if "footer-offset" in s:
            out += data[s["footer-offset"]:s["footer-offset"] + 5]
    out += data[doc["eof-offset"]:]
    return bytes(out)


def main():
    qsnapfix, outdir, targets = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(outdir, exist_ok=True)
    for t in targets:
        doc = inspect(qsnapfix, t)
        seed = strip_pages(read_stream(qsnapfix, t, outdir), doc)
        name = os.path.basename(t).replace(".qcow2:", "-").replace(".mig", "")
        with open(os.path.join(outdir, name + ".mig"), "wb") as f:
            f.write(seed)
        print(f"{name}: {len(seed)} bytes")
    extract = os.path.join(outdir, "extract.mig")
    if os.path.exists(extract):
        os.unlink(extract)


if __name__ == "__main__":
    main()
