"""What the command line says: counts with their nouns in the singular for one, usage errors in
one line like every other error, errors as JSON with --json, and tables that never cut a step
name (issue 12 item 12)."""

from __future__ import annotations

import json
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
ONE_PLURAL = re.compile(
    r"\b1 (orders|numbers|duplicates|runs|rows|exchanges|probes|steps|files|findings|calls)\b"
)


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        cwd=cwd, env=ENV, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _one_of_each(folder: Path) -> None:
    """A plan of one import step: one number sent (one order), one duplicate dropped."""
    (folder / "n.txt").write_text("+14352150001\n+1 435 215 0001\n")
    (folder / "p.toml").write_text(
        'name = "p"\naccount_id = "9900012"\ncanary = 0\n[rate]\nrequests_per_s = 200\n'
        'poll_interval_s = 0.05\n[[steps]]\nkind = "import"\nsite_id = "743"\n'
        f'{IMPORT_DETAILS}files = ["n.txt"]\n'
    )


def test_one_of_a_thing_is_said_in_the_singular(tmp_path: Path, sandbox: RunningSandbox) -> None:
    """plan, run, status, report and scan say "1 duplicate", "1 run", "1 row", never "1 rows"."""
    _one_of_each(tmp_path)
    (tmp_path / "code.py").write_text('URL = "https://dashboard.bandwidth.com/api/v1/x"\n')
    said = []
    for args in (
        ("plan", "p.toml"),
        ("run", "p.toml", "--target", f"{sandbox.base_url}/api/v2", "--yes"),
        ("status", "--state", "state/p.db"),
        ("report", "--state", "state/p.db", "--out", "r.csv"),
        ("report", "--state", "state/p.db", "--audit", "--out", "a.csv"),
        ("scan", "code.py"),
    ):
        done = _cli(tmp_path, *args)
        assert done.returncode in (0, 1), (args, done.stderr)
        said.append(done.stdout + done.stderr)
    text = "\n".join(said)
    assert "1 duplicate dropped" in text and "1 run;" in text, text
    assert "1 finding in 1 file" in text, text
    m = ONE_PLURAL.search(text)
    assert not m, text[max(0, m.start() - 300) : m.end() + 100]


USAGE_ERRORS = [
    ("report", "--number", "+14352150001"),  # a UsageError the command raises
    ("report", "--bogus"),  # an unknown option
    ("report", "--format", "xml"),  # a bad choice
    ("run",),  # a missing argument
    ("nope",),  # an unknown command
    ("--bogus",),  # an unknown option of bwmigrate itself
]


def test_usage_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    """click's usage errors read like every other error: one line, `bwmigrate: error:`, the
    command's --help named, exit 2 (the documented code for bad usage)."""
    for args in USAGE_ERRORS:
        done = _cli(tmp_path, *args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stdout == "", (args, done.stdout)
        assert done.stderr.count("\n") == 1, (args, done.stderr)
        assert done.stderr.startswith("bwmigrate: error: ") and "--help" in done.stderr, done.stderr


def test_with_json_errors_are_json_on_stdout_too(tmp_path: Path) -> None:
    """With --json, an error (a usage error, a missing plan, a missing state file) is also one
    JSON object on stdout with the message and the exit code; stderr keeps its one line."""
    cases = [
        ("plan", "missing.toml", "--json"),
        ("status", "--state", "missing.db", "--json"),
        ("status", "--json", "--bogus"),
        ("doctor", "--json", "--sandbox", "--target", "https://x.example/api/v2"),
    ]
    for args in cases:
        done = _cli(tmp_path, *args)
        assert done.returncode == 2, (args, done.stderr)
        error = json.loads(done.stdout)["error"]
        assert error["exit_code"] == 2 and error["message"], (args, error)
        assert done.stderr == f"bwmigrate: error: {error['message']}\n", (args, done.stderr)


def test_bare_bwmigrate_still_prints_its_help() -> None:
    """`bwmigrate` with no command prints the help naming every command (not an error line)."""
    done = _cli(
        Path.cwd(),
    )
    assert (
        "Commands:" in done.stdout + done.stderr and "Usage: bwmigrate" in done.stdout + done.stderr
    )


def test_a_dropped_duplicate_is_in_the_report_with_its_reason(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    """Nothing disappears: the duplicate a plan drops is a report row, skipped, with error code
    DUPLICATE and the line of the listing that was sent; every line read is a row."""
    _one_of_each(tmp_path)
    ran = _cli(tmp_path, "run", "p.toml", "--target", f"{sandbox.base_url}/api/v2", "--yes")
    assert ran.returncode == 0, ran.stderr
    done = _cli(tmp_path, "report", "--state", "state/p.db", "--format", "json")
    rows = [r for r in json.loads(done.stdout) if r["step"] == "import-1"]
    assert [(r["status"], r["source"]) for r in rows] == [
        ("succeeded", "n.txt:1"),
        ("skipped", "n.txt:2"),
    ]
    dup = rows[1]
    assert (dup["number"], dup["input"], dup["error_code"]) == (
        "+14352150001",
        "+1 435 215 0001",
        "DUPLICATE",
    )
    assert "n.txt:1" in dup["error_description"] and dup["order_id"] == ""
