#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`qsnapfix fix` and `translate` end to end without ../shared: the
project's test guest is saved by QEMU 7.2 (-M pc-i440fx-1.4), reshaped like
a qemu-kvm snapshot by `qsnapfix oldify` (the rules backwards), refused by
QEMU 7.2, fixed, and seen to resume. Between them the cases exercise every
rule that edits the stream on a stream QEMU really wrote: R1, R2, R3, R4
(setting and --shrink-vram), R6, R8, R9, R10 (the qxl ROM cut), R16,
R17, R24 (the qxl revision) and the hpet setting."""
import os
import shutil
import tempfile

from qsnapfix_tests import fixlib
from qsnapfix_tests.fixlib import check, check_eq
from qsnapfix_tests import guest_fixture
from qsnapfix_tests import resume
from qsnapfix_tests.testlib import BIN, main, run, skip

BASE = guest_fixture.GUEST_DEVICE_ARGS
USB_BALLOON = (*BASE, "-usb", "-device", "usb-tablet", "-device",
               "virtio-balloon-pci")
SEABIOS = "/usr/share/seabios/bios.bin"
QXL = ("-m", "128", "-hda", "@IMAGE@", "-vga", "qxl", "-net",
       "nic,model=rtl8139", "-net", "user")
QXL_PFLASH = (*QXL, "-drive",
              f"if=pflash,format=raw,readonly=on,file={SEABIOS}")


def rules_of(snap_report):
    return {(r["id"], r["action"]) for r in snap_report["rules"]}


def fix_and_resume(snap, device_args, load_args, *, expect_rules,
                   fix_args=()):
    """Unfixed: refused by QEMU 7.2. Dry run: nothing written, the plan of
    the real run. Real run: fixed, clean, resumes; a second run: nothing
    to do. Returns the report of the fixed snapshot."""
    image, name, saved = snap.image, snap.snapshot, snap.saved_counter
    unfixed = fixlib.load(device_args, image, name,
                          {"machine": guest_fixture.GUEST_MACHINE,
                           "accel": None, "qemu-args": []}, counters=1,
                          timeout=20)
    check(not unfixed.loaded, f"unfixed snapshot loaded: {unfixed.summary()}")
    print(f"unfixed: {unfixed.summary()}")

    before = fixlib.file_fingerprint(image)
    rc, dry, _ = fixlib.fix(image, *fix_args, "--dry-run")
    check_eq(rc, 0, "--dry-run exit code")
    check_eq(fixlib.file_fingerprint(image), before, "image after --dry-run")
    for f in dry["snapshots"][0]["recipe"]["files"]:
        check(not os.path.exists(f["path"]), f"--dry-run wrote {f['path']}")

    rc, rep, _ = fixlib.fix(image, *fix_args)
    check_eq(rc, 0, "fix exit code")
    s = fixlib.by_name(rep)[name]
    fixlib.check_dry_run_matches(dry["snapshots"][0], s, name)
    missing = expect_rules - rules_of(s)
    check(not missing, f"rules that did not fire: {sorted(missing)}; fired: "
                       f"{sorted(rules_of(s))}")
    for f in s["recipe"]["files"]:
        check_eq(os.path.getsize(f["path"]), f["length"],
                 f"recipe file {f['path']}")
    fixlib.check_clean(image)

    r = fixlib.load(load_args, image, name, s["recipe"])
    print(f"fixed ({' '.join(s['recipe']['qemu-args'])}): {r.summary()}")
    ok, why = resume.judge_resume(r, saved + 1, saved + 3, min_counters=3)
    check(ok, f"{why}; stderr: {r.stderr[-400:]}")

    fixed = fixlib.file_fingerprint(image)
    rc, again, _ = fixlib.fix(image, *fix_args)
    check_eq((rc, again["snapshots"][0]["status"], again["changed"]),
             (0, "compatible", False), "second fix")
    check_eq(fixlib.file_fingerprint(image), fixed, "image after a second fix")
    return s


def fix_one_rule(snap, device_args, rule, qemu_error):
    """The stream differs from 7.2's own in one place: unfixed, QEMU 7.2
    fails with qemu_error; fixed (by exactly `rule`), it resumes."""
    r = fixlib.load(device_args, snap.image, snap.snapshot,
                    {"machine": guest_fixture.GUEST_MACHINE, "accel": None,
                     "qemu-args": []}, counters=1, timeout=20)
    check(not r.loaded and qemu_error in r.error,
          f"unfixed: {r.summary()}")
    rc, rep, _ = fixlib.fix(snap.image)
    s = rep["snapshots"][0]
    check_eq([x["id"] for x in s["rules"]], [rule], "rules that fired")
    r = fixlib.load(device_args, snap.image, snap.snapshot, s["recipe"])
    ok, why = resume.judge_resume(r, snap.saved_counter + 1,
                                  snap.saved_counter + 3, min_counters=3)
    check(ok, why)
    print(f"{rule} alone: unfixed '{qemu_error}', fixed: {r.summary()}")


def test_r8_alone_is_needed_and_enough():
    wd = tempfile.mkdtemp(prefix="qsnapfix-e2e-r8-")
    try:
        snap = guest_fixture.guest_snapshot(wd)
        fixlib.oldify(snap.image, snap.snapshot, "--as", "keep",
                      "--ram-id-zero")
        fix_one_rule(snap, BASE, "R8", "timer: incoming version_id 0 is too "
                                       "old")
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def test_r16_alone_is_needed_and_enough():
    import json
    devices = (*BASE, "-device", "virtio-balloon-pci")
    wd = tempfile.mkdtemp(prefix="qsnapfix-e2e-r16-")
    try:
        snap = guest_fixture.guest_snapshot(wd, device_args=devices)
        p = run([BIN, "inspect", snap.image, "-s", snap.snapshot,
                 "--output=json"])
        balloon = [x for x in json.loads(p.stdout)["sections"]
                   if (x.get("idstr") or "").endswith("/virtio-balloon")][0]
        edits = os.path.join(wd, "class.edits")
        with open(edits, "w") as f:
            # PCI config class word (config 0x0a, after the LE32 version):
            # 0x00ff -> 0x0500, what qemu-kvm 0.15/1.0 wrote
            f.write(f"{balloon['payload-offset'] + 14} 2 0005\n")
        run([BIN, "splice", snap.image, "-s", snap.snapshot, "-e", edits])
        fix_one_rule(snap, devices, "R16", "Bad config data: i=0xa")
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def test_qemu_kvm_10_shape_with_usb_balloon_and_ram_id_0():
    wd = tempfile.mkdtemp(prefix="qsnapfix-e2e-fix10-")
    try:
        snap = guest_fixture.guest_snapshot(wd, device_args=USB_BALLOON)
        print(fixlib.oldify(snap.image, snap.snapshot, "--as",
                            "qemu-kvm-1.0", "--ram-id-zero"))
        s = fix_and_resume(snap, USB_BALLOON, USB_BALLOON, expect_rules={
            ("R1", "edit"), ("R2", "edit"), ("R3", "edit"), ("R8", "edit"),
            ("R9", "edit"), ("R16", "edit"), ("R4", "setting"),
            ("R6", "setting")})
        # Saved under TCG: the reshaped vapic is still active, but a zero
        # TSC says TCG (a KVM vCPU always saves a running TSC).
        check_eq((s["writer"]["program"], s["writer"]["version"],
                  s["writer"]["accel"]), ("qemu-kvm", "1.0", "tcg"),
                 "writer of the reshaped TCG snapshot")
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def test_qemu_kvm_12_shape_with_flash_bios_and_qxl():
    if not os.path.isfile(SEABIOS):
        skip(f"{SEABIOS} is missing (Debian package seabios)")
    wd = tempfile.mkdtemp(prefix="qsnapfix-e2e-fix12-")
    try:
        snap = guest_fixture.guest_snapshot(wd, device_args=QXL_PFLASH)
        print(fixlib.oldify(snap.image, snap.snapshot, "--as",
                            "qemu-kvm-1.2"))
        # loaded without the original pflash drive: the recipe brings one
        # holding the BIOS bytes of the stream
        s = fix_and_resume(snap, QXL_PFLASH, QXL, expect_rules={
            ("R1", "edit"), ("R17", "edit"), ("R10", "edit"),
            ("R24", "setting"), ("hpet", "setting")})
        args = s["recipe"]["qemu-args"]
        check("qxl-vga.revision=3" in args, f"qxl revision in {args}")
        check("hpet=off" in args, f"hpet=off in {args}")
        flash = [f for f in s["recipe"]["files"] if f["kind"] == "pflash"]
        check_eq([(f["block"], f["length"]) for f in flash],
                 [("system.flash0", 128 * 1024)], "pflash file")
        with open(flash[0]["path"], "rb") as a, open(SEABIOS, "rb") as b:
            check(a.read() == b.read(), "the extracted flash is the BIOS "
                                        "the guest booted")
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def test_shrink_vram_instead_of_vgamem():
    wd = tempfile.mkdtemp(prefix="qsnapfix-e2e-shrink-")
    try:
        snap = guest_fixture.guest_snapshot(wd)
        fixlib.oldify(snap.image, snap.snapshot, "--as", "qemu-kvm-1.0")
        s = fix_and_resume(snap, BASE, BASE, fix_args=("--shrink-vram",),
                           expect_rules={("R4", "edit")})
        check(not any("vgamem" in a for a in s["recipe"]["qemu-args"]),
              f"no vgamem setting after a shrink: {s['recipe']['qemu-args']}")
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def test_translate_raw_stream_file():
    wd = tempfile.mkdtemp(prefix="qsnapfix-e2e-translate-")
    try:
        snap = guest_fixture.guest_snapshot(wd)
        fixlib.oldify(snap.image, snap.snapshot, "--as", "qemu-kvm-1.0")
        old = os.path.join(wd, "old.mig")
        new = os.path.join(wd, "new.mig")
        run([BIN, "extract", snap.image, "-s", snap.snapshot, "-o", old])
        p = run([BIN, "translate", old, new, "--dry-run"])
        check(not os.path.exists(new), "--dry-run wrote OUT")
        check("would fix" in p.stdout, f"dry run report: {p.stdout}")
        import json
        p = run([BIN, "translate", old, new, "--output=json"])
        rep = json.loads(p.stdout)["snapshots"][0]
        check_eq(rep["status"], "fixed", "translate status")
        check_eq(os.path.getsize(new), rep["vm-state-size"]["new"],
                 "OUT size")
        args = guest_fixture.image_args(BASE, snap.image)
        r = resume.resume(args, incoming=new,
                          machine=rep["recipe"]["machine"],
                          extra=rep["recipe"]["qemu-args"], timeout=40)
        print(f"-incoming the translated stream: {r.summary()}")
        ok, why = resume.judge_resume(r, snap.saved_counter + 1,
                                      snap.saved_counter + 3, min_counters=3)
        check(ok, why)
        again = os.path.join(wd, "again.mig")
        p = run([BIN, "translate", new, again], ok_codes=(0,))
        with open(new, "rb") as a, open(again, "rb") as b:
            check(a.read() == b.read(), "nothing to do: OUT is a copy")
        p = run([BIN, "translate", old, old], ok_codes=(2,))
        check("same file" in p.stderr, f"IN = OUT: {p.stderr}")
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def test_keep_original_and_other_snapshots_untouched():
    wd = tempfile.mkdtemp(prefix="qsnapfix-e2e-keep-")
    try:
        snap = guest_fixture.guest_snapshot(wd)
        guest_fixture.take_snapshot(snap.image, wd, name="s2", counter=5)
        for s in ("s1", "s2"):
            fixlib.oldify(snap.image, s, "--as", "qemu-kvm-1.0")
        old_s1 = fixlib.vmstate_sha256(snap.image, "s1")
        old_s2 = fixlib.vmstate_sha256(snap.image, "s2")
        p = run([BIN, "fix", snap.image], ok_codes=(21,))
        check("--snapshot or use --all" in p.stderr,
              f"two snapshots: {p.stderr}")
        rc, rep, _ = fixlib.fix(snap.image, "--snapshot", "s1",
                                "--keep-original")
        s = fixlib.by_name(rep)["s1"]
        check_eq(s["write"]["kept-original-as"], "s1.orig", "kept as")
        check_eq(fixlib.vmstate_sha256(snap.image, "s1.orig"), old_s1,
                 "the kept original's VM state")
        check_eq(fixlib.vmstate_sha256(snap.image, "s2"), old_s2,
                 "the other snapshot's VM state")
        check(fixlib.vmstate_sha256(snap.image, "s1") != old_s1,
              "s1 was rewritten")
        fixlib.check_clean(snap.image)
        r = fixlib.load(BASE, snap.image, "s1", s["recipe"])
        ok, why = resume.judge_resume(r, snap.saved_counter + 1,
                                      snap.saved_counter + 3, min_counters=3)
        check(ok, why)
        r = fixlib.load(BASE, snap.image, "s1.orig", s["recipe"], counters=1,
                        timeout=20)
        check(not r.loaded, f"the kept original loaded: {r.summary()}")
        # --all now fixes s2 and leaves s1 and the kept original (marked
        # as such in its table entry) alone
        rc, rep, _ = fixlib.fix(snap.image, "--all", "--dry-run", ok=(0,))
        check_eq({x["name"]: x["status"] for x in rep["snapshots"]},
                 {"s1": "compatible", "s2": "fixed"},
                 "--all --dry-run")
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def test_image_in_use_is_not_touched():
    """A running QEMU holds the image: fix refuses with exit code 6 and
    writes nothing; --dry-run still reports."""
    wd = tempfile.mkdtemp(prefix="qsnapfix-e2e-inuse-")
    try:
        snap = guest_fixture.guest_snapshot(wd)
        fixlib.oldify(snap.image, snap.snapshot, "--as", "qemu-kvm-1.0")
        before = fixlib.file_fingerprint(snap.image)
        args = [*guest_fixture.image_args(BASE, snap.image), "-S"]
        with resume.Qemu(args, wd, machine=guest_fixture.GUEST_MACHINE) as q:
            check(q.connect(), f"QEMU did not start: {q.stderr()}")
            p = run([BIN, "fix", snap.image], ok_codes=(6,))
            check("in use" in p.stderr or "lock" in p.stderr,
                  f"message: {p.stderr}")
            rc, dry, _ = fixlib.fix(snap.image, "--dry-run", ok=(0,))
            check_eq(dry["snapshots"][0]["status"], "fixed", "dry run")
        check_eq(fixlib.file_fingerprint(snap.image), before,
                 "image after a refused fix")
    finally:
        shutil.rmtree(wd, ignore_errors=True)


if __name__ == "__main__":
    if guest_fixture.guest_elf() is None:
        skip("the test guest is not built (QSNAPFIX_GUEST)")
    main([test_r8_alone_is_needed_and_enough,
          test_r16_alone_is_needed_and_enough,
          test_qemu_kvm_10_shape_with_usb_balloon_and_ram_id_0,
          test_qemu_kvm_12_shape_with_flash_bios_and_qxl,
          test_shrink_vram_instead_of_vgamem,
          test_translate_raw_stream_file,
          test_keep_original_and_other_snapshots_untouched,
          test_image_in_use_is_not_touched])
