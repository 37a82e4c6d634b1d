#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Seed corpus of fuzz_splice: small images of the fuzz_qcow2 corpus
(made by make_qcow2_corpus.py), each behind 8 bytes that choose the edit
(fuzz_splice.c, plan_from): offset (24 bits), bytes replaced (16),
bytes inserted (16), flags (bit 0 dry run, bit 1 keep the original).

    tests/fuzz/make_splice_corpus.py     (rewrites corpus/splice/)
"""
import hashlib
import os

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGES = ["v2-vmstate", "v3-vmstate-2snaps", "rc1", "rc64", "cvm-zlib",
          "xl2-vmstate"]
PLANS = [
    bytes([0, 1, 0, 0, 4, 0, 16, 0]),   # at 256: cut 1024, insert 4096
    bytes([0, 0, 100, 0, 0, 0, 0, 1]),  # at 100: patch nothing, dry run
    bytes([0, 32, 0, 16, 0, 0, 3, 2]),  # at 8192: cut 4096, insert 3; keep
]


def main():
    out = os.path.join(HERE, "corpus", "splice")
    os.makedirs(out, exist_ok=True)
    for name in IMAGES:
        with open(os.path.join(HERE, "corpus", "qcow2", f"{name}.qcow2"),
                  "rb") as f:
            image = f.read()
        for plan in PLANS:
            tag = hashlib.md5(plan).hexdigest()[:6]
            with open(os.path.join(out, f"{name}-{tag}"), "wb") as f:
                f.write(plan + image)


if __name__ == "__main__":
    main()
