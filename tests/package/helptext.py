# SPDX-License-Identifier: GPL-2.0-or-later
"""What the qsnapfix program says about itself: its commands (from
`qsnapfix --help`) and each command's options (from `COMMAND --help`).

The man page and completion tests compare against this, so the program's
own help is the one list of commands and options: add an option to a
command and these tests name it until the man page documents it.
"""
import os
import re
import subprocess

from qsnapfix_tests import testlib


class Option:
    """One option as --help lists it: -s, --snapshot=ID|NAME."""

    def __init__(self, long, short=None, arg=None):
        self.long, self.short, self.arg = long, short, arg

    def key(self):
        return (self.long, self.short, self.arg)

    def __repr__(self):
        s = f"-{self.short}, " if self.short else ""
        return f"{s}--{self.long}" + (f"={self.arg}" if self.arg else "")


def help_text(*args):
    p = subprocess.run([testlib.BIN, *args, "--help"], capture_output=True,
                       text=True, timeout=60)
    testlib.check_eq(p.returncode, 0, f"qsnapfix {' '.join(args)} --help")
    return p.stdout


def section(text, title):
    """The indented lines after a line `title` up to the next blank line."""
    lines = text.splitlines()
    out = []
    try:
        i = lines.index(title)
    except ValueError:
        raise testlib.Failure(f"no {title!r} section in:\n{text}")
    for line in lines[i + 1:]:
        if not line.strip():
            break
        out.append(line)
    return out


def commands():
    """The commands `qsnapfix --help` lists, in its order."""
    return [line.split()[0] for line in section(help_text(), "Commands:")]


# --help's option lines: "  -s, --snapshot=ID|NAME   Description".
OPTION_LINE = re.compile(
    r"^\s+(?:-(?P<short>\w), )?--(?P<long>[a-z0-9][a-z0-9-]*)"
    r"(?:=(?P<arg>\S+))?\s")


def options(*command):
    """The options COMMAND --help lists (none: the program's own)."""
    out = []
    for line in section(help_text(*command), "Options:"):
        m = OPTION_LINE.match(line + " ")
        if m:
            out.append(Option(m["long"], m["short"], m["arg"]))
    return out


def usage_line(command):
    """`qsnapfix fix [OPTION…] IMAGE` from COMMAND --help."""
    return section(help_text(command), "Usage:")[0].strip()
