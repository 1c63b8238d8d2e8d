"""The dry run's estimate of API calls and duration at the plan's rate. Pure."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from orchestrator.plan.chain import asks_a2p
from orchestrator.plan.compile import canary_size
from orchestrator.plan.model import CompiledPlan


@dataclass(frozen=True, slots=True)
class Estimate:
    """API calls and time a plan needs at its configured rate."""

    orders: int  # the plan's own orders, canary orders included
    chained_orders: int  # TN option orders turning SMS on after imports
    api_calls: int
    eta_s: float
    a2p_orders: int = 0  # A2P follow-ups of the orders that turn SMS on


def estimate(plan: CompiledPlan) -> Estimate:
    """Estimate calls (per order: a create, polls until terminal) and time at the plan's rate.

    Time: the calls at the rate, plus one typical order duration for each wave that must wait
    for the one before: the first orders, the rest of an import step after its canary, the
    chained SMS orders, the A2P follow-ups.
    """
    rate = plan.spec.rate
    polls = 1 + (
        math.ceil(rate.expected_order_s / rate.poll_interval_s) if rate.poll_interval_s else 1
    )
    orders = sum(len(s.orders) for s in plan.steps)
    chained = sum(len(s.orders) for s in plan.steps if s.spec.enable_messaging)
    a2p = sum(len(s.orders) for s in plan.steps if asks_a2p(s.spec))
    calls = (orders + chained + a2p) * (1 + polls)
    held = any(
        len(s.orders) > 1 and canary_size(plan.spec, s.spec, len(s.numbers)) for s in plan.steps
    )
    waves = sum(1 for n in (orders, held, chained, a2p) if n)
    eta = calls / rate.requests_per_s + waves * rate.expected_order_s
    return Estimate(
        orders=orders, chained_orders=chained, api_calls=calls, eta_s=eta, a2p_orders=a2p
    )


def iter_compiled_rows(plan: CompiledPlan) -> Iterator[dict[str, Any]]:
    """Every planned number as a row: step, order index, E.164, original text, location."""
    for step in plan.steps:
        i = 0
        for order in step.orders:
            for number in order.numbers:
                yield {
                    "step": step.spec.name,
                    "kind": step.spec.kind.value,
                    "order_index": order.index,
                    "customer_order_id": order.customer_order_id,
                    "e164": number,
                    "input": step.raws[i],
                    "source": step.locations[i],
                }
                i += 1
