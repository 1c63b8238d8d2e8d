"""`orchestrator.text`: the one printable-text function and the one CSV-cell function."""

from __future__ import annotations

import pytest

from orchestrator.text import counted, csv_cell, printable

EXECUTED_BY_SPREADSHEETS = [
    '=HYPERLINK("http://evil.example","click")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "+1 (919) 555-0100",
    "-",
    "+",
    "\t=1+1",
    "\r=1+1",
    "=1",
]


@pytest.mark.parametrize("cell", EXECUTED_BY_SPREADSHEETS)
def test_a_cell_a_spreadsheet_would_execute_is_prefixed_with_a_quote(cell: str) -> None:
    """Cells starting with =, @, tab, CR, or +/- and not a plain number get a leading `'`."""
    safe = csv_cell(cell)
    assert safe.startswith("'")
    assert safe[1:] == printable(cell)


@pytest.mark.parametrize(
    "cell",
    ["+14352150001", "+442071838750", "-5", "+12", "-3.25", "9195550100", "", "succeeded",
     "INVALID_INPUT", "2026-12-01T10:00:00+00:00", "a=b", "x@y"],
)  # fmt: skip
def test_plain_numbers_and_ordinary_text_stay_exactly_as_they_are(cell: str) -> None:
    """E.164 numbers, plain numbers and text not starting with a formula character are kept."""
    assert csv_cell(cell) == cell


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("a\rb\nc\td", "a\\rb\\nc\\td"),
        ("bell\x07", "bell\\x07"),
        ("\u202egnp.exe", "\\u202egnp.exe"),
        ("\x9b2J", "\\x9b2J"),
    ],
)
def test_printable_shows_control_characters_as_escapes(text: str, shown: str) -> None:
    """ESC, CR, LF, tab, BEL, C1 controls and bidi overrides become visible escapes."""
    assert printable(text) == shown
    assert printable(text).isprintable()


def test_printable_keeps_printable_text_including_non_ascii() -> None:
    """Accents, emoji and spaces are printable and kept."""
    assert printable("Zoë ✓ +1 919 555 0100") == "Zoë ✓ +1 919 555 0100"


def test_a_csv_cell_carries_no_control_character() -> None:
    """An escape sequence inside a cell is shown, not emitted."""
    assert csv_cell("ok\x1b]8;;http://evil\x07") == "ok\\x1b]8;;http://evil\\x07"


@pytest.mark.parametrize(
    ("n", "noun", "plural", "said"),
    [
        (1, "order", None, "1 order"),
        (0, "order", None, "0 orders"),
        (2, "duplicate", None, "2 duplicates"),
        (1, "entry", "entries", "1 entry"),
        (5, "entry", "entries", "5 entries"),
        (-1, "number", None, "-1 numbers"),
    ],
)
def test_counted_says_one_noun_in_the_singular_and_the_rest_in_the_plural(
    n: int, noun: str, plural: str | None, said: str
) -> None:
    """`counted` pluralises every count but exactly one."""
    assert counted(n, noun, plural) == said
