#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The Ansible collection (contrib/ansible) end to end, as an operator runs
it: Debian's ansible-playbook against two inventory hosts that are both
this machine (ansible_connection=local), each owning some domains of one
private, real libvirtd (tests/libvirt/lvlib.py), on copies of real images:

- the project's guest saved by QEMU 7.2 inside a libvirt domain and
  reshaped like qemu-kvm 1.0 by `qsnapfix oldify`; the domain runs a fresh
  boot when the playbook comes (it is managed-saved, then reverted);
- real qemu-kvm 0.15, 1.0 and 1.2 images of ../shared registered as
  domains with the devices of manifest.json's device_args and their
  snapshot's metadata (as the libvirt of the old host had it); the KVM
  images are left out (the tests run TCG), and so is a QEMU 7.2 image
  that needs nothing (it is there to be left alone).

Then: check mode changes nothing (image bytes, domain and snapshot XML);
the real run fixes every fixable snapshot, carries the recipe into each
domain and its snapshot metadata, reverts and the guests' counters go on,
the journals reach the controller complete, the untouched domain stays
as it was; a second run changes nothing (changed=0 in the recap); undo
(on one host) gives every VM state back (the journal's SHA-256) and a
second undo changes nothing; drop-originals (on the other host) releases
the originals, a second one changes nothing."""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "libvirt"))
import lvlib  # noqa: E402
from lvlib import Guest, Libvirtd  # noqa: E402
from qsnapfix_tests import guest_fixture, resume  # noqa: E402
from qsnapfix_tests.stores import copy  # noqa: E402
from qsnapfix_tests.testlib import (BIN, SRC, Failure, check, check_eq,  # noqa: E402
                                    load_manifest, main, run, sha256_file,
                                    skip)

COLLECTIONS = os.path.join(SRC, "contrib", "ansible")
HELPER = os.path.join(SRC, "contrib", "libvirt", "qsnapfix-libvirt")
# Real images by host; device_args that libvirt expresses with its own
# elements. m72-a is a QEMU 7.2 image: compatible, never touched.
REAL = {"alpha": ("qk10-a-default", "qk12-a-default"),
        "beta": ("qk015-c-virtio-96m", "qk10-d-usbtablet",
                 "m72-a-pc-i440fx-1.4")}
GUEST = "guest-qk10"  # on alpha
UNTOUCHED = "m72-a-pc-i440fx-1.4"
SERIAL_PATTERN = r"(?:QSF|CEO) n=(\d+)"
SAVE_AT = 10
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+"
                   r"unreachable=(\d+)\s+failed=(\d+)", re.M)


def domain_args(device_args):
    """lvlib.domain_xml's keywords for QEMU device options, or (None,
    reason) for options it does not express."""
    kw = {"nics": []}
    args = list(device_args)
    while args:
        opt = args.pop(0)
        val = args.pop(0) if opt not in ("-usb",) else None
        if opt == "-m":
            kw["memory_mib"] = int(val)
        elif opt == "-hda":
            kw["disk_bus"] = "ide"
        elif opt == "-drive" and "if=virtio" in val:
            kw["disk_bus"] = "virtio"
        elif opt == "-vga":
            kw["video"] = {"std": "vga"}.get(val, val)
        elif opt == "-net" and val.startswith("nic,model="):
            kw["nics"].append(val.split("=", 1)[1])
        elif opt == "-net" and val == "user":
            pass
        elif opt == "-usb":
            kw["usb_tablet"] = kw.get("usb_tablet", False)
        elif opt == "-usbdevice" and val == "tablet":
            kw["usb_tablet"] = True
        else:
            return None, f"{opt} {val}"
    return kw, None


class Fleet:
    """The libvirtd, the domains, their images and what each should show."""

    def __init__(self, lv, work):
        self.lv, self.work = lv, work
        self.images = {}    # domain -> image path
        self.host_of = {}   # domain -> inventory host
        self.expect = {}    # domain -> (lowest, highest) first counter
        self.serial = {}    # domain -> serial log
        self.skipped = []

    def add_guest(self):
        g = Guest(self.lv, self.work, GUEST)
        g.virsh("start", g.name)
        saved = g.snapshot("s1", at_least=SAVE_AT)
        g.virsh("destroy", g.name)
        run([BIN, "oldify", g.image, "--snapshot", "s1", "--as",
             "qemu-kvm-1.0"])
        # a fresh boot runs when the playbook comes: it is managed-saved
        g.virsh("start", g.name)
        lvlib.wait_for_counters(g.serial, count=1)
        self.images[GUEST], self.serial[GUEST] = g.image, g.serial
        self.host_of[GUEST] = "alpha"
        self.expect[GUEST] = (saved + 1, saved + 3)

    def add_real(self, entry, images_dir, host):
        name = entry["name"]
        kw, why = domain_args(entry["device_args"])
        if kw is None:
            self.skipped.append(f"{name}: libvirt XML for {why}")
            return
        d = os.path.join(self.work, name)
        os.makedirs(d)
        image = copy(os.path.join(images_dir, entry["file"]),
                     os.path.join(d, "disk.qcow2"))
        serial = os.path.join(d, "serial.log")
        lvlib.define(self.lv, d, lvlib.domain_xml(name, image=image,
                                                  serial=serial, **kw))
        dom = self.lv.virsh("dumpxml", name, "--inactive",
                            "--security-info").stdout
        target = "vda" if kw.get("disk_bus") == "virtio" else "hda"
        for snap in entry["snapshots"]:
            xml = (f"<domainsnapshot><name>{snap['name']}</name>"
                   "<state>running</state>"
                   "<creationTime>1700000000</creationTime>"
                   "<memory snapshot='internal'/><disks>"
                   f"<disk name='{target}' snapshot='internal'/></disks>"
                   f"{dom}</domainsnapshot>")
            path = os.path.join(d, f"{snap['name']}.xml")
            with open(path, "w") as f:
                f.write(xml)
            self.lv.virsh("snapshot-create", name, "--redefine", path,
                          "--current")
        self.images[name], self.serial[name] = image, serial
        self.host_of[name] = host
        self.expect[name] = tuple(
            entry["snapshots"][-1]["expect_first_counter_between"])

    def domains(self, host):
        return [d for d, h in self.host_of.items() if h == host]

    def xml(self, domain):
        dom = self.lv.virsh("dumpxml", domain, "--inactive").stdout
        snaps = [self.lv.virsh("snapshot-dumpxml", domain, s).stdout
                 for s in self.lv.virsh("snapshot-list", domain,
                                        "--name").stdout.split()]
        return dom, snaps

    def state(self, domain):
        return self.lv.virsh("domstate", domain).stdout.strip()


class Ansible:
    def __init__(self, fleet, work):
        self.work = work
        self.fleet_dir = os.path.join(work, "fleet")
        self.inventory = os.path.join(work, "inventory.json")
        hosts = {h: {"ansible_connection": "local",
                     "ansible_python_interpreter": sys.executable,
                     "qsnapfix_domains": fleet.domains(h),
                     "qsnapfix_work_dir": os.path.join(work, "host-" + h)}
                 for h in REAL}
        inventory = {"all": {"hosts": hosts, "vars": {
            "qsnapfix_executable": BIN,
            "qsnapfix_libvirt_helper": HELPER,
            "qsnapfix_libvirt_uri": fleet.lv.uri,
            "qsnapfix_fleet_dir": self.fleet_dir,
            "qsnapfix_serial_pattern": SERIAL_PATTERN,
            "qsnapfix_stop_mode": "managedsave",
            "qsnapfix_confirm_timeout": 120,
            "qsnapfix_serial": 1,
            "qsnapfix_jobs": 2}}}
        with open(self.inventory, "w") as f:
            json.dump(inventory, f, indent=1)
        tmp = os.path.join(work, "ansible-tmp")
        self.env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
                        ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                        ANSIBLE_LOCAL_TEMP=tmp, ANSIBLE_REMOTE_TEMP=tmp,
                        ANSIBLE_HOME=os.path.join(work, "ansible-home"),
                        ANSIBLE_RETRY_FILES_ENABLED="0",
                        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="1")

    def play(self, playbook, *args, ok=True):
        """ansible-playbook; (output, {host: (ok, changed, failed)})."""
        t0 = time.monotonic()
        p = subprocess.run(["ansible-playbook", "-i", self.inventory,
                            f"qsnapfix.fleet.{playbook}", *args],
                           capture_output=True, text=True, env=self.env,
                           cwd=self.work, timeout=1200)
        out = p.stdout + p.stderr
        log = os.path.join(self.work, f"play-{playbook}-{time.time():.0f}"
                                      ".log")
        with open(log, "w") as f:
            f.write(out)
        recap = {m.group(1): (int(m.group(2)), int(m.group(3)),
                              int(m.group(5)))
                 for m in RECAP.finditer(out)}
        print(f"ansible-playbook {playbook} {' '.join(args)}: exit "
              f"{p.returncode} in {time.monotonic() - t0:.0f}s; recap "
              f"(ok, changed, failed) {recap}")
        if ok and (p.returncode != 0 or any(r[2] for r in recap.values())):
            raise Failure(f"ansible-playbook {playbook}: exit {p.returncode}"
                          f"\n{out[-6000:]}")
        return out, recap

    def report(self, name):
        with open(os.path.join(self.fleet_dir, name + ".json")) as f:
            return json.load(f)


def scan(image):
    p = run([BIN, "scan", "--output=json", image], ok_codes=(0, 17))
    return json.loads(p.stdout)["images"][0]["snapshots"]


def vm_state_sha256(image, snapshot, work):
    out = os.path.join(work, "vmstate.bin")
    p = run([BIN, "extract", image, "--snapshot", snapshot, "-o", out,
             "--output=json"])
    os.unlink(out)
    return json.loads(p.stdout)["sha256"]


def journal_records(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def check_no_change(recap, what):
    for host, (_, changed, failed) in recap.items():
        check_eq((changed, failed), (0, 0), f"{what}: {host}'s changed, "
                                            f"failed in the recap")


def test_fleet(fleet, ansible):
    lv, work = fleet.lv, fleet.work
    domains = list(fleet.images)
    fixable = [d for d in domains if d != UNTOUCHED]

    # ---- check mode: a dry run that changes nothing
    before = {d: sha256_file(fleet.images[d]) for d in domains}
    xml_before = {d: fleet.xml(d) for d in domains}
    out, recap = ansible.play("upgrade", "--check", "--diff")
    check_eq({d: sha256_file(fleet.images[d]) for d in domains}, before,
             "image bytes after check mode")
    check_eq({d: fleet.xml(d) for d in domains}, xml_before,
             "domain and snapshot XML after check mode")
    check_eq(fleet.state(GUEST), "running", "the guest domain after check "
                                            "mode")
    check("+      <qemu:arg value=\"cirrus-vga.vgamem_mb=16\" />" in out,
          "check mode's --diff shows the recipe")
    report = ansible.report("scan")
    planned = sorted(d for h in report["hosts"].values()
                     for d in h["domains-to-fix"])
    check_eq(planned, sorted(fixable), "the fleet report's domains to fix")
    check_eq(report["summary"]["fixable"], len(fixable),
             "fixable snapshots in the fleet report")
    print(f"check mode: {len(fixable)} domains planned, nothing changed")

    # ---- the real run
    out, recap = ansible.play("upgrade")
    check(all(recap[h][1] > 0 for h in REAL), f"changed in {recap}")
    proved = re.findall(r"\(qsnapfix prove, paused\)\] \**\n(\w+):", out)
    check_eq(proved, ["ok"] * len(fixable), "qsnapfix prove before each "
                                            "revert")
    result = ansible.report("result")
    confirmed = {c["domain"]: c for h in result["hosts"].values()
                 for c in h["result"]["domains"]}
    check_eq(sorted(confirmed), sorted(fixable), "domains reverted")
    recipes = {}
    for h in result["hosts"].values():
        for r in h["result"]["recipes"]:
            recipes.setdefault(r["image"], []).append(r)
    for d in fixable:
        verdicts = sorted(s["verdict"] for s in scan(fleet.images[d]))
        check_eq(verdicts, ["compatible", "original"],
                 f"{d}: verdicts after the fix")
        dom, snaps = fleet.xml(d)
        for r in recipes[fleet.images[d]]:
            for f in r["recipe"]["files"]:
                for xml in (dom, *snaps):
                    check(f["path"] in xml, f"{d}: {f['path']} not in "
                                            f"the XML")
            if "cirrus-vga.vgamem_mb=16" in r["recipe"]["qemu-args"]:
                for xml in (dom, *snaps):
                    check("cirrus-vga.vgamem_mb=16" in xml,
                          f"{d}: vgamem_mb not in the XML")
        text, seen = lvlib.wait_for_counters(fleet.serial[d], count=3)
        low, high = fleet.expect[d]
        check(not resume.booted(text), f"{d}: the guest rebooted")
        check(low <= seen[0] <= high, f"{d}: first counter {seen[0]}, "
                                      f"expected {low}..{high}")
        check_eq(fleet.state(d), "running", f"{d}: state")
        played = confirmed[d]["serial"]
        check(played and int(played[0]) == seen[0],
              f"{d}: the playbook saw counters {played}, the log {seen[:3]}")
        print(f"{d}: fixed, recipe in the XML, resumed at {seen[0]} "
              f"({low}..{high})")
    check("Managed save:   no" in lv.virsh("dominfo", GUEST).stdout,
          "the guest's stale managed save was removed")
    check_eq(sha256_file(fleet.images[UNTOUCHED]), before[UNTOUCHED],
             f"{UNTOUCHED}: image bytes")
    check_eq(fleet.xml(UNTOUCHED), xml_before[UNTOUCHED],
             f"{UNTOUCHED}: XML")
    check_eq(fleet.state(UNTOUCHED), "shut off", f"{UNTOUCHED}: state")

    journals = {}
    for host in REAL:
        files = glob.glob(os.path.join(ansible.fleet_dir, "journals", host,
                                       "fix-*.jsonl"))
        check_eq(len(files), 1, f"{host}: journals on the controller")
        records = journal_records(files[0])
        steps = [r["step"] for r in records]
        done = [r for r in records if r["step"] == "done"]
        check_eq((steps[0], steps[-1], records[-1]["status"]),
                 ("batch", "end", "done"), f"{host}: journal's ends")
        check_eq(sorted(os.path.dirname(r["image"]).rsplit("/", 1)[-1]
                        for r in done),
                 sorted(d for d in fleet.domains(host) if d in fixable),
                 f"{host}: fixed images in the journal")
        check(all(r["status"] == "fixed" and r["old"]["sha256"] and
                  r["new"]["sha256"] for r in done), f"{host}: done records")
        journals[host] = done
    print("journals on the controller: complete")

    # ---- a second run: nothing to do
    out, recap = ansible.play("upgrade")
    check_no_change(recap, "second run")
    print("second run: changed=0")

    # ---- undo on alpha
    ansible.play("undo", "--limit", "alpha")
    for r in journals["alpha"]:
        got = vm_state_sha256(r["image"], r["snapshot"]["name"], work)
        check_eq(got, r["old"]["sha256"], f"{r['image']}: VM state after "
                                          f"undo")
        verdicts = sorted(s["verdict"] for s in scan(r["image"]))
        check_eq(verdicts, ["fixable"], f"{r['image']}: verdicts after undo")
    for d in fleet.domains("alpha"):
        check_eq(fleet.state(d), "running", f"{d}: state after undo")
    _, recap = ansible.play("undo", "--limit", "alpha")
    check_no_change(recap, "second undo")
    print(f"undo: {len(journals['alpha'])} VM states back (SHA-256 of the "
          f"journal); a second undo changes nothing")

    # ---- drop-originals on beta
    ansible.play("drop_originals", "--limit", "beta")
    for r in journals["beta"]:
        verdicts = sorted(s["verdict"] for s in scan(r["image"]))
        check_eq(verdicts, ["compatible"], f"{r['image']}: verdicts after "
                                           f"drop-originals")
    _, recap = ansible.play("drop_originals", "--limit", "beta")
    check_no_change(recap, "second drop-originals")
    print("drop-originals: originals released; a second run changes nothing")


def prepare(lv, work):
    fleet = Fleet(lv, work)
    fleet.add_guest()
    images, images_dir = load_manifest()
    by_name = {i["name"]: i for i in images}
    for host, names in REAL.items():
        for name in names:
            fleet.add_real(by_name[name], images_dir, host)
    kvm = [i["name"] for i in images if i["accel"] == "kvm"]
    print(f"domains: {', '.join(fleet.images)}; left out: the KVM images "
          f"({', '.join(kvm)}: the tests run TCG)" +
          (f"; {'; '.join(fleet.skipped)}" if fleet.skipped else ""))
    return fleet


if __name__ == "__main__":
    if not shutil.which("ansible-playbook"):
        skip("ansible-playbook is not installed (Debian package ansible; "
             "scripts/setup installs it)")
    if guest_fixture.guest_elf() is None:
        skip("the test guest is not built (QSNAPFIX_GUEST)")
    WORK = tempfile.mkdtemp(prefix="qsnapfix-ansible-")
    try:
        with Libvirtd(WORK) as LV:
            FLEET = prepare(LV, WORK)
            ANSIBLE = Ansible(FLEET, WORK)
            main([lambda: test_fleet(FLEET, ANSIBLE)])
    finally:
        if os.environ.get("QSNAPFIX_KEEP_WORK"):
            print(f"work directory kept: {WORK}")
        else:
            shutil.rmtree(WORK, ignore_errors=True)
