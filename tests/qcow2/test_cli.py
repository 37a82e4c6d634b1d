#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The qsnapfix inspect/extract command lines: help, usage errors, exit
codes, JSON over several images, what inspect reads, and extracting a
1 GiB VM state in bounded memory."""
import hashlib
import json
import os
import shutil
import stat
import subprocess

from qsnapfix_tests import fixtures
from qsnapfix_tests import qcow2_pokes as pk
from qsnapfix_tests import testlib
from qsnapfix_tests.testlib import check, check_eq

MIB = 1 << 20


def run(*args):
    return subprocess.run([testlib.BIN, *map(str, args)], capture_output=True,
                          text=True, timeout=600)


def test_help_documents_options_json_fields_and_exit_codes():
    p = run("--help")
    check_eq(p.returncode, 0, "qsnapfix --help")
    check("inspect" in p.stdout and "extract" in p.stdout, p.stdout)
    for cmd, words in (("inspect", ["--output", "vm-state-size", "date-sec",
                                    "vm-clock-nsec", "icount", "shared",
                                    "Exit codes", "12 bad"]),
                       ("extract", ["--snapshot", "-o", "sha256",
                                    "Exit codes", "9 no such"])):
        p = run(cmd, "--help")
        check_eq(p.returncode, 0, f"{cmd} --help")
        for w in words:
            check(w in p.stdout, f"{cmd} --help lacks {w!r}")


def test_usage_errors_exit_2():
    fx = fixtures.fixture("lazy")
    for args in ([], ["frobnicate"], ["inspect"], ["inspect", "--bogus", fx.path],
                 ["inspect", "--output=xml", fx.path],
                 ["extract", fx.path, "-o", "/tmp/x"],
                 ["extract", fx.path, "-s", "s1"],
                 ["extract", fx.path, "-s", "s1", "-o", "-", "--output=json"]):
        p = run(*args)
        check_eq(p.returncode, 2, f"qsnapfix {' '.join(args)}: {p.stderr}")
        check(p.stderr.startswith("qsnapfix: ") or p.stderr.startswith("usage"),
              f"{args}: {p.stderr}")


def test_missing_and_unreadable_files_exit_5():
    p = run("inspect", "/nonexistent/x.qcow2")
    check_eq(p.returncode, 5, p.stderr)
    check("/nonexistent/x.qcow2: cannot open: No such file" in p.stderr,
          p.stderr)
    p = run("inspect", "/")
    check_eq(p.returncode, 5, p.stderr)
    fx = fixtures.fixture("lazy")
    p = run("extract", fx.path, "-s", "s1", "-o", "/nonexistent/dir/out.bin")
    check_eq(p.returncode, 5, p.stderr)
    check("cannot create" in p.stderr, p.stderr)


def test_several_images_give_an_array_and_exit_15_on_partial_failure():
    work = testlib.workdir("multi")
    try:
        bad = os.path.join(work, "bad.qcow2")
        with open(bad, "wb") as f:
            f.write(b"not a qcow2 image at all" * 10)
        good = [fixtures.fixture(n).path for n in ("lazy", "v2-multi")]
        p = run("inspect", "--output=json", *good)
        check_eq(p.returncode, 0, p.stderr)
        arr = json.loads(p.stdout)
        check_eq([a["filename"] for a in arr], good, "array order")
        p = run("inspect", "--output=json", good[0], bad)
        check_eq(p.returncode, 15, p.stderr)
        arr = json.loads(p.stdout)
        check_eq(arr[1]["error"]["exit-code"], 10, "error exit code")
        check("not a qcow2 image" in arr[1]["error"]["message"], str(arr[1]))
        check("error" not in arr[0], "good image has no error")
    finally:
        shutil.rmtree(work)


def stats(*args):
    p = run("inspect", "--stats", *args)
    check_eq(p.returncode, 0, p.stderr)
    line = [l for l in p.stderr.splitlines() if " read " in l][-1]
    words = line.split()
    return int(words[words.index("read") + 1]), int(words[words.index("in") + 1])


def test_inspect_reads_only_metadata():
    for fx in fixtures.fixtures():
        if not fx.facts["snapshots"]:
            continue
        cs = fx.facts["cluster_size"]
        snaps = json.loads(run("inspect", "--output=json",
                               fx.path).stdout)["snapshots"]
        vm = sum(s["vm-state-size"] for s in snaps)
        nbytes, calls = stats(fx.path)
        # The header and snapshot table (first reads of 4 KiB each), the
        # snapshot L1 tables, the refcount table, the L2 tables mapping the
        # VM states and a refcount block or two: no data cluster.
        l1_bytes = sum(s["l1-size"] * 8 for s in snaps)
        l2_tables = sum(s["vm-state"]["l2-tables"] for s in snaps
                        if "vm-state" in s)
        per_block = cs * cs * 8 // fx.facts["refcount_bits"]
        refblocks = -(-os.path.getsize(fx.path) // per_block)
        bound = 2 * 4096 + l1_bytes + (l2_tables + refblocks + 1) * cs
        check(nbytes <= bound,
              f"{fx.name}: inspect read {nbytes} bytes (bound {bound})")
        check(nbytes < vm or fx.name in ("c2m", "cvm-zlib", "cvm-zstd"),
              f"{fx.name}: read {nbytes} bytes >= VM states {vm}")
        nbytes, calls = stats("--no-layout", fx.path)
        check(calls <= 3, f"{fx.name}: --no-layout made {calls} reads")
        check(nbytes <= max(cs, 4096) + 4096,
              f"{fx.name}: --no-layout read {nbytes} bytes")


def make_1g_vmstate(path):
    """A snapshot whose VM state is 1 GiB + 12345 bytes: patterns written
    with qemu-io 'write -b' at the start, the middle and near the end,
    zeros (unallocated) elsewhere."""
    size = (1 << 30) + 12345
    testlib.qemu_img("create", "-q", "-f", "qcow2", path, "16M")
    testlib.qemu_io(path, "write -b -P 0x11 0 1M",
                    f"write -b -P 0x22 {512 * MIB} 1M",
                    f"write -b -P 0x33 {(1 << 30) - MIB} {MIB + 12800}")
    testlib.qemu_img("snapshot", "-c", "big", path)
    fixtures.set_vm_state_size(path, 0, size)
    h = hashlib.sha256()
    zeros = bytes(MIB)
    for i in range(1024):
        fill = {0: 0x11, 512: 0x22, 1023: 0x33}.get(i)
        h.update(bytes([fill]) * MIB if fill else zeros)
    h.update(bytes([0x33]) * 12345)
    return size, h.hexdigest()


def test_extract_1g_vmstate_in_bounded_memory():
    work = testlib.workdir("big")
    try:
        path = os.path.join(work, "big.qcow2")
        size, want = make_1g_vmstate(path)
        # GNU time reports the child's peak RSS in KiB.
        argv = ["/usr/bin/time", "-f", "maxrss=%M", testlib.BIN, "extract",
                path, "-s", "big", "-o", "-"]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        h = hashlib.sha256()
        n = 0
        for chunk in iter(lambda: proc.stdout.read(MIB), b""):
            h.update(chunk)
            n += len(chunk)
        err = proc.stderr.read().decode()
        check_eq(proc.wait(), 0, f"extract: {err}")
        check_eq(n, size, "bytes on stdout")
        check_eq(h.hexdigest(), want, "sha256 of the 1 GiB VM state")
        rss = int(err.rsplit("maxrss=", 1)[1].split()[0]) * 1024
        # 4 MiB chunks + caches; ASan builds add shadow memory and quarantine
        check(rss < 256 * MIB, f"peak RSS {rss >> 20} MiB for a 1 GiB VM state")
        print(f"     1 GiB VM state extracted with peak RSS {rss >> 20} MiB")
    finally:
        shutil.rmtree(work)


def test_encrypted_image_is_listed_but_its_vmstate_refused():
    """A LUKS image as its header says (qcow2_pokes.make_luks_like: no
    PBKDF2 timing, which fails qemu-img on a busy machine)."""
    work = testlib.workdir("luks")
    try:
        path = os.path.join(work, "luks.qcow2")
        shutil.copyfile(fixtures.fixture("zstd").path, path)
        pk.make_luks_like(path)
        info = json.loads(run("inspect", "--output=json", path).stdout)
        check_eq(info["format-specific"]["data"]["encrypted"], True,
                 "encrypted")
        check_eq(info["header"]["encryption-method"], 2, "LUKS")
        p = run("extract", path, "-s", "s1", "-o", os.path.join(work, "x"))
        check_eq(p.returncode, 8, p.stderr)
        check("encrypted image" in p.stderr, p.stderr)
    finally:
        shutil.rmtree(work)


def test_inspect_and_extract_work_on_an_image_in_use():
    """Reading takes no lock: a running QEMU (which holds the write lock
    that makes plain `qemu-img snapshot -l` fail) does not stop us."""
    fx = fixtures.fixture("lazy")
    work = testlib.workdir("in-use")
    try:
        path = os.path.join(work, "in-use.qcow2")
        shutil.copyfile(fx.path, path)
        mon = testlib.Monitor(["-M", "pc", "-m", "64", "-nodefaults", "-drive",
                               f"file={path},format=qcow2,if=ide"])
        try:
            p = testlib.run(["qemu-img", "snapshot", "-l", path],
                            ok_codes=None)
            check(p.returncode != 0 and "lock" in p.stderr,
                  f"QEMU holds the lock: {p.stderr}")
            info = json.loads(run("inspect", "--output=json", path).stdout)
            check_eq([s["name"] for s in info["snapshots"]], ["s1"], "names")
            p = run("extract", path, "-s", "s1", "-o",
                    os.path.join(work, "s1.bin"))
            check_eq(p.returncode, 0, p.stderr)
        finally:
            mon.quit()
    finally:
        shutil.rmtree(work)


def test_bitmaps_extension_is_read():
    work = testlib.workdir("bitmaps")
    try:
        path = os.path.join(work, "bm.qcow2")
        testlib.qemu_img("create", "-q", "-f", "qcow2", path, "16M")
        testlib.qemu_img("bitmap", "--add", path, "b0")
        testlib.qemu_img("bitmap", "--add", path, "b1")
        ours = json.loads(run("inspect", "--output=json", path).stdout)
        theirs = testlib.qemu_img_info(path)
        check_eq(ours["header"]["bitmaps"],
                 len(theirs["format-specific"]["data"]["bitmaps"]), "bitmaps")
        check_eq(ours["header"]["bitmaps"], 2, "bitmaps made")
    finally:
        shutil.rmtree(work)


def test_extract_writes_through_devices_and_fifos_without_replacing_them():
    """-o /dev/null or a FIFO is written in place, never renamed over."""
    fx = next(f for f in fixtures.fixtures()
              if any(s["vm-state-size"] for s in json.loads(run(
                  "inspect", "--output=json", f.path).stdout)["snapshots"]))
    snap = next(s for s in json.loads(run("inspect", "--output=json",
                                          fx.path).stdout)["snapshots"]
                if s["vm-state-size"])
    work = testlib.workdir("devout")
    try:
        plain = os.path.join(work, "plain.bin")
        p = run("extract", fx.path, "-s", snap["id"], "-o", plain)
        check_eq(p.returncode, 0, f"extract to a file: {p.stderr}")
        with open(plain, "rb") as f:
            want = f.read()
        check_eq(len(want), snap["vm-state-size"], "bytes extracted")

        p = run("extract", fx.path, "-s", snap["id"], "-o", "/dev/null")
        check_eq(p.returncode, 0, f"extract -o /dev/null: {p.stderr}")
        st = os.stat("/dev/null")
        check(stat.S_ISCHR(st.st_mode), "/dev/null is no longer a device")

        fifo = os.path.join(work, "fifo")
        os.mkfifo(fifo)
        through = os.path.join(work, "through-fifo.bin")
        with open(through, "wb") as out:
            reader = subprocess.Popen(["cat", fifo], stdout=out)
            p = run("extract", fx.path, "-s", snap["id"], "-o", fifo)
            reader.wait(timeout=60)
        with open(through, "rb") as f:
            got = f.read()
        check_eq(p.returncode, 0, f"extract -o FIFO: {p.stderr}")
        check(stat.S_ISFIFO(os.stat(fifo).st_mode), "the FIFO was replaced")
        check(got == want, "bytes read from the FIFO differ from the file's")

        p = run("extract", fx.path, "-s", snap["id"], "-o", work)
        check_eq(p.returncode, 5, f"extract -o DIRECTORY: {p.stderr}")
        check("Is a directory" in p.stderr, p.stderr)
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    testlib.main([
        test_help_documents_options_json_fields_and_exit_codes,
        test_usage_errors_exit_2,
        test_missing_and_unreadable_files_exit_5,
        test_several_images_give_an_array_and_exit_15_on_partial_failure,
        test_inspect_reads_only_metadata,
        test_extract_1g_vmstate_in_bounded_memory,
        test_encrypted_image_is_listed_but_its_vmstate_refused,
        test_bitmaps_extension_is_read,
        test_inspect_and_extract_work_on_an_image_in_use,
        test_extract_writes_through_devices_and_fifos_without_replacing_them,
    ])
