#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Images the splice must not write, and bad requests: each is refused
with one line naming the image, the structure and what to do, with the
documented exit code, and the file is left untouched (sha256 and mtime).
Where the message suggests a qemu-img command, running it makes the
splice work. Unknown autoclear bits are not a refusal: they are cleared,
as the qcow2 specification asks of a writer."""
import os
import shutil
import struct

import wtlib
from wtlib import Edit, check, check_eq, fixtures, testlib
from qsnapfix_tests import qcow2_pokes as pk

EDITS = [Edit(0, 0, b"\x01")]


def refused(image, work, code, *needles, edits=EDITS, snapshot="s1"):
    """Splice must fail with code, a one-line message holding needles,
    and leave the file exactly as it was."""
    os.utime(image, ns=(10**18, 10**18))
    before = testlib.file_fingerprint(image)
    rc, _, err = wtlib.splice_cli(image, snapshot, edits, work, ok_codes=None)
    check_eq(rc, code, f"exit code: {err}")
    check_eq(err.count("\n"), 1, f"one line: {err!r}")
    check(err.startswith(f"qsnapfix: {image}: "), f"names the image: {err}")
    for n in needles:
        check(n in err, f"{n!r} not in: {err}")
    check_eq(testlib.file_fingerprint(image), before, "file untouched")
    return err


def set_incompatible(path, bits):
    with open(path, "r+b") as f:
        f.seek(72)
        old = struct.unpack(">Q", f.read(8))[0]
        f.seek(72)
        f.write(struct.pack(">Q", old | bits))


def test_dirty_image_refused_until_qemu_img_check_repairs_it():
    """A real dirty image: lazy refcounts, qemu-io writes and aborts."""
    work = testlib.workdir("dirty")
    try:
        img = os.path.join(work, "lazy.qcow2")
        testlib.qemu_img("create", "-q", "-f", "qcow2", "-o",
                         "lazy_refcounts=on", img, "16M")
        testlib.qemu_io(img, "write -b -P 0x44 0 131072")
        testlib.qemu_img("snapshot", "-c", "s1", img)
        fixtures.set_vm_state_size(img, 0, 100000)
        testlib.run(["qemu-io", "-f", "qcow2", "-c", "write -P 9 0 65536",
                     "-c", "abort", img], ok_codes=None)
        check(fixtures.header_fields(img)["incompatible_features"] & 1,
              "qemu-io abort left the dirty bit")
        refused(img, work, 7, "dirty bit (incompatible bit 0)",
                f"qemu-img check -r all {img}")
        testlib.qemu_img("check", "-r", "all", img)
        rc, _, err = wtlib.splice_cli(img, "s1", EDITS, work, ok_codes=None)
        check_eq(rc, 0, f"after qemu-img check -r all: {err}")
        wtlib.check_image(img)
    finally:
        shutil.rmtree(work)


def test_corrupt_bit_refused_until_qemu_img_check_repairs_it():
    work = testlib.workdir("corrupt")
    try:
        img = os.path.join(work, "c.qcow2")
        shutil.copyfile(fixtures.fixture("zstd").path, img)
        set_incompatible(img, 2)  # as QEMU does when it finds an overlap
        refused(img, work, 7, "corrupt bit (incompatible bit 1)",
                f"qemu-img check -r all {img}")
        testlib.qemu_img("check", "-r", "all", img)
        rc, _, err = wtlib.splice_cli(img, "s1", EDITS, work, ok_codes=None)
        check_eq(rc, 0, f"after qemu-img check -r all: {err}")
        wtlib.check_image(img)
    finally:
        shutil.rmtree(work)


def test_encrypted_image_refused():
    """Encryption method 2 with its LUKS header extension, set by poking
    the header (qcow2_pokes.make_luks_like): qemu-img's LUKS key setup
    times PBKDF2 and fails on a busy machine, which a test must not
    depend on. The refusal comes from the header alone."""
    work = testlib.workdir("luks")
    try:
        img = os.path.join(work, "enc.qcow2")
        shutil.copyfile(fixtures.fixture("zstd").path, img)
        pk.make_luks_like(img)
        refused(img, work, 8, "encrypted image (LUKS)")
    finally:
        shutil.rmtree(work)


def add_data_file_extension(path, name):
    """Mark an image as using an external data file (incompatible bit 2 +
    the data file name extension), the way qemu-img create -o data_file
    writes them. QEMU itself never makes internal snapshots in such images;
    this is how one with a snapshot could reach us."""
    hd = fixtures.header_fields(path)
    with open(path, "r+b") as f:
        off = hd["header_length"]
        while True:
            f.seek(off)
            etype, elen = struct.unpack(">II", f.read(8))
            if etype == 0:
                break
            off += 8 + (elen + 7) // 8 * 8
        data = name.encode()
        f.seek(off)
        f.write(struct.pack(">II", 0x44415441, len(data)) + data +
                bytes((8 - len(data) % 8) % 8) + bytes(8))
    set_incompatible(path, 4)


def test_data_file_image_refused():
    work = testlib.workdir("datafile")
    try:
        img = os.path.join(work, "df.qcow2")
        shutil.copyfile(fixtures.fixture("zstd").path, img)
        with open(os.path.join(work, "df.raw"), "wb") as f:
            f.truncate(16 << 20)
        add_data_file_extension(img, "df.raw")
        info = testlib.qemu_img_info(img)
        check_eq(info["format-specific"]["data"].get("data-file"), "df.raw",
                 "qemu-img sees the data file")
        refused(img, work, 8, "external data file (incompatible bit 2)")
    finally:
        shutil.rmtree(work)


def test_unknown_incompatible_bit_refused():
    work = testlib.workdir("unknown")
    try:
        img = os.path.join(work, "u.qcow2")
        shutil.copyfile(fixtures.fixture("zstd").path, img)
        set_incompatible(img, 1 << 9)
        refused(img, work, 8, "incompatible feature", "bit 9")
    finally:
        shutil.rmtree(work)


def test_unknown_autoclear_bits_are_cleared_known_ones_kept():
    work = testlib.workdir("autoclear")
    try:
        img = os.path.join(work, "a.qcow2")
        shutil.copyfile(fixtures.fixture("zstd").path, img)
        testlib.qemu_img("bitmap", "--add", img, "b0")
        with open(img, "r+b") as f:
            f.seek(88)
            bits = struct.unpack(">Q", f.read(8))[0]
            check_eq(bits, 1, "qemu-img bitmap sets the bitmaps bit")
            f.seek(88)
            f.write(struct.pack(">Q", bits | (1 << 5) | (1 << 40)))
        dry = testlib.file_fingerprint(img)
        wtlib.splice_cli(img, "s1", EDITS, work, "--dry-run")
        check_eq(testlib.file_fingerprint(img), dry, "a dry run clears nothing")
        wtlib.splice_cli(img, "s1", EDITS, work)
        check_eq(fixtures.header_fields(img)["autoclear_features"], 1,
                 "unknown bits 5 and 40 cleared, bitmaps bit kept")
        wtlib.check_image(img)
        info = testlib.qemu_img_info(img)
        check_eq([b["name"] for b in info["format-specific"]["data"]
                  ["bitmaps"]], ["b0"], "the bitmap is still there")
    finally:
        shutil.rmtree(work)


def test_bad_edit_lists_and_names_exit_2_without_writing():
    work = testlib.workdir("badedits")
    try:
        img = os.path.join(work, "x.qcow2")
        shutil.copyfile(fixtures.fixture("v2-multi").path, img)
        size = wtlib.vm_state_size(img, "s1")
        refused(img, work, 2, "overlaps", edits=[Edit(10, 5, b""),
                                                 Edit(12, 1, b"a")])
        refused(img, work, 2, "out of order", edits=[Edit(100, 0, b"a"),
                                                     Edit(50, 0, b"b")])
        refused(img, work, 2, f"has {size} bytes",
                edits=[Edit(size - 1, 2, b"")])
        refused(img, work, 9, "no snapshot", snapshot="nosuch")
        ef = os.path.join(work, "bad.txt")
        with open(ef, "w") as f:
            f.write("10 1 zz\n")
        p = testlib.qsnapfix("splice", img, "-s", "s1", "-e", ef,
                             ok_codes=None)
        check_eq(p.returncode, 2, p.stderr)
        check(f"{ef}:1:" in p.stderr, f"names the line: {p.stderr}")
        p = testlib.qsnapfix("splice", img, "-s", "s1", "-e", ef,
                             "--keep-original", "d1", ok_codes=None)
        check_eq(p.returncode, 2, p.stderr)
        rc, _, err = wtlib.splice_cli(img, "s1", EDITS, work,
                                      "--keep-original", "d1", ok_codes=None)
        check_eq(rc, 2, err)
        check("already exists" in err, err)
    finally:
        shutil.rmtree(work)


def test_oldify_refuses_a_stream_it_cannot_reshape_without_writing():
    """oldify writes images too: a QEMU 7.2 stream with section footers
    (the fixtures' default machine, >= 2.4) is not one its qemu-kvm shapes
    take. Refused with exit 8 (unsupported) before a byte changes; before,
    the image was written and only its re-read failed (exit 14)."""
    work = testlib.workdir("oldify")
    try:
        img = os.path.join(work, "x.qcow2")
        shutil.copyfile(fixtures.fixture("c4k").path, img)
        os.utime(img, ns=(10**18, 10**18))
        before = testlib.file_fingerprint(img)
        p = testlib.qsnapfix("oldify", img, "--snapshot", "s1",
                             ok_codes=None)
        check_eq(p.returncode, 8, p.stderr)
        check("SECTION_FOOTER" in p.stderr and "pc-i440fx-1.4" in p.stderr,
              f"says why: {p.stderr}")
        check_eq(testlib.file_fingerprint(img), before, "file untouched")
        wtlib.check_image(img)
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    testlib.main([
        test_dirty_image_refused_until_qemu_img_check_repairs_it,
        test_corrupt_bit_refused_until_qemu_img_check_repairs_it,
        test_encrypted_image_refused,
        test_data_file_image_refused,
        test_unknown_incompatible_bit_refused,
        test_unknown_autoclear_bits_are_cleared_known_ones_kept,
        test_bad_edit_lists_and_names_exit_2_without_writing,
        test_oldify_refuses_a_stream_it_cannot_reshape_without_writing,
    ])
