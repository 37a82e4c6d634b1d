#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`qsnapfix fix` on libvirt save images (docs/savefile.md), made the way
libvirt 0.7, 0.9 and 9.0 wrote them (tests/qsnapfix_tests/savefile.py)
around the project's guest's stream reshaped like qemu-kvm 1.0's, with the
domain XML of an old host (machine pc-1.0, /usr/bin/qemu-kvm):

* the fixed image keeps its header (version, format, was_running; the
  stream offset when the new XML fits), its stream is what `translate`
  makes of the old one, byte for byte, compressed as before; the domain
  XML has the recipe and an emulator that exists; the original is kept as
  FILE.orig (not with --discard-original); a second fix has nothing to do;
* --dry-run writes nothing; an unfinished (LibvirtQemudPart) image is
  refused, untouched, and so is one another fix holds (exit 6); `translate` and `inspect --stream` read the stream
  inside a save image;
* killed before every file-changing call of the fix (LD_PRELOAD), the
  image is the old one or the new one, never anything else, and a new
  run completes it; interrupted there (SIGINT), the fix stops with 130,
  the image old or new, no temporary file and no FILE.orig left behind
  unless the new image is in place.
"""
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET

from qsnapfix_tests import guest_fixture, savefile
from qsnapfix_tests.testlib import BIN, check, check_eq, main, run, skip

EMULATOR = shutil.which("qemu-system-x86_64")
PRELOAD = os.environ.get("SAVEFILE_CRASH_PRELOAD")
CACHE = os.path.join(os.environ.get("QSNAPFIX_CACHE", "/tmp"),
                     "savefile-tests")
# the record a fix leaves in the domain XML has the time: the same in
# every run, so that images fixed by different runs are the same bytes
os.environ["SOURCE_DATE_EPOCH"] = "1700000000"


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def old_stream():
    """The guest's 7.2 stream reshaped like qemu-kvm 1.0's (cached)."""
    if guest_fixture.guest_elf() is None:
        skip("the test guest is not built")
    path = os.path.join(CACHE, "qk10-shaped.mig")
    if os.path.exists(path):
        return path
    os.makedirs(CACHE, exist_ok=True)
    with tempfile.TemporaryDirectory() as w:
        snap = guest_fixture.guest_snapshot(w)
        run([BIN, "oldify", snap.image, "--snapshot", snap.snapshot, "--as",
             "qemu-kvm-1.0"])
        run([BIN, "extract", snap.image, "--snapshot", snap.snapshot, "-o",
             path + ".tmp"])
    os.rename(path + ".tmp", path)
    return path


def make(work, name, **kw):
    xml = savefile.old_domain_xml("vm1", image=os.path.join(work, "disk"),
                                  serial=os.path.join(work, "serial.log"))
    path = os.path.join(work, name)
    savefile.write(path, xml, old_stream(), **kw)
    return path


def fix(path, *args, ok=(0,)):
    p = run([BIN, "fix", path, "--output=json", *args], ok_codes=ok)
    return p.returncode, json.loads(p.stdout)["snapshots"][0]


def stream_of(path, work):
    out = os.path.join(work, "stream-of-" + os.path.basename(path))
    savefile.read_stream(path, out)
    return out


def translated(work):
    out = os.path.join(work, "translated.mig")
    run([BIN, "translate", "--rom-dir", work, old_stream(), out])
    return out


SHAPES = [("v2-0.9-raw", dict()),
          ("v2-0.9-gzip", dict(compression="gzip")),
          ("v2-9.0-xz", dict(compression="xz", layout="libvirt-9.0",
                             cookie="<cookie><cpu/></cookie>")),
          ("v1-0.7-raw", dict(version=1, layout="libvirt-0.7")),
          ("v2-0.9-lzop-paused", dict(compression="lzop", was_running=0))]


def test_fixed_images_keep_their_form_and_carry_the_recipe():
    if not EMULATOR:
        skip("qemu-system-x86_64 is not on PATH")
    with tempfile.TemporaryDirectory(prefix="qsnapfix-save-") as w:
        want_stream = translated(w)
        for name, kw in SHAPES:
            path = make(w, name + ".save", **kw)
            original = sha(path)
            before, _, _, offset = savefile.read_header(path)
            rc, out = fix(path)
            check_eq(out["status"], "fixed", f"{name}: status")
            header, xml, cookie, new_offset = savefile.read_header(path)
            for key in ("magic", "version", "compression", "was_running"):
                check_eq(header[key], before[key], f"{name}: header {key}")
            if kw.get("layout") != "libvirt-0.7":  # room for a longer XML
                check_eq(new_offset, offset, f"{name}: stream offset")
            if "cookie" in kw:
                check_eq(cookie, kw["cookie"], f"{name}: save cookie")
            with open(stream_of(path, w), "rb") as a, \
                    open(want_stream, "rb") as b:
                check(a.read() == b.read(),
                      f"{name}: the stream is not translate's")
            dom = ET.fromstring(xml)
            check_eq(dom.find("os/type").get("machine"), "pc-i440fx-1.4",
                     f"{name}: machine type")
            check_eq(dom.find("devices/emulator").text, EMULATOR,
                     f"{name}: emulator")
            rom = dom.find("devices/interface/rom")
            check(rom is not None and os.path.exists(rom.get("file")),
                  f"{name}: the NIC's ROM: {xml[-600:]}")
            args = [a.get("value") for a in dom.iter(
                "{http://libvirt.org/schemas/domain/qemu/1.0}arg")]
            check("cirrus-vga.vgamem_mb=16" in args,
                  f"{name}: qemu:commandline {args}")
            check_eq(out["write"]["kept-original-as"], path + ".orig",
                     f"{name}: kept as")
            check_eq(sha(path + ".orig"), original, f"{name}: the original")
            check(any("<emulator>" in c for c in out["domain-changes"]),
                  f"{name}: domain changes {out['domain-changes']}")
            fixed = sha(path)
            rc, again = fix(path)
            check_eq(again["status"], "compatible", f"{name}: second run")
            check_eq(sha(path), fixed, f"{name}: bytes after a second run")
            print(f"{name}: fixed ({out['write']['bytes-written']} bytes), "
                  f"second run: nothing to do")


def test_dry_run_partial_and_discard():
    with tempfile.TemporaryDirectory(prefix="qsnapfix-save-") as w:
        path = make(w, "dry.save", compression="gzip")
        before = (sha(path), os.stat(path).st_mtime_ns)
        rc, out = fix(path, "--dry-run")
        check_eq(out["status"], "fixed", "dry run status")
        check_eq((sha(path), os.stat(path).st_mtime_ns), before,
                 "image after --dry-run")
        check_eq(sorted(os.listdir(w)), ["dry.save"], "files after --dry-run")

        part = make(w, "part.save", partial=True)
        digest = sha(part)
        p = run([BIN, "fix", part], ok_codes=(8,))
        check("never finished" in p.stderr, f"partial: {p.stderr}")
        check_eq(sha(part), digest, "partial image after the refusal")

        disc = make(w, "disc.save")
        fix(disc, "--discard-original")
        check(not os.path.exists(disc + ".orig"), "--discard-original kept it")

        # another fix holds the image (its flock from read to rename)
        busy = make(w, "busy.save")
        digest = sha(busy)
        with open(busy, "rb") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            p = run([BIN, "fix", busy], ok_codes=(6,))
        check("another qsnapfix is writing it" in p.stderr, p.stderr)
        check_eq(sha(busy), digest, "a locked image after the refusal")
        print("dry run, partial image, --discard-original, an image another "
              "fix holds: as asked")


def test_translate_and_inspect_read_the_stream_inside():
    with tempfile.TemporaryDirectory(prefix="qsnapfix-save-") as w:
        path = make(w, "vm.save", compression="bzip2")
        out = os.path.join(w, "out.mig")
        run([BIN, "translate", "--rom-dir", w, path, out])
        with open(out, "rb") as a, open(translated(w), "rb") as b:
            check(a.read() == b.read(), "translate FILE.save OUT")
        p = run([BIN, "inspect", "--stream", path, "--output=json"])
        check_eq(json.loads(p.stdout)["writer"]["program"], "qemu-kvm",
                 "inspect --stream FILE.save: writer")


def test_inspect_and_scan_know_a_save_image():
    with tempfile.TemporaryDirectory(prefix="qsnapfix-save-") as w:
        store = os.path.join(w, "qemu", "save")
        os.makedirs(store)
        path = make(store, "vm1.save", compression="gzip")
        p = run([BIN, "inspect", "--output=json", path])
        doc = json.loads(p.stdout)
        check_eq(doc["format"], "libvirt-save", "inspect: format")
        check_eq((doc["header"]["version"], doc["header"]["compression"]),
                 (2, "gzip"), "inspect: header")
        check_eq((doc["domain"]["name"], doc["domain"]["machine"],
                  doc["domain"]["emulator-exists"]),
                 ("vm1", "pc-1.0", False), "inspect: domain")
        check_eq(doc["writer"]["program"], "qemu-kvm", "inspect: writer")
        p = run([BIN, "scan", "--output=json", w], ok_codes=(17,))
        doc = json.loads(p.stdout)
        (im,) = doc["images"]
        check_eq(im["libvirt-save"]["domain"], "vm1", "scan: domain")
        check_eq(im["snapshots"][0]["verdict"], "fixable", "scan: verdict")
        print("inspect and scan: a gzip save image of domain vm1, fixable")


def stopped_runs(name, kw, **env):
    """Fix a fresh image under the crash shim (env: its settings) with
    QSNAPFIX_CRASH_AT = 1, 2, ... until a run is not stopped (its image is
    then checked to be the fixed one): yields (n, path, old, new, process)
    for each stopped run, the image in a directory of its own."""
    env = dict(os.environ, LD_PRELOAD=PRELOAD,
               ASAN_OPTIONS="verify_asan_link_order=0:detect_leaks=0", **env)
    with tempfile.TemporaryDirectory(prefix="qsnapfix-crash-") as w:
        # every run in the same place: the domain XML names the ROM file
        d = os.path.join(w, "run")
        os.mkdir(d)
        fix(make(d, "vm.save", **kw))
        new = sha(os.path.join(d, "vm.save"))
        for n in range(1, 100):
            shutil.rmtree(d)
            os.mkdir(d)
            path = make(d, "vm.save", **kw)
            old = sha(path)
            p = subprocess.run([BIN, "fix", path], env=dict(
                env, QSNAPFIX_CRASH_AT=str(n)), capture_output=True,
                text=True)
            if p.returncode == 0:
                check_eq(sha(path), new, f"{name}: a run not stopped")
                return
            state = sha(path)
            check(state in (old, new),
                  f"{name}: stopped at call {n}: the image is neither the "
                  f"old nor the new one")
            yield n, path, old, new, p
        check(False, f"{name}: no run completed")


def test_a_crash_at_any_write_leaves_the_old_or_the_new_image():
    if not PRELOAD:
        skip("SAVEFILE_CRASH_PRELOAD is not set (run through ctest)")
    for name, kw in (("raw", {}), ("gzip", {"compression": "gzip"})):
        n = 0
        for n, path, _old, new, p in stopped_runs(name, kw):
            check_eq(p.returncode, -9, f"{name}: call {n}: {p.stderr}")
            # a new run completes the fix (or finds it done)
            again = subprocess.run([BIN, "fix", path], capture_output=True)
            check_eq(again.returncode, 0,
                  f"{name}: after the crash at {n}: {again.stderr}")
            check_eq(sha(path), new, f"{name}: after the crash at {n}, fixed")
        print(f"{name}: killed before each of {n} file-changing calls: "
              f"old or new image every time")


def test_an_interrupted_fix_stops_cleanly():
    if not PRELOAD:
        skip("SAVEFILE_CRASH_PRELOAD is not set (run through ctest)")
    for name, kw in (("raw", {}), ("gzip", {"compression": "gzip"})):
        n = stopped = 0
        for n, path, old, new, p in stopped_runs(
                name, kw, QSNAPFIX_CRASH_SIGNAL="2"):
            check_eq(p.returncode, 130, f"{name}: SIGINT at call {n}: "
                     f"{p.stderr}")
            d = os.path.dirname(path)
            left = sorted(f for f in os.listdir(d) if "qsnapfix" in f)
            check_eq(left, [], f"{name}: temporary files left")
            state = sha(path)
            said = ("the save image is the fixed one" if state == new else
                    "the save image is the old one (the new file removed)")
            check(f"interrupted (SIGINT): {said}" in p.stderr, p.stderr)
            check_eq(os.path.exists(path + ".orig"), state == new,
                     f"{name}: FILE.orig after a stop at call {n}")
            stopped += state == old
        check(stopped > 0, f"{name}: no run stopped before the rename")
        print(f"{name}: SIGINT before each of {n} file-changing calls: "
              f"{stopped} runs stopped, the image untouched")


if __name__ == "__main__":
    main([test_fixed_images_keep_their_form_and_carry_the_recipe,
          test_dry_run_partial_and_discard,
          test_translate_and_inspect_read_the_stream_inside,
          test_inspect_and_scan_know_a_save_image,
          test_a_crash_at_any_write_leaves_the_old_or_the_new_image,
          test_an_interrupted_fix_stops_cleanly])
