"""What the state file adds up to: counts by status, the per-number report, the changed numbers.

Read-only queries for `status`, `report`, the run's summary and exit code, the engine's
counters and the rollback plan. Imports the schema and the database only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from orchestrator.state.database import Database
from orchestrator.state.schema import NumberStatus, OrderState, ReportRow, StepCounts, StepInfo

REPORT_BATCH = 5000
_REPORT_SQL = (
    "SELECT s.name, s.kind, n.e164, n.raw, n.source, n.status, o.remote_id, "
    "o.customer_order_id, n.error_code, n.error_description, n.note, n.attempts, "
    "n.updated_at, n.id FROM numbers n JOIN steps s ON s.id = n.step "
    "LEFT JOIN orders o ON o.id = n.order_id WHERE n.id > ? {also} ORDER BY n.id LIMIT ?"
)


def count_numbers(db: Database, steps: list[StepInfo]) -> list[StepCounts]:
    """Per-step number counts by status, in the order of `steps`."""
    out = {s.id: StepCounts(step=s.id, name=s.name, kind=s.kind.value) for s in steps}
    for step, status, n in db.query(
        "SELECT step, status, count(*) FROM numbers GROUP BY step, status"
    ):
        out[step].add(NumberStatus(status), n)
        out[step].total += n
    return list(out.values())


def count_orders(db: Database) -> dict[str, int]:
    """Orders by protocol state (an `OrderState` value -> count; absent states not listed)."""
    rows = db.query("SELECT state, count(*) FROM orders GROUP BY state")
    return {OrderState(r[0]).value: r[1] for r in rows}


def count_api_failed(db: Database) -> tuple[int, int]:
    """(finished, failed) numbers that went through the API (plan-invalid ones excluded)."""
    finished = (NumberStatus.SUCCEEDED, NumberStatus.FAILED, NumberStatus.NEEDS_ACTION)
    rows = db.query(
        "SELECT status, count(*) FROM numbers WHERE status IN (?, ?, ?) "
        "AND order_id IS NOT NULL GROUP BY status",
        [s.value for s in finished],
    )
    by: dict[str, int] = {r[0]: r[1] for r in rows}
    return sum(by.values()), by.get(NumberStatus.FAILED.value, 0)


def iter_succeeded_numbers(db: Database) -> Iterator[tuple[int, str]]:
    """(step id, E.164) of every number whose step succeeded, in step order."""
    rows = db.query(
        "SELECT step, e164 FROM numbers WHERE status=? ORDER BY step, seq",
        (NumberStatus.SUCCEEDED.value,),
    )
    yield from ((r[0], r[1]) for r in rows)


def iter_report(
    db: Database, batch: int = REPORT_BATCH, statuses: Sequence[NumberStatus] = ()
) -> Iterator[ReportRow]:
    """Every number in every step with its outcome (only those with one of `statuses`, if
    given), streamed in batches (by number id)."""
    also = f"AND n.status IN ({', '.join('?' * len(statuses))})" if statuses else ""
    sql = _REPORT_SQL.format(also=also)
    last = 0
    while True:
        rows = db.query(sql, (last, *(s.value for s in statuses), batch))
        if not rows:
            return
        for r in rows:
            yield ReportRow(*r[:13])
        last = rows[-1][13]


def finish_times(db: Database) -> list[tuple[float, int]]:
    """(second, how many) of the numbers that reached a status other than pending or in an
    open order, by the whole second at or after the moment they reached it (so never counted
    early; a run's length in rows at most)."""
    rows = db.query(
        "SELECT CAST(updated_at AS INTEGER) + (updated_at > CAST(updated_at AS INTEGER)), "
        "count(*) FROM numbers WHERE status NOT IN (?, ?) GROUP BY 1 ORDER BY 1",
        (NumberStatus.PENDING.value, NumberStatus.IN_ORDER.value),
    )
    return [(float(r[0]), r[1]) for r in rows]


def order_spans(db: Database) -> list[tuple[float, float | None]]:
    """(sent, finished) times of every order that was sent: sent is when its POST was first
    intended (or its id committed); finished is None while it is open."""
    rows = db.query(
        "SELECT coalesce(attempted_at, submitted_at), finished_at FROM orders "
        "WHERE coalesce(attempted_at, submitted_at) IS NOT NULL"
    )
    return [(r[0], r[1]) for r in rows]
