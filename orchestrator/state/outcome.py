"""An order's outcome: its numbers' statuses, the order done, and the chain, in one transaction.

When an order reaches a terminal status, its numbers the API refused get their status (failed,
or needs_action) with the API's code and description; every other number of the order gets the
rest's status (succeeded, failed or unknown), warnings become notes, and the order is `done`.
If the order's step has a chained step (an import's SMS-on step, an SMS step's A2P step), the
same transaction plans the chained order for the numbers that succeeded and skips, in every
step down the chain, the numbers that did not: a crash can never leave an outcome without its
chained order.

Imports the api's status meanings, the plan's chain names, the schema and the database.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Sequence

from orchestrator.api.status import OrderPhase, order_phase
from orchestrator.plan import StepKind, a2p_customer_order_id, chained_customer_order_id
from orchestrator.state.database import Database
from orchestrator.state.schema import FailedNumber, NumberStatus, OrderRecord, OrderState, Outcome

_REST_OF_PHASE = {
    OrderPhase.SUCCEEDED: NumberStatus.SUCCEEDED,
    OrderPhase.FAILED: NumberStatus.FAILED,
    OrderPhase.UNKNOWN: NumberStatus.UNKNOWN,
    OrderPhase.OPEN: NumberStatus.UNKNOWN,  # an open order is never committed as terminal
}
_IN_ORDER = NumberStatus.IN_ORDER.value
_SUCCEEDED = NumberStatus.SUCCEEDED.value
_SET_OUTCOME = (
    "UPDATE numbers SET status=?, error_code=?, error_description=?, note=coalesce(?, note), "
    "updated_at=? WHERE order_id=? AND status=?"
)


def record_outcome(
    db: Database,
    order_id: int,
    remote_status: str,
    failures: Sequence[FailedNumber],
    order_error: tuple[str, str] | None,
    warnings: Sequence[tuple[str, str]],
    now: float,
    *,
    rest: NumberStatus | None = None,
    rest_note: str | None = None,
) -> Outcome:
    """Commit an order's terminal status and its per-number outcomes in one transaction.

    Numbers listed in `failures` get their status (failed, or needs_action) with the API's
    code and description. Every other number of the order gets `rest` (by default what
    `order_phase(remote_status)` says: succeeded for COMPLETE/PARTIAL, failed for
    FAILED/EXCEPTION/REJECTED, unknown otherwise), with `order_error` unless it succeeded.
    If the order's step has a chained step, a chained order is planned for the numbers that
    succeeded and the chained step's other numbers of this order are skipped.
    """
    status = remote_status.upper()
    rest = rest or _REST_OF_PHASE[order_phase(status)]
    with db.transaction() as c:
        step, customer_order_id = c.execute(
            "SELECT step, customer_order_id FROM orders WHERE id=?", (order_id,)
        ).fetchone()
        moved = _set_refused(c, order_id, failures, now)
        c.executemany(
            "UPDATE numbers SET note=? WHERE order_id=? AND e164=?",
            ((desc, order_id, number) for number, desc in warnings),
        )
        code, desc = _rest_error(status, rest, order_error)
        moved[rest] += c.execute(
            _SET_OUTCOME, (rest.value, code, desc, rest_note, now, order_id, _IN_ORDER)
        ).rowcount
        c.execute(
            "UPDATE orders SET state=?, remote_status=?, finished_at=?, last_error=? WHERE id=?",
            (OrderState.DONE.value, status, now, _last_error(order_error), order_id),
        )
        chained, skipped = _chain(c, step, order_id, customer_order_id, now)
    return Outcome(
        succeeded=moved[NumberStatus.SUCCEEDED],
        failed=moved[NumberStatus.FAILED],
        skipped=skipped,
        chained_order=chained,
        needs_action=moved[NumberStatus.NEEDS_ACTION],
        unknown=moved[NumberStatus.UNKNOWN],
    )


def _set_refused(
    c: sqlite3.Connection, order_id: int, failures: Sequence[FailedNumber], now: float
) -> Counter[NumberStatus]:
    """The numbers the API refused get their status, code and description: how many moved."""
    moved: Counter[NumberStatus] = Counter()
    for f in failures:
        status = NumberStatus(f.status)
        moved[status] += c.execute(
            "UPDATE numbers SET status=?, error_code=?, error_description=?, "
            "note=coalesce(?, note), updated_at=? WHERE order_id=? AND e164=? AND status=?",
            (status.value, f.code, f.description, f.note, now, order_id, f.number, _IN_ORDER),
        ).rowcount
    return moved


def _rest_error(
    status: str, rest: NumberStatus, order_error: tuple[str, str] | None
) -> tuple[str | None, str | None]:
    """The (code, description) the rest of the order's numbers get: none when they succeeded,
    else the order's error, else the order's status itself."""
    if rest is NumberStatus.SUCCEEDED:
        return None, None
    code, desc = order_error or (None, None)
    if code is None:
        return status, f"order {status.lower()} without per-number errors"
    return code, desc


def _last_error(order_error: tuple[str, str] | None) -> str | None:
    """The order-level error the order remembers (`code: description`), if the API gave one."""
    return None if order_error is None else f"{order_error[0]}: {order_error[1]}"


def _chain(
    c: sqlite3.Connection, step: int, order_id: int, customer_order_id: str, now: float
) -> tuple[OrderRecord | None, int]:
    """Plan the chained order for an order's successes; skip the rest (and their own chain).

    The source is an import (its chained step turns SMS on) or a step turning SMS on (its
    chained step sends the A2P settings). Returns the chained order (None when nothing
    succeeded or nothing is chained) and how many numbers the chained step skipped.
    """
    chained = c.execute("SELECT id, settings FROM steps WHERE chained_from=?", (step,)).fetchone()
    if chained is None:
        return None, 0
    chained_step, role = chained[0], json.loads(chained[1]).get("role")
    skipped = _skip_down_the_chain(c, step, chained_step, order_id, now)
    cid = (a2p_customer_order_id if role == "a2p" else chained_customer_order_id)(customer_order_id)
    return _plan_chained_order(c, chained_step, cid, order_id, now), skipped


def _skip_down_the_chain(
    c: sqlite3.Connection, step: int, chained_step: int, order_id: int, now: float
) -> int:
    """Skip, in the chained step and every step chained after it (which will never see an
    order for them), the numbers this order did not make succeed; returns the chained step's
    count. The skip says why: the source's failure (or unknown outcome) and its error."""
    kind = c.execute("SELECT kind FROM steps WHERE id=?", (step,)).fetchone()[0]
    what = "import" if kind == StepKind.IMPORT.value else "SMS on"
    skipped = 0
    target: int | None = chained_step
    while target is not None:
        count = c.execute(
            "UPDATE numbers SET status=?, error_code=src.error_code, "
            "error_description=? || (CASE WHEN src.status=? THEN ' outcome unknown: '"
            " ELSE ' failed: ' END) || coalesce(src.error_description, ''), "
            "updated_at=? FROM (SELECT seq, status, error_code, error_description FROM numbers "
            "WHERE order_id=? AND status NOT IN (?, ?)) AS src "
            "WHERE numbers.step=? AND numbers.seq=src.seq AND numbers.status=?",
            (NumberStatus.SKIPPED.value, what, NumberStatus.UNKNOWN.value, now, order_id,
             _SUCCEEDED, _IN_ORDER, target, NumberStatus.PENDING.value),
        ).rowcount  # fmt: skip
        skipped += count if target == chained_step else 0
        row = c.execute("SELECT id FROM steps WHERE chained_from=?", (target,)).fetchone()
        target = None if row is None else row[0]
    return skipped


def _plan_chained_order(
    c: sqlite3.Connection, chained_step: int, cid: str, order_id: int, now: float
) -> OrderRecord | None:
    """A planned order of `chained_step` for the numbers of `order_id` that succeeded (same
    index, CustomerOrderId `cid`), those numbers now in it; None when none succeeded."""
    ok = c.execute(
        "SELECT count(*) FROM numbers WHERE order_id=? AND status=?", (order_id, _SUCCEEDED)
    ).fetchone()[0]
    if not ok:
        return None
    idx = c.execute("SELECT idx FROM orders WHERE id=?", (order_id,)).fetchone()[0]
    new_id = c.execute(
        "INSERT INTO orders(step, idx, customer_order_id, state, size, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (chained_step, idx, cid, OrderState.PLANNED.value, ok, now),
    ).lastrowid
    assert new_id is not None
    c.execute(
        "UPDATE numbers SET order_id=?, updated_at=? WHERE step=? AND seq IN "
        "(SELECT seq FROM numbers WHERE order_id=? AND status=?)",
        (new_id, now, chained_step, order_id, _SUCCEEDED),
    )
    return OrderRecord(
        id=new_id,
        step=chained_step,
        idx=idx,
        customer_order_id=cid,
        state=OrderState.PLANNED,
        remote_id=None,
        remote_status=None,
        size=ok,
        submit_attempts=0,
    )
