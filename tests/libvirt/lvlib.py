# SPDX-License-Identifier: GPL-2.0-or-later
"""A private libvirt daemon for tests.

Libvirtd runs as root in a mount namespace of its own (unshare): its
configuration, state and log directories (/etc/libvirt, /var/lib/libvirt,
/run/libvirt, /var/log/libvirt) are bind mounts of directories under the
test's work directory, and its socket is there too, so a test never sees
or touches a libvirt the machine may run, and leaves nothing behind but
libvirt's cache of QEMU's capabilities (/var/cache/libvirt, kept under
$QSNAPFIX_CACHE/libvirt-cache). The QEMU driver refuses to start unless
the user `libvirt-qemu` and the group `kvm` exist; where they do not,
the namespace gets copies of /etc/passwd and /etc/group that add them
(qemu.conf runs guests as root anyway).

    with Libvirtd(workdir) as lv:       # skips the test (77) if it cannot
        lv.virsh("define", xml_file)     # start, with the reason
"""
import os
import shutil
import signal
import subprocess
import time
from xml.sax.saxutils import escape, quoteattr

from qsnapfix_tests import resume
from qsnapfix_tests import guest_fixture
from qsnapfix_tests.testlib import CACHE, Failure, check, check_eq, run, skip

PACKAGES = "libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients"
# host directory -> directory under the work dir mounted over it
PRIVATE_DIRS = {"/etc/libvirt": "etc", "/var/lib/libvirt": "lib",
                "/run/libvirt": "run", "/var/log/libvirt": "log"}
# libvirt's cache holds what it probed of QEMU (checked against the QEMU
# binary and libvirt's own version on each start): kept between runs, it
# saves most of the daemon's start-up.
CACHE_DIR = "/var/cache/libvirt"
QEMU_CONF = """\
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
"""
START_SECONDS = 90  # a cold capabilities probe on a loaded 2-CPU host


def _entry_missing(path, name):
    with open(path) as f:
        return not any(line.split(":", 1)[0] == name for line in f)


class Libvirtd:
    def __init__(self, workdir):
        self.dir = os.path.join(os.path.abspath(workdir), "libvirt")
        self.sock = os.path.join(self.dir, "sock", "libvirt-sock")
        self.uri = f"qemu:///system?socket={self.sock}"
        self.log = os.path.join(self.dir, "libvirtd.log")
        self.proc = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def _prepare(self):
        for sub in (*PRIVATE_DIRS.values(), "sock"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        with open(os.path.join(self.dir, "etc", "qemu.conf"), "w") as f:
            f.write(QEMU_CONF)
        conf = os.path.join(self.dir, "libvirtd.conf")
        with open(conf, "w") as f:
            f.write(f'unix_sock_dir = "{os.path.dirname(self.sock)}"\n'
                    'unix_sock_rw_perms = "0700"\n'
                    'auth_unix_rw = "none"\nauth_unix_ro = "none"\n'
                    f'log_outputs = "3:file:{self.log}"\n')
        cache = os.path.join(CACHE, "libvirt-cache")
        os.makedirs(cache, exist_ok=True)
        mounts = [(os.path.join(self.dir, sub), host)
                  for host, sub in PRIVATE_DIRS.items()]
        mounts.append((cache, CACHE_DIR))
        if _entry_missing("/etc/passwd", "libvirt-qemu") or \
                _entry_missing("/etc/group", "kvm"):
            for name, line in (("passwd", "libvirt-qemu:x:64055:64055::"
                                          "/var/lib/libvirt:/usr/sbin/nologin"),
                               ("group", "kvm:x:64054:\n"
                                         "libvirt-qemu:x:64055:")):
                own = os.path.join(self.dir, name)
                shutil.copyfile(f"/etc/{name}", own)
                with open(own, "a") as f:
                    f.write(line + "\n")
                mounts.append((own, f"/etc/{name}"))
        script = ["set -e"]
        for src, dst in mounts:
            if os.path.isdir(src):
                script.append(f"mkdir -p '{dst}'")
            script.append(f"mount --bind '{src}' '{dst}'")
        script.append(f"exec libvirtd --config '{conf}' --pid-file "
                      f"'{os.path.join(self.dir, 'libvirtd.pid')}'")
        return "\n".join(script)

    def start(self):
        for tool in ("libvirtd", "virsh", "unshare"):
            if not shutil.which(tool):
                skip(f"{tool} is not installed (Debian packages {PACKAGES}; "
                     f"scripts/setup installs them)")
        if os.geteuid() != 0:
            skip("a private libvirtd needs root (mount namespace, "
                 "qemu:///system)")
        script = self._prepare()
        out = open(os.path.join(self.dir, "daemon.out"), "wb")
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             script], stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        out.close()
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            p = self.virsh("version", ok=None)
            if p.returncode == 0 and "QEMU" in p.stdout:
                return
            time.sleep(0.2)
        why = self._tail()
        self.stop()
        skip(f"libvirtd did not start within {START_SECONDS}s: {why}")

    def _tail(self):
        text = ""
        for name in ("daemon.out", "libvirtd.log"):
            try:
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    text += f.read()
            except FileNotFoundError:
                pass
        lines = [x for x in text.splitlines() if x.strip()]
        return " | ".join(lines[-3:]) or "no output"

    def virsh(self, *args, ok=(0,), timeout=120):
        p = subprocess.run(["virsh", "--quiet", "--connect", self.uri,
                            *map(str, args)],
                           capture_output=True, text=True, timeout=timeout)
        if ok is not None and p.returncode not in ok:
            raise Failure(f"virsh {' '.join(map(str, args))}: exit "
                          f"{p.returncode}: {p.stderr.strip()}")
        return p

    def stop(self):
        """Destroy every running domain, then stop the daemon (by its PID)
        and any QEMU it left (by the PID files of its state directory)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            running = self.virsh("list", "--name", ok=None).stdout.split()
            for name in running:
                self.virsh("destroy", name, ok=None)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        qemu_run = os.path.join(self.dir, "run", "qemu")
        for name in os.listdir(qemu_run) if os.path.isdir(qemu_run) else ():
            if name.endswith(".pid"):
                _kill_pid_file(os.path.join(qemu_run, name))
        self.proc = None


def _kill_pid_file(path):
    """Kill the QEMU a PID file names, if that process is still a QEMU."""
    try:
        with open(path) as f:
            pid = int(f.read().strip())
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if b"qemu-system" not in f.read():
                return
        os.kill(pid, signal.SIGKILL)
    except (OSError, ValueError):
        pass


# ---- domains of the project's test guest ---------------------------------

QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"
MACHINE = "pc-i440fx-1.4"


def _attr(value):
    return quoteattr(str(value))


def domain_xml(name, *, kernel=None, image=None, serial=None, video="cirrus",
               nics=("rtl8139",), commandline=(), memory_mib=128,
               disk_bus="ide", usb_tablet=False, devices=()):
    """A TCG domain like the project's guest fixture (tests/qsnapfix_tests/
    guest_fixture.py): -M pc-i440fx-1.4, ACPI, an IDE qcow2 disk, cirrus,
    rtl8139 on user networking, COM1 into a file; no USB, no balloon.
    Without kernel/image/serial: a domain to start paused and inspect.
    disk_bus "virtio" puts the disk on virtio-blk; usb_tablet adds a
    PIIX3 UHCI controller with a USB tablet (-usb -usbdevice tablet);
    `devices`: more device elements."""
    parts = [f"<domain type='qemu' xmlns:qemu='{QEMU_NS}'>",
             f"<name>{escape(name)}</name>",
             f"<memory unit='MiB'>{memory_mib}</memory><vcpu>1</vcpu>",
             f"<os><type arch='x86_64' machine='{MACHINE}'>hvm</type>"]
    if kernel:
        parts.append(f"<kernel>{escape(kernel)}</kernel>")
    parts.append("</os><features><acpi/></features>"
                 "<on_poweroff>destroy</on_poweroff>"
                 "<on_reboot>restart</on_reboot>"
                 "<on_crash>destroy</on_crash><devices>")
    if image:
        parts.append("<disk type='file' device='disk'><driver name='qemu' "
                     f"type='qcow2'/><source file={_attr(image)}/>"
                     + ("<target dev='vda' bus='virtio'/></disk>"
                        if disk_bus == "virtio" else
                        "<target dev='hda' bus='ide'/></disk>"))
    if usb_tablet:
        parts.append("<controller type='usb' model='piix3-uhci'/>"
                     "<input type='tablet' bus='usb'/>")
    else:
        parts.append("<controller type='usb' model='none'/>")
    for model in nics:
        parts.append(f"<interface type='user'><model type='{model}'/>"
                     "</interface>")
    if serial:
        parts.append(f"<serial type='file'><source path={_attr(serial)}/>"
                     "</serial>")
    parts.extend(devices)
    parts.append(f"<video><model type='{video}'/></video>"
                 "<memballoon model='none'/></devices>")
    if commandline:
        parts.append("<qemu:commandline>" + "".join(
            f"<qemu:arg value={_attr(a)}/>" for a in commandline) +
            "</qemu:commandline>")
    parts.append("</domain>")
    return "\n".join(parts) + "\n"


def define(lv, workdir, xml):
    path = os.path.join(workdir, "domain.xml")
    with open(path, "w") as f:
        f.write(xml)
    lv.virsh("define", path)


def serial_counters(path):
    try:
        with open(path, "rb") as f:
            text = f.read().decode(errors="replace")
    except FileNotFoundError:
        text = ""
    return text, resume.counters_in(text)


def wait_for_counters(path, *, at_least=None, count=None, timeout=30.0):
    """Poll the guest's serial log until its last counter is >= at_least
    (or count counters were printed); returns (text, counters)."""
    deadline = time.monotonic() + timeout
    while True:
        text, seen = serial_counters(path)
        if (at_least is not None and seen and seen[-1] >= at_least) or \
                (count is not None and len(seen) >= count):
            return text, seen
        if time.monotonic() >= deadline:
            raise Failure(f"{path}: counters {seen[-5:]} after {timeout}s "
                          f"(wanted {'>= ' + str(at_least) if at_least else count}"
                          f"); serial ends {text[-120:]!r}")
        time.sleep(0.1)


class Guest:
    """A domain running the project's guest, in its own directory."""

    def __init__(self, lv, workdir, name, *, commandline=()):
        self.lv, self.name = lv, name
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        self.image = os.path.join(self.dir, "disk.qcow2")
        self.serial = os.path.join(self.dir, "serial.log")
        kernel = os.path.join(self.dir, guest_fixture.GUEST_NAME)
        shutil.copyfile(guest_fixture.guest_elf(), kernel)
        run(["qemu-img", "create", "-q", "-f", "qcow2", self.image,
             guest_fixture.GUEST_DISK_SIZE])
        define(lv, self.dir, domain_xml(
            name, kernel=kernel, image=self.image, serial=self.serial,
            commandline=commandline))

    def virsh(self, *args, **kw):
        return self.lv.virsh(*args, **kw)

    def snapshot(self, snap, *, at_least):
        """Pause the running guest, note its counter, take snapshot `snap`
        (internal, with memory). Returns the saved counter."""
        wait_for_counters(self.serial, at_least=at_least)
        self.virsh("suspend", self.name)
        text, seen = serial_counters(self.serial)
        self.virsh("snapshot-create-as", self.name, snap)
        xml = self.virsh("snapshot-dumpxml", self.name, snap).stdout
        check("<memory snapshot='internal'/>" in xml,
              f"snapshot {snap} has no internal memory state: {xml[:300]}")
        return seen[-1]

    def revert(self, snap):
        return self.virsh("snapshot-revert", self.name, snap, "--running",
                          ok=None)

    def check_resumes(self, snap, saved):
        """snapshot-revert resumes the guest where it was saved."""
        p = self.revert(snap)
        check(p.returncode == 0, f"snapshot-revert {snap}: {p.stderr}")
        text, seen = wait_for_counters(self.serial, count=3)
        state = self.virsh("domstate", self.name).stdout.strip()
        check(not resume.booted(text),
              f"the guest rebooted: {text[:200]!r}")
        check(saved + 1 <= seen[0] <= saved + 3,
              f"first counter {seen[0]} after a save at {saved}")
        check_eq(state, "running", "domain state after the revert")
        print(f"revert {snap}: resumed, counters {seen[:4]} after a save at "
              f"{saved}, {state}")
