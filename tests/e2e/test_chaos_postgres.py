"""Chaos on PostgreSQL: `bwmigrate run --state postgresql://...` SIGKILLed at seeded random
moments against a faulty sandbox process, resumed until done, then judged by the sandbox's
ledger and inventory as `test_chaos.py` judges a run on a state file.

The state lives in the real server (a unique plan schema, dropped after); a SIGKILLed run's
lease is a session advisory lock the server releases when the connection dies, so each resume
must be able to take it at once, reconcile the intents committed before each POST and go on.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pgstate import PG_URL, pg_location_in
from support import (
    SandboxProcess,
    Schedule,
    check_cutover,
    iter_report_problems,
    kill_and_resume,
    read_report,
    run_args,
    write_chaos_plan,
)

from orchestrator.state.postgres import PgLocation

SEED = 20261202
FAULTS = ("--order-delay-s", "0.2", "--seed", str(SEED), "--fault-5xx", "0.03",
          "--fault-drop", "0.15", "--drop-mode", "reset", "--list-lag-s", "0.5")  # fmt: skip


@pytest.fixture
def faulty_sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    with SandboxProcess(*FAULTS, log=tmp_path / "sandbox.log") as sb:
        yield sb


@pytest.fixture
def pg_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PgLocation]:
    """A unique plan schema in the test database; the runs' audit logs go to tmp_path/state."""
    yield from pg_location_in(tmp_path, monkeypatch)


def test_killed_and_resumed_cutover_on_postgresql_keeps_every_promise(
    faulty_sandbox: SandboxProcess, pg_state: PgLocation, tmp_path: Path
) -> None:
    """SIGKILL x3 and a SIGTERM mid-run on a PostgreSQL state: nothing lost, twice or unknown."""
    rng = random.Random(SEED)
    plan = write_chaos_plan(
        tmp_path / "plan", 200, rng, batch_size=10, rate_per_s=200, in_flight=6,
        poll_interval_s=0.05, fail_ratio=0.03, visibility_window_s=1.5,
    )  # fmt: skip
    faulty_sandbox.seed(plan.seed)
    state = str(pg_state)
    args = run_args(plan.path, faulty_sandbox.v2_url, state, "--json", "--seed", str(SEED))
    schedule = Schedule(early_s=(0.3, 1.0), late_s=(1.0, 2.0), sigterm_ratio=0.3)
    log = kill_and_resume(args, rng, 3, tmp_path / "runs.log", schedule=schedule)
    assert log.problems == [], (tmp_path / "runs.log").read_text()[-3000:]
    assert log.kills == 3, log
    assert log.final_summary is not None
    assert log.final_summary["numbers"]["pending"] == 0, log.final_summary
    rows = read_report(state)
    verdict = check_cutover(plan, rows, faulty_sandbox.ledger(), faulty_sandbox.inventory())
    assert verdict.ok, verdict.summary()
    assert list(iter_report_problems(rows)) == []
    assert (tmp_path / "state" / f"{pg_state.plan}.pg.audit.jsonl").exists()
    assert _in_postgresql(pg_state) == (len(rows), "4"), "the state is not in PostgreSQL"
    assert not list(tmp_path.rglob("*.db")), "a SQLite file was written"


def _in_postgresql(loc: PgLocation) -> tuple[int, str]:
    """The numbers rows and the schema version in the plan's schema, read straight from it."""
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        count = conn.execute(f'SELECT count(*) FROM "{loc.schema}".numbers').fetchone()
        version = conn.execute(
            f"SELECT value FROM \"{loc.schema}\".meta WHERE key='schema_version'"
        ).fetchone()
    assert count is not None and version is not None
    return count[0], version[0]
