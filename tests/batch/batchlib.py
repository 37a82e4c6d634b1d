# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers of the batch tests: a store of images real QEMU made, the VM
states of every image (SHA-256 through `qsnapfix extract`), and the
checks every step of a batch must pass."""
import hashlib
import json
import os
import struct
import subprocess

from qsnapfix_tests import fixtures, testlib
from qsnapfix_tests.stores import copy, guest_image  # noqa: F401
from qsnapfix_tests.testlib import BIN, Failure, check, check_eq, run

# Real images of ../shared used by the store: one snapshot written by
# qemu-kvm 1.0 and 1.2, two snapshots in one image, one QEMU 7.2 image
# that is compatible as it is.
REAL = ("qk10-a-default", "qk12-a-default", "qk10-f1-twosnaps",
        "m72k-a-pc-i440fx-1.4")


def real_images():
    """{name: path} of the real images, or None without ../shared."""
    d = os.path.join(testlib.CACHE, "shared-images")
    paths = {n: os.path.join(d, n + ".qcow2") for n in REAL}
    if not all(os.path.isfile(p) for p in paths.values()):
        return None
    return paths


def build_template(root):
    """The store the tests copy for every run (see test_batch.py)."""
    for d in ("real", "guest", "damaged", "mirror"):
        os.makedirs(os.path.join(root, d))
    real = real_images()
    if real:
        for n, p in real.items():
            copy(p, os.path.join(root, "real", n + ".qcow2"))
    g72 = guest_image(os.path.join(root, "guest", "qemu-7.2.qcow2"))
    qk10 = guest_image(os.path.join(root, "guest", "qk10-guest.qcow2"),
                       ["--as", "qemu-kvm-1.0"])
    guest_image(os.path.join(root, "guest", "qk12-guest.img"),
                ["--as", "qemu-kvm-1.2"])
    disk_only = os.path.join(root, "guest", "disk-only.qcow2")
    testlib.qemu_img("create", "-q", "-f", "qcow2", disk_only, "16M")
    testlib.qemu_img("snapshot", "-c", "before-upgrade", disk_only)
    with open(os.path.join(root, "notes.txt"), "w") as f:
        f.write("not an image\n")
    cut = copy(g72, os.path.join(root, "damaged", "stream-cut-short.qcow2"))
    size = fixtures.snapshot_entries(cut)[0][1]["vm_state_size32"]
    fixtures.set_vm_state_size(cut, 0, size // 2)
    bad = copy(g72, os.path.join(root, "damaged", "l1-past-eof.qcow2"))
    fixtures.patch(bad, 40, struct.pack(">Q", 1 << 40))
    dirty = copy(qk10, os.path.join(root, "damaged", "dirty.qcow2"))
    hd = fixtures.header_fields(dirty)
    fixtures.patch(dirty, 72, struct.pack(">Q",
                                          hd["incompatible_features"] | 1))
    copy(qk10, os.path.join(root, "in-use.qcow2"))
    # The same file reached twice: a symlink and a hard link elsewhere.
    os.symlink("../guest/qk10-guest.qcow2",
               os.path.join(root, "mirror", "alias.qcow2"))
    os.link(qk10, os.path.join(root, "mirror", "hardlink.qcow2"))


def clone_store(template, dest):
    """A private copy of the store (hard links become links again)."""
    subprocess.run(["cp", "-a", "--reflink=auto", template, dest], check=True)
    return dest


def images_with_state(root):
    """Every qcow2 image under root whose snapshots hold VM state, by real
    path (each file once)."""
    out = {}
    for d, _, files in os.walk(root):
        for f in sorted(files):
            p = os.path.realpath(os.path.join(d, f))
            if p in out or os.path.islink(os.path.join(d, f)):
                continue
            with open(p, "rb") as fh:
                if fh.read(4) != b"QFI\xfb":
                    continue
            try:
                info = testlib.qemu_img_info(p)
            except Failure:
                continue  # images qemu-img cannot open (damaged)
            snaps = [s for s in info.get("snapshots", [])
                     if s["vm-state-size"]]
            if snaps:
                out[p] = [s["name"] for s in snaps]
    return out


def vm_state_sha(image, snapshot, work):
    """SHA-256 of a snapshot's VM state (qsnapfix extract), or None when
    it cannot be read."""
    out = os.path.join(work, "vmstate.bin")
    p = run([BIN, "extract", image, "--snapshot", snapshot, "-o", out],
            ok_codes=None)
    if p.returncode != 0:
        return None
    h = testlib.sha256_file(out)
    os.unlink(out)
    return h


def states(root, work):
    """{(real path, snapshot name): sha256} of every VM state under root."""
    out = {}
    for image, names in images_with_state(root).items():
        for n in names:
            out[(image, n)] = vm_state_sha(image, n, work)
    return out


def qemu_check(image):
    """qemu-img check -U (images held by a writer too) as JSON."""
    p = run(["qemu-img", "check", "-U", "--output=json", image],
            ok_codes=None)
    try:
        return json.loads(p.stdout)
    except ValueError:
        raise Failure(f"qemu-img check {image}: exit {p.returncode}: "
                      f"{p.stderr}")


def check_images(root, what, allow_leaks=()):
    """qemu-img check of every image qemu-img can open under root: no
    corruption, no leak except in the images named (a kill mid-write
    leaks; qemu-img check -r leaks reclaims)."""
    for image in images_with_state(root):
        if "/damaged/" in image:
            continue  # damaged on purpose (test_batch.py checks their bytes)
        data = qemu_check(image)
        check(not data.get("corruptions") and not data.get("check-errors"),
              f"{what}: qemu-img check {image}: {data}")
        if image not in allow_leaks:
            check(not data.get("leaks"),
                  f"{what}: qemu-img check {image}: leaks {data}")


def fix_batch(*args, ok=(0, 15), timeout=900):
    """qsnapfix fix ... --output=json -> (exit code, report)."""
    p = run([BIN, "fix", *map(str, args), "--output=json"], ok_codes=ok,
            timeout=timeout)
    try:
        return p.returncode, json.loads(p.stdout)
    except ValueError:
        raise Failure(f"fix {args}: no JSON: {p.stdout[-400:]!r} "
                      f"{p.stderr[-400:]!r}")


def by_image(report, store):
    """{path relative to store: (status, exit code, {snapshot: (status,
    new sha256)})} of a batch report."""
    out = {}
    for im in report["images"]:
        snaps = {s["name"]: (s["status"], s["sha256"]["new"])
                 for s in im.get("snapshots", [])}
        out[os.path.relpath(im["image"], store)] = (
            im["status"], im["exit-code"], snaps)
    return out


def journal(path):
    """The journal's complete records (a line a kill cut short is not)."""
    out = []
    with open(path) as f:
        for line in f:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def sha256_bytes(b):
    return hashlib.sha256(b).hexdigest()
