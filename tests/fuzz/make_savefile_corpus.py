#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Make the save image fuzzer's seed corpus (tests/fuzz/corpus/savefile):
libvirt save image headers and XML areas the way each libvirt generation
wrote them (tests/qsnapfix_tests/savefile.py), each followed by the first
bytes of a migration stream.

    make_savefile_corpus.py OUTDIR
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from qsnapfix_tests import savefile  # noqa: E402

STREAM_HEAD = b"QEVM\0\0\0\3"
COOKIE = ("<cookie>\n  <cpu mode='custom' match='exact' check='full'>\n"
          "    <model fallback='forbid'>qemu64</model>\n  </cpu>\n"
          "</cookie>\n")


def seeds():
    yield "v2-09-raw", dict(layout="libvirt-0.9")
    yield "v2-09-gzip", dict(layout="libvirt-0.9", compression="gzip")
    yield "v2-07-xz", dict(layout="libvirt-0.7", compression="xz")
    yield "v1-07-raw", dict(layout="libvirt-0.7", version=1)
    yield "v2-90-cookie", dict(layout="libvirt-9.0", cookie=COOKIE,
                               compression="lzop")
    yield "v2-partial", dict(layout="libvirt-0.9", partial=True)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    xml = savefile.old_domain_xml("vm1", image="/var/lib/libvirt/images/"
                                  "vm1.qcow2", serial="/tmp/vm1.log")
    with tempfile.TemporaryDirectory() as work:
        stream = os.path.join(work, "head.mig")
        with open(stream, "wb") as f:
            f.write(STREAM_HEAD)
        for name, kw in seeds():
            path = os.path.join(out, name)
            savefile.write(path, xml, stream, **kw)
            print(f"{name}: {os.path.getsize(path)} bytes")
        # the other byte order (a big-endian host's libvirt)
        with open(os.path.join(out, "v2-09-raw"), "rb") as f:
            data = bytearray(f.read())
        for i in range(16, 36, 4):
            data[i:i + 4] = data[i:i + 4][::-1]
        with open(os.path.join(out, "v2-09-big-endian"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
