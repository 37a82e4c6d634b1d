# SPDX-License-Identifier: GPL-2.0-or-later
"""qcow2 images whose guest the test knows, for guest inspection
(`scan --guest`, src/app/guest_inspect.c).

Each image holds an ext4 root filesystem built with `mkfs.ext4 -d` from a
tree carrying what libguestfs's inspection reads on a Linux root: /etc and
/bin (a directory, or Debian 12's /bin -> usr/bin symlink), /etc/fstab, the
release files (os-release, lsb-release, debian_version, redhat-release),
the hostname file, and a real ELF /bin/sh (a copy of this host's, from
which the architecture is read). No kernel, no init: nothing boots them;
libguestfs only mounts them.

  debian12.qcow2    Debian 12.7 (os-release with a major-only VERSION_ID,
                    so libguestfs reads debian_version), whole-disk ext4,
                    /bin -> usr/bin; a snapshot with VM state ("running")
  ubuntu.qcow2      MBR partition 1: Ubuntu 12.10 (lsb-release, no
                    os-release) on the active disk; its disk-only snapshot
                    "precise" holds the same disk before the upgrade:
                    Ubuntu 12.04
  fedora17.qcow2    Fedora 17 (redhat-release, hostname in
                    /etc/sysconfig/network as before F18)
  no-os.qcow2       an ext4 filesystem with files, no operating system

EXPECTED maps each (image, snapshot or None) to what inspection reports;
build() writes it beside the images as expected.json for the C tests.
"""
import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile

from qsnapfix_tests.testlib import qemu_img, run, savevm

FS_BYTES = 32 << 20
PART_START = 1 << 20  # the first partition, at sector 2048


def _arch():
    machine = platform.machine()
    return {"amd64": "x86_64", "i686": "i386"}.get(machine, machine)


ARCH = _arch()

DEBIAN_OS_RELEASE = """\
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
"""


def _lsb(release, codename, description):
    return (f"DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE={release}\n"
            f"DISTRIB_CODENAME={codename}\n"
            f'DISTRIB_DESCRIPTION="{description}"\n')


FSTAB = "LABEL=root / ext4 errors=remount-ro 0 1\n"

# (files: path -> text, usrmerge: /bin is a symlink to usr/bin)
TREES = {
    "debian12": ({
        "etc/os-release": DEBIAN_OS_RELEASE,
        "etc/debian_version": "12.7\n",
        "etc/hostname": "bookworm-guest\n",
        "etc/fstab": FSTAB,
    }, True),
    "precise": ({
        "etc/lsb-release": _lsb("12.04", "precise", "Ubuntu 12.04.5 LTS"),
        "etc/debian_version": "wheezy/sid\n",
        "etc/hostname": "precise-guest\n",
        "etc/fstab": FSTAB,
    }, False),
    "quantal": ({
        "etc/lsb-release": _lsb("12.10", "quantal", "Ubuntu 12.10"),
        "etc/debian_version": "wheezy/sid\n",
        "etc/hostname": "quantal-guest\n",
        "etc/fstab": FSTAB,
    }, False),
    "fedora17": ({
        "etc/fedora-release": "Fedora release 17 (Beefy Miracle)\n",
        "etc/redhat-release": "Fedora release 17 (Beefy Miracle)\n",
        "etc/sysconfig/network": "NETWORKING=yes\nHOSTNAME=beefy-guest\n",
        "etc/fstab": FSTAB,
    }, False),
    "no-os": ({
        "data/README": "a data disk: no operating system here\n",
        "data/notes/2012.txt": "nothing to boot\n",
    }, None),
}


def _os(distro, product, major, minor, hostname, root):
    return {"type": "linux", "distro": distro, "product_name": product,
            "major_version": major, "minor_version": minor,
            "hostname": hostname, "arch": ARCH, "root": root}


# Debian: libguestfs takes the product name from debian_version's line
# when os-release gives no minor version (its parse_generic).
EXPECTED = {
    ("debian12.qcow2", None): [_os("debian", "12.7", 12, 7,
                                   "bookworm-guest", "/dev/sda")],
    ("ubuntu.qcow2", None): [_os("ubuntu", "Ubuntu 12.10", 12, 10,
                                 "quantal-guest", "/dev/sda1")],
    ("ubuntu.qcow2", "precise"): [_os("ubuntu", "Ubuntu 12.04.5 LTS", 12, 4,
                                      "precise-guest", "/dev/sda1")],
    ("fedora17.qcow2", None): [_os("fedora",
                                   "Fedora release 17 (Beefy Miracle)", 17, 0,
                                   "beefy-guest", "/dev/sda")],
    ("no-os.qcow2", None): [],
}

IMAGES = sorted({image for image, _ in EXPECTED})


def _tree(root, name):
    files, usrmerge = TREES[name]
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    if usrmerge is None:
        return
    bindir = os.path.join(root, "usr/bin" if usrmerge else "bin")
    os.makedirs(bindir, exist_ok=True)
    shutil.copy(os.path.realpath("/bin/sh"), os.path.join(bindir, "sh"))
    if usrmerge:
        os.symlink("usr/bin", os.path.join(root, "bin"))


def _mkfs(work, name, target, offset=0):
    """An ext4 filesystem (label "root") of the tree, at offset in target."""
    tree = os.path.join(work, name)
    _tree(tree, name)
    run(["mkfs.ext4", "-q", "-F", "-L", "root", "-d", tree,
         "-E", f"offset={offset}", target, str(FS_BYTES // 1024)])


def _partitioned(work, name):
    """A raw disk with an MBR and one Linux partition holding the tree."""
    raw = os.path.join(work, name + ".raw")
    with open(raw, "wb") as f:
        f.truncate(PART_START + FS_BYTES)
    run(["sfdisk", "-q", raw],
        input=f"label: dos\nstart={PART_START // 512}, type=83\n")
    _mkfs(work, name, raw, PART_START)
    return raw


def _whole_disk(work, name):
    raw = os.path.join(work, name + ".raw")
    _mkfs(work, name, raw)
    return raw


def _to_qcow2(raw, dest):
    qemu_img("convert", "-f", "raw", "-O", "qcow2", raw, dest)


def _recipe_hash():
    with open(__file__, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def build(outdir):
    """Make every image in outdir, once: a stamp says they are complete
    and made by this very recipe (this file)."""
    stamp = os.path.join(outdir, "complete")
    if os.path.exists(stamp):
        with open(stamp) as f:
            if f.read() == _recipe_hash():
                return outdir
    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir)
    work = tempfile.mkdtemp(prefix="qsnapfix-guest-images-")
    try:
        debian = os.path.join(outdir, "debian12.qcow2")
        _to_qcow2(_whole_disk(work, "debian12"), debian)
        savevm(debian, ["running"])

        ubuntu = os.path.join(outdir, "ubuntu.qcow2")
        _to_qcow2(_partitioned(work, "precise"), ubuntu)
        qemu_img("snapshot", "-c", "precise", ubuntu)
        # The upgrade, in place: the active disk gets the 12.10 bytes
        # (-n: into the existing image, above its snapshot).
        qemu_img("convert", "-n", "-f", "raw", "-O", "qcow2",
                 _partitioned(work, "quantal"), ubuntu)

        _to_qcow2(_whole_disk(work, "fedora17"),
                  os.path.join(outdir, "fedora17.qcow2"))
        _to_qcow2(_whole_disk(work, "no-os"),
                  os.path.join(outdir, "no-os.qcow2"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with open(os.path.join(outdir, "expected.json"), "w") as f:
        json.dump([{"image": image, "snapshot": snapshot, "os": os_list}
                   for (image, snapshot), os_list in EXPECTED.items()],
                  f, indent=2)
    with open(stamp, "w") as f:
        f.write(_recipe_hash())
    return outdir

