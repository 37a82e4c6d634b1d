# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers shared by the write-path tests: edit lists, expected VM states,
and the checks every rewritten image must pass (with QEMU's own tools)."""
import json
import os
import shutil
import subprocess

from qsnapfix_tests import fixtures
from qsnapfix_tests import testlib
from qsnapfix_tests.testlib import check, check_eq

CRASHTEST = os.environ.get("QCOW2_CRASHTEST") or os.path.join(
    testlib.SRC, "build", "tests", "qcow2-write", "qcow2-crashtest")


class Edit:
    """Replace old[offset:offset+old_length] by data."""

    def __init__(self, offset, old_length, data):
        self.offset, self.old_length, self.data = offset, old_length, data

    def spec(self):
        """The data as both edit syntaxes write it."""
        d = self.data
        if len(d) > 64 and d == d[:1] * len(d):
            return f"fill:{d[0]:#x}:{len(d)}"
        return d.hex() or "-"

    def line(self):
        """For `qsnapfix splice --edits`."""
        return f"{self.offset} {self.old_length} {self.spec()}"

    def arg(self):
        """For qcow2-crashtest."""
        return f"{self.offset}:{self.old_length}:{self.spec()}"

    def __repr__(self):
        return f"Edit({self.offset}, {self.old_length}, {len(self.data)} B)"


def apply_edits(old, edits):
    out, cur = bytearray(), 0
    for e in edits:
        out += old[cur:e.offset] + e.data
        cur = e.offset + e.old_length
    out += old[cur:]
    return bytes(out)


def write_edits(path, edits):
    with open(path, "w") as f:
        for e in edits:
            f.write(e.line() + "\n")


def snapshot_table(path):
    """Snapshots as qemu-img info lists them, by name."""
    info = testlib.qemu_img_info(path)
    return {s["name"]: s for s in info.get("snapshots", [])}


def snapshot_disk_sizes(path):
    """{name: disk size} from the snapshot table's extra data (the header
    size when an entry has none)."""
    size = fixtures.header_fields(path)["size"]
    out = {}
    with open(path, "rb") as f:
        for off, e in fixtures.snapshot_entries(path):
            disk = size
            if e["extra_data_size"] >= 16:
                f.seek(off + 48)
                disk = int.from_bytes(f.read(8), "big")
            out[e["name"]] = disk
    return out


def vm_state_size(path, name):
    return snapshot_table(path)[name]["vm-state-size"]


def qemu_vmstate(path, name, work, refcount_bits=16):
    """The VM state as QEMU reads it: after reverting a copy of the image
    (what loadvm does). QEMU cannot revert when clusters already sit at the
    refcount maximum (a revert adds a reference): with 1- and 2-bit
    refcounts the snapshot is loaded read-only instead (qemu_vmstate_tmp)."""
    if refcount_bits <= 2:
        return qemu_vmstate_tmp(path, name, work)
    size = vm_state_size(path, name)
    return testlib.read_vmstate_via_qemu(path, name, size, work)


def qemu_vmstate_tmp(path, name, work):
    """The VM state as QEMU reads it through the snapshot's own tables,
    without changing any refcount: `qemu-img convert -l` loads the snapshot
    read-only (bdrv_snapshot_load_tmp) and reads its guest offsets. The VM
    state lies past the virtual disk end, so a copy's header claims a disk
    that includes it (virtual size and L1 size; the L1 table's cluster
    must already have room for the entries, which stay 0)."""
    hd = fixtures.header_fields(path)
    cs = hd["cluster_size"]
    extended = hd["incompatible_features"] & (1 << 4)
    span = cs * (cs // (16 if extended else 8))
    size = vm_state_size(path, name)
    base = -(-snapshot_disk_sizes(path)[name] // span) * span
    end = base + max(1, -(-size // span)) * span
    room = -(-hd["l1_size"] * 8 // cs) * cs // 8
    check(end // span <= room, f"{path}: no room in the L1 table for "
                               f"{end // span} entries")
    copy = os.path.join(work, "load-tmp.qcow2")
    shutil.copyfile(path, copy)
    fixtures.patch(copy, 24, (end).to_bytes(8, "big"))
    fixtures.patch(copy, 36, (end // span).to_bytes(4, "big"))
    out = os.path.join(work, "load-tmp.raw")
    fixtures.run_beside(copy, ["qemu-img", "convert", "-f", "qcow2", "-O",
                               "raw", "-l", f"snapshot.name={name}", copy,
                               out])
    with open(out, "rb") as f:
        f.seek(base)
        data = f.read(size)
    os.unlink(out)
    os.unlink(copy)
    return data


def check_image(path, allow_leaks=False):
    """qemu-img check: no corruption (and no leak unless allowed)."""
    return testlib.assert_check_clean(path, allow_leaks=allow_leaks)


def qemu_compare(a, b, snapshot=None, work=None):
    """qemu-img compare of the active disks, or of one snapshot's disk
    (reverting copies of both first)."""
    if snapshot is not None:
        ca, cb = os.path.join(work, "cmp-a.qcow2"), os.path.join(work, "cmp-b.qcow2")
        shutil.copyfile(a, ca)
        shutil.copyfile(b, cb)
        testlib.qemu_img("snapshot", "-a", snapshot, ca)
        testlib.qemu_img("snapshot", "-a", snapshot, cb)
        a, b = ca, cb
    p = testlib.run(["qemu-img", "compare", "-q", "-f", "qcow2", "-F",
                     "qcow2", a, b], ok_codes=None)
    return p.returncode == 0


def splice_cli(image, snapshot, edits, work, *extra, ok_codes=(0,)):
    """qsnapfix splice with --output=json; returns (exit code, dict|None,
    stderr)."""
    ef = os.path.join(work, "edits.txt")
    write_edits(ef, edits)
    p = testlib.qsnapfix("splice", image, "--snapshot", snapshot, "--edits",
                         ef, "--output=json", *extra, ok_codes=ok_codes)
    data = json.loads(p.stdout) if p.returncode == 0 else None
    return p.returncode, data, p.stderr


def crashtest(*args):
    p = subprocess.run([CRASHTEST, *map(str, args)], capture_output=True,
                       text=True, timeout=300)
    return p


def parse_crashtest(p):
    """qcow2-crashtest run/restore/delete's report: {field: value,
    "message": the error}."""
    check(p.returncode == 0, f"crashtest: exit {p.returncode}: {p.stderr}")
    first, _, rest = p.stdout.partition("\n")
    fields = dict(kv.split("=", 1) for kv in first.split())
    fields["message"] = rest.strip()
    return fields


def fault_plan(writes, flushes, cancel=False):
    """Every stop of the crash matrix: (mode, n, seed) for a process crash
    and a power loss (seeds 1-3) after each write, EIO and ENOSPC at each
    write (and a cancellation before it), EIO at each flush."""
    plan = []
    for n in range(writes + 1):
        plan.append(("crash", n, 0))
        plan += [("power", n, seed) for seed in (1, 2, 3)]
    for n in range(1, writes + 1):
        plan += [("eio", n, 0), ("enospc", n, 0)]
        plan += [("cancel", n, 0)] if cancel else []
    plan += [("flush-eio", n, 0) for n in range(1, flushes + 1)]
    return plan
