#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Golden outputs: what qsnapfix prints and writes on every real image of
../shared, for every target, is exactly what it printed and wrote when the
golden files were recorded.

Per image: `inspect --output=json`; per snapshot with VM state, the stream
inspection `inspect --snapshot S --output=json`; per target: `scan`
(human and JSON), `fix --all --dry-run` (human and JSON), and the real
`fix --all --output=json` on a copy: its report, the image's bytes and the
recipe files' bytes. Reports are compared byte for byte (their SHA-256;
the parsed report is kept beside it so that a difference can be shown);
the paths of the working directory read as @DIR@, the host's file system
figures (free space, bytes on disk) as @HOST@. Reports carry a
timestamp: SOURCE_DATE_EPOCH pins it, so that they stay comparable (the
version they carry is the program's: a new version re-records them).

Code that moves without changing behaviour keeps this test passing. A
change that alters an output on purpose re-records the golden files
(`test_golden.py --update`) and says so in its commit.

QSNAPFIX_GOLDEN_BASELINE=/path/to/older/qsnapfix adds the same comparison
on the generated fixture matrix against that binary (outputs differ from
build to build of the fixtures, so they cannot be recorded).
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from qsnapfix_tests.testlib import BIN, Failure, load_manifest, main

HERE = os.path.dirname(os.path.abspath(__file__))

GOLDEN = os.path.join(HERE, "real")
TARGETS = ("qemu-7.2", "qemu-10.0")


# The reports' timestamp and the time in the record a fix leaves in the
# image (2023-11-14T22:13:20Z), fixed.
ENV = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")

# Figures of the host's file system, not of qsnapfix: its free space, and
# the bytes a file takes on it (allocation unit, whether a copy is sparse,
# whether holes can be punched). They read as @HOST@.
SIZE = r"[\d.]+ [KMGTPE]?i?B"
HOST_FIGURES = [
    (re.compile(r"the file system has " + SIZE), "the file system has @HOST@"),
    (re.compile(r"on disk (about )?" + SIZE + " -> " + SIZE + r" \(" + SIZE),
     r"on disk \1@HOST@ -> @HOST@ (@HOST@"),
    (re.compile(r'("(?:available|allocated[-_]before|allocated[-_]after|'
                r'released)"\s*:\s*)\d+'), r'\1"@HOST@"'),
]


def host_neutral(text):
    for pattern, replacement in HOST_FIGURES:
        text = pattern.sub(replacement, text)
    return text


def record(binary, workdir, image_name, argv):
    """Run binary in workdir; the output with @DIR@ for workdir and @HOST@
    for the host's file system figures."""
    p = subprocess.run([binary, *argv], cwd=workdir, capture_output=True,
                       timeout=600, env=ENV)
    out = p.stdout.decode("utf-8", "surrogateescape").replace(workdir, "@DIR@")
    err = p.stderr.decode("utf-8", "surrogateescape").replace(workdir, "@DIR@")
    out, err = host_neutral(out), host_neutral(err)
    entry = {"argv": argv, "exit": p.returncode,
             "stdout_sha256": hashlib.sha256(out.encode(
                 "utf-8", "surrogateescape")).hexdigest(),
             "stderr": err}
    if "--output=json" in argv and len(out) < 20000:
        try:
            entry["json"] = json.loads(out)
        except json.JSONDecodeError:
            entry["stdout"] = out
    elif len(out) < 20000:
        entry["stdout"] = out
    return entry


def snapshots_with_state(binary, path):
    p = subprocess.run([binary, "inspect", "--output=json", path],
                       capture_output=True, check=True)
    return [s["id"] for s in json.loads(p.stdout)["snapshots"]
            if s.get("vm-state-size", 0)]


def file_sha256(path, workdir):
    """SHA-256 of a file with workdir's name in it replaced by a name of
    the same length: the record a fix leaves in the image holds the
    recipe, whose file paths are in the (random) working directory."""
    with open(path, "rb") as f:
        data = f.read()
    d = workdir.encode()
    return hashlib.sha256(data.replace(d, b"@" * len(d))).hexdigest()


def outputs_of(binary, src, name):
    """Every golden output of one image, as a dict."""
    work = tempfile.mkdtemp(prefix="qsnapfix-golden-")
    try:
        img = "image.qcow2"
        shutil.copyfile(src, os.path.join(work, img))
        got = {"inspect": record(binary, work, name,
                                 ["inspect", "--output=json", img])}
        for sid in snapshots_with_state(binary, os.path.join(work, img)):
            got[f"inspect-stream-{sid}"] = record(
                binary, work, name,
                ["inspect", "--output=json", "--snapshot", sid, img])
        for t in TARGETS:
            for argv in (["scan", "--target", t, img],
                         ["scan", "--target", t, "--output=json", img],
                         ["fix", "--all", "--dry-run", "--target", t, img],
                         ["fix", "--all", "--dry-run", "--target", t,
                          "--output=json", img]):
                got[" ".join(argv[:-1])] = record(binary, work, name, argv)
            fixdir = os.path.join(work, t)
            os.mkdir(fixdir)
            shutil.copyfile(src, os.path.join(fixdir, img))
            key = f"fix --all --target {t}"
            got[key] = record(binary, fixdir, name,
                              ["fix", "--all", "--target", t,
                               "--output=json", img])
            got[key]["files"] = {f: file_sha256(os.path.join(fixdir, f), work)
                                 for f in sorted(os.listdir(fixdir))}
        return got
    finally:
        shutil.rmtree(work, ignore_errors=True)


def differences(want, got, where):
    """Readable differences between two recorded outputs."""
    diffs = []
    for key in sorted(set(want) | set(got)):
        a, b = want.get(key), got.get(key)
        if a == b:
            continue
        if a is None or b is None:
            diffs.append(f"{where}: {key}: {'missing' if b is None else 'new'}")
            continue
        for field in sorted(set(a) | set(b)):
            if a.get(field) != b.get(field):
                diffs.append(f"{where}: {key}: {field}: recorded "
                             f"{json.dumps(a.get(field))[:300]} now "
                             f"{json.dumps(b.get(field))[:300]}")
    return diffs


def test_real_images_match_golden_outputs():
    images, images_dir = load_manifest()
    update = "--update" in sys.argv
    diffs = []
    for image in images:
        got = outputs_of(BIN, os.path.join(images_dir, image["file"]),
                         image["name"])
        path = os.path.join(GOLDEN, image["name"] + ".json")
        if update:
            os.makedirs(GOLDEN, exist_ok=True)
            with open(path, "w") as f:
                json.dump(got, f, indent=1, sort_keys=True)
                f.write("\n")
            continue
        if not os.path.exists(path):
            raise Failure(f"no golden outputs for {image['name']}: "
                          f"record them with {sys.argv[0]} --update")
        with open(path) as f:
            want = json.load(f)
        diffs += differences(want, got, image["name"])
    if diffs:
        raise Failure(f"{len(diffs)} outputs differ from the golden ones:\n"
                      + "\n".join(diffs[:40]))


def test_fixtures_match_baseline_binary():
    baseline = os.environ.get("QSNAPFIX_GOLDEN_BASELINE")
    if not baseline:
        print("     (QSNAPFIX_GOLDEN_BASELINE unset: fixtures not compared)")
        return
    # the fixture matrix (built once, cached)
    from qsnapfix_tests import fixtures
    diffs = []
    for fx in fixtures.fixtures():
        want = outputs_of(baseline, fx.path, fx.name)
        got = outputs_of(BIN, fx.path, fx.name)
        diffs += differences(want, got, fx.name)
    if diffs:
        raise Failure(f"{len(diffs)} outputs differ from {baseline}'s:\n"
                      + "\n".join(diffs[:40]))


if __name__ == "__main__":
    main([test_real_images_match_golden_outputs,
          test_fixtures_match_baseline_binary])
