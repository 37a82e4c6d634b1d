#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Every command's JSON is what docs/schema/qsnapfix-report.schema.json
says, and scriptable: real outputs of inspect (one image, several, one
unreadable), inspect --snapshot/--stream (full, --tail, --sections), scan
(a store with every verdict, unreadable and skipped files, records of
a fix), fix and translate (fixed, compatible, refused, error, dry run,
--keep-original, no VM state), fix of a directory (a batch), undo,
drop-originals, prove, extract and splice, a libvirt save image's inspect,
scan and fix, and the recipe file of `translate IN -` are validated
against the schema's definition for that command; every failure with --output=json prints a
`failure` report on stdout whose exit-code is the program's; every report
carries qsnapfix.version and a timestamp; names are kebab-case. Every
line of scan and fix --output=jsonl is a scan-line or fix-line.

The exit codes made for loops: nothing to do is 0 (already compatible, no
snapshot with VM state) with "changed": false; several snapshots with VM
state and none named is 21, not a usage error; scan --exit-zero turns 17
and 4 into 0 but not 15.

The validator is Debian's python3-jsonschema (or the test Python's
jsonschema): a maintained implementation of the same draft (2020-12) that
users of the schema will run, rather than a partial one of our own.
"""
import json
import os
import re
import shutil
import subprocess
import sys

from qsnapfix_tests import fixtures, savefile
from qsnapfix_tests.testlib import (BIN, CACHE, Failure, check, check_eq,
                                    main, skip, workdir)

try:
    import jsonschema
except ImportError:
    if sys.executable != "/usr/bin/python3" and os.path.exists(
            "/usr/bin/python3"):
        probe = subprocess.run(["/usr/bin/python3", "-c", "import jsonschema"],
                               capture_output=True)
        if probe.returncode == 0:  # Debian's python3-jsonschema
            os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    skip("no jsonschema module: install python3-jsonschema "
         "(scripts/setup test does)")

SRC = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
with open(os.path.join(SRC, "docs", "schema",
                       "qsnapfix-report.schema.json")) as f:
    SCHEMA = json.load(f)
ENV = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
WORK = workdir("reports")
SNAKE = re.compile(r'"[a-z0-9]+_[a-z0-9_]+" :')  # a member name in snake_case


def validate(doc, definition, what):
    schema = dict(SCHEMA, anyOf=[{"$ref": f"#/$defs/{definition}"}])
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc),
                    key=lambda e: list(e.absolute_path))
    if errors:
        raise Failure(f"{what}: not a valid '{definition}' report: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
            for e in errors[:5]))


def report(definition, *args, ok=(0,), cwd=WORK):
    """Run qsnapfix ARGS --output=json; its report, validated."""
    argv = [BIN, *map(str, args), "--output=json"]
    p = subprocess.run(argv, capture_output=True, text=True, env=ENV,
                       cwd=cwd, timeout=600)
    what = " ".join(map(str, args))
    if p.returncode not in ok:
        raise Failure(f"{what}: exit {p.returncode}, want {ok}: {p.stderr}")
    try:
        doc = json.loads(p.stdout)
    except ValueError as e:
        raise Failure(f"{what}: no JSON on stdout ({e}): {p.stdout[:300]!r}")
    check(not SNAKE.search(p.stdout), f"{what}: a snake_case name: "
                                      f"{SNAKE.search(p.stdout)}")
    validate(doc, definition, what)
    for d in doc if isinstance(doc, list) else [doc]:
        check_eq((d["qsnapfix"]["version"], d["timestamp"]),
                 (version(), "2023-11-14T22:13:20Z"), f"{what}: who, when")
    if definition == "failure" or isinstance(doc, dict) and "exit-code" in doc:
        check_eq(doc["exit-code"], p.returncode, f"{what}: exit-code")
    if definition == "failure":
        check_eq(doc["error"]["exit-code"], p.returncode, f"{what}: error")
        check(doc["error"]["message"] in p.stderr,
              f"{what}: the same message on stderr: {p.stderr!r}")
    return doc, p.returncode


def lines(definition, *args, ok=(0,)):
    """Run qsnapfix ARGS --output=jsonl; its lines, each validated, the
    last one's exit-code the program's."""
    argv = [BIN, *map(str, args), "--output=jsonl"]
    p = subprocess.run(argv, capture_output=True, text=True, env=ENV,
                       cwd=WORK, timeout=600)
    what = " ".join(map(str, args)) + " (jsonl)"
    if p.returncode not in ok:
        raise Failure(f"{what}: exit {p.returncode}, want {ok}: {p.stderr}")
    docs = []
    for n, line in enumerate(p.stdout.splitlines()):
        try:
            docs.append(json.loads(line))
        except ValueError as e:
            raise Failure(f"{what}: line {n + 1} is not JSON ({e})")
        check("\n" not in line.strip(), f"{what}: one object per line")
        validate(docs[-1], definition, f"{what} line {n + 1}")
    check(docs, f"{what}: no lines")
    check_eq(docs[-1]["exit-code"], p.returncode, f"{what}: exit-code")
    check_eq(docs[-1]["timestamp"], "2023-11-14T22:13:20Z", f"{what}: when")
    return docs, p.returncode


def version():
    p = subprocess.run([BIN, "--version"], capture_output=True, text=True)
    return p.stdout.split()[1]


def copy(src, name):
    dst = os.path.join(WORK, name)
    shutil.copyfile(src, dst)
    return dst


def real_image():
    """A qemu-kvm 1.0 image (a fixable snapshot), or None without
    ../shared's images."""
    path = os.path.join(CACHE, "shared-images", "qk10-a-default.qcow2")
    return path if os.path.exists(path) else None


def store():
    """Images for every verdict and failure; {role: path}."""
    d = os.path.join(WORK, "store")
    os.makedirs(d, exist_ok=True)
    s = {
        "compatible": copy(fixtures.fixture("c4k").path, "store/c4k.qcow2"),
        "two": copy(fixtures.fixture("v2-multi").path, "store/two.qcow2"),
        "cut": copy(fixtures.fixture("c512").path, "store/cut.qcow2"),
        "disk-only": os.path.join(d, "disk.qcow2"),
        "bad-header": os.path.join(d, "bad.qcow2"),
        "not-qcow2": os.path.join(d, "notes.txt"),
    }
    # a VM state cut short: that snapshot is an error (14), not the image
    fixtures.set_vm_state_size(s["cut"], 0, 300 << 10)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", s["disk-only"],
                    "1M"], check=True)
    subprocess.run(["qemu-img", "snapshot", "-c", "d1", s["disk-only"]],
                   check=True)
    with open(s["bad-header"], "wb") as f:
        # version 2, cluster_bits 99
        f.write(b"QFI\xfb" + b"\0\0\0\x02" + bytes(12) + b"\0\0\0\x63" +
                bytes(100))
    with open(s["not-qcow2"], "w") as f:
        f.write("not an image\n")
    if real_image():
        s["fixable"] = copy(real_image(), "store/old.qcow2")
    return s


STORE = store()


def test_inspect_reports():
    doc, _ = report("inspect-image", "inspect", STORE["compatible"])
    check_eq(doc["snapshots"][0]["vm-state-size"] > 0, True, "vm-state-size")
    docs, rc = report("inspect-images", "inspect", STORE["compatible"],
                      STORE["bad-header"], STORE["two"], ok=(15,))
    check_eq([("error" in d) for d in docs], [False, True, False],
             "the unreadable image has its error, the others their facts")
    check_eq(docs[1]["error"]["exit-code"], 10, "bad header")
    doc, _ = report("inspect-image", "inspect", STORE["bad-header"], ok=(10,))
    check_eq(doc["error"]["exit-code"], 10, "one unreadable image")


def test_inspect_stream_reports():
    img = STORE["compatible"]
    report("inspect-stream", "inspect", img, "--snapshot", "s1")
    report("inspect-stream", "inspect", img, "--snapshot", "s1", "--tail")
    doc, _ = report("inspect-stream", "inspect", img, "--snapshot", "1",
                    "--sections", "i8254")
    check(any(s.get("fields") for s in doc["sections"]), "--sections fields")
    mig = os.path.join(WORK, "c4k.mig")
    subprocess.run([BIN, "extract", img, "-s", "s1", "-o", mig], check=True,
                   capture_output=True)
    doc, _ = report("inspect-stream", "inspect", "--stream", mig)
    check_eq(doc["source"], {"stream": mig}, "source")
    for args, code in ((["--snapshot", "nope", img], 9),
                       (["--snapshot", "d1", STORE["disk-only"]], 9),
                       (["--snapshot", "s1", img, "--sections", "nope"], 9),
                       (["--snapshot", "s1", STORE["cut"]], 14)):
        doc, _ = report("failure", "inspect", *args, ok=(code,))
        check("source" in doc, f"{args}: the failure names its source")


def test_scan_reports():
    doc, rc = report("scan", "scan", os.path.join(WORK, "store"),
                     ok=(15,))
    verdicts = {s["verdict"] for im in doc["images"]
                for s in im.get("snapshots", [])}
    want = {"compatible", "error", "disk-only"} | (
        {"fixable"} if "fixable" in STORE else set())
    check(want <= verdicts, f"verdicts {verdicts}")
    check_eq([(os.path.basename(s["path"]), s["reason"])
              for s in doc["skipped"]], [("notes.txt", "not a qcow2 image")],
             "skipped")
    bad = [im for im in doc["images"] if im["status"] == "error"]
    check_eq([im["error"]["exit-code"] for im in bad], [10], "unreadable")
    report("scan", "scan", "--full", STORE["compatible"], STORE["two"])


def test_fix_and_translate_reports():
    img = copy(STORE["compatible"], "fix-c4k.qcow2")
    doc, _ = report("fix", "fix", img)
    check_eq((doc["snapshots"][0]["status"], doc["changed"]),
             ("compatible", False), "compatible: nothing to do")
    doc, _ = report("fix", "fix", img, "--target", "qemu-2.0", ok=(4,))
    check_eq(doc["snapshots"][0]["status"], "refused", "refused")
    doc, _ = report("fix", "fix", STORE["cut"], "--dry-run", ok=(14,))
    check_eq(doc["snapshots"][0]["status"], "error", "VM state cut short")
    doc, _ = report("fix", "fix", STORE["two"], "--all", "--dry-run")
    check_eq(len(doc["snapshots"]), 2, "--all")
    mig = os.path.join(WORK, "c4k.mig")
    if not os.path.exists(mig):
        subprocess.run([BIN, "extract", img, "-s", "s1", "-o", mig],
                       check=True, capture_output=True)
    doc, _ = report("fix", "translate", mig, os.path.join(WORK, "out.mig"))
    check_eq((doc["snapshots"][0]["id"], doc["changed"]), (None, False),
             "translate")
    if "fixable" not in STORE:
        print("     (../shared's images absent: no 'fixed' report)")
        return
    old = copy(STORE["fixable"], "fix-old.qcow2")
    doc, _ = report("fix", "fix", old, "--dry-run")
    check_eq((doc["snapshots"][0]["status"], doc["changed"], doc["dry-run"]),
             ("fixed", True, True), "dry run")
    doc, _ = report("fix", "fix", old, "--keep-original")
    check_eq((doc["changed"], doc["snapshots"][0]["write"]["kept-original-as"]),
             (True, "s1.orig"), "fixed, the original kept")
    # the records the fix left, as scan and inspect show them
    doc, _ = report("scan", "scan", old)
    check_eq([(s["verdict"], s["record"]["kind"])
              for s in doc["images"][0]["snapshots"]],
             [("compatible", "fix"), ("original", "original")], "records")
    check_eq(doc["summary"]["originals"], 1, "originals")
    doc, _ = report("inspect-image", "inspect", old)
    check_eq([s["record"]["kind"] for s in doc["snapshots"]],
             ["fix", "original"], "inspect: records")
    # undo and drop-originals
    doc, _ = report("undo", "drop-originals", old, "--dry-run")
    check_eq(doc["summary"]["done"], 1, "drop-originals -n")
    doc, _ = report("undo", "undo", old)
    check_eq((doc["images"][0]["snapshots"][0]["status"],
              doc["images"][0]["snapshots"][0]["original"]["name"]),
             ("done", "s1.orig"), "undo")
    doc, _ = report("undo", "undo", old, os.path.join(WORK, "missing"),
                    ok=(15,))
    check_eq([("error" in im, im["exit-code"]) for im in doc["images"]],
             [(False, 0), (True, 5)], "undo: nothing to do, one unreadable")


def test_save_image_and_stream_reports():
    src = real_image() or STORE["compatible"]
    mig = os.path.join(WORK, "save-stream.mig")
    subprocess.run([BIN, "extract", src, "-s", "s1", "-o", mig], check=True,
                   capture_output=True)
    d = os.path.join(WORK, "saves")
    os.makedirs(d)
    save = os.path.join(d, "vm1.save")
    xml = savefile.old_domain_xml("vm1", image=os.path.join(d, "disk"),
                                  serial=os.path.join(d, "serial.log"))
    savefile.write(save, xml, mig, compression="gzip")
    doc, _ = report("inspect-save", "inspect", save)
    check_eq((doc["header"]["compression"], doc["domain"]["name"]),
             ("gzip", "vm1"), "inspect: a save image")
    docs, _ = report("inspect-images", "inspect", save, STORE["compatible"])
    check_eq([im["format"] for im in docs], ["libvirt-save", "qcow2"],
             "inspect: a save image and a qcow2 image")
    doc, _ = report("scan", "scan", d, ok=(0, 17))
    check_eq(doc["images"][0]["libvirt-save"]["domain"], "vm1", "scan")
    doc, _ = report("fix", "fix", save)
    if real_image():
        check_eq(doc["changed"], True, "fix: a save image")
        check(doc["snapshots"][0]["domain-changes"], "fix: domain changes")
    # translate IN -: the recipe file
    recipe = os.path.join(WORK, "stream-recipe.json")
    with open(mig, "rb") as f:
        p = subprocess.run([BIN, "translate", "--recipe", recipe,
                            "--rom-dir", WORK, "-", "-"], stdin=f,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           env=ENV, cwd=WORK, timeout=600)
    check_eq(p.returncode, 0, f"translate - -: {p.stderr[-500:]}")
    with open(recipe) as f:
        text = f.read()
    check(not SNAKE.search(text), f"recipe file: {SNAKE.search(text)}")
    doc = json.loads(text)
    validate(doc, "stream-recipe", "translate - - --recipe")
    check_eq((doc["stage"], doc["changed"]), ("final", bool(real_image())),
             "the final recipe")


def test_batch_and_jsonl_reports():
    d = os.path.join(WORK, "batch")
    os.makedirs(d, exist_ok=True)
    copy(STORE["compatible"], "batch/c4k.qcow2")
    copy(STORE["two"], "batch/two.qcow2")
    with open(os.path.join(d, "notes.txt"), "w") as f:
        f.write("not an image\n")
    if "fixable" in STORE:
        copy(STORE["fixable"], "batch/old.qcow2")
    doc, _ = report("fix-batch", "fix", d, "--all", "--dry-run")
    check_eq([os.path.basename(s["path"]) for s in doc["skipped"]],
             ["notes.txt"], "batch: skipped")
    check_eq(doc["summary"]["images"], len(doc["images"]), "batch: images")
    docs, _ = lines("fix-line", "fix", d, "--all", "--dry-run", "-j", "2")
    check_eq(len(docs), len(doc["images"]) + 2, "fix jsonl: the lines")
    check("summary" in docs[-1], "fix jsonl: the summary last")
    docs, rc = lines("scan-line", "scan", d, ok=(0, 17))
    check_eq([os.path.basename(x["path"]) for x in docs if "reason" in x],
             ["notes.txt"], "scan jsonl: the skipped file")
    check_eq(["summary" in x for x in docs],
             [False] * (len(docs) - 1) + [True], "scan jsonl: summary last")
    lines("scan-line", "scan", "--jobs", "0", d, ok=(2,))
    lines("fix-line", "fix", os.path.join(WORK, "missing.qcow2"), ok=(5,))


def test_prove_reports():
    # a file that cannot be read is a stream that cannot be read: its error
    doc, _ = report("prove", "prove", os.path.join(WORK, "missing.qcow2"),
                    ok=(5,))
    check_eq((doc["snapshots"][0]["status"], doc["snapshots"][0]["id"]),
             ("error", None), "prove: a missing file")
    report("failure", "prove", STORE["compatible"], "-s", "nope", ok=(9,))
    if not shutil.which("qemu-system-x86_64"):
        print("     (no qemu-system-x86_64: no proof run)")
        return
    # without the VM's own options the proof may fail or not be possible
    # here: whichever, the report is one
    doc, rc = report("prove", "prove", STORE["compatible"], "-s", "s1",
                     ok=(0, 19, 20))
    check_eq(doc["snapshots"][0]["exit-code"], rc, "prove: the snapshot's")
    report("failure", "prove", STORE["two"], ok=(21, 20))


def test_extract_and_splice_reports():
    img = copy(STORE["compatible"], "tools.qcow2")
    out = os.path.join(WORK, "x.mig")
    doc, _ = report("extract", "extract", img, "-s", "s1", "-o", out)
    check_eq(doc["bytes-written"], os.path.getsize(out), "bytes written")
    edits = os.path.join(WORK, "noop.edits")
    with open(edits, "w") as f:
        f.write("0 0 -\n")
    report("splice", "splice", img, "-s", "s1", "--edits", edits, "-n")
    report("failure", "extract", img, "-s", "nope", "-o", out, ok=(9,))
    report("failure", "splice", img, "-s", "s1", "--edits", "/nonexistent",
           ok=(5,))


def test_every_failure_is_a_report_on_stdout():
    img = STORE["compatible"]
    missing = os.path.join(WORK, "missing.qcow2")
    cases = [
        (["fix", missing], 5, "image"),
        (["fix", STORE["bad-header"]], 10, "image"),
        (["fix", img, "--snapshot", "nope"], 9, "image"),
        (["fix", img, "--snapshot", "s1", "--all"], 2, None),
        (["fix", img, "--bogus"], 2, None),
        (["fix"], 2, None),
        (["translate", img, img], 2, "input"),
        (["scan", "--jobs", "0", img], 2, None),
        (["extract", img, "-s", "s1", "-o", "-"], 2, None),
        (["inspect"], 2, None),
    ]
    for args, code, member in cases:
        doc, _ = report("failure", *args, ok=(code,))
        if member:
            check(member in doc, f"{args}: the failure names its {member}")
    # one stream that cannot be read: translate's report has it as an error
    doc, _ = report("fix", "translate", missing, os.path.join(WORK, "o.mig"),
                    ok=(5,))
    check_eq((doc["snapshots"][0]["status"],
              doc["snapshots"][0]["exit-code"]), ("error", 5), "translate")


def test_exit_codes_for_loops():
    # nothing to do: 0 and "changed": false
    doc, _ = report("fix", "fix", STORE["disk-only"])
    check_eq((doc["snapshots"], doc["changed"]), ([], False),
             "no snapshot with VM state")
    p = subprocess.run([BIN, "fix", STORE["disk-only"]], capture_output=True,
                       text=True)
    check_eq((p.returncode, p.stderr), (0, ""), "no VM state: not an error")
    check("nothing to fix" in p.stdout, p.stdout)
    # two snapshots with VM state, none named: 21, the way out in the text
    doc, _ = report("failure", "fix", STORE["two"], ok=(21,))
    check("--snapshot or use --all" in doc["error"]["message"],
          doc["error"]["message"])
    # scan: findings are exit codes, unless --exit-zero; 15 stays
    store_dir = os.path.join(WORK, "store")
    want = 17 if "fixable" in STORE else 0
    doc, _ = report("scan", "scan", STORE.get("fixable", STORE["compatible"]),
                    ok=(want,))
    doc, _ = report("scan", "scan", "--exit-zero",
                    STORE.get("fixable", STORE["compatible"]))
    check_eq(doc["summary"]["fixable"], 1 if want else 0, "still reported")
    doc, _ = report("scan", "scan", "--target", "qemu-2.0", "--exit-zero",
                    STORE["compatible"])
    check_eq(doc["summary"]["refused"], 1, "refused, exit 0 with --exit-zero")
    report("scan", "scan", "--exit-zero", store_dir, ok=(15,))


def test_schema_names_what_the_documentation_names():
    # every definition is used by a command or by another definition
    text = json.dumps(SCHEMA)
    for name in SCHEMA["$defs"]:
        check(f"#/$defs/{name}" in text, f"definition {name} is unused")
    with open(os.path.join(SRC, "docs", "json.md")) as f:
        check("docs/schema/qsnapfix-report.schema.json" in f.read(),
              "docs/json.md points to the schema")


if __name__ == "__main__":
    try:
        main([test_inspect_reports, test_inspect_stream_reports,
              test_scan_reports, test_fix_and_translate_reports,
              test_save_image_and_stream_reports,
              test_batch_and_jsonl_reports, test_prove_reports,
              test_extract_and_splice_reports,
              test_every_failure_is_a_report_on_stdout,
              test_exit_codes_for_loops,
              test_schema_names_what_the_documentation_names])
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
