"""Fuzz: number files (CSV or plain lists) as customers hand them over, and worse.

Property: `read_numbers` on any bytes - any encoding, BOMs, NUL bytes, binary junk, a 2 MB
line, unbalanced quotes, any column choice - yields (text, line) pairs with lines counting up
from 1, or raises a one-line exit-2 error naming the file; never another exception. Through
the CLI, the worst of them give `bwmigrate plan` an exit code and no traceback.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import examples, number_files

from orchestrator.errors import BwmigrateError, ExitCode
from orchestrator.plan.source import NumberFile, read_numbers

columns = st.one_of(
    st.none(), st.integers(1, 5), st.sampled_from(["TN", "Phone Number", "tn "]), st.text()
)


@settings(max_examples=examples(250), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=number_files(),
    path=st.sampled_from(["numbers.csv", "numbers.tsv", "numbers.txt", "NUMBERS"]),
    column=columns,
    header=st.none() | st.booleans(),
)
def test_any_bytes_give_numbered_cells_or_a_one_line_error(
    data: bytes, path: str, column: str | int | None, header: bool | None
) -> None:
    """Any file content: (text, line) pairs in line order, or a one-line PlanError."""
    spec = NumberFile(path=path, column=column, header=header)
    try:
        cells = list(read_numbers(spec, data))
    except BwmigrateError as exc:
        message = str(exc)
        assert exc.exit_code == ExitCode.BAD_INPUT
        assert message.startswith(path) and "\n" not in message, message[:300]
        return
    lines = [line for _, line in cells]
    assert all(isinstance(text, str) for text, _ in cells)
    assert lines == sorted(lines) and all(line >= 1 for line in lines), lines[:20]


@pytest.mark.parametrize(
    "data",
    [b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, b"9195550100" + b"9" * 3_000_000 + b"\n"],
    ids=["binary", "huge-line"],
)
def test_the_cli_refuses_or_reports_a_hostile_number_file_without_a_traceback(
    tmp_path: Path, data: bytes
) -> None:
    """`bwmigrate plan` on a binary or 3 MB-line number file: an exit code and no traceback."""
    (tmp_path / "n.txt").write_bytes(data)
    plan = tmp_path / "plan.toml"
    plan.write_text('name = "n"\naccount_id = "1"\n[[steps]]\nkind = "remove"\nfiles = ["n.txt"]\n')
    out = subprocess.run(
        [sys.executable, "-m", "orchestrator", "plan", str(plan), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode in (1, 2), out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    if out.returncode == 2:
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr[-2000:]
