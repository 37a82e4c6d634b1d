# SPDX-License-Identifier: GPL-2.0-or-later
"""The qcow2 fixture matrix, made by the real QEMU tools and cached.

    from qsnapfix_tests import fixtures
    for fx in fixtures.fixtures():
        fx.name, fx.path, fx.facts

Every image is produced by qemu-img, qemu-io and qemu-system-x86_64 (BIOS
only, TCG, `savevm` in the HMP monitor); the only hand edits are the few
snapshot-table patches documented in each builder below (they make shapes
QEMU 7.2 no longer writes itself but old qemu-kvm did, or that QEMU reads
but cannot create). Images are cached under
$QSNAPFIX_CACHE/fixtures-<hash of this file and testlib.py> so that a CI
run builds them once; the cache directory is filled under a lock and
renamed into place, so parallel tests are safe.

Never modify a fixture image: copy it first.

`facts` (a dict) says what each image is meant to show:
  compat            "0.10" | "1.1"
  cluster_size      bytes
  refcount_bits     1 | 16 | 64
  extended_l2       bool
  compression_type  "zlib" | "zstd"
  lazy_refcounts    bool
  data_file         file name of the external data file, or None
  snapshots         [{"name", "vmstate": bool}] in table order
  vmstate_shared    {name: True} for snapshots whose every VM state
                    cluster has refcount > 1 (shared with another
                    snapshot or the active L1), {name: False} for those
                    that share none
  compressed_guest  guest offsets of clusters written compressed
  compressed_vmstate  the VM state itself maps compressed clusters
  qemu_reference    how QEMU itself reads the VM state back:
                    "revert"  qemu-img snapshot -a on a copy, then
                              qemu-io 'read -b -v' (the usual way)
                    "source:<file>"  QEMU cannot revert this image
                              (refcount_bits=1: revert needs refcount 2);
                              <file> in the same directory is the image it
                              was converted from with `qemu-img amend`,
                              with the same VM state bytes
                    "guest"   the snapshot's VM state area is also the
                              active disk's data at the VM state offset:
                              read it with qemu-io 'read -v' (guest data
                              path, where QEMU does decompress)
  qemu_check_clean  qemu-img check reports no corruption and no leak
"""
import fcntl
import hashlib
import json
import os
import shutil
import struct
import subprocess
import time

from qsnapfix_tests import testlib

MIB = 1 << 20


class Fixture:
    def __init__(self, name, path, facts):
        self.name = name
        self.path = path
        self.facts = facts

    def __repr__(self):
        return f"Fixture({self.name!r})"


def _hash():
    h = hashlib.sha256()
    here = os.path.dirname(os.path.abspath(__file__))
    for f in ("fixtures.py", "testlib.py"):
        with open(os.path.join(here, f), "rb") as fh:
            h.update(fh.read())
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------
# Small helpers that read/patch the snapshot table (used by builders and by
# tests that damage images).

def header_fields(path):
    """The qcow2 header fields a test needs, read independently of qsnapfix."""
    with open(path, "rb") as f:
        h = f.read(112)
    (magic, version, backing_off, backing_len, cluster_bits, size, crypt,
     l1_size, l1_off, rt_off, rt_clusters, nb_snap, snap_off) = struct.unpack(
        ">IIQIIQIIQQIIQ", h[:72])
    d = dict(version=version, cluster_bits=cluster_bits,
             cluster_size=1 << cluster_bits, size=size, l1_size=l1_size,
             l1_table_offset=l1_off, refcount_table_offset=rt_off,
             refcount_table_clusters=rt_clusters, nb_snapshots=nb_snap,
             snapshots_offset=snap_off, backing_file_offset=backing_off,
             incompatible_features=0, header_length=72, refcount_order=4)
    if version >= 3:
        (d["incompatible_features"], d["compatible_features"],
         d["autoclear_features"], d["refcount_order"],
         d["header_length"]) = struct.unpack(">QQQII", h[72:104])
    return d


def snapshot_entries(path):
    """[(entry offset, fields dict)] of the snapshot table, in order."""
    hd = header_fields(path)
    out = []
    with open(path, "rb") as f:
        off = hd["snapshots_offset"]
        for _ in range(hd["nb_snapshots"]):
            off = (off + 7) & ~7
            f.seek(off)
            fixed = f.read(40)
            (l1_off, l1_size, id_len, name_len, date_sec, date_nsec, clock,
             vm32, extra_len) = struct.unpack(">QIHHIIQII", fixed)
            extra = f.read(extra_len)
            ident = f.read(id_len).decode(errors="replace")
            name = f.read(name_len).decode(errors="replace")
            out.append((off, dict(l1_table_offset=l1_off, l1_size=l1_size,
                                  id=ident, name=name, extra_data_size=extra_len,
                                  vm_state_size32=vm32, id_len=id_len,
                                  name_len=name_len)))
            off += 40 + extra_len + id_len + name_len
    return out


def patch(path, offset, data):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def set_vm_state_size(path, index, size, disk_size=None):
    """Set a snapshot's VM state size (both fields) and maybe its disk size,
    the way QEMU writes them (32-bit field 0 when the size needs 64 bits)."""
    off, e = snapshot_entries(path)[index]
    assert e["extra_data_size"] >= 16, "entry without 64-bit size field"
    patch(path, off + 32, struct.pack(">I", size if size < 1 << 32 else 0))
    patch(path, off + 40, struct.pack(">Q", size))
    if disk_size is not None:
        patch(path, off + 48, struct.pack(">Q", disk_size))


# --------------------------------------------------------------------------
# Builders. Each makes its image(s) in directory d and returns facts.

def _create(path, size="16M", **opts):
    args = ["create", "-q", "-f", "qcow2"]
    if opts:
        args += ["-o", ",".join(f"{k}={v}" for k, v in opts.items())]
    testlib.qemu_img(*args, path, size)


def _io(path, *cmds):
    testlib.qemu_io(path, *cmds)


def _guest_data(path, cs, compressed=True):
    """Normal, compressed and zero clusters in the guest area."""
    cmds = [f"write -P 0x11 0 {2 * cs}", f"write -z {4 * cs} {cs}"]
    if compressed:
        cmds.append(f"write -c -P 0x22 {2 * cs} {cs}")
        cmds.append(f"write -c -P 0x23 {3 * cs} {cs}")
    _io(path, *cmds)
    return [2 * cs, 3 * cs] if compressed else []


def _savevm(path, steps):
    """Boot the BIOS once and run monitor commands in order."""
    mon = testlib.Monitor(["-M", "pc", "-m", "64", "-nodefaults", "-drive",
                           f"file={path},format=qcow2,if=ide"])
    try:
        for i, cmd in enumerate(steps):
            if i == 0 or cmd.startswith("savevm"):
                time.sleep(0.3)  # let the BIOS run so VM states differ
            out = mon.cmd(cmd)
            testlib.check("rror" not in out, f"{cmd}: {out}")
    finally:
        mon.quit()


def _base_facts(**kw):
    facts = dict(compat="1.1", cluster_size=65536, refcount_bits=16,
                 extended_l2=False, compression_type="zlib",
                 lazy_refcounts=False, data_file=None, snapshots=[],
                 vmstate_shared={}, compressed_guest=[],
                 compressed_vmstate=False, qemu_reference="revert",
                 qemu_check_clean=True)
    facts.update(kw)
    return facts


def build_v2_multi(d):
    """compat 0.10: two savevm snapshots with a disk-only one between."""
    p = os.path.join(d, "v2-multi.qcow2")
    _create(p, compat="0.10")
    comp = _guest_data(p, 65536)
    _savevm(p, ["savevm s1", "snapshot_blkdev_internal ide0-hd0 d1",
                "savevm s2"])
    return p, _base_facts(
        compat="0.10", compressed_guest=comp,
        snapshots=[dict(name="s1", vmstate=True),
                   dict(name="d1", vmstate=False),
                   dict(name="s2", vmstate=True)],
        vmstate_shared=dict(s1=False, s2=False))


def build_v3_reverted(d):
    """compat 1.1: savevm s1, a disk-only d1, savevm s2; then
    `qemu-img snapshot -a s1`, which makes s1's VM state shared with the
    active L1 (refcount 2), as after any loadvm."""
    p = os.path.join(d, "v3-reverted.qcow2")
    _create(p)
    comp = _guest_data(p, 65536)
    _savevm(p, ["savevm s1", "snapshot_blkdev_internal ide0-hd0 d1",
                "savevm s2"])
    testlib.qemu_img("snapshot", "-a", "s1", p)
    return p, _base_facts(
        compressed_guest=comp,
        snapshots=[dict(name="s1", vmstate=True),
                   dict(name="d1", vmstate=False),
                   dict(name="s2", vmstate=True)],
        vmstate_shared=dict(s1=True, s2=False))


def build_prediscard_shared(d):
    """The layout old qemu-kvm left (no discard after savevm): the VM state
    is written through the active L1, then two snapshots are taken, so both
    snapshots and the active L1 share every VM state cluster (refcount 3).
    Made with qemu-io 'write -b' and two `qemu-img snapshot -c`; the two
    entries' VM state sizes are then patched in (qemu-img snapshot -c
    writes 0)."""
    p = os.path.join(d, "prediscard-shared.qcow2")
    _create(p)
    size = 5 * 65536 + 4321  # not cluster aligned, as real streams
    _io(p, "write -b -P 0x51 0 131072", "write -b -P 0x52 131072 131072",
        f"write -b -P 0x53 262144 {((size - 262144) + 511) // 512 * 512}")
    testlib.qemu_img("snapshot", "-c", "a", p)
    testlib.qemu_img("snapshot", "-c", "b", p)
    set_vm_state_size(p, 0, size)
    set_vm_state_size(p, 1, size)
    return p, _base_facts(
        snapshots=[dict(name="a", vmstate=True), dict(name="b", vmstate=True)],
        vmstate_shared=dict(a=True, b=True))


def _simple(name, opts, facts, compressed=True, steps=("savevm s1",)):
    def build(d):
        p = os.path.join(d, f"{name}.qcow2")
        _create(p, **opts)
        comp = _guest_data(p, facts.get("cluster_size", 65536), compressed)
        _savevm(p, list(steps))
        snaps = [dict(name=s.split()[1], vmstate=True) for s in steps]
        return p, _base_facts(compressed_guest=comp, snapshots=snaps,
                              vmstate_shared={s["name"]: False for s in snaps},
                              **facts)
    build.__name__ = f"build_{name}"
    build.__doc__ = f"qemu-img create -o {opts}; guest data; {list(steps)}"
    return build


def build_rc1(d):
    """refcount_bits=1: savevm fails on such an image (a snapshot needs
    refcount 2), so the snapshot is taken on a refcount_bits=16 image
    (QEMU 7.2 discards the VM state from the active L1 afterwards, so every
    cluster has refcount 1) and the image is converted in place with
    `qemu-img amend -o refcount_bits=1`. The unconverted copy is kept as
    rc1-source.qcow2: QEMU cannot revert the rc1 image (that needs
    refcount 2), so QEMU's view of the VM state is read from the source,
    whose VM state bytes amend does not touch."""
    src = os.path.join(d, "rc1-source.qcow2")
    p = os.path.join(d, "rc1.qcow2")
    _create(src)
    _savevm(src, ["savevm s1"])
    shutil.copyfile(src, p)
    testlib.qemu_img("amend", "-o", "refcount_bits=1", p)
    return p, _base_facts(
        refcount_bits=1, snapshots=[dict(name="s1", vmstate=True)],
        vmstate_shared=dict(s1=False), qemu_reference="source:rc1-source.qcow2")


def _build_compressed_vmstate(name, compression):
    def build(d):
        """A VM state that maps compressed, zero, normal and unallocated
        clusters. QEMU never writes VM state compressed (qemu-io 'write -b
        -c' silently writes plain clusters), but it reads any cluster type.
        Made as: a 1 GiB disk (one L2 table maps 512 MiB) with compressed
        writes at guest 512 MiB, a disk-only snapshot, then the entry's
        disk size is patched to 16 MiB, which moves its VM state base to
        512 MiB, and its VM state size to 5 clusters - 100 bytes."""
        p = os.path.join(d, f"{name}.qcow2")
        cs = 65536
        base = 512 * MIB
        _create(p, size="1G", compression_type=compression)
        _io(p, f"write -c -P 0x61 {base} {cs}",
            f"write -z {base + cs} {cs}",
            f"write -P 0x62 {base + 2 * cs} {cs}",
            f"write -c -P 0x63 {base + 4 * cs} {cs}")
        testlib.qemu_img("snapshot", "-c", "c1", p)
        set_vm_state_size(p, 0, 5 * cs - 100, disk_size=16 * MIB)
        return p, _base_facts(
            compression_type=compression, compressed_vmstate=True,
            snapshots=[dict(name="c1", vmstate=True)],
            vmstate_shared=dict(c1=True),  # shared with the active L1
            compressed_guest=[base, base + 4 * cs], qemu_reference="guest")
    build.__name__ = f"build_{name}"
    return build


def run_beside(fx_path, argv):
    """Run a QEMU tool in the image's directory: QEMU resolves a relative
    data file name against the current directory, not the image's."""
    p = subprocess.run(argv, cwd=os.path.dirname(fx_path),
                       capture_output=True, text=True, timeout=600)
    testlib.check(p.returncode == 0,
                  f"{' '.join(argv)}: exit {p.returncode}: {p.stderr}")
    return p


def build_data_file(d):
    """An external data file (no internal snapshots are possible there)."""
    p = os.path.join(d, "datafile.qcow2")
    run_beside(p, ["qemu-img", "create", "-q", "-f", "qcow2", "-o",
                   "data_file=datafile-data.raw", p, "16M"])
    run_beside(p, ["qemu-io", "-f", "qcow2", "-c", "write -P 0x71 0 131072",
                   "-c", "write -z 262144 65536",
                   "-c", "write -P 0x72 1048576 65536", p])
    return p, _base_facts(data_file="datafile-data.raw")


def build_overlay(d):
    """A backing file and its overlay (backing name and format extension)."""
    base = os.path.join(d, "overlay-base.qcow2")
    p = os.path.join(d, "overlay.qcow2")
    _create(base)
    _io(base, "write -P 0x41 0 131072")
    testlib.qemu_img("create", "-q", "-f", "qcow2", "-b", "overlay-base.qcow2",
                     "-F", "qcow2", p)
    _io(p, "write -P 0x42 65536 65536")
    return p, _base_facts()


BUILDERS = [
    build_v2_multi,
    build_v3_reverted,
    build_prediscard_shared,
    _simple("c512", dict(cluster_size=512), dict(cluster_size=512)),
    _simple("c4k", dict(cluster_size=4096), dict(cluster_size=4096)),
    _simple("c2m", dict(cluster_size="2M"), dict(cluster_size=2 * MIB)),
    build_rc1,
    _simple("rc64", dict(refcount_bits=64), dict(refcount_bits=64)),
    _simple("xl2", dict(extended_l2="on"), dict(extended_l2=True),
            steps=("savevm s1", "savevm s2")),
    _simple("zstd", dict(compression_type="zstd"),
            dict(compression_type="zstd")),
    _simple("lazy", dict(lazy_refcounts="on"), dict(lazy_refcounts=True)),
    _build_compressed_vmstate("cvm-zlib", "zlib"),
    _build_compressed_vmstate("cvm-zstd", "zstd"),
    build_data_file,
    build_overlay,
]


def _build_all(d):
    index = []
    for b in BUILDERS:
        path, facts = b(d)
        index.append(dict(name=os.path.basename(path)[:-len(".qcow2")],
                          file=os.path.basename(path), facts=facts))
    with open(os.path.join(d, "index.json"), "w") as f:
        json.dump(index, f, indent=1)


def _remove_stale(keep):
    """Drop fixtures made by other versions of this file once unused for
    three days (other checkouts sharing the cache may still be using them)."""
    for entry in os.listdir(testlib.CACHE):
        path = os.path.join(testlib.CACHE, entry)
        try:
            age = time.time() - os.stat(path).st_mtime
        except FileNotFoundError:
            continue
        if (entry.startswith("fixtures-") and path != keep
                and age > 3 * 86400):
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)


def cache_dir():
    return os.path.join(testlib.CACHE, f"fixtures-{_hash()}")


def fixtures():
    """Build (once per cache) and return [Fixture]."""
    final = cache_dir()
    os.makedirs(testlib.CACHE, exist_ok=True)
    if not os.path.exists(os.path.join(final, "index.json")):
        with open(final + ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not os.path.exists(os.path.join(final, "index.json")):
                tmp = f"{final}.tmp-{os.getpid()}"
                shutil.rmtree(tmp, ignore_errors=True)
                os.makedirs(tmp)
                _build_all(tmp)
                shutil.rmtree(final, ignore_errors=True)
                os.rename(tmp, final)
                _remove_stale(final)
    os.utime(final)  # in use: see _remove_stale
    with open(os.path.join(final, "index.json")) as f:
        index = json.load(f)
    return [Fixture(e["name"], os.path.join(final, e["file"]), e["facts"])
            for e in index]


def fixture(name):
    for fx in fixtures():
        if fx.name == name:
            return fx
    raise KeyError(name)


def qemu_vmstate(fx, snapshot, length):
    """The VM state bytes of snapshot as QEMU itself reads them (cached
    beside the image; see facts["qemu_reference"])."""
    cached = os.path.join(os.path.dirname(fx.path),
                          f"{fx.name}.{snapshot}.qemu-vmstate")
    if os.path.exists(cached):
        with open(cached, "rb") as f:
            data = f.read()
        if len(data) == length:
            return data
    ref = fx.facts["qemu_reference"]
    work = testlib.workdir("qemu-vmstate")
    try:
        if ref == "revert":
            data = testlib.read_vmstate_via_qemu(fx.path, snapshot, length,
                                                 work)
        elif ref.startswith("source:"):
            src = os.path.join(os.path.dirname(fx.path), ref[len("source:"):])
            data = testlib.read_vmstate_via_qemu(src, snapshot, length, work)
        elif ref == "guest":
            base = 512 * MIB
            n = (length + 511) // 512 * 512
            p = testlib.run(["qemu-io", "-r", "-f", "qcow2", "-c",
                             f"read -v {base} {n}", fx.path])
            data = testlib.parse_qemu_io_dump(p.stdout, base, n)[:length]
        else:
            raise ValueError(ref)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    tmp = f"{cached}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, cached)
    return data


if __name__ == "__main__":
    for fx in fixtures():
        print(fx.name, fx.path)
