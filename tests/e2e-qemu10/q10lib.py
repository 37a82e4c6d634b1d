# SPDX-License-Identifier: GPL-2.0-or-later
"""QEMU 10.0 for the qemu-10.0 target's tests: scripts/qemu10 makes (once,
cached under $QSNAPFIX_CACHE/qemu10-root) a Debian 13 tree and runs its
qemu-system-x86_64 / qemu-img; tests skip when it cannot be made. The
target itself is described in tests/lib/targets.py."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "e2e-fix"))
import targets  # noqa: E402
from targets import rule_text, rules_of  # noqa: E402,F401

T = targets.QEMU10
QEMU10 = T.system()
MACHINE = T.machine
TARGET = T.name
ensure = T.ensure
qemu_img = T.qemu_img
check_clean_10 = T.check_clean
load = T.load
without_module_noise = targets.without_noise
