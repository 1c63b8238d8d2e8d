"""The canary: an import step's first order must finish before the rest of the step is sent.

A step with a canary (plan setting `canary` > 0) has a small order 0. The engine's dispatcher
asks `canary_passed` before sending the step's other orders: the canary is driven (if not
already) and waited for; a canary left open (stopping, or given up for the next run) holds
the step; a canary the API refused for its body (`orchestrator.api.status.canary_refusal`)
aborts the run with the API's code and the plan setting to change, now and on every resume,
since the verdict is read back from the state file.

Must not print or read the environment; works through `RunContext` only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio

from orchestrator.api.status import canary_refusal
from orchestrator.cutover.context import RunContext
from orchestrator.plan import StepKind
from orchestrator.state.schema import OrderRecord, OrderState, StepInfo
from orchestrator.text import counted

__all__ = ["StartDrive", "canary_passed", "is_canary_step"]

StartDrive = Callable[[OrderRecord], Awaitable[None]]
"""Takes an order slot and starts driving the order in the run's task group."""


def is_canary_step(step: StepInfo) -> bool:
    """An import step whose first order is a canary (plan setting `canary` > 0)."""
    return step.kind is StepKind.IMPORT and bool(step.settings.get("canary"))


async def canary_passed(ctx: RunContext, step: StepInfo, start: StartDrive) -> bool:
    """Send an import step's canary order first and wait for it; False holds the step.

    A canary the API refuses for its body aborts the run (raises `RunAborted`).
    """
    if not is_canary_step(step):
        return True
    orders: list[OrderRecord] = await ctx.db(ctx.store.orders, None, step.id)
    canary = next((o for o in orders if o.idx == 0), None)
    if canary is None:
        return True
    if canary.state is not OrderState.DONE:
        canary = await _wait_for(ctx, canary, start)
        if canary.state is not OrderState.DONE:  # stopping, or left for the next run
            for order in orders:
                if order.id != canary.id and order.state is OrderState.PLANNED:
                    ctx.tally.give_up(order, count=not ctx.stop.is_set())
            return False
    refusal = canary_refusal(
        status=canary.remote_status or "",
        codes=await ctx.db(ctx.store.order_errors, canary.id),
        step_name=step.name,
        body_form=str(step.settings.get("body_form") or "ImportTnOrder"),
    )
    if refusal is None:
        return True
    held = sum(1 for o in orders if o.id != canary.id)
    raise ctx.abort(
        f"the canary order {canary.customer_order_id} of step {step.name!r} was refused: "
        f"{refusal.code} {refusal.description}; the step's other {counted(held, 'order')} "
        f"{'was' if held == 1 else 'were'} not sent. Fix: {refusal.hint}; then run again"
    )


async def _wait_for(ctx: RunContext, canary: OrderRecord, start: StartDrive) -> OrderRecord:
    """Drive the canary (unless an earlier task does) until committed, given up or stopping;
    the canary as the state file has it then."""
    done = ctx.tally.canary_done[canary.id]  # made by the engine's load for every open canary
    if canary.state is OrderState.PLANNED:
        await start(canary)
    while not done.is_set() and not ctx.stop.is_set():
        with anyio.move_on_after(0.5):
            await done.wait()
    orders: list[OrderRecord] = await ctx.db(ctx.store.orders, None, canary.step)
    return next(o for o in orders if o.id == canary.id)
