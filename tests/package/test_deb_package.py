#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The Debian package, as a user gets it:

1. `dpkg-buildpackage -us -uc -b` of the checkout (its tracked and new
   files, nothing built) in a clean Debian 12 tree holding only the
   Build-Depends of debian/control (scripts/debian12 build-base);
2. lintian on the result: no error and no warning (overrides need a
   reason written beside them);
3. `apt-get install ./qsnapfix_*.deb` in another clean Debian 12 tree
   (scripts/debian12 base: minbase and man-db), and there
   `qsnapfix --version`, `inspect`, `scan` and `fix` of a qemu-kvm-shaped
   snapshot (the project's guest reshaped like qemu-kvm 1.0, and the real
   qemu-kvm 1.0 image qk10-a when ../shared's images are unpacked), which
   prints the recipe, and `man qsnapfix`;
4. back on the host, the images fixed by the packaged program pass
   `qemu-img check` and hold the same VM state as the host build's fix.

The trees are cached as tarballs under $QSNAPFIX_CACHE/debian12-root;
skipped (77) only when they cannot be made because the mirror cannot be
reached.
"""
import glob
import os
import re
import shutil
import subprocess

from qsnapfix_tests import fixlib, guest_fixture, testlib
from qsnapfix_tests.testlib import CACHE, SRC, check, check_eq, run

DEBIAN12 = os.path.join(SRC, "scripts", "debian12")
REAL_IMAGE = os.path.join(CACHE, "shared-images", "qk10-a-default.qcow2")
TIMEOUT = 1500
# What the first test hands the second: the work directory, the .deb.
STATE = {}


def debian12(*args, timeout=TIMEOUT):
    """scripts/debian12 ARGS; exit 77 (mirror unreachable) skips."""
    env = dict(os.environ, QSNAPFIX_CACHE=CACHE)
    p = subprocess.run([DEBIAN12, *args], capture_output=True, text=True,
                       env=env, timeout=timeout)
    if p.returncode == 77:  # its last line says why
        testlib.skip(p.stderr.strip().splitlines()[-1])
    if p.returncode != 0:
        raise testlib.Failure(f"scripts/debian12 {' '.join(args)}: exit "
                              f"{p.returncode}\n{p.stdout[-3000:]}\n"
                              f"{p.stderr[-3000:]}")
    return p.stdout


def in_tree(tree, command, ok_codes=(0,)):
    """Run a shell command as root inside a tree; CompletedProcess."""
    p = subprocess.run([DEBIAN12, "chroot", tree, "sh", "-c", command],
                       capture_output=True, text=True, timeout=TIMEOUT,
                       env=dict(os.environ, QSNAPFIX_CACHE=CACHE))
    if p.returncode not in ok_codes:
        raise testlib.Failure(f"in the Debian 12 tree: {command}: exit "
                              f"{p.returncode}\nstdout: {p.stdout[-4000:]}\n"
                              f"stderr: {p.stderr[-4000:]}")
    return p


def checkout_files():
    """The checkout as a clean clone has it (plus files not yet added),
    without build directories or caches."""
    p = run(["git", "-C", SRC, "ls-files", "-z", "--cached", "--others",
             "--exclude-standard"])
    return [f for f in p.stdout.split("\0")
            if f and os.path.lexists(os.path.join(SRC, f))]


def changelog_version():
    with open(os.path.join(SRC, "debian", "changelog")) as f:
        return re.match(r"qsnapfix \(([^)]+)\)", f.readline()).group(1)


def build_package(work):
    """Build the binary packages in a clean tree; return the .changes."""
    tree = os.path.join(work, "build-tree")
    debian12("unpack", debian12("build-base").strip(), tree)
    src = os.path.join(tree, "build", "qsnapfix")
    os.makedirs(src)
    files = checkout_files()
    run(["tar", "-C", SRC, "--null", "-T", "-", "-cf",
         os.path.join(work, "src.tar")], input="\0".join(files))
    run(["tar", "-C", src, "-xf", os.path.join(work, "src.tar")])
    p = in_tree(tree, "cd /build/qsnapfix && dpkg-buildpackage -us -uc -b "
                      ">/build/build.log 2>&1 || { tail -n 60 "
                      "/build/build.log; exit 1; }")
    out = os.path.join(work, "out")
    os.mkdir(out)
    for f in glob.glob(os.path.join(tree, "build", "qsnapfix*_*")):
        shutil.copy(f, out)
    shutil.copy(os.path.join(tree, "build", "build.log"), out)
    shutil.rmtree(tree)
    changes = glob.glob(os.path.join(out, "*.changes"))
    check_eq(len(changes), 1, f"the .changes ({os.listdir(out)}) {p.stdout}")
    return changes[0]


def test_package_builds_from_a_clean_checkout_and_passes_lintian():
    changes = build_package(STATE["work"])
    out = os.path.dirname(changes)
    log = open(os.path.join(out, "build.log")).read()
    check("dpkg-buildpackage: info: binary-only upload" in log, log[-2000:])
    check(re.search(r"100% tests passed, 0 tests failed out of \d+", log),
          "dh_auto_test ran the unit tests and the package checks")
    debs = sorted(os.path.basename(d)
                  for d in glob.glob(os.path.join(out, "*.deb")))
    version = changelog_version()
    for name in (f"qsnapfix_{version}_amd64.deb",
                 f"qsnapfix-libvirt_{version}_all.deb",
                 f"qsnapfix-ansible_{version}_all.deb"):
        check(name in debs, f"{name} among {debs}")
    # lintian refuses nothing as root, but says so on stderr.
    p = run(["lintian", "--fail-on", "error,warning", "--info",
             "--display-info", changes], ok_codes=None)
    report = [line for line in p.stdout.splitlines()
              if re.match(r"^[EW]: ", line)]
    check_eq((p.returncode, report), (0, []), "lintian errors and warnings")
    print(f"lintian: {len(p.stdout.splitlines())} lines (info and "
          f"above): {p.stdout.strip() or 'none'}")
    STATE["deb"] = os.path.join(out, f"qsnapfix_{version}_amd64.deb")


def images_to_fix(work):
    """(name in the tree, host path, snapshot): the project's guest
    reshaped like qemu-kvm 1.0, and qk10-a when it is unpacked."""
    imgs = os.path.join(work, "images")
    os.makedirs(imgs)
    snap = guest_fixture.guest_snapshot(imgs)
    guest = os.path.join(imgs, "guest.qcow2")
    os.rename(snap.image, guest)
    fixlib.oldify(guest, snap.snapshot, "--as", "qemu-kvm-1.0")
    out = [("guest.qcow2", guest, snap.snapshot)]
    if os.path.isfile(REAL_IMAGE):
        real = os.path.join(imgs, "qk10-a.qcow2")
        shutil.copyfile(REAL_IMAGE, real)
        out.append(("qk10-a.qcow2", real, "s1"))
    else:
        print(f"note: {REAL_IMAGE} absent: only the reshaped guest is fixed")
    return imgs, out


def test_package_installs_and_fixes_in_a_clean_debian12():
    check("deb" in STATE, "the package was built (previous test)")
    work = STATE["work"]
    tree = os.path.join(work, "install-tree")
    debian12("unpack", debian12("base").strip(), tree)
    deb = os.path.basename(STATE["deb"])
    shutil.copy(STATE["deb"], os.path.join(tree, "root", deb))
    imgs, images = images_to_fix(work)
    tree_imgs = os.path.join(tree, "root", "images")
    os.makedirs(tree_imgs)
    for name, host_path, _ in images:
        shutil.copyfile(host_path, os.path.join(tree_imgs, name))

    # Fresh lists when the mirror answers; the cached ones otherwise (the
    # packages apt needs are then in the cache's archive directory).
    in_tree(tree, "apt-get update -q >/dev/null 2>&1; "
                  f"apt-get install -y -q /root/{deb}")
    check_eq(in_tree(tree, "dpkg-query -W -f='${Status}' qsnapfix").stdout,
             "install ok installed", "dpkg status of qsnapfix")

    v = in_tree(tree, "qsnapfix --version").stdout
    check(v.startswith(f"qsnapfix {changelog_version()}\n"), v)
    check("targets: qemu-7.2 (default)" in v and "libraries: GLib 2.74" in v,
          v)
    print(v.strip())

    p = in_tree(tree, "qsnapfix inspect /root/images/guest.qcow2")
    check("Snapshot list:" in p.stdout and " s1 " in p.stdout, p.stdout)
    p = in_tree(tree, "qsnapfix scan /root/images", ok_codes=(17,))
    check("qemu-kvm 1.0" in p.stdout and "fixable" in p.stdout, p.stdout)

    for name, host_path, snapshot in images:
        p = in_tree(tree, f"qsnapfix fix /root/images/{name}")
        check("resume on qemu-7.2:" in p.stdout, p.stdout)
        check(re.search(r"qemu-system-x86_64 -M pc-i440fx-1\.4 .*"
                        rf"-loadvm {snapshot}", p.stdout), p.stdout)
        check(f"rtl8139.romfile=/root/images/{name}.{snapshot}."
              "0000-00-03.0-rtl8139.rom" in p.stdout, p.stdout)
        print(f"fixed {name} in the tree:\n" + "\n".join(
            x for x in p.stdout.splitlines() if "qemu-system" in x))
        # The same image fixed by the host's build holds the same bytes.
        packaged = os.path.join(tree_imgs, name)
        testlib.assert_check_clean(packaged)
        fixlib.fix(host_path)
        check_eq(fixlib.vmstate_sha256(packaged, snapshot),
                 fixlib.vmstate_sha256(host_path, snapshot),
                 f"{name}: VM state fixed by the package vs the build")

    p = in_tree(tree, "MANWIDTH=80 man qsnapfix 2>&1; "
                      "man -w qsnapfix-fix qsnapfix-scan")
    check("WORKFLOW" in p.stdout and "EXIT STATUS" in p.stdout,
          p.stdout[:2000])
    check("/usr/share/man/man1/qsnapfix-fix.1.gz" in p.stdout, p.stdout)
    p = in_tree(tree, "bash -c '. /usr/share/bash-completion/completions/"
                      "qsnapfix && complete -p qsnapfix'")
    check_eq(p.stdout.strip(), "complete -F _qsnapfix qsnapfix",
             "the packaged completion registers itself")
    shutil.rmtree(tree)
    shutil.rmtree(imgs)


def main():
    if os.geteuid() != 0:
        testlib.skip("needs root (debootstrap and chroot)")
    for tool in ("debootstrap", "lintian", "zstd", "unshare", "git"):
        check(shutil.which(tool),
              f"{tool} is not installed: run scripts/setup test")
    if not guest_fixture.guest_elf():
        testlib.skip("the test guest is not built (BUILD_TESTING)")
    STATE["work"] = testlib.workdir("deb")
    try:
        testlib.main([
            test_package_builds_from_a_clean_checkout_and_passes_lintian,
            test_package_installs_and_fixes_in_a_clean_debian12,
        ])
    finally:
        shutil.rmtree(STATE["work"], ignore_errors=True)


if __name__ == "__main__":
    main()
