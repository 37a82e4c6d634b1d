#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""libvirt save images with a real libvirtd (Debian 12: libvirt 9.0, QEMU
7.2), private as in the other tests here:

* `virsh save` files of an old host, built from the real qemu-kvm 1.0 and
  1.2 streams of ../shared as libvirt 0.9 wrote them (domain XML of that
  host: machine pc-1.0/pc-1.2, /usr/bin/qemu-kvm; raw and compressed):
  `virsh restore` fails on libvirt's own checks first (the emulator), and
  on QEMU's error once a user has made the emulator and machine type
  valid; `qsnapfix fix FILE` makes the same file restore, and the guest's
  counter continues where it was saved (the manifest's range), no reboot;
* a managed save (`virsh managedsave`) of the project's guest, reshaped
  like qemu-kvm 1.0 by `qsnapfix oldify` (the stream, and the domain XML an
  old host had): `virsh start` fails; `qsnapfix fix` on the file in
  libvirt's qemu/save/; `virsh start` brings the guest back counting.
"""
import os
import shutil
import tempfile

import lvlib
from lvlib import Libvirtd
from qsnapfix_tests import guest_fixture, resume, savefile
from qsnapfix_tests.testlib import (BIN, check, check_eq, load_manifest,
                                    main, run, skip)

LV = WORK = None  # the daemon and the work directory (set by __main__)
EMULATOR = shutil.which("qemu-system-x86_64")
# (image, compression, libvirt generation, the error QEMU gives unfixed)
SAVES = [("qk10-a-default", "raw", "libvirt-0.9", "Size mismatch: vga.vram"),
         ("qk10-a-default", "xz", "libvirt-0.9", "Size mismatch: vga.vram"),
         ("qk12-a-default", "gzip", "libvirt-0.9", "Unknown ramblock")]


def old_save(image, images_dir, compression, layout, tag):
    """An old host's `virsh save` of the image's snapshot s1: the stream,
    the domain XML of that host, the disk as it was at the save."""
    d = os.path.join(WORK, tag)
    os.makedirs(d)
    disk = os.path.join(d, "disk.qcow2")
    shutil.copyfile(os.path.join(images_dir, image["file"]), disk)
    run(["qemu-img", "snapshot", "-a", "s1", disk])
    stream = os.path.join(d, "s1.mig")
    run([BIN, "extract", disk, "--snapshot", "s1", "-o", stream])
    serial = os.path.join(d, "serial.log")
    xml = savefile.old_domain_xml(
        tag, image=disk, serial=serial,
        machine="pc-1.2" if image["writer"].startswith("qemu-kvm-1.2")
        else "pc-1.0")
    path = os.path.join(d, "vm.save")
    savefile.write(path, xml, stream, compression=compression, layout=layout)
    return d, path, serial, xml, stream


def restore(path):
    return LV.virsh("restore", path, ok=None)


def test_old_hosts_save_files_restore_once_fixed():
    if not EMULATOR:
        skip("qemu-system-x86_64 is not on PATH")
    images, images_dir = load_manifest()
    by_name = {i["name"]: i for i in images}
    for n, (name, compression, layout, qemu_error) in enumerate(SAVES):
        image = by_name[name]
        tag = f"save{n}"
        d, path, serial, xml, stream = old_save(image, images_dir,
                                                compression, layout, tag)
        p = restore(path)
        check(p.returncode != 0 and "Cannot check QEMU binary /usr/bin/"
              "qemu-kvm" in p.stderr, f"{tag}: unfixed restore: {p.stderr}")
        # what a user could still do: an emulator and a machine type that
        # exist; then QEMU itself refuses the stream
        edited = os.path.join(d, "edited.save")
        savefile.write(edited, xml.replace("/usr/bin/qemu-kvm", EMULATOR)
                       .replace("machine='pc-1.0'", "machine='pc-i440fx-1.4'")
                       .replace("machine='pc-1.2'", "machine='pc-i440fx-1.4'"),
                       stream, compression=compression, layout=layout)
        p = restore(edited)
        check(p.returncode != 0 and qemu_error in p.stderr,
              f"{tag}: restore with a valid emulator and machine: {p.stderr}")
        print(f"{tag} {name} {compression}: unfixed, libvirt says "
              f"'Cannot check QEMU binary'; with the emulator and machine "
              f"edited, QEMU says '{qemu_error}'")

        out = run([BIN, "fix", path])
        p = restore(path)
        check_eq(p.returncode, 0, f"{tag}: restore of the fixed file: "
                                  f"{p.stderr}\n{out.stdout[-800:]}")
        text, seen = lvlib.wait_for_counters(serial, count=3, timeout=60)
        low, high = image["snapshots"][0]["expect_first_counter_between"]
        check(not resume.booted(text), f"{tag}: the guest rebooted")
        check(low <= seen[0] <= high,
              f"{tag}: first counter {seen[0]} not in [{low}, {high}]")
        check_eq(LV.virsh("domstate", tag).stdout.strip(), "running",
                 f"{tag}: state")
        LV.virsh("destroy", tag)
        print(f"{tag}: fixed, restored, counters {seen[:3]}")


def test_managed_save_comes_back_once_fixed():
    if guest_fixture.guest_elf() is None:
        skip("the test guest is not built")
    d = os.path.join(WORK, "managed")
    os.makedirs(d)
    image = os.path.join(d, "disk.qcow2")
    serial = os.path.join(d, "serial.log")
    kernel = os.path.join(d, guest_fixture.GUEST_NAME)
    shutil.copyfile(guest_fixture.guest_elf(), kernel)
    run(["qemu-img", "create", "-q", "-f", "qcow2", image,
         guest_fixture.GUEST_DISK_SIZE])
    lvlib.define(LV, d, lvlib.domain_xml("managed", kernel=kernel,
                                         image=image, serial=serial))
    LV.virsh("start", "managed")
    lvlib.wait_for_counters(serial, at_least=10)
    LV.virsh("managedsave", "managed")
    saved = lvlib.serial_counters(serial)[1][-1]
    path = os.path.join(LV.dir, "lib", "qemu", "save", "managed.save")
    check(os.path.exists(path), f"no managed save at {path}")

    run([BIN, "oldify", path, "--as", "qemu-kvm-1.0"])
    header, xml, _, _ = savefile.read_header(path)
    check("machine='pc-1.0'" in xml or 'machine="pc-1.0"' in xml,
          f"oldify's domain: {xml[:300]}")
    p = LV.virsh("start", "managed", ok=None)
    check(p.returncode != 0 and "qemu-kvm" in p.stderr,
          f"start with the reshaped managed save: {p.stderr}")
    check(os.path.exists(path), "libvirt dropped the managed save")

    run([BIN, "fix", path])
    LV.virsh("start", "managed")
    text, seen = lvlib.wait_for_counters(serial, at_least=saved + 3,
                                         timeout=60)
    # libvirt starts the serial log afresh: only what came after the start
    after = [c for c in seen if c > saved]
    check(not resume.booted(text), f"the guest rebooted: {text[:200]!r}")
    check(after and seen[0] == after[0] and after[0] <= saved + 3,
          f"counters after the start {seen[:3]}, saved at {saved}")
    check(not os.path.exists(path), "the managed save is still there")
    # libvirt kept the record the fix left in the domain's <metadata>
    live = LV.virsh("dumpxml", "managed").stdout
    check("urn:qsnapfix:record:1" in live and '"kind":"fix"' in live,
          f"the running domain's XML has no record: {live[:400]}")
    LV.virsh("destroy", "managed")
    print(f"managed save at {saved}: reshaped, refused, fixed, started: "
          f"{after[:3]}")


if __name__ == "__main__":
    WORK = tempfile.mkdtemp(prefix="qsnapfix-libvirt-restore-")
    try:
        with Libvirtd(WORK) as LV:
            main([test_managed_save_comes_back_once_fixed,
                  test_old_hosts_save_files_restore_once_fixed])
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
