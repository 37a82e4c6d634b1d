#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`qsnapfix fix PATH...` as a batch, its journal, --resume, undo and
drop-originals, on a store the test builds from images real QEMU made:

* real images of ../shared written by qemu-kvm 1.0 and 1.2 (one with two
  snapshots) and one by QEMU 7.2 that is compatible as it is (skipped
  without ../shared);
* the project's guest saved by QEMU 7.2 (compatible), the same reshaped
  like qemu-kvm 1.0 and 1.2 (`qsnapfix oldify`; one named .img), a
  disk-only image, a text file;
* damaged images: a VM state cut short, a snapshot L1 table past the end
  of the file, the dirty bit;
* an image held by a running qemu-system-x86_64 (in use), and the same
  file reached twice (a symlink and a hard link in another directory).

It checks that -j 1 and -j 4 give the same results; that a batch killed
with SIGKILL at random points (seeded) leaves every image clean for
qemu-img check (a leak at most where a write was cut) with every VM
state byte-identical to the old or the new one, that --resume then ends
exactly where an uninterrupted batch ends with no leak left (it reclaims
them in the images whose write was cut), that `undo --journal` gives
every image its old VM states back (and a second undo finds nothing),
`drop-originals`, `--from-scan` and `--output=jsonl`."""
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time

import batchlib
from batchlib import by_image, check_images, clone_store, fix_batch, states
from qsnapfix_tests import testlib
from qsnapfix_tests.testlib import BIN, check, check_eq, run

CRASHTEST = os.environ.get("QCOW2_CRASHTEST") or os.path.join(
    os.environ.get("QSNAPFIX_BUILD", os.path.join(testlib.SRC, "build")),
    "tests", "qcow2-write", "qcow2-crashtest")
KILL_ROUNDS = int(os.environ.get("QSNAPFIX_BATCH_KILLS", "4"))


class Env:
    template = None  # the store every test clones
    work = None
    old = None       # {(relative path, snapshot): sha256} before any fix
    ref = None       # the uninterrupted batch: by_image() and exit code
    ref_states = None
    ref_seconds = None


ENV = Env()


def rel_states(store, work):
    return {(os.path.relpath(p, store), n): h
            for (p, n), h in states(store, work).items()}


class Holder:
    """A writer holding an image the way QEMU does (QEMU's OFD locks),
    with the fault-injection driver's 'hold' (cheaper than a QEMU)."""

    def __init__(self, image):
        self.p = subprocess.Popen([CRASHTEST, "hold", image],
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        check_eq(self.p.stdout.readline().strip(), "locked", f"hold {image}")

    def release(self):
        self.p.stdin.close()
        self.p.wait(timeout=30)


def setup():
    ENV.work = tempfile.mkdtemp(prefix="qsnapfix-batch-")
    ENV.template = os.path.join(ENV.work, "template")
    batchlib.build_template(ENV.template)
    ENV.old = rel_states(ENV.template, ENV.work)


def fresh(name):
    return clone_store(ENV.template, os.path.join(ENV.work, name))


def reference():
    """The uninterrupted batch (-j 1), once."""
    if ENV.ref is None:
        store = fresh("reference")
        hold = Holder(os.path.join(store, "in-use.qcow2"))
        try:
            t0 = time.time()
            rc, rep = fix_batch("-j", "1", "--keep-original", "--journal",
                                os.path.join(ENV.work, "reference.jsonl"),
                                store)
            ENV.ref_seconds = time.time() - t0
        finally:
            hold.release()
        ENV.ref = (by_image(rep, store), rc)
        ENV.ref_states = rel_states(store, ENV.work)
        shutil.rmtree(store)
    return ENV.ref


def damaged_untouched(store, what):
    """The damaged images are never written."""
    for f in sorted(os.listdir(os.path.join(store, "damaged"))):
        check_eq(testlib.sha256_file(os.path.join(store, "damaged", f)),
                 testlib.sha256_file(os.path.join(ENV.template, "damaged", f)),
                 f"{what}: damaged/{f} was written")


def expect_state_old_or_new(states_now, what):
    """Every VM state is the old one or the reference's new one."""
    for key, h in states_now.items():
        old, new = ENV.old.get(key), ENV.ref_states.get(key)
        if key[1].endswith(".orig"):
            base = (key[0], key[1][:-5])
            check_eq(h, ENV.old[base], f"{what}: {key}: the kept original")
            continue
        check(h in (old, new), f"{what}: {key}: VM state {h} is neither the "
                               f"old {old} nor the new {new}")


def leaking(journal_path, store):
    """Images whose write a kill may have cut: a 'begin' without its
    'done' (leaked clusters are allowed there)."""
    begun, done = set(), set()
    for e in batchlib.journal(journal_path):
        key = (e.get("image"), (e.get("snapshot") or {}).get("id"))
        if e["step"] == "begin":
            begun.add(key)
        elif e["step"] == "done":
            done.add(key)
    return {os.path.realpath(k[0]) for k in begun - done}


# ---------------------------------------------------------------------------


def test_batch_j1_and_j4_agree_and_report_every_kind_of_image():
    ref, rc = reference()
    check_eq(rc, 15, "batch exit code (some images skipped or failed)")
    want = {
        "guest/qemu-7.2.qcow2": "compatible",
        "guest/qk10-guest.qcow2": "fixed",
        "guest/qk12-guest.img": "fixed",
        "guest/disk-only.qcow2": "compatible",
        "damaged/stream-cut-short.qcow2": "failed",
        "damaged/l1-past-eof.qcow2": "failed",
        "damaged/dirty.qcow2": "skipped",
        "in-use.qcow2": "skipped",
    }
    if batchlib.real_images():
        want.update({"real/qk10-a-default.qcow2": "fixed",
                     "real/qk12-a-default.qcow2": "fixed",
                     "real/qk10-f1-twosnaps.qcow2": "fixed",
                     "real/m72k-a-pc-i440fx-1.4.qcow2": "compatible"})
    check_eq({k: v[0] for k, v in ref.items()}, want, "image statuses")
    check_eq(ref["in-use.qcow2"][1], 6, "in use: exit code")
    check_eq(ref["damaged/dirty.qcow2"][1], 7, "dirty: exit code")
    check_eq(ref["damaged/stream-cut-short.qcow2"][2]["s1"][0], "error",
             "a VM state cut short: the snapshot's status")

    store = fresh("j4")
    in_use = os.path.join(store, "in-use.qcow2")
    before = testlib.file_fingerprint(in_use)
    qemu = testlib.Monitor(["-S", "-M", "pc", "-m", "64", "-nodefaults",
                            "-drive", f"file={in_use},format=qcow2,if=ide"])
    try:
        rc4, rep4 = fix_batch("-j", "4", "--keep-original", "--journal",
                              os.path.join(ENV.work, "j4.jsonl"), store)
        check("paused" in qemu.cmd("info status"),
              "the QEMU holding in-use.qcow2 is undisturbed")
    finally:
        qemu.quit()
    check_eq(testlib.file_fingerprint(in_use), before,
             "the image in use is not written")
    check_eq(rc4, rc, "-j 4 exit code")
    check_eq(by_image(rep4, store), ref, "-j 4 results (statuses, new "
                                         "SHA-256 of every VM state)")
    skipped = {os.path.relpath(s["path"], store): s["reason"]
               for s in rep4["skipped"]}
    check(skipped["mirror/alias.qcow2"].startswith("the same file as")
          and skipped["mirror/hardlink.qcow2"].startswith(
              "the same file as"),
          f"the same file reached twice is fixed once: {skipped}")
    check_eq(rel_states(store, ENV.work), ENV.ref_states,
             "-j 4: every VM state")
    check_images(store, "-j 4")
    damaged_untouched(store, "-j 4")
    s = rep4["summary"]
    check_eq((s["snapshots"]["fixed"], s["fixed"]),
             (sum(1 for v in ref.values() for x in v[2].values()
                  if x[0] == "fixed"),
              sum(1 for v in ref.values() if v[0] == "fixed")),
             "summary: fixed snapshots and images")
    check(s["bytes-written"] > 0 and s["writers"], f"summary: {s}")
    shutil.rmtree(store)


def test_fixed_images_keep_a_record_and_originals_are_not_fixed_again():
    reference()
    store = fresh("records")
    img = os.path.join(store, "guest", "qk10-guest.qcow2")
    run([BIN, "fix", img, "--keep-original"])
    doc = testlib.qsnapfix_json("scan", img)
    verdicts = {s["name"]: s["verdict"] for s in doc["images"][0]["snapshots"]}
    check_eq(verdicts, {"s1": "compatible", "s1.orig": "original"},
             "scan after a fix that kept the original")
    check_eq(doc["exit-code"], 0, "scan: nothing needs fixing")
    rec = {s["name"]: s.get("record") for s in doc["images"][0]["snapshots"]}
    check_eq(rec["s1"]["kind"], "fix", "the fixed snapshot's record")
    check(rec["s1"]["rules"] and rec["s1"]["target"] == "qemu-7.2" and
          rec["s1"]["recipe"].startswith("-M "), f"record: {rec['s1']}")
    check_eq(rec["s1.orig"]["original-of"], {"id": "1", "name": "s1"},
             "the original's mark")
    p = run([BIN, "fix", img], ok_codes=(0,))
    check("compatible" in p.stdout, f"fix IMAGE again: {p.stdout}")
    p = run([BIN, "fix", img, "--all", "-n"], ok_codes=(0,))
    check("s1.orig" not in p.stdout, "fix --all -n leaves the original be")
    p = run([BIN, "fix", img, "--snapshot", "s1.orig"], ok_codes=(2,))
    check("original" in p.stderr, f"fix --snapshot ORIGINAL: {p.stderr}")
    info = testlib.run(["qemu-img", "info", "--output=json", img]).stdout
    check('"s1.orig"' in info, "qemu-img lists both snapshots")
    shutil.rmtree(store)


def test_killed_batch_resumes_to_the_same_end_state_and_undoes():
    ref, ref_rc = reference()
    rng = random.Random(20251204)
    span = max(ENV.ref_seconds, 1.0)
    for round_ in range(KILL_ROUNDS):
        store = fresh(f"kill{round_}")
        jpath = os.path.join(ENV.work, f"kill{round_}.jsonl")
        hold = Holder(os.path.join(store, "in-use.qcow2"))
        delay = rng.uniform(0.05, span)
        what = f"kill -9 after {delay:.2f}s (round {round_})"
        try:
            p = subprocess.Popen([BIN, "fix", "-j", "2", "--keep-original",
                                  "--journal", jpath, store],
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            time.sleep(delay)
            p.send_signal(signal.SIGKILL)
            p.wait()
            cut = leaking(jpath, store)
            check_images(store, what, allow_leaks=cut)
            damaged_untouched(store, what)
            expect_state_old_or_new(rel_states(store, ENV.work), what)

            rc, rep = fix_batch("--resume", jpath)
            check_eq(rc, ref_rc, f"{what}: --resume exit code")
            got = by_image(rep, store)
            check_eq({k: (v[0], v[1]) for k, v in got.items()},
                     {k: (v[0], v[1]) for k, v in ref.items()},
                     f"{what}: --resume: image statuses")
            check_eq(rel_states(store, ENV.work), ENV.ref_states,
                     f"{what}: --resume: every VM state as the "
                     f"uninterrupted batch left it")
            # The resumed batch reclaims what the cut writes leaked.
            check_images(store, f"{what}: after --resume")
            reclaimed = {os.path.realpath(im["image"]): im["leaks-reclaimed"]
                         for im in rep["images"] if "leaks-reclaimed" in im}
            check_eq(set(reclaimed), cut,
                     f"{what}: --resume reclaims in the images cut")
            rc2, rep2 = fix_batch("--resume", jpath)
            check(all(im["from-journal"] for im in rep2["images"]),
                  f"{what}: a second --resume touches nothing")
        finally:
            hold.release()

        p = run([BIN, "undo", "--journal", jpath, "--output=json"])
        undo = testlib.json.loads(p.stdout)
        check_eq(undo["exit-code"], 0, f"{what}: undo --journal")
        now = rel_states(store, ENV.work)
        check_eq(now, {k: v for k, v in ENV.old.items()},
                 f"{what}: after undo every VM state is the old one")
        check_images(store, f"{what}: after undo")
        damaged_untouched(store, f"{what}: after undo")
        p = run([BIN, "undo", "--journal", jpath, "--output=json"])
        again = testlib.json.loads(p.stdout)
        check_eq((again["summary"]["done"], again["exit-code"]), (0, 0),
                 f"{what}: a second undo has nothing to do")
        steps = [e["step"] for e in batchlib.journal(jpath)]
        check(steps[0] == "batch" and "resume" in steps and "end" in steps
              and "undo" in steps, f"{what}: journal steps {set(steps)}")
        print(f"     {what}: {len(cut)} write(s) cut, "
              f"{sum(reclaimed.values())} leaked cluster(s) reclaimed, "
              f"resumed and undone")
        shutil.rmtree(store)


def test_drop_originals_releases_them_and_undo_then_has_nothing():
    reference()
    store = fresh("drop")
    jpath = os.path.join(ENV.work, "drop.jsonl")
    hold = Holder(os.path.join(store, "in-use.qcow2"))
    try:
        fix_batch("--keep-original", "--journal", jpath, store)
    finally:
        hold.release()
    p = run([BIN, "drop-originals", "--journal", jpath, "-n"])
    check("would be dropped" in p.stdout, f"dry run: {p.stdout}")
    check(any(k[1].endswith(".orig") for k in rel_states(store, ENV.work)),
          "a dry run drops nothing")
    run([BIN, "drop-originals", "--journal", jpath])
    now = rel_states(store, ENV.work)
    check(not any(k[1].endswith(".orig") for k in now),
          f"originals left: {sorted(now)}")
    check_eq(now, {k: v for k, v in ENV.ref_states.items()
                   if not k[1].endswith(".orig")},
             "the fixed VM states are untouched")
    check_images(store, "after drop-originals")
    p = run([BIN, "undo", "--journal", jpath, "--output=json"])
    doc = testlib.json.loads(p.stdout)
    check_eq((doc["summary"]["done"], doc["exit-code"]), (0, 0),
             "undo without originals has nothing to do")
    p = run([BIN, "drop-originals", os.path.join(store, "guest")])
    check("0 done" in p.stdout, f"a second drop: {p.stdout}")
    shutil.rmtree(store)


def test_from_scan_fixes_exactly_what_the_scan_marked_and_jsonl_streams():
    reference()
    store = fresh("from-scan")
    hold = Holder(os.path.join(store, "in-use.qcow2"))
    try:
        p = run([BIN, "scan", "--output=jsonl", store], ok_codes=(15,))
        lines = [testlib.json.loads(x) for x in p.stdout.splitlines()]
        report = os.path.join(ENV.work, "scan.jsonl")
        with open(report, "w") as f:
            f.write(p.stdout)
        fixable = {(os.path.relpath(im["path"], store), s["id"])
                   for im in lines if "snapshots" in im
                   for s in im["snapshots"] if s["verdict"] == "fixable"}
        check(fixable, "the scan found fixable snapshots")
        p = run([BIN, "fix", "--from-scan", report, "--output=jsonl"],
                ok_codes=(0, 15))
    finally:
        hold.release()
    out = [testlib.json.loads(x) for x in p.stdout.splitlines()]
    check("summary" in out[-1] and "exit-code" in out[-1],
          "the last JSONL line is the summary")
    done = {(os.path.relpath(im["image"], store), s["id"])
            for im in out[:-1] if "snapshots" in im
            for s in im["snapshots"] if s["status"] == "fixed"}
    # in use and dirty images are fixable for scan but skipped by fix
    blocked = {k for k in fixable
               if k[0] in ("in-use.qcow2", "damaged/dirty.qcow2")}
    check_eq(done, fixable - blocked, "fixed = what the scan marked")
    for im in out[:-1]:
        rel = os.path.relpath(im.get("image", im.get("path")), store)
        check(any(k[0] == rel for k in fixable),
              f"{rel}: not in the scan's plan, yet in the batch")
    shutil.rmtree(store)


if __name__ == "__main__":
    if not os.path.isfile(CRASHTEST):
        testlib.skip(f"{CRASHTEST} not built")
    setup()
    try:
        testlib.main([
            test_batch_j1_and_j4_agree_and_report_every_kind_of_image,
            test_fixed_images_keep_a_record_and_originals_are_not_fixed_again,
            test_killed_batch_resumes_to_the_same_end_state_and_undoes,
            test_drop_originals_releases_them_and_undo_then_has_nothing,
            test_from_scan_fixes_exactly_what_the_scan_marked_and_jsonl_streams,
        ])
    finally:
        shutil.rmtree(ENV.work, ignore_errors=True)
