#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Every man page under docs/man/ is clean for mandoc's linter (warnings
and worse) and for groff as man-db runs it (`man --warnings`), and renders
with its NAME line first."""
import glob
import os
import re
import shutil
import subprocess

from qsnapfix_tests import testlib
from qsnapfix_tests.testlib import check, check_eq

PAGES = sorted(glob.glob(os.path.join(testlib.SRC, "docs", "man", "*.1")))


def test_mandoc_lint_is_clean():
    p = subprocess.run(["mandoc", "-T", "lint", "-W", "warning", *PAGES],
                       capture_output=True, text=True)
    check_eq((p.returncode, p.stdout + p.stderr), (0, ""), "mandoc -T lint")


def test_man_renders_without_warnings():
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    for path in PAGES:
        p = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", path],
                           capture_output=True, text=True, env=env)
        check_eq((p.returncode, p.stderr), (0, ""), f"man --warnings {path}")
        name = os.path.basename(path)[:-2]
        lines = p.stdout.splitlines()
        check(lines and lines[0].startswith(name.upper() + "(1)"),
              f"{path}: header {lines[:1]}")
        check(re.search(rf"^ +{re.escape(name)} +- ", p.stdout, re.M),
              f"{path}: no NAME line '{name} - ...'")


if __name__ == "__main__":
    check(len(PAGES) >= 6, f"man pages found: {PAGES}")
    missing = [t for t in ("mandoc", "man") if not shutil.which(t)]
    if missing:
        testlib.skip(f"{' and '.join(missing)} not installed "
                     "(scripts/setup test installs mandoc and man-db)")
    testlib.main([test_mandoc_lint_is_clean,
                  test_man_renders_without_warnings])
