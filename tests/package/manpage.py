# SPDX-License-Identifier: GPL-2.0-or-later
"""Read what a man(7) page documents: its sections and the tags of each
section's .TP paragraphs, as plain text (font escapes removed, \\- as -).
"""
import re

FONT = re.compile(r"\\f(?:\[[A-Z]*\]|\([A-Z]{2}|[A-Z1-4])")
GLYPHS = {r"\-": "-", r"\e": "\\", r"\(en": "-", r"\(em": "-",
          r"\(bu": "*", r"\&": "", r"\ ": " "}
ALTERNATING = {".BR", ".RB", ".BI", ".IB", ".IR", ".RI"}


def plain(text):
    """Roff text without font escapes and with glyphs spelled out."""
    text = FONT.sub("", text)
    for esc, char in GLYPHS.items():
        text = text.replace(esc, char)
    return text


def macro_args(line):
    """The arguments of a macro line, quotes honoured."""
    return [a[1:-1] if a.startswith('"') else a
            for a in re.findall(r'"[^"]*"|\S+', line)]


def line_text(line):
    """What a text or font-macro line prints."""
    if not line.startswith("."):
        return plain(line)
    name, *args = macro_args(line)
    joiner = "" if name in ALTERNATING else " "
    return plain(joiner.join(args))


class Page:
    def __init__(self, path):
        self.path = path
        self.sections = {}
        current = None
        with open(path, encoding="utf-8") as f:
            for line in f.read().splitlines():
                if line.startswith(".SH "):
                    current = plain(" ".join(macro_args(line)[1:]))
                    self.sections[current] = []
                elif current is not None and not line.startswith('.\\"'):
                    self.sections[current].append(line)

    def section(self, name):
        if name not in self.sections:
            raise KeyError(f"{self.path}: no section {name!r}")
        return self.sections[name]

    def tags(self, name):
        """The tag line of each .TP paragraph in section `name`, as text."""
        lines = self.section(name)
        return [line_text(lines[i + 1]) for i, line in enumerate(lines[:-1])
                if line == ".TP"]

    def text(self, name):
        return " ".join(line_text(x) for x in self.section(name))
