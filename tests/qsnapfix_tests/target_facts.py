# SPDX-License-Identifier: GPL-2.0-or-later
"""What a target QEMU says about itself, measured from its binary (the
facts a target profile is built from; docs/targets.md):

* version: the first line of -version;
* machines: -M help (class names, aliases dropped), and those it marks
  "(deprecated)": QEMU warns when one is started;
* vmsds: -dump-vmstate for the profile's machine: every vmsd a device
  class registers, name -> [minimum_version_id, version_id] (the widest
  range where several devices share a name), and the field lists;
* configs: for each device configuration of CONFIGS, started paused (-S)
  with -m 16 and written with `migrate "exec:cat > FILE"` (kept beside
  the facts as own-<config>.mig), the target's own stream parsed by
  `qsnapfix inspect --stream`: every section it
  registers there (idstr, instance, version; this shows what the dump
  cannot: vmstates registered outside device classes, such as timer,
  cpu, ram) and every RAM block with its length;
* probes: sections registered only with an option or backend and never
  sent (audio), found by loading the target's own stream with such a
  section added, with and without the backend (PROBES);
* props: the values the machine gives the device properties that decide
  what a stream must hold (PROPS), read with qom-get from the devices
  of those configurations, so the machine's compat properties are in.

Facts are cached under $QSNAPFIX_CACHE/target-facts/<target>-<first 16
hex digits of the binary's sha256>/facts.json: a second run only reads
it. QEMU's own noise aside, gathering takes a few seconds per
configuration.
"""
import json
import os
import shlex
import shutil
import tempfile
import time

from qsnapfix_tests import resume, targets
from qsnapfix_tests.testlib import BIN, CACHE, run, sha256_file, skip

# Bump when what is gathered changes: older caches are then ignored.
FACTS_LAYOUT = 4

# name -> device options (QEMU 7.2 syntax, valid for 10.0 too).
CONFIGS = {
    "cirrus-rtl8139": ["-vga", "cirrus", "-nic", "user,model=rtl8139"],
    "std-e1000-usb": ["-vga", "std", "-nic", "user,model=e1000", "-usb",
                      "-device", "usb-tablet", "-device", "usb-kbd"],
    "vmware-ne2k": ["-vga", "vmware", "-nic", "user,model=ne2k_pci"],
    "virtio-pcnet": ["-vga", "none", "-nic", "user,model=virtio-net-pci",
                     "-nic", "user,model=pcnet",
                     "-blockdev", "null-co,node-name=d0",
                     "-device", "virtio-blk-pci,drive=d0",
                     "-device", "virtio-balloon-pci",
                     "-device", "virtio-serial-pci"],
    "sound": ["-vga", "none", "-nic", "none",
              "-audiodev", "none,id=a0", "-device", "AC97,audiodev=a0",
              "-device", "ES1370,audiodev=a0", "-device", "intel-hda",
              "-device", "hda-duplex,audiodev=a0"],
    "qxl": ["-vga", "qxl", "-nic", "none"],
    # the newest machine: what machines newer than the profile's register
    # (acpi_build, ...) for streams whose CONFIGURATION names them
    "newest-machine": ["-machine", "pc", "-vga", "std",
                       "-nic", "user,model=e1000"],
    "isa-sound-watchdogs-ehci": [
        "-vga", "none", "-nic", "none", "-audiodev", "none,id=a0",
        "-device", "sb16,audiodev=a0", "-device", "cs4231a,audiodev=a0",
        "-device", "gus,audiodev=a0", "-device", "i6300esb",
        "-device", "ib700", "-device", "usb-ehci", "-usb",
        "-device", "usb-hub,bus=usb-bus.0", "-device", "pci-serial"],
    # the devices whose vmstates are registered at realize (not in the
    # dump): the eepro100 models libvirt offers, with their EEPROMs, and an
    # ISA IDE; and the SCSI ones of a libvirt domain (LSI, virtio-scsi,
    # usb-storage, each with a scsi-disk)
    "eepro100-scsi": [
        "-vga", "none", "-nic", "user,model=i82551",
        "-nic", "user,model=i82557b", "-nic", "user,model=i82559er",
        "-device", "isa-ide,iobase=0x1e8,iobase2=0x3ee,irq=11",
        "-device", "lsi53c895a,id=scsi0",
        "-blockdev", "null-co,node-name=d0",
        "-device", "scsi-hd,drive=d0,bus=scsi0.0",
        "-device", "virtio-scsi-pci", "-usb",
        "-blockdev", "null-co,node-name=d1",
        "-device", "usb-storage,drive=d1"],
}
# What QEMU says when a device of a configuration is not in this build
# (Debian 13 ships qxl in a package of its own).
UNAVAILABLE = ("not a valid device model name", "not available",
               "is not a valid", "unsupported")

# Sections a target registers but never sends (their .needed is false):
# neither the dump nor its own streams show them, so a stream carrying
# one is loaded to see which versions it takes with the configuration
# "with" and whether it takes it "without". audio: registered with an
# audio backend (audio_init), only so that old streams load.
# block: block migration's live section; savevm never sends it (empty
# FULL payload: its end-of-section flag).
PROBES = {
    "audio": {"with": "sound", "without": "cirrus-rtl8139",
              "versions": [0, 1, 2], "payload": ""},
    "block": {"with": "cirrus-rtl8139", "without": None,
              "versions": [0, 1, 2], "payload": "0000000000000002"},
}

# QOM type -> properties whose value on the machine a rule depends on.
PROPS = {
    "apic": ["vapic"],
    "kvm-apic": ["vapic"],
    "PIIX4_PM": ["acpi-pci-hotplug-with-bridge-support"],
    "VGA": ["qemu-extended-regs", "vgamem_mb"],
    "cirrus-vga": ["vgamem_mb"],
    "vmware-svga": ["vgamem_mb"],
    "qxl-vga": ["revision", "vgamem_mb", "ram_size_mb", "vram_size_mb"],
    "usb-tablet": ["full-path"],
    "virtio-balloon-pci": ["class"],
    "intel-hda": ["old_msi_addr"],
    # MSI-X vectors (config-checked table size) of the virtio devices the
    # configurations create with -device (-nic gives virtio-net 0)
    "virtio-blk-pci": ["vectors"],
    "virtio-serial-pci": ["vectors"],
    "virtio-scsi-pci": ["vectors"],
}


def vmsd_ranges(dump):
    """-dump-vmstate's JSON -> {vmsd name: [min, max]}."""
    ranges = {}
    for entry in dump.values():
        desc = entry.get("Description")
        if not desc:
            continue
        lo, hi = desc.get("minimum_version_id", 0), desc["version_id"]
        old = ranges.get(desc["name"])
        ranges[desc["name"]] = [min(lo, old[0]), max(hi, old[1])] \
            if old else [lo, hi]
    return ranges


def vmsd_descriptions(dump):
    """{vmsd name: the Description with the highest version_id}."""
    out = {}
    for entry in dump.values():
        desc = entry.get("Description")
        if desc and (desc["name"] not in out or
                     desc["version_id"] > out[desc["name"]]["version_id"]):
            out[desc["name"]] = desc
    return out


def _qom_walk(qmp, path, found, depth=0):
    if depth > 6:
        return
    for p in qmp.execute("qom-list", {"path": path}):
        t = p["type"]
        if t.startswith("child<"):
            child = f"{path}/{p['name']}" if path != "/" else f"/{p['name']}"
            found.append((child, t[6:-1]))
            _qom_walk(qmp, child, found, depth + 1)


def _props(qmp):
    found, out = [], {}
    _qom_walk(qmp, "/machine", found)
    for path, qtype in found:
        for prop in PROPS.get(qtype, ()):
            try:
                value = qmp.execute("qom-get", {"path": path,
                                                "property": prop})
            except resume.QmpError:
                value = None  # the target has no such property
            out[f"{qtype}.{prop}"] = value
    return out


def _stream_facts(stream):
    p = run([BIN, "inspect", "--stream", stream, "--output=json"])
    data = json.loads(p.stdout)
    data = data[0] if isinstance(data, list) else data
    # idstr, instance, version, and the layout table that parsed it
    # ("resync": none fitted, the parser found the next record instead)
    sections = sorted({(s["idstr"], s["instance"], s["version"],
                        "resync" if s.get("located-by-resync")
                        else s.get("layout"))
                       for s in data["sections"] if s.get("idstr")},
                      key=lambda s: (s[0], s[1], s[2], str(s[3])))
    blocks = sorted((b["id"], b["length"]) for b in data["ram-blocks"])
    return {"sections": [list(s) for s in sections],
            "ram_blocks": [list(b) for b in blocks],
            "configuration": data.get("writer", {}).get("machine"),
            "footers": any("footer-offset" in s for s in data["sections"]),
            "eof_offset": data["eof-offset"],
            "last_section_id": max(s.get("section-id", 0)
                                   for s in data["sections"])}


def _measure(qemu, machine, args, accel, workdir, stream):
    """The target started paused with args: its stream (written to
    stream), the stream's facts and the properties; {"unavailable": why}
    when the target lacks a device of the configuration."""
    deadline = time.monotonic() + 60
    if "-machine" in args:  # the configuration names its own
        machine = None
    with resume.Qemu([*args, "-m", "16", "-S"], workdir, accel=accel,
                     machine=machine, deadline=deadline, qemu=qemu) as q:
        if not q.connect():
            err = resume.qemu_errors(q.stderr())
            if any(m in err for m in UNAVAILABLE):
                return {"unavailable": err.splitlines()[-1]}
            raise RuntimeError(f"{machine} {shlex.join(args)}: {err}")
        props = _props(q.qmp)
        q.qmp.execute("migrate", {"uri": "exec:cat > " +
                                  shlex.quote(stream)})
        while True:
            state = q.qmp.execute("query-migrate").get("status")
            if state == "completed":
                break
            if state in ("failed", "cancelled") or \
                    time.monotonic() >= deadline:
                raise RuntimeError(f"migrate: {state}")
            time.sleep(0.05)
    facts = _stream_facts(stream)
    facts["machine"] = machine  # None: the configuration's own -machine
    facts["props"] = props
    facts["args"] = args
    facts["accel"] = accel
    return facts


def _probe_stream(own, facts, vmsd, version, payload, out):
    """own with a FULL section of vmsd (instance 0, version, payload) put
    in front of its EOF record (with a footer where the stream has
    them)."""
    with open(own, "rb") as f:
        data = f.read()
    sid = facts["last_section_id"] + 1
    name = vmsd.encode()
    rec = (b"\x04" + sid.to_bytes(4, "big") + bytes([len(name)]) + name +
           (0).to_bytes(4, "big") + version.to_bytes(4, "big") +
           payload)
    if facts["footers"]:
        rec += b"\x7e" + sid.to_bytes(4, "big")
    at = facts["eof_offset"]
    with open(out, "wb") as f:
        f.write(data[:at] + rec + data[at:])


def _loads(qemu, machine, args, stream, workdir):
    """(whether the target loads stream, its error text). Paused (-S), the
    incoming migration ends "completed" (and the run state goes back to
    "prelaunch"); a refused stream ends "failed" or makes QEMU exit."""
    deadline = time.monotonic() + 30
    with resume.Qemu([*args, "-m", "16", "-S", "-incoming",
                      "exec:cat " + shlex.quote(stream)], workdir,
                     machine=machine, deadline=deadline, qemu=qemu) as q:
        state = None
        if q.connect():
            while time.monotonic() < deadline and not q.exited():
                try:
                    state = q.qmp.execute("query-migrate").get("status")
                except (resume.QmpError, OSError, TimeoutError):
                    break
                if state in ("completed", "failed"):
                    break
                time.sleep(0.05)
        err = resume.qemu_errors(q.stderr())
    return state == "completed", err


def _probe(qemu, machine, vmsd, probe, configs, cache_dir, work):
    """Versions of vmsd the target loads with the probe's backend
    configuration, and whether it loads without one."""
    with_cfg, without_cfg = probe["with"], probe["without"]
    payload = bytes.fromhex(probe["payload"])
    loaded = []
    for version in probe["versions"]:
        stream = os.path.join(work, f"probe-{vmsd}-{version}.mig")
        _probe_stream(os.path.join(cache_dir, f"own-{with_cfg}.mig"),
                      configs[with_cfg], vmsd, version, payload, stream)
        d = tempfile.mkdtemp(dir=work)
        if _loads(qemu, machine, configs[with_cfg]["args"], stream, d)[0]:
            loaded.append(version)
    if not loaded or not without_cfg:
        return {"versions": [min(loaded), max(loaded)] if loaded else [],
                "with": with_cfg, "loads_without": bool(loaded)}
    stream = os.path.join(work, f"probe-{vmsd}-without.mig")
    _probe_stream(os.path.join(cache_dir, f"own-{without_cfg}.mig"),
                  configs[without_cfg], vmsd, loaded[-1], payload, stream)
    d = tempfile.mkdtemp(dir=work)
    ok, err = _loads(qemu, machine, configs[without_cfg]["args"], stream, d)
    errors = targets.without_noise(err).splitlines()
    return {"versions": [min(loaded), max(loaded)], "with": with_cfg,
            "loads_without": ok,
            "error_without": "" if ok else (errors or ["?"])[0]}


def gather(target, binary, qemu_argv, machine, *, dump_argv=None):
    """The facts of a target QEMU (see the module doc), cached by the
    binary's hash. qemu_argv runs it; dump_argv (default qemu_argv) is
    used for -dump-vmstate."""
    digest = sha256_file(binary)
    cache = os.path.join(CACHE, "target-facts",
                         f"{target}-{digest[:16]}-v{FACTS_LAYOUT}")
    path = os.path.join(cache, "facts.json")
    if os.path.isfile(path):
        with open(path) as f:
            return json.load(f)
    work = tempfile.mkdtemp(prefix="qsnapfix-facts-")
    try:
        version = run([*qemu_argv, "-version"]).stdout.splitlines()[0]
        listing = run([*qemu_argv, "-M", "help"]).stdout.splitlines()[1:]
        machines = sorted(line.split()[0] for line in listing
                          if line.strip() and "(alias of" not in line)
        deprecated = sorted(line.split()[0] for line in listing
                            if line.rstrip().endswith("(deprecated)"))
        dump_file = os.path.join(work, "dump.json")
        p = run([*(dump_argv or qemu_argv), "-M", machine, "-display",
                 "none", "-dump-vmstate", dump_file], ok_codes=None)
        if p.returncode == 77:  # scripts/qemu10 system-isolated: not root
            skip(p.stderr.strip().splitlines()[-1])
        if p.returncode:
            raise RuntimeError(f"-dump-vmstate: exit {p.returncode}: "
                               f"{p.stderr}")
        with open(dump_file) as f:
            dump = json.load(f)
        facts = {"target": target, "binary_sha256": digest,
                 "version": version, "machine": machine,
                 "machines": machines, "deprecated_machines": deprecated,
                 "vmsds": vmsd_ranges(dump),
                 "descriptions": vmsd_descriptions(dump), "configs": {}}
        # TCG only: the facts must not depend on whether this host has
        # KVM (what KVM adds, kvmclock, is in the dump)
        for name, args in CONFIGS.items():
            d = os.path.join(work, name)
            os.mkdir(d)
            facts["configs"][name] = _measure(
                resume.QemuCommand(qemu_argv), machine, args, "tcg", d,
                os.path.join(work, f"own-{name}.mig"))
        os.makedirs(cache, exist_ok=True)
        for name in facts["configs"]:
            own = os.path.join(work, f"own-{name}.mig")
            if os.path.exists(own):
                os.replace(own, os.path.join(cache, f"own-{name}.mig"))
        facts["probes"] = {
            vmsd: _probe(resume.QemuCommand(qemu_argv), machine, vmsd, p,
                         facts["configs"], cache, work)
            for vmsd, p in PROBES.items()}
        with open(path + ".tmp", "w") as f:
            json.dump(facts, f, indent=1, sort_keys=True)
        os.replace(path + ".tmp", path)
        return facts
    finally:
        shutil.rmtree(work, ignore_errors=True)
