#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The facts docs/hypotheses.md states about the real images (../shared/images),
where the reference documents only inferred them ([I]). Their RAM block sizes
are checked against the MANIFEST by test_real_images.py; here:

* section ids: qemu-kvm gives timer 0, slirp 1, block 2 (sent by 0.15/1.0
  only) and ram 3 (with -net user); QEMU 7.2 timer 0, ram 2, slirp 4. No live
  section has id 0, so R8 has nothing to renumber in any of them;
* slirp: version 3 (qemu-kvm) or 4 (7.2), 131 bytes, no socket record: the
  loads of these images into 7.2/10.0 say nothing about slirp connections;
* virtio-blk: no pending request in any snapshot (request_follows 0): the
  raw VirtQueueElement layout was never exercised by a real image;
* firmware: the 0.15/1.0 images carry the ROMs their own trees bundled
  (SeaBIOS pre-0.6.3 of 2011, iPXE v1.0.0-591, under 64 KiB), the 1.2 images
  the builder host's Debian 12 SeaBIOS 1.16.2 and iPXE (75776 bytes, the
  size Debian's QEMU 7.2 loads): so the 1.2 images say nothing about the
  ROM sizes of the 1.2 era. The blocks are extracted by a qemu-10.0
  translation (R6/R7/R17 hand them over as files).
"""
import os
import re
import tempfile

import streamlib
from qsnapfix_tests import testlib
from qsnapfix_tests.testlib import check, check_eq

IMAGES = testlib.real_images()


def snapshots():
    for m, path in IMAGES:
        for sn in m["snapshots"]:
            yield m, path, sn["name"]


def first_ids(doc):
    """idstr -> section id of its first record (START or FULL)."""
    ids = {}
    for s in doc["sections"]:
        if s["type"] in ("start", "full"):
            ids.setdefault(s["idstr"], s["section-id"])
    return ids


def decoded(path, sn, name):
    doc = streamlib.inspect_json(path, "--snapshot", sn, "--tail",
                                 f"--sections={name}")
    return [{f["path"]: f.get("value") for f in s["fields"]}
            for s in doc["sections"] if "fields" in s]


def test_section_ids():
    for m, path, sn in snapshots():
        doc = streamlib.inspect_json(path, "--snapshot", sn, "--tail")
        ids = first_ids(doc)
        label = f"{m['name']} {sn}"
        if m["writer"].startswith("qemu-kvm-"):
            want = {"timer": 0, "slirp": 1, "ram": 3}
            if not m["writer"].startswith("qemu-kvm-1.2"):
                want["block"] = 2
            check_eq("block" in ids, "block" in want, f"{label}: block sent")
        else:
            want = {"timer": 0, "ram": 2, "slirp": 4}
        check_eq({k: ids.get(k) for k in want}, want, f"{label}: section ids")
        live0 = [s["idstr"] for s in doc["sections"]
                 if s["type"] in ("start", "part", "end")
                 and s["section-id"] == 0]
        check_eq(live0, [], f"{label}: live sections with id 0")


def test_slirp_carries_no_socket():
    for m, path, sn in snapshots():
        label = f"{m['name']} {sn}"
        doc = streamlib.inspect_json(path, "--snapshot", sn, "--tail")
        slirp = [s for s in doc["sections"] if s["idstr"] == "slirp"]
        check_eq(len(slirp), 1, f"{label}: slirp sections")
        want = 3 if m["writer"].startswith("qemu-kvm-") else 4
        check_eq((slirp[0]["version"], slirp[0]["payload-size"]), (want, 131),
                 f"{label}: slirp version and size")
        fields = decoded(path, sn, "slirp")[0]
        check_eq(fields["slirp.socket_follows"], 0, f"{label}: sockets")


def test_virtio_blk_has_no_pending_request():
    seen = 0
    for m, path, sn in snapshots():
        doc = streamlib.inspect_json(path, "--snapshot", sn, "--tail")
        if not any(s["idstr"].endswith("/virtio-blk") for s in doc["sections"]):
            continue
        for fields in decoded(path, sn, "virtio-blk"):
            seen += 1
            check_eq(fields["virtio.request_follows"], 0,
                     f"{m['name']} {sn}: a pending virtio-blk request")
    check_eq(seen, 5, "virtio-blk sections in the real images")


def rom_header_size(data):
    check_eq(data[:2], b"\x55\xaa", "option ROM signature")
    return data[2] * 512


# image -> (NIC ROM block, its ROM header size, iPXE version mark, BIOS mark)
FIRMWARE = {
    "qk015-c-virtio-96m": ("virtio-net-pci.rom", 60416,
                           b"iPXE v1.0.0-591-g7aee315", b"pre-0.6.3-2011"),
    "qk10-b-vgastd-pc10": ("rtl8139.rom", 61440,
                           b"iPXE v1.0.0-591-g7aee315", b"pre-0.6.3-2011"),
    "qk12-c-virtio-96m": ("virtio-net-pci.rom", 75776, None,
                          b"1.16.2-debian"),
    "qk12-i-romonly-kvmlayout": ("rtl8139.rom", 75776, None,
                                 b"1.16.2-debian"),
}


def test_firmware_the_images_carry():
    for m, path in IMAGES:
        if m["name"] not in FIRMWARE:
            continue
        rom_name, header_size, ipxe, bios_mark = FIRMWARE[m["name"]]
        with tempfile.TemporaryDirectory(prefix="qsnapfix-facts-") as d:
            mig = os.path.join(d, "s1.mig")
            testlib.qsnapfix("extract", "--snapshot", "s1", "-o", mig, path)
            testlib.qsnapfix("translate", "--target=qemu-10.0",
                             f"--rom-dir={d}", mig, os.path.join(d, "out"))
            files = os.listdir(d)
            rom = [f for f in files if f.endswith(rom_name)]
            bios = [f for f in files
                    if f.endswith(".pc.bios") or f.endswith(".fd")]
            check(len(rom) == 1 and len(bios) == 1,
                  f"{m['name']}: extracted {files}")
            with open(os.path.join(d, rom[0]), "rb") as f:
                data = f.read()
            with open(os.path.join(d, bios[0]), "rb") as f:
                firmware = f.read()
        label = f"{m['name']} {rom_name}"
        print(f"{label}: ROM {header_size} bytes, BIOS {bios_mark.decode()}")
        check_eq(rom_header_size(data), header_size, f"{label}: ROM size")
        check_eq(data[header_size:].count(0), len(data) - header_size,
                 f"{label}: zero padding past the ROM")
        check(b"iPXE" in data, f"{label}: an iPXE ROM")
        if ipxe:
            check(ipxe in data, f"{label}: {ipxe!r}")
        check_eq(len(firmware), 128 << 10, f"{m['name']}: BIOS size")
        check(re.search(re.escape(bios_mark), firmware) is not None,
              f"{m['name']}: SeaBIOS build {bios_mark!r}")


if __name__ == "__main__":
    testlib.main([test_section_ids, test_slirp_carries_no_socket,
                  test_virtio_blk_has_no_pending_request,
                  test_firmware_the_images_carry])
