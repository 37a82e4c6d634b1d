# SPDX-License-Identifier: GPL-2.0-or-later
"""libvirt save files for tests, written the way libvirt writes them.

An independent implementation of the format (src/savefile/ is the C one;
docs/savefile.md describes both): the tests build their material here and
check what qsnapfix reads and writes against it.

A save file is a 92-byte header (the magic "LibvirtQemudSave", or
"LibvirtQemudPart" while libvirt is still writing; then version,
data_len, was_running, compression format, cookie offset and 14 unused
words, all 32-bit in the host's byte order), data_len bytes holding the
domain XML (NUL-terminated), libvirt >= 3.2's save cookie (its offset in
the header) and NUL padding, then the migration stream, compressed by the
program the header names when the version is 2.

How much padding, per libvirt generation (LAYOUTS):
  "libvirt-0.7"  none: the stream follows the XML's NUL (0.7-0.8 wrote
                 header + XML, then QEMU appended with `exec:cat >>`);
  "libvirt-0.9"  0.9.x/0.10.x (Fedora 16-18, Ubuntu 12.04-12.10): 1024
                 bytes, then up to the next 4 KiB boundary of the file, so
                 the stream starts 4 KiB-aligned (libvirt appended it with
                 dd at that block size);
  "libvirt-9.0"  today's: 64 KiB of room for an edited XML, no alignment.

    write(path, xml, stream_file, compression="gzip", layout="libvirt-0.9")
    header, xml, cookie, stream_offset = read_header(path)
"""
import os
import shutil
import struct
import subprocess
import uuid as uuidlib
from xml.sax.saxutils import escape, quoteattr

MAGIC = b"LibvirtQemudSave"
MAGIC_PARTIAL = b"LibvirtQemudPart"
HEADER = struct.Struct("<16s5I14I")  # little-endian: the x86 hosts' order
assert HEADER.size == 92
FORMATS = ["raw", "gzip", "bzip2", "xz", "lzop", "zstd"]
LAYOUTS = ("libvirt-0.7", "libvirt-0.9", "libvirt-9.0")
# What libvirt ran to compress (`PROG -c`, xz with -3 since 1.x) and to
# decompress (`PROG -dc`).
COMPRESS_ARGS = {"gzip": ["gzip", "-c"], "bzip2": ["bzip2", "-c"],
                 "xz": ["xz", "-c", "-3"], "lzop": ["lzop", "-c"],
                 "zstd": ["zstd", "-c", "-q"]}


def data_len(xml_bytes, cookie_bytes, layout):
    """Bytes between the header and the stream for this layout."""
    used = len(xml_bytes) + 1 + (len(cookie_bytes) + 1 if cookie_bytes else 0)
    if layout == "libvirt-0.7":
        return used
    if layout == "libvirt-0.9":
        offset = HEADER.size + used + 1024
        return used + 1024 + (4096 - offset % 4096)
    if layout == "libvirt-9.0":
        return used + 64 * 1024
    raise ValueError(f"layout {layout!r}: one of {LAYOUTS}")


def header_bytes(*, version, length, was_running=1, compression="raw",
                 cookie_offset=0, partial=False, big_endian=False):
    fmt = ">" + HEADER.format[1:] if big_endian else HEADER.format
    return struct.pack(fmt, MAGIC_PARTIAL if partial else MAGIC, version,
                       length, was_running, FORMATS.index(compression),
                       cookie_offset, *([0] * 14))


def write(path, xml, stream_file, *, version=2, compression="raw",
          layout="libvirt-0.9", was_running=1, cookie=None, partial=False):
    """Write a save file: header, XML (+ cookie) and padding, then the
    stream of stream_file (compressed unless raw; version 1 has no
    compression field, so its stream is always raw)."""
    if version == 1 and compression != "raw":
        raise ValueError("version 1 save files are never compressed")
    xml_bytes = xml.encode()
    cookie_bytes = cookie.encode() if cookie else b""
    length = data_len(xml_bytes, cookie_bytes, layout)
    area = xml_bytes + b"\0"
    if cookie_bytes:
        area += cookie_bytes + b"\0"
    area += b"\0" * (length - len(area))
    with open(path, "wb") as out:
        out.write(header_bytes(version=version, length=length,
                               was_running=was_running,
                               compression=compression,
                               cookie_offset=len(xml_bytes) + 1
                               if cookie_bytes else 0,
                               partial=partial))
        out.write(area)
        out.flush()
        with open(stream_file, "rb") as src:
            if compression == "raw":
                shutil.copyfileobj(src, out, 1 << 20)
            else:
                subprocess.run(COMPRESS_ARGS[compression], stdin=src,
                               stdout=out, check=True)
    return HEADER.size + length


def read_header(path):
    """(header dict, xml, cookie or None, stream offset) of a save file."""
    with open(path, "rb") as f:
        raw = f.read(HEADER.size)
        fields = HEADER.unpack(raw)
        if fields[1] > 2:  # written on a host of the other byte order
            fields = struct.unpack(">" + HEADER.format[1:], raw)
        magic, version, length, running, fmt, cookie_off = fields[:6]
        area = f.read(length)
    end = cookie_off if cookie_off else length
    xml = area[:end].split(b"\0", 1)[0].decode()
    cookie = area[cookie_off:].split(b"\0", 1)[0].decode() \
        if cookie_off else None
    header = {"magic": magic.decode(), "version": version, "data_len": length,
              "was_running": running, "compression": FORMATS[fmt]
              if fmt < len(FORMATS) else fmt, "cookie_offset": cookie_off}
    return header, xml, cookie, HEADER.size + length


def read_stream(path, out_path):
    """Write the (decompressed) migration stream of a save file."""
    header, _, _, offset = read_header(path)
    with open(path, "rb") as f, open(out_path, "wb") as out:
        f.seek(offset)
        if header["version"] == 1 or header["compression"] == "raw":
            shutil.copyfileobj(f, out, 1 << 20)
        else:
            prog = COMPRESS_ARGS[header["compression"]][0]
            subprocess.run([prog, "-dc"], stdin=f, stdout=out, check=True)


def _attr(value):
    return quoteattr(str(value))


def old_domain_xml(name, *, image, serial, machine="pc-1.0",
                   emulator="/usr/bin/qemu-kvm", memory_kib=131072,
                   video="cirrus", nic="rtl8139", disk_bus="ide",
                   usb_tablet=False, balloon=False, domain_type="qemu",
                   uuid=None):
    """A domain XML as libvirt 0.9.x/0.10.x put it into a save file for a
    guest of qemu-kvm 0.15-1.2: the old memory syntax (KiB, no unit), the
    emulator and machine type of that host, PCI addresses where qemu-kvm's
    defaults put the devices (cirrus 00:02.0, the NIC 00:03.0, virtio-blk
    00:04.0), an IDE or virtio disk, COM1 into a file."""
    uuid = uuid or str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, name))
    slot = {"video": 2, "nic": 3, "disk": 4, "balloon": 5}
    disk_target = "vda" if disk_bus == "virtio" else "hda"
    disk_address = (f"<address type='pci' domain='0x0000' bus='0x00' "
                    f"slot='0x{slot['disk']:02x}' function='0x0'/>"
                    if disk_bus == "virtio" else
                    "<address type='drive' controller='0' bus='0' unit='0'/>")
    vram = {"cirrus": 9216, "vga": 9216}.get(video, 65536)
    parts = [
        f"<domain type='{domain_type}' id='3'>",
        f"  <name>{escape(name)}</name>",
        f"  <uuid>{uuid}</uuid>",
        f"  <memory>{memory_kib}</memory>",
        f"  <currentMemory>{memory_kib}</currentMemory>",
        "  <vcpu>1</vcpu>",
        "  <os>",
        f"    <type arch='x86_64' machine='{machine}'>hvm</type>",
        "    <boot dev='hd'/>",
        "  </os>",
        "  <features>",
        "    <acpi/>",
        "    <apic/>",
        "    <pae/>",
        "  </features>",
        "  <clock offset='utc'/>",
        "  <on_poweroff>destroy</on_poweroff>",
        "  <on_reboot>restart</on_reboot>",
        "  <on_crash>restart</on_crash>",
        "  <devices>",
        f"    <emulator>{escape(emulator)}</emulator>",
        "    <disk type='file' device='disk'>",
        "      <driver name='qemu' type='qcow2'/>",
        f"      <source file={_attr(image)}/>",
        f"      <target dev='{disk_target}' bus='{disk_bus}'/>",
        f"      <alias name='{'virtio-disk0' if disk_bus == 'virtio' else 'ide0-0-0'}'/>",
        f"      {disk_address}",
        "    </disk>",
        "    <controller type='ide' index='0'>",
        "      <alias name='ide0'/>",
        "      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' "
        "function='0x1'/>",
        "    </controller>",
        "    <interface type='user'>",
        "      <mac address='52:54:00:12:34:56'/>",
        f"      <model type='{nic}'/>",
        "      <alias name='net0'/>",
        f"      <address type='pci' domain='0x0000' bus='0x00' "
        f"slot='0x{slot['nic']:02x}' function='0x0'/>",
        "    </interface>",
        "    <serial type='file'>",
        f"      <source path={_attr(serial)}/>",
        "      <target port='0'/>",
        "      <alias name='serial0'/>",
        "    </serial>",
        "    <console type='file'>",
        f"      <source path={_attr(serial)}/>",
        "      <target type='serial' port='0'/>",
        "      <alias name='serial0'/>",
        "    </console>",
    ]
    if usb_tablet:
        parts += ["    <input type='tablet' bus='usb'>",
                  "      <alias name='input0'/>", "    </input>"]
    parts += [
        "    <input type='mouse' bus='ps2'/>",
        "    <video>",
        f"      <model type='{video}' vram='{vram}' heads='1'/>",
        "      <alias name='video0'/>",
        f"      <address type='pci' domain='0x0000' bus='0x00' "
        f"slot='0x{slot['video']:02x}' function='0x0'/>",
        "    </video>",
    ]
    if balloon:
        parts += ["    <memballoon model='virtio'>",
                  "      <alias name='balloon0'/>",
                  f"      <address type='pci' domain='0x0000' bus='0x00' "
                  f"slot='0x{slot['balloon']:02x}' function='0x0'/>",
                  "    </memballoon>"]
    else:
        parts.append("    <memballoon model='none'/>")
    parts += ["  </devices>", "</domain>", ""]
    if not usb_tablet:
        # qemu-kvm had no USB controller unless asked (-usb); libvirt 9.0
        # would add one
        i = parts.index("    <controller type='ide' index='0'>")
        parts.insert(i, "    <controller type='usb' index='0' model='none'/>")
    return "\n".join(parts)
