"""Reconciliation: find an order whose POST outcome is unknown, or prove that it is absent.

This is where a resume (and a lost answer during a run) decides between "adopt" and "post
again" — the step of the exactly-once protocol that a duplicate order would come from
(docs/ARCHITECTURE.md, "The journey of one order").

Bandwidth's order lists may show a new order seconds late, so one empty lookup proves nothing.
Absence is proven only by lookups made *after* the order would have become visible: the order
is looked up repeatedly until `visibility_window_s` has passed since its POST was committed as
intended (`attempted_at`), each time by two keys — its CustomerOrderId, and its first number with
a creation-date filter (a list that ignores or mangles the CustomerOrderId filter still shows the
order under its number). Found under either key with our CustomerOrderId: adopted. Not found by
a lookup made at or after the deadline: absent. An order attempted long ago (a resume hours
after a crash) needs one round of lookups.

Other orders keep flowing meanwhile: the waiting happens in the task of the order concerned.
Lookups go through the caller's `lookup` function (`orchestrator.cutover.submit`: the shared
gate, in-call retries, and an abort when the API cannot answer).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio

from orchestrator.api.client import ApiClient
from orchestrator.api.xml import OrderList, OrderSummary

__all__ = [
    "LOOKUP_SPACING_S",
    "Lookup",
    "Reconciler",
    "StopRequested",
    "next_lookup_delay_s",
]

# Delays between rounds of lookups inside the window (the last round is at the deadline).
LOOKUP_SPACING_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)

Lookup = Callable[[Callable[[], Awaitable[OrderList]]], Awaitable[OrderList]]


def next_lookup_delay_s(rounds_done: int, last_round_at: float, deadline: float) -> float | None:
    """Seconds until the next round of lookups, or None when absence is proven.

    Absence is proven once a round that started at or after `deadline` found nothing.
    """
    if last_round_at >= deadline:
        return None
    spacing = LOOKUP_SPACING_S[min(rounds_done - 1, len(LOOKUP_SPACING_S) - 1)]
    return min(spacing, deadline - last_round_at)


@dataclass(frozen=True, slots=True)
class Reconciler:
    """Looks orders up by both keys across the visibility window."""

    client: ApiClient
    lookup: Lookup
    clock: Callable[[], float]
    stop: anyio.Event
    visibility_window_s: float

    async def find(
        self, kind: str, customer_order_id: str, first_number: str | None, attempted_at: float
    ) -> OrderSummary | None:
        """The order if it exists; None when proven absent.

        Raises `StopRequested` when a stop is requested before absence is proven: the order
        then stays `submitting` for the next run to reconcile.
        """
        deadline = attempted_at + self.visibility_window_s
        rounds = 0
        while True:
            round_at = self.clock()
            rounds += 1
            found = await self._round(kind, customer_order_id, first_number, attempted_at)
            if found is not None:
                return found
            delay = next_lookup_delay_s(rounds, round_at, deadline)
            if delay is None:
                return None
            with anyio.move_on_after(max(delay, 0.0)):
                await self.stop.wait()
            if self.stop.is_set():
                raise StopRequested(customer_order_id)

    async def _round(
        self, kind: str, customer_order_id: str, first_number: str | None, attempted_at: float
    ) -> OrderSummary | None:
        """One lookup by CustomerOrderId, then (if nothing) one by number and creation date."""
        by_id = await self.lookup(lambda: self.client.find_orders(kind, customer_order_id))
        match = _match(by_id, customer_order_id)
        if match is not None or first_number is None:
            return match
        # The creation-date filter is a calendar date (yyyy-MM-dd, the API's zone unknown):
        # start a day early so a POST near midnight is never filtered out.
        since = dt.datetime.fromtimestamp(attempted_at, tz=dt.UTC).date() - dt.timedelta(days=1)
        by_number = await self.lookup(
            lambda: self.client.find_orders_by_number(kind, first_number, since)
        )
        return _match(by_number, customer_order_id)


class StopRequested(Exception):
    """A stop was requested while an order's absence was not yet proven (it stays submitting)."""


def _match(listing: OrderList, customer_order_id: str) -> OrderSummary | None:
    """The listed order carrying exactly our CustomerOrderId, if any."""
    for summary in listing.orders:
        if summary.customer_order_id == customer_order_id:
            return summary
    return None
