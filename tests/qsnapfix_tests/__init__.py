# SPDX-License-Identifier: GPL-2.0-or-later
"""The test library shared by every test directory (import it as
`from qsnapfix_tests import testlib`). ctest puts its parent directory,
tests/, on PYTHONPATH (QSNAPFIX_TEST_ENV in tests/CMakeLists.txt); to run
a test by hand, set PYTHONPATH=tests and the QSNAPFIX_* variables there.

  testlib         environment, running programs, checks, the test runner
  fixtures        the qcow2 fixture matrix made by real QEMU tools
  resume          load a saved state in QEMU and see the guest continue
  guest_fixture   snapshots and streams of the project's test guest
  kvm_tsc         whether this host's KVM restores a saved TSC
  qcow2_vmstate   where a snapshot's VM state lies, read without qsnapfix
  vmstate_clocks  clock fields of a VM state
  fixlib          `qsnapfix fix` end to end, the real-image manifest
  targets         the target QEMUs (7.2, 10.0 from scripts/qemu10, 2.0
                  from scripts/qemu20): how to run each, its dialect
  target_facts    what a target QEMU says about itself (the facts its
                  profile is built from), measured and cached
  guest_images    images whose guest OS the tests know (scan --guest)
"""
