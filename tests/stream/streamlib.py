# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers shared by the stream-model script tests."""
import json
import os

from qsnapfix_tests import testlib

STREAM_CHECK = os.environ.get("STREAM_CHECK") or os.path.join(
    testlib.os.environ.get("QSNAPFIX_BUILD", os.path.join(testlib.SRC, "build")),
    "tests", "stream", "stream-check")

# The tail path must find a typical PC stream's devices in this many bytes.
TAIL_BUDGET = 1 << 20


def stream_check(target, *, snapshot=None, hide=(), roundtrip=True, tail=True):
    """Run stream-check; return its JSON; fail with its failures."""
    argv = [STREAM_CHECK]
    if snapshot:
        argv += ["--snapshot", snapshot]
    for h in hide:
        argv += ["--hide", h]
    if not roundtrip:
        argv.append("--no-roundtrip")
    if not tail:
        argv.append("--no-tail")
    argv.append(target)
    p = testlib.run(argv, ok_codes=(0, 1))
    result = json.loads(p.stdout)
    testlib.check(p.returncode == 0 and not result["failures"],
                  f"stream-check {target} {snapshot or ''}: "
                  f"{result['failures'] or p.stderr}")
    return result


def inspect_json(*args):
    return testlib.qsnapfix_json("inspect", *args)


def devices(doc):
    """(idstr, instance, version) of the FULL sections, in stream order."""
    return [(s["idstr"], s["instance"], s["version"])
            for s in doc["sections"] if s["type"] == "full"]


def vmsd_name(idstr):
    return idstr.rsplit("/", 1)[-1]


def reference_streams():
    shared = testlib.shared_dir()
    d = os.path.join(shared, "reference-streams") if shared else None
    if not d or not os.path.isdir(d):
        testlib.skip("no ../shared/reference-streams (set QSNAPFIX_SHARED)")
    return sorted(os.path.join(d, f) for f in os.listdir(d)
                  if f.endswith(".mig"))


def manifest_writer(writer):
    """MANIFEST 'qemu-kvm-1.0' -> ('qemu-kvm', '1.0'); 'qemu-7.2' -> ..."""
    if writer.startswith("qemu-kvm-"):
        v = writer[len("qemu-kvm-"):]
        return "qemu-kvm", ".".join(v.split(".")[:2])
    return "qemu", writer[len("qemu-"):]


def version_tuple(v):
    return tuple(int(x) for x in v.split("."))


def version_in_range(version, spec):
    """Does '7.2' satisfy '>=4.1' or '1.0..1.2' (or equal '1.0')?"""
    v = version_tuple(version)
    if spec.startswith(">="):
        return v >= version_tuple(spec[2:])
    if ".." in spec:
        lo, hi = spec.split("..")
        return version_tuple(lo) <= v <= version_tuple(hi)
    return v == version_tuple(spec)
