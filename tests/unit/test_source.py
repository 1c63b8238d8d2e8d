"""Reading number files: encodings, CSV columns, headers, line numbers."""

from __future__ import annotations

import pytest

from orchestrator.errors import PlanError
from orchestrator.plan.source import NumberFile, read_numbers


def _read(spec: NumberFile, data: bytes) -> list[tuple[str, int]]:
    return list(read_numbers(spec, data))


def test_plain_list_skips_blank_lines_and_comments_and_keeps_line_numbers() -> None:
    """A plain list yields one entry per non-blank, non-comment line with its real line number."""
    data = b"# header comment\n9195551234\n\n  +14155550100 \n# note\n6672286710\n"
    assert _read(NumberFile("a.txt"), data) == [
        ("9195551234", 2),
        ("  +14155550100 ", 4),
        ("6672286710", 6),
    ]


def test_named_column_with_bom_and_case_insensitive_header() -> None:
    """A named column is found case-insensitively even behind a UTF-8 BOM."""
    data = "\ufeffRef,Phone Number\nA,919 555 1234\nB,(415) 555-0100\n".encode()
    assert _read(NumberFile("a.csv", column="phone number"), data) == [
        ("919 555 1234", 2),
        ("(415) 555-0100", 3),
    ]


def test_missing_named_column_lists_available_columns() -> None:
    """Asking for a column the header lacks names the file, the line and the columns present."""
    with pytest.raises(PlanError, match=r"a\.csv:1: no column named 'TN'.*'Ref', 'Phone'"):
        _read(NumberFile("a.csv", column="TN"), b"Ref,Phone\nA,9195551234\n")


def test_numbered_column_detects_header_row() -> None:
    """A numbered column skips a first row whose cell has no digits (a header)."""
    data = b"name,number\nx,9195551234\n"
    assert _read(NumberFile("a.csv", column=2), data) == [("9195551234", 2)]


def test_numbered_column_without_header_keeps_first_row() -> None:
    """A numbered column keeps the first row when it already holds a number."""
    data = b"x,9195551234\ny,4155550100\n"
    assert _read(NumberFile("a.csv", column=2), data) == [("9195551234", 1), ("4155550100", 2)]


def test_explicit_header_false_keeps_letter_first_row() -> None:
    """`header = false` keeps a first row even when it has no digits (so it is reported)."""
    data = b"x,CALL-ME\ny,4155550100\n"
    rows = _read(NumberFile("a.csv", column=2, header=False), data)
    assert rows == [("CALL-ME", 1), ("4155550100", 2)]


def test_semicolon_delimited_csv_from_european_excel() -> None:
    """Semicolon-separated exports are read with the right delimiter."""
    data = b"Ref;TN\nA;+441224003018\n"
    assert _read(NumberFile("a.csv", column="TN"), data) == [("+441224003018", 2)]


def test_short_row_yields_empty_cell() -> None:
    """A row without the chosen column yields an empty cell, reported later as empty."""
    data = b"Ref,TN\nA\nB,9195551234\n"
    assert _read(NumberFile("a.csv", column="TN"), data) == [("", 2), ("9195551234", 3)]


def test_utf16_export_is_decoded() -> None:
    """Excel's 'Unicode text' (UTF-16 with BOM) is decoded."""
    data = "TN\n9195551234\n".encode("utf-16")
    assert _read(NumberFile("a.csv", column="TN"), data) == [("9195551234", 2)]


def test_cp1252_file_is_decoded_without_error() -> None:
    """A cp1252 export with an accented name still yields its numbers."""
    data = "Name,TN\nZo\xeb,9195551234\n".encode("cp1252")
    assert _read(NumberFile("a.csv", column="TN"), data) == [("9195551234", 2)]


def test_binary_file_is_refused_with_a_clear_error() -> None:
    """A binary file (NUL bytes) is refused, naming the file and what to do."""
    with pytest.raises(PlanError, match=r"x\.xlsx: looks like a binary file.*export it as CSV"):
        _read(NumberFile("x.xlsx"), b"PK\x03\x04\x00\x00binary")


def test_multiline_quoted_field_reports_line_of_record_end() -> None:
    """Line numbers follow physical lines even when a quoted field spans two lines."""
    data = b'Note,TN\n"two\nlines",9195551234\nx,4155550100\n'
    assert _read(NumberFile("a.csv", column="TN"), data) == [("9195551234", 3), ("4155550100", 4)]


def test_oversized_field_is_a_plan_error_with_location() -> None:
    """A cell beyond the field limit becomes a PlanError naming file and line, not a crash."""
    data = b'TN\n"' + b"9" * (2 << 20) + b'"\n'
    with pytest.raises(PlanError, match=r"a\.csv:\d+: unreadable CSV"):
        _read(NumberFile("a.csv", column="TN"), data)


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        ("a.txt", b"", "empty \\(0 bytes\\)"),
        ("a.csv", b"", "empty \\(0 bytes\\)"),
        ("a.txt", b"\n  \n\n", "only blank lines"),
        ("a.txt", b"# numbers go here\n\n", "header row, blank lines or comments"),
        ("a.csv", b"TN\n", "header row, blank lines or comments"),
        ("a.csv", "\ufeffName,TN\r\n\r\n".encode(), "header row, blank lines or comments"),
    ],
)
def test_a_file_without_numbers_is_one_plan_error(name: str, data: bytes, why: str) -> None:
    """An empty, blank, comment-only or header-only number file is refused in one error naming
    the file and what to do, never read as a step of 0 numbers (issue 12 item 8)."""
    column = "TN" if data.startswith(("\ufeffName".encode(), b"TN")) else None
    with pytest.raises(PlanError, match=rf"^{name}: .*{why}.*remove the file from the plan"):
        _read(NumberFile(name, column=column), data)


def test_a_column_beyond_the_rows_is_one_error_not_one_per_row() -> None:
    """`column = 5` on a 2-column file is one PlanError naming the width and the delimiter,
    instead of an "empty" error for each of its rows (issue 12 item 8)."""
    data = b"".join(b"A,+1919555%04d\n" % i for i in range(1000))
    with pytest.raises(PlanError, match=r"^a\.csv:1: column 5 is beyond the row, which has 2 "
                       r"columns \(delimiter ','\); set `column` to 1\.\.2"):  # fmt: skip
        _read(NumberFile("a.csv", column=5), data)


def test_a_named_column_no_data_row_has_is_one_error() -> None:
    """A header naming the column over rows that all stop before it (a wrong delimiter in the
    data, a broken export) is one PlanError, not an "empty" error per row (issue 12 item 8)."""
    data = b"Name,TN\n" + b"".join(b"A;+1919555%04d\n" % i for i in range(1000))
    with pytest.raises(PlanError, match=r"^a\.csv: no row under the header has column 2 \('TN'\)"):
        _read(NumberFile("a.csv", column="TN"), data)
