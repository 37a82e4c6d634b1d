# SPDX-License-Identifier: GPL-2.0-or-later
"""Ansible module: merge a fix's resume recipe into a libvirt domain and
its snapshot metadata (runs qsnapfix-libvirt)."""

DOCUMENTATION = r"""
module: qsnapfix_libvirt
short_description: Carry qsnapfix's resume recipe into a libvirt domain and its snapshots
description:
  - Runs C(qsnapfix-libvirt) (docs/libvirt.md) for each fixed snapshot of
    one image of a fix report: a dry run first, whose diff says whether
    anything is to change; then, unless in check mode, C(--apply), which
    defines the domain and redefines the snapshot's metadata.
  - A second run on a domain that carries the recipe changes nothing.
  - Supports check mode and diff mode (the domain and snapshot XML diff).
  - The domain must be shut off for C(--apply) (the helper refuses
    otherwise, exit 6).
version_added: "0.1.0"
author: qsnapfix maintainers
options:
  domain:
    description: The libvirt domain.
    type: str
    required: true
  report:
    description:
      - One image of a C(qsnapfix fix) report (an element of its
        C(images), as the qsnapfix module returns it), or a whole
        one-image report.
    type: dict
    required: true
  snapshots:
    description:
      - The snapshots (names) whose recipe to apply. Default every
        snapshot of the report whose status is C(fixed).
    type: list
    elements: str
  connect:
    description: The libvirt URI.
    type: str
  helper:
    description: The qsnapfix-libvirt program.
    type: str
    default: qsnapfix-libvirt
  image_check:
    description: Require the report's image among the domain's disks.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: The recipe into the domain
  qsnapfix.fleet.qsnapfix_libvirt:
    domain: vm1
    report: "{{ fix.report.images | selectattr('image', 'in', disks) | first }}"
"""

RETURN = r"""
applied:
  description: The snapshots whose recipe changed the domain or its metadata (in check mode, would).
  type: list
  returned: always
notes:
  description: What the helper said about the domain's own settings it changed or kept.
  type: list
  returned: always
diff:
  description: The XML diffs (diff mode).
  type: dict
  returned: when changed
"""

import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.qsnapfix.fleet.plugins.module_utils import \
    qsnapfix_report as rep


def snapshots_to_apply(report, wanted):
    """Names of the report's snapshots whose recipe goes into libvirt."""
    snaps = rep.member(report, "snapshots") or []
    names = [rep.member(s, "name") for s in snaps
             if isinstance(rep.member(s, "recipe"), dict) and
             (rep.member(s, "status") == "fixed" if wanted is None
              else rep.member(s, "name") in wanted)]
    return names


def helper_report(report, dry_run):
    """What qsnapfix-libvirt reads: a one-image fix report ({image,
    dry_run, snapshots})."""
    out = dict(report)
    out["image"] = rep.image_path(report)
    out["dry_run"] = bool(dry_run)
    return out


class Helper:
    def __init__(self, module):
        p = module.params
        self.module = module
        self.argv = [p["helper"], "--domain", p["domain"]]
        if p["connect"]:
            self.argv += ["--connect", p["connect"]]
        if not p["image_check"]:
            self.argv.append("--no-image-check")

    def __call__(self, report_path, snapshot, apply):
        argv = [*self.argv, "--snapshot", snapshot, report_path]
        if apply:
            argv.append("--apply")
        rc, out, err = self.module.run_command(argv)
        notes = [line[len("note: "):] for line in err.splitlines()
                 if line.startswith("note: ")]
        if rc != 0:
            self.module.fail_json(
                msg=f"qsnapfix-libvirt exited {rc}: "
                    f"{err.strip().splitlines()[-1] if err.strip() else ''}",
                rc=rc, stderr=err, stdout=out, cmd=argv, snapshot=snapshot)
        return out, notes


def main():
    module = AnsibleModule(argument_spec=dict(
        domain=dict(type="str", required=True),
        report=dict(type="dict", required=True),
        snapshots=dict(type="list", elements="str"),
        connect=dict(type="str"),
        helper=dict(type="str", default="qsnapfix-libvirt"),
        image_check=dict(type="bool", default=True),
    ), supports_check_mode=True)
    report = module.params["report"]
    dry_run = bool(rep.member(report, "dry-run")) or module.check_mode
    helper = Helper(module)
    applied, notes, diffs = [], [], []
    fd, path = tempfile.mkstemp(prefix="qsnapfix-libvirt-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(helper_report(report, dry_run), f)
        for name in snapshots_to_apply(report, module.params["snapshots"]):
            diff, said = helper(path, name, apply=False)
            notes += said
            if not diff:
                continue
            applied.append(name)
            diffs.append(diff)
            if not module.check_mode:
                _, said = helper(path, name, apply=True)
                notes += said
    finally:
        os.unlink(path)
    result = dict(changed=bool(applied), applied=applied,
                  notes=list(dict.fromkeys(notes)))
    if diffs and module._diff:
        result["diff"] = {"prepared": "".join(diffs)}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
