#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The man pages say what the program does, all of it and nothing else:

- every command `qsnapfix --help` lists has a page qsnapfix-COMMAND(1),
  named in qsnapfix(1)'s COMMANDS and SEE ALSO;
- each page's OPTIONS are exactly the options `COMMAND --help` lists
  (long name, short name, argument name), and qsnapfix(1)'s are the
  program's own; qsnapfix-libvirt(1)'s are the helper's;
- qsnapfix(1) describes every exit code of exit_codes.h and every target
  `qsnapfix --version` names.

When this fails after you added an option, a command, an exit code or a
target, document it in docs/man/ (docs/CONTRIBUTING.md says how).
"""
import glob
import os
import re
import subprocess
import sys

import helptext
import manpage
from qsnapfix_tests import testlib
from qsnapfix_tests.testlib import check, check_eq

MAN = os.path.join(testlib.SRC, "docs", "man")


def page(name):
    path = os.path.join(MAN, f"{name}.1")
    check(os.path.exists(path),
          f"no man page {name}(1): write docs/man/{name}.1 "
          "(docs/CONTRIBUTING.md)")
    return manpage.Page(path)


def documented_options(pg):
    """The options of a page's OPTIONS section, parsed like --help's."""
    out = []
    for tag in pg.tags("OPTIONS"):
        m = helptext.OPTION_LINE.match("  " + tag + " ")
        check(m, f"{pg.path}: OPTIONS tag {tag!r} is not "
                 "'-s, --long=ARG' (docs/CONTRIBUTING.md)")
        out.append(helptext.Option(m["long"], m["short"], m["arg"]))
    return out


def compare(listed, pg, what):
    """Every option of `what`'s help is in the page, and nothing else."""
    have = {o.key(): o for o in documented_options(pg)}
    want = {o.key(): o for o in listed}
    missing = [repr(want[k]) for k in want if k not in have]
    extra = [repr(have[k]) for k in have if k not in want]
    problems = []
    if missing:
        problems.append(f"lacks {what}'s options {missing} (add them to "
                        "its OPTIONS section)")
    if extra:
        problems.append(f"documents {extra}, which {what} --help does not "
                        "list (remove them, or list them in --help)")
    check(not problems, f"{pg.path}: " + "; ".join(problems))


def test_every_command_has_a_page_with_exactly_its_options():
    commands = helptext.commands()
    check("fix" in commands and "scan" in commands, commands)
    for cmd in commands:
        compare(helptext.options(cmd), page(f"qsnapfix-{cmd}"),
                f"'qsnapfix {cmd}'")


def test_the_main_page_names_every_command_and_the_global_options():
    main = page("qsnapfix")
    compare(helptext.options(), main, "'qsnapfix'")
    listed = [t.split()[0] for t in main.tags("COMMANDS")]
    for cmd in helptext.commands():
        check(cmd in listed, f"qsnapfix(1) COMMANDS lacks {cmd}")
        check(f"qsnapfix-{cmd}(1)" in main.text("SEE ALSO"),
              f"qsnapfix(1) SEE ALSO lacks qsnapfix-{cmd}(1)")


def exit_codes():
    """The exit codes the program defines, from its one header."""
    headers = glob.glob(os.path.join(testlib.SRC, "src", "**",
                                     "exit_codes.h"), recursive=True)
    check_eq(len(headers), 1, f"exit_codes.h under src/: {headers}")
    with open(headers[0]) as f:
        return {int(v) for v in re.findall(r"APP_EXIT_\w+\s*=\s*(\d+)",
                                           f.read())}


def test_the_main_page_describes_every_exit_code():
    codes = exit_codes()
    check(len(codes) > 10, f"parsed exit codes {sorted(codes)}")
    documented = {int(t) for t in page("qsnapfix").tags("EXIT STATUS")}
    check_eq(sorted(documented), sorted(codes),
             "qsnapfix(1) EXIT STATUS against exit_codes.h")


def test_the_main_page_describes_every_target():
    out = subprocess.run([testlib.BIN, "--version"], capture_output=True,
                         text=True).stdout
    line = [x for x in out.splitlines() if x.startswith("targets: ")][0]
    targets = [t.replace(" (default)", "")
               for t in line[len("targets: "):].split(", ")]
    documented = page("qsnapfix").tags("TARGETS")
    check_eq(documented, targets, "qsnapfix(1) TARGETS (in --version order)")


def argparse_options(helper):
    """The options of an argparse --help ('--domain DOMAIN, -d DOMAIN')."""
    text = subprocess.run([sys.executable, helper, "--help"],
                          capture_output=True, text=True, check=True).stdout
    out = []
    for line in helptext.section(text, "options:"):
        if not line.startswith("  -"):
            continue
        long = short = arg = None
        for form in line.strip().split("  ")[0].split(", "):
            name, _, arg = form.partition(" ")
            if name.startswith("--"):
                long = name[2:]
            else:
                short = name[1:]
        out.append(helptext.Option(long, short, arg or None))
    return out


def test_the_libvirt_helper_page_has_exactly_its_options():
    helper = os.environ.get("QSNAPFIX_LIBVIRT_HELPER")
    check(helper and os.path.exists(helper),
          f"QSNAPFIX_LIBVIRT_HELPER={helper!r} (set by tests/package/"
          "CMakeLists.txt from QSNAPFIX_LIBVIRT_HELPER)")
    compare(argparse_options(helper), page("qsnapfix-libvirt"),
            "qsnapfix-libvirt")


def test_every_page_is_named_in_the_main_page():
    see_also = page("qsnapfix").text("SEE ALSO")
    for path in sorted(glob.glob(os.path.join(MAN, "*.1"))):
        name = os.path.basename(path)[:-2]
        if name != "qsnapfix":
            check(f"{name}(1)" in see_also,
                  f"qsnapfix(1) SEE ALSO lacks {name}(1)")


if __name__ == "__main__":
    testlib.main([
        test_every_command_has_a_page_with_exactly_its_options,
        test_the_main_page_names_every_command_and_the_global_options,
        test_the_main_page_describes_every_exit_code,
        test_the_main_page_describes_every_target,
        test_the_libvirt_helper_page_has_exactly_its_options,
        test_every_page_is_named_in_the_main_page,
    ])
