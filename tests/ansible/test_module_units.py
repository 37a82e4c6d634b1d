#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The collection's Python without a libvirtd or an image: the qsnapfix
module's argument checks, its command lines, its idea of `changed`, and
main() as Ansible runs it (AnsibleModule with its arguments set the way
Ansible's own module unit tests set them, exit_json/fail_json caught,
run_command answering with reports shaped like qsnapfix's); the filters'
plan (which domains, which snapshot to revert to); the libvirt module's
choice of snapshots. Skipped (77) where Ansible is not installed."""
import json
import os
import sys
import unittest
from unittest import mock

SRC = os.environ.get("QSNAPFIX_SRC") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(SRC, "contrib", "ansible")
SYSTEM_PYTHON = "/usr/bin/python3"

try:
    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes
    from ansible.utils.collection_loader._collection_finder import \
        _AnsibleCollectionFinder
except ImportError:
    # Debian's ansible is a module of Debian's Python: run there
    if os.path.isfile(SYSTEM_PYTHON) and \
            os.path.realpath(sys.executable) != os.path.realpath(
                SYSTEM_PYTHON):
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, *sys.argv])
    print("SKIP: ansible is not installed (Debian package ansible; "
          "scripts/setup installs it)")
    sys.exit(77)

_AnsibleCollectionFinder(paths=[COLLECTIONS])._install()
from ansible_collections.qsnapfix.fleet.plugins.filter import fleet  # noqa: E402
from ansible_collections.qsnapfix.fleet.plugins.module_utils import \
    qsnapfix_report as rep  # noqa: E402
from ansible_collections.qsnapfix.fleet.plugins.modules import \
    qsnapfix as qmod  # noqa: E402
from ansible_collections.qsnapfix.fleet.plugins.modules import \
    qsnapfix_libvirt as lmod  # noqa: E402


# ---- reports shaped like qsnapfix's ---------------------------------------

def scan_report(*verdicts, path="/srv/vm/a.qcow2"):
    snaps = [{"id": str(i + 1), "name": f"s{i + 1}", "verdict": v,
              **({"recipe": {"machine": "pc-i440fx-1.4",
                             "libvirt_xml": []}}
                 if v in ("fixable", "compatible") else {})}
             for i, v in enumerate(verdicts)]
    return {"target": "qemu-7.2", "images": [
        {"path": path, "status": "scanned", "snapshots": snaps}],
        "summary": {"images": 1, "fixable": verdicts.count("fixable")},
        "exit_code": 17 if "fixable" in verdicts else 0}


def fix_report(*statuses, dry_run=False, path="/srv/vm/a.qcow2", **snap):
    snaps = [dict({"id": str(i + 1), "name": f"s{i + 1}", "status": s,
                   "exit-code": 0, "resumed": False, "from-journal": False,
                   "recipe": {"machine": "pc-i440fx-1.4",
                              "libvirt_xml": ["<os/>"], "files": []}},
                  **snap)
             for i, s in enumerate(statuses)]
    return {"target": "qemu-7.2", "dry-run": dry_run, "batch": "b-1",
            "journal": None, "images": [
                {"image": path, "status": "fixed", "exit-code": 0,
                 "from-journal": False, "snapshots": snaps}],
            "skipped": [], "summary": {"images": 1}, "exit-code": 0}


def params(**kw):
    p = {k: v.get("default") for k, v in qmod.ARGUMENT_SPEC.items()}
    p.update(kw)
    return p


# ---- Ansible's way of running a module in a unit test ---------------------

class Exit(Exception):
    pass


class Fail(Exception):
    pass


def run_module(module, args, answers, check_mode=False):
    """Run module.main() with args; answers maps the command (argv[1]) to
    (rc, stdout, stderr). Returns (exit or fail, result, commands run)."""
    args = dict(args, _ansible_check_mode=check_mode)
    ran = []

    def run_command(self, argv, **kw):
        ran.append(list(argv))
        rc, out, err = answers[argv[1]]
        return rc, out if isinstance(out, str) else json.dumps(out), err

    def exit_json(self, **kw):
        raise Exit(kw)

    def fail_json(self, **kw):
        raise Fail(kw)

    with mock.patch.object(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps(
            {"ANSIBLE_MODULE_ARGS": args}))), \
            mock.patch.object(basic.AnsibleModule, "run_command",
                              run_command), \
            mock.patch.object(basic.AnsibleModule, "exit_json", exit_json), \
            mock.patch.object(basic.AnsibleModule, "fail_json", fail_json):
        try:
            module.main()
        except (Exit, Fail) as e:
            return type(e).__name__, e.args[0], ran
    raise AssertionError("the module neither exited nor failed")


# ---- the qsnapfix module ----------------------------------------------------

class ArgumentChecks(unittest.TestCase):
    def errors(self, **kw):
        return qmod.argument_errors(params(**kw))

    def test_each_command_takes_what_it_needs(self):
        self.assertEqual(self.errors(command="scan", paths=["/a"]), [])
        self.assertEqual(self.errors(command="fix", paths=["/a"],
                                     journal="/j", keep_original=True), [])
        self.assertEqual(self.errors(command="fix", from_scan="/s"), [])
        self.assertEqual(self.errors(command="fix", resume="/j"), [])
        self.assertEqual(self.errors(command="undo", journal="/j"), [])
        self.assertEqual(self.errors(command="drop-originals",
                                     paths=["/a"], snapshot="s1"), [])

    def test_options_of_another_command_are_refused(self):
        self.assertEqual(self.errors(command="scan", paths=["/a"],
                                     journal="/j", keep_original=True),
                         ["journal is not an option of scan",
                          "keep_original is not an option of scan"])
        self.assertEqual(self.errors(command="undo", journal="/j",
                                     full=True),
                         ["full is not an option of undo"])

    def test_fix_needs_exactly_one_source(self):
        self.assertEqual(self.errors(command="fix"), [
            "fix needs exactly one of paths, from_scan, resume (got none)"])
        self.assertEqual(self.errors(command="fix", paths=["/a"],
                                     from_scan="/s"), [
            "fix needs exactly one of paths, from_scan, resume (got paths, "
            "from_scan)"])

    def test_resume_takes_the_journals_options(self):
        self.assertEqual(self.errors(command="fix", resume="/j", jobs=2), [
            "resume takes the journal's options: give no others (jobs)"])

    def test_undo_needs_paths_or_journal_not_both(self):
        msg = "undo needs paths or journal (one of them)"
        self.assertEqual(self.errors(command="undo"), [msg])
        self.assertEqual(self.errors(command="undo", paths=["/a"],
                                     journal="/j"), [msg])
        self.assertEqual(self.errors(command="undo", journal="/j",
                                     snapshot="s1"),
                         ["snapshot does not go with journal"])

    def test_jobs_range(self):
        self.assertEqual(self.errors(command="scan", paths=["/a"], jobs=65),
                         ["jobs must be 1 to 64"])


class CommandLines(unittest.TestCase):
    def test_fix_is_always_a_batch_with_its_journal(self):
        p = params(command="fix", paths=["/a", "/b"], journal="/j",
                   keep_original=True, target="qemu-10.0",
                   drop_sections=["kvmclock"], snapshot="s1")
        self.assertEqual(qmod.build_argv(p, False), [
            "qsnapfix", "fix", "--output=json", "--target=qemu-10.0",
            "--drop-section=kvmclock", "--jobs=1", "--keep-original",
            "--journal=/j", "--snapshot=s1", "--", "/a", "/b"])

    def test_check_mode_is_a_dry_run_without_journal(self):
        p = params(command="fix", paths=["/a"], journal="/j")
        argv = qmod.build_argv(p, True)
        self.assertIn("--dry-run", argv)
        self.assertFalse([a for a in argv if a.startswith("--journal")])
        p = params(command="undo", journal="/j")
        self.assertEqual(qmod.build_argv(p, True), [
            "qsnapfix", "undo", "--output=json", "--dry-run", "--journal=/j"])

    def test_from_scan_and_resume(self):
        p = params(command="fix", from_scan="/s", jobs=4)
        self.assertEqual(qmod.build_argv(p, False), [
            "qsnapfix", "fix", "--output=json", "--jobs=4",
            "--from-scan=/s"])
        p = params(command="fix", resume="/j")
        self.assertEqual(qmod.build_argv(p, False), [
            "qsnapfix", "fix", "--output=json", "--resume=/j"])

    def test_prove_takes_the_domains_options(self):
        p = params(command="prove", paths=["/a"], snapshot="s1",
                   domain="vm1", target="qemu-7.2")
        self.assertEqual(qmod.build_argv(p, False), [
            "qsnapfix", "prove", "--output=json", "--target=qemu-7.2",
            "--domain=vm1", "--snapshot=s1", "--", "/a"])
        self.assertEqual(qmod.argument_errors(params(
            command="prove", paths=["/a", "/b"], journal="/j")), [
            "journal is not an option of prove",
            "prove needs one image in paths"])

    def test_paths_follow_a_double_dash(self):
        p = params(command="scan", paths=["-odd-name.qcow2"], full=True)
        self.assertEqual(qmod.build_argv(p, False), [
            "qsnapfix", "scan", "--output=json", "--full", "--",
            "-odd-name.qcow2"])


class Changed(unittest.TestCase):
    def test_fix(self):
        self.assertTrue(rep.changed("fix", fix_report("fixed")))
        self.assertTrue(rep.changed("fix", fix_report("fixed",
                                                      dry_run=True)))
        self.assertFalse(rep.changed("fix", fix_report("compatible")))
        self.assertFalse(rep.changed("fix", fix_report("fixed",
                                                       resumed=True)))
        self.assertFalse(rep.changed("fix", fix_report(
            "fixed", **{"from-journal": True})))

    def test_snake_case_reports_too(self):
        one = {"image": "/a", "dry_run": False, "exit_code": 0,
               "snapshots": [{"name": "s1", "status": "fixed",
                              "exit_code": 0}]}
        self.assertTrue(rep.changed("fix", one))
        self.assertEqual(rep.member(one, "exit-code"), 0)

    def test_undo_and_drop(self):
        done = {"images": [{"image": "/a", "snapshots": [
            {"name": "s1", "status": "done"}]}]}
        nothing = {"images": [{"image": "/a", "snapshots": [
            {"name": "s1", "status": "nothing"}]}]}
        for command in ("undo", "drop-originals"):
            self.assertTrue(rep.changed(command, done))
            self.assertFalse(rep.changed(command, nothing))

    def test_scan_never(self):
        self.assertFalse(rep.changed("scan", scan_report("fixable")))

    def test_jsonl(self):
        text = "\n".join(json.dumps(x) for x in (
            {"path": "/a", "status": "scanned", "snapshots": []},
            {"path": "/notes.txt", "reason": "not a qcow2 image"},
            {"target": "qemu-7.2", "summary": {"images": 1},
             "exit_code": 0}))
        doc = rep.parse_report(text)
        self.assertEqual([i["path"] for i in doc["images"]], ["/a"])
        self.assertEqual(doc["skipped"][0]["path"], "/notes.txt")
        self.assertEqual(doc["summary"], {"images": 1})


class Main(unittest.TestCase):
    def test_fix_with_nothing_fixable_runs_only_the_scan(self):
        how, result, ran = run_module(qmod, {
            "command": "fix", "paths": ["/srv/vm/a.qcow2"],
            "journal": "/j.jsonl", "keep_original": True},
            {"scan": (0, scan_report("compatible", "original"), "")})
        self.assertEqual(how, "Exit")
        self.assertEqual([argv[1] for argv in ran], ["scan"])
        self.assertFalse(result["changed"])
        self.assertEqual(result["recipes"][0]["snapshot"], "s1")
        self.assertEqual(result["ansible_facts"]["qsnapfix_last_fix"]["journal"],
                         "/j.jsonl")

    def test_fix_writes_with_its_journal(self):
        how, result, ran = run_module(qmod, {
            "command": "fix", "paths": ["/srv/vm/a.qcow2"],
            "journal": "/j.jsonl", "keep_original": True},
            {"scan": (17, scan_report("fixable"), ""),
             "fix": (0, fix_report("fixed"), "")})
        self.assertEqual((how, result["changed"], result["failed"]),
                         ("Exit", True, False))
        self.assertIn("--journal=/j.jsonl", ran[1])
        self.assertEqual(result["recipes"][0]["image"], "/srv/vm/a.qcow2")

    def test_prescan_honours_snapshot(self):
        _, result, ran = run_module(qmod, {
            "command": "fix", "paths": ["/srv/vm/a.qcow2"],
            "snapshot": "s1"},
            {"scan": (17, scan_report("compatible", "fixable"), "")})
        self.assertEqual(len(ran), 1)
        self.assertFalse(result["changed"])

    def test_check_mode(self):
        how, result, ran = run_module(qmod, {
            "command": "fix", "paths": ["/srv/vm/a.qcow2"],
            "journal": "/j.jsonl"},
            {"fix": (0, fix_report("fixed", dry_run=True), "")},
            check_mode=True)
        self.assertEqual(len(ran), 1)
        self.assertIn("--dry-run", ran[0])
        self.assertTrue(result["changed"])

    def test_check_mode_tolerates_images_in_use(self):
        report = fix_report("fixed", dry_run=True)
        report["images"].append({
            "image": "/srv/vm/b.qcow2", "status": "skipped",
            "exit-code": 6, "snapshots": [],
            "error": {"message": "in use by a running QEMU",
                      "exit-code": 6}})
        report["exit-code"] = 15
        how, result, _ = run_module(qmod, {
            "command": "fix", "paths": ["/srv/vm"]},
            {"fix": (15, report, "")}, check_mode=True)
        self.assertEqual((how, result["changed"]), ("Exit", True))
        how, result, _ = run_module(qmod, {
            "command": "fix", "paths": ["/srv/vm"], "prescan": False},
            {"fix": (15, report, "")})
        self.assertEqual(how, "Fail")
        self.assertIn("/srv/vm/b.qcow2: skipped: in use", result["msg"])

    def test_failure_carries_the_error_and_exit_code(self):
        how, result, _ = run_module(qmod, {
            "command": "undo", "journal": "/missing.jsonl"},
            {"undo": (5, "", "qsnapfix: journal: cannot open\n")})
        self.assertEqual(how, "Fail")
        self.assertEqual(result["rc"], 5)
        self.assertEqual(result["error"], {
            "message": "qsnapfix: journal: cannot open", "exit-code": 5})
        error = {"error": {"message": "x.qcow2: no such file",
                           "exit-code": 5}, "exit-code": 5}
        how, result, _ = run_module(qmod, {
            "command": "scan", "paths": ["/x.qcow2"]},
            {"scan": (5, error, "")})
        self.assertEqual((how, result["error"]), ("Fail", error["error"]))

    def test_scan_exit_17_is_a_report(self):
        how, result, _ = run_module(qmod, {
            "command": "scan", "paths": ["/srv/vm/a.qcow2"]},
            {"scan": (17, scan_report("fixable"), "")})
        self.assertEqual((how, result["failed"], result["rc"]),
                         ("Exit", False, 17))
        self.assertEqual(result["fixable"], [
            {"image": "/srv/vm/a.qcow2", "snapshot": "s1", "id": "1"}])

    def test_bad_arguments_fail_before_running(self):
        how, result, ran = run_module(qmod, {"command": "fix"}, {})
        self.assertEqual((how, ran), ("Fail", []))


# ---- the filters and the libvirt module -------------------------------------

def domain(name, disk, snapshots, current=None, state="shut off"):
    return {"name": name, "state": state, "managed_save": False,
            "disks": [{"target": "hda", "path": disk, "format": "qcow2"}],
            "snapshots": [{"name": s, "memory": m} for s, m in snapshots],
            "current_snapshot": current, "serial_files": []}


class Plan(unittest.TestCase):
    def test_which_domains_and_which_snapshot(self):
        scan = scan_report("fixable", "fixable", "compatible",
                           path="/srv/vm/a.qcow2")
        scan["images"].append(scan_report("compatible",
                                          path="/srv/vm/b.qcow2")
                              ["images"][0])
        domains = [
            domain("a", "/srv/vm/./a.qcow2",
                   [("s1", "internal"), ("s2", "internal"),
                    ("s3", "internal")], current="s1"),
            domain("b", "/srv/vm/b.qcow2", [("s1", "internal")])]
        plan = fleet.fix_plan(domains, scan)
        self.assertEqual([p["domain"] for p in plan], ["a"])
        self.assertEqual(plan[0]["revert_to"], "s1")  # current, fixable
        domains[0]["current_snapshot"] = "s3"
        self.assertEqual(fleet.fix_plan(domains, scan)[0]["revert_to"],
                         "s2")  # the last fixable one libvirt knows
        self.assertEqual(fleet.fix_plan(domains, scan, {"a": "s1"})[0]
                         ["revert_to"], "s1")
        domains[0]["snapshots"] = []  # taken outside libvirt
        self.assertIsNone(fleet.fix_plan(domains, scan)[0]["revert_to"])

    def test_scan_paths_and_images_to_write(self):
        domains = [domain("a", "/a.qcow2", []), domain("b", "/a.qcow2", [])]
        domains[1]["disks"].append({"path": "/b.raw", "format": "raw"})
        self.assertEqual(fleet.scan_paths(domains), ["/a.qcow2"])
        reports = [{"images": [{"image": "/a.qcow2", "snapshots": [
            {"status": "done"}]}, {"image": "/c.qcow2", "snapshots": [
                {"status": "nothing"}]}]}]
        self.assertEqual(fleet.images_to_write(reports), ["/a.qcow2"])
        self.assertEqual([d["domain"] for d in fleet.domains_using(
            domains, ["/a.qcow2"])], ["a", "b"])

    def test_fleet_report_totals(self):
        report = fleet.fleet_report({
            "h1": {"scan": scan_report("fixable", "refused"), "plan": [
                {"domain": "a"}]},
            "h2": {"scan": scan_report("compatible"), "plan": []}})
        self.assertEqual(report["summary"]["hosts"], 2)
        self.assertEqual(report["summary"]["fixable"], 1)
        self.assertEqual(report["summary"]["domains-to-fix"], 1)
        self.assertEqual(report["hosts"]["h1"]["refused"][0]["snapshot"],
                         "s2")

    def test_libvirt_module_applies_fixed_snapshots(self):
        image = fix_report("fixed", "compatible")["images"][0]
        self.assertEqual(lmod.snapshots_to_apply(image, None), ["s1"])
        self.assertEqual(lmod.snapshots_to_apply(image, ["s2"]), ["s2"])
        helper = lmod.helper_report(image, True)
        self.assertEqual((helper["image"], helper["dry_run"]),
                         ("/srv/vm/a.qcow2", True))


if __name__ == "__main__":
    unittest.main(verbosity=2)
