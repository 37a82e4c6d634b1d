# SPDX-License-Identifier: GPL-2.0-or-later
"""Start QEMU on a saved VM state and report whether the guest resumed.

resume() runs qemu-system-x86_64 with `-loadvm SNAP` (or `-incoming` from a
migration stream file), the guest's COM1 in a log file and QMP on a unix
socket, and returns a ResumeResult within `timeout` seconds (plus a few
seconds to stop QEMU): whether the state loaded (and QEMU's error text if
not), the counters the guest printed afterwards, whether it rebooted
(`QSF-BOOT`/`CEO-BOOT`) and `info status`.

The project's own guest (tests/guest/) prints `QSF n=<counter>
up=<seconds>` about every 200 ms and `QSF-BOOT` when it starts; the guests
of the real images print the same lines under the marker `CEO` (fixed when
they were recorded). Every check here accepts both, so "first counter in
the expected range and no boot line" means the snapshot resumed rather
than rebooted.
"""
import dataclasses
import functools
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time

QEMU = "qemu-system-x86_64"


class QemuCommand(list):
    """The argv that runs a qemu-system-x86_64, with the option dialect it
    speaks: legacy=True for a QEMU without -accel (2.x: -machine accel=).
    A plain list is a QEMU of today."""

    def __init__(self, argv, *, legacy=False):
        super().__init__(argv)
        self.legacy = legacy


# Complete lines only: the guest writes a byte at a time, and a reader may
# catch a line halfway.
# MARKER: the line's first word, the project's guest's or a real image's.
MARKER = r"(?:QSF|CEO)"
COUNTER_LINE = re.compile(rf"^{MARKER} n=(\d+) up=[^\n]*\n", re.M)
BOOT_LINE = re.compile(rf"^{MARKER}-BOOT", re.M)
FAULT_LINE = re.compile(rf"^{MARKER}-FAULT", re.M)


def booted(serial_text):
    """Did the guest start (again) in this serial output?"""
    return BOOT_LINE.search(serial_text) is not None


def faulted(serial_text):
    """Did the project's guest report a fault (a stale page, ...)?"""
    return FAULT_LINE.search(serial_text) is not None

# How long QEMU gets to quit on request before it is killed.
QUIT_GRACE_SECONDS = 5.0


class QmpError(RuntimeError):
    pass


class Qmp:
    """A minimal QMP client on a unix socket; every call has a deadline."""

    def __init__(self, path, deadline):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.buf = b""
        self.deadline = deadline
        self._settimeout()
        self.sock.connect(path)
        greeting = self._read_message()
        if "QMP" not in greeting:
            raise QmpError(f"unexpected QMP greeting {greeting!r}")
        self.execute("qmp_capabilities")

    def _settimeout(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("QMP deadline passed")
        self.sock.settimeout(left)

    def _read_message(self):
        while b"\n" not in self.buf:
            self._settimeout()
            chunk = self.sock.recv(65536)
            if not chunk:
                raise QmpError("QMP connection closed")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return json.loads(line)

    def execute(self, command, arguments=None):
        request = {"execute": command}
        if arguments:
            request["arguments"] = arguments
        self._settimeout()
        self.sock.sendall(json.dumps(request).encode() + b"\n")
        while True:
            reply = self._read_message()
            if "event" in reply:
                continue
            if "error" in reply:
                raise QmpError(f"{command}: {reply['error'].get('desc')}")
            return reply.get("return")

    def hmp(self, command_line):
        """Run a human monitor command; return its text output."""
        return self.execute("human-monitor-command",
                            {"command-line": command_line})

    def close(self):
        self.sock.close()


class Qemu:
    """A qemu-system-x86_64 process with QMP, serial log and stderr log
    in a work directory. Use as a context manager: leaving it stops QEMU."""

    def __init__(self, args, workdir, *, accel="tcg", machine=None,
                 deadline=None, cwd=None, qemu=None):
        workdir = os.path.abspath(workdir)
        self.workdir = workdir
        self.serial_log = os.path.join(workdir, "serial.log")
        self.stderr_log = os.path.join(workdir, "qemu.stderr")
        self.qmp_path = os.path.join(workdir, "qmp.sock")
        self.deadline = deadline or time.monotonic() + 60
        # qemu: the command that runs QEMU (default: the host's own)
        qemu = qemu or [QEMU]
        self.argv = [*qemu, *(["-machine", f"accel={accel}"]
                              if getattr(qemu, "legacy", False)
                              else ["-accel", accel])]
        if machine:
            self.argv += ["-M", machine]
        self.argv += [str(a) for a in args]
        self.argv += ["-display", "none", "-monitor", "none",
                      "-serial", f"file:{self.serial_log}",
                      "-qmp", f"unix:{self.qmp_path},server=on,wait=off"]
        self.qmp = None
        with open(self.stderr_log, "wb") as err:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                         stdout=err, stderr=err, cwd=cwd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def exited(self):
        return self.proc.poll() is not None

    def connect(self):
        """Wait until QMP answers (QEMU finished -loadvm and runs its main
        loop) or QEMU exits or the deadline passes; return whether QMP is up.
        """
        while self.qmp is None:
            if self.exited() or time.monotonic() >= self.deadline:
                return False
            if os.path.exists(self.qmp_path):
                try:
                    self.qmp = Qmp(self.qmp_path, self.deadline)
                    break
                except (ConnectionError, FileNotFoundError, QmpError,
                        TimeoutError, OSError):
                    self.qmp = None
            time.sleep(0.05)
        return True

    def status(self):
        """query-status's status string, or None when QMP is gone."""
        try:
            return self.qmp.execute("query-status")["status"]
        except (QmpError, OSError, TimeoutError, AttributeError):
            return None

    def hmp(self, command_line):
        return self.qmp.hmp(command_line)

    def serial(self):
        try:
            with open(self.serial_log, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def stderr(self):
        try:
            with open(self.stderr_log, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self):
        if self.proc.poll() is None and self.qmp is not None:
            try:
                self.qmp.deadline = time.monotonic() + QUIT_GRACE_SECONDS
                self.qmp.execute("quit")
            except (QmpError, OSError, TimeoutError):
                pass
        if self.qmp is not None:
            self.qmp.close()
            self.qmp = None
        try:
            self.proc.wait(timeout=QUIT_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def qemu_errors(stderr_text):
    """QEMU's error lines without its warnings and program-name prefix."""
    lines = []
    for line in stderr_text.splitlines():
        line = line.strip()
        if line.startswith(QEMU + ":"):
            line = line[len(QEMU) + 1:].strip()
        if not line or line.startswith("warning:"):
            continue
        lines.append(line)
    return "\n".join(lines)


def counters_in(serial_text):
    return [int(m.group(1)) for m in COUNTER_LINE.finditer(serial_text)]


@dataclasses.dataclass
class ResumeResult:
    loaded: bool          # QEMU accepted the state and ran the VM
    error: str            # QEMU's error text ("" when loaded)
    status: str           # `info status` after the wait ("" if unavailable)
    counters: list        # every `n=` counter printed after the load
    boot_seen: bool       # the guest printed its boot line: it rebooted
    fault_seen: bool      # the project's guest reported QSF-FAULT
    serial: str
    stderr: str
    seconds: float        # from QEMU start to the end of the wait
    argv: list
    monitor: dict = dataclasses.field(default_factory=dict)
                          # HMP command -> its output after the wait

    @property
    def first_counter(self):
        return self.counters[0] if self.counters else None

    def summary(self):
        """One line for test output and failure messages."""
        if not self.loaded:
            first = self.error.splitlines()[0] if self.error else "no error text"
            return f"not loaded ({self.seconds:.1f}s): {first}"
        shown = self.counters[:4]
        return (f"loaded ({self.seconds:.1f}s), status {self.status!r}, "
                f"counters {shown}{'...' if len(self.counters) > 4 else ''}, "
                f"boot line {'seen' if self.boot_seen else 'not seen'}")


def resume(args, *, loadvm=None, incoming=None, machine=None, accel="tcg",
           extra=(), counters=3, timeout=60.0, workdir=None, cwd=None,
           qemu=None, monitor=()):
    """Load a saved state in QEMU and watch the guest.

    args      device options (e.g. a manifest image's device_args with
              @IMAGE@ replaced), extra: more options appended after them
    loadvm    snapshot name for -loadvm, or incoming: a migration stream
              file fed with -incoming "exec:cat FILE"
    counters  stop waiting once this many counter lines were printed
    timeout   seconds for loading plus waiting for the counters
    monitor   HMP commands to run after the wait (result.monitor)
    """
    if (loadvm is None) == (incoming is None):
        raise ValueError("give exactly one of loadvm= and incoming=")
    source = (["-loadvm", loadvm] if loadvm is not None else
              ["-incoming", "exec:cat " + shlex.quote(os.path.abspath(incoming))])
    return watch([*args, *extra, *source], machine=machine, accel=accel,
                 counters=counters, timeout=timeout, workdir=workdir, cwd=cwd,
                 qemu=qemu, monitor=monitor)


def watch(args, *, machine=None, accel="tcg", counters=3, timeout=60.0,
          workdir=None, cwd=None, qemu=None, monitor=()):
    """Run QEMU with args as they are (a boot, or a load when args carry
    -loadvm/-incoming) and watch the guest; see resume()."""
    own_dir = workdir is None
    workdir = workdir or tempfile.mkdtemp(prefix="qsnapfix-resume-")
    start = time.monotonic()
    deadline = start + timeout
    try:
        with Qemu(args, workdir, accel=accel, machine=machine,
                  deadline=deadline, cwd=cwd, qemu=qemu) as qemu:
            loaded = _wait_until_running(qemu)
            if loaded:
                _wait_for_counters(qemu, counters)
            status = ""
            answers = {}
            if qemu.qmp is not None and not qemu.exited():
                try:
                    qemu.qmp.deadline = time.monotonic() + QUIT_GRACE_SECONDS
                    text = qemu.hmp("info status").strip()
                    status = text.removeprefix("VM status:").strip()
                    for command in monitor:
                        answers[command] = qemu.hmp(command)
                except (QmpError, OSError, TimeoutError):
                    status = status or ""
            seconds = time.monotonic() - start
            serial = qemu.serial()
        stderr = qemu.stderr()
    finally:
        if own_dir:
            shutil.rmtree(workdir, ignore_errors=True)
    return ResumeResult(
        loaded=loaded, error="" if loaded else _load_error(stderr, seconds,
                                                            timeout),
        status=status, counters=counters_in(serial),
        boot_seen=booted(serial), fault_seen=faulted(serial),
        serial=serial, stderr=stderr, seconds=seconds, argv=qemu.argv,
        monitor=answers)


def judge_resume(result, low, high, *, min_counters=1):
    """(True, "") when result shows a resume: loaded, running, first counter
    in [low, high], no boot line, at least min_counters counters; else
    (False, what is wrong)."""
    if not result.loaded:
        return False, f"did not load: {result.error}"
    if result.boot_seen:
        return False, (f"the guest rebooted (a boot line, first counter "
                       f"{result.first_counter})")
    if result.fault_seen:
        return False, "the guest reported a fault (QSF-FAULT)"
    if result.first_counter is None:
        return False, (f"no counter within {result.seconds:.0f}s "
                       f"(status {result.status!r})")
    if not low <= result.first_counter <= high:
        return False, (f"first counter {result.first_counter} not in "
                       f"[{low}, {high}]")
    if len(result.counters) < min_counters:
        return False, (f"only {len(result.counters)} counter(s) "
                       f"{result.counters}, wanted {min_counters}")
    if result.status != "running":
        return False, f"status {result.status!r} after the load"
    return True, ""


def _load_error(stderr, seconds, timeout):
    errors = qemu_errors(stderr)
    if errors:
        return errors
    if seconds >= timeout:
        return f"timed out after {timeout:.0f}s before the VM ran"
    return "QEMU exited without an error message"


def _wait_until_running(qemu):
    """True once the VM runs with the loaded state. -loadvm completes before
    QMP answers; -incoming shows "inmigrate" until the stream is loaded.
    A failed load makes QEMU exit with the error on stderr."""
    if not qemu.connect():
        return False
    while time.monotonic() < qemu.deadline:
        status = qemu.status()
        if status is None:
            return False
        if status != "inmigrate":
            return status in ("running", "paused", "internal-error",
                              "guest-panicked", "debug", "suspended")
        time.sleep(0.05)
    return False


def _wait_for_counters(qemu, wanted):
    while time.monotonic() < qemu.deadline and not qemu.exited():
        text = qemu.serial()
        if len(counters_in(text)) >= wanted or faulted(text):
            return
        time.sleep(0.05)


@functools.lru_cache(maxsize=None)
def kvm_usable():
    """(True, "") when this host runs KVM guests, else (False, reason).

    Tried for real: /dev/kvm may exist without being usable (no permission,
    nested virtualisation off, a module that refuses to create a VM)."""
    if os.environ.get("QSNAPFIX_NO_KVM"):
        return False, "QSNAPFIX_NO_KVM is set"
    if not os.path.exists("/dev/kvm"):
        return False, "/dev/kvm does not exist"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False, "/dev/kvm is not readable and writable for this user"
    workdir = tempfile.mkdtemp(prefix="qsnapfix-kvm-probe-")
    try:
        with Qemu(["-M", "pc", "-m", "16", "-nodefaults", "-S"], workdir,
                  accel="kvm", deadline=time.monotonic() + 30) as qemu:
            if not qemu.connect():
                return False, ("qemu-system-x86_64 -accel kvm failed: " +
                               (qemu_errors(qemu.stderr()) or "no QMP"))
            kvm = qemu.qmp.execute("query-kvm")
            if not (kvm.get("enabled") and kvm.get("present")):
                return False, f"QEMU reports KVM {kvm}"
            qemu.qmp.execute("cont")
            time.sleep(0.5)
            status = qemu.status()
            if status != "running":
                return False, (f"a KVM guest did not keep running (status "
                               f"{status}): {qemu_errors(qemu.stderr())}")
        return True, ""
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def copy_image(src, dest_dir, name=None):
    """Copy an image (reflink where the filesystem can) for a test to load:
    -loadvm reverts the disk to the snapshot, which writes the image, and it
    does not work with -snapshot (the snapshots are not in the temporary
    overlay: "Snapshot 's1' does not exist in one or more devices")."""
    dest = os.path.join(dest_dir, name or os.path.basename(src))
    subprocess.run(["cp", "--reflink=auto", "--", src, dest], check=True)
    os.chmod(dest, 0o644)
    return dest
