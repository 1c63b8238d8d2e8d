"""The CLI's tables never cut a step name or a count (issue 12 item 12): a long name folds onto
more lines on a narrow terminal, off a terminal the table is as wide as its cells."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from orchestrator.cli.progress import print_summary
from orchestrator.state.schema import StepCounts

NAME = "hosted-numbers-of-the-east-region-moved-in-the-first-wave-0001"  # 62 characters
NAMES = [NAME, f"{NAME}:sms-on", f"{NAME}:sms-on:a2p"]


def _steps() -> list[StepCounts]:
    return [
        StepCounts(i, name, "messaging", total=123456, pending=1, in_order=2, succeeded=123450,
                   failed=1, skipped=1, needs_action=1, unknown=0)
        for i, name in enumerate(NAMES)
    ]  # fmt: skip


def _step_cells(text: str) -> list[str]:
    """Each row's step column, its folded lines joined (rows start after the header rule)."""
    rows: list[str] = []
    body = text.split("━\n", 1)[1]
    for line in body.splitlines():
        if "│" not in line:
            continue
        cell, _kind, total, *_ = line.split("│")
        if total.strip():  # a row's first line has its counts
            rows.append(cell.strip())
        else:
            rows[-1] += cell.strip()
    return rows


@pytest.mark.parametrize("width", [40, 60, 100])
def test_a_narrow_terminal_folds_step_names_and_cuts_nothing(width: int) -> None:
    """On a terminal of any width, every step name and every count is whole."""
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=True, color_system=None)
    print_summary(_steps(), console)
    text = out.getvalue()
    assert "…" not in text, text
    assert _step_cells(text) == [*NAMES, "all"], text
    assert text.count("370350") == 1 and text.count("123450") == 3  # succeeded: all, each step


def test_off_a_terminal_the_table_is_as_wide_as_its_cells() -> None:
    """Piped or logged, a step name is on one line, whole."""
    out = io.StringIO()
    print_summary(_steps(), Console(file=out, width=80, color_system=None))
    lines = out.getvalue().splitlines()
    for name in NAMES:
        assert any(line.startswith(name + " ") for line in lines), lines
    assert "a number counts once in each step" in out.getvalue()
