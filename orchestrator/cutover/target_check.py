"""A live run's first request: is the target the v2 API at all?

A web server, proxy or captive portal that answers every path with a 200 page would receive the
run's first POST before anything noticed (its "201" is unreadable, so the order's outcome is
unknown and reconciling it fails). Before the first POST of a state file, the run asks the list of
its first step's order kind, as `doctor` does, and stops (exit 3, nothing sent) when the answer
is not the v2 API's XML (`orchestrator.api.answer.foreign_list_answer`). Any other answer or
fault is left to the engine, which handles it as it always has.
"""

from __future__ import annotations

from urllib.parse import quote

import anyio

from orchestrator.api.gate import Priority
from orchestrator.api.orders import ORDER_KINDS
from orchestrator.cutover.connection import Api
from orchestrator.cutover.engine import Progress, RunEnd, RunOutcome
from orchestrator.errors import ApiError
from orchestrator.plan import CompiledPlan
from orchestrator.state.store import OrderState, Store
from orchestrator.text import printable

PROBE_CUSTOMER_ORDER_ID = "bwmigrate-run-probe"


async def foreign_target(api: Api, plan: CompiledPlan, store: Store) -> RunOutcome | None:
    """An aborted outcome when the target's answer to one order-list GET is not the v2 API's;
    None when it is, when the request failed (the engine then meets the same fault), or when an
    order of this state file was already sent (the target answered as the API then; a resume
    that has nothing to send, such as one stopped by a refused canary, sends nothing)."""
    orders = await anyio.to_thread.run_sync(store.order_counts)
    if set(orders) - {OrderState.PLANNED.value} or not orders:
        return None
    path = ORDER_KINDS[plan.steps[0].spec.kind].path if plan.steps else "tnoptions"
    full = f"accounts/{quote(plan.spec.account_id, safe='')}/{path}"
    await api.gate.acquire(Priority.POLL)
    try:
        answer = await api.client.probe(f"{full}?customerOrderId={PROBE_CUSTOMER_ORDER_ID}")
    except ApiError:
        return None
    if answer.foreign is None:
        return None
    message = (
        f"{api.client.base_url} is not the v2 API: GET {full} {printable(answer.foreign)}; "
        "no order was sent. Check --target (`bwmigrate doctor --target URL` shows what it "
        "answers)"
    )
    counts = await anyio.to_thread.run_sync(store.counts)
    return RunOutcome(RunEnd.ABORTED, message, Progress(steps=counts))
