#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`cmake --install` puts everything where a user looks for it, under any
prefix and inside DESTDIR: the program (which runs), the libvirt helper, a
man page per command, bash completion and the documentation."""
import glob
import os
import shutil
import subprocess

import helptext
from qsnapfix_tests import testlib
from qsnapfix_tests.testlib import check, check_eq

BUILD = os.environ.get("QSNAPFIX_BUILD") or os.path.join(testlib.SRC, "build")


def install(prefix, destdir=None):
    env = dict(os.environ)
    env.pop("DESTDIR", None)
    if destdir:
        env["DESTDIR"] = destdir
    testlib.run(["cmake", "--install", BUILD, "--prefix", prefix], env=env)

# The Ansible collection, where ANSIBLE_COLLECTIONS_PATH=/usr/share/qsnapfix/
# ansible finds it (contrib/ansible/README.md).
COLLECTION = "ansible_collections/qsnapfix/fleet"


def installed(root):
    return sorted(os.path.relpath(os.path.join(d, f), root)
                  for d, _, files in os.walk(root) for f in files)


def test_destdir_install_under_usr():
    dest = testlib.workdir("install")
    try:
        install("/usr", dest)
        files = installed(dest)
        man = [f"usr/share/man/man1/qsnapfix-{c}.1"
               for c in helptext.commands()]
        for f in ["usr/bin/qsnapfix", "usr/bin/qsnapfix-libvirt",
                  "usr/share/man/man1/qsnapfix.1",
                  "usr/share/man/man1/qsnapfix-libvirt.1",
                  "usr/share/bash-completion/completions/qsnapfix",
                  "usr/share/doc/qsnapfix/README.md",
                  "usr/share/doc/qsnapfix/json.md",
                  "usr/share/doc/qsnapfix/qsnapfix-report.schema.json",
                  "usr/share/doc/qsnapfix/ansible.md",
                  "usr/share/qsnapfix/ansible/README.md",
                  f"usr/share/qsnapfix/ansible/{COLLECTION}/galaxy.yml",
                  f"usr/share/qsnapfix/ansible/{COLLECTION}/plugins/"
                  "modules/qsnapfix.py", *man]:
            check(f in files, f"{f} not installed; installed: {files}")
        for f in ("usr/bin/qsnapfix", "usr/bin/qsnapfix-libvirt"):
            check(os.access(os.path.join(dest, f), os.X_OK),
                  f"{f} is not executable")
        check(all(f.startswith("usr/") for f in files),
              f"files outside the prefix: {files}")
        pages = len(glob.glob(os.path.join(testlib.SRC, "docs", "man",
                                           "*.1")))
        check_eq(len([f for f in files if f.startswith("usr/share/man/")]),
                 pages, "man pages installed")
        p = subprocess.run([os.path.join(dest, "usr/bin/qsnapfix"),
                            "--version"], capture_output=True, text=True)
        check_eq(p.returncode, 0, "the installed qsnapfix --version")
        check(p.stdout.startswith("qsnapfix "), p.stdout)
    finally:
        shutil.rmtree(dest, ignore_errors=True)


def test_prefix_moves_everything():
    prefix = testlib.workdir("prefix")
    try:
        install(prefix)
        files = installed(prefix)
        for f in ["bin/qsnapfix", "share/man/man1/qsnapfix.1",
                  "share/bash-completion/completions/qsnapfix",
                  "share/doc/qsnapfix/README.md"]:
            check(f in files, f"{f} not under --prefix {prefix}: {files}")
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


if __name__ == "__main__":
    testlib.main([test_destdir_install_under_usr,
                  test_prefix_moves_everything])
