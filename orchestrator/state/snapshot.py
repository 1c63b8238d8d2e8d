"""The snapshot table: what the API said each planned number was before the run changed it.

One row per E.164 number (`snapshot`), written in batches as a snapshot reads them, so a
snapshot cut short resumes with the numbers it has not read (`snapshotted`). When every
planned number is in, `meta.snapshot_taken_at` (and `snapshot_target`) say so. Rows hold the
fields of `orchestrator.api.number_state.FIELDS` as text, and whether tndetails was read
(`detailed`) or only the in-service pages.

Added in schema version 4 (an additive table: `orchestrator.state.migration` creates it on
older files); a read-only command on an older file sees no snapshot. Rows never leave the
wing: callers get `NumberState` records. The table is declared in `orchestrator.state.tables`
(`SnapshotRow`) and created from `orchestrator.state.ddl`. Imports the database and the api's
record.
"""

from __future__ import annotations

from collections.abc import Iterable

from orchestrator.api.number_state import KEPT_FIELDS, NumberState
from orchestrator.state.database import Database

TABLE = "snapshot"
TAKEN_AT = "snapshot_taken_at"
TARGET = "snapshot_target"
_COLUMNS = KEPT_FIELDS


def has_table(db: Database) -> bool:
    """False on a file older than schema version 4 opened read-only."""
    return TABLE in db.table_names()


def save_states(db: Database, states: Iterable[NumberState], now: float) -> int:
    """Write (or replace) these numbers' rows in one transaction; how many."""
    rows = [(s.number, *(s.field(c) for c in _COLUMNS), int(s.detailed), now) for s in states]
    with db.transaction() as c:
        c.executemany(
            f"INSERT OR REPLACE INTO {TABLE} (e164, {', '.join(_COLUMNS)}, detailed, read_at) "  # noqa: S608
            f"VALUES ({', '.join('?' * (len(_COLUMNS) + 3))})",
            rows,
        )
    return len(rows)


def snapshotted(db: Database) -> set[str]:
    """The numbers the snapshot holds already."""
    if not has_table(db):
        return set()
    return {r[0] for r in db.query(f"SELECT e164 FROM {TABLE}")}  # noqa: S608


def read_states(db: Database) -> dict[str, NumberState]:
    """Every number of the snapshot, by E.164 number."""
    if not has_table(db):
        return {}
    rows = db.query(
        f"SELECT e164, {', '.join(_COLUMNS)}, detailed FROM {TABLE}"  # noqa: S608
    )
    return {
        r[0]: NumberState(r[0], **dict(zip(_COLUMNS, r[1:-1], strict=True)), detailed=bool(r[-1]))
        for r in rows
    }


def mark_taken(db: Database, target: str, now: float) -> None:
    """Every planned number is in: record when, and against which target."""
    with db.transaction() as c:
        c.executemany(
            "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
            [(TAKEN_AT, repr(now)), (TARGET, target)],
        )
