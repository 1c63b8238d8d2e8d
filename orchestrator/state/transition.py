"""Orders and the exactly-once protocol's transitions up to the outcome.

    planned --intent committed--> submitting --id committed--> submitted --outcome--> done
        ^                              |
        +-- proved absent, or ---------+
            provably never sent

Each transition is one committed transaction (`synchronous=FULL`) before the engine acts on it:
the intent to POST is durable before the request leaves, and the order id before the first
poll, which is what makes submission exactly-once across crashes. The outcome (`done`) is
`orchestrator.state.outcome`'s. Also reads orders back as `OrderRecord`s.

Imports the schema and the database only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orchestrator.state.database import Database
from orchestrator.state.schema import NumberStatus, OrderRecord, OrderState

_ORDER_COLUMNS = (
    "id, step, idx, customer_order_id, state, remote_id, remote_status, size, "
    "submit_attempts, attempted_at"
)
_PLANNED = OrderState.PLANNED.value
_SUBMITTING = OrderState.SUBMITTING.value
_SUBMITTED = OrderState.SUBMITTED.value


def _order(r: Sequence[Any]) -> OrderRecord:
    """An `orders` row as a record."""
    return OrderRecord(
        id=r[0],
        step=r[1],
        idx=r[2],
        customer_order_id=r[3],
        state=OrderState(r[4]),
        remote_id=r[5],
        remote_status=r[6],
        size=r[7],
        submit_attempts=r[8],
        attempted_at=r[9],
    )


def read_orders(
    db: Database, state: OrderState | None = None, step: int | None = None
) -> list[OrderRecord]:
    """Orders in a state and/or of a step (all when not given), by step then index."""
    clauses: list[str] = []
    params: list[object] = []
    if state is not None:
        clauses.append("state = ?")
        params.append(state.value)
    if step is not None:
        clauses.append("step = ?")
        params.append(step)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = db.query(
        f"SELECT {_ORDER_COLUMNS} FROM orders{where} ORDER BY step, idx",  # noqa: S608
        params,
    )
    return [_order(r) for r in rows]


def read_order_numbers(db: Database, order_id: int) -> list[str]:
    """The E.164 numbers of an order, in plan order."""
    rows = db.query("SELECT e164 FROM numbers WHERE order_id=? ORDER BY seq", (order_id,))
    return [r[0] for r in rows]


def read_order_errors(db: Database, order_id: int) -> list[tuple[str | None, str | None]]:
    """The distinct (code, description) pairs recorded on an order's numbers."""
    rows = db.query(
        "SELECT DISTINCT error_code, error_description FROM numbers "
        "WHERE order_id=? AND error_code IS NOT NULL",
        (order_id,),
    )
    return [(r[0], r[1]) for r in rows]


def mark_submitting(db: Database, order_id: int, now: float) -> None:
    """Commit the intent to POST a planned order, its numbers now in it (durable before the
    request is sent); counts the attempt on the order and on each number."""
    with db.transaction() as c:
        c.execute(
            "UPDATE orders SET state=?, submit_attempts=submit_attempts+1, attempted_at=? "
            "WHERE id=? AND state=?",
            (_SUBMITTING, now, order_id, _PLANNED),
        )
        c.execute(
            "UPDATE numbers SET status=?, attempts=attempts+1, updated_at=? "
            "WHERE order_id=? AND status IN (?, ?)",
            (
                NumberStatus.IN_ORDER.value,
                now,
                order_id,
                NumberStatus.PENDING.value,
                NumberStatus.IN_ORDER.value,
            ),
        )


def mark_submitted(
    db: Database, order_id: int, remote_id: str, remote_status: str | None, now: float
) -> None:
    """Commit the order id the API gave (or that a lookup found) before polling it."""
    with db.transaction() as c:
        c.execute(
            "UPDATE orders SET state=?, remote_id=?, remote_status=?, submitted_at=?, "
            "last_error=NULL WHERE id=?",
            (_SUBMITTED, remote_id, remote_status, now, order_id),
        )


def mark_absent(db: Database, order_id: int, reason: str) -> None:
    """A `submitting` order proved absent remotely: back to planned, to be posted again."""
    with db.transaction() as c:
        c.execute(
            "UPDATE orders SET state=?, last_error=? WHERE id=? AND state=?",
            (_PLANNED, reason, order_id, _SUBMITTING),
        )


def mark_unsent(db: Database, order_id: int, reason: str) -> None:
    """A `submitting` order whose POST provably never reached the API (not connected, or the
    credentials refused before the body was read): back to planned as if the attempt had not
    been made (its count taken back; on a first attempt its numbers pending again)."""
    with db.transaction() as c:
        changed = c.execute(
            "UPDATE orders SET state=?, last_error=?, submit_attempts=max(submit_attempts-1, 0) "
            "WHERE id=? AND state=?",
            (_PLANNED, reason, order_id, _SUBMITTING),
        ).rowcount
        if not changed:
            return
        c.execute(
            "UPDATE numbers SET attempts=max(attempts-1, 0), status=CASE WHEN "
            "(SELECT submit_attempts FROM orders WHERE id=?)=0 THEN ? ELSE status END "
            "WHERE order_id=? AND status=?",
            (order_id, NumberStatus.PENDING.value, order_id, NumberStatus.IN_ORDER.value),
        )


def forget_remote_orders(db: Database, reason: str) -> int:
    """Put every submitting and submitted order back to planned (the remote side lost them:
    a rehearsal's embedded sandbox was restarted). Never used against a real API."""
    with db.transaction() as c:
        return c.execute(
            "UPDATE orders SET state=?, remote_id=NULL, remote_status=NULL, last_error=? "
            "WHERE state IN (?, ?)",
            (_PLANNED, reason, _SUBMITTING, _SUBMITTED),
        ).rowcount


def note_order_error(db: Database, order_id: int, message: str) -> None:
    """Remember the last error seen for an order (shown by status and report)."""
    with db.transaction() as c:
        c.execute("UPDATE orders SET last_error=? WHERE id=?", (message, order_id))
