#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Bash completion (contrib/bash-completion/qsnapfix) in a real interactive
bash under tmux: keys are typed with send-keys and the screen is read with
capture-pane. Commands, options (as each command's --help lists them),
targets (as --version lists them) and the snapshots with VM state of the
image on the command line complete; a disk-only snapshot does not."""
import os
import shutil
import subprocess
import time

import helptext
from qsnapfix_tests import testlib
from qsnapfix_tests.testlib import Failure, check

SCRIPT = os.path.join(testlib.SRC, "contrib", "bash-completion", "qsnapfix")
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"
DEADLINE = 30.0  # seconds for the screen to show what is expected


class Terminal:
    """An interactive bash in a private tmux server."""

    def __init__(self, workdir, bindir):
        self.socket = os.path.join(workdir, "tmux.sock")
        rc = os.path.join(workdir, "bashrc")
        with open(rc, "w") as f:
            f.write(f"PATH={bindir}:$PATH\nPS1='$ '\n"
                    f"source {BASH_COMPLETION}\nsource {SCRIPT}\n"
                    "bind 'set show-all-if-ambiguous on'\n"
                    "bind 'set completion-query-items 0'\n"
                    "bind 'set page-completions off'\n"
                    f"cd {workdir}\n")
        self.tmux("new-session", "-d", "-x", "220", "-y", "50",
                  f"env -i HOME={workdir} TERM=xterm LANG=C.UTF-8 "
                  f"bash --noprofile --rcfile {rc} -i")
        self.wait_for(lambda screen: screen.rstrip().endswith("$"),
                      "the prompt")

    def tmux(self, *args):
        return subprocess.run(["tmux", "-S", self.socket, *args],
                              capture_output=True, text=True, check=True,
                              timeout=30).stdout

    def screen(self):
        # -N keeps the trailing space a completed word ends with.
        return self.tmux("capture-pane", "-p", "-N")

    def wait_for(self, ok, what):
        end = time.monotonic() + DEADLINE
        while True:
            screen = self.screen()
            if ok(screen):
                return screen
            if time.monotonic() > end:
                raise Failure(f"waited {DEADLINE}s for {what}; screen:\n"
                              f"{screen.rstrip()}")
            time.sleep(0.05)

    def clear(self):
        self.tmux("send-keys", "C-u", "clear", "Enter")
        self.wait_for(lambda s: s.strip() == "$", "a cleared screen")

    def complete(self, typed):
        """Type `typed`, press Tab; return the screen once bash has drawn
        the completion (the line changed, or a list appeared)."""
        self.clear()
        self.tmux("send-keys", "-l", typed)
        self.wait_for(lambda s: s.rstrip().endswith("$ " + typed.rstrip())
                      or s.rstrip().endswith("$ " + typed), "the typed text")
        self.tmux("send-keys", "Tab")
        return self.wait_for(
            lambda s: s.strip() != ("$ " + typed).strip(), f"'{typed}' + Tab")

    def close(self):
        subprocess.run(["tmux", "-S", self.socket, "kill-server"],
                       capture_output=True, timeout=30)


def last_line(screen):
    return [x for x in screen.splitlines() if x.strip()][-1]


def expect_line(term, typed, want):
    """Tab completes `typed` into exactly `want` on the command line."""
    term.complete(typed)
    screen = term.wait_for(lambda s: last_line(s) == "$ " + want,
                           f"'{typed}' + Tab -> '{want}'")
    return screen


def expect_list(term, typed, want, unwanted=()):
    """Tab lists the candidates `want` (and none of `unwanted`)."""
    screen = term.complete(typed)
    screen = term.wait_for(
        lambda s: all(w in s.split() for w in want),
        f"'{typed}' + Tab listing {want}")
    for u in unwanted:
        check(u not in screen.split(), f"'{typed}' + Tab offers {u!r}:\n"
                                       f"{screen}")
    return screen


def make_image(workdir):
    """vm.qcow2 with two snapshots holding VM state and a disk-only one."""
    image = os.path.join(workdir, "vm.qcow2")
    testlib.qemu_img("create", "-q", "-f", "qcow2", image, "16M")
    testlib.savevm(image, ["s1", "nightly"])
    testlib.qemu_img("snapshot", "-c", "diskonly", image)
    return image


def main():
    for tool in ("tmux", "bash"):
        if not shutil.which(tool):
            testlib.skip(f"{tool} is not installed (scripts/setup test)")
    if not os.path.exists(BASH_COMPLETION):
        testlib.skip("bash-completion is not installed (scripts/setup test)")
    if not shutil.which("qemu-system-x86_64"):
        testlib.skip("qemu-system-x86_64 is not installed: no image with "
                     "VM state to complete snapshot names from")
    workdir = testlib.workdir("completion")
    bindir = os.path.join(workdir, "bin")
    os.mkdir(bindir)
    os.symlink(os.path.abspath(testlib.BIN), os.path.join(bindir, "qsnapfix"))
    make_image(workdir)
    term = Terminal(workdir, bindir)

    def test_commands_complete():
        expect_line(term, "qsnapfix fi", "qsnapfix fix ")
        expect_list(term, "qsnapfix ", helptext.commands() + ["help"])
        expect_line(term, "qsnapfix help tr", "qsnapfix help translate ")

    def test_each_commands_options_complete_as_its_help_lists_them():
        for cmd in helptext.commands():
            want = [f"--{o.long}" + ("=" if o.arg else "")
                    for o in helptext.options(cmd)]
            expect_list(term, f"qsnapfix {cmd} --", want)
        expect_line(term, "qsnapfix fix --ta", "qsnapfix fix --target=")
        expect_line(term, "qsnapfix extract --output-",
                    "qsnapfix extract --output-file=")

    def test_targets_complete():
        expect_list(term, "qsnapfix fix --target=",
                    ["qemu-7.2", "qemu-10.0", "qemu-2.0"])
        expect_line(term, "qsnapfix scan --target=qemu-1",
                    "qsnapfix scan --target=qemu-10.0 ")

    def test_snapshots_with_vm_state_complete_from_the_image():
        expect_list(term, "qsnapfix fix vm.qcow2 --snapshot ",
                    ["s1", "nightly"], unwanted=["diskonly"])
        expect_line(term, "qsnapfix fix vm.qcow2 -s ni",
                    "qsnapfix fix vm.qcow2 -s nightly ")
        expect_line(term, "qsnapfix extract vm.qcow2 --snapshot=ni",
                    "qsnapfix extract vm.qcow2 --snapshot=nightly ")
        expect_line(term, "qsnapfix inspect --stats vm.qcow2 -s s",
                    "qsnapfix inspect --stats vm.qcow2 -s s1 ")

    def test_image_names_complete_from_files():
        expect_line(term, "qsnapfix fix v", "qsnapfix fix vm.qcow2 ")
        expect_line(term, "qsnapfix relay --recipe v",
                    "qsnapfix relay --recipe vm.qcow2 ")

    try:
        testlib.main([test_commands_complete,
                      test_each_commands_options_complete_as_its_help_lists_them,
                      test_targets_complete,
                      test_snapshots_with_vm_state_complete_from_the_image,
                      test_image_names_complete_from_files])
    finally:
        term.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
