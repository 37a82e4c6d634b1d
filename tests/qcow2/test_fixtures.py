#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""qsnapfix inspect/extract and the qcow2 library against the fixture matrix
(tests/qsnapfix_tests/fixtures.py: images made by real qemu-img, qemu-io and
qemu-system-x86_64), with QEMU's own tools as the oracle."""
import filecmp
import json
import os
import shutil
import subprocess

from qsnapfix_tests import fixtures
from qsnapfix_tests import testlib
from qsnapfix_tests.testlib import check, check_eq

PROBE = os.environ.get("QCOW2_PROBE") or os.path.join(
    testlib.SRC, "build", "tests", "qcow2", "qcow2-probe")
UTC = dict(os.environ, TZ="UTC")
FX = fixtures.fixtures()


def with_snapshots():
    return [fx for fx in FX if fx.facts["snapshots"]]


def inspect_json(fx):
    p = testlib.run([testlib.BIN, "inspect", "--output=json", fx.path])
    return json.loads(p.stdout)


def qemu_info(fx):
    p = fixtures.run_beside(fx.path, ["qemu-img", "info", "--output=json",
                                      "-U", fx.path])
    return json.loads(p.stdout)


def test_matrix_covers_what_the_issue_asks():
    f = [fx.facts for fx in FX]
    check({"0.10", "1.1"} <= {x["compat"] for x in f}, "compat 0.10 and 1.1")
    check({512, 4096, 65536, 2 << 20} <= {x["cluster_size"] for x in f},
          "cluster sizes 512 B, 4 KiB, 64 KiB, 2 MiB")
    check({1, 16, 64} <= {x["refcount_bits"] for x in f}, "refcount_bits")
    check(any(x["extended_l2"] for x in f), "extended L2")
    check({"zlib", "zstd"} <= {x["compression_type"] for x in f
                               if x["compressed_guest"]}, "zlib and zstd")
    check(any(x["data_file"] for x in f), "external data file")
    check(any(x["lazy_refcounts"] for x in f), "lazy refcounts")
    check(any(not s["vmstate"] for x in f for s in x["snapshots"]),
          "a disk-only snapshot")
    check(sum(1 for x in f for v in x["vmstate_shared"].values() if v) >= 2,
          "snapshots whose VM state clusters are shared")


def test_header_facts_match_qemu_img_info():
    for fx in FX:
        ours, theirs = inspect_json(fx), qemu_info(fx)
        for key in ("virtual-size", "cluster-size", "dirty-flag",
                    "backing-filename", "backing-filename-format"):
            check_eq(ours.get(key), theirs.get(key), f"{fx.name}: {key}")
        qd, td = ours["format-specific"]["data"], theirs["format-specific"]["data"]
        for key in ("compat", "compression-type", "lazy-refcounts",
                    "refcount-bits", "corrupt", "extended-l2", "data-file",
                    "data-file-raw"):
            check_eq(qd.get(key), td.get(key), f"{fx.name}: format {key}")
        check_eq(qd["refcount-bits"], fx.facts["refcount_bits"],
                 f"{fx.name}: refcount bits as made")


def test_snapshot_list_equals_qemu_img_info_field_by_field():
    compared = 0
    for fx in FX:
        ours = inspect_json(fx).get("snapshots", [])
        theirs = qemu_info(fx).get("snapshots", [])
        check_eq(len(ours), len(theirs), f"{fx.name}: number of snapshots")
        for a, b in zip(ours, theirs):
            for key, value in b.items():
                check_eq(a.get(key), value, f"{fx.name} snapshot {b['id']} {key}")
                compared += 1
            check_eq(a["has-vm-state"], b["vm-state-size"] > 0,
                     f"{fx.name} snapshot {b['id']} has-vm-state")
        check_eq([s["name"] for s in ours],
                 [s["name"] for s in fx.facts["snapshots"]],
                 f"{fx.name}: snapshot names as made")
    check(compared >= 100, f"only {compared} fields compared")


def test_human_list_equals_qemu_img_snapshot_l():
    for fx in with_snapshots():
        ours = testlib.run([testlib.BIN, "inspect", fx.path], env=UTC).stdout
        theirs = testlib.run(["qemu-img", "snapshot", "-l", "-U", fx.path],
                             env=UTC).stdout
        table = ours[ours.index("Snapshot list:"):ours.index("VM state:")]
        check_eq(table, theirs, f"{fx.name}: snapshot table")


def test_extract_equals_what_qemu_reads():
    work = testlib.workdir("extract")
    n = 0
    try:
        for fx in with_snapshots():
            info = {s["name"]: s for s in inspect_json(fx)["snapshots"]}
            for s in fx.facts["snapshots"]:
                if not s["vmstate"]:
                    continue
                size = info[s["name"]]["vm-state-size"]
                out = os.path.join(work, f"{fx.name}.{s['name']}.bin")
                testlib.qsnapfix("extract", fx.path, "--snapshot", s["name"],
                                 "-o", out)
                with open(out, "rb") as f:
                    got = f.read()
                want = fixtures.qemu_vmstate(fx, s["name"], size)
                check_eq(len(got), size, f"{fx.name} {s['name']}: length")
                if got != want:
                    first = next(i for i in range(size) if got[i] != want[i])
                    raise testlib.Failure(
                        f"{fx.name} {s['name']}: extracted VM state differs "
                        f"from QEMU's from byte {first}")
                if fx.facts["qemu_reference"] != "guest" and \
                        fx.name != "prediscard-shared":
                    check_eq(got[:8], b"QEVM\0\0\0\3",
                             f"{fx.name} {s['name']}: stream magic")
                n += 1
    finally:
        shutil.rmtree(work)
    check(n >= 15, f"only {n} VM states compared")


def test_layout_reports_sharing_and_cluster_kinds():
    for fx in with_snapshots():
        snaps = {s["name"]: s for s in inspect_json(fx)["snapshots"]}
        for name, shared in fx.facts["vmstate_shared"].items():
            vs = snaps[name]["vm-state"]
            cs = fx.facts["cluster_size"]
            check_eq(vs["clusters"], -(-snaps[name]["vm-state-size"] // cs),
                     f"{fx.name} {name}: clusters")
            check_eq(vs["normal"] + vs["compressed"] + vs["zero"] +
                     vs["unallocated"], vs["clusters"],
                     f"{fx.name} {name}: kinds add up")
            if shared:
                check(vs["shared"] == vs["normal"] > 0 and vs["l2-shared"] > 0,
                      f"{fx.name} {name}: expected every cluster shared: {vs}")
            else:
                check(vs["shared"] == 0 and vs["l2-shared"] == 0,
                      f"{fx.name} {name}: expected nothing shared: {vs}")
            if fx.facts["compressed_vmstate"]:
                check_eq((vs["compressed"], vs["zero"], vs["normal"],
                          vs["unallocated"]), (2, 1, 1, 1),
                         f"{fx.name} {name}: cluster kinds")
            else:
                check_eq(vs["compressed"], 0, f"{fx.name} {name}: compressed")
        for s in snaps.values():
            check_eq("vm-state" in s, s["vm-state-size"] > 0,
                     f"{fx.name} {s['name']}: layout only with a VM state")


def test_vmstate_base_follows_geometry():
    # One L2 table maps cluster_size * cluster_size / entry_size bytes; the
    # VM state starts at the first L1 boundary past the 16 MiB disk.
    want = {"c512": 16 << 20, "c4k": 16 << 20, "c2m": 512 << 30,
            "xl2": 256 << 20, "rc64": 512 << 20, "v2-multi": 512 << 20}
    for fx in FX:
        if fx.name in want:
            s = inspect_json(fx)["snapshots"][0]
            check_eq(s["vm-state"]["offset"], want[fx.name], f"{fx.name}: base")


def test_refcounts_equal_references_at_every_width():
    for fx in FX:
        if fx.facts["qemu_check_clean"]:
            rc, data = testlib.qemu_img_check(fx.path) if not fx.facts[
                "data_file"] else (0, {})
            check(rc == 0, f"{fx.name}: qemu-img check: {data}")
        p = testlib.run([PROBE, "check", fx.path], ok_codes=(0, 1))
        check(p.returncode == 0 and "corruptions=0 leaks=0" in p.stdout,
              f"{fx.name}: consistency check: {p.stdout} {p.stderr}")
        check(f"refcount_bits={fx.facts['refcount_bits']}" in p.stdout,
              f"{fx.name}: {p.stdout}")


def qemu_guest_image(fx, snapshot, out):
    """The guest disk as QEMU reads it, without the backing file."""
    spec = json.dumps({"driver": "qcow2", "backing": None,
                       "file": {"driver": "file", "filename": fx.path}})
    argv = ["qemu-img", "convert", "-U", "-O", "raw"]
    if snapshot:
        argv += ["-l", f"snapshot.name={snapshot}"]
    fixtures.run_beside(fx.path, argv + [f"json:{spec}", out])


def test_guest_reads_equal_qemu_img_convert():
    work = testlib.workdir("guest")
    n = 0
    try:
        for fx in FX:
            size = fixtures.header_fields(fx.path)["size"]
            if size > 64 << 20:
                continue  # the 1 GiB images: see the compressed test below
            for snap in [None] + [s["name"] for s in fx.facts["snapshots"]]:
                want = os.path.join(work, "qemu.raw")
                got = os.path.join(work, "ours.raw")
                qemu_guest_image(fx, snap, want)
                testlib.run([PROBE, "guest", fx.path, snap or "-", "0",
                             str(size), got])
                check(filecmp.cmp(want, got, shallow=False),
                      f"{fx.name} {snap or 'active'}: guest data differs")
                n += 1
    finally:
        shutil.rmtree(work)
    check(n >= 20, f"only {n} disks compared")


def test_compressed_clusters_are_mapped_and_inflated():
    for fx in FX:
        for off in fx.facts["compressed_guest"]:
            p = testlib.run([PROBE, "map", fx.path, "-", str(off)])
            check(p.stdout.startswith("compressed "),
                  f"{fx.name} guest 0x{off:x}: {p.stdout}")


def test_vmstate_reads_at_any_offset_and_length():
    """Windows starting and ending inside clusters, across L2 tables,
    single bytes and the very end, against QEMU's bytes."""
    import random
    rnd = random.Random(2)
    work = testlib.workdir("windows")
    n = 0
    try:
        for fx in with_snapshots():
            snaps = {s["name"]: s for s in inspect_json(fx)["snapshots"]}
            for s in fx.facts["snapshots"]:
                if not s["vmstate"]:
                    continue
                size = snaps[s["name"]]["vm-state-size"]
                want = fixtures.qemu_vmstate(fx, s["name"], size)
                cs = fx.facts["cluster_size"]
                windows = [(0, 1), (size - 1, 1), (0, size), (cs - 3, 7),
                           (size - 1000, 1000)]
                windows += [(o, rnd.randrange(1, min(size - o, 3 * cs) + 1))
                            for o in (rnd.randrange(size) for _ in range(6))]
                windows = [(o, n) for o, n in windows if o + n <= size]
                out = os.path.join(work, "w.bin")
                for off, length in windows:
                    testlib.run([PROBE, "vmstate", fx.path, s["name"],
                                 str(off), str(length), out])
                    with open(out, "rb") as f:
                        check(f.read() == want[off:off + length],
                              f"{fx.name} {s['name']}: [{off}, +{length})")
                    n += 1
                p = testlib.run([PROBE, "vmstate", fx.path, s["name"],
                                 str(size - 10), "11", out], ok_codes=(1,))
                check("past its VM state" in p.stderr, p.stderr)
    finally:
        shutil.rmtree(work)
    check(n >= 150, f"only {n} windows")


def test_unknown_extra_data_is_kept_byte_for_byte():
    """QEMU allows up to 1 KiB of extra data per entry and keeps what it does
    not understand; so do we. Grow the last entry's extra data from 24 to 40
    bytes (the last entry: the table grows inside its own cluster)."""
    fx = fixtures.fixture("lazy")
    work = testlib.workdir("extra")
    try:
        path = os.path.join(work, "extra.qcow2")
        shutil.copyfile(fx.path, path)
        off, e = fixtures.snapshot_entries(path)[-1]
        with open(path, "rb") as f:
            f.seek(off + 40)
            extra = f.read(e["extra_data_size"])
            rest = f.read(e["id_len"] + e["name_len"])
        cs = fx.facts["cluster_size"]
        check((off + 40 + len(extra) + len(rest) + 16) // cs == off // cs,
              "the grown entry still fits in the table's cluster")
        unknown = bytes(range(0xa0, 0xb0))
        fixtures.patch(path, off + 36, (len(extra) + 16).to_bytes(4, "big"))
        fixtures.patch(path, off + 40, extra + unknown + rest)
        p = testlib.run([PROBE, "extra", path, "s1"])
        check_eq(p.stdout.strip(), (extra + unknown).hex(), "extra data")
        ours = inspect_json(Fixture_at(path))["snapshots"][0]
        theirs = testlib.qemu_img_info(path)["snapshots"][0]
        check_eq(ours["extra-data-size"], 40, "extra-data-size")
        check_eq(ours["vm-state-size"], theirs["vm-state-size"], "size")
        a = os.path.join(work, "a.bin")
        testlib.qsnapfix("extract", path, "-s", "s1", "-o", a)
        with open(a, "rb") as f:
            check(f.read() == fixtures.qemu_vmstate(
                fx, "s1", theirs["vm-state-size"]), "VM state unchanged")
    finally:
        shutil.rmtree(work)


class Fixture_at:
    def __init__(self, path):
        self.path = path


def test_extract_to_stdout_equals_file():
    fx = fixtures.fixture("v3-reverted")
    work = testlib.workdir("stdout")
    try:
        out = os.path.join(work, "s2.bin")
        testlib.qsnapfix("extract", fx.path, "-s", "s2", "-o", out)
        p = subprocess.run([testlib.BIN, "extract", fx.path, "-s", "3",
                                    "-o", "-"], capture_output=True)
        check_eq(p.returncode, 0, "extract -o - exit code")
        with open(out, "rb") as f:
            check(p.stdout == f.read(), "stdout and file differ (ID 3 = s2)")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    testlib.main([
        test_matrix_covers_what_the_issue_asks,
        test_header_facts_match_qemu_img_info,
        test_snapshot_list_equals_qemu_img_info_field_by_field,
        test_human_list_equals_qemu_img_snapshot_l,
        test_extract_equals_what_qemu_reads,
        test_layout_reports_sharing_and_cluster_kinds,
        test_vmstate_base_follows_geometry,
        test_refcounts_equal_references_at_every_width,
        test_guest_reads_equal_qemu_img_convert,
        test_compressed_clusters_are_mapped_and_inflated,
        test_vmstate_reads_at_any_offset_and_length,
        test_unknown_extra_data_is_kept_byte_for_byte,
        test_extract_to_stdout_equals_file,
    ])
