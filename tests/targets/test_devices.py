#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Devices of the audit (docs/device-coverage.md) that the real images of
../shared do not have, saved by QEMU 7.2 (-M pc-i440fx-1.4, BIOS only),
reshaped like qemu-kvm 1.2 by `qsnapfix oldify` where their layout
differs, and proven (`qsnapfix prove`, paused loads) in QEMU 7.2 and 10.0:

* ICH6 HDA + hda-duplex, EHCI with a tablet, the eepro100 NIC i82559er
  (with its EEPROM), LSI53C895A with a SCSI disk, virtio-scsi, a USB
  stick on UHCI, virtio-serial with the spice agent's port: every section
  parses with a table (none located by resynchronisation), the EHCI is
  version 1 as qemu-kvm 1.2 wrote it, and the fixed stream loads in both
  targets: R26 rewrites the EHCI for both, R27 asks QEMU 10.0 for the
  HDA's old MSI address and R29 for virtio-serial's 32 MSI-X vectors;
* QEMU 10.0 refuses the same fixed stream when the VM's own options undo
  R27's or R29's setting (the HDA's config space, virtio-console);
* an ISA-only PC (-M isapc) reshaped like qemu-kvm 1.0 loads in both with
  -M isapc (R15), as do a PC without ACPI (the acpi note) and one with
  four vCPUs (four cpu, cpu_common and apic sections);
* a 3.5 GiB guest reshaped like qemu-kvm 1.0 loads in QEMU 7.2 and is
  refused for QEMU 10.0, whose pc-i440fx-2.4 maps only 3 GiB below 4 GiB
  (R28).

QEMU 10.0 comes from scripts/qemu10 (skipped with the reason when it
cannot be had). The images are made afresh in a temporary directory.
"""
import json
import os
import shutil
import tempfile
import time

from qsnapfix_tests import fixlib, targets
from qsnapfix_tests.testlib import BIN, Monitor, check, check_eq, main, run

TARGETS = (targets.QEMU72, targets.QEMU10)

# name -> (machine for savevm, oldify shape, device options; @D@ is the
# directory of the images)
CONFIGS = {
    "hda-ehci-eepro100-scsi": ("pc-i440fx-1.4", "qemu-kvm-1.2", [
        "-device", "intel-hda", "-device", "hda-duplex,audiodev=snd0",
        "-audiodev", "none,id=snd0",
        "-device", "usb-ehci,id=ehci", "-device", "usb-tablet,bus=ehci.0",
        "-device", "i82559er,netdev=n0", "-netdev", "user,id=n0",
        "-device", "lsi53c895a,id=lsi",
        "-drive", "if=none,id=d1,file=@D@/d1.qcow2,format=qcow2",
        "-device", "scsi-hd,drive=d1,bus=lsi.0",
        "-device", "virtio-scsi-pci", "-usb",
        "-drive", "if=none,id=d2,file=@D@/d2.qcow2,format=qcow2",
        "-device", "usb-storage,drive=d2,bus=usb-bus.0",
        # the spice agent's channel of a virt-manager domain
        "-device", "virtio-serial-pci", "-chardev", "null,id=c0",
        "-device", "virtserialport,chardev=c0,name=com.redhat.spice.0"]),
    "isapc": ("isapc", "qemu-kvm-1.0", ["-vga", "std"]),
    "smp4": ("pc-i440fx-1.4", "qemu-kvm-1.0",
             ["-smp", "4", "-vga", "cirrus"]),
    # 3.5 GiB: the RAM split below 4 GiB (R28); the guest never ran, so
    # its pages are fill pages and the stream stays small
    "ram-3.5g": ("pc-i440fx-1.4", "qemu-kvm-1.0",
                 ["-m", "3584", "-vga", "cirrus"]),
    "no-acpi": ("pc-i440fx-1.4", "qemu-kvm-1.0",
                ["-vga", "cirrus", "-machine", "acpi=off"]),
}


def device_args(name, d):
    _, _, devices = CONFIGS[name]
    memory = [] if "-m" in devices else ["-m", "64"]
    return [*memory, "-nodefaults",
            "-drive", f"file={d}/{name}.qcow2,format=qcow2,if=ide",
            *[a.replace("@D@", d) for a in devices]]


def make_image(name, d):
    """The configuration saved by QEMU 7.2 (savevm s1), then reshaped."""
    machine, shape, _ = CONFIGS[name]
    for disk in (f"{name}.qcow2", "d1.qcow2", "d2.qcow2"):
        if not os.path.exists(os.path.join(d, disk)):
            run(["qemu-img", "create", "-q", "-f", "qcow2",
                 os.path.join(d, disk), "16M"])
    # QEMU 7.2 frames the streams of isapc (CONFIGURATION, footers); old
    # writers never did, and the targets' loaders take either
    unframed = ["-global", "migration.send-configuration=off",
                "-global", "migration.send-section-footer=off"]
    mon = Monitor(["-M", machine, *device_args(name, d), *unframed])
    try:
        time.sleep(1.0)
        out = mon.cmd("savevm s1")
        check("rror" not in out, f"{name}: savevm: {out}")
    finally:
        mon.quit()
    image = os.path.join(d, f"{name}.qcow2")
    print(fixlib.oldify(image, "s1", "--as", shape))
    return image


def sections(image):
    p = run([BIN, "inspect", image, "--snapshot", "s1", "--output=json"])
    data = json.loads(p.stdout)
    data = data[0] if isinstance(data, list) else data
    return [s for s in data["sections"] if s.get("idstr")]


def prove(target, image, args, *extra, ok=(0,)):
    """prove --target (with the VM's own options) -> (exit code, report of
    the snapshot)."""
    p = run([BIN, "prove", image, "--all", f"--target={target.name}",
             *target.qemu_option(), "--output=json", *extra, "--",
             *args], ok_codes=ok)
    return p.returncode, json.loads(p.stdout)["snapshots"][0]


def rules(snap):
    return {(r["id"], r["action"]) for r in snap["rules"]}


def test_devices_parse_and_load():
    d = tempfile.mkdtemp(prefix="qsnapfix-devices-")
    try:
        image = make_image("hda-ehci-eepro100-scsi", d)
        secs = sections(image)
        resynced = [s["idstr"] for s in secs if s.get("located_by_resync")]
        check_eq(resynced, [], "sections no table explains")
        by_vmsd = {s["idstr"].rsplit("/", 1)[-1]: s for s in secs}
        for vmsd in ("intel-hda", "hda-audio", "ehci", "usb-ptr",
                     "i82559er", "eeprom", "lsiscsi", "scsi-disk",
                     "virtio-scsi", "usb-storage"):
            check(vmsd in by_vmsd, f"no '{vmsd}' section")
        check_eq(by_vmsd["ehci"]["version"], 1, "ehci reshaped like 1.2")
        args = device_args("hda-ehci-eepro100-scsi", d)
        for t in TARGETS:
            t.ensure()
            rc, snap = prove(t, image, args)
            check_eq(snap["status"], "loads", f"{t.name}: status")
            got = rules(snap)
            check(("R26", "edit") in got, f"{t.name}: R26 in {got}")
            # QEMU 10.0's pc-i440fx-2.4: HDA MSI at 0x60, 2 vectors for
            # virtio-serial (qemu-kvm and 7.2's pc-i440fx-1.4: 0x50, 32)
            for rule in ("R27", "R29"):
                check_eq((rule, "setting") in got, t.name == "qemu-10.0",
                         f"{t.name}: {rule} in {got}")
            print(f"{t.name}: loads ({sorted(got)})")
        # without R27's setting QEMU 10.0 refuses the HDA's config space
        rc, snap = prove(targets.QEMU10, image,
                         [*args, "-global", "intel-hda.old_msi_addr=off"],
                         ok=(19,))
        check("intel-hda" in snap["reason"],
              f"the refusal names the HDA: {snap['reason']}")
        # nor without R29's: the serial port's MSI-X table
        rc, snap = prove(targets.QEMU10, image,
                         [*args, "-global", "virtio-serial-pci.vectors=2"],
                         ok=(19,))
        check("virtio-console" in snap["reason"],
              f"the refusal names virtio-serial: {snap['reason']}")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_isapc_and_no_acpi_load():
    d = tempfile.mkdtemp(prefix="qsnapfix-devices-")
    try:
        for name in ("isapc", "no-acpi"):
            image = make_image(name, d)
            args = device_args(name, d)
            for t in TARGETS:
                t.ensure()
                rc, snap = prove(t, image, args)
                check_eq(snap["status"], "loads", f"{name} {t.name}")
                got = rules(snap)
                if name == "isapc":
                    check(("R15", "setting") in got, f"{name}: R15 {got}")
                    check_eq(snap["recipe"]["machine"], "isapc",
                             f"{name} {t.name}: machine")
                else:
                    check(("acpi", "note") in got, f"{name}: acpi {got}")
                print(f"{name} {t.name}: loads ({sorted(got)})")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_smp_and_large_ram():
    d = tempfile.mkdtemp(prefix="qsnapfix-devices-")
    try:
        image = make_image("smp4", d)
        cpus = [s for s in sections(image)
                if s["idstr"] in ("cpu", "apic", "cpu_common")]
        check_eq(sorted((s["idstr"], s["instance"]) for s in cpus),
                 sorted((n, i) for n in ("cpu", "apic", "cpu_common")
                        for i in range(4)), "four of each CPU section")
        for t in TARGETS:
            t.ensure()
            rc, snap = prove(t, image, device_args("smp4", d))
            check_eq(snap["status"], "loads", f"smp4 {t.name}")
            print(f"smp4 {t.name}: loads")
        image = make_image("ram-3.5g", d)
        args = device_args("ram-3.5g", d)
        rc, snap = prove(targets.QEMU72, image, args)
        check_eq(snap["status"], "loads", "3.5 GiB on qemu-7.2")
        check("R28" not in {r["id"] for r in snap["rules"]}, "no R28 on 7.2")
        targets.QEMU10.ensure()
        rc, snap = prove(targets.QEMU10, image, args, ok=(4,))
        check_eq(snap["status"], "refused", "3.5 GiB on qemu-10.0")
        check(("R28", "refuse") in rules(snap), f"R28: {rules(snap)}")
        print("ram-3.5g: loads in qemu-7.2, refused for qemu-10.0 (R28)")
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main([test_devices_parse_and_load, test_isapc_and_no_acpi_load,
          test_smp_and_large_ram])
