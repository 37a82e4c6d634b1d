#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Save images in a store, as `fix DIR`, `scan`, `undo` and
`drop-originals` meet them (a directory like libvirt's qemu/save/ with
two images of the guest's stream reshaped like qemu-kvm 1.0's, gzip and
raw, made as in test_fix_savefile.py):

* `fix DIR --journal J` fixes both, keeps FILE.orig, leaves the record
  (with the batch's id) in each domain's <metadata>; scan then calls the
  images compatible and the FILE.orig files originals; a second batch has
  nothing to do and leaves the originals alone;
* `undo --journal J` puts the originals back (byte for byte what was
  there before, checked against the journal's SHA-256);
* `drop-originals DIR` removes them; `undo DIR` then has nothing to do;
* a batch killed before each of its file-changing calls (the crash shim)
  and continued with `fix --resume J` ends as an uninterrupted one: each
  image fixed once, by that batch, its stream translate's, its original
  the old image, no FILE.orig.1.
"""
import json
import os
import shutil
import subprocess
import tempfile

import test_fix_savefile as tfs
from qsnapfix_tests import savefile
from qsnapfix_tests.testlib import BIN, check, check_eq, main, run, skip

IMAGES = (("vm1.save", {"compression": "gzip"}), ("vm2.save", {}))


def store(work):
    d = os.path.join(work, "save")
    os.mkdir(d)
    for name, kw in IMAGES:
        tfs.make(d, name, **kw)
    return d


def record(path):
    doc = json.loads(run([BIN, "inspect", path, "--output=json"]).stdout)
    return doc.get("record"), doc.get("original-of")


def batch_id(journal):
    with open(journal) as f:
        return json.loads(f.readline())["batch"]


def stream_sha(path, work):
    out = os.path.join(work, "stream")
    savefile.read_stream(path, out)
    digest = tfs.sha(out)
    os.unlink(out)
    return digest


def test_a_store_of_save_images_is_fixed_undone_and_dropped():
    if not tfs.EMULATOR:
        skip("qemu-system-x86_64 is not on PATH")
    with tempfile.TemporaryDirectory(prefix="qsnapfix-batch-") as w:
        d = store(w)
        old = {n: tfs.sha(os.path.join(d, n)) for n, _ in IMAGES}
        journal = os.path.join(w, "fix.journal")
        p = run([BIN, "fix", d, "--journal", journal])
        check("2 fixed" in p.stdout, p.stdout)
        check("virsh restore" in p.stdout, p.stdout)
        for name, _ in IMAGES:
            path = os.path.join(d, name)
            rec, _ = record(path)
            check_eq((rec["kind"], rec["batch"], rec["kept-as"]),
                     ("fix", batch_id(journal), name + ".orig"),
                     f"{name}: record")
            check_eq(tfs.sha(path + ".orig"), old[name], f"{name}: original")
            _, of = record(path + ".orig")
            check_eq(of, path, f"{name}.orig: original of")
        doc = json.loads(run([BIN, "scan", d, "--output=json"]).stdout)
        verdicts = {os.path.basename(im["path"]):
                    im["snapshots"][0]["verdict"] for im in doc["images"]
                    if "snapshots" in im}
        check_eq(verdicts, {"vm1.save": "compatible",
                            "vm1.save.orig": "original",
                            "vm2.save": "compatible",
                            "vm2.save.orig": "original"}, "scan verdicts")
        fixed = {n: tfs.sha(os.path.join(d, n)) for n, _ in IMAGES}
        p = run([BIN, "fix", d])
        check("0 fixed, 2 compatible" in p.stdout, p.stdout)
        check_eq({n: tfs.sha(os.path.join(d, n)) for n, _ in IMAGES}, fixed,
                 "images after a second batch")
        check_eq({n: tfs.sha(os.path.join(d, n + ".orig")) for n, _ in IMAGES},
                 old, "originals after a second batch")

        p = run([BIN, "undo", "--journal", journal])
        check("2 done" in p.stdout, p.stdout)
        check_eq({n: tfs.sha(os.path.join(d, n)) for n, _ in IMAGES}, old,
                 "images after undo")
        check_eq(sorted(f for f in os.listdir(d) if ".orig" in f), [],
                 "originals after undo")
        print("fix DIR: 2 fixed, originals kept and marked; undo --journal: "
              "the old images back byte for byte")

        run([BIN, "fix", d])
        p = run([BIN, "drop-originals", d])
        check("2 done, 0 with nothing to do" in p.stdout, p.stdout)
        check_eq(sorted(f for f in os.listdir(d) if ".orig" in f), [],
                 "originals after drop-originals")
        p = run([BIN, "undo", d])
        check("0 done, 2 with nothing to do" in p.stdout, p.stdout)
        print("drop-originals DIR: 2 removed; undo DIR: nothing to do")


def test_a_killed_batch_resumes_to_the_same_end():
    if not tfs.PRELOAD:
        skip("SAVEFILE_CRASH_PRELOAD is not set (run through ctest)")
    env = dict(os.environ, LD_PRELOAD=tfs.PRELOAD,
               ASAN_OPTIONS="verify_asan_link_order=0:detect_leaks=0")
    with tempfile.TemporaryDirectory(prefix="qsnapfix-batch-") as w:
        d = store(w)
        old = {n: tfs.sha(os.path.join(d, n)) for n, _ in IMAGES}
        run([BIN, "fix", d])
        want = {n: stream_sha(os.path.join(d, n), w) for n, _ in IMAGES}
        shutil.rmtree(d)
        n = 0
        while True:
            n += 1
            d = store(w)
            journal = os.path.join(w, "fix.journal")
            p = subprocess.run([BIN, "fix", d, "--journal", journal],
                               env=dict(env, QSNAPFIX_CRASH_AT=str(n)),
                               capture_output=True, text=True)
            if p.returncode == 0:
                break
            check_eq(p.returncode, -9, f"call {n}: {p.stderr}")
            if os.path.exists(journal) and os.path.getsize(journal):
                p = run([BIN, "fix", "--resume", journal])
                bid = batch_id(journal)
            else:  # killed before the journal's first line: start again
                p = run([BIN, "fix", d, "--journal", journal])
                bid = batch_id(journal)
            for name, _ in IMAGES:
                path = os.path.join(d, name)
                rec, _ = record(path)
                check_eq((rec["kind"], rec["batch"]), ("fix", bid),
                         f"call {n}: {name}: record")
                check_eq(stream_sha(path, w), want[name],
                         f"call {n}: {name}: stream")
                check_eq(tfs.sha(path + ".orig"), old[name],
                         f"call {n}: {name}: original")
            left = sorted(f for f in os.listdir(d)
                          if ".orig." in f or "qsnapfix" in f)
            check_eq(left, [], f"call {n}: files left")
            with open(journal) as f:
                last = json.loads(f.read().splitlines()[-1])
            check_eq(last["step"], "end", f"call {n}: the journal's end")
            shutil.rmtree(d)
            os.unlink(journal)
        print(f"killed before each of {n - 1} file-changing calls, then "
              f"--resume: both images fixed once by the batch, originals "
              f"kept")


if __name__ == "__main__":
    main([test_a_store_of_save_images_is_fixed_undone_and_dropped,
          test_a_killed_batch_resumes_to_the_same_end])
