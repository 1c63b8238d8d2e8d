"""A state file written by an earlier release under the CLI: `status` and `report` read a
version 2 file as it is and say in one line that a version 1 file needs upgrading; the next
`run` upgrades it and resumes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from planfiles import IMPORT_DETAILS
from statefiles import downgrade_state
from support import ENV, SandboxProcess, cli_args, read_report, run_args


def _write_plan(folder: Path) -> Path:
    plan = folder / "plan.toml"
    plan.write_text(
        'name = "upgrade"\naccount_id = "9900012"\nbatch_size = 2\n'
        "[rate]\nrequests_per_s = 200\npoll_interval_s = 0.05\n"
        f'[[steps]]\nkind = "import"\nsite_id = "743"\n{IMPORT_DETAILS}enable_messaging = true\n'
        'numbers = ["+19199910001", "+19199910002", "+19199910003", "letters!"]\n'
    )
    return plan


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_args(*args), env=ENV, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("version", [1, 2])
def test_an_older_state_file_is_read_or_refused_read_only_and_upgraded_by_run(
    tmp_path: Path, version: int
) -> None:
    """Read-only commands read a version 2 file as it is and refuse a version 1 file with one
    line naming the version; `run` upgrades either in place, sends nothing for a finished plan,
    and the report reads as before."""
    plan, state = _write_plan(tmp_path), tmp_path / "state.db"
    sb = SandboxProcess("--order-delay-s", "0")
    try:
        first = subprocess.run(
            run_args(plan, sb.v2_url, state), env=ENV, capture_output=True, text=True, timeout=120
        )
        assert first.returncode == 1, first.stderr  # "letters!" is a failed number
        report = read_report(state)
        downgrade_state(state, version)
        html = ("report", "--state", str(state), "--html", str(tmp_path / "r.html"))
        for command in (("status", "--state", str(state)), ("report", "--state", str(state)), html):
            answer = _cli(*command)
            if version == 2:
                assert answer.returncode == 0, answer.stderr
                continue
            assert answer.returncode == 2, answer.stderr
            (line,) = answer.stderr.strip().splitlines()
            assert "schema version 1 needs upgrading to 3" in line
        sent = sb.ledger()["requests"]["total"]
        again = subprocess.run(
            run_args(plan, sb.v2_url, state), env=ENV, capture_output=True, text=True, timeout=120
        )
        assert again.returncode == 1, again.stderr
        assert sb.ledger()["requests"]["total"] == sent
    finally:
        sb.stop()
    assert _cli("status", "--state", str(state)).returncode == 0
    assert read_report(state) == report
