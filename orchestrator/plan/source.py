"""Number files: the bytes of a CSV or a one-number-per-line file -> (raw text, line) pairs.

Customers hand over spreadsheet exports and plain lists. This module decodes them (UTF-8 with or
without a BOM, UTF-16 from Excel's "Unicode text", a cp1252 fallback), finds the column holding
the numbers (by header name or 1-based position) and yields every cell with its line number, so a
bad number can be reported as `file:line`. It does not judge the numbers (that is `numbers`).

Pure: the caller opens the file and passes its bytes in. No I/O, no clock, no environment.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from orchestrator.errors import PlanError

# A CSV cell longer than this is not a phone number column; csv's own limit is 128 KiB.
_MAX_FIELD_CHARS = 1 << 20


@dataclass(frozen=True, slots=True)
class NumberFile:
    """How to read one number file: a CSV column (by name or 1-based index) or plain lines."""

    path: str
    column: str | int | None = None  # None: plain list (or column 1 of a .csv/.tsv file)
    header: bool | None = None  # None: decide from the file (named column => header)

    @property
    def is_csv(self) -> bool:
        """True when the file is read as CSV rather than one number per line."""
        return self.column is not None or self.path.lower().endswith((".csv", ".tsv"))


def decode_text(data: bytes, path: str) -> str:
    """Decode a number file; refuse binary data with a clear error."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise PlanError(
                f"{path}: not valid UTF-16 text ({exc.reason}); export it again"
            ) from exc
    if b"\x00" in data[:4096]:
        raise PlanError(
            f"{path}: looks like a binary file (NUL bytes), not a CSV or a list of numbers; "
            "export it as CSV (UTF-8)"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Spreadsheet exports on Windows: cp1252. Undecodable bytes become U+FFFD, which the
        # number rules reject with a clear reason, so nothing is silently mangled into a number.
        return data.decode("cp1252", errors="replace")


def read_numbers(spec: NumberFile, data: bytes) -> Iterator[tuple[str, int]]:
    """Yield (raw cell text, 1-based line number) for every number entry of a file; a file
    without any entry (empty, blank, comments or a header only) is a `PlanError`, never a step
    of 0 numbers."""
    text = decode_text(data, spec.path)
    entries = _read_csv(spec, text) if spec.is_csv else _read_lines(text)
    found = False
    for entry in entries:
        found = True
        yield entry
    if not found:
        raise PlanError(f"{spec.path}: {_why_empty(data, text)}; {_EMPTY_FIX}")


_EMPTY_FIX = "add its numbers, or remove the file from the plan"


def _why_empty(data: bytes, text: str) -> str:
    """What an entry-less number file holds instead of numbers."""
    if not data:
        return "the file is empty (0 bytes), no numbers to read"
    if not text.strip():
        return "the file holds only blank lines, no numbers to read"
    return "the file holds a header row, blank lines or comments, but no numbers"


def _read_lines(text: str) -> Iterator[tuple[str, int]]:
    """One number per line; blank lines and `#` comments are skipped."""
    for line_no, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield line, line_no


def _sniff_delimiter(text: str, path: str) -> str:
    """Pick the delimiter of a CSV from its first line: tab, semicolon or comma."""
    if path.lower().endswith(".tsv"):
        return "\t"
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(spec: NumberFile, text: str) -> Iterator[tuple[str, int]]:
    """Yield the chosen column's cells with their line numbers."""
    csv.field_size_limit(_MAX_FIELD_CHARS)
    delimiter = _sniff_delimiter(text, spec.path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = _rows(reader, spec.path)
    first = next(rows, None)
    if first is None:
        return
    first_line, first_row = first
    index, has_header = _column_index(spec, first_row)
    if index >= len(first_row):  # else one "empty" error per row, for every row of the file
        width = len(first_row)
        raise PlanError(
            f"{spec.path}:{first_line}: column {index + 1} is beyond the row, which has {width} "
            f"column{'s' if width != 1 else ''} (delimiter {delimiter!a}); set `column` "
            f"to 1..{width} or to a header name"
        )
    seen = short = 0  # data rows, and those without the column
    data = itertools.chain([] if has_header else [(first_line, first_row)], rows)
    for line_no, row in data:
        seen += 1
        short += index >= len(row)
        yield (row[index] if index < len(row) else ""), line_no
    if seen and short == seen:  # not one "empty" error per row: the column is not in the data
        raise PlanError(
            f"{spec.path}: no row under the header has column {index + 1} "
            f"({first_row[index].strip()!r}); the data rows are narrower than the header: "
            "check the delimiter and the export, or set `column`"
        )


def _rows(reader: Iterator[list[str]], path: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (line, row) pairs, skipping blank rows, with CSV errors as PlanErrors."""
    line_no = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise PlanError(f"{path}:{line_no + 1}: unreadable CSV ({exc}); fix the file") from exc
        line_no = getattr(reader, "line_num", line_no + 1)
        if any(cell.strip() for cell in row):
            yield line_no, row


def _column_index(spec: NumberFile, first_row: list[str]) -> tuple[int, bool]:
    """Resolve the column to a 0-based index; tell whether the first row is a header."""
    if isinstance(spec.column, str):
        wanted = spec.column.strip().lstrip("\ufeff").casefold()
        names = [cell.strip().lstrip("\ufeff").casefold() for cell in first_row]
        if wanted not in names:
            shown = ", ".join(repr(c.strip()) for c in first_row[:12])
            raise PlanError(
                f"{spec.path}:1: no column named {spec.column!r} in the header ({shown}); "
                "set `column` to one of these names or to a 1-based column number"
            )
        return names.index(wanted), True
    index = (spec.column or 1) - 1
    if spec.header is not None:
        return index, spec.header
    cell = first_row[index] if index < len(first_row) else ""
    # A header cell names the column ("TN", "Phone Number"); a number cell has digits.
    return index, not any(ch.isdigit() for ch in cell)
