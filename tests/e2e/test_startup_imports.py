"""`--help` and `--version` import no heavy library: the database, HTTP, server and XML stacks
load only inside the commands that use them (issue 12 item 13). Creating and reading a state
(`run`, `status`, `report`) imports no ORM either: the DDL comes precompiled from
`orchestrator.state.ddl`, so sqlmodel, pydantic and SQLAlchemy stay out of every command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pgstate import drop_plans, unique_location
from planfiles import IMPORT_DETAILS
from support import ENV, SandboxProcess

from orchestrator.cli import _COMMANDS

HEAVY = frozenset({"sqlalchemy", "sqlmodel", "httpx", "starlette", "uvicorn", "lxml"})
ORM = frozenset({"sqlalchemy", "sqlmodel", "pydantic", "pydantic_core"})


def _imported(*args: str) -> set[str]:
    """Top-level packages `python -X importtime -m orchestrator ARGS` imported (exit 0)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "orchestrator", *args],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    assert "click" in names, "the importtime report was not read"
    return names


@pytest.mark.parametrize("command", sorted(_COMMANDS))
def test_help_of_every_command_imports_no_heavy_library(command: str) -> None:
    """`bwmigrate CMD --help` loads neither SQLAlchemy, httpx, starlette, uvicorn nor lxml."""
    assert _imported(command, "--help") & HEAVY == set()


@pytest.mark.parametrize("args", [("--version",), ("--help",)])
def test_version_and_top_level_help_import_no_heavy_library(args: tuple[str, ...]) -> None:
    """`bwmigrate --version` and `bwmigrate --help` load no heavy library either."""
    assert _imported(*args) & HEAVY == set()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_run_status_and_report_on_a_state_import_no_orm(tmp_path: Path, backend: str) -> None:
    """A `run` that creates the state (tables, indexes, CHECK constraints), then `status` and
    `report` reading it, load neither sqlmodel, pydantic nor SQLAlchemy, on SQLite and on
    PostgreSQL; the run did create the state (status reads its numbers)."""
    plan = tmp_path / "plan.toml"
    plan.write_text(
        'name = "imports"\naccount_id = "9900012"\nbatch_size = 2\n'
        "[rate]\nrequests_per_s = 200\npoll_interval_s = 0.05\n"
        f'[[steps]]\nkind = "import"\nsite_id = "743"\n{IMPORT_DETAILS}'
        'numbers = ["+19199930001", "+19199930002"]\n'
    )
    loc = unique_location()
    state = str(tmp_path / "state.db") if backend == "sqlite" else str(loc)
    try:
        with SandboxProcess("--order-delay-s", "0") as sb:
            run = ("run", str(plan), "--target", sb.v2_url, "--state", state, "--yes", "-q")
            assert _imported(*run) & ORM == set()
        assert _imported("status", "--state", state) & ORM == set()
        assert _imported("report", "--state", state) & ORM == set()
        status = subprocess.run(
            [sys.executable, "-m", "orchestrator", "status", "--state", state, "--json"],
            env=ENV, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["numbers"]["succeeded"] == 2, status.stdout
    finally:
        drop_plans(loc)
