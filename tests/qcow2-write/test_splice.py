#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The splice write path against QEMU's own tools, on the whole fixture
matrix (tests/qsnapfix_tests/fixtures.py) and every kind of edit.

After each `qsnapfix splice`:
  - qemu-img check --output=json: 0 corruptions, 0 leaks;
  - the new VM state as QEMU reads it (qemu-img snapshot -a on a copy,
    then qemu-io 'read -b -v') equals the old bytes with the edits applied;
  - every other snapshot's VM state is unchanged byte for byte (QEMU's
    reading), and its table entry too;
  - the spliced entry keeps ID, name, date, VM clock and icount, and
    qemu-img reports the new VM state size;
  - the disk of the active layer and of every snapshot is unchanged
    (qemu-img compare; snapshots through `qemu-img convert -l`, which
    works read-only, also where a revert would be refused).
"""
import hashlib
import json
import os
import shutil

import wtlib
from wtlib import Edit, check, check_eq, fixtures, testlib

FX = [fx for fx in fixtures.fixtures()
      if any(s["vmstate"] for s in fx.facts["snapshots"])]
MIB = 1 << 20


def pattern(n, seed=1):
    """n bytes that no cluster of a VM state happens to equal."""
    out = bytearray()
    x = seed
    while len(out) < n:
        x = (x * 1103515245 + 12345) & 0x7fffffff
        out += x.to_bytes(4, "little")
    return bytes(out[:n])


def l2_span(facts):
    cs = facts["cluster_size"]
    return cs * (cs // (16 if facts["extended_l2"] else 8))


def edit_kinds(facts, size):
    """Every kind of edit the issue lists, for a VM state of size bytes."""
    cs = facts["cluster_size"]
    kinds = {
        "patch-start": [Edit(0, 1, b"\xa5")],
        "patch-middle": [Edit(size // 2, 4, b"\x01\x02\x03\x04")],
        "patch-last-cluster": [Edit(size - 2, 2, b"\xee\xff")],
        "insertion": [Edit(size // 3, 0, pattern(1000))],
        "deletion": [Edit(size // 4, 3000, b"")],
        "shrink": [Edit(size // 2, size - size // 2, b"")],
        "several": [Edit(10, 0, b"\x42"),
                    Edit(min(cs, size // 3) + 5, 7, b"\x43" * 9),
                    Edit(size - 100, 100, pattern(50, 3))],
    }
    span = l2_span(facts)
    if span <= 4 * MIB:
        # Past what the VM state's last L2 table maps: needs a new one.
        grow = span - size % span + 3 * cs + 17
        kinds["growth-past-l2"] = [Edit(size, 0, pattern(grow, 7))]
    return kinds


class Subject:
    """One fixture snapshot, the old bytes QEMU reads, what else it holds."""

    def __init__(self, fx, snapshot, reference=None):
        """reference: the fixture QEMU read the VM states from, when fx is
        a converted copy with the same bytes."""
        ref = reference or fx
        self.fx = fx
        self.snapshot = snapshot
        self.size = wtlib.vm_state_size(fx.path, snapshot)
        self.old = fixtures.qemu_vmstate(ref, snapshot, self.size)
        self.others = {
            s["name"]: fixtures.qemu_vmstate(
                ref, s["name"], wtlib.vm_state_size(fx.path, s["name"]))
            for s in fx.facts["snapshots"]
            if s["vmstate"] and s["name"] != snapshot}
        self.table = wtlib.snapshot_table(fx.path)
        self.rc_bits = fx.facts["refcount_bits"]


def snapshot_disk(image, name, work, tag):
    """A snapshot's disk as a raw file, read by QEMU without a revert
    (qemu-img convert -l loads the snapshot read-only)."""
    out = os.path.join(work, f"{tag}-{name}.raw")
    fixtures.run_beside(image, ["qemu-img", "convert", "-f", "qcow2", "-O",
                                "raw", "-l", f"snapshot.name={name}", image,
                                out])
    return out


def same_disk(a, b, size):
    """The first size bytes of two raw files are equal (the snapshot's own
    disk: past it, convert shows its VM state area when the image has
    grown since)."""
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while size > 0:
            n = min(size, MIB)
            if fa.read(n) != fb.read(n):
                return False
            size -= n
    return True


def check_spliced(sub, image, new, work):
    """Everything that must hold after a successful splice."""
    what = f"{sub.fx.name}/{sub.snapshot}"
    wtlib.check_image(image)
    table = wtlib.snapshot_table(image)
    for name, before in sub.table.items():
        after = table.get(name)
        check(after is not None, f"{what}: snapshot {name} is gone")
        if name == sub.snapshot:
            before = dict(before, **{"vm-state-size": len(new)})
        check_eq(after, before, f"{what}: table entry of {name}")
    got = wtlib.qemu_vmstate(image, sub.snapshot, work, sub.rc_bits)
    check(got == new, f"{what}: the new VM state read back differs "
                      f"({len(got)} vs {len(new)} bytes)")
    for name, data in sub.others.items():
        got = wtlib.qemu_vmstate(image, name, work, sub.rc_bits)
        check(got == data, f"{what}: snapshot {name}'s VM state changed")
    check(wtlib.qemu_compare(sub.fx.path, image), f"{what}: active disk")
    for name, disk_size in wtlib.snapshot_disk_sizes(sub.fx.path).items():
        a = snapshot_disk(sub.fx.path, name, work, "before")
        b = snapshot_disk(image, name, work, "after")
        check(same_disk(a, b, disk_size), f"{what}: disk of snapshot {name}")
        os.unlink(a)
        os.unlink(b)


def splice(sub, edits, work, *extra):
    image = os.path.join(work, "image.qcow2")
    shutil.copyfile(sub.fx.path, image)
    _, stats, _ = wtlib.splice_cli(image, sub.snapshot, edits, work, *extra)
    return image, stats


def test_every_edit_kind_on_every_fixture():
    done = 0
    for fx in FX:
        sub = Subject(fx, next(s["name"] for s in fx.facts["snapshots"]
                               if s["vmstate"]))
        kinds = edit_kinds(fx.facts, sub.size)
        for kind, edits in kinds.items():
            work = testlib.workdir("splice")
            try:
                image, stats = splice(sub, edits, work)
                new = wtlib.apply_edits(sub.old, edits)
                check_eq(stats["new-size"], len(new), f"{fx.name} {kind}")
                check_spliced(sub, image, new, work)
                if kind.startswith("patch") and sub.rc_bits > 1:
                    # The active layer's copies (relocate.c) only where the
                    # VM state lies inside the disk.
                    limit = 2 if not fx.facts["compressed_vmstate"] else 3
                    check(stats["clusters-written"] <= limit,
                          f"{fx.name} {kind}: {stats}")
                done += 1
            except testlib.Failure as e:
                raise testlib.Failure(f"{fx.name} {kind}: {e}") from None
            finally:
                shutil.rmtree(work)
    print(f"     {done} splices on {len(FX)} fixtures checked with QEMU")


def test_every_vmstate_snapshot_of_multi_snapshot_images():
    """The other snapshots of the multi-snapshot fixtures, spliced too."""
    for fx in FX:
        names = [s["name"] for s in fx.facts["snapshots"] if s["vmstate"]]
        for name in names[1:]:
            sub = Subject(fx, name)
            edits = [Edit(sub.size // 5, 8, b""), Edit(sub.size // 2, 1, b"Q")]
            work = testlib.workdir("splice")
            try:
                image, _ = splice(sub, edits, work)
                check_spliced(sub, image, wtlib.apply_edits(sub.old, edits),
                              work)
            finally:
                shutil.rmtree(work)


def test_refcount_widths_1_to_64_bits():
    """Images converted with qemu-img amend to each refcount width; with
    2 bits the clusters shared three times (refcount 3 = the maximum)
    cannot take another reference and are copied instead."""
    cases = [("rc1", 1, "s1")]
    cases += [("c4k", b, "s1") for b in (4, 8, 32, 64)]
    cases += [("prediscard-shared", b, "a") for b in (2, 16)]
    for name, bits, snap in cases:
        fx = orig = next(f for f in FX if f.name == name)
        work = testlib.workdir("widths")
        try:
            if fx.facts["refcount_bits"] != bits:
                src = os.path.join(work, "src.qcow2")
                shutil.copyfile(fx.path, src)
                testlib.qemu_img("amend", "-o", f"refcount_bits={bits}", src)
                fx = fixtures.Fixture(name, src, dict(fx.facts,
                                                      refcount_bits=bits))
            check_eq(testlib.qemu_img_info(fx.path)["format-specific"]["data"]
                     ["refcount-bits"], bits, f"{name} refcount bits")
            sub = Subject(fx, snap, reference=orig)
            size = sub.size
            edits = [Edit(size // 3, 2, b"\x99\x98"), Edit(size // 2, 0, b"+")]
            image, stats = splice(sub, edits, work)
            check_spliced(sub, image, wtlib.apply_edits(sub.old, edits), work)
            print(f"     {bits:2}-bit refcounts ({name}): "
                  f"{stats['clusters-written']} clusters written, "
                  f"{stats['clusters-shared']} shared")
        finally:
            shutil.rmtree(work)


def big_vmstate_image(path, size):
    """A snapshot whose VM state is size bytes of allocated, varied data
    (qemu-io 'write -b' with a pattern per MiB; the entry's size patched
    in, as `qemu-img snapshot -c` writes 0)."""
    testlib.qemu_img("create", "-q", "-f", "qcow2", path, "16M")
    cmds = [f"write -b -P {(i * 37 + 1) & 0xff} {i * MIB} {MIB}"
            for i in range(size // MIB)]
    for i in range(0, len(cmds), 64):
        testlib.qemu_io(path, *cmds[i:i + 64])
    testlib.qemu_img("snapshot", "-c", "big", path)
    fixtures.set_vm_state_size(path, 0, size)


def qemu_read_window(image, snapshot, off, length, work):
    """length bytes at off of the VM state, as QEMU reads them."""
    copy = os.path.join(work, "window.qcow2")
    shutil.copyfile(image, copy)
    testlib.qemu_img("snapshot", "-a", snapshot, copy)
    start = off // 512 * 512
    n = (off + length + 511) // 512 * 512 - start
    p = testlib.qemu_io(copy, f"read -b -v {start} {n}")
    return testlib.parse_qemu_io_dump(p.stdout, start, n)[off - start:
                                                         off - start + length]


def test_one_byte_patch_in_a_large_vmstate_writes_at_most_two_clusters():
    work = testlib.workdir("patch")
    try:
        size = 256 * MIB
        image = os.path.join(work, "big.qcow2")
        big_vmstate_image(image, size)
        before = os.path.getsize(image)
        off = size // 2 + 12345
        edits = [Edit(off, 1, b"\xff")]
        ef = os.path.join(work, "e.txt")
        wtlib.write_edits(ef, edits)
        p = testlib.qsnapfix("splice", image, "-s", "big", "-e", ef,
                             "--output=json")
        st = json.loads(p.stdout)
        cs = 65536
        check(st["clusters-written"] <= 2, f"data clusters written: {st}")
        # metadata: one L2 table, the L1, the snapshot table, and refcount
        # blocks (each written once before and once after the commit)
        check(st["metadata-clusters"] <= 4, f"metadata clusters: {st}")
        check(st["bytes-written"] <= 2 * cs + 8 * cs, f"bytes: {st}")
        growth = os.path.getsize(image) - before
        check(growth <= (2 + 4) * cs, f"the file grew by {growth} bytes")
        wtlib.check_image(image)
        got = qemu_read_window(image, "big", off - 8, 16, work)
        want = bytes([(((off - 8) // MIB) * 37 + 1) & 0xff]) * 8 + b"\xff" + \
            bytes([((off // MIB) * 37 + 1) & 0xff]) * 7
        check_eq(got, want, "QEMU reads the patched bytes")
        print(f"     1-byte patch of a {size >> 20} MiB VM state: "
              f"{st['clusters-written']} data cluster(s), "
              f"{st['bytes-written']} bytes in {st['writes']} writes, "
              f"file +{growth} bytes")
    finally:
        shutil.rmtree(work)


def test_growth_past_l2_coverage_with_64k_clusters():
    """A 64 KiB-cluster VM state grown past the 512 MiB one L2 table maps:
    checked by QEMU at the old end, across the L2 boundary and at the new
    end, and in full by hash through the library."""
    fx = next(f for f in FX if f.name == "v3-reverted")
    sub = Subject(fx, "s1")
    work = testlib.workdir("grow")
    try:
        grow = 512 * MIB - sub.size + 65536 * 3 + 5
        edits = [Edit(sub.size, 0, b"\x6b" * grow)]
        image, st = splice(sub, edits, work)
        new_size = sub.size + grow
        check_eq(st["new-size"], new_size, "new size")
        wtlib.check_image(image)
        for off, n in [(sub.size - 100, 200), (512 * MIB - 64, 128),
                       (new_size - 300, 300)]:
            got = qemu_read_window(image, "s1", off, n, work)
            want = (sub.old + b"\x6b" * grow)[off:off + n] \
                if off < sub.size else b"\x6b" * n
            check_eq(got, want, f"QEMU reads [{off}, +{n})")
        h = hashlib.sha256(sub.old)
        h.update(b"\x6b" * grow)
        p = testlib.qsnapfix("extract", image, "-s", "s1", "-o",
                             os.path.join(work, "x.bin"), "--output=json")
        check_eq(json.loads(p.stdout)["sha256"], h.hexdigest(), "sha256")
        check(wtlib.qemu_compare(fx.path, image), "active disk")
    finally:
        shutil.rmtree(work)


def test_whole_moved_2m_clusters():
    """2 MiB clusters moved whole (copied inside the file, or read and
    written in pieces smaller than a cluster)."""
    fx = next(f for f in FX if f.name == "c2m")
    sub = Subject(fx, "s1")
    work = testlib.workdir("c2m")
    try:
        grow = [Edit(0, 0, pattern(3_000_000, 5))]
        image, _ = splice(sub, grow, work)
        mid = wtlib.apply_edits(sub.old, grow)
        for shift in (b"\xab", pattern(4096, 9)):
            edits = [Edit(100, 0, shift)]
            _, st, _ = wtlib.splice_cli(image, "s1", edits, work)
            mid = wtlib.apply_edits(mid, edits)
            check_eq(st["clusters-written"], 2, f"insert {len(shift)}: {st}")
            wtlib.check_image(image)
            check(wtlib.qemu_vmstate(image, "s1", work) == mid,
                  f"QEMU reads the VM state after inserting {len(shift)}")
        check(wtlib.qemu_compare(fx.path, image), "active disk")
    finally:
        shutil.rmtree(work)


def test_dry_run_writes_nothing_and_reports_the_real_run():
    for name, snap in [("v3-reverted", "s1"), ("c512", "s1"), ("rc1", "s1"),
                       ("cvm-zlib", "c1")]:
        fx = next(f for f in FX if f.name == name)
        sub = Subject(fx, snap)
        edits = [Edit(0, 0, b"\x01" * 70000), Edit(sub.size // 2, 9, b"")]
        work = testlib.workdir("dry")
        try:
            image = os.path.join(work, "image.qcow2")
            shutil.copyfile(fx.path, image)
            os.utime(image, ns=(10**18, 10**18))
            before = testlib.file_fingerprint(image)
            _, dry, _ = wtlib.splice_cli(image, snap, edits, work, "--dry-run")
            check_eq(testlib.file_fingerprint(image), before,
                     f"{name}: file after --dry-run (sha256, mtime, size)")
            check(dry["dry-run"], "dry-run flag")
            _, real, _ = wtlib.splice_cli(image, snap, edits, work)
            # what differs between two runs by nature: the flag, figures the
            # file system measures, and the second the report was made in
            measured = ("dry-run", "allocated-after", "space-available",
                        "timestamp")
            for key in dry:
                if key not in measured:
                    check_eq(dry[key], real[key], f"{name}: dry-run {key}")
            check(real["bytes-written"] > 0, "the real run wrote")
        finally:
            shutil.rmtree(work)


def test_a_full_rewrite_gives_the_old_vm_state_space_back():
    """An insertion at byte 0 moves every byte: the whole VM state is
    written fresh. Its old clusters are freed, and released to the file
    system as QEMU releases a deleted snapshot's (discard: a hole), so the
    space the file takes on disk stays about what it was even though the
    file grows. (Where the file system cannot punch holes the splice says
    so: discarded-bytes 0, and the test has nothing to measure.)"""
    fx = next(f for f in FX if f.name == "v3-reverted")
    work = testlib.workdir("release")
    try:
        image = os.path.join(work, "image.qcow2")
        shutil.copyfile(fx.path, image)
        size = wtlib.vm_state_size(image, "s2")  # not shared: freed whole
        _, st, _ = wtlib.splice_cli(image, "s2", [Edit(0, 0, b"\x01")], work)
        wtlib.check_image(image)
        check(st["file-size-after"] > st["file-size-before"], f"grew: {st}")
        if not st["discarded-bytes"]:
            print("     the file system here cannot punch holes")
            return
        check(st["discarded-bytes"] >= size // 2, f"released: {st}")
        grown = st["allocated-after"] - st["allocated-before"]
        check(grown < size // 2,
              f"on disk {st['allocated-before']} -> {st['allocated-after']} "
              f"bytes for a {size}-byte VM state written anew")
        check_eq(os.stat(image).st_blocks * 512, st["allocated-after"],
                 "allocated bytes as stat says")
    finally:
        shutil.rmtree(work)


def test_keep_original_keeps_the_old_vm_state_as_a_new_snapshot():
    for name, snap in [("v2-multi", "s1"), ("v3-reverted", "s1"),
                       ("xl2", "s2")]:
        fx = next(f for f in FX if f.name == name)
        sub = Subject(fx, snap)
        edits = [Edit(100, 4, b"KEEP"), Edit(sub.size // 2, 0, pattern(333))]
        work = testlib.workdir("keep")
        try:
            image, st = splice(sub, edits, work, "--keep-original",
                               f"{snap}.orig")
            new = wtlib.apply_edits(sub.old, edits)
            wtlib.check_image(image)
            table = wtlib.snapshot_table(image)
            kept = table.get(f"{snap}.orig")
            check(kept is not None, f"{name}: {snap}.orig missing: {table}")
            ids = [int(s["id"]) for s in sub.table.values()]
            check_eq(kept["id"], str(max(ids) + 1), "the kept copy's ID")
            for key in ("date-sec", "date-nsec", "vm-clock-sec",
                        "vm-clock-nsec", "vm-state-size"):
                check_eq(kept[key], sub.table[snap][key], f"kept {key}")
            check_eq(table[snap]["vm-state-size"], len(new), "new size")
            check_eq(table[snap]["id"], sub.table[snap]["id"], "ID kept")
            check(wtlib.qemu_vmstate(image, snap, work) == new, "new bytes")
            check(wtlib.qemu_vmstate(image, f"{snap}.orig", work) == sub.old,
                  "the kept copy reads the old bytes")
            for other, data in sub.others.items():
                check(wtlib.qemu_vmstate(image, other, work) == data, other)
            a = snapshot_disk(fx.path, snap, work, "a")
            b = snapshot_disk(image, f"{snap}.orig", work, "b")
            check(same_disk(a, b, 1 << 40), "the kept copy's disk")
            # only the old snapshot table is released
            check_eq(st["clusters-freed"], 1, "clusters freed")
        finally:
            shutil.rmtree(work)


def one_bit_image_with_guest_data(path):
    """1-bit refcounts, a snapshot with guest data and a VM state: made
    with 16-bit refcounts (a snapshot shares clusters), then every cluster
    of the active layer rewritten so nothing is shared any more, then
    converted with qemu-img amend."""
    testlib.qemu_img("create", "-q", "-f", "qcow2", path, "16M")
    testlib.qemu_io(path, "write -P 1 0 64k", "write -b -P 2 0 128k")
    testlib.qemu_img("snapshot", "-c", "s1", path)
    fixtures.set_vm_state_size(path, 0, 100000)
    testlib.qemu_io(path, "write -P 3 0 64k", "write -b -P 4 0 128k")
    testlib.qemu_img("amend", "-o", "refcount_bits=1", path)


def test_keep_original_refused_with_1_bit_refcounts():
    """Keeping the original shares the snapshot's unchanged L2 tables,
    which 1-bit refcounts cannot count: refused before any write."""
    work = testlib.workdir("keep1")
    try:
        image = os.path.join(work, "image.qcow2")
        one_bit_image_with_guest_data(image)
        table = wtlib.snapshot_table(image)
        before = testlib.file_fingerprint(image)
        rc, _, err = wtlib.splice_cli(image, "s1", [Edit(5, 1, b"x")], work,
                                      "--keep-original", "s1.orig",
                                      ok_codes=None)
        check_eq(rc, 8, f"exit code: {err}")
        check("refcount" in err and "qemu-img amend -o refcount_bits" in err,
              f"message: {err}")
        check_eq(err.count("\n"), 1, "one line")
        check_eq(testlib.file_fingerprint(image), before,
                 "nothing written (sha256, mtime, size)")
        check_eq(wtlib.snapshot_table(image), table, "snapshot table")
        # Without keeping the original it works: kept clusters are copied.
        _, st, _ = wtlib.splice_cli(image, "s1", [Edit(5, 1, b"x")], work)
        wtlib.check_image(image)
        check(st["clusters-written"] >= 2, f"copies, not shares: {st}")
    finally:
        shutil.rmtree(work)


def test_a_second_identical_splice_is_a_no_op():
    fx = next(f for f in FX if f.name == "zstd")
    sub = Subject(fx, "s1")
    edits = [Edit(77, 3, b"abc")]
    work = testlib.workdir("noop")
    try:
        image, _ = splice(sub, edits, work)
        before = testlib.file_fingerprint(image)
        _, st, _ = wtlib.splice_cli(image, "s1", edits, work)
        check_eq(st["bytes-written"], 0, "second run writes nothing")
        check_eq(testlib.file_fingerprint(image), before, "file unchanged")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    testlib.main([
        test_every_edit_kind_on_every_fixture,
        test_every_vmstate_snapshot_of_multi_snapshot_images,
        test_refcount_widths_1_to_64_bits,
        test_one_byte_patch_in_a_large_vmstate_writes_at_most_two_clusters,
        test_growth_past_l2_coverage_with_64k_clusters,
        test_whole_moved_2m_clusters,
        test_dry_run_writes_nothing_and_reports_the_real_run,
        test_a_full_rewrite_gives_the_old_vm_state_space_back,
        test_keep_original_keeps_the_old_vm_state_as_a_new_snapshot,
        test_keep_original_refused_with_1_bit_refcounts,
        test_a_second_identical_splice_is_a_no_op,
    ])
