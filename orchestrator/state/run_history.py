"""The runs a state file has seen: one row per `bwmigrate run`, with what it cost in requests.

A run is recorded when it starts, its request counters while it runs (read by `status` during
the run), and how it ended. The target is recorded without credentials. Imports the database.
"""

from __future__ import annotations

from typing import Any

from orchestrator.state.database import Database

_RUN_COLUMNS = (
    "id",
    "started_at",
    "ended_at",
    "pid",
    "target",
    "exit_code",
    "requests",
    "rate_limited",
    "retried",
)


def start_run(db: Database, *, pid: int, target: str, now: float) -> int:
    """Record the start of a run; `target` must carry no credentials. Returns the run id."""
    with db.transaction() as c:
        cur = c.execute(
            "INSERT INTO runs(started_at, pid, target) VALUES (?, ?, ?)", (now, pid, target)
        )
        assert cur.lastrowid is not None
        return cur.lastrowid


def open_run_id(db: Database) -> int | None:
    """The latest run that has not ended (None outside a run)."""
    rows = db.query("SELECT max(id) FROM runs WHERE ended_at IS NULL")
    return rows[0][0] if rows else None


def update_run_counters(
    db: Database, run_id: int, *, requests: int, rate_limited: int, retried: int
) -> None:
    """Record a running run's request counters."""
    with db.transaction() as c:
        c.execute(
            "UPDATE runs SET requests=?, rate_limited=?, retried=? WHERE id=?",
            (requests, rate_limited, retried, run_id),
        )


def end_run(
    db: Database,
    run_id: int,
    *,
    exit_code: int,
    requests: int,
    rate_limited: int,
    retried: int,
    now: float,
) -> None:
    """Record how a run ended and what it cost in requests."""
    with db.transaction() as c:
        c.execute(
            "UPDATE runs SET ended_at=?, exit_code=?, requests=?, rate_limited=?, retried=? "
            "WHERE id=?",
            (now, exit_code, requests, rate_limited, retried, run_id),
        )


def read_runs(db: Database) -> list[dict[str, Any]]:
    """Every run so far, oldest first, as dicts keyed by column."""
    rows = db.query(f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs ORDER BY id")  # noqa: S608
    return [dict(zip(_RUN_COLUMNS, r, strict=True)) for r in rows]
