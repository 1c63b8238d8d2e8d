"""Kills that hit `bwmigrate run` before the engine runs: a kill while the state file is being
created leaves a file the next run can use.
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from support import ENV, SandboxProcess, run_args

from orchestrator.store import Store


def test_state_file_whose_creation_was_killed_is_completed_by_the_next_run(tmp_path: Path) -> None:
    """A kill between creating the tables and writing the schema version must not brick the
    state file: the next run finishes creating it and runs the plan."""
    state = tmp_path / "state.db"
    Store.open(state).close()
    with sqlite3.connect(state) as db:  # what such a kill left: some tables, an empty meta
        db.execute("DELETE FROM meta")
        db.execute("DROP TABLE steps")
        db.execute("DROP TABLE runs")
    plan = tmp_path / "plan.toml"
    plan.write_text(
        'name = "partial"\naccount_id = "9900012"\n'
        '[[steps]]\nkind = "import"\nsite_id = "743"\nnumbers = ["+19195550100"]\n'
    )
    sb = SandboxProcess("--order-delay-s", "0")
    try:
        out = subprocess.run(
            [*run_args(plan, sb.v2_url, state), "--json"],
            env=ENV,
            capture_output=True,
            text=True,
            timeout=120,
        )
        orders = sb.ledger()["orders"]
    finally:
        sb.stop()
    assert out.returncode == 0, out.stderr
    assert [o["numbers"] for o in orders] == [["+19195550100"]]
