#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`qsnapfix translate - -` on the real qemu-kvm streams of ../shared (and
the QEMU 7.2 ones), for the qemu-7.2 and qemu-10.0 targets:

* read from a pipe (not a file: nothing can seek) and written to a pipe,
  the output is byte for byte what `qsnapfix translate IN OUT` writes, and
  so are the recipe's files (ROM, BIOS, flash);
* the recipe written at the head (--recipe, stage "head") is the final
  one, once the settings only the device state shows are given with
  --also; without them the stream stops with exit 4 naming the setting;
* peak memory stays far below the stream's size (one pass, bounded);
* a stream cut short exits 14 and says where.
"""
import json
import os
import subprocess
import tempfile

from qsnapfix_tests.testlib import (BIN, check, check_eq, load_manifest,
                                    main, run)

MAX_RSS_KIB = 64 * 1024
peak_rss_kib = 0  # of any `translate - -` run
# GNU time measures the program itself (a fork of this test would count
# the test's own memory too)
TIME = (["/usr/bin/time", "-f", "RSS %M"]
        if os.path.exists("/usr/bin/time") else [])


def extract(image, work):
    # named as the streamed run names its files ("stdin.BLOCK"), so that
    # the batch run's files have the same names
    path = os.path.join(work, "stdin")
    run([BIN, "extract", image, "--snapshot", "s1", "-o", path])
    return path


def batch(stream, target, work):
    out = os.path.join(work, "batch.mig")
    d = os.path.join(work, "batch-files")
    os.makedirs(d, exist_ok=True)
    p = run([BIN, "translate", "--target", target, "--rom-dir", d,
             "--output=json", stream, out])
    return out, json.loads(p.stdout)["snapshots"][0]["recipe"], d


def streamed(stream, target, work, also):
    d = os.path.join(work, "stream-files")
    os.makedirs(d, exist_ok=True)
    out = os.path.join(work, "stream.mig")
    recipe = os.path.join(work, "recipe.json")
    with open(stream, "rb") as src, open(out, "wb") as dst:
        # cat | qsnapfix | cat: both ends are pipes
        cat_in = subprocess.Popen(["cat"], stdin=src, stdout=subprocess.PIPE)
        p = subprocess.Popen([*TIME, BIN, "translate", "--target", target,
                              "--rom-dir", d, "--recipe", recipe, *also,
                              "-", "-"], stdin=cat_in.stdout,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        cat_in.stdout.close()
        cat_out = subprocess.Popen(["cat"], stdin=p.stdout, stdout=dst)
        p.stdout.close()
        err = p.stderr.read().decode()
        rc = p.wait()
        cat_in.wait()
        cat_out.wait()
    if TIME:
        lines = err.rstrip("\n").split("\n")
        global peak_rss_kib
        peak_rss_kib = max(peak_rss_kib, int(lines[-1].split()[1]))
        err = "\n".join(lines[:-1]) + "\n"
    return rc, err, out, recipe, d


def files_of(recipe):
    return sorted((f["kind"], f["block"], f["length"],
                   os.path.basename(f["path"])) for f in recipe["files"])


def same_files(a_dir, a_recipe, b_dir, b_recipe, label):
    for fa, fb in zip(sorted(a_recipe["files"], key=lambda f: f["block"]),
                      sorted(b_recipe["files"], key=lambda f: f["block"])):
        with open(fa["path"], "rb") as x, open(fb["path"], "rb") as y:
            check(x.read() == y.read(), f"{label}: {fb['path']} differs "
                                        f"from the batch run's file")


def missing_settings(err):
    """The QEMU options the stopped stream's message names, as --also."""
    text = err.split("asks for ", 1)[1].split(", which", 1)[0]
    units = [u.strip().strip("'") for u in text.split("', '")]
    also = []
    for unit in units:
        also += [f"--also={word}" for word in unit.split(" ", 1)]
    return units, also


def test_real_streams_translate_in_flight_as_in_batch():
    images, images_dir = load_manifest()
    checked = 0
    for image in images:
        for target in ("qemu-7.2", "qemu-10.0"):
            with tempfile.TemporaryDirectory(prefix="qsnapfix-live-") as w:
                stream = extract(os.path.join(images_dir, image["file"]), w)
                want, want_recipe, want_dir = batch(stream, target, w)
                label = f"{image['name']} {target}"

                # first as a user would: what the head cannot show stops it,
                # named; those settings are the batch recipe's
                plain = []
                rc, err, _, _, _ = streamed(stream, target, w, [])
                if rc == 4:
                    check("which the recipe written at the head lacks" in err,
                          f"{label}: {err}")
                    units, plain = missing_settings(err)
                    line = want_recipe["command-line"]
                    for unit in units:
                        check(unit in line or unit.replace("-accel ", "")
                              == want_recipe["accel"],
                              f"{label}: '{unit}' is not in the batch "
                              f"recipe {line}")
                    print(f"{label}: the device state asks for {units}")
                else:
                    check_eq(rc, 0, f"{label}: exit {rc}: {err}")
                rc, err, out, recipe, d = streamed(stream, target, w, plain)
                check_eq(rc, 0, f"{label}: exit {rc}: {err}")
                with open(out, "rb") as a, open(want, "rb") as b:
                    check(a.read() == b.read(),
                          f"{label}: the streamed output differs from "
                          f"`translate IN OUT`'s")
                with open(recipe) as f:
                    final = json.load(f)
                check_eq(final["stage"], "final", f"{label}: recipe stage")
                check_eq(final["recipe"]["qemu-args"],
                         [a.replace(want_dir, d)
                          for a in want_recipe["qemu-args"]],
                         f"{label}: recipe")
                check_eq(files_of(final["recipe"]), files_of(want_recipe),
                         f"{label}: recipe files")
                same_files(d, final["recipe"], want_dir, want_recipe, label)
                checked += 1
                print(f"{label}: identical, {err.strip().splitlines()[-2]}")
    check(not TIME or peak_rss_kib <= MAX_RSS_KIB,
          f"peak RSS of translate - - {peak_rss_kib} KiB > {MAX_RSS_KIB} KiB")
    print(f"{checked} streams; peak RSS of translate - - {peak_rss_kib} KiB")


def test_a_stream_cut_short_says_where():
    images, images_dir = load_manifest()
    image = next(i for i in images if i["name"] == "qk10-a-default")
    with tempfile.TemporaryDirectory(prefix="qsnapfix-live-") as w:
        stream = extract(os.path.join(images_dir, image["file"]), w)
        cut = os.path.join(w, "cut.mig")
        with open(stream, "rb") as a, open(cut, "wb") as b:
            b.write(a.read(os.path.getsize(stream) // 2))
        rc, err, out, _, _ = streamed(cut, "qemu-7.2", w, [])
        check_eq(rc, 14, f"exit code of a cut stream: {err}")
        check("offset 0x" in err and "ends" in err, f"message: {err}")
        print(f"cut stream: {err.strip()}")


if __name__ == "__main__":
    main([test_real_streams_translate_in_flight_as_in_batch,
          test_a_stream_cut_short_says_where])
