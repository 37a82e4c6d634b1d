# SPDX-License-Identifier: GPL-2.0-or-later
"""QEMU 10.0 for the qemu-10.0 target's tests: scripts/qemu10 makes (once,
cached under $QSNAPFIX_CACHE/qemu10-root) a Debian 13 tree and runs its
qemu-system-x86_64 / qemu-img; tests skip when it cannot be made. The
target itself is described in qsnapfix_tests/targets.py."""
from qsnapfix_tests import targets
from qsnapfix_tests.targets import rule_text, rules_of  # noqa: F401

T = targets.QEMU10
QEMU10 = T.system()
MACHINE = T.machine
TARGET = T.name
ensure = T.ensure
qemu_img = T.qemu_img
check_clean_10 = T.check_clean
load = T.load
without_module_noise = targets.without_noise
