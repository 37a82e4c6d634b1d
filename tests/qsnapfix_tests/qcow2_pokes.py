# SPDX-License-Identifier: GPL-2.0-or-later
"""Byte pokes for damaged-image tests: where the structures of a qcow2 file
are (header fields, snapshot entries, the L1/L2 entries that map a
snapshot's VM state, refcount table entries and refcounts) and how to
change one of them. Offsets come from the qcow2 specification
(docs/interop/qcow2.txt), the same facts qcow2/format.h declares."""
import os
import struct

from qsnapfix_tests import fixtures

L1E_MASK = 0x00fffffffffffe00
COPIED = 1 << 63
COMPRESSED = 1 << 62

EXT_END = 0
EXT_BACKING_FORMAT = 0xe2792aca
EXT_FEATURE_TABLE = 0x6803f857
EXT_CRYPTO = 0x0537be77

# header fields
HDR_CRYPT_METHOD = 32
HDR_REFCOUNT_TABLE = 48
HDR_NB_SNAPSHOTS = 60
HDR_INCOMPATIBLE = 72
HDR_COMPATIBLE = 80
HDR_AUTOCLEAR = 88
# snapshot entry fields (from the entry's start)
SN_L1_OFFSET, SN_L1_SIZE, SN_ID_SIZE, SN_NAME_SIZE = 0, 8, 12, 14
SN_VM_STATE_SIZE32, SN_EXTRA_SIZE, SN_FIXED = 32, 36, 40
SN_EXTRA_VM_STATE_SIZE, SN_EXTRA_DISK_SIZE = 40, 48


def be16(v):
    return struct.pack(">H", v)


def be32(v):
    return struct.pack(">I", v)


def be64(v):
    return struct.pack(">Q", v)


def read_at(path, off, n):
    with open(path, "rb") as f:
        f.seek(off)
        return f.read(n)


def u64_at(path, off):
    return struct.unpack(">Q", read_at(path, off, 8))[0]


def put(path, off, data):
    fixtures.patch(path, off, data)


def hdr(path):
    return fixtures.header_fields(path)


def snap(path, i=0):
    """(file offset, fields) of snapshot table entry i."""
    return fixtures.snapshot_entries(path)[i]


def l2_span(path):
    h = hdr(path)
    xl2 = h["incompatible_features"] & 16
    return h["cluster_size"] * (h["cluster_size"] // (16 if xl2 else 8))


def l2_entry_bytes(path):
    return 16 if hdr(path)["incompatible_features"] & 16 else 8


def vmstate_l1_entry_offset(path, i=0):
    """File offset of the snapshot L1 entry that maps the VM state start."""
    h = hdr(path)
    off, e = snap(path, i)
    extra = read_at(path, off + SN_FIXED, e["extra_data_size"])
    disk = struct.unpack(">Q", extra[8:16])[0] if len(extra) >= 16 else h["size"]
    index = -(-disk // l2_span(path))
    return e["l1_table_offset"] + 8 * index


def vmstate_l2_offset(path, i=0):
    return u64_at(path, vmstate_l1_entry_offset(path, i)) & L1E_MASK


def first_vmstate_l2_entry(path, i=0):
    """(file offset, value) of the L2 entry of the first VM state cluster."""
    at = vmstate_l2_offset(path, i)
    return at, u64_at(path, at)


def allocated_l2_entries(path, l2, limit=None):
    """[(entry offset, value)] of the allocated standard entries of an L2
    table (not compressed, with a host offset)."""
    cs = hdr(path)["cluster_size"]
    step = l2_entry_bytes(path)
    out = []
    data = read_at(path, l2, cs)
    for j in range(0, cs, step):
        e = struct.unpack(">Q", data[j:j + 8])[0]
        if e & L1E_MASK and not e & COMPRESSED:
            out.append((l2 + j, e))
            if limit and len(out) == limit:
                break
    return out


def active_l2_tables(path):
    """[(L1 entry offset, L2 table offset)] of the active L1 table."""
    h = hdr(path)
    out = []
    for i in range(h["l1_size"]):
        at = h["l1_table_offset"] + 8 * i
        l2 = u64_at(path, at) & L1E_MASK
        if l2:
            out.append((at, l2))
    return out


def refcount_block(path, index=0):
    """File offset of refcount block `index` (from the refcount table)."""
    return u64_at(path, hdr(path)["refcount_table_offset"] + 8 * index) & \
        0xfffffffffffffe00


def refcount_at(path, host):
    """(file offset, width in bytes) of the refcount of the cluster at
    host (refcount widths of 8 bits and more)."""
    h = hdr(path)
    width = (1 << h["refcount_order"]) // 8
    assert width >= 1, "sub-byte refcounts"
    cluster = host // h["cluster_size"]
    per_block = h["cluster_size"] // width
    block = refcount_block(path, cluster // per_block)
    return block + (cluster % per_block) * width, width


def set_refcount(path, host, value):
    at, width = refcount_at(path, host)
    put(path, at, value.to_bytes(width, "big"))


def extension_offset(path, ext_type):
    off = hdr(path)["header_length"]
    while True:
        t, n = struct.unpack(">II", read_at(path, off, 8))
        if t == ext_type:
            return off
        assert t != EXT_END, f"extension 0x{ext_type:x} not found"
        off += 8 + (n + 7) // 8 * 8


def add_extension(path, ext_type, data):
    """Append an extension before the end marker (the header cluster must
    have room: no backing file name right after the extensions)."""
    end = extension_offset(path, EXT_END)
    pad = bytes((8 - len(data) % 8) % 8)
    put(path, end, be32(ext_type) + be32(len(data)) + data + pad + bytes(8))


def append_cluster(path, data=b""):
    """A cluster appended at the end of the file; its offset."""
    cs = hdr(path)["cluster_size"]
    size = os.path.getsize(path)
    at = -(-size // cs) * cs
    with open(path, "r+b") as f:
        f.truncate(at + cs)
        f.seek(at)
        f.write(data[:cs])
    return at


def make_luks_like(path):
    """Mark an image as LUKS-encrypted the way qemu-img create -o
    encrypt.format=luks does (encryption method 2, the full disk encryption
    header extension pointing at a cluster that starts with the LUKS magic)
    without running QEMU's key setup: that one benchmarks PBKDF2 and fails
    on a busy machine ("Unable to get accurate CPU usage"). Enough for
    every program that refuses encrypted images before touching their
    data, as ours does; QEMU itself could not open it."""
    luks = append_cluster(path, b"LUKS\xba\xbe\x00\x01")
    add_extension(path, EXT_CRYPTO, be64(luks) + be64(hdr(path)["cluster_size"]))
    put(path, HDR_CRYPT_METHOD, be32(2))


def swap_first_two_entries(path):
    """Rewrite the snapshot table with entries 0 and 1 swapped (QEMU keeps
    table order; old tools did not always append)."""
    h = hdr(path)
    (o0, e0), (o1, e1) = snap(path, 0), snap(path, 1)

    def length(e):
        return SN_FIXED + e["extra_data_size"] + e["id_len"] + e["name_len"]

    a = read_at(path, o0, length(e0))
    b = read_at(path, o1, length(e1))
    table = b + bytes((8 - len(b) % 8) % 8) + a
    assert o0 == h["snapshots_offset"]
    assert len(table) <= o1 - o0 + length(e1) + 8
    put(path, o0, table)


def set_snapshot_id(path, i, new_id):
    """Change entry i's ID to one of the same length."""
    off, e = snap(path, i)
    assert len(new_id) == e["id_len"], "same length only"
    put(path, off + SN_FIXED + e["extra_data_size"], new_id.encode())
