#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The fixture of the guest inspection tests: the images whose guest they
know (guest_images.py) in the directory given, with expected.json beside
them, and libguestfs's cache directory (its appliance is built there once
and kept between runs)."""
import os
import sys

from qsnapfix_tests import guest_images

os.makedirs(os.environ["LIBGUESTFS_CACHEDIR"], exist_ok=True)
guest_images.build(sys.argv[1])
print(f"guest images in {sys.argv[1]}: {', '.join(guest_images.IMAGES)}")
