#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Streams written during the test by the installed QEMU 7.2 (machine types
pc-i440fx-1.4, 2.3, 7.2 and q35; cirrus/std VGA, e1000/rtl8139/virtio-net,
virtio-blk, USB tablet, 1 and 2 vCPUs, plus the rarer devices: sound,
watchdogs, eepro100, LSI/virtio-scsi/usb-storage), both by
`savevm` into qcow2 and by `migrate "exec:cat > FILE"`: all parse to EOF
with every device known and pass the model's invariants."""
import os
import shutil

import make_streams
import streamlib
from qsnapfix_tests import testlib
from qsnapfix_tests.testlib import check, check_eq

if not shutil.which("qemu-system-x86_64"):
    testlib.skip("qemu-system-x86_64 is not installed")
ENTRIES, WHERE = make_streams.generate()

# A device each configuration must show (vmsd names), and one to hide.
EXPECT = {
    "i440fx14-cirrus-e1000-tablet": ({"cirrus_vga", "e1000", "uhci",
                                      "usb-ptr"}, "e1000"),
    "i440fx14-std-rtl-virtio-2cpu": ({"vga", "rtl8139", "virtio-net",
                                      "virtio-blk", "virtio-balloon"},
                                     "virtio-net"),
    "i440fx23-cirrus-rtl-blk-tablet-2cpu": ({"cirrus_vga", "rtl8139",
                                             "virtio-blk", "usb-ptr"},
                                            "virtio-blk"),
    "i440fx72-std-e1000-virtio-tablet": ({"vga", "e1000", "virtio-net",
                                          "virtio-blk", "usb-ptr"},
                                         "virtio-net"),
    "q35-std-e1000-virtio-tablet-2cpu": ({"ICH9LPC", "ich9_ahci", "mch",
                                          "ehci", "uhci", "usb-ptr"},
                                         "ich9_ahci"),
    "i440fx14-rare-devices": ({"ne2000", "pcnet", "virtio-console", "ehci",
                               "usb-hub", "usb-kbd", "ac97", "es1370",
                               "intel-hda", "hda-audio"}, "pcnet"),
    "i440fx14-vmware-watchdogs-isa": ({"vmware_vga", "vga", "qxl",
                                       "i6300esb_wdt", "ib700_wdt", "sb16",
                                       "cs4231a", "gus", "ne2000"}, "qxl"),
    "i440fx14-eepro100-scsi": ({"i82559er", "i82551", "eeprom", "lsiscsi",
                                "scsi-disk", "virtio-scsi", "usb-storage"},
                               "lsiscsi"),
    "isapc-cirrus": ({"cirrus_vga", "isa-ide"}, "isa-ide"),
    "isapc-std-serial": ({"vga", "isa-ide", "serial"}, "vga"),
}
# The GUS keeps 1 MiB of sample memory in its section: not a typical PC.
TAIL_EXEMPT = {"i440fx14-vmware-watchdogs-isa"}
MACHINE = {"pc-i440fx-7.2": "pc-i440fx-7.2", "q35": "pc-q35-7.2", "isapc": "isapc"}


def test_migrated_and_saved_streams_pass_every_invariant():
    for e in ENTRIES:
        want, hide = EXPECT[e["name"]]
        mig = os.path.join(WHERE, e["stream"])
        image = os.path.join(WHERE, e["image"])
        for target, snapshot in ((mig, None), (image, e["snapshot"])):
            r = streamlib.stream_check(target, snapshot=snapshot,
                                       hide=("cpu", hide))
            check(r["vmdesc_devices"] > 18,
                  f"{e['name']}: vmdesc checked ({r})")
            check(e["name"] in TAIL_EXEMPT or
                  r["tail_bytes_read"] <= streamlib.TAIL_BUDGET,
                  f"{e['name']}: tail path read {r['tail_bytes_read']}")
            check_eq(r["resynced"]["cpu"], e["smp"], f"{e['name']}: cpus")


def test_device_list_and_writer():
    for e in ENTRIES:
        want, _ = EXPECT[e["name"]]
        mig = streamlib.inspect_json("--stream",
                                     os.path.join(WHERE, e["stream"]))
        saved = streamlib.inspect_json(os.path.join(WHERE, e["image"]),
                                       "--snapshot", e["snapshot"])
        check_eq(streamlib.devices(saved), streamlib.devices(mig),
                 f"{e['name']}: savevm and migrate write the same devices")
        names = {streamlib.vmsd_name(i) for i, _, _ in streamlib.devices(mig)}
        check(want <= names, f"{e['name']}: missing {want - names}")
        check_eq(sum(1 for n in streamlib.devices(mig) if n[0] == "cpu"),
                 e["smp"], f"{e['name']}: cpu sections")
        for doc in (mig, saved):
            w = doc["writer"]
            check_eq((w["program"], w["accel"]), ("qemu", "tcg"),
                     f"{e['name']}: writer")
            check(streamlib.version_in_range("7.2", w["version"]),
                  f"{e['name']}: version {w['version']}")
            check_eq(w["machine"], MACHINE.get(e["machine"]),
                     f"{e['name']}: machine from the configuration record")
            check(not any(s["located-by-resync"] for s in doc["sections"]),
                  f"{e['name']}: every device known")


if __name__ == "__main__":
    testlib.main([test_migrated_and_saved_streams_pass_every_invariant,
                  test_device_list_and_writer])
