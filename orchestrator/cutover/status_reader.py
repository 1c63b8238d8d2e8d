"""Batched status reads: one order-list read tells every open order of a kind its status.

Instead of one GET per order per poll, `StatusReader.wait_terminal` waits on a shared read of
the kind's order list (creation-date window from the day before the oldest open order's
attempt, paging by the `Links` the API returns, at most 1,000 orders a page). An order is read
individually only when its per-number outcome is needed:

- COMPLETE in the list: done, no GET (every number of a COMPLETE order succeeded), except for
  TN option orders, whose COMPLETE answer carries per-number warnings ("SMS is already
  Enabled") that the report and `rollback` need (a number the run did not change is left
  alone): those are read by id once;
- PARTIAL, FAILED, EXCEPTION or a status bwmigrate does not know: one GET
  (`orchestrator.cutover.outcome.poll_until_terminal`) for the per-number outcome;
- not shown by the list after `visibility_window_s` since its POST (the list may lag, or the
  window may miss it), or the list cannot be read: followed by individual GETs from then on.

Cadence: an order's looks follow its back-off (`PollSchedule`) as before; a read started after
the order last looked and at most half a poll interval ago (`FRESH_FRACTION`) serves it, so all
orders of a kind waking in the same half interval share one read (about two reads per poll
interval per kind at most, whatever the number of orders), and a look never sees a status more
than half an interval old. `plan/estimate.py` models the same sharing.

No status filter: the v2 list's `status` enum has neither RECEIVED nor EXCEPTION, and an order
missing from a filtered list could not be told from one not listed yet.

Must not print or read the environment; works through `RunContext` only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import anyio

from orchestrator.api.gate import Priority
from orchestrator.api.orders import ORDER_KINDS, OrderKind
from orchestrator.api.pacing import PollSchedule
from orchestrator.api.status import OrderPhase, order_phase
from orchestrator.api.xml import OrderDoc, OrderList, OrderSummary
from orchestrator.cutover.context import RunContext
from orchestrator.cutover.outcome import poll_until_terminal
from orchestrator.errors import ApiError, XmlError
from orchestrator.state.schema import OrderRecord

__all__ = ["MAX_PAGES", "StatusReader"]

COMPLETE = "COMPLETE"  # the one terminal status whose list entry says everything
# ... except for these kinds: a COMPLETE TN option order names the numbers whose setting was
# already so (a warning per number), which the list entry does not carry
_WARNS_WHEN_COMPLETE = frozenset({OrderKind.TNOPTIONS.value})
FRESH_FRACTION = 0.5  # a read made this fraction of the poll interval ago is still fresh
MAX_PAGES = 100  # pages followed in one read (100,000 orders); orders beyond are read one by one


@dataclass(slots=True)
class _Read:
    """One read of a kind's order list: when it started, and (once done) what it showed."""

    seq: int
    started_at: float
    done: anyio.Event = field(default_factory=anyio.Event)
    shown: dict[str, OrderSummary] = field(default_factory=dict)
    error: str | None = None


class StatusReader:
    """Follows open orders to a terminal status with shared list reads (module docstring)."""

    def __init__(
        self,
        ctx: RunContext,
        schedule: PollSchedule,
        *,
        expected_order_s: float,
        visibility_window_s: float,
    ) -> None:
        self._ctx = ctx
        self._schedule = schedule
        self._first_s = max(expected_order_s, schedule.first_s)
        self._window_s = visibility_window_s
        self._latest: dict[str, _Read] = {}
        self._open: dict[str, dict[int, float]] = {}  # kind -> order id -> attempted_at
        self._reads = 0  # reads started (their sequence numbers)
        self.list_reads = 0  # list pages read (for benches and `status`)
        # Order notifications (`orchestrator.cutover.notifications`), when on:
        self._safety_s: float | None = None  # the slow safety-net look's interval
        self._waiters: dict[str, _Waiter] = {}  # remote id -> the order waiting
        self._by_coid: dict[str, str] = {}  # CustomerOrderId -> remote id
        self._notified: dict[str, str] = {}  # remote id -> terminal status notified

    def notifications_on(self, safety_net_s: float) -> None:
        """Callbacks tell orders their status; list reads become a slow safety net (an order
        silent for `safety_net_s` is looked at, so a lost callback delays, never loses)."""
        self._safety_s = safety_net_s

    def notify(
        self, order_id: str | None, customer_order_id: str | None, status: str | None
    ) -> anyio.Event | None:
        """A callback's news: a terminal status wakes its order; the event is set once the
        order's outcome is committed (None: no open order of this run to wait for)."""
        remote = order_id or self._by_coid.get(customer_order_id or "")
        if remote is None or order_phase(status) is OrderPhase.OPEN:
            return None
        self._notified[remote] = status or ""
        waiter = self._waiters.get(remote)
        if waiter is None:
            return None
        waiter.wake.set()
        return waiter.settled

    def settled(self, order: OrderRecord) -> None:
        """The order's outcome is committed (the engine, after `commit_outcome`)."""
        waiter = self._waiters.pop(str(order.remote_id), None)
        self._by_coid.pop(order.customer_order_id, None)
        if waiter is not None:
            waiter.settled.set()

    async def wait_terminal(self, order: OrderRecord) -> OrderDoc | None:
        """The order's terminal answer (None when stopping or left for the next run)."""
        ctx = self._ctx
        kind = ORDER_KINDS[ctx.steps[order.step].kind].kind
        assert order.remote_id is not None
        attempted_at = order.attempted_at if order.attempted_at is not None else ctx.clock()
        self._open.setdefault(kind, {})[order.id] = attempted_at
        waiter = self._waiters.setdefault(str(order.remote_id), _Waiter())
        self._by_coid[order.customer_order_id] = str(order.remote_id)
        try:
            return await self._follow(order, kind, attempted_at, waiter)
        finally:
            self._open[kind].pop(order.id, None)

    async def _follow(
        self, order: OrderRecord, kind: str, attempted_at: float, waiter: _Waiter
    ) -> OrderDoc | None:
        ctx = self._ctx
        looks, seen = 0, -1
        while True:
            delay = self._first_s if looks == 0 else self._schedule.delay_s(looks)
            if self._safety_s is not None:
                delay = max(delay, self._safety_s)
            if str(order.remote_id) not in self._notified:
                await _wait_any(delay, ctx.stop, waiter.wake)
            if ctx.stop.is_set():
                return None
            notified = self._notified.pop(str(order.remote_id), None)
            if notified is not None:
                return await self._notified_doc(order, kind, notified)
            looks += 1
            fresh_from = ctx.clock() - self._schedule.first_s * FRESH_FRACTION
            read = await self._read_after(kind, max(attempted_at, fresh_from), seen)
            seen = read.seq
            if read.error is not None:
                # The list cannot be read (an API without it, or a fault past the in-call
                # retries): this order is followed one by one from now on, as before.
                note = f"order list unreadable ({read.error}); polling the order itself"
                await ctx.db(ctx.store.note_order_error, order.id, note)
                return await poll_until_terminal(ctx, self._schedule, order)
            summary = read.shown.get(str(order.remote_id))
            if summary is None:
                if ctx.clock() - attempted_at >= self._window_s:
                    return await self._get(order)  # not listed: followed one by one
                continue
            if order_phase(summary.status) is OrderPhase.OPEN:
                continue
            if summary.status.strip().upper() == COMPLETE and kind not in _WARNS_WHEN_COMPLETE:
                return _complete_doc(order, summary)
            return await self._get(order)  # per-number outcome (or warnings) needed

    async def _notified_doc(self, order: OrderRecord, kind: str, status: str) -> OrderDoc | None:
        """A notified terminal status: COMPLETE says everything (but a TN option order's
        warnings), any other is read by id."""
        if status == COMPLETE and kind not in _WARNS_WHEN_COMPLETE:
            summary = OrderSummary(
                str(order.remote_id), order.customer_order_id, status, None, None
            )
            return _complete_doc(order, summary)
        return await self._get(order)

    async def _get(self, order: OrderRecord) -> OrderDoc | None:
        """Per-order GETs from now on (the first one right away)."""
        first_s = min(0.01, self._schedule.cap_s)  # a cap under 10 ms (tests) stays valid
        now = PollSchedule(first_s=first_s, factor=100.0, cap_s=self._schedule.cap_s)
        return await poll_until_terminal(self._ctx, now, order)

    async def _read_after(self, kind: str, since: float, seen: int) -> _Read:
        """A read of `kind`'s list newer than read `seen` and started at or after `since`: the
        latest (under way or done) if it qualifies (shared), else a new one by this caller."""
        latest = self._latest.get(kind)
        if latest is not None and latest.seq > seen and latest.started_at >= since:
            await latest.done.wait()
            return latest
        self._reads += 1
        read = _Read(seq=self._reads, started_at=self._ctx.clock())
        self._latest[kind] = read
        try:
            await self._read_pages(kind, read)
        except (ApiError, XmlError) as exc:
            read.error = str(exc)
        finally:
            read.done.set()
        return read

    async def _read_pages(self, kind: str, read: _Read) -> None:
        """Every page of the list (following `Links/next`), into `read.shown`."""
        ctx = self._ctx
        oldest = min(self._open.get(kind, {}).values(), default=read.started_at)
        # The creation-date filter is a calendar date in a zone the API does not document:
        # start a day early (as `orchestrator.cutover.reconcile` does).
        since = dt.datetime.fromtimestamp(oldest, tz=dt.UTC).date() - dt.timedelta(days=1)
        page: str | None = None
        for _ in range(MAX_PAGES):
            query = page

            async def one_page(q: str | None = query) -> OrderList:
                return await ctx.client.list_orders_created(kind, since, page_query=q)

            listing: OrderList = await ctx.call(one_page, Priority.POLL)
            self.list_reads += 1
            for summary in listing.orders:
                read.shown[summary.order_id] = summary
            page = listing.next_query
            if page is None:
                return


@dataclass(slots=True)
class _Waiter:
    """An open order's wake-up (a callback came) and its settled signal (outcome committed)."""

    wake: anyio.Event = field(default_factory=anyio.Event)
    settled: anyio.Event = field(default_factory=anyio.Event)


async def _wait_any(timeout_s: float, *events: anyio.Event) -> None:
    """Until any of `events` is set, or `timeout_s` has passed."""
    with anyio.move_on_after(timeout_s):
        async with anyio.create_task_group() as tg:

            async def wait(event: anyio.Event) -> None:
                await event.wait()
                tg.cancel_scope.cancel()

            for event in events:
                tg.start_soon(wait, event)


def _complete_doc(order: OrderRecord, summary: OrderSummary) -> OrderDoc:
    """A COMPLETE order as its list entry shows it: every number succeeded."""
    return OrderDoc(
        order_id=summary.order_id,
        customer_order_id=summary.customer_order_id or order.customer_order_id,
        status=summary.status,
        numbers=(),
        failures=(),
        errors=(),
        warnings=(),
        created_at=summary.order_date,
        last_modified_at=None,
    )
