#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A libvirt user's path, end to end, with a real libvirtd: the project's
guest runs as a libvirt domain (TCG, pc-i440fx-1.4, qcow2 disk, cirrus,
rtl8139, COM1 in a file); `virsh snapshot-create-as` takes an internal
snapshot with memory; `qsnapfix oldify` reshapes it like qemu-kvm 1.0 or
1.2 wrote it; `virsh snapshot-revert` fails; `qsnapfix fix` fixes it;
contrib/libvirt/qsnapfix-libvirt merges the recipe into the domain and the
snapshot's metadata; `virsh snapshot-revert` now resumes the guest (its
counter continues, no boot line)."""
import json
import os
import re
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET

import lvlib
from lvlib import Guest, Libvirtd
from qsnapfix_tests import guest_fixture
from qsnapfix_tests.testlib import BIN, SRC, check, check_eq, main, run, skip

HELPER = os.path.join(SRC, "contrib", "libvirt", "qsnapfix-libvirt")
SEABIOS = "/usr/share/seabios/bios.bin"
SAVE_AT = 10  # the guest's counter when the snapshot is taken
LV = WORK = None  # the daemon and the work directory (set by __main__)


def helper(lv, report, *args, ok=(0,)):
    return run([sys.executable, HELPER, "--connect", lv.uri, *args, report],
               ok_codes=ok)


def fix(image, workdir, *args):
    p = run([BIN, "fix", image, *args, "--output=json"])
    path = os.path.join(workdir, "fix.json")
    with open(path, "w") as f:
        f.write(p.stdout)
    snap = json.loads(p.stdout)["snapshots"][0]
    check_eq(snap["status"], "fixed", "fix status")
    return path, snap


def check_refused(guest, snap, qemu_error):
    p = guest.revert(snap)
    check(p.returncode != 0, "the reshaped snapshot reverted unfixed")
    check(qemu_error in p.stderr, f"revert error: {p.stderr}")
    state = guest.virsh("domstate", guest.name).stdout.strip()
    check_eq(state, "shut off", "domain state after the failed revert")
    print(f"unfixed: snapshot-revert fails: {qemu_error}")


def without_commandline(text):
    """The XML without <qemu:commandline> (as the domain of a qemu-kvm 1.2
    host was: libvirt knew nothing of the BIOS flash qemu-kvm made)."""
    root = ET.fromstring(text)
    for parent in [root, *root.findall("domain"),
                   *root.findall("inactiveDomain")]:
        for cmd in parent.findall(f"{{{lvlib.QEMU_NS}}}commandline"):
            parent.remove(cmd)
    return ET.tostring(root, encoding="unicode")


def forget_flash(guest, snap):
    """Drop the fixture's flash drive from the domain and the snapshot."""
    for kind, dump, define in (
            ("snapshot", ("snapshot-dumpxml", guest.name, snap,
                          "--security-info"),
             ("snapshot-create", guest.name, "--redefine")),
            ("domain", ("dumpxml", guest.name, "--inactive",
                        "--security-info"), ("define",))):
        path = os.path.join(guest.dir, f"{kind}-noflash.xml")
        with open(path, "w") as f:
            f.write(without_commandline(guest.virsh(*dump).stdout))
        guest.virsh(*define, path)


def dump_all(guest, snap):
    return (guest.virsh("dumpxml", guest.name, "--inactive").stdout,
            guest.virsh("snapshot-dumpxml", guest.name, snap).stdout)


def test_qemu_kvm_10_shape():
    lv, workdir = LV, WORK
    g = Guest(lv, workdir, "qk10")
    g.virsh("start", g.name)
    saved = g.snapshot("s1", at_least=SAVE_AT)
    g.virsh("destroy", g.name)
    run([BIN, "oldify", g.image, "--snapshot", "s1", "--as", "qemu-kvm-1.0"])
    check_refused(g, "s1", "Size mismatch: vga.vram")

    report, snap = fix(g.image, g.dir)
    # the domain's own options (virsh domxml-to-native) with the recipe:
    # the fixed snapshot loads, paused, before the domain is changed
    p = run([BIN, "prove", g.image, "--domain", g.name, "--output=json"],
            env=dict(os.environ, LIBVIRT_DEFAULT_URI=lv.uri))
    proof = json.loads(p.stdout)["snapshots"][0]
    check_eq((proof["status"], proof["run-state"]), ("loads", "paused"),
             f"prove --domain: {proof['reason']}")
    rom = [f for f in snap["recipe"]["files"] if f["kind"] == "rom"]
    check_eq([f["block"] for f in rom], ["0000:00:03.0/rtl8139.rom"],
             "ROM files of the recipe")
    before = dump_all(g, "s1")
    p = helper(lv, report, "--domain", g.name)
    check_eq(dump_all(g, "s1"), before, "domain and snapshot after a dry run")
    # the domain, and the snapshot's saved <domain> and <inactiveDomain>
    added = [x for x in p.stdout.splitlines() if x.startswith("+ ")]
    for text in (f'<rom file="{rom[0]["path"]}" />',
                 '<qemu:arg value="cirrus-vga.vgamem_mb=16" />'):
        check_eq(sum(x.strip("+ ") == text for x in added), 3,
                 f"lines adding {text} in the dry-run diff")

    g.virsh("start", "--paused", g.name)
    p = helper(lv, report, "--domain", g.name, "--apply", ok=(6,))
    check("is running" in p.stderr or "is paused" in p.stderr,
          f"--apply on a started domain: {p.stderr}")
    g.virsh("destroy", g.name)
    check_eq(dump_all(g, "s1"), before, "domain and snapshot after a refusal")

    p = helper(lv, report, "--domain", g.name, "--apply")
    check("redefined in place" in p.stderr, f"helper: {p.stderr}")
    dom, snapxml = dump_all(g, "s1")
    for xml, what in ((dom, "domain"), (snapxml, "snapshot")):
        check(f"<rom file='{rom[0]['path']}'/>" in xml, f"{what}: no rom")
        check("<qemu:arg value='cirrus-vga.vgamem_mb=16'/>" in xml,
              f"{what}: no vgamem_mb")
    again = helper(lv, report, "--domain", g.name)
    check_eq(again.stdout, "", "a second dry run's diff")
    g.check_resumes("s1", saved)
    with open(report) as f:
        other = dict(json.load(f), image=os.path.join(g.dir, "other.qcow2"))
    with open(report, "w") as f:
        json.dump(other, f)
    p = helper(lv, report, "--domain", g.name, ok=(2,))
    check("none of its disks" in p.stderr, f"another image: {p.stderr}")
    g.virsh("destroy", g.name)


def test_qemu_kvm_12_shape_flash_bios():
    """qemu-kvm 1.2 under TCG mapped the BIOS as flash. The fixture boots
    with a pflash drive libvirt does not know of (<qemu:commandline>), takes
    s1 and a child s2, reshapes s1 like qemu-kvm 1.2 (system.flash, no
    hpet) and drops the drive from the XML, as the domain of such a host
    had none. The recipe brings the flash and hpet=off; libvirt refuses to
    redefine s1 in place (a new timer fails its ABI check), so the helper
    defines it again and links s2 back."""
    lv, workdir = LV, WORK
    if not os.path.isfile(SEABIOS):
        skip(f"{SEABIOS} is missing (Debian package seabios)")
    drive = f"if=pflash,format=raw,unit=0,readonly=on,file={SEABIOS}"
    g = Guest(lv, workdir, "qk12", commandline=("-drive", drive))
    g.virsh("start", g.name)
    saved = g.snapshot("s1", at_least=SAVE_AT)
    g.virsh("resume", g.name)
    g.snapshot("s2", at_least=saved + 3)
    g.virsh("destroy", g.name)
    run([BIN, "oldify", g.image, "--snapshot", "s1", "--as", "qemu-kvm-1.2"])
    forget_flash(g, "s1")
    check_refused(g, "s1", "Size mismatch: vga.vram")

    report, snap = fix(g.image, g.dir, "--snapshot", "s1")
    args = snap["recipe"]["qemu-args"]
    check("hpet=off" in args, f"recipe: {args}")
    flash = [f["path"] for f in snap["recipe"]["files"]
             if f["kind"] == "pflash"]
    check_eq(len(flash), 1, "pflash files")
    with open(flash[0], "rb") as a, open(SEABIOS, "rb") as b:
        check(a.read() == b.read(), "the extracted flash is the BIOS")
    check_eq(g.virsh("snapshot-current", g.name, "--name").stdout.strip(),
             "s2", "current snapshot before")

    p = helper(lv, report, "--domain", g.name, "--snapshot", "s1", "--apply")
    check("deleted and defined again" in p.stderr and "timers" in p.stderr
          and "s2 linked back" in p.stderr, f"helper: {p.stderr}")
    check_eq(g.virsh("snapshot-parent", g.name, "s2").stdout.strip(), "s1",
             "parent of s2 after the helper")
    check_eq(g.virsh("snapshot-current", g.name, "--name").stdout.strip(),
             "s2", "current snapshot after the helper")
    snapxml = g.virsh("snapshot-dumpxml", g.name, "s1").stdout
    check(re.search(r"<timer name='hpet' present='no'/>", snapxml) and
          f"file={flash[0]}" in snapxml, f"s1 metadata: {snapxml}")
    g.check_resumes("s1", saved)
    # the flash on QEMU's command line keeps internal snapshots possible
    # (libvirt refuses them for a domain with a pflash <loader>)
    g.virsh("suspend", g.name)
    p = g.virsh("snapshot-create-as", g.name, "s3", ok=None)
    check(p.returncode == 0, f"a new snapshot after the fix: {p.stderr}")
    print("a new internal snapshot of the fixed domain: taken")
    g.virsh("destroy", g.name)


if __name__ == "__main__":
    if guest_fixture.guest_elf() is None:
        skip("the test guest is not built (QSNAPFIX_GUEST)")
    WORK = tempfile.mkdtemp(prefix="qsnapfix-libvirt-")
    try:
        with Libvirtd(WORK) as LV:
            main([test_qemu_kvm_10_shape, test_qemu_kvm_12_shape_flash_bios])
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
