# SPDX-License-Identifier: GPL-2.0-or-later
"""Ansible module: the libvirt domains of a host, their disks and
snapshots, as the qsnapfix workflow needs them."""

DOCUMENTATION = r"""
module: qsnapfix_domain_info
short_description: List libvirt domains with their disks, snapshots and serial logs
description:
  - Reads every libvirt domain of the host (or those named) through
    C(virsh) and returns, per domain, its state, whether it has a managed
    save, its file-backed disks, its snapshots (which is current, which
    hold internal memory) and the files its serial ports write to.
  - Read-only; runs in check mode.
version_added: "0.1.0"
author: qsnapfix maintainers
options:
  domains:
    description: Only these domains (default every domain, running or not).
    type: list
    elements: str
  connect:
    description: The libvirt URI (C(virsh --connect)).
    type: str
  virsh:
    description: The virsh program.
    type: str
    default: virsh
"""

EXAMPLES = r"""
- name: What libvirt has
  qsnapfix.fleet.qsnapfix_domain_info:
  register: libvirt
"""

RETURN = r"""
domains:
  description: One entry per domain, by name.
  type: list
  returned: always
  contains:
    name: {description: The domain's name., type: str}
    state: {description: "virsh domstate: running, paused, shut off, ...", type: str}
    managed_save: {description: The domain has a managed save image., type: bool}
    disks:
      description: "File-backed disks: [{target, path, format}]."
      type: list
    snapshots:
      description: "[{name, current, state, memory, parent}]; memory is internal, external or no."
      type: list
    current_snapshot: {description: The current snapshot's name or null., type: str}
    serial_files: {description: Files the domain's serial ports write to., type: list}
"""

import xml.etree.ElementTree as ET

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.qsnapfix.fleet.plugins.module_utils.virsh import \
    Virsh, VirshError


def disks_of(root):
    out = []
    for disk in root.findall("devices/disk"):
        source = disk.find("source")
        path = None if source is None else \
            source.get("file") or source.get("dev")
        if path is None or disk.get("device", "disk") != "disk":
            continue
        driver = disk.find("driver")
        target = disk.find("target")
        out.append({"target": None if target is None else target.get("dev"),
                    "path": path,
                    "format": None if driver is None else driver.get("type")})
    return out


def serial_files(root):
    return [s.find("source").get("path")
            for s in root.findall("devices/serial") + root.findall(
                "devices/console")
            if s.get("type") == "file" and s.find("source") is not None
            and s.find("source").get("path")]


def snapshot_of(xml_text, current):
    root = ET.fromstring(xml_text)
    memory = root.find("memory")
    parent = root.findtext("parent/name")
    name = root.findtext("name")
    return {"name": name, "current": name == current,
            "state": root.findtext("state"),
            "memory": None if memory is None else memory.get("snapshot"),
            "parent": parent}


def domain_info(virsh, name):
    root = ET.fromstring(virsh("dumpxml", name))
    info = virsh("dominfo", name)
    managed = any(line.split(":", 1)[0].strip() == "Managed save" and
                  line.split(":", 1)[1].strip() == "yes"
                  for line in info.splitlines() if ":" in line)
    current = (virsh("snapshot-current", name, "--name", ok=True)
               or "").strip() or None
    names = (virsh("snapshot-list", name, "--name", "--topological")
             or "").split()
    snapshots = [snapshot_of(virsh("snapshot-dumpxml", name, s), current)
                 for s in names]
    serials = serial_files(root)
    return {"name": name, "state": virsh("domstate", name).strip(),
            "managed_save": managed, "disks": disks_of(root),
            "snapshots": snapshots, "current_snapshot": current,
            "serial_files": sorted(set(serials), key=serials.index)}


def main():
    module = AnsibleModule(argument_spec=dict(
        domains=dict(type="list", elements="str"),
        connect=dict(type="str"),
        virsh=dict(type="str", default="virsh"),
    ), supports_check_mode=True)
    virsh = Virsh(module, module.params["connect"], module.params["virsh"])
    try:
        names = module.params["domains"] or \
            virsh("list", "--all", "--name").split()
        domains = [domain_info(virsh, n) for n in names]
    except (VirshError, ET.ParseError) as e:
        module.fail_json(msg=str(e))
    module.exit_json(changed=False, domains=domains)


if __name__ == "__main__":
    main()
