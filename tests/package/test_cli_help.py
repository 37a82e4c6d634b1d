#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The program's self-description: usage lines name each operand once,
`qsnapfix help COMMAND` is `qsnapfix COMMAND --help`, and -V/--version
name the version, every target the translator has and the libraries."""
import os
import subprocess

import helptext
from qsnapfix_tests import testlib
from qsnapfix_tests.testlib import check, check_eq

# Commands --help does not list (expert and test tools) still have help.
HIDDEN = ["splice", "oldify"]


def run(*args):
    return subprocess.run([testlib.BIN, *args], capture_output=True,
                          text=True, timeout=60)


def test_usage_lines_name_each_operand_once():
    expected = {"fix": "qsnapfix fix [OPTION…] PATH...",
                "translate": "qsnapfix translate [OPTION…] IN OUT",
                "scan": "qsnapfix scan [OPTION…] PATH...",
                "extract": "qsnapfix extract [OPTION…] IMAGE"}
    for cmd in helptext.commands() + HIDDEN:
        line = helptext.usage_line(cmd)
        check(line.startswith(f"qsnapfix {cmd} [OPTION…]"), line)
        operands = line.split("[OPTION…]")[1].split()
        check_eq(len(operands), len(set(operands)), f"operands of {line!r}")
        if cmd in expected:
            check_eq(line, expected[cmd], f"{cmd} usage")


def test_help_command_is_command_help():
    for cmd in helptext.commands() + HIDDEN:
        a, b = run("help", cmd), run(cmd, "--help")
        check_eq((a.returncode, a.stdout, a.stderr), (0, b.stdout, ""),
                 f"qsnapfix help {cmd}")
    plain = run("help")
    check_eq((plain.returncode, plain.stdout), (0, run("--help").stdout),
             "qsnapfix help")


def test_help_of_an_unknown_command_is_a_usage_error():
    p = run("help", "frobnicate")
    check_eq(p.returncode, 2, "help frobnicate")
    check("unknown command 'frobnicate'" in p.stderr, p.stderr)
    check_eq(run("help", "fix", "scan").returncode, 2, "help fix scan")


def pkg_version(module):
    return subprocess.run(["pkg-config", "--modversion", module],
                          capture_output=True, text=True).stdout.strip()


def test_version_names_targets_and_libraries():
    long, short = run("--version"), run("-V")
    check_eq(long.returncode, 0, "--version")
    check_eq(short.stdout, long.stdout, "-V and --version")
    lines = long.stdout.splitlines()
    check(lines[0].startswith("qsnapfix ") and lines[0][9].isdigit(),
          lines[0])
    targets = dict(line.split(": ", 1) for line in lines[1:])["targets"]
    names = [t.replace(" (default)", "") for t in targets.split(", ")]
    check_eq(names[0], "qemu-7.2", "first target")
    check("qemu-7.2 (default)" in targets, targets)
    # Every target named is one the commands accept, and nothing else is.
    empty = testlib.workdir("version")
    for name in names:
        check_eq(run("scan", f"--target={name}", empty).returncode, 0,
                 f"scan --target={name}")
    check_eq(run("scan", "--target=qemu-0.1", empty).returncode, 2,
             "an unknown target")
    os.rmdir(empty)
    libs = dict(lib.rsplit(" ", 1) for lib in
                dict(line.split(": ", 1) for line in lines[1:])["libraries"]
                .split(", "))
    check("json-glib" not in libs, "json-glib is no longer linked")
    for lib, module in (("GLib", "glib-2.0"), ("zlib", "zlib"),
                        ("zstd", "libzstd")):
        want = pkg_version(module)
        if want:  # the -dev package is there when the program was built
            check_eq(libs.get(lib), want, f"{lib} version")


if __name__ == "__main__":
    testlib.main([
        test_usage_lines_name_each_operand_once,
        test_help_command_is_command_help,
        test_help_of_an_unknown_command_is_a_usage_error,
        test_version_names_targets_and_libraries,
    ])
