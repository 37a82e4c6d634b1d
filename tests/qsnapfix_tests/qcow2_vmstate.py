# SPDX-License-Identifier: GPL-2.0-or-later
"""Where a qcow2 internal snapshot's VM state lies in the image file.

A test-side reader, independent of the qcow2 library under test, for the
few tests that must damage a snapshot's vmstate on purpose: QEMU's own
tools cannot write a snapshot's vmstate (qemu-io's `write -b` writes the
active layer's, and copy-on-write keeps the snapshot's clusters intact),
so the tests find the snapshot's clusters here and overwrite them with
`qemu-io -f raw`.

Layout facts (../shared/docs/qcow2-reference.md): the header gives cluster_bits,
the virtual size and the snapshot table; each snapshot entry has its own
L1 table; the vmstate sits in the guest address space just past the disk,
at the first L1 index beyond the virtual size.
"""
import struct
import subprocess

OFFSET_MASK = 0x00FFFFFFFFFFFE00
COMPRESSED_FLAG = 1 << 62


class Snapshot:
    def __init__(self, sid, name, l1_table_offset, l1_size, vm_state_size):
        self.id = sid
        self.name = name
        self.l1_table_offset = l1_table_offset
        self.l1_size = l1_size
        self.vm_state_size = vm_state_size


def _header(f):
    f.seek(0)
    raw = f.read(72)
    magic, _version = struct.unpack(">4sI", raw[:8])
    if magic != b"QFI\xfb":
        raise ValueError("not a qcow2 image")
    cluster_bits, = struct.unpack(">I", raw[20:24])
    size, = struct.unpack(">Q", raw[24:32])
    nb_snapshots, snapshots_offset = struct.unpack(">IQ", raw[60:72])
    return cluster_bits, size, nb_snapshots, snapshots_offset


def snapshots(path):
    """The snapshot table of the image at path."""
    with open(path, "rb") as f:
        _, _, count, offset = _header(f)
        f.seek(offset)
        result = []
        for _ in range(count):
            fixed = f.read(40)
            (l1_offset, l1_size, id_size, name_size, _sec, _nsec, _clock,
             vm_state_size, extra_size) = struct.unpack(">QIHHIIQII", fixed)
            extra = f.read(extra_size)
            if extra_size >= 8:  # 64-bit vm_state_size (extra data v1+)
                vm_state_size, = struct.unpack(">Q", extra[:8])
            sid = f.read(id_size).decode()
            name = f.read(name_size).decode()
            used = 40 + extra_size + id_size + name_size
            f.read((8 - used % 8) % 8)
            result.append(Snapshot(sid, name, l1_offset, l1_size,
                                   vm_state_size))
        return result


def find_snapshot(path, name_or_id):
    for s in snapshots(path):
        if name_or_id in (s.name, s.id):
            return s
    raise KeyError(f"{path}: no snapshot {name_or_id!r}")


def vmstate_extents(path, name_or_id, start=0, length=None):
    """[(host_offset, length)] covering vmstate bytes [start, start+length)
    of the snapshot, in order."""
    snap = find_snapshot(path, name_or_id)
    if length is None:
        length = snap.vm_state_size - start
    with open(path, "rb") as f:
        cluster_bits, size, _, _ = _header(f)
        cluster = 1 << cluster_bits
        l2_bits = cluster_bits - 3
        span = 1 << (cluster_bits + l2_bits)
        base = (size + span - 1) // span * span
        f.seek(snap.l1_table_offset)
        l1 = struct.unpack(f">{snap.l1_size}Q", f.read(8 * snap.l1_size))
        extents = []
        pos, end = start, start + length
        while pos < end:
            guest = base + pos
            l2_offset = l1[guest // span] & OFFSET_MASK
            if not l2_offset:
                raise ValueError(f"vmstate offset {pos:#x} is unallocated")
            f.seek(l2_offset + 8 * ((guest >> cluster_bits) &
                                    ((1 << l2_bits) - 1)))
            entry, = struct.unpack(">Q", f.read(8))
            if entry & COMPRESSED_FLAG or not entry & OFFSET_MASK:
                raise ValueError(f"vmstate offset {pos:#x}: cluster is "
                                 "compressed or unallocated")
            within = guest % cluster
            n = min(cluster - within, end - pos)
            extents.append(((entry & OFFSET_MASK) + within, n))
            pos += n
        return extents


def read_vmstate(path, name_or_id, start=0, length=None):
    """The snapshot's vmstate bytes, read straight from the file."""
    data = bytearray()
    with open(path, "rb") as f:
        for host, n in vmstate_extents(path, name_or_id, start, length):
            f.seek(host)
            data += f.read(n)
    return bytes(data)


def overwrite_vmstate(path, name_or_id, start, pattern_byte, length):
    """Overwrite vmstate bytes [start, start+length) of a snapshot with a
    byte pattern, through qemu-io on the raw file."""
    for host, n in vmstate_extents(path, name_or_id, start, length):
        subprocess.run(["qemu-io", "-f", "raw", "-c",
                        f"write -P {pattern_byte:#x} {host} {n}", path],
                       check=True, capture_output=True, text=True)
