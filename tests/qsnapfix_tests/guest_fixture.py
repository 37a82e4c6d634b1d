# SPDX-License-Identifier: GPL-2.0-or-later
"""Snapshots of the project's own test guest (tests/guest/), made by QEMU.

take_snapshot() boots the guest on a qcow2 disk, lets it count, stops it
at a known counter and takes `savevm`. guest_snapshot() does the same for
the standard configuration (QEMU's -M pc-i440fx-1.4 with the devices of the
real images' "default" profile) once, caches the result under
$QSNAPFIX_CACHE/guest-snapshots/<key>/ and hands each caller its own copy.
The key hashes everything that shapes the image: the guest binary, this
module and resume.py, the QEMU version and the parameters.

    snap = guest_snapshot(workdir)            # (image, snapshot, counter)
    result = resume.resume(snap.load_args(), loadvm=snap.snapshot,
                           machine=GUEST_MACHINE)
"""
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import tempfile
import time
from typing import NamedTuple

from qsnapfix_tests import resume

GUEST_MACHINE = "pc-i440fx-1.4"
# The devices of the real images' "default" profile (manifest.json
# device_args): cirrus VGA, rtl8139 NIC on user networking, IDE disk.
GUEST_DEVICE_ARGS = ("-m", "128", "-hda", "@IMAGE@", "-vga", "cirrus",
                     "-net", "nic,model=rtl8139", "-net", "user")
GUEST_DISK_SIZE = "16M"
GUEST_NAME = "guest.elf"
FIXTURE_FORMAT = 1  # bump when the cached layout changes


class GuestSnapshot(NamedTuple):
    image: str
    snapshot: str
    saved_counter: int

    def load_args(self, device_args=GUEST_DEVICE_ARGS):
        """Device options to load this snapshot with (no -kernel needed:
        the guest is in the saved RAM)."""
        return image_args(device_args, self.image)


def image_args(device_args, image):
    image = os.path.abspath(image)
    return [a.replace("@IMAGE@", image) for a in device_args]


def guest_elf():
    """The built test guest, or None."""
    src = os.environ.get("QSNAPFIX_SRC") or os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.environ.get("QSNAPFIX_GUEST") or os.path.join(
        src, "build", "tests", "guest", GUEST_NAME)
    return path if os.path.isfile(path) else None


def boot_args(device_args, image, workdir, *, append=None):
    """Options that boot the guest on image. The guest is copied into
    workdir and QEMU runs there with a relative -kernel, so the multiboot
    command line (which lands in guest RAM, hence in the vmstate) does not
    depend on where the build tree is."""
    guest = guest_elf()
    if guest is None:
        raise FileNotFoundError("the test guest is not built "
                                "(QSNAPFIX_GUEST unset, build/ has none)")
    shutil.copyfile(guest, os.path.join(workdir, GUEST_NAME))
    args = [*image_args(device_args, image), "-kernel", GUEST_NAME]
    if append:
        args += ["-append", append]
    return args


def last_complete_counter(serial_text):
    """The counter of the last complete `QSF n=` line."""
    complete = serial_text[:serial_text.rfind("\n") + 1]
    counters = resume.counters_in(complete)
    return counters[-1] if counters else None


def take_snapshot(image, workdir, *, name="s1", counter=10, accel="tcg",
                  machine=GUEST_MACHINE, device_args=GUEST_DEVICE_ARGS,
                  append=None, timeout=60.0, before_stop=None, qemu=None):
    """Boot the guest on image, wait until it printed `counter`, stop the
    VM, take savevm `name` and quit. Returns the last counter the guest had
    printed when it was stopped (the resume must continue after it).
    before_stop(qemu), if given, runs just before the VM is stopped."""
    args = boot_args(device_args, image, workdir, append=append)
    deadline = time.monotonic() + timeout
    with resume.Qemu(args, workdir, accel=accel, machine=machine,
                     deadline=deadline, cwd=workdir, qemu=qemu) as qemu:
        if not qemu.connect():
            raise RuntimeError(f"QEMU did not start: "
                               f"{resume.qemu_errors(qemu.stderr())}")
        while True:
            seen = resume.counters_in(qemu.serial())
            if seen and seen[-1] >= counter:
                break
            if qemu.exited() or time.monotonic() >= deadline:
                raise RuntimeError(
                    f"guest did not reach counter {counter} in {timeout}s; "
                    f"serial: {qemu.serial()[-200:]!r}; stderr: "
                    f"{qemu.stderr()[-300:]}")
            time.sleep(0.05)
        if before_stop:
            before_stop(qemu)
        qemu.qmp.execute("stop")
        saved = last_complete_counter(qemu.serial())
        out = qemu.hmp(f"savevm {name}")
        if out.strip():
            raise RuntimeError(f"savevm {name}: {out.strip()}")
    listing = subprocess.run(["qemu-img", "snapshot", "-l", image],
                             capture_output=True, text=True, check=True)
    if f" {name} " not in listing.stdout:
        raise RuntimeError(f"savevm {name} left no snapshot: {listing.stdout}")
    return saved


def take_stream(image, workdir, stream_path, *, counter=10, accel="tcg",
                machine=GUEST_MACHINE, device_args=GUEST_DEVICE_ARGS,
                append=None, timeout=60.0, qemu=None):
    """Like take_snapshot(), but write the VM state as a raw migration
    stream file (`migrate "exec:cat > FILE"`, what `qsnapfix translate`
    reads) instead of savevm. Returns the saved counter; load the stream
    with resume.resume(image_args(device_args, image), incoming=FILE)."""
    args = boot_args(device_args, image, workdir, append=append)
    deadline = time.monotonic() + timeout
    with resume.Qemu(args, workdir, accel=accel, machine=machine,
                     deadline=deadline, cwd=workdir, qemu=qemu) as qemu:
        if not qemu.connect():
            raise RuntimeError(f"QEMU did not start: "
                               f"{resume.qemu_errors(qemu.stderr())}")
        while True:
            seen = resume.counters_in(qemu.serial())
            if seen and seen[-1] >= counter:
                break
            if qemu.exited() or time.monotonic() >= deadline:
                raise RuntimeError(f"guest did not reach counter {counter}")
            time.sleep(0.05)
        qemu.qmp.execute("stop")
        saved = last_complete_counter(qemu.serial())
        target = os.path.abspath(stream_path)
        qemu.qmp.execute("migrate",
                         {"uri": "exec:cat > " + shlex.quote(target)})
        while True:
            state = qemu.qmp.execute("query-migrate").get("status")
            if state == "completed":
                break
            if state in ("failed", "cancelled") or \
                    time.monotonic() >= deadline:
                raise RuntimeError(f"migrate to {target}: {state}")
            time.sleep(0.05)
    return saved


def _cache_root():
    src = os.environ.get("QSNAPFIX_SRC") or os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    cache = os.environ.get("QSNAPFIX_CACHE") or os.path.join(src, ".cache")
    return os.path.join(cache, "guest-snapshots")


def _qemu_version():
    out = subprocess.run([resume.QEMU, "--version"], capture_output=True,
                         text=True, check=True).stdout
    return out.splitlines()[0]


def fixture_key(**params):
    """Hash of everything that shapes a cached guest snapshot."""
    h = hashlib.sha256()
    h.update(f"format {FIXTURE_FORMAT}\n{_qemu_version()}\n".encode())
    h.update(json.dumps(params, sort_keys=True).encode())
    for path in (guest_elf(), __file__, resume.__file__):
        with open(path, "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()[:20]


def guest_snapshot(dest_dir, *, name="s1", counter=10,
                   device_args=GUEST_DEVICE_ARGS):
    """A copy, in dest_dir, of a cached qcow2 holding savevm `name` of the
    guest taken under QEMU -M pc-i440fx-1.4 (TCG) when it had printed
    counter `counter` (or a little more). Returns GuestSnapshot(image path,
    snapshot name, saved counter)."""
    params = {"name": name, "counter": counter,
              "device_args": list(device_args), "machine": GUEST_MACHINE,
              "disk": GUEST_DISK_SIZE}
    entry = os.path.join(_cache_root(), fixture_key(**params))
    if not os.path.isfile(os.path.join(entry, "fixture.json")):
        _build_fixture(entry, name, counter, device_args)
    with open(os.path.join(entry, "fixture.json")) as f:
        meta = json.load(f)
    image = resume.copy_image(os.path.join(entry, "guest.qcow2"), dest_dir)
    return GuestSnapshot(image, meta["snapshot"], meta["saved_counter"])


def _build_fixture(entry, name, counter, device_args):
    """Build into a private directory and rename it into place, so that
    concurrent tests never see a half-made fixture."""
    os.makedirs(os.path.dirname(entry), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".building-", dir=os.path.dirname(entry))
    try:
        image = os.path.join(tmp, "guest.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", image,
                        GUEST_DISK_SIZE], check=True)
        work = tempfile.mkdtemp(prefix="qsnapfix-guest-savevm-")
        try:
            saved = take_snapshot(image, work, name=name, counter=counter,
                                  device_args=device_args)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        with open(os.path.join(tmp, "fixture.json"), "w") as f:
            json.dump({"snapshot": name, "saved_counter": saved,
                       "machine": GUEST_MACHINE, "accel": "tcg",
                       "device_args": list(device_args)}, f, indent=1)
        try:
            os.rename(tmp, entry)
        except OSError:
            if not os.path.isfile(os.path.join(entry, "fixture.json")):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
