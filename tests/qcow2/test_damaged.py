#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The damaged-image corpus: good fixture images with one byte patch each
(truncations, tables past EOF, overlapping metadata, impossible sizes, bogus
compressed descriptors, unknown feature bits, loops in L2/refcount pointers,
name lengths past the table end). Every case must give its documented exit
code and a one-line message naming the image and the problem; never a
crash (this suite also runs in the ASan/UBSan build)."""
import json
import os
import shutil
import struct
import subprocess

from qsnapfix_tests import fixtures
from qsnapfix_tests import qcow2_pokes as pk
from qsnapfix_tests import testlib
from qsnapfix_tests.testlib import check, check_eq

OK, USAGE, UNSUPPORTED, NOT_FOUND = 0, 2, 8, 9
BAD_HEADER, BAD_SNAPSHOT_TABLE, BAD_MAPPING, BAD_REFCOUNT = 10, 11, 12, 13
L1E_MASK = pk.L1E_MASK
be32, be64, read_at, put = pk.be32, pk.be64, pk.read_at, pk.put
hdr, snap = pk.hdr, pk.snap
vmstate_l1_entry_offset = pk.vmstate_l1_entry_offset
vmstate_l2_offset = pk.vmstate_l2_offset
first_vmstate_l2_entry = pk.first_vmstate_l2_entry


def compressed_descriptor(path, i=0):
    at, e = first_vmstate_l2_entry(path, i)
    assert e & (1 << 62), "first VM state cluster is not compressed"
    shift = 62 - (hdr(path)["cluster_bits"] - 8)
    return at, e, shift, e & ((1 << shift) - 1)


# Each case: name, base fixture, patch(path), command, exit code(s), the
# substring the message must contain. Commands: "inspect" or "extract"
# (of the first snapshot).
CASES = []


def case(name, base, cmd, code, message):
    def register(fn):
        CASES.append(dict(name=name, base=base, patch=fn, cmd=cmd,
                          codes=code if isinstance(code, tuple) else (code,),
                          message=message))
        return fn
    return register


# ---- header ----------------------------------------------------------------

@case("truncated-header", "v3-reverted", "inspect", BAD_HEADER, "too short")
def _(p):
    os.truncate(p, 50)


@case("truncated-to-half", "v3-reverted", "inspect",
      (BAD_HEADER, BAD_SNAPSHOT_TABLE), "past the end of the")
def _(p):
    os.truncate(p, os.path.getsize(p) // 2)


@case("empty-file", "v3-reverted", "inspect", BAD_HEADER, "too short")
def _(p):
    os.truncate(p, 0)


@case("bad-magic", "v3-reverted", "inspect", BAD_HEADER, "not a qcow2 image")
def _(p):
    put(p, 0, b"QFI\xfa")


@case("version-4", "v3-reverted", "inspect", UNSUPPORTED, "qcow2 version 4")
def _(p):
    put(p, 4, be32(4))


@case("version-1", "v2-multi", "inspect", UNSUPPORTED, "qcow2 version 1")
def _(p):
    put(p, 4, be32(1))


@case("cluster-bits-too-small", "v3-reverted", "inspect", BAD_HEADER,
      "cluster_bits 8")
def _(p):
    put(p, 20, be32(8))


@case("cluster-bits-too-large", "v3-reverted", "inspect", BAD_HEADER,
      "cluster_bits 31")
def _(p):
    put(p, 20, be32(31))


@case("header-length-too-short", "v3-reverted", "inspect", BAD_HEADER,
      "header length 48")
def _(p):
    put(p, 100, be32(48))


@case("refcount-order-7", "v3-reverted", "inspect", BAD_HEADER,
      "refcount_order 7")
def _(p):
    put(p, 96, be32(7))


@case("unknown-incompatible-bit", "v3-reverted", "inspect", UNSUPPORTED,
      "unsupported incompatible feature(s): bit 7")
def _(p):
    put(p, 72, be64(1 << 7))


@case("unknown-incompatible-bit-63", "v3-reverted", "extract", UNSUPPORTED,
      "bit 63")
def _(p):
    put(p, 72, be64(1 << 63))


@case("impossible-virtual-size", "v3-reverted", "inspect", BAD_HEADER,
      "virtual size")
def _(p):
    put(p, 24, be64(1 << 63))


@case("l1-too-small-for-disk", "v3-reverted", "inspect", BAD_HEADER,
      "needs 1")
def _(p):
    put(p, 36, be32(0))


@case("l1-too-large", "v3-reverted", "inspect", BAD_HEADER,
      "QEMU allows at most")
def _(p):
    put(p, 36, be32(0x10000000))


@case("l1-past-eof", "v3-reverted", "inspect", BAD_HEADER,
      "past the end of the file")
def _(p):
    put(p, 40, be64(0x7fff0000))


@case("l1-misaligned", "v3-reverted", "inspect", BAD_HEADER, "misaligned")
def _(p):
    put(p, 40, be64(hdr(p)["l1_table_offset"] + 512))


@case("refcount-table-past-eof", "v3-reverted", "inspect", BAD_HEADER,
      "refcount table at 0x7fff0000")
def _(p):
    put(p, 48, be64(0x7fff0000))


@case("refcount-table-empty", "v3-reverted", "inspect", BAD_HEADER,
      "refcount table of 0 clusters")
def _(p):
    put(p, 56, be32(0))


@case("too-many-snapshots", "v3-reverted", "inspect", BAD_HEADER,
      "70000 snapshots")
def _(p):
    put(p, 60, be32(70000))


@case("snapshot-table-past-eof", "v3-reverted", "inspect", BAD_HEADER,
      "snapshot table at 0x7fff0000")
def _(p):
    put(p, 64, be64(0x7fff0000))


@case("unknown-encryption", "v3-reverted", "inspect", BAD_HEADER,
      "unknown encryption method 3")
def _(p):
    put(p, 32, be32(3))


@case("legacy-aes-encryption", "v3-reverted", "extract", UNSUPPORTED,
      "encrypted image (method 1)")
def _(p):
    put(p, 32, be32(1))


@case("compression-bit-without-field", "v3-reverted", "inspect", BAD_HEADER,
      "no compression type field")
def _(p):
    put(p, 72, be64(1 << 3))
    put(p, 100, be32(104))


@case("unknown-compression-type", "zstd", "inspect", UNSUPPORTED,
      "unknown compression type 7")
def _(p):
    put(p, 104, bytes([7]))


@case("extended-l2-small-clusters", "c4k", "inspect", BAD_HEADER,
      "at least 16 KiB")
def _(p):
    put(p, 72, be64(1 << 4))


@case("data-file-bit-without-name", "v3-reverted", "inspect", BAD_HEADER,
      "no data file name")
def _(p):
    put(p, 72, be64(1 << 2))


@case("backing-name-too-long", "overlay", "inspect", BAD_HEADER,
      "backing file name")
def _(p):
    put(p, 16, be32(2000))


# ---- header extensions -----------------------------------------------------

extension_offset = pk.extension_offset


@case("extension-past-area", "v3-reverted", "inspect", BAD_HEADER,
      "runs past the extension area")
def _(p):
    put(p, extension_offset(p, 0x6803f857) + 4, be32(0x100000))


@case("backing-format-too-long", "overlay", "inspect", BAD_HEADER,
      "too long (max 15)")
def _(p):
    put(p, extension_offset(p, 0xe2792aca) + 4, be32(40))


# ---- overlapping metadata --------------------------------------------------

@case("refcount-table-overlaps-l1", "v3-reverted", "inspect", BAD_HEADER,
      "overlaps the")
def _(p):
    put(p, 48, be64(hdr(p)["l1_table_offset"]))


@case("snapshot-table-overlaps-refcount-table", "v3-reverted", "inspect",
      BAD_SNAPSHOT_TABLE, "overlaps the")
def _(p):
    # keep the snapshot table readable: copy it over the refcount table
    h = hdr(p)
    table = read_at(p, h["snapshots_offset"], 4096)
    put(p, h["refcount_table_offset"] + 4096, table)
    put(p, 64, be64(h["refcount_table_offset"]))
    put(p, h["refcount_table_offset"], table)


@case("snapshot-l1-is-active-l1", "v3-reverted", "extract-3",
      BAD_SNAPSHOT_TABLE, "overlaps the active L1 table")
def _(p):
    off, _ = snap(p, 2)
    put(p, off, be64(hdr(p)["l1_table_offset"]))


# ---- snapshot table --------------------------------------------------------

@case("name-past-table-end", "v3-reverted", "inspect", BAD_SNAPSHOT_TABLE,
      "run past the end of the file")
def _(p):
    off, _ = snap(p, 2)
    put(p, off + 14, struct.pack(">H", 0xffff))


@case("more-entries-than-the-table-holds", "v3-reverted", "inspect",
      BAD_SNAPSHOT_TABLE, "snapshot table entry 3")
def _(p):
    put(p, 60, be32(4))


@case("extra-data-too-large", "v3-reverted", "inspect", BAD_SNAPSHOT_TABLE,
      "2000 bytes of extra data")
def _(p):
    off, _ = snap(p, 0)
    put(p, off + 36, be32(2000))


@case("snapshot-l1-past-eof", "v3-reverted", "extract-3", BAD_SNAPSHOT_TABLE,
      "past the end of the file")
def _(p):
    off, _ = snap(p, 2)
    put(p, off, be64(0x7fff0000))


@case("snapshot-l1-misaligned", "v3-reverted", "extract", BAD_SNAPSHOT_TABLE,
      "misaligned")
def _(p):
    off, e = snap(p, 0)
    put(p, off, be64(e["l1_table_offset"] + 8))


@case("snapshot-l1-too-large", "v3-reverted", "extract", BAD_SNAPSHOT_TABLE,
      "QEMU allows at most")
def _(p):
    off, _ = snap(p, 0)
    put(p, off + 8, be32(0x08000000))


@case("impossible-disk-size", "v3-reverted", "extract", BAD_SNAPSHOT_TABLE,
      "impossible sizes")
def _(p):
    off, _ = snap(p, 0)
    put(p, off + 48, be64(1 << 63))


@case("impossible-vmstate-size", "v3-reverted", "extract", BAD_SNAPSHOT_TABLE,
      "impossible sizes")
def _(p):
    off, _ = snap(p, 0)
    put(p, off + 40, be64(1 << 62))


# ---- L1 / L2 ---------------------------------------------------------------

@case("vmstate-past-its-l1-table", "v3-reverted", "extract", BAD_MAPPING,
      "maps only up to 0x40000000")
def _(p):
    fixtures.set_vm_state_size(p, 0, 600 << 20)


@case("l2-past-eof", "v3-reverted", "inspect", BAD_MAPPING,
      "past the end of the file")
def _(p):
    put(p, vmstate_l1_entry_offset(p), be64(0x7fff0000))


@case("l2-misaligned", "v3-reverted", "extract", BAD_MAPPING,
      "not cluster aligned")
def _(p):
    at = vmstate_l1_entry_offset(p)
    put(p, at, be64(vmstate_l2_offset(p) + 0x200))


@case("l2-is-the-snapshot-l1-loop", "v3-reverted", "inspect", BAD_MAPPING,
      "inside the L1 table of snapshot table entry 0")
def _(p):
    _, e = snap(p, 0)
    put(p, vmstate_l1_entry_offset(p), be64(e["l1_table_offset"]))


@case("l2-is-the-refcount-table", "v3-reverted", "extract", BAD_MAPPING,
      "inside the refcount table")
def _(p):
    put(p, vmstate_l1_entry_offset(p), be64(hdr(p)["refcount_table_offset"]))


@case("l1-entry-reserved-bits", "v3-reverted", "inspect", BAD_MAPPING,
      "reserved bits set")
def _(p):
    put(p, vmstate_l1_entry_offset(p), be64(vmstate_l2_offset(p) | 0x3))


@case("data-cluster-misaligned", "v3-reverted", "inspect", BAD_MAPPING,
      "not cluster aligned")
def _(p):
    at, e = first_vmstate_l2_entry(p)
    put(p, at, be64(e + 0x1000))


@case("data-cluster-is-the-active-l1", "v3-reverted", "inspect", BAD_MAPPING,
      "inside the active L1 table")
def _(p):
    at, e = first_vmstate_l2_entry(p)
    put(p, at, be64((e & ~L1E_MASK) | hdr(p)["l1_table_offset"]))


@case("zero-cluster-preallocated-in-snapshot-table", "v3-reverted",
      "extract", BAD_MAPPING, "inside the snapshot table")
def _(p):
    at, e = first_vmstate_l2_entry(p)
    put(p, at, be64(hdr(p)["snapshots_offset"] | 1))


@case("l2-entry-reserved-bits", "c512", "extract", BAD_MAPPING,
      "reserved bits set")
def _(p):
    at, e = first_vmstate_l2_entry(p)
    put(p, at, be64(e | (1 << 58)))


@case("data-cluster-past-eof", "v3-reverted", "extract", BAD_MAPPING,
      "the image is truncated")
def _(p):
    at, e = first_vmstate_l2_entry(p)
    put(p, at, be64((e & ~L1E_MASK) | 0x40000000))


@case("subcluster-allocated-and-zero", "xl2", "inspect", BAD_MAPPING,
      "both allocated and zero")
def _(p):
    at, _ = first_vmstate_l2_entry(p)
    put(p, at + 8, be64(0x0000000100000001))


@case("compressed-with-subcluster-bitmap", "xl2", "inspect", BAD_MAPPING,
      "non-zero subcluster bitmap")
def _(p):
    at, e = first_vmstate_l2_entry(p)
    put(p, at, be64((1 << 62) | 0x100000))
    put(p, at + 8, be64(1))


# ---- compressed clusters ---------------------------------------------------

@case("compressed-garbage-deflate", "cvm-zlib", "extract", BAD_MAPPING,
      "do not decompress")
def _(p):
    _, _, _, off = compressed_descriptor(p)
    put(p, off, b"\xff" * 64)


@case("compressed-garbage-zstd", "cvm-zstd", "extract", BAD_MAPPING,
      "do not decompress")
def _(p):
    _, _, _, off = compressed_descriptor(p)
    put(p, off, b"\x00" * 64)


@case("compressed-past-eof", "cvm-zlib", "extract", BAD_MAPPING,
      "past the end of the file")
def _(p):
    at, e, shift, off = compressed_descriptor(p)
    put(p, at, be64((e & ~((1 << shift) - 1)) | 0x7fff0000))


@case("compressed-into-header", "cvm-zlib", "inspect", BAD_MAPPING,
      "is impossible")
def _(p):
    at, e, shift, off = compressed_descriptor(p)
    put(p, at, be64((e & ~((1 << shift) - 1)) | 0x100))


@case("compressed-over-refcount-table", "cvm-zlib", "inspect", BAD_MAPPING,
      "inside the refcount table")
def _(p):
    at, e, shift, off = compressed_descriptor(p)
    put(p, at, be64((e & ~((1 << shift) - 1)) | hdr(p)["refcount_table_offset"]))


@case("compressed-length-too-short", "cvm-zlib", "extract", BAD_MAPPING,
      "do not decompress")
def _(p):
    # one sector of a cluster of 0x61 bytes that needs more: cut the input
    at, e, shift, off = compressed_descriptor(p)
    put(p, at, be64((1 << 62) | (off + 500)))


# ---- refcounts -------------------------------------------------------------

@case("refcount-entry-reserved-bits", "v3-reverted", "inspect", BAD_REFCOUNT,
      "reserved bits set")
def _(p):
    rt = hdr(p)["refcount_table_offset"]
    e = struct.unpack(">Q", read_at(p, rt, 8))[0]
    put(p, rt, be64(e | 1))


@case("refcount-block-past-eof", "rc64", "inspect", BAD_REFCOUNT,
      "past the end of the file")
def _(p):
    put(p, hdr(p)["refcount_table_offset"], be64(0x7fff0000))


@case("refcount-block-is-the-refcount-table-loop", "rc1", "inspect",
      BAD_REFCOUNT, "inside the refcount table")
def _(p):
    rt = hdr(p)["refcount_table_offset"]
    put(p, rt, be64(rt))


@case("refcount-block-is-the-header", "v2-multi", "inspect", BAD_REFCOUNT,
      "misaligned or past")
def _(p):
    put(p, hdr(p)["refcount_table_offset"], be64(0x200))


# ---- snapshots that are not there ------------------------------------------

@case("extract-disk-only-snapshot", "v3-reverted", "extract-d1", NOT_FOUND,
      "has no VM state")
def _(p):
    pass


@case("extract-unknown-snapshot", "v3-reverted", "extract-nosuch", NOT_FOUND,
      "no snapshot with ID or name 'nosuch'")
def _(p):
    pass


def run_case(c, work):
    src = fixtures.fixture(c["base"]).path
    path = os.path.join(work, f"{c['name']}.qcow2")
    shutil.copyfile(src, path)
    c["patch"](path)
    if c["cmd"] == "inspect":
        argv = [testlib.BIN, "inspect", path]
    else:
        which = c["cmd"].partition("-")[2] or "1"
        argv = [testlib.BIN, "extract", path, "-s", which, "-o",
                os.path.join(work, "out.bin")]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    lines = p.stderr.splitlines()
    where = f"{c['name']}: {' '.join(argv[1:2])}"
    check(p.returncode in c["codes"],
          f"{where}: exit {p.returncode}, want {c['codes']}: {p.stderr}")
    check(len(lines) == 1, f"{where}: want one line on stderr: {p.stderr!r}")
    check(lines[0].startswith(f"qsnapfix: {path}: "),
          f"{where}: message does not name the image: {lines[0]}")
    check(c["message"] in lines[0],
          f"{where}: {c['message']!r} not in {lines[0]!r}")
    check(not os.path.exists(os.path.join(work, "out.bin")),
          f"{where}: a failed extract left its output file")
    os.unlink(path)


def test_corpus_has_enough_cases():
    check(len(CASES) >= 30, f"only {len(CASES)} cases")
    check(len({c["name"] for c in CASES}) == len(CASES), "duplicate names")


def test_every_damaged_image_gives_its_error():
    work = testlib.workdir("damaged")
    failures = []
    try:
        for c in CASES:
            try:
                run_case(c, work)
            except testlib.Failure as e:
                failures.append(str(e))
    finally:
        shutil.rmtree(work)
    check(not failures, f"{len(failures)} of {len(CASES)} cases failed:\n  " +
          "\n  ".join(failures))


def test_one_impossible_entry_spoils_only_its_snapshot():
    """As `qemu-img snapshot -l` lists an entry it could not load, inspect
    lists it with its error; the other snapshots stay readable."""
    work = testlib.workdir("one-bad-entry")
    try:
        path = os.path.join(work, "bad.qcow2")
        shutil.copyfile(fixtures.fixture("v3-reverted").path, path)
        want = os.path.join(work, "s2-before.bin")
        testlib.qsnapfix("extract", path, "-s", "s2", "-o", want)
        for field, value in ((40, (1 << 64) - 1), (48, 1 << 62)):
            off, _ = snap(path, 0)
            shutil.copyfile(fixtures.fixture("v3-reverted").path, path)
            put(path, off + field, be64(value))
            names = [s["name"] for s in testlib.qemu_img_info(path)
                     ["snapshots"]]
            check_eq(names, ["s1", "d1", "s2"], "qemu-img lists them all")
            info = json.loads(testlib.qsnapfix("inspect", "--output=json",
                                               path).stdout)
            snaps = info["snapshots"]
            check_eq([s["name"] for s in snaps], names, "inspect lists all")
            check("impossible sizes" in snaps[0].get("error", ""),
                  f"s1 carries its error: {snaps[0]}")
            check("error" not in snaps[2] and snaps[2]["vm-state"]["normal"],
                  f"s2 is described: {snaps[2]}")
            out = os.path.join(work, "s2.bin")
            testlib.qsnapfix("extract", path, "-s", "s2", "-o", out)
            check_eq(testlib.sha256_file(out), testlib.sha256_file(want),
                     "s2 reads as before")
            p = testlib.qsnapfix("extract", path, "-s", "s1", "-o", out,
                                 ok_codes=(BAD_SNAPSHOT_TABLE,))
            check("snapshot table entry 0" in p.stderr, p.stderr)
    finally:
        shutil.rmtree(work)


def test_unknown_header_extension_is_listed_not_refused():
    work = testlib.workdir("unknown-ext")
    try:
        path = os.path.join(work, "ext.qcow2")
        shutil.copyfile(fixtures.fixture("v3-reverted").path, path)
        end = extension_offset(path, 0)  # the end marker
        put(path, end, be32(0x12345678) + be32(5) + b"hello\0\0\0" + bytes(8))
        info = json.loads(testlib.qsnapfix("inspect", "--output=json",
                                           path).stdout)
        check_eq(info["header"]["unknown-extensions"], ["0x12345678"],
                 "unknown extensions")
        check_eq(len(testlib.qemu_img_info(path)["snapshots"]), 3,
                 "qemu-img still reads it")
    finally:
        shutil.rmtree(work)


def test_repeated_header_extension_is_read_as_qemu_reads_it():
    """QEMU reads every extension in turn, so of a type given twice the
    last one wins (block/qcow2.c, qcow2_read_extensions); so do we."""
    work = testlib.workdir("repeated-ext")
    try:
        path = os.path.join(work, "twice.qcow2")
        shutil.copyfile(fixtures.fixture("overlay").path, path)
        # room after the extensions: the backing file name moves to 0x800
        name_at, name_len = struct.unpack(">QI", read_at(path, 8, 12))
        put(path, 0x800, read_at(path, name_at, name_len))
        put(path, 8, be64(0x800))
        end = extension_offset(path, 0)  # the end marker
        put(path, end, be32(0xe2792aca) + be32(3) + b"raw\0\0\0\0\0" +
            bytes(8))
        theirs = testlib.qemu_img_info(path)
        ours = json.loads(testlib.qsnapfix("inspect", "--output=json",
                                           path).stdout)
        check_eq(theirs["backing-filename-format"], "raw",
                 "qemu-img takes the last backing format")
        check_eq(ours["backing-filename-format"],
                 theirs["backing-filename-format"], "backing format")
    finally:
        shutil.rmtree(work)


def test_vmstate_size_above_4g_comes_from_the_64bit_field():
    """QEMU writes 0 in the legacy 32-bit field when the size needs 64 bits
    and reads the 64-bit extra field; so do we."""
    work = testlib.workdir("size64")
    try:
        path = os.path.join(work, "big.qcow2")
        shutil.copyfile(fixtures.fixture("v3-reverted").path, path)
        fixtures.set_vm_state_size(path, 0, 5 << 30)
        ours = json.loads(testlib.qsnapfix("inspect", "--output=json",
                                           path).stdout)["snapshots"][0]
        theirs = testlib.qemu_img_info(path)["snapshots"][0]
        check_eq(ours["vm-state-size"], theirs["vm-state-size"], "size")
        check_eq((ours["vm-state-size"], ours["vm-state-size-32"]),
                 (5 << 30, 0), "64-bit and legacy fields")
    finally:
        shutil.rmtree(work)


def test_absurd_vmstate_size_is_reported_quickly():
    """A VM state size of 2^61 bytes with 512-byte clusters: inspect must
    not walk 2^52 clusters; the part past the L1 table is counted at once
    (past-l1). No clock is read: a walk would not end before the run's
    timeout, and a busy machine must not fail the test."""
    work = testlib.workdir("absurd")
    try:
        path = os.path.join(work, "absurd.qcow2")
        shutil.copyfile(fixtures.fixture("c512").path, path)
        fixtures.set_vm_state_size(path, 0, 1 << 61)
        info = json.loads(testlib.qsnapfix("inspect", "--output=json",
                                           path).stdout)
        vs = info["snapshots"][0]["vm-state"]
        check_eq(vs["clusters"], (1 << 61) // 512, "clusters")
        check(vs["past-l1"] > 0 and vs["normal"] > 0, str(vs))
        check_eq(vs["normal"] + vs["zero"] + vs["unallocated"] +
                 vs["compressed"], vs["clusters"], "kinds add up")
    finally:
        shutil.rmtree(work)


def test_dirty_and_corrupt_bits_are_reported_not_fatal_when_reading():
    work = testlib.workdir("flags")
    try:
        path = os.path.join(work, "flags.qcow2")
        shutil.copyfile(fixtures.fixture("lazy").path, path)
        put(path, 72, be64(1 | 2))  # dirty + corrupt
        info = json.loads(testlib.qsnapfix("inspect", "--output=json",
                                           path).stdout)
        check(info["dirty-flag"] is True, "dirty-flag")
        check(info["format-specific"]["data"]["corrupt"] is True, "corrupt")
        p = testlib.qsnapfix("extract", path, "-s", "s1", "-o",
                             os.path.join(work, "s1.bin"))
        check("corrupt bit is set" in p.stderr, f"warning: {p.stderr}")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    testlib.main([
        test_corpus_has_enough_cases,
        test_every_damaged_image_gives_its_error,
        test_absurd_vmstate_size_is_reported_quickly,
        test_vmstate_size_above_4g_comes_from_the_64bit_field,
        test_unknown_header_extension_is_listed_not_refused,
        test_one_impossible_entry_spoils_only_its_snapshot,
        test_repeated_header_extension_is_read_as_qemu_reads_it,
        test_dirty_and_corrupt_bits_are_reported_not_fatal_when_reading,
    ])
