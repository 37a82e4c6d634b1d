# SPDX-License-Identifier: GPL-2.0-or-later
"""Images for the stores the scan and batch tests build."""
import shutil
import subprocess
import tempfile

from qsnapfix_tests import guest_fixture
from qsnapfix_tests.testlib import BIN, run


def guest_image(dest, oldify=None, device_args=guest_fixture.GUEST_DEVICE_ARGS):
    """The project's guest saved by QEMU 7.2 (cached) at dest, reshaped
    by `qsnapfix oldify OLDIFY...` when given (e.g. ["--as",
    "qemu-kvm-1.0"])."""
    work = tempfile.mkdtemp(prefix="qsnapfix-store-guest-")
    try:
        snap = guest_fixture.guest_snapshot(work, device_args=device_args)
        if oldify:
            run([BIN, "oldify", snap.image, "--snapshot", snap.snapshot,
                 *oldify])
        shutil.move(snap.image, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


def copy(src, dest):
    """A copy (a reflink where the file system can)."""
    subprocess.run(["cp", "--reflink=auto", "--", src, dest], check=True)
    return dest
