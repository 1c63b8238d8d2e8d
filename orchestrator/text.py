"""The words bwmigrate shows: outside text made safe for a terminal and for a spreadsheet, and
counts with their nouns.

Number files, v1 inputs, scanned code and the API's answers are outside text: a cell may hold
`=HYPERLINK(...)` or `@SUM(...)`, which a spreadsheet opening a CSV executes, or ANSI escape
sequences, which a terminal obeys. Every CSV cell bwmigrate writes goes through `csv_cell`, and
every outside value it prints goes through `printable`; nothing else decides.

    printable(text)  control and other non-printable characters (ESC, CR, BEL, bidi
                     overrides, ...) shown as their escape (`\\x1b`, `\\u202e`), never emitted
    csv_cell(value)  printable, and a cell a spreadsheet would read as a formula (starting with
                     `=`, `@`, tab or CR, or with `+`/`-` followed by anything but a plain
                     number) prefixed with `'`; E.164 numbers and other plain numbers unchanged
    counted(n, noun) "1 order", "2 orders", "0 duplicates": every count printed with a noun
                     goes through it, so no message says "1 orders"

Imports nothing of bwmigrate: every wing may use it.
"""

from __future__ import annotations

import re

_PLAIN_NUMBER = re.compile(r"[+-]\d+(?:\.\d+)?")
_FORMULA_START = ("=", "@", "\t", "\r")


def printable(text: str) -> str:
    """`text` with every non-printable character (as `str.isprintable` judges: C0/C1 controls,
    line and paragraph separators, format characters such as bidi overrides) written as its
    Python escape, so nothing in it can move the cursor, recolour or rewrite a terminal."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def csv_cell(value: str) -> str:
    """`value` as a CSV cell a spreadsheet shows as text and never executes (see the module
    docstring); plain numbers, E.164 included, are returned exactly as they are."""
    if value.startswith(_FORMULA_START) or (
        value.startswith(("+", "-")) and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + printable(value)
    return printable(value)


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and its noun, singular for exactly one: `counted(1, "order")` is "1 order",
    `counted(3, "entry", "entries")` is "3 entries"; the plural defaults to noun + "s"."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
