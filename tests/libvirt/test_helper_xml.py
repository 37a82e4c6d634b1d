#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""contrib/libvirt/qsnapfix-libvirt on XML files (no daemon): how each recipe
fragment lands in a domain that already has settings of its own, that a
second run changes nothing, that a <domainsnapshot> gets the recipe in its
saved <domain> and <inactiveDomain>, and the errors and exit codes for bad
input. The fragments come from recipe_settings (recipe.c and
src/libvirt/render.c, as `fix` renders them)."""
import json
import os
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET

import lvlib
from qsnapfix_tests.testlib import SRC, check, check_eq, main, run, skip

HELPER = os.path.join(SRC, "contrib", "libvirt", "qsnapfix-libvirt")
BUILD = os.environ.get("QSNAPFIX_BUILD") or os.path.join(SRC, "build")
PROBE = os.path.join(BUILD, "tests", "libvirt", "recipe_settings")
WORK = None
QEMU = f"{{{lvlib.QEMU_NS}}}"

# A domain as an older libvirt may have kept it: its own clock, a CPU
# model, a pflash loader with a store, an old -global, two rtl8139 NICs.
DOMAIN = f"""<domain type='qemu' xmlns:qemu='{lvlib.QEMU_NS}'>
  <name>old</name>
  <os>
    <type arch='x86_64' machine='pc-1.0'>hvm</type>
    <loader type='pflash' readonly='yes'>/usr/share/OVMF/OVMF_CODE.fd</loader>
    <nvram>/var/lib/libvirt/qemu/nvram/old_VARS.fd</nvram>
  </os>
  <cpu mode='custom' match='exact'><model>Westmere</model></cpu>
  <clock offset='localtime'><timer name='rtc' tickpolicy='catchup'/></clock>
  <devices>
    <interface type='network'><model type='rtl8139'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x04'
               function='0x0'/></interface>
    <interface type='network'><model type='rtl8139'/><rom bar='on'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x03'
               function='0x0'/></interface>
    <video><model type='cirrus' vram='9216' heads='1'/></video>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-global'/><qemu:arg value='cirrus-vga.vgamem_mb=8'/>
    <qemu:arg value='-snapshot'/>
  </qemu:commandline>
</domain>
"""


def write(name, text):
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        f.write(text if isinstance(text, str) else json.dumps(text))
    return path


def probe_recipe(*names):
    """One recipe made of recipe_settings' settings `names` (their
    fragments as recipe.c writes them), with the ROM of the NIC at
    0000:00:03.0 as its file."""
    rom = write("nic.rom", "x" * 100)
    flash = write("flash.fd", "")
    p = run([PROBE, rom, "/dev/null", flash])
    found = {s["name"]: s["recipe"] for s in json.loads(p.stdout)}
    xml, args = [], []
    for n in names:
        xml += [x for x in found[n]["libvirt-xml"] if x not in xml]
        args += found[n]["qemu-args"]
    return {"machine": "pc-i440fx-1.4", "qemu-args": args,
            "libvirt-xml": xml, "notes": [],
            "files": [{"kind": "rom", "block": "0000:00:03.0/rtl8139.rom",
                       "path": rom, "length": 65536}]}


def report(recipe, name="s1", status="fixed"):
    return {"image": "/images/old.qcow2", "snapshots": [
        {"id": "1", "name": name, "status": status, "recipe": recipe}]}


def helper(*args, ok=(0,)):
    return run([sys.executable, HELPER, *args], ok_codes=ok)


def test_fragments_merge_into_a_lived_in_domain():
    recipe = probe_recipe("cirrus-vga.vgamem_mb=16", "rtl8139.romfile",
                          "pflash", "no-hpet")
    # what the recipe says for a stream qemu-kvm wrote (rules_machine.c)
    recipe["libvirt-xml"].append("<cpu mode='custom' match='exact'><model "
                                 "fallback='forbid'>qemu64</model></cpu>")
    rep = write("fix.json", report(recipe))
    dom = write("old.xml", DOMAIN)
    p = helper("--xml", dom, rep, "-o", os.path.join(WORK, "new.xml"))
    root = ET.parse(os.path.join(WORK, "new.xml")).getroot()
    check_eq(root.find("os/type").get("machine"), "pc-i440fx-1.4",
             "machine type")
    check_eq([root.find("os/loader"), root.find("os/nvram")], [None, None],
             "pflash loader and its store (the recipe's flash replaces them)")
    check_eq(root.find("cpu/model").text, "Westmere", "the domain's CPU")
    check_eq(root.find("clock").get("offset"), "localtime", "clock offset")
    check_eq({t.get("name"): t.get("present") for t in
              root.findall("clock/timer")}, {"rtc": None, "hpet": "no"},
             "timers")
    roms = [(nic_slot(n), n.find("rom") is not None and
             n.find("rom").attrib) for n in root.findall("devices/interface")]
    check_eq(roms, [(4, False), (3, {"bar": "on", "file":
                                     recipe["files"][0]["path"]})],
             "ROM of the NIC at the stream's address only")
    check_eq(root.find("devices/video/model").attrib,
             {"type": "cirrus", "vram": "16384", "heads": "1"}, "video")
    args = [a.get("value") for a in root.findall(f"{QEMU}commandline/"
                                                 f"{QEMU}arg")]
    flash = os.path.join(WORK, "flash.fd")
    check_eq(args, ["-snapshot", "-global", "cirrus-vga.vgamem_mb=16",
                    "-drive", "if=pflash,format=raw,unit=0,readonly=on,"
                              f"file={flash}"], "QEMU arguments")
    for want in ("machine pc-1.0 -> pc-i440fx-1.4", "kept the domain's <cpu>",
                 "replaced -global cirrus-vga.vgamem_mb=8",
                 "removed <loader type='pflash'>"):
        check(want in p.stderr, f"note {want!r} in {p.stderr}")
    again = helper("--xml", os.path.join(WORK, "new.xml"), rep)
    check_eq(again.stdout, "", "diff of a second run")


def nic_slot(nic):
    return int(nic.find("address").get("slot"), 16)


def test_domainsnapshot_gets_both_saved_domains():
    recipe = probe_recipe("qxl-vga.ram_size_mb=256", "revision")
    rep = write("fix.json", report(recipe))
    inner = lvlib.domain_xml("snapdom", video="qxl").replace(
        f" xmlns:qemu='{lvlib.QEMU_NS}'", "")
    snap = ("<domainsnapshot><name>s1</name><state>paused</state>"
            "<memory snapshot='internal'/>" + inner +
            inner.replace("<domain ", "<inactiveDomain ").replace(
                "</domain>", "</inactiveDomain>") + "</domainsnapshot>")
    path = write("snap.xml", snap)
    p = helper("--xml", path, rep, "-o", "-")
    root = ET.fromstring(p.stdout)
    for part in ("domain", "inactiveDomain"):
        check_eq(root.find(f"{part}/devices/video/model").get("ram"),
                 "262144", f"{part}: qxl ram")
        args = [a.get("value") for a in root.findall(
            f"{part}/{QEMU}commandline/{QEMU}arg")]
        check_eq(args, ["-global", "qxl-vga.revision=3"], f"{part}: args")
    check_eq(root.findtext("name"), "s1", "the snapshot's own fields stay")


def test_bad_input_exit_codes():
    dom = write("d.xml", lvlib.domain_xml("d"))
    good = report(probe_recipe("no-hpet"))
    two = {"snapshots": good["snapshots"] * 2}
    two["snapshots"][1] = dict(two["snapshots"][1], name="s2")
    cases = [
        (["--xml", dom, write("bad.json", "{")], 2, "not JSON"),
        (["--xml", dom, write("r.json", good), "--snapshot", "nope"], 9,
         "no snapshot 'nope'"),
        (["--xml", dom, write("two.json", two)], 2, "name one with"),
        (["--xml", dom, write("refused.json", report(None, status="refused"))],
         9, "has no recipe"),
        (["--xml", write("x.xml", "<network/>"), write("r.json", good)], 2,
         "neither a <domain>"),
        (["--xml", os.path.join(WORK, "missing.xml"), write("r.json", good)],
         5, "cannot read"),
        (["--xml", dom, write("r.json", good), "--apply"], 2,
         "--apply needs --domain"),
    ]
    for args, code, text in cases:
        p = helper(*args, ok=(code,))
        check(text in p.stderr, f"{args}: {p.stderr}")
    p = helper("--xml", dom, write("r.json", good), "--snapshot", "1")
    check("present=\"no\"" in p.stdout, f"--snapshot by id: {p.stdout}")
    # a report of a build before the kebab-case names is read alike
    old = report(dict(good["snapshots"][0]["recipe"]))
    old["dry_run"] = False
    old["snapshots"][0]["recipe"]["libvirt_xml"] = \
        old["snapshots"][0]["recipe"].pop("libvirt-xml")
    p = helper("--xml", dom, write("old.json", old))
    check("present=\"no\"" in p.stdout, f"snake_case report: {p.stdout}")


if __name__ == "__main__":
    if not os.path.isfile(PROBE):
        skip(f"{PROBE} is not built")
    WORK = tempfile.mkdtemp(prefix="qsnapfix-libvirt-xml-")
    try:
        main([test_fragments_merge_into_a_lived_in_domain,
              test_domainsnapshot_gets_both_saved_domains,
              test_bad_input_exit_codes])
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
