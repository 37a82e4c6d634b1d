# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared helpers for qsnapfix's script tests.

Tests build their inputs with the real QEMU tools (qemu-img, qemu-io,
qemu-system-x86_64) and assert values; nothing here mocks qcow2.
"""
import hashlib
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

SRC = os.environ.get("QSNAPFIX_SRC") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("QSNAPFIX_BIN") or os.path.join(SRC, "build", "src", "cli", "qsnapfix")
CACHE = os.environ.get("QSNAPFIX_CACHE") or os.path.join(SRC, ".cache")


def shared_dir():
    """The read-only ../shared directory, or None."""
    d = os.environ.get("QSNAPFIX_SHARED")
    if not d:
        cand = os.path.join(SRC, "..", "shared")
        d = cand if os.path.isdir(cand) else None
    return os.path.abspath(d) if d and os.path.isdir(d) else None


def real_image_manifest():
    """The images of ../shared/images/manifest.json (its "images" list),
    or None without it."""
    shared = shared_dir()
    path = os.path.join(shared, "images", "manifest.json") if shared else None
    if path is None or not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)["images"]


REAL_IMAGES_DIR = os.path.join(CACHE, "shared-images")


def load_manifest():
    """The real images of ../shared/images/manifest.json and the directory
    they are unpacked in; skips the test without the manifest or with an
    image not unpacked."""
    images = real_image_manifest()
    if images is None:
        skip("no ../shared/images/manifest.json (set QSNAPFIX_SHARED): "
             "no real images")
    d = REAL_IMAGES_DIR
    missing = [i["file"] for i in images
               if not os.path.isfile(os.path.join(d, i["file"]))]
    if missing:
        skip(f"{len(missing)} real images not unpacked in {d} (e.g. "
             f"{missing[0]}): run {shared_dir()}/images/unpack {d}")
    return images, d


def real_images():
    """[(manifest entry, path of the unpacked image)]; skips the test as
    load_manifest() does."""
    images, d = load_manifest()
    return [(i, os.path.join(d, i["file"])) for i in images]


def skip(why):
    """Exit with ctest's skip code and say why."""
    print(f"SKIP: {why}")
    sys.exit(77)


class Failure(AssertionError):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def check_eq(got, want, what):
    if got != want:
        raise Failure(f"{what}: got {got!r}, want {want!r}")


def run(argv, *, ok_codes=(0,), input=None, env=None, timeout=600):
    """Run a command; return CompletedProcess (text). Fail on other codes."""
    p = subprocess.run(argv, input=input, capture_output=True, text=True,
                       env=env, timeout=timeout)
    if ok_codes is not None and p.returncode not in ok_codes:
        raise Failure(f"{' '.join(map(str, argv))}: exit {p.returncode}\n"
                      f"stdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def qsnapfix(*args, ok_codes=(0,), **kw):
    return run([BIN, *map(str, args)], ok_codes=ok_codes, **kw)


def qsnapfix_json(*args, ok_codes=(0,)):
    p = qsnapfix(*args, "--output=json", ok_codes=ok_codes)
    return json.loads(p.stdout)


def qemu_img(*args, ok_codes=(0,)):
    return run(["qemu-img", *map(str, args)], ok_codes=ok_codes)


def qemu_img_info(path):
    return json.loads(qemu_img("info", "--output=json", "-U", path).stdout)


def qemu_img_check(path):
    """qemu-img check as JSON; returns (exit code, dict)."""
    p = run(["qemu-img", "check", "--output=json", path], ok_codes=None)
    try:
        data = json.loads(p.stdout)
    except json.JSONDecodeError:
        raise Failure(f"qemu-img check {path}: exit {p.returncode}: {p.stderr}")
    return p.returncode, data


def assert_check_clean(path, allow_leaks=False):
    rc, data = qemu_img_check(path)
    check(data.get("corruptions", 0) == 0 and data.get("check-errors", 0) == 0,
          f"qemu-img check {path}: corruptions={data.get('corruptions', 0)} "
          f"check-errors={data.get('check-errors', 0)}")
    if not allow_leaks:
        check(data.get("leaks", 0) == 0,
              f"qemu-img check {path}: leaks={data.get('leaks')}")
    return data


def qemu_io(path, *cmds, fmt="qcow2", ok_codes=(0,)):
    argv = ["qemu-io", "-f", fmt]
    for c in cmds:
        argv += ["-c", c]
    argv.append(path)
    return run(argv, ok_codes=ok_codes)


def read_vmstate_via_qemu(image, snapshot, length, workdir):
    """The VM state QEMU itself reads: revert a copy, read the vmstate area.

    qemu-io wants 512-byte aligned lengths: round up, then cut.
    """
    copy = os.path.join(workdir, "revert-copy.qcow2")
    shutil.copyfile(image, copy)
    qemu_img("snapshot", "-a", snapshot, copy)
    aligned = (length + 511) // 512 * 512
    out = os.path.join(workdir, "vmstate-by-qemu.bin")
    # "read -b -v" hex-dumps; dump in bounded chunks and parse.
    data = bytearray()
    chunk = 1 << 20
    off = 0
    while off < aligned:
        n = min(chunk, aligned - off)
        p = qemu_io(copy, f"read -b -v {off} {n}")
        data += parse_qemu_io_dump(p.stdout, off, n)
        off += n
    os.unlink(copy)
    with open(out, "wb") as f:
        f.write(data[:length])
    return bytes(data[:length])


def parse_qemu_io_dump(text, base, length):
    """Parse qemu-io's `read -v` hex dump (lines 'OFFSET:  hh hh ... ascii')."""
    buf = bytearray(length)
    for line in text.splitlines():
        if ":" not in line:
            continue
        head, _, rest = line.partition(":")
        try:
            off = int(head, 16)
        except ValueError:
            continue
        hexpart = rest[:50].split()
        for i, h in enumerate(hexpart[:16]):
            buf[off - base + i] = int(h, 16)
    return bytes(buf)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def file_fingerprint(path):
    """(sha256, mtime_ns, size): for proving that nothing was written."""
    st = os.stat(path)
    return (sha256_file(path), st.st_mtime_ns, st.st_size)


def dirs_fingerprint(*dirs):
    """{path: (sha256, mtime_ns, size)} of every file in dirs (not
    recursive): for proving that no file was created, changed or removed
    there."""
    out = {}
    for d in dirs:
        for name in sorted(os.listdir(d)):
            p = os.path.join(d, name)
            out[p] = file_fingerprint(p) if os.path.isfile(p) else "dir"
    return out


def workdir(name):
    d = tempfile.mkdtemp(prefix=f"qsnapfix-{name}-")
    return d


class Monitor:
    """A qemu-system-x86_64 driven through its HMP monitor on stdio."""

    def __init__(self, args, accel="tcg"):
        argv = ["qemu-system-x86_64", "-accel", accel, "-display", "none",
                "-monitor", "stdio", *args]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.buf = b""
        self.wait_prompt()

    def wait_prompt(self, timeout=120):
        end = time.time() + timeout
        while b"(qemu) " not in self.buf:
            left = end - time.time()
            if left <= 0:
                raise Failure(f"QEMU monitor: no prompt; output so far {self.buf!r}")
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if not r:
                continue
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                err = self.proc.stderr.read().decode(errors="replace")
                raise Failure(f"QEMU exited: {self.buf!r} {err}")
            self.buf += chunk
        out, _, self.buf = self.buf.partition(b"(qemu) ")
        return out.decode(errors="replace")

    def cmd(self, line, timeout=300):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        return self.wait_prompt(timeout)

    def quit(self):
        try:
            self.proc.stdin.write(b"quit\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        self.proc.wait(timeout=60)
        return self.proc.stderr.read().decode(errors="replace")


def hold_image(image):
    """A paused qemu-system-x86_64 holding a qcow2 image open with its
    locks taken, as a running VM holds its disk; .quit() it."""
    return Monitor(["-S", "-M", "pc", "-m", "64", "-nodefaults", "-drive",
                    f"file={image},format=qcow2,if=ide"])


def savevm(image, names, *, machine="pc", mem=64, extra=(), accel="tcg",
           run_seconds=0.5, between=None):
    """Boot the BIOS only on image and take one savevm per name."""
    mon = Monitor(["-M", machine, "-m", str(mem), "-nodefaults",
                   "-drive", f"file={image},format=qcow2,if=ide", *extra],
                  accel=accel)
    try:
        for i, n in enumerate(names):
            time.sleep(run_seconds)
            if between and i:
                between(mon, i)
            out = mon.cmd(f"savevm {n}")
            check("Error" not in out, f"savevm {n}: {out}")
    finally:
        mon.quit()


def main(tests):
    """Run test functions (name -> callable); report each; exit 1 on failure."""
    failed = 0
    for fn in tests:
        name = fn.__name__
        t0 = time.time()
        try:
            fn()
            print(f"ok   {name} ({time.time() - t0:.1f}s)")
        except SystemExit:
            raise
        except Exception as e:  # noqa: BLE001 - report every failure
            failed += 1
            print(f"FAIL {name}: {e}")
    sys.exit(1 if failed else 0)
