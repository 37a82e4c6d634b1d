#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Regenerate the seed corpus of fuzz_qcow2 (tests/fuzz/corpus/qcow2/):
small images made by qemu-img/qemu-io (512-byte clusters where possible so
that seeds stay a few KiB), covering v2/v3, snapshots with VM state,
compressed (zlib/zstd) and zero clusters in the VM state, extended L2,
refcount widths 1 and 64, a backing file, a data file and the dirty bit.
Run by hand when the formats covered should change; the output is
committed."""
import os
import shutil
import subprocess
import sys
import tempfile

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if TESTS not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
    # Run by hand: again, with the test library (tests/) on PYTHONPATH.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [TESTS, os.environ.get("PYTHONPATH")]))
    os.execv(sys.executable, [sys.executable] + sys.argv)
from qsnapfix_tests import fixtures  # noqa: E402
from qsnapfix_tests import testlib  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus",
                   "qcow2")


def img(d, name, size, *opts):
    p = os.path.join(d, name)
    args = ["create", "-q", "-f", "qcow2"]
    if opts:
        args += ["-o", ",".join(opts)]
    testlib.qemu_img(*args, p, size)
    return p


def with_vmstate(p, n=1536, snaps=("s1",)):
    testlib.qemu_io(p, f"write -b -P 0x51 0 {n}")
    for s in snaps:
        testlib.qemu_img("snapshot", "-c", s, p)
    for i in range(len(snaps)):
        fixtures.set_vm_state_size(p, i, n - 100)


def main():
    d = tempfile.mkdtemp()
    seeds = []
    p = img(d, "v3-empty", "1M", "cluster_size=512")
    seeds.append(p)
    p = img(d, "v3-vmstate-2snaps", "1M", "cluster_size=512")
    testlib.qemu_io(p, "write -P 0x11 0 1024", "write -z 2048 512")
    with_vmstate(p, snaps=("s1", "s2"))
    seeds.append(p)
    p = img(d, "v2-vmstate", "1M", "cluster_size=512", "compat=0.10")
    with_vmstate(p)
    seeds.append(p)
    for comp in ("zlib", "zstd"):
        # VM state base at 32 KiB (disk size patched to 16 KiB), mapping a
        # compressed, a zero and a normal cluster.
        p = img(d, f"cvm-{comp}", "1M", "cluster_size=512",
                f"compression_type={comp}")
        testlib.qemu_io(p, "write -c -P 0x61 32768 512",
                        "write -z 33280 512", "write -P 0x62 33792 512")
        testlib.qemu_img("snapshot", "-c", "c", p)
        fixtures.set_vm_state_size(p, 0, 1500, disk_size=16384)
        seeds.append(p)
    p = img(d, "xl2-vmstate", "64K", "cluster_size=16K", "extended_l2=on")
    testlib.qemu_io(p, "write -b -P 0x71 0 2048")
    testlib.qemu_img("snapshot", "-c", "x", p)
    fixtures.set_vm_state_size(p, 0, 2000)
    seeds.append(p)
    for bits in (1, 64):
        p = img(d, f"rc{bits}", "1M", "cluster_size=512",
                f"refcount_bits={bits}")
        testlib.qemu_img("snapshot", "-c", "d", p)
        seeds.append(p)
    # relative names, so that no temporary path ends up in the seeds
    img(d, "base", "1M", "cluster_size=512")
    p = os.path.join(d, "overlay")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o",
                    "cluster_size=512", "-b", "base", "-F", "qcow2", p],
                   cwd=d, check=True)
    seeds.append(p)
    p = os.path.join(d, "datafile")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o",
                    "cluster_size=512,data_file=data.raw", p, "1M"],
                   cwd=d, check=True)
    seeds.append(p)
    p = img(d, "dirty", "1M", "cluster_size=512", "lazy_refcounts=on")
    with_vmstate(p)
    fixtures.patch(p, 72, (1).to_bytes(8, "big"))
    seeds.append(p)
    os.makedirs(OUT, exist_ok=True)
    for s in seeds:
        shutil.copyfile(s, os.path.join(OUT, os.path.basename(s) + ".qcow2"))
        print(os.path.basename(s), os.path.getsize(s))
    shutil.rmtree(d)


if __name__ == "__main__":
    main()
