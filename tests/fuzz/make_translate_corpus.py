#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Seed corpus of fuzz_translate: small migration streams shaped like the
ones the rules act on (qemu-kvm piix4_pm/i8254 v2, USB named by port,
block sections, a 16 MiB cirrus vga.vram with fill pages, ROM blocks,
system.flash + isa-bios, a qxl ROM, a balloon with class 0x0500, live ids
0). The first byte of each file holds the fuzzer's option bits.
Usage: make_translate_corpus.py DIR"""
import os
import struct
import sys

MIB, KIB = 1 << 20, 1 << 10


def s8(text):
    b = text.encode()
    return bytes([len(b)]) + b


class Stream:
    def __init__(self):
        self.b = bytearray(struct.pack(">II", 0x5145564D, 3))
        self.last_block = None

    def section(self, kind, sid, idstr=None, version=0, instance=0):
        self.b += bytes([kind]) + struct.pack(">I", sid)
        if kind in (1, 4):
            self.b += s8(idstr) + struct.pack(">II", instance, version)

    def mem_size(self, blocks):
        self.b += struct.pack(">Q", sum(l for _, l in blocks) | 4)
        for name, length in blocks:
            self.b += s8(name) + struct.pack(">Q", length)

    def page(self, block, addr, fill=None):
        flags = 0x02 if fill is not None else 0x08
        cont = block == self.last_block
        self.b += struct.pack(">Q", addr | flags | (0x20 if cont else 0))
        if not cont:
            self.b += s8(block)
        self.b += bytes([fill]) if fill is not None else \
            bytes((addr // 4096 + i) & 0xff for i in range(4096))
        self.last_block = block

    def eos(self):
        self.b += struct.pack(">Q", 0x10)

    def full(self, sid, idstr, version, payload):
        self.section(4, sid, idstr, version)
        self.b += payload

    def done(self):
        return bytes(self.b + b"\x00")


def pci(class_code=0x0300, revision=0, extra=0):
    config = bytearray(256)
    config[8] = revision
    config[0x0a:0x0c] = struct.pack("<H", class_code)
    return struct.pack(">I", 2) + bytes(config) + bytes(16) + bytes(extra)


def balloon(class_code):
    p = pci(class_code) + bytes([0, 0]) + struct.pack(">HII", 0, 0, 8)
    p += bytes(8) + struct.pack(">I", 3)
    for _ in range(3):
        p += struct.pack(">IQH", 128, 0, 0)
    return p + struct.pack(">II", 0, 0)


def qemu_kvm_10(knobs):
    s = Stream()
    s.section(1, 1, "block", 1)
    s.b += struct.pack(">Q", 2)
    blocks = [("pc.ram", 64 * KIB), ("pc.bios", 128 * KIB),
              ("vga.vram", 16 * MIB), ("0000:00:03.0/rtl8139.rom", 64 * KIB)]
    s.section(1, 0 if knobs & 32 else 2, "ram", 4)
    s.mem_size(blocks)
    s.page("pc.ram", 0)
    s.page("pc.bios", 0, 0xff)
    s.page("vga.vram", 0)
    s.page("vga.vram", 8 * MIB, 0xff)
    s.page("vga.vram", 12 * MIB, 0)
    s.page("0000:00:03.0/rtl8139.rom", 0)
    s.eos()
    s.section(3, 1)
    s.b += struct.pack(">Q", 2)
    s.section(3, 0 if knobs & 32 else 2)
    s.eos()
    s.full(3, "0000:00:02.0/cirrus_vga", 2, pci(extra=1594))
    s.full(4, "i8254", 2, bytes(108))
    s.full(5, "0000:00:01.2/uhci", 2, pci(0x0c03, extra=35))
    s.full(6, "1/usb-ptr", 1, bytes(298))
    s.full(7, "0000:00:05.0/virtio-balloon", 1, balloon(0x0500))
    s.full(8, "0000:00:01.3/piix4_pm", 2, pci(0x0680, extra=36))
    s.full(9, "kvmclock", 1, bytes(8))
    return s.done()


def qemu_kvm_12(knobs):
    s = Stream()
    blocks = [("0000:00:02.0/qxl.vrom", 16 * KIB), ("isa-bios", 128 * KIB),
              ("pc.ram", 64 * KIB), ("system.flash", 128 * KIB)]
    s.section(1, 3, "ram", 4)
    s.mem_size(blocks)
    s.eos()
    s.section(2, 3)
    rom = bytearray(4096)
    rom[0:4] = struct.pack("<I", 0x4F525851)
    rom[24:28] = struct.pack("<I", 1160)
    rom[1160:1164] = struct.pack("<I", 224 if knobs & 64 else 100)
    s.page("0000:00:02.0/qxl.vrom", 0)
    s.b[-4096:] = rom
    s.page("0000:00:02.0/qxl.vrom", 8 * KIB, 0)
    s.page("isa-bios", 0, 0xff)
    s.page("system.flash", 0)
    s.page("system.flash", 4 * KIB, 0xff)
    s.page("pc.ram", 0, 0)
    s.eos()
    s.section(3, 3)
    s.eos()
    s.full(4, "0000:00:02.0/qxl", 21, pci(0x0300, 3, 9835 - 276))
    s.full(5, "0000:00:01.3/piix4_pm", 2, pci(0x0680, extra=36))
    s.full(6, "mc146818rtc", 2, bytes(205))
    s.full(7, "0000:00:06.0/pci-assign", 1, bytes(16))
    return s.done()


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for knobs in (0x00, 0x01, 0x02, 0x04, 0x08, 0x20, 0x23):
        with open(os.path.join(out, f"qemu-kvm-1.0-{knobs:02x}.mig"),
                  "wb") as f:
            f.write(bytes([knobs]) + qemu_kvm_10(knobs))
    for knobs in (0x00, 0x08, 0x10, 0x40, 0x49):
        with open(os.path.join(out, f"qemu-kvm-1.2-{knobs:02x}.mig"),
                  "wb") as f:
            f.write(bytes([knobs]) + qemu_kvm_12(knobs))


if __name__ == "__main__":
    main()
