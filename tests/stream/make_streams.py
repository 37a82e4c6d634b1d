# SPDX-License-Identifier: GPL-2.0-or-later
"""Streams written by the installed QEMU 7.2, for the stream-model tests.

Each configuration boots the BIOS only (-nodefaults plus explicit devices)
under TCG and saves its state twice: `savevm` into a qcow2 image, and
`migrate "exec:cat > FILE"` after `stop`. Results are cached under
$QSNAPFIX_CACHE/streams-<hash>, the hash covering this file, so a change
here regenerates them.
"""
import hashlib
import json
import os
import shutil
import time

from qsnapfix_tests import testlib

# name -> (machine, smp, devices). Every device set is BIOS only.
CONFIGS = {
    "i440fx14-cirrus-e1000-tablet": (
        "pc-i440fx-1.4", 1,
        ["-vga", "cirrus", "-device", "e1000,netdev=n0", "-netdev", "user,id=n0",
         "-device", "piix3-usb-uhci", "-device", "usb-tablet"]),
    "i440fx14-std-rtl-virtio-2cpu": (
        "pc-i440fx-1.4", 2,
        ["-vga", "std", "-device", "rtl8139,netdev=n0", "-netdev", "user,id=n0",
         "-device", "virtio-net-pci,netdev=n1", "-netdev", "user,id=n1",
         "-drive", "file=@DISK2@,format=qcow2,if=virtio",
         "-device", "virtio-balloon-pci", "-serial", "null"]),
    "i440fx23-cirrus-rtl-blk-tablet-2cpu": (
        "pc-i440fx-2.3", 2,
        ["-vga", "cirrus", "-device", "rtl8139,netdev=n0", "-netdev", "user,id=n0",
         "-drive", "file=@DISK2@,format=qcow2,if=virtio",
         "-usb", "-device", "usb-tablet"]),
    "i440fx72-std-e1000-virtio-tablet": (
        "pc-i440fx-7.2", 1,
        ["-vga", "std", "-device", "e1000,netdev=n0", "-netdev", "user,id=n0",
         "-device", "virtio-net-pci,netdev=n1", "-netdev", "user,id=n1",
         "-drive", "file=@DISK2@,format=qcow2,if=virtio",
         "-usb", "-device", "usb-tablet", "-serial", "null"]),
    "q35-std-e1000-virtio-tablet-2cpu": (
        "q35", 2,
        ["-vga", "std", "-device", "e1000,netdev=n0", "-netdev", "user,id=n0",
         "-device", "virtio-net-pci,netdev=n1", "-netdev", "user,id=n1",
         "-drive", "file=@DISK2@,format=qcow2,if=virtio",
         "-usb", "-device", "usb-tablet"]),
    "i440fx14-rare-devices": (
        "pc-i440fx-1.4", 1,
        ["-vga", "cirrus", "-device", "ne2k_pci,netdev=n0", "-netdev", "user,id=n0",
         "-device", "pcnet,netdev=n1", "-netdev", "user,id=n1",
         "-device", "virtio-serial-pci", "-device", "virtconsole",
         "-device", "usb-ehci,id=ehci", "-device", "piix3-usb-uhci,id=uhci",
         "-device", "usb-mouse,bus=uhci.0", "-device", "usb-kbd,bus=uhci.0",
         "-audiodev", "none,id=snd0", "-device", "AC97,audiodev=snd0",
         "-device", "ES1370,audiodev=snd0", "-device", "intel-hda",
         "-device", "hda-duplex,audiodev=snd0",
         "-machine", "pcspk-audiodev=snd0"]),
    "i440fx14-vmware-watchdogs-isa": (
        "pc-i440fx-1.4", 1,
        ["-vga", "none", "-device", "vmware-svga", "-device", "qxl",
         "-device", "i6300esb", "-device", "ib700",
         "-audiodev", "none,id=snd0", "-device", "sb16,audiodev=snd0",
         "-device", "cs4231a,audiodev=snd0", "-device", "gus,audiodev=snd0",
         "-device", "ne2k_isa,netdev=n0", "-netdev", "user,id=n0"]),
    "i440fx14-eepro100-scsi": (
        "pc-i440fx-1.4", 1,
        ["-vga", "none", "-device", "i82559er,netdev=n0",
         "-netdev", "user,id=n0", "-device", "i82551,netdev=n1",
         "-netdev", "user,id=n1", "-device", "lsi53c895a,id=lsi",
         "-drive", "file=@DISK2@,format=qcow2,if=none,id=d2",
         "-device", "scsi-hd,drive=d2,bus=lsi.0",
         "-device", "virtio-scsi-pci", "-usb",
         "-drive", "file=@DISK3@,format=qcow2,if=none,id=d3",
         "-device", "usb-storage,drive=d3,bus=usb-bus.0"]),
    "isapc-cirrus": ("isapc", 1, ["-vga", "cirrus"]),
    "isapc-std-serial": ("isapc", 1, ["-vga", "std", "-device", "isa-serial"]),
}


def cache_dir():
    with open(os.path.abspath(__file__), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    return os.path.join(testlib.CACHE, f"streams-{digest}")


def _args(devices, work):
    disks = {}
    for name in ("DISK2", "DISK3"):
        disks[name] = os.path.join(work, name.lower() + ".qcow2")
        if not os.path.exists(disks[name]):
            testlib.qemu_img("create", "-q", "-f", "qcow2", disks[name], "1M")
    return [a.replace("@DISK2@", disks["DISK2"])
            .replace("@DISK3@", disks["DISK3"]) for a in devices]


def _migrate_to_file(mon, path):
    mon.cmd("stop")
    mon.cmd(f'migrate "exec:cat > {path}"')
    for _ in range(600):
        out = mon.cmd("info migrate")
        if "Migration status: completed" in out:
            return
        if "failed" in out or "cancelled" in out:
            raise testlib.Failure(f"migrate to {path}: {out}")
        time.sleep(0.1)
    raise testlib.Failure(f"migrate to {path}: did not complete")


def _generate_one(name, machine, smp, devices, out):
    work = os.path.join(out, name + ".work")
    os.makedirs(work, exist_ok=True)
    image = os.path.join(out, name + ".qcow2")
    testlib.qemu_img("create", "-q", "-f", "qcow2", image, "16M")
    args = ["-M", machine, "-m", "64", "-smp", str(smp), "-nodefaults",
            "-drive", f"file={image},format=qcow2,if=ide",
            *_args(devices, work)]
    mon = testlib.Monitor(args)
    try:
        time.sleep(1.0)
        out_s = mon.cmd("savevm s1")
        testlib.check("Error" not in out_s and "error" not in out_s,
                      f"{name}: savevm: {out_s}")
        _migrate_to_file(mon, os.path.join(out, name + ".mig"))
    finally:
        mon.quit()
    shutil.rmtree(work, ignore_errors=True)
    return {"name": name, "machine": machine, "smp": smp,
            "image": name + ".qcow2", "snapshot": "s1", "stream": name + ".mig"}


def generate():
    """Make (or reuse) every configuration; return the list of entries."""
    out = cache_dir()
    index = os.path.join(out, "index.json")
    if os.path.exists(index):
        with open(index) as f:
            return json.load(f), out
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    entries = [_generate_one(n, *CONFIGS[n], tmp) for n in CONFIGS]
    with open(os.path.join(tmp, "index.json"), "w") as f:
        json.dump(entries, f, indent=1)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    return entries, out


if __name__ == "__main__":
    entries, where = generate()
    print(where)
    for e in entries:
        print(e["name"], os.path.getsize(os.path.join(where, e["stream"])))
