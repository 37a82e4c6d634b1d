# SPDX-License-Identifier: GPL-2.0-or-later
"""Snapshot-table extra data and header extensions, read and written by
hand (independently of qsnapfix), for the tests that find out what QEMU
keeps of data it does not know.

QEMU's own extra data is 24 bytes (vm_state_size_large, disk_size,
icount); whatever follows is "unknown extra data" that QEMU 5.0 and later
read, keep and write back. `tails(path)` returns it per snapshot name;
`set_tails_in_place(path, {name: bytes})` rewrites the table where it is
(only while it fits the clusters it already has: no allocation, so
qemu-img check stays clean). `add_header_extension` puts an extension
of an unknown type before the end marker in cluster 0."""
import struct

from qsnapfix_tests import fixtures

QEMU_EXTRA = 24  # bytes of extra data QEMU 7.2 and 10.0 know


def _entries(path):
    """[(offset, fixed 40 bytes, extra, id, name)] in table order."""
    hd = fixtures.header_fields(path)
    out = []
    with open(path, "rb") as f:
        off = hd["snapshots_offset"]
        for _ in range(hd["nb_snapshots"]):
            off = (off + 7) & ~7
            f.seek(off)
            fixed = f.read(40)
            id_len, name_len = struct.unpack(">HH", fixed[12:16])
            extra_len = struct.unpack(">I", fixed[36:40])[0]
            extra = f.read(extra_len)
            ident = f.read(id_len)
            name = f.read(name_len)
            out.append((off, fixed, extra, ident, name))
            off += 40 + extra_len + id_len + name_len
    return out


def extra_sizes(path):
    """{name: extra_data_size}."""
    return {n.decode(): len(x) for _, _, x, _, n in _entries(path)}


def tails(path):
    """{name: the extra data past QEMU's 24 bytes}."""
    return {n.decode(): x[QEMU_EXTRA:] for _, _, x, _, n in _entries(path)}


def _known(fixed, extra, disk_size):
    """QEMU's 24 bytes, completed as QEMU writes them for an entry that
    had fewer (64-bit VM state size, disk size, icount -1)."""
    vm32 = struct.unpack(">I", fixed[32:36])[0]
    full = struct.pack(">QQq", vm32, disk_size, -1)
    return extra[:QEMU_EXTRA] + full[len(extra[:QEMU_EXTRA]):]


def set_tails_in_place(path, new_tails):
    """Give the named snapshots these unknown extra bytes (replacing any),
    writing the table over itself; fails when it would outgrow its
    clusters."""
    hd = fixtures.header_fields(path)
    cs = hd["cluster_size"]
    entries = _entries(path)
    old_end = entries[-1][0] + 40 + sum(map(len, entries[-1][2:])) - \
        hd["snapshots_offset"]
    table = bytearray()
    for off, fixed, extra, ident, name in entries:
        table += bytes((8 - len(table) % 8) % 8)
        if name.decode() in new_tails:
            extra = _known(fixed, extra, hd["size"]) + new_tails[name.decode()]
            fixed = fixed[:36] + struct.pack(">I", len(extra))
        table += fixed + extra + ident + name
    room = (old_end + cs - 1) // cs * cs
    assert len(table) <= room, f"table of {len(table)} bytes outgrows {room}"
    fixtures.patch(path, hd["snapshots_offset"], bytes(table))


def header_extensions(path):
    """[(type, data)] of the header extensions, in order."""
    hd = fixtures.header_fields(path)
    out = []
    with open(path, "rb") as f:
        off = (hd["header_length"] + 7) & ~7
        while True:
            f.seek(off)
            typ, length = struct.unpack(">II", f.read(8))
            if typ == 0:
                return out
            out.append((typ, f.read(length)))
            off += 8 + (length + 7) // 8 * 8


def add_header_extension(path, typ, data):
    """An extension of type typ before the end marker (in cluster 0, no
    backing file name after it)."""
    hd = fixtures.header_fields(path)
    assert not hd["backing_file_offset"], "image with a backing file"
    exts = header_extensions(path) + [(typ, data)]
    blob = bytearray()
    for t, d in exts:
        blob += struct.pack(">II", t, len(d)) + d + bytes((8 - len(d) % 8) % 8)
    blob += bytes(8)
    start = (hd["header_length"] + 7) & ~7
    assert start + len(blob) <= hd["cluster_size"]
    fixtures.patch(path, start, bytes(blob))
