#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The shipped target profiles against the QEMU binaries they describe
(QEMU 7.2 of the host, QEMU 10.0 of the scripts/qemu10 tree):

* `scripts/target-profile --check`: the facts measured from the binary now
  (-dump-vmstate, its own streams' sections and RAM blocks for a set of
  device configurations, the sections it loads but never sends, the
  property values its machine gives devices) are the ones committed in
  src/translate/target_facts_*.c, which the profiles are built on
  (tests/translate/test_target_facts.c checks the profiles against those
  files without QEMU);
* every stream the target wrote itself in those configurations is judged
  compatible with its profile: no edit, no setting, no RAM block the
  profile does not know (what the RAM tables, written by hand, hold); on
  the newest machine, whose sizes the profile (of its oldest i440fx
  machine) does not measure, the only settings hand the stream's own
  BIOS, ROMs and video memory size over.

Facts are cached by the binary's hash ($QSNAPFIX_CACHE/target-facts), so
a second run only reads them. Skipped (77) for a QEMU that is not here;
QEMU 10.0's -dump-vmstate needs root (scripts/qemu10 system-isolated).
"""
import glob
import json
import os
import subprocess
import tempfile

from qsnapfix_tests import target_facts
from qsnapfix_tests.testlib import BIN, CACHE, SRC, check, main, run, skip

PROFILE = os.path.join(SRC, "scripts", "target-profile")
# Settings that hand a stream's own blocks over where the profile does not
# know the sizes of the machine (R5 video memory, R6 ROMs, R7 BIOS).
HAND_OVER = {("R4", "setting"), ("R5", "setting"), ("R6", "setting"),
             ("R7", "setting")}
HANDED_OVER = (".romfile=", ".vgamem_mb=", ".pc.bios", "_size_mb=")
TARGETS = ("qemu-7.2", "qemu-10.0")


def profile_check(target):
    p = subprocess.run([PROFILE, "--check", target], capture_output=True,
                       text=True, timeout=1500)
    if p.returncode == 77:
        skip(p.stderr.strip().splitlines()[-1])
    check(p.returncode == 0,
          f"{target}: the committed facts differ from its binary "
          f"(run scripts/target-profile {target}):\n{p.stdout}{p.stderr}")
    return p.stdout.strip()


def own_streams(target):
    # This tree's layout only: a cache shared with other checkouts may hold
    # newer layouts measured with more configurations.
    dirs = sorted(glob.glob(os.path.join(
        CACHE, "target-facts", f"{target}-*-v{target_facts.FACTS_LAYOUT}")),
                  key=os.path.getmtime)
    check(dirs, f"{target}: no facts cached after scripts/target-profile")
    with open(os.path.join(dirs[-1], "facts.json")) as f:
        facts = json.load(f)
    return facts, sorted(glob.glob(os.path.join(dirs[-1], "own-*.mig")))


def judge(target, stream):
    with tempfile.TemporaryDirectory(prefix="qsnapfix-own-") as d:
        p = run([BIN, "translate", "--dry-run", f"--target={target}",
                 stream, os.path.join(d, "out"), "--output=json"],
                ok_codes=(0, 4))
    return json.loads(p.stdout)["snapshots"][0]


def test_profiles_hold_what_the_binaries_say():
    for target in TARGETS:
        note = profile_check(target)
        print(f"{target}: facts as committed{': ' + note if note else ''}")


def test_own_streams_are_compatible_with_their_profile():
    for target in TARGETS:
        facts, streams = own_streams(target)
        check(len(streams) >= 6, f"{target}: {len(streams)} own streams")
        for stream in streams:
            s = judge(target, stream)
            config = os.path.basename(stream)[4:-4]
            findings = [(r["id"], r["action"], r["subject"])
                        for r in s["rules"]]
            if not facts["configs"][config]["machine"]:
                # on the newest machine: its CONFIGURATION record names
                # it, and the recipe keeps it
                check(("R15", "setting", "machine") in findings and
                      s["recipe"]["machine"] ==
                      facts["configs"][config]["configuration"],
                      f"{target} {config}: machine {s['recipe']['machine']}")
                findings.remove(("R15", "setting", "machine"))
                findings = [f for f in findings
                            if f[:2] not in HAND_OVER]
                args = [a for a in s["recipe"]["qemu-args"]
                        if a not in ("-global", "-bios") and
                        not any(k in a for k in HANDED_OVER)]
            else:
                args = s["recipe"]["qemu-args"]
            check(s["status"] == "compatible" and not findings and
                  not args,
                  f"{target} {config}: {s['status']}, findings "
                  f"{findings}, settings {s['recipe']['qemu-args']}")
            blocks = facts["configs"][config]["ram_blocks"]
            print(f"{target} {config}: compatible, {len(blocks)} RAM "
                  f"blocks, {len(facts['configs'][config]['sections'])} "
                  f"sections")


if __name__ == "__main__":
    main([test_profiles_hold_what_the_binaries_say,
          test_own_streams_are_compatible_with_their_profile])
