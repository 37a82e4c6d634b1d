#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""--target=auto and --qemu CMD: the target's profile measured from the
binary itself (src/app/target_probe.c), cached by its hash.

* --target=auto on the host's QEMU 7.2: its facts are the shipped
  qemu-7.2 profile's, so fix --dry-run gives exactly the findings, edits
  and recipes of --target qemu-7.2 on every snapshot of every real image;
  a second run reads the cache (the facts file is not written again);
* --qemu with the Debian 13 QEMU 10.0 (scripts/qemu10 system-isolated,
  whose -dump-vmstate must not see the host's 7.2 modules) gives
  qemu-10.0's;
* the profile built from the 7.2 facts (QSNAPFIX_TARGET_BUILT=1, the
  builder tr_target_build() rather than the shipped table) gives the same
  recipes and findings, but for R23 on KVM streams (a built profile
  assumes a KVM that refuses XSAVE components the guest never enabled);
* QEMU 2.0 (no -dump-vmstate) is refused with exit 20 and a message that
  says why and names --target qemu-2.0.
"""
import json
import os
import subprocess

from qsnapfix_tests import targets
from qsnapfix_tests.fixlib import check, check_eq
from qsnapfix_tests.testlib import (BIN, CACHE, SRC, load_manifest, main,
                                    run, skip)

CACHE_DIR = os.path.join(CACHE, "qsnapfix-targets")


def dry_run(path, *args, env=None):
    p = run([BIN, "fix", path, "--all", "--dry-run", "--output=json",
             f"--cache-dir={CACHE_DIR}", *args], ok_codes=(0, 3, 4, 15),
            env=env)
    rep = json.loads(p.stdout)
    return p.stderr, [(s["name"], s["status"], s["rules"], s["edits"],
                       s["recipe"]) for s in rep["snapshots"]]


def without_target(snaps):
    """The reports without the target's name (auto names its profile)."""
    out = []
    for name, status, rules, edits, recipe in snaps:
        if recipe:
            recipe = dict(recipe, target=None)
        out.append((name, status, rules, edits, recipe))
    return out


def same_as_shipped(args, shipped, origin_words, env=None):
    images, images_dir = load_manifest()
    for image in images:
        path = os.path.join(images_dir, image["file"])
        err, auto = dry_run(path, *args, env=env)
        for w in origin_words:
            check(w in err, f"{image['name']}: {w!r} not in {err!r}")
        _, named = dry_run(path, f"--target={shipped}")
        check_eq(without_target(auto), without_target(named),
                 f"{image['name']}: {' '.join(args)} against {shipped}")
    print(f"{' '.join(args)}: as --target {shipped} on {len(images)} images")


def test_auto_on_the_host_qemu_is_qemu_7_2():
    targets.QEMU72.ensure()
    same_as_shipped(["--target=auto"], "qemu-7.2",
                    ["target qemu-7.2: the facts of QEMU 7.2.",
                     "are the shipped profile's"])
    facts = [os.path.join(CACHE_DIR, f) for f in os.listdir(CACHE_DIR)]
    before = {f: os.stat(f).st_mtime_ns for f in facts}
    err, _ = dry_run(os.path.join(load_manifest()[1],
                                  load_manifest()[0][0]["file"]),
                     "--target=auto")
    check("(cached)" in err, f"a second run measured again: {err}")
    check_eq({f: os.stat(f).st_mtime_ns for f in facts}, before,
             "the facts files after a cached run")


def test_qemu_10_binary_is_qemu_10_0():
    targets.QEMU10.ensure()
    qemu10 = os.path.join(SRC, "scripts", "qemu10")
    p = subprocess.run([qemu10, "system-isolated", "-version"],
                       capture_output=True, text=True)
    if p.returncode == 77:
        skip(p.stderr.strip().splitlines()[-1])
    same_as_shipped([f"--qemu={qemu10} system-isolated"], "qemu-10.0",
                    ["target qemu-10.0: the facts of QEMU 10.0."])


def test_the_built_profile_answers_as_the_shipped_one():
    targets.QEMU72.ensure()
    env = dict(os.environ, QSNAPFIX_TARGET_BUILT="1")
    images, images_dir = load_manifest()
    for image in images:
        path = os.path.join(images_dir, image["file"])
        err, built = dry_run(path, "--target=auto", env=env)
        check("a profile built from the facts of QEMU 7.2." in err, err)
        _, shipped = dry_run(path, "--target=qemu-7.2")
        # the texts name the target, which the built profile names by
        # its version: compare what the rules do
        def what(rules):
            return [(r["id"], r["action"], r["subject"], r["edits"])
                    for r in rules if r["id"] != "R23"]
        check_eq([(n, what(rules), recipe and recipe["command-line"])
                  for n, _, rules, _, recipe in built],
                 [(n, what(rules), recipe and recipe["command-line"])
                  for n, _, rules, _, recipe in shipped],
                 f"{image['name']}: built against shipped")
        r23 = [r for _, _, rules, _, _ in built for r in rules
               if r["id"] == "R23"]
        check(not r23 or image["accel"] == "kvm",
              f"{image['name']}: R23 on a TCG stream")
    print(f"built from 7.2's facts: as qemu-7.2 on {len(images)} images "
          f"(R23 aside on KVM streams)")


def test_qemu_2_0_cannot_be_profiled():
    targets.QEMU20.ensure()
    images, images_dir = load_manifest()
    qemu20 = os.path.join(SRC, "scripts", "qemu20")
    p = run([BIN, "fix", "--dry-run", f"--qemu={qemu20} system",
             os.path.join(images_dir, images[0]["file"])], ok_codes=(20,))
    for w in ("cannot be profiled", "no -dump-vmstate",
              "--target qemu-2.0"):
        check(w in p.stderr, f"{w!r} not in {p.stderr!r}")


if __name__ == "__main__":
    main([test_auto_on_the_host_qemu_is_qemu_7_2,
          test_qemu_10_binary_is_qemu_10_0,
          test_the_built_profile_answers_as_the_shipped_one,
          test_qemu_2_0_cannot_be_profiled])
