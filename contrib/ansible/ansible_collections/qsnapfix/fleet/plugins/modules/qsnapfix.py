# SPDX-License-Identifier: GPL-2.0-or-later
"""Ansible module: run qsnapfix scan, fix, undo or drop-originals."""

DOCUMENTATION = r"""
module: qsnapfix
short_description: Scan, fix, prove, undo or drop the originals of old qemu-kvm snapshots
description:
  - Runs C(qsnapfix scan), C(fix), C(prove), C(undo) or C(drop-originals)
    on the managed host with C(--output=json) and returns its report.
  - C(prove) loads a snapshot in the target QEMU, paused, with the VM's
    options from a libvirt C(domain), and fails unless it loads (exit 19);
    "not proven here" (exit 20: no such QEMU) is a warning.
  - C(fix) always runs as a batch (C(--jobs)), so its report has one shape
    whatever the number of images. Before it writes, it scans the paths
    (read-only, about 80 KiB per image) and runs only when a snapshot is
    fixable, so a second run on fixed images changes nothing and reports
    C(changed=false), and leaves no journal behind.
  - Check mode runs C(fix --dry-run), C(undo -n) or C(drop-originals -n)
    (no journal is written); C(scan) is read-only and runs as usual.
  - Fails with the tool's error object and exit code when qsnapfix
    reports a failure; scan's 17 (fixable) and 4 (refused) are reports,
    not failures, and nothing to do is 0 (3 before qsnapfix 0.1.0).
version_added: "0.1.0"
author: qsnapfix maintainers
options:
  command:
    description: The qsnapfix command to run.
    type: str
    required: true
    choices: [scan, fix, prove, undo, drop-originals]
  domain:
    description: C(prove) takes the VM's options from this libvirt domain (C(virsh domxml-to-native); C(LIBVIRT_DEFAULT_URI) picks the connection).
    type: str
  paths:
    description:
      - Images or directories (walked as C(qsnapfix scan) walks them).
      - C(scan) needs them; C(fix) takes them, C(from_scan) or C(resume);
        C(undo) and C(drop-originals) take them or C(journal).
    type: list
    elements: path
    aliases: [path, images]
  snapshot:
    description: Only this snapshot (ID or name) of each image.
    type: str
  from_scan:
    description: C(fix) exactly what this scan report (on the managed host) marked fixable.
    type: path
  journal:
    description:
      - C(fix) records every step in this JSONL file (appended; not in check mode).
      - C(undo) and C(drop-originals) act on everything that journal's batch fixed.
    type: path
  resume:
    description: C(fix --resume) this journal of an interrupted batch (its options and images).
    type: path
  jobs:
    description: Images at a time (C(--jobs)).
    type: int
  keep_original:
    description: C(fix --keep-original), the precondition of C(undo).
    type: bool
    default: false
  target:
    description: The target QEMU (C(qemu-7.2), C(qemu-10.0), C(qemu-2.0)).
    type: str
  machine:
    description: The machine type for the recipe instead of the target's.
    type: str
  rom_dir:
    description: Where the recipe's ROM, BIOS and flash files go (default beside the image).
    type: path
  drop_sections:
    description: C(--drop-section) for each (a loss, reported).
    type: list
    elements: str
    default: []
  shrink_vram:
    description: C(--shrink-vram).
    type: bool
    default: false
  drop_roms:
    description: C(--drop-roms).
    type: bool
    default: false
  keep_block_sections:
    description: C(--keep-block-sections).
    type: bool
    default: false
  full:
    description: C(scan --full) (read every VM state, plan every fix exactly).
    type: bool
    default: false
  prescan:
    description: C(fix) with C(paths) scans first and does nothing unless a snapshot is fixable.
    type: bool
    default: true
  report:
    description:
      - Also write the report to this file on the managed host (replaced
        atomically; written in check mode too, and not counted as a change).
    type: path
  executable:
    description: The qsnapfix program.
    type: str
    default: qsnapfix
"""

EXAMPLES = r"""
- name: Scan the store
  qsnapfix.fleet.qsnapfix:
    command: scan
    paths: [/var/lib/libvirt/images]
    report: /var/lib/qsnapfix/scan.json

- name: Fix what the scan marked, keeping the originals, with a journal
  qsnapfix.fleet.qsnapfix:
    command: fix
    from_scan: /var/lib/qsnapfix/scan.json
    keep_original: true
    journal: /var/lib/qsnapfix/journals/fix-1.jsonl
    jobs: 2

- name: Undo that batch
  qsnapfix.fleet.qsnapfix:
    command: undo
    journal: /var/lib/qsnapfix/journals/fix-1.jsonl
"""

RETURN = r"""
report:
  description: The tool's JSON report (C(--output=json)); for a C(fix) the prescan found nothing to do in, the scan's.
  type: dict
  returned: when the tool printed one
recipes:
  description: "Every snapshot carrying a resume recipe: [{image, snapshot, id, status, recipe}]."
  type: list
  returned: always
fixable:
  description: "C(scan): [{image, snapshot, id}] of every fixable snapshot."
  type: list
  returned: always
journal:
  description: The journal's absolute path (C(journal) or C(resume)), or null.
  type: str
  returned: always
summary:
  description: The report's summary.
  type: dict
  returned: always
failures:
  description: "[{image, snapshot, status, message, exit-code}] of what failed, was refused or skipped."
  type: list
  returned: always
rc:
  description: qsnapfix's exit code (0 when no fix was needed and none ran).
  type: int
  returned: always
cmd:
  description: The command lines run (the prescan's first).
  type: list
  returned: always
error:
  description: On failure, the tool's error object {message, exit-code}.
  type: dict
  returned: failure
ansible_facts:
  description: "qsnapfix_last_scan, qsnapfix_last_fix, qsnapfix_last_prove, qsnapfix_last_undo or qsnapfix_last_drop_originals (the last run of that command on the host): {report, recipes, fixable, journal, summary, rc, changed}."
  type: dict
  returned: always
"""

import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.qsnapfix.fleet.plugins.module_utils import \
    qsnapfix_report as rep

ARGUMENT_SPEC = dict(
    command=dict(type="str", required=True,
                 choices=["scan", "fix", "prove", "undo",
                          "drop-originals"]),
    domain=dict(type="str"),
    paths=dict(type="list", elements="path", aliases=["path", "images"]),
    snapshot=dict(type="str"),
    from_scan=dict(type="path"),
    journal=dict(type="path"),
    resume=dict(type="path"),
    jobs=dict(type="int"),
    keep_original=dict(type="bool", default=False),
    target=dict(type="str"),
    machine=dict(type="str"),
    rom_dir=dict(type="path"),
    drop_sections=dict(type="list", elements="str", default=[]),
    shrink_vram=dict(type="bool", default=False),
    drop_roms=dict(type="bool", default=False),
    keep_block_sections=dict(type="bool", default=False),
    full=dict(type="bool", default=False),
    prescan=dict(type="bool", default=True),
    report=dict(type="path"),
    executable=dict(type="str", default="qsnapfix"),
)

# Options each command takes beyond command, paths, executable, report.
ALLOWED = {
    "scan": {"snapshot", "jobs", "target", "machine", "rom_dir",
             "drop_sections", "shrink_vram", "drop_roms",
             "keep_block_sections", "full"},
    "fix": {"snapshot", "from_scan", "journal", "resume", "jobs",
            "keep_original", "target", "machine", "rom_dir",
            "drop_sections", "shrink_vram", "drop_roms",
            "keep_block_sections", "prescan"},
    "undo": {"snapshot", "journal"},
    "drop-originals": {"snapshot", "journal"},
    "prove": {"snapshot", "domain", "target", "machine", "drop_sections",
              "shrink_vram", "drop_roms", "keep_block_sections"},
}
# The commands that write images (check mode: --dry-run).
WRITERS = ("fix", "undo", "drop-originals")
# Options whose default is not "not given".
DEFAULTS = {k: v.get("default") for k, v in ARGUMENT_SPEC.items()}


def argument_errors(params):
    """What is wrong with this combination of options (a list of
    sentences; empty when nothing)."""
    command = params["command"]
    errors = []
    given = {k for k, v in params.items()
             if k not in ("command", "paths", "executable", "report")
             and v not in (None, DEFAULTS.get(k))}
    for name in sorted(given - ALLOWED[command]):
        errors.append(f"{name} is not an option of {command}")
    sources = [k for k in ("paths", "from_scan", "resume") if params.get(k)]
    if command == "scan" and not params.get("paths"):
        errors.append("scan needs paths")
    elif command == "prove" and len(params.get("paths") or []) != 1:
        errors.append("prove needs one image in paths")
    elif command == "fix":
        if len(sources) != 1:
            errors.append("fix needs exactly one of paths, from_scan, "
                          f"resume (got {', '.join(sources) or 'none'})")
        if params.get("resume") and given - {"resume", "prescan"}:
            errors.append("resume takes the journal's options: give no "
                          "others (" + ", ".join(
                              sorted(given - {"resume", "prescan"})) + ")")
    elif command in ("undo", "drop-originals"):
        if bool(params.get("paths")) == bool(params.get("journal")):
            errors.append(f"{command} needs paths or journal (one of them)")
        if params.get("journal") and params.get("snapshot"):
            errors.append("snapshot does not go with journal")
    if params.get("jobs") is not None and not 1 <= params["jobs"] <= 64:
        errors.append("jobs must be 1 to 64")
    return errors


def judge_options(params):
    """The options that change a verdict, shared by scan and fix."""
    argv = []
    for name, flag in (("target", "--target"), ("machine", "--machine"),
                       ("rom_dir", "--rom-dir")):
        if params.get(name):
            argv.append(f"{flag}={params[name]}")
    for section in params.get("drop_sections") or []:
        argv.append(f"--drop-section={section}")
    for name in ("shrink_vram", "drop_roms", "keep_block_sections"):
        if params.get(name):
            argv.append("--" + name.replace("_", "-"))
    return argv


def build_argv(params, check_mode):
    """qsnapfix's command line for these options."""
    command = params["command"]
    argv = [params["executable"], command, "--output=json"]
    if command == "scan":
        argv += judge_options(params)
        if params.get("jobs"):
            argv.append(f"--jobs={params['jobs']}")
        if params.get("full"):
            argv.append("--full")
    elif command == "prove":
        argv += judge_options(params)
        if params.get("domain"):
            argv.append(f"--domain={params['domain']}")
    elif command == "fix":
        if params.get("resume"):
            return argv + [f"--resume={params['resume']}"]
        argv += judge_options(params)
        # --jobs makes every fix a batch: one report shape for one image
        # or a thousand
        argv.append(f"--jobs={params.get('jobs') or 1}")
        if params.get("keep_original"):
            argv.append("--keep-original")
        if params.get("from_scan"):
            argv.append(f"--from-scan={params['from_scan']}")
    if command in WRITERS and check_mode:
        argv.append("--dry-run")
    # fix writes its journal, so a dry run has none; undo and
    # drop-originals read theirs
    if params.get("journal") and not (check_mode and command == "fix"):
        argv.append(f"--journal={params['journal']}")
    if params.get("snapshot"):
        argv.append(f"--snapshot={params['snapshot']}")
    if params.get("paths") and not params.get("from_scan"):
        argv += ["--", *params["paths"]]
    return argv


def prescan_argv(params):
    return [params["executable"], "scan", "--output=json",
            *judge_options(params), "--", *params["paths"]]


def wanted_fixable(scan_report, snapshot):
    """The fixable snapshots of a scan report (only `snapshot`, by ID or
    name, when given)."""
    return [s for s in rep.fixable(scan_report)
            if snapshot is None or snapshot in (s["snapshot"], s["id"])]


class Run:
    """One qsnapfix run: its command line, exit code and report."""

    def __init__(self, module, argv):
        self.argv = argv
        self.rc, out, self.stderr = module.run_command(argv)
        self.report = rep.parse_report(out)

    def ok(self, command):
        return self.report is not None and self.rc in rep.OK_CODES[command]


def write_report(module, path, report):
    """The report as a file on the managed host, replaced atomically."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".qsnapfix-report-", dir=directory)
    with os.fdopen(fd, "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    module.atomic_move(tmp, os.path.abspath(path))


def result_of(params, run, changed, cmds):
    command = params["command"]
    report = run.report or {}
    journal = params.get("journal") or params.get("resume")
    facts = {
        "report": report,
        "recipes": rep.recipes(report),
        # a scan's, or the prescan's of a fix that found nothing to do
        "fixable": rep.fixable(report) if run.argv[1] == "scan" else [],
        "journal": os.path.abspath(journal) if journal else None,
        "summary": rep.member(report, "summary") or {},
        "rc": run.rc,
        "changed": changed,
    }
    # failed=False: Ansible takes a non-zero rc for a failure unless told
    # (scan's 17 is a report)
    result = dict(facts, changed=changed, cmd=cmds, failed=False,
                  failures=rep.failures(report))
    result["ansible_facts"] = {
        "qsnapfix_last_" + command.replace("-", "_"): facts}
    return result


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC,
                           supports_check_mode=True)
    params = module.params
    errors = argument_errors(params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    command = params["command"]
    cmds = []
    if command == "fix" and params.get("paths") and params["prescan"] \
            and not module.check_mode:
        scan = Run(module, prescan_argv(params))
        cmds.append(scan.argv)
        if not scan.ok("scan"):
            fail(module, scan, cmds, "scan (before fix)")
        if not wanted_fixable(scan.report, params.get("snapshot")):
            if params.get("report"):
                write_report(module, params["report"], scan.report)
            module.exit_json(msg="nothing to fix", **result_of(
                params, scan, False, cmds))
    run = Run(module, build_argv(params, module.check_mode))
    cmds.append(run.argv)
    in_use = in_use_in_dry_run(run, command, module.check_mode)
    if not run.ok(command) and not in_use:
        fail(module, run, cmds, command)
    if command == "prove" and run.rc == 20:
        module.warn("not proven here: " + str(rep.error_of(
            run.report, run.stderr, run.rc).get("message")))
    for f in in_use or []:
        module.warn(f"{f['image']}: in use by a running QEMU: the dry run "
                    f"could not look at it; a real run refuses it unless "
                    f"its VM is stopped first")
    if params.get("report"):
        write_report(module, params["report"], run.report)
    changed = rep.changed(command, run.report)
    module.exit_json(**result_of(params, run, changed, cmds))


def in_use_in_dry_run(run, command, check_mode):
    """In check mode, a batch whose only failures are images in use (exit
    6) is a dry run of a store some of whose VMs still run (the playbook
    stops them before the real run): those images, else None."""
    if not (check_mode and run.report is not None and
            command in WRITERS):
        return None
    failed = rep.failures(run.report)
    if failed and all(f["exit-code"] == 6 for f in failed):
        return failed
    return None


def fail(module, run, cmds, what):
    error = rep.error_of(run.report, run.stderr, run.rc)
    failures = rep.failures(run.report)
    message = error.get("message")
    if failures:  # a batch's report: what failed, image by image
        message = "; ".join(
            f"{f['image']}" + (f" snapshot {f['snapshot']}"
                               if f["snapshot"] else "") +
            f": {f['status']}: {f['message']}" for f in failures[:5])
    module.fail_json(msg=f"qsnapfix {what} exited {run.rc}: {message}",
                     rc=run.rc, error=error, failures=failures,
                     report=run.report, stderr=run.stderr, cmd=cmds)


if __name__ == "__main__":
    main()
