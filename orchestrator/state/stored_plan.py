"""The plan as the state file holds it: facts, steps, numbers and planned orders.

Storing a compiled plan is one transaction: its facts in `meta` (hash, name, text...), its steps
and the TN option steps chained after them (`orchestrator.plan.chain`), every number (pending
and tied to its planned order; chained steps' numbers pending in no order until their source's
orders end), the numbers the plan itself rejected and those kept out on purpose (failed, with
their code), and the run's facts (such as the target). A state file belongs to one plan hash;
a plan that took no effect may be dropped so that a corrected one starts over.

Imports the plan wing, the schema and the database; does not touch orders after planning them.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from orchestrator.errors import StateMismatchError
from orchestrator.plan import (
    CompiledPlan,
    CompiledStep,
    StepKind,
    a2p_step_name,
    asks_a2p,
    chained_a2p_settings,
    chained_settings,
    sms_step_name,
)
from orchestrator.plan.estimate import estimate
from orchestrator.state.database import Database
from orchestrator.state.schema import ExcludedNumber, NumberStatus, OrderState, StepInfo

INVALID_INPUT_CODE = "INVALID_INPUT"  # error_code of numbers the plan itself rejected
DUPLICATE_CODE = "DUPLICATE"  # error_code of a number listed again in its step (sent once)

_FAILED = NumberStatus.FAILED.value
_SKIPPED = NumberStatus.SKIPPED.value
_PLANNED = OrderState.PLANNED.value
_INSERT_META = "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)"
# The bulk path binds only what varies: the status is written into the statement from the enum
# and unset columns are left out (binding a constant or NULL per row costs bench/cutover_bench.py's
# insert rate 10-30%).
_INSERT_PENDING = (
    "INSERT INTO numbers(step, seq, e164, raw, source, status, order_id, updated_at) "  # noqa: S608
    f"VALUES (?, ?, ?, ?, ?, '{NumberStatus.PENDING.value}', ?, ?)"
)
_INSERT_REFUSED = (
    "INSERT INTO numbers(step, seq, e164, raw, source, status, error_code, error_description, "
    "note, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_ORDER = (
    "INSERT INTO orders(step, idx, customer_order_id, state, size, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


def store_plan(
    db: Database,
    plan: CompiledPlan,
    plan_text: str,
    now: float,
    excluded: Sequence[ExcludedNumber],
    facts: Mapping[str, str],
) -> bool:
    """Store a compiled plan on a new state file, or check it matches the stored one.

    Returns True when the plan was stored now, False when it was already there; raises
    `StateMismatchError` for a plan with another hash. `excluded` numbers and the `facts` go
    in the same transaction as the plan.
    """
    meta = db.read_meta()
    stored = meta.get("plan_hash")
    if stored is not None:
        if stored != plan.hash:
            raise StateMismatchError(
                f"{db.path}: this state file belongs to plan {meta.get('plan_name')!r} with "
                f"hash {stored[:12]}, but the plan now has hash {plan.hash[:12]}: the plan "
                "changed after the run started (a different `run --canary` changes it too). "
                "Restore the plan (and --canary) to resume, or pass a new --state file to run "
                "the changed plan as a new migration"
            )
        return False
    with db.transaction() as c:
        c.executemany(_INSERT_META, _plan_facts(plan, plan_text, now).items())
        _insert_steps(c, plan, now)
        _insert_refused_numbers(c, plan, excluded, now)
        c.executemany(_INSERT_META, facts.items())
    return True


# What of a stored plan took effect: numbers that succeeded (or need action, have an unknown
# outcome, sit in an order being sent) and orders being or sent without an outcome.
TOOK_EFFECT = (
    NumberStatus.SUCCEEDED,
    NumberStatus.NEEDS_ACTION,
    NumberStatus.UNKNOWN,
    NumberStatus.IN_ORDER,
)
SENT_ORDERS = (OrderState.SUBMITTING, OrderState.SUBMITTED)


def effect(db: Database) -> tuple[int, int]:
    """How many numbers and orders of the stored plan took effect (`TOOK_EFFECT`,
    `SENT_ORDERS`); (0, 0) when a changed plan may replace it."""
    numbers = db.query(
        "SELECT count(*) FROM numbers WHERE status IN (?, ?, ?, ?)",
        [s.value for s in TOOK_EFFECT],
    )[0][0]
    orders = db.query(
        "SELECT count(*) FROM orders WHERE state IN (?, ?)", [s.value for s in SENT_ORDERS]
    )[0][0]
    return int(numbers), int(orders)


def discard_plan_without_effect(db: Database, plan_hash: str) -> bool:
    """Drop the stored plan when `plan_hash` differs and nothing of it took effect.

    Nothing took effect when no number is in `TOOK_EFFECT` and no order in `SENT_ORDERS`.
    Runs and meta facts other than the plan's (such as the target) are kept.
    """
    stored = db.read_meta().get("plan_hash")
    if stored is None or stored == plan_hash:
        return False
    with db.transaction() as c:
        if c.execute(
            "SELECT EXISTS (SELECT 1 FROM numbers WHERE status IN (?, ?, ?, ?)) "
            "OR EXISTS (SELECT 1 FROM orders WHERE state IN (?, ?))",
            [s.value for s in (*TOOK_EFFECT, *SENT_ORDERS)],
        ).fetchone()[0]:
            return False
        for table in ("numbers", "orders", "steps"):
            c.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        c.execute("DELETE FROM meta WHERE key IN ('plan_hash', 'plan_text')")
    return True


def read_steps(db: Database) -> list[StepInfo]:
    """Every step, plan order first, chained steps after."""
    return [
        StepInfo(
            id=r[0],
            name=r[1],
            kind=StepKind(r[2]),
            chained_from=r[3],
            depends_on=tuple(json.loads(r[4])),
            settings=json.loads(r[5]),
        )
        for r in db.query(
            "SELECT id, name, kind, chained_from, depends_on, settings FROM steps ORDER BY id"
        )
    ]


def _plan_facts(plan: CompiledPlan, text: str, now: float) -> dict[str, str]:
    """What `meta` records of a plan."""
    spec = plan.spec
    return {
        "plan_hash": plan.hash,
        "plan_name": spec.name,
        "plan_path": spec.path,
        "account_id": spec.account_id,
        "plan_text": text,
        "created_at": str(now),
        "batch_size": str(spec.batch_size),
        # the dry run's figures, shown beside the actual ones by `report --html`
        "estimate": json.dumps(dataclasses.asdict(estimate(plan))),
    }


def _insert_steps(c: sqlite3.Connection, plan: CompiledPlan, now: float) -> None:
    """The plan's steps (ids = plan indexes) with their orders and numbers, then each step's
    chained steps (ids after the plan's) with their numbers."""
    for step in plan.steps:
        _insert_step(c, step.spec.index, step.spec.name, step.spec.kind, None,
                     step.depends_on, step.spec.settings())  # fmt: skip
    next_id = len(plan.steps)
    for step in plan.steps:
        _insert_step_numbers(c, step, now)
        for name, source, settings in _chained_steps(step):
            _insert_step(c, next_id, name, StepKind.MESSAGING, source, (), settings)
            _insert_chained_numbers(c, next_id, step, now)
            next_id += 1


def _insert_refused_numbers(
    c: sqlite3.Connection, plan: CompiledPlan, excluded: Sequence[ExcludedNumber], now: float
) -> None:
    """Numbers the plan rejected and numbers kept out of every order (failed), and numbers
    listed again in their step (skipped: the first listing is sent), in no order, numbered after
    each step's valid numbers, so the report shows every line that was read."""
    next_seq: dict[int, int] = {s.spec.index: len(s.numbers) for s in plan.steps}

    def seq(step: int) -> int:
        next_seq[step] += 1
        return next_seq[step] - 1

    invalid = (
        (e.step_index, seq(e.step_index), None, e.raw, e.location, _FAILED, INVALID_INPUT_CODE,
         e.message, None, now)
        for e in plan.invalid
    )  # fmt: skip
    kept_out = (
        (x.step, seq(x.step), x.e164, x.raw, x.source, _FAILED, x.code, x.description, x.note,
         now)
        for x in excluded
    )  # fmt: skip
    duplicates = (
        (d.step_index, seq(d.step_index), d.number, d.raw or d.number, d.location, _SKIPPED,
         DUPLICATE_CODE, f"duplicate of {d.first_location} in this step, which is sent", None,
         now)
        for d in plan.duplicates
    )  # fmt: skip
    c.executemany(_INSERT_REFUSED, invalid)
    c.executemany(_INSERT_REFUSED, kept_out)
    c.executemany(_INSERT_REFUSED, duplicates)


def _chained_steps(step: CompiledStep) -> list[tuple[str, int | str, dict[str, Any]]]:
    """The TN option steps chained after `step`: (name, chained from, settings).

    An import with `enable_messaging` is followed by its SMS-on step; a step turning SMS on
    with A2P settings (that SMS-on step, or a messaging step) by an A2P-only step. The source
    is a step id, or the name of a chained step inserted just before.
    """
    spec = step.spec
    out: list[tuple[str, int | str, dict[str, Any]]] = []
    if spec.kind is StepKind.IMPORT and spec.enable_messaging:
        out.append((sms_step_name(spec), spec.index, chained_settings(spec)))
    if asks_a2p(spec):
        source: int | str = spec.index if spec.kind is StepKind.MESSAGING else out[0][0]
        out.append((a2p_step_name(spec), source, chained_a2p_settings(spec)))
    return out


def _insert_step(
    c: sqlite3.Connection,
    step_id: int,
    name: str,
    kind: StepKind,
    chained_from: int | str | None,
    depends_on: Sequence[int],
    settings: Mapping[str, Any],
) -> None:
    """Insert one step row; a chained step named by its source's name finds its id here."""
    source = chained_from
    if isinstance(chained_from, str):
        source = c.execute("SELECT id FROM steps WHERE name=?", (chained_from,)).fetchone()[0]
    c.execute(
        "INSERT INTO steps(id, name, kind, chained_from, depends_on, settings) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (step_id, name, kind.value, source, json.dumps(list(depends_on)), json.dumps(settings)),
    )


def _insert_chained_numbers(
    c: sqlite3.Connection, step_id: int, source: CompiledStep, now: float
) -> None:
    """A chained step's numbers: the source's, pending, in no order until its orders end."""
    _insert_pending(c, step_id, source, [None] * len(source.numbers), now)


def _insert_step_numbers(c: sqlite3.Connection, step: CompiledStep, now: float) -> None:
    """Insert a step's planned orders and its numbers, each tied to its order."""
    index = step.spec.index
    owners: list[int | None] = []
    for order in step.orders:
        cur = c.execute(
            _INSERT_ORDER,
            (index, order.index, order.customer_order_id, _PLANNED, len(order.numbers), now),
        )
        assert cur.lastrowid is not None
        owners += [cur.lastrowid] * len(order.numbers)
    _insert_pending(c, index, step, owners, now)


def _insert_pending(
    c: sqlite3.Connection,
    step_id: int,
    source: CompiledStep,
    owners: Iterable[int | None],
    now: float,
) -> None:
    """`source`'s numbers as step `step_id`'s, pending, each in its order (or in none)."""
    c.executemany(
        _INSERT_PENDING,
        (
            (step_id, i, e, r, loc, owner, now)
            for i, (e, r, loc, owner) in enumerate(
                zip(source.numbers, source.raws, source.locations, owners, strict=True)
            )
        ),
    )
