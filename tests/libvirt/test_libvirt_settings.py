#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Every device setting the resume recipe can ask for, through a real
libvirtd: recipe_settings (recipe.c and src/libvirt/render.c) prints each
setting with its QEMU arguments and libvirt XML;
contrib/libvirt/qsnapfix-libvirt merges the XML into a small domain with
the device it is about; the domain is started paused, and QEMU's own
`info ramblock` / `info qtree` must show what the setting is for (a RAM
block of the stream's length, a device property, no HPET), where the same
domain without the recipe does not.

Also pinned here, as libvirt 9.0 behaves: cirrus ignores <video vram>
(hence the recipe's -global), a read-only pflash <loader> wants an NVRAM
template, and a domain with a pflash <loader> gets no internal snapshots
(hence the recipe's flash on QEMU's command line)."""
import json
import os
import shutil
import sys
import tempfile

import lvlib
from lvlib import Libvirtd
from qsnapfix_tests.testlib import SRC, check, check_eq, main, run, skip

HELPER = os.path.join(SRC, "contrib", "libvirt", "qsnapfix-libvirt")
BUILD = os.environ.get("QSNAPFIX_BUILD") or os.path.join(SRC, "build")
PROBE = os.path.join(BUILD, "tests", "libvirt", "recipe_settings")
SEABIOS = "/usr/share/seabios/bios.bin"          # 128 KiB
SEABIOS_256K = "/usr/share/seabios/bios-256k.bin"
# QEMU device -> libvirt model (libvirt's names, not the recipe's table)
VIDEO = {"cirrus-vga": "cirrus", "VGA": "vga", "vmware-svga": "vmvga",
         "qxl-vga": "qxl"}
NIC = {"rtl8139": "rtl8139", "e1000": "e1000", "virtio-net-pci": "virtio",
       "ne2k_pci": "ne2k_pci", "pcnet": "pcnet", "i82551": "i82551",
       "i82557b": "i82557b", "i82559er": "i82559er"}
# QEMU device -> the libvirt element that creates it
DEVICE = {"intel-hda": "<sound model='ich6'/>",
          "virtio-serial-pci": "<controller type='virtio-serial' index='0'/>"}
LV = WORK = None  # set by __main__


class Observed:
    """What QEMU created for a domain started paused."""

    def __init__(self, ramblock, qtree):
        self.blocks = {}
        for line in ramblock.splitlines()[1:]:
            f = line.split()
            if len(f) >= 5:  # name, page size (2 words), offset, used, total
                self.blocks[f[0]] = int(f[-2], 16)
        self.qtree = qtree

    def block(self, match):
        """Length of the block `match` names ("/suffix": any PCI path)."""
        for name, length in self.blocks.items():
            if name == match or (match.startswith("/") and
                                 name.endswith(match)):
                return length
        return None

    def device_lines(self, driver):
        """The property lines of every `dev: DRIVER` in info qtree."""
        out = []
        for chunk in self.qtree.split("dev: ")[1:]:
            if chunk.startswith(driver + ","):
                out.extend(x.strip() for x in chunk.splitlines()[1:])
        return out


_seen = {}


def observe(name, xml):
    """Define, start paused, ask QEMU, destroy. Cached by XML text."""
    if xml in _seen:
        return _seen[xml]
    path = os.path.join(WORK, f"{name}.xml")
    with open(path, "w") as f:
        f.write(xml)
    LV.virsh("define", path)
    try:
        LV.virsh("start", "--paused", name)
        hmp = ("qemu-monitor-command", name, "--hmp")
        obs = Observed(LV.virsh(*hmp, "info ramblock").stdout,
                       LV.virsh(*hmp, "info qtree").stdout)
        LV.virsh("destroy", name)
    finally:
        LV.virsh("undefine", name, ok=None)
    _seen[xml] = obs
    return obs


def with_recipe(name, xml, recipe):
    """The domain XML after qsnapfix-libvirt --xml merged recipe."""
    base = os.path.join(WORK, f"{name}.base.xml")
    report = os.path.join(WORK, f"{name}.fix.json")
    with open(base, "w") as f:
        f.write(xml)
    with open(report, "w") as f:
        json.dump({"image": None, "snapshots": [
            {"id": "1", "name": "s1", "status": "fixed", "recipe": recipe}]},
            f)
    return run([sys.executable, HELPER, "--xml", base, report, "-o",
                "-"]).stdout


def expectation_met(setting, obs):
    want = setting["expect"]
    if "block" in want:
        return obs.block(want["block"]) == want["length"]
    if "property" in want:
        return want["property"] in obs.device_lines(setting["driver"])
    return ("dev: hpet," in obs.qtree) == want["hpet"]


def describe(setting, obs):
    want = setting["expect"]
    if "block" in want:
        return f"block {want['block']}: {obs.block(want['block'])}"
    if "property" in want:
        prop = want["property"].split(" = ")[0]
        return " ".join(x for x in obs.device_lines(setting["driver"])
                        if x.startswith(prop + " = ")) or "no such property"
    return f"hpet {'present' if 'dev: hpet,' in obs.qtree else 'absent'}"


def settings():
    rom = os.path.join(WORK, "option.rom")
    with open(rom, "wb") as f:
        f.write(b"\x55\xaa" + bytes(160 * 1024 - 2))  # block: 256 KiB
    p = run([PROBE, rom, SEABIOS_256K, SEABIOS])
    out = json.loads(p.stdout)
    check(len(out) >= 15, f"recipe_settings printed {len(out)} settings")
    return out


def group_of(setting):
    """Settings are tried together, one domain per display device (a real
    recipe asks for several at once too): the other settings join the
    cirrus domain, except the flash, which replaces the -bios that one
    gets."""
    if setting["driver"] in VIDEO:
        return VIDEO[setting["driver"]]
    return "vga" if setting["name"] == "pflash" else "cirrus"


def combined(recipes):
    out = {"machine": recipes[0]["machine"], "qemu-args": [],
           "libvirt-xml": [], "notes": []}
    for r in recipes:
        out["qemu-args"] += r["qemu-args"]
        out["libvirt-xml"] += [x for x in r["libvirt-xml"]
                               if x not in out["libvirt-xml"]]
    return out


def test_every_setting_reaches_qemu():
    groups = {}
    for s in settings():
        groups.setdefault(group_of(s), []).append(s)
    failures = []
    for video, group in sorted(groups.items()):
        name = f"with-{video}"
        nics = [NIC[s["driver"]] for s in group if s["driver"] in NIC]
        devices = [DEVICE[s["driver"]] for s in group
                   if s["driver"] in DEVICE]
        base = lvlib.domain_xml(name, video=video, nics=nics, memory_mib=64,
                                devices=devices)
        before = observe(name, base)
        recipe = combined([s["recipe"] for s in group])
        after = observe(name, with_recipe(name, base, recipe))
        for s in group:
            ok = expectation_met(s, after) and not expectation_met(s, before)
            print(f"{'ok ' if ok else 'BAD'} {video:6} {s['name']:38} "
                  f"without: {describe(s, before)}; with: "
                  f"{describe(s, after)}")
            if not ok:
                failures.append(s["name"])
    check(not failures, f"settings libvirt did not pass on: {failures}")


def test_cirrus_ignores_video_vram():
    """libvirt hands cirrus-vga no vram: <video vram> alone leaves QEMU's
    8 MiB; the recipe's <qemu:commandline> -global is what works."""
    base = lvlib.domain_xml("cirrus", memory_mib=64)
    vram_only = base.replace("<model type='cirrus'/>",
                             "<model type='cirrus' vram='16384'/>")
    check(vram_only != base, "the domain has a cirrus <model>")
    obs = observe("cirrus", vram_only)
    check_eq(obs.block("vga.vram"), 8 * 1024 * 1024,
             "cirrus vga.vram with <video vram='16384'> only")


def test_pflash_loader_is_no_way():
    """A read-only pflash <loader> (the recipe's fragment before it used
    the command line) does not start without an NVRAM template; with
    stateless='yes' it starts, and libvirt then refuses internal snapshots
    of the domain."""
    image = os.path.join(WORK, "pflash.qcow2")
    run(["qemu-img", "create", "-q", "-f", "qcow2", image, "16M"])
    base = lvlib.domain_xml("pflash", image=image, memory_mib=64)
    loader = f"<loader type='pflash' readonly='yes'>{SEABIOS}</loader>"
    xml = base.replace("</type>", "</type>" + loader)
    path = os.path.join(WORK, "pflash.xml")
    for text in (xml, xml.replace("readonly='yes'",
                                  "readonly='yes' stateless='yes'")):
        with open(path, "w") as f:
            f.write(text)
        LV.virsh("define", path)
        p = LV.virsh("start", "--paused", "pflash", ok=None)
        if "stateless" not in text:
            check(p.returncode != 0 and "var store" in p.stderr,
                  f"read-only pflash loader: start gave {p.returncode} "
                  f"{p.stderr.strip()}")
            print(f"pflash <loader>: {p.stderr.strip().splitlines()[-1]}")
        else:
            check(p.returncode == 0, f"stateless loader: {p.stderr}")
            p = LV.virsh("snapshot-create-as", "pflash", "s1", ok=None)
            LV.virsh("destroy", "pflash")
            check(p.returncode != 0 and "pflash" in p.stderr,
                  f"snapshot of a stateless pflash domain: {p.returncode} "
                  f"{p.stderr.strip()}")
            print(f"stateless pflash <loader>, snapshot-create-as: "
                  f"{p.stderr.strip().splitlines()[-1]}")
        LV.virsh("undefine", "pflash", "--nvram", ok=None)


if __name__ == "__main__":
    if not os.path.isfile(PROBE):
        skip(f"{PROBE} is not built")
    for path in (SEABIOS, SEABIOS_256K):
        if not os.path.isfile(path):
            skip(f"{path} is missing (Debian package seabios)")
    WORK = tempfile.mkdtemp(prefix="qsnapfix-libvirt-settings-")
    try:
        with Libvirtd(WORK) as LV:
            main([test_every_setting_reaches_qemu,
                  test_cirrus_ignores_video_vram,
                  test_pflash_loader_is_no_way])
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
