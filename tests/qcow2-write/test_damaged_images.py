#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Damaged images against every command, modelled on QEMU's qemu-iotests
(060 metadata overlaps and corrupt bits, 080 invalid header and snapshot
fields, 261 snapshot table entries, 036 feature bits, 044 refcount
structures, 271 extended L2, plus the reproductions of issue 9).

Each image is made by QEMU (the project's guest saved by savevm, reshaped
like qemu-kvm 1.0 by `qsnapfix oldify` so that `fix` has work to do, with
a disk-only snapshot d1 taken by qemu-img; or a fixture of the qcow2
matrix, written through `qsnapfix splice`), then damaged by one byte poke.
For each: inspect, extract, scan and the writing command (fix, or splice)
give their exit code and message; and whatever the case:
  - a dry run gives the same answer as the real run;
  - a refusal leaves the file byte-identical (sha256 and mtime), and
    no file beside it or in --rom-dir is created or changed: every check
    comes before the first write, the recipe files' included;
  - an image qemu-img check calls corrupt is never changed;
  - an image fixed is still clean for qemu-img check (no corruption, no
    more leaks than before);
  - where QEMU opens the image, inspect lists the snapshots qemu-img info
    lists, with the same VM state sizes, and the library's consistency
    check finds corruption exactly where qemu-img check does (and, in
    images without corruption, as many leaked clusters).
"""
import json
import os
import shutil
import struct

import wtlib
from wtlib import check, check_eq, fixtures, testlib
from qsnapfix_tests import guest_fixture
from qsnapfix_tests import qcow2_pokes as pk

OK, NEEDS_REPAIR, UNSUPPORTED = 0, 7, 8
BAD_HEADER, BAD_SNAPSHOT_TABLE, BAD_MAPPING, BAD_REFCOUNT = 10, 11, 12, 13
BAD_STREAM, PARTIAL, NEEDS_FIX = 14, 15, 17

CASES = []


def case(name, base, model, *, write, message=None, inspect=OK, extract=OK,
         scan=None, warning=None):
    """Register a damage. base: "guest" (fix s1) or a fixture name (splice
    its first snapshot with VM state). write: exit code(s) of the writing
    command (and of its dry run); message: in its one-line error;
    warning: in extract's warning line."""
    def register(fn):
        CASES.append(dict(name=name, base=base, model=model, patch=fn,
                          write=write if isinstance(write, tuple) else (write,),
                          message=message, inspect=inspect, extract=extract,
                          scan=scan, warning=warning))
        return fn
    return register


def vm_data(p, i=0):
    """(L2 entry offset, host offset) of the first VM state data cluster."""
    at, e = pk.first_vmstate_l2_entry(p, i)
    return at, e & pk.L1E_MASK


def active_entry(p):
    """(entry offset, value) of an allocated entry of an active L2 table."""
    for _, l2 in pk.active_l2_tables(p):
        entries = pk.allocated_l2_entries(p, l2, limit=1)
        if entries:
            return entries[0]
    raise AssertionError("no allocated active cluster")


def unused_reftable_entry(p):
    h = pk.hdr(p)
    rt = h["refcount_table_offset"]
    for i in range(h["refcount_table_clusters"] * h["cluster_size"] // 8):
        if not pk.u64_at(p, rt + 8 * i):
            return rt + 8 * i
    raise AssertionError("refcount table full")


# ---- the control --------------------------------------------------------

@case("undamaged", "guest", "-", write=OK, scan=NEEDS_FIX)
def _(p):
    pass


# ---- issue 9: the reproductions ------------------------------------------

@case("active-l2-entry-points-at-vmstate-l2-table", "guest", "issue 9, 060",
      write=NEEDS_REPAIR, message="also used as an L2 table")
def _(p):
    at, e = active_entry(p)
    pk.put(p, at, pk.be64(pk.vmstate_l2_offset(p) | pk.COPIED))


@case("refcount-0-on-vmstate-data", "guest", "issue 9",
      write=NEEDS_REPAIR, message="refcount 0 but 1 reference")
def _(p):
    pk.set_refcount(p, vm_data(p)[1], 0)


@case("refcount-0-on-vmstate-l2-table", "guest", "issue 9",
      write=NEEDS_REPAIR, message="refcount 0 but")
def _(p):
    pk.set_refcount(p, pk.vmstate_l2_offset(p), 0)


@case("refcount-0-on-snapshot-table", "guest", "issue 9",
      write=NEEDS_REPAIR, message="refcount 0 but 1 reference")
def _(p):
    pk.set_refcount(p, pk.hdr(p)["snapshots_offset"], 0)


@case("refcount-0-on-snapshot-l1", "guest", "issue 9",
      write=NEEDS_REPAIR, message="refcount 0 but 1 reference")
def _(p):
    pk.set_refcount(p, pk.snap(p, 0)[1]["l1_table_offset"], 0)


@case("empty-refcount-table", "guest", "issue 9, 044",
      write=NEEDS_REPAIR, message="refcount 0 but")
def _(p):
    h = pk.hdr(p)
    pk.put(p, h["refcount_table_offset"],
           bytes(h["refcount_table_clusters"] * h["cluster_size"]))


@case("refcount-table-entry-into-vmstate-data", "guest", "issue 9",
      write=NEEDS_REPAIR, message="also used as a refcount block")
def _(p):
    pk.put(p, unused_reftable_entry(p), pk.be64(vm_data(p)[1]))


@case("c512-refcount-table-entry-into-vmstate-data", "c512", "issue 9",
      write=NEEDS_REPAIR, message="also used as a refcount block")
def _(p):
    pk.put(p, unused_reftable_entry(p), pk.be64(vm_data(p)[1]))


@case("vmstate-l2-entry-points-at-refcount-block", "guest", "issue 9",
      write=(NEEDS_REPAIR, BAD_STREAM), warning="which is a refcount block")
def _(p):
    at, e = pk.first_vmstate_l2_entry(p)
    pk.put(p, at, pk.be64(pk.refcount_block(p) | pk.COPIED))


@case("v3-reverted-vmstate-l2-entry-points-at-refcount-block", "v3-reverted",
      "issue 9", write=NEEDS_REPAIR, message="also used as a refcount block",
      warning="which is a refcount block")
def _(p):
    at, e = pk.first_vmstate_l2_entry(p)
    pk.put(p, at, pk.be64(pk.refcount_block(p) | pk.COPIED))


@case("duplicate-ids", "guest", "issue 9", write=OK, scan=NEEDS_FIX)
def _(p):
    # d1 first in the table, with s1's ID: lookup by name must find s1
    pk.swap_first_two_entries(p)
    pk.set_snapshot_id(p, 0, "1")


@case("impossible-vmstate-size-in-another-entry", "guest", "issue 9, 080",
      write=OK, scan=PARTIAL)
def _(p):
    fixtures.set_vm_state_size(p, 1, (1 << 64) - 1)


@case("impossible-disk-size-in-another-entry", "guest", "issue 9, 080",
      write=OK)
def _(p):
    off, _ = pk.snap(p, 1)
    pk.put(p, off + pk.SN_EXTRA_DISK_SIZE, pk.be64(1 << 62))


@case("repeated-feature-table-extension", "guest", "issue 9, 036", write=OK)
def _(p):
    off = pk.extension_offset(p, pk.EXT_FEATURE_TABLE)
    n = struct.unpack(">I", pk.read_at(p, off + 4, 4))[0]
    pk.add_extension(p, pk.EXT_FEATURE_TABLE, pk.read_at(p, off + 8, n))


# ---- 060: overlapping metadata, corrupt bit ------------------------------

@case("active-l2-table-is-refcount-table", "guest", "060",
      write=NEEDS_REPAIR, message="also used as the refcount table")
def _(p):
    at, _ = pk.active_l2_tables(p)[0]
    pk.put(p, at, pk.be64(pk.hdr(p)["refcount_table_offset"] | pk.COPIED))


@case("active-data-in-active-l1-table", "guest", "060",
      write=NEEDS_REPAIR, message="inside the active L1 table")
def _(p):
    at, e = active_entry(p)
    pk.put(p, at, pk.be64(pk.hdr(p)["l1_table_offset"] | pk.COPIED))


@case("active-zero-cluster-preallocated-in-refcount-block", "guest", "060",
      write=NEEDS_REPAIR, message="also used as a refcount block")
def _(p):
    at, e = active_entry(p)
    pk.put(p, at, pk.be64(pk.refcount_block(p) | 1))


@case("active-l2-entry-unaligned", "guest", "060",
      write=NEEDS_REPAIR, message="not cluster aligned")
def _(p):
    at, e = active_entry(p)
    pk.put(p, at, pk.be64(e + 0x1000))


@case("active-compressed-with-copied-flag", "guest", "060",
      write=NEEDS_REPAIR, message="compressed cluster with the COPIED flag")
def _(p):
    at, e = active_entry(p)
    pk.put(p, at, pk.be64(e | pk.COMPRESSED | pk.COPIED))


@case("active-l1-entry-reserved-bits", "guest", "060",
      write=NEEDS_REPAIR, message="reserved bits set")
def _(p):
    at, l2 = pk.active_l2_tables(p)[0]
    pk.put(p, at, pk.be64(pk.u64_at(p, at) | 0x3))


@case("active-l2-entry-reserved-bits", "guest", "060",
      write=NEEDS_REPAIR, message="reserved bits set")
def _(p):
    at, e = active_entry(p)
    pk.put(p, at, pk.be64(e | (1 << 58)))


@case("active-l2-table-past-eof", "guest", "060",
      write=NEEDS_REPAIR, message="past the end of the file")
def _(p):
    at, _ = pk.active_l2_tables(p)[0]
    pk.put(p, at, pk.be64(0x7fff0000 | pk.COPIED))


@case("active-data-past-eof", "guest", "060",
      write=NEEDS_REPAIR, message="past the end of the file")
def _(p):
    at, e = active_entry(p)
    pk.put(p, at, pk.be64(0x7fff0000 | pk.COPIED))


@case("copied-flag-clear-on-refcount-1", "guest", "060 (OFLAG_COPIED)",
      write=NEEDS_REPAIR, message="COPIED flag clear")
def _(p):
    at, e = active_entry(p)
    pk.put(p, at, pk.be64(e & ~pk.COPIED))


@case("refcount-block-past-eof", "guest", "060, 044",
      write=NEEDS_REPAIR, message="past the end of the file")
def _(p):
    pk.put(p, unused_reftable_entry(p), pk.be64(0x7fff0000))


@case("refcount-block-is-the-refcount-table", "guest", "060",
      write=NEEDS_REPAIR, message="also used as the refcount table")
def _(p):
    pk.put(p, unused_reftable_entry(p),
           pk.be64(pk.hdr(p)["refcount_table_offset"]))


@case("corrupt-bit", "guest", "060", write=NEEDS_REPAIR,
      message="corrupt bit (incompatible bit 1)")
def _(p):
    pk.put(p, pk.HDR_INCOMPATIBLE, pk.be64(2))


@case("dirty-bit", "guest", "039", write=NEEDS_REPAIR,
      message="dirty bit (incompatible bit 0)")
def _(p):
    pk.put(p, pk.HDR_INCOMPATIBLE, pk.be64(1))


# ---- refcounts that do not match -----------------------------------------

@case("leaked-cluster", "guest", "044", write=OK)
def _(p):
    pk.set_refcount(p, pk.append_cluster(p), 1)


@case("refcount-too-high-on-vmstate-data", "guest", "044", write=OK)
def _(p):
    pk.set_refcount(p, vm_data(p)[1], 2)


@case("refcount-too-low-on-shared-data", "v3-reverted", "044",
      write=NEEDS_REPAIR, message="refcount 1 but 2 references")
def _(p):
    pk.set_refcount(p, vm_data(p)[1], 1)  # shared with the active L1


# ---- 080: invalid header and snapshot fields -----------------------------

@case("other-snapshot-l1-too-large", "guest", "080",
      write=NEEDS_REPAIR, message="QEMU allows at most")
def _(p):
    off, _ = pk.snap(p, 1)
    pk.put(p, off + pk.SN_L1_SIZE, pk.be32(0x08000000))


@case("other-snapshot-l1-misaligned", "guest", "080",
      write=NEEDS_REPAIR, message="misaligned")
def _(p):
    off, e = pk.snap(p, 1)
    pk.put(p, off, pk.be64(e["l1_table_offset"] + 8))


@case("other-snapshot-l1-past-eof", "guest", "080",
      write=NEEDS_REPAIR, message="past the end of the file")
def _(p):
    off, _ = pk.snap(p, 1)
    pk.put(p, off, pk.be64(0x7fff0000))


@case("other-snapshot-l1-is-active-l1", "guest", "080",
      write=NEEDS_REPAIR, message="overlaps the active L1 table")
def _(p):
    off, _ = pk.snap(p, 1)
    pk.put(p, off, pk.be64(pk.hdr(p)["l1_table_offset"]))


@case("snapshot-extra-data-too-large", "guest", "080",
      write=BAD_SNAPSHOT_TABLE, message="bytes of extra data",
      inspect=BAD_SNAPSHOT_TABLE, extract=BAD_SNAPSHOT_TABLE)
def _(p):
    off, _ = pk.snap(p, 1)
    pk.put(p, off + pk.SN_EXTRA_SIZE, pk.be32(1025))


@case("too-many-snapshots", "guest", "080", write=BAD_HEADER,
      message="snapshots (QEMU allows at most", inspect=BAD_HEADER,
      extract=BAD_HEADER, scan=PARTIAL)
def _(p):
    pk.put(p, pk.HDR_NB_SNAPSHOTS, pk.be32(70000))


@case("snapshot-table-misaligned", "guest", "080", write=BAD_HEADER,
      message="misaligned", inspect=BAD_HEADER, extract=BAD_HEADER, scan=PARTIAL)
def _(p):
    pk.put(p, pk.HDR_NB_SNAPSHOTS + 4,
           pk.be64(pk.hdr(p)["snapshots_offset"] + 8))


@case("refcount-table-too-large", "guest", "080", write=BAD_HEADER,
      message="refcount table of", inspect=BAD_HEADER, extract=BAD_HEADER, scan=PARTIAL)
def _(p):
    pk.put(p, pk.HDR_REFCOUNT_TABLE + 8, pk.be32(0x01000000))


@case("active-l1-misaligned", "guest", "080", write=BAD_HEADER,
      message="misaligned", inspect=BAD_HEADER, extract=BAD_HEADER, scan=PARTIAL)
def _(p):
    pk.put(p, 40, pk.be64(pk.hdr(p)["l1_table_offset"] + 512))


# ---- 261: snapshot table entries ------------------------------------------

@case("v3-entry-without-disk-size", "guest", "261",
      write=NEEDS_REPAIR, message="incomplete")
def _(p):
    # d1 (the last entry) rewritten with 8 bytes of extra data
    off, e = pk.snap(p, 1)
    fixed = bytearray(pk.read_at(p, off, pk.SN_FIXED))
    rest = pk.read_at(p, off + pk.SN_FIXED, e["extra_data_size"] +
                      e["id_len"] + e["name_len"])
    fixed[pk.SN_EXTRA_SIZE:pk.SN_EXTRA_SIZE + 4] = pk.be32(8)
    pk.put(p, off, bytes(fixed) + rest[:8] + rest[e["extra_data_size"]:])


@case("unknown-extra-data-kept", "guest", "261", write=OK)
def _(p):
    off, e = pk.snap(p, 1)
    fixed = bytearray(pk.read_at(p, off, pk.SN_FIXED))
    extra = pk.read_at(p, off + pk.SN_FIXED, e["extra_data_size"])
    rest = pk.read_at(p, off + pk.SN_FIXED + e["extra_data_size"],
                      e["id_len"] + e["name_len"])
    more = extra + b"\xab" * 16
    fixed[pk.SN_EXTRA_SIZE:pk.SN_EXTRA_SIZE + 4] = pk.be32(len(more))
    pk.put(p, off, bytes(fixed) + more + rest)


# ---- 036: feature bits -----------------------------------------------------

@case("unknown-incompatible-bit", "guest", "036", write=UNSUPPORTED,
      message="bit 20", inspect=UNSUPPORTED, extract=UNSUPPORTED)
def _(p):
    pk.put(p, pk.HDR_INCOMPATIBLE, pk.be64(1 << 20))


@case("unknown-compatible-bit", "guest", "036", write=OK)
def _(p):
    pk.put(p, pk.HDR_COMPATIBLE, pk.be64(1 << 20))


@case("unknown-autoclear-bit", "guest", "036", write=OK)
def _(p):
    pk.put(p, pk.HDR_AUTOCLEAR, pk.be64(1 << 20))


# ---- 271: extended L2 entries --------------------------------------------

@case("xl2-active-subcluster-allocated-and-zero", "xl2", "271",
      write=NEEDS_REPAIR, message="both allocated and zero")
def _(p):
    for _, l2 in pk.active_l2_tables(p):
        for at, e in pk.allocated_l2_entries(p, l2, limit=1):
            pk.put(p, at + 8, pk.be64(0x0000000100000001))
            return
    raise AssertionError("no allocated extended entry")


# ---- encryption, bitmaps --------------------------------------------------

@case("luks-encrypted", "guest", "-", write=UNSUPPORTED,
      message="encrypted image", extract=UNSUPPORTED)
def _(p):
    pk.make_luks_like(p)


@case("persistent-bitmap", "guest", "-", write=OK)
def _(p):
    testlib.qemu_img("bitmap", "--add", p, "b0")


@case("bitmap-table-misaligned", "guest", "-",
      write=NEEDS_REPAIR, message="bitmap table at")
def _(p):
    testlib.qemu_img("bitmap", "--add", p, "b0")
    ext = pk.extension_offset(p, 0x23852875)
    directory = pk.u64_at(p, ext + 8 + 16)
    pk.put(p, directory, pk.be64(pk.u64_at(p, directory) + 8))


# --------------------------------------------------------------------------

class Bases:
    """The undamaged images, made once per run."""

    def __init__(self, work):
        self.work = work
        self.guest = None

    def path(self, name):
        if name != "guest":
            return fixtures.fixture(name).path
        if self.guest is None:
            d = os.path.join(self.work, "guest-base")
            os.makedirs(d, exist_ok=True)
            snap = guest_fixture.guest_snapshot(d)
            testlib.qsnapfix("oldify", snap.image, "--snapshot",
                             snap.snapshot, "--as", "qemu-kvm-1.0")
            testlib.qemu_img("snapshot", "-c", "d1", snap.image)
            # the guest never writes its disk: give the active layer data
            testlib.qemu_io(snap.image, "write -P 0x55 0 262144")
            self.guest = snap.image
        return self.guest


def qemu_check(path):
    p = testlib.run(["qemu-img", "check", "-U", "--output=json", path],
                    ok_codes=None)
    try:
        d = json.loads(p.stdout)
    except ValueError:
        return None  # QEMU cannot open it
    return d.get("corruptions", 0) + d.get("check-errors", 0), d.get("leaks", 0)


PROBE = os.path.join(os.environ.get("QSNAPFIX_BUILD") or
                     os.path.join(testlib.SRC, "build"),
                     "tests", "qcow2", "qcow2-probe")


def our_check(path):
    """(corruptions, leaks) by the library's check, None if it cannot
    open the image."""
    p = testlib.run([PROBE, "check", path], ok_codes=None)
    last = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    if not last.startswith("corruptions="):
        return None
    f = dict(kv.split("=") for kv in last.split())
    return int(f["corruptions"]), int(f["leaks"])


def target_snapshot(c, path):
    if c["base"] == "guest":
        return "s1"
    return [s["name"] for s in fixtures.fixture(c["base"]).facts["snapshots"]
            if s["vmstate"]][0]


def write_argv(c, path, work, dry):
    """The writing command; work holds the edit list (made once), recipe
    files go to work/roms."""
    extra = ["--dry-run"] if dry else []
    snapshot = target_snapshot(c, path)
    if c["base"] == "guest":
        return ["fix", path, "--snapshot", snapshot, "--rom-dir",
                os.path.join(work, "roms"), *extra]
    edits = os.path.join(work, "edits.txt")
    if not os.path.exists(edits):
        wtlib.write_edits(edits, [wtlib.Edit(0, 1, b"\xaa")])
    return ["splice", path, "--snapshot", snapshot, "--edits", edits, *extra]


def qsnapfix(*args):
    return testlib.run([testlib.BIN, *args], ok_codes=None, timeout=300)


def agrees_with_qemu_img(path, where):
    p = testlib.run(["qemu-img", "info", "-U", "--output=json", path],
                    ok_codes=None)
    if p.returncode:
        return
    theirs = [(s["name"], s["vm-state-size"])
              for s in json.loads(p.stdout).get("snapshots", [])]
    ours = json.loads(qsnapfix("inspect", "--output=json",
                               "--no-layout", path).stdout)
    check_eq([(s["name"], s["vm-state-size"]) for s in ours["snapshots"]],
             theirs, f"{where}: snapshots as qemu-img info lists them")


def run_case(c, bases, top):
    name = c["name"]
    work = os.path.join(top, name)  # the image, its edit list, roms/
    os.makedirs(os.path.join(work, "roms"))
    path = os.path.join(work, f"{name}.qcow2")
    shutil.copyfile(bases.path(c["base"]), path)
    c["patch"](path)
    before_check = qemu_check(path)
    corrupt = before_check is None or before_check[0] > 0
    ours = our_check(path)
    if before_check is not None and ours is not None:
        check_eq(ours[0] > 0, before_check[0] > 0,
                 f"{name}: corrupt as qemu-img check says")
        if not ours[0]:  # (a corrupt entry counts differently)
            check_eq(ours[1], before_check[1], f"{name}: leaked clusters")
    snapshot = target_snapshot(c, path)

    p = qsnapfix("inspect", "--output=json", path)
    check_eq(p.returncode, c["inspect"], f"{name}: inspect: {p.stderr}")
    if p.returncode == OK:
        agrees_with_qemu_img(path, name)
    out = os.path.join(work, "vmstate.bin")
    p = qsnapfix("extract", path, "-s", snapshot, "-o", out)
    check_eq(p.returncode, c["extract"], f"{name}: extract: {p.stderr}")
    if c["warning"]:
        check(c["warning"] in p.stderr, f"{name}: extract warning: {p.stderr}")
    if os.path.exists(out):
        os.unlink(out)
    p = qsnapfix("scan", "--output=json", path)
    scan = json.loads(p.stdout) if p.stdout.startswith("{") else None
    check(scan is not None and p.returncode in (OK, 4, PARTIAL, NEEDS_FIX),
          f"{name}: scan: exit {p.returncode}: {p.stderr}")
    if c["scan"] is not None:
        check_eq(p.returncode, c["scan"], f"{name}: scan: {p.stderr}")
    c["scan_seen"] = p.returncode
    blocked = {}  # "scan" / "scan --full": the exit code fix would give
    for how, argv in (("scan", ()), ("scan --full", ("--full",))):
        if argv:
            p = qsnapfix("scan", "--output=json", *argv, path)
            scan = json.loads(p.stdout) if p.stdout.startswith("{") else None
        image = scan["images"][0] if scan and scan.get("images") else {}
        if image.get("fix-blocked"):
            blocked[how] = image["fix-blocked"]["exit-code"]

    os.utime(path, ns=(10**18, 10**18))
    pristine = testlib.file_fingerprint(path)
    results = []
    for dry in (True, False):
        argv = write_argv(c, path, work, dry)
        files = testlib.dirs_fingerprint(work, os.path.join(work, "roms"))
        p = qsnapfix(*argv)
        results.append(p.returncode)
        check(p.returncode in c["write"],
              f"{name}: {'dry run' if dry else 'write'}: exit "
              f"{p.returncode}, want {c['write']}: {p.stderr}")
        if p.returncode != OK:
            lines = [l for l in p.stderr.splitlines()
                     if l.startswith("qsnapfix: ") and "warning" not in l]
            check(lines and lines[0].startswith(f"qsnapfix: {path}: "),
                  f"{name}: message names the image: {p.stderr}")
            if c["message"]:
                check(any(c["message"] in l for l in lines),
                      f"{name}: {c['message']!r} not in {p.stderr!r}")
            if p.returncode == NEEDS_REPAIR:
                check(f"qemu-img check -r all {path}" in p.stderr,
                      f"{name}: the repair command: {p.stderr}")
        if dry or p.returncode != OK:
            check_eq(testlib.file_fingerprint(path), pristine,
                     f"{name}: {'dry run' if dry else 'refusal'}: file "
                     "untouched")
            # no recipe file either: everything is decided first
            check_eq(testlib.dirs_fingerprint(work, os.path.join(work, "roms")),
                     files, f"{name}: {'dry run' if dry else 'refusal'}: "
                     "no file created or changed beside the image or in "
                     "--rom-dir")
    check_eq(results[0], results[1], f"{name}: dry run and real run agree")
    # scan's "fix blocked" is a prediction: the code fix gives; scan --full
    # checks the image as fix does and misses no refusal for corruption
    # (of fix: the fixtures' VM states are no streams, splice writes them)
    for how, code in blocked.items():
        check_eq(code, results[1], f"{name}: {how}: fix blocked")
    if (c["base"] == "guest" and results[1] == NEEDS_REPAIR and
            c["scan_seen"] != PARTIAL):
        check_eq(blocked.get("scan --full"), NEEDS_REPAIR,
                 f"{name}: scan --full predicts the refusal")
    c["blocked_seen"] = blocked
    if corrupt:
        check_eq(testlib.file_fingerprint(path), pristine,
                 f"{name}: an image qemu-img check calls corrupt was changed")
    elif results[1] == OK and before_check is not None:
        after = qemu_check(path)
        check(after is not None and after[0] == 0,
              f"{name}: corrupt after the fix: {after}")
        check(after[1] <= before_check[1],
              f"{name}: leaks {before_check[1]} -> {after[1]}")
    return corrupt, results[1]


def test_corpus_is_large_enough():
    check(len(CASES) >= 40, f"only {len(CASES)} cases")
    check(len({c["name"] for c in CASES}) == len(CASES), "duplicate names")


def test_every_damaged_image_against_every_command():
    if guest_fixture.guest_elf() is None:
        testlib.skip("the test guest is not built (tests/guest)")
    work = testlib.workdir("damaged-images")
    failures, seen = [], []
    try:
        bases = Bases(work)
        for c in CASES:
            try:
                corrupt, rc = run_case(c, bases, work)
                shutil.rmtree(os.path.join(work, c["name"]))
                seen.append(f"{c['name']}: {'corrupt' if corrupt else 'clean'}"
                            f" -> {rc} (scan {c['scan_seen']}, fix blocked: "
                            f"{c['blocked_seen'] or '-'})")
            except (testlib.Failure, AssertionError, ValueError) as e:
                failures.append(f"{c['name']}: {e!r}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("     " + "\n     ".join(seen))
    check(not failures, f"{len(failures)} of {len(CASES)} cases failed:\n  " +
          "\n  ".join(failures))


def test_duplicate_ids_fix_finds_the_snapshot_by_name():
    """d1 and s1 both ID 1, d1 first: QEMU's lookup (ID, then name, first
    match) finds d1 for "1" and s1 for "s1"; fix --snapshot s1 fixes s1."""
    if guest_fixture.guest_elf() is None:
        testlib.skip("the test guest is not built (tests/guest)")
    work = testlib.workdir("dup-ids")
    try:
        path = os.path.join(work, "dup.qcow2")
        shutil.copyfile(Bases(work).path("guest"), path)
        pk.swap_first_two_entries(path)
        pk.set_snapshot_id(path, 0, "1")
        before = wtlib.vm_state_size(path, "s1")
        p = qsnapfix("fix", path, "--snapshot", "s1", "--rom-dir", work,
                     "--output=json")
        check_eq(p.returncode, OK, p.stderr)
        rep = json.loads(p.stdout)
        check_eq([(s["id"], s["name"], s["status"])
                  for s in rep["snapshots"]], [("1", "s1", "fixed")], "report")
        check(wtlib.vm_state_size(path, "s1") != before, "s1 rewritten")
        check_eq(wtlib.vm_state_size(path, "d1"), 0, "d1 untouched")
        p = qsnapfix("fix", path, "--all", "--rom-dir", work, "--output=json")
        check_eq((p.returncode, json.loads(p.stdout)["changed"]), (OK, False),
                 f"--all afterwards: nothing to do: {p.stderr}")
        wtlib.check_image(path)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    testlib.main([
        test_corpus_is_large_enough,
        test_every_damaged_image_against_every_command,
        test_duplicate_ids_fix_finds_the_snapshot_by_name,
    ])
