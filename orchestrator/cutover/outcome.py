"""An order's outcome: polled until terminal, split per number, committed in one transaction.

- `poll_until_terminal`: poll with per-order backoff (`PollSchedule`) until the status is
  terminal. A failing poll is noted and polled again (after `MAX_FAILED_POLLS` in a row the
  order is left submitted for the next run); a status bwmigrate does not know is never
  success: polled on, and after `MAX_UNKNOWN_POLLS` in a row committed as `unknown`.
- `commit_outcome`: what the terminal answer means per number (`orchestrator.api.status`:
  EXCEPTION is a failure, an A2P follow-up's A2P-only refusals leave numbers `needs_action`),
  committed with the order chained to it (the store plans it in the same transaction), the
  tally updated, and the failure threshold checked (`RunAborted` when exceeded).
- `commit`: the commit itself, shielded from cancellation; also used for a create the API
  refused (status `REJECTED`, no order exists).

Must not print or read the environment; works through `RunContext` only.
"""

from __future__ import annotations

import functools

import anyio

from orchestrator.api.gate import Priority
from orchestrator.api.orders import ORDER_KINDS
from orchestrator.api.pacing import PollSchedule
from orchestrator.api.status import (
    UNKNOWN_STATUS,
    OrderPhase,
    needs_action_advice,
    order_phase,
    refuses_a2p_only,
)
from orchestrator.api.xml import OrderDoc
from orchestrator.cutover.context import RunContext
from orchestrator.errors import ApiError, XmlError
from orchestrator.plan.numbers import e164_from_api
from orchestrator.state.schema import FailedNumber, NumberStatus, OrderRecord, Outcome

__all__ = [
    "MAX_FAILED_POLLS",
    "MAX_UNKNOWN_POLLS",
    "commit",
    "commit_outcome",
    "failure_status",
    "poll_until_terminal",
]

MAX_FAILED_POLLS = 20  # polls failing in a row before an order is left for the next run
MAX_UNKNOWN_POLLS = 20  # polls in a row with a status bwmigrate does not know, then `unknown`

# The statuses an order's numbers leave `in_order` for, as `Outcome` counts them.
_OUTCOMES = (
    NumberStatus.SUCCEEDED,
    NumberStatus.FAILED,
    NumberStatus.NEEDS_ACTION,
    NumberStatus.UNKNOWN,
)


# --- poll ----------------------------------------------------------------------------------------


async def poll_until_terminal(
    ctx: RunContext, schedule: PollSchedule, order: OrderRecord
) -> OrderDoc | None:
    """Poll with per-order backoff until the order is terminal (None when stopping or left
    for the next run)."""
    kind = ORDER_KINDS[ctx.steps[order.step].kind].kind
    assert order.remote_id is not None
    get = functools.partial(ctx.client.get_order, kind, order.remote_id)
    polls = failed_polls = unknown_polls = 0
    while True:
        with anyio.move_on_after(schedule.delay_s(polls)):
            await ctx.stop.wait()
        if ctx.stop.is_set():
            return None
        polls += 1
        try:
            doc: OrderDoc = await ctx.call(get, Priority.POLL)
        except (ApiError, XmlError) as exc:
            # Never lose an order: note the error and keep polling (backing off); after
            # MAX_FAILED_POLLS in a row leave it submitted for the next run.
            failed_polls += 1
            await ctx.db(ctx.store.note_order_error, order.id, f"poll {failed_polls}: {exc}")
            if failed_polls >= MAX_FAILED_POLLS:
                ctx.tally.give_up(order)
                return None
            continue
        failed_polls = 0
        phase = order_phase(doc.status)
        if phase is OrderPhase.UNKNOWN:
            # Never success: keep polling within the usual bound, then commit `unknown`.
            unknown_polls += 1
            note = f"status {doc.status!r} not understood ({unknown_polls} polls)"
            await ctx.db(ctx.store.note_order_error, order.id, note)
            if unknown_polls >= MAX_UNKNOWN_POLLS:
                return doc
            continue
        unknown_polls = 0
        if phase is not OrderPhase.OPEN:
            return doc


# --- outcomes ------------------------------------------------------------------------------------


async def commit_outcome(ctx: RunContext, order: OrderRecord, doc: OrderDoc) -> OrderRecord | None:
    """Split an order's terminal status per number and commit it; return the chained order."""
    role = ctx.steps[order.step].settings.get("role")
    failures = [
        _refusal(role, e164_from_api(n), f.code, f.description)
        for f in doc.failures
        for n in f.numbers
    ]
    order_error = (
        (doc.errors[0].code or doc.status, doc.errors[0].description) if doc.errors else None
    )
    warnings = [(e164_from_api(w.number), w.description) for w in doc.warnings if w.number]
    phase = order_phase(doc.status)
    if phase is OrderPhase.UNKNOWN:
        order_error = (
            doc.status or UNKNOWN_STATUS,
            f"order status {doc.status!r} is not one bwmigrate knows (seen "
            f"{MAX_UNKNOWN_POLLS} polls in a row); check order {order.remote_id} with "
            "Bandwidth before acting on these numbers",
        )
        return await commit(
            ctx, order, doc.status or UNKNOWN_STATUS, failures, order_error, warnings,
            NumberStatus.UNKNOWN,
        )  # fmt: skip
    rest = NumberStatus.SUCCEEDED
    if phase is OrderPhase.FAILED:
        rest = failure_status(role, order_error[0] if order_error else None)
    return await commit(ctx, order, doc.status, failures, order_error, warnings, rest)


def _refusal(role: object, number: str, code: str, description: str) -> FailedNumber:
    """A per-number refusal, as a failure or (an A2P follow-up's) a number needing action."""
    status = failure_status(str(role) if role else None, code)
    note = needs_action_advice(code) if status is NumberStatus.NEEDS_ACTION else None
    return FailedNumber(number, code, description, status.value, note)


async def commit(
    ctx: RunContext,
    order: OrderRecord,
    status: str,
    failures: list[FailedNumber],
    order_error: tuple[str, str] | None,
    warnings: list[tuple[str, str]],
    rest: NumberStatus,
) -> OrderRecord | None:
    """Commit outcomes (shielded: a cancelled run still records what it learned); the order
    chained to this one, if the store planned one. Raises `RunAborted` past the threshold."""
    rest_note = None
    if rest is NumberStatus.NEEDS_ACTION:
        rest_note = needs_action_advice(order_error[0] if order_error else None)
    with anyio.CancelScope(shield=True):
        outcome: Outcome = await ctx.db(
            functools.partial(
                ctx.store.record_outcome,
                order.id, status, failures, order_error, warnings, ctx.clock(),
                rest=rest, rest_note=rest_note,
            )
        )  # fmt: skip
    _tally_outcome(ctx, order, outcome)
    _check_threshold(ctx)
    return outcome.chained_order


def _tally_outcome(ctx: RunContext, order: OrderRecord, outcome: Outcome) -> None:
    """Count a committed order: its numbers' new statuses, the order closed, its chained
    order opened, and its skipped numbers skipped down the whole chain."""
    tally = ctx.tally
    for status in _OUTCOMES:
        tally.move(order.step, NumberStatus.IN_ORDER, status, getattr(outcome, status.value))
    tally.finished += outcome.succeeded + outcome.failed + outcome.needs_action
    tally.failed += outcome.failed
    tally.orders_terminal += 1
    tally.order_closed(order)
    if outcome.chained_order is not None:
        tally.order_opened(outcome.chained_order.step)
    child = _chained_after(ctx, order.step)
    while child is not None:  # a skipped number is skipped down the whole chain
        tally.move(child, NumberStatus.PENDING, NumberStatus.SKIPPED, outcome.skipped)
        child = _chained_after(ctx, child)
    tally.maybe_step_done(order.step)


def _chained_after(ctx: RunContext, step_id: int) -> int | None:
    """The step chained after `step_id` (its SMS or A2P follow-up), if any."""
    return next((s.id for s in ctx.steps.values() if s.chained_from == step_id), None)


def _check_threshold(ctx: RunContext) -> None:
    """Abort when too many finished numbers failed (after enough have finished)."""
    t, tally = ctx.threshold, ctx.tally
    if tally.finished < max(t.min_finished, 1):
        return
    pct = 100.0 * tally.failed / tally.finished
    if pct > t.max_failed_percent:
        raise ctx.abort(
            f"failure threshold exceeded: {tally.failed} of {tally.finished} finished numbers "
            f"failed ({pct:.1f}% > {t.max_failed_percent:g}%); check the report, fix the "
            "plan or raise failure_threshold.max_failed_percent, then run again"
        )


def failure_status(role: str | None, code: str | None) -> NumberStatus:
    """The status of a number the API refused with `code` in an order of a step with `role`."""
    if refuses_a2p_only(role, code):
        return NumberStatus.NEEDS_ACTION
    return NumberStatus.FAILED
