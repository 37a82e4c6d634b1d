#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Real qemu-kvm streams of ../shared piped through `qsnapfix translate -
-` into QEMU 7.2's `-incoming "exec:..."`: the guest resumes (its first
counter in the manifest's range, no CEO-BOOT).

The target must be started with the recipe before it reads a byte, so the
recipe and its files come from `qsnapfix translate FILE OUT` beforehand;
the streamed translation then runs as QEMU's incoming command, its report
on stderr saved beside it, and must end with the same recipe.
"""
import json
import os
import shlex
import tempfile

from qsnapfix_tests import resume
from qsnapfix_tests.testlib import (BIN, check, check_eq, load_manifest,
                                    main, run)

# TCG images (Linux guest) of every writer and shape
IMAGES = ("qk015-a-default", "qk10-a-default", "qk10-d-usbtablet",
          "qk12-a-default", "qk12-b-vgastd-pc12-compat11")
TIMEOUT = 60.0


def test_real_streams_resume_through_translate_in_exec():
    images, images_dir = load_manifest()
    by_name = {i["name"]: i for i in images}
    for name in IMAGES:
        image = by_name[name]
        snap = image["snapshots"][0]
        with tempfile.TemporaryDirectory(prefix="qsnapfix-exec-") as w:
            src = os.path.join(images_dir, image["file"])
            # named as the streamed run names its files ("stdin.BLOCK")
            stream = os.path.join(w, "stdin")
            run([BIN, "extract", src, "--snapshot", snap["name"], "-o",
                 stream])
            batch_dir = os.path.join(w, "batch")
            os.makedirs(batch_dir)
            p = run([BIN, "translate", "--rom-dir", batch_dir,
                     "--output=json", stream, os.path.join(w, "out.mig")])
            recipe = json.loads(p.stdout)["snapshots"][0]["recipe"]
            also = [f"--also={a}" for a in ("-machine", "hpet=off")
                    if "hpet=off" in recipe["qemu-args"]]
            live_dir = os.path.join(w, "live")
            os.makedirs(live_dir)
            log = os.path.join(w, "translate.log")
            final = os.path.join(w, "recipe.json")
            cmd = " ".join(shlex.quote(a) for a in (
                BIN, "translate", "--rom-dir", live_dir, "--recipe", final,
                *also, "-", "-"))
            cmd += f" < {shlex.quote(stream)} 2> {shlex.quote(log)}"
            args = [a.replace("@IMAGE@", src) for a in image["device_args"]]
            r = resume.watch([*args, "-snapshot", *recipe["qemu-args"],
                              "-incoming", "exec:" + cmd],
                             machine=recipe["machine"], counters=3,
                             timeout=TIMEOUT)
            low, high = snap["expect_first_counter_between"]
            ok, why = resume.judge_resume(r, low, high, min_counters=3)
            with open(log) as f:
                report = f.read()
            check(ok, f"{name}: {why}; translate said: {report[-500:]}")
            check("translated as it flowed" in report,
                  f"{name}: translate - - did not finish: {report}")
            with open(final) as f:
                streamed = json.load(f)["recipe"]
            check_eq([a.replace(live_dir, batch_dir)
                      for a in streamed["qemu-args"]], recipe["qemu-args"],
                     f"{name}: recipe of the streamed run")
            print(f"{name}: {r.summary()}")


if __name__ == "__main__":
    main([test_real_streams_resume_through_translate_in_exec])
