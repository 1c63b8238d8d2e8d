"""The cutover engine: submit, poll, reconcile and resume orders over one anyio task group.

It drives every order of a stored plan through the exactly-once protocol (docs/ARCHITECTURE.md,
"The journey of one order"), in parts of its own:

1. the intent (order row, numbers, CustomerOrderId) is committed before the POST, and the
   order id the API returns before the first poll (`orchestrator.cutover.submit`);
2. on start, orders left `submitting` are looked up (`orchestrator.cutover.reconcile`: by
   CustomerOrderId and by number, across the visibility window) and adopted if found, posted
   again only when provably absent;
3. a POST whose outcome is unknown (lost response, 5xx) goes through the same lookup, never a
   blind retry (`submit`);
4. an order's per-number outcomes are committed in one transaction, and the order chained to it
   (the SMS order after an import, the A2P follow-up after an SMS order) is planned in that same
   transaction (`orchestrator.cutover.outcome`: EXCEPTION is a failure, a status bwmigrate does
   not know is never success, A2P refusals of the A2P follow-up leave numbers `needs_action`);
5. the first order of an import step with a canary must finish before the rest of the step is
   sent; a canary the API refused for its body stops the run (`orchestrator.cutover.canary`).

This module owns the run itself: loading the state, dispatching steps, driving each order from
its state to done, the stop request, progress and how the run ended. Steps run concurrently in
plan order of priority, except that a step sharing numbers with an earlier one waits for it. At
most `max_orders_in_flight` orders are open at once; every request goes through one shared,
burst-free `RequestGate` (submits before polls). What the parts share is
`orchestrator.cutover.context.RunContext`.

It never prints and never reads the environment: progress goes to a callback, the database
through `Store` (in a worker thread, one writer at a time), the API through `ApiClient`.
"""

from __future__ import annotations

import functools
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum

import anyio

from orchestrator.api.client import ApiClient
from orchestrator.api.gate import RequestGate
from orchestrator.api.orders import ORDER_KINDS
from orchestrator.api.pacing import Backoff, PollSchedule
from orchestrator.cutover.canary import canary_passed, is_canary_step
from orchestrator.cutover.context import RunAborted, RunContext
from orchestrator.cutover.notifications import Notifications, NotifySettings
from orchestrator.cutover.outcome import commit_outcome, poll_until_terminal
from orchestrator.cutover.reconcile import StopRequested
from orchestrator.cutover.status_reader import StatusReader
from orchestrator.cutover.submit import Submitter
from orchestrator.plan import FailureThreshold
from orchestrator.state.schema import OrderRecord, OrderState, StepCounts, StepInfo
from orchestrator.state.store import Store
from orchestrator.text import counted

__all__ = [
    "COUNTERS_EVERY_S",
    "Engine",
    "EngineSettings",
    "NotifySettings",
    "Progress",
    "RunEnd",
    "RunOutcome",
]

COUNTERS_EVERY_S = 2.0  # how often a run saves its request counters for `status`


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """How the engine paces itself (from the plan's [rate] and [failure_threshold])."""

    max_orders_in_flight: int = 10
    poll_interval_s: float = 2.0
    poll_cap_s: float = 30.0
    failure_threshold: FailureThreshold = field(default_factory=FailureThreshold)
    seed: int | None = None
    visibility_window_s: float = 30.0  # how long a new order may take to show in order lists
    # How open orders are followed: "batched" (shared order-list reads,
    # `orchestrator.cutover.status_reader`) or "per_order" (one GET per order per poll).
    status_reads: str = "batched"
    # Batched reads: the first look at an order comes after this if longer than the poll
    # interval (benches set it; a plan's expected_order_s is for estimates only).
    expected_order_s: float = 0.0
    account_limit_per_s: float | None = None  # the plan's budget: the account's whole limit
    notify: NotifySettings | None = None  # order notifications (`run --notify-url`), opt-in


@dataclass(slots=True)
class Progress:
    """A snapshot for progress bars, `--json` and `status`."""

    steps: list[StepCounts]
    in_flight: int = 0
    orders_submitted: int = 0
    orders_terminal: int = 0
    requests: int = 0
    rate_limited: int = 0
    retried: int = 0
    elapsed_s: float = 0.0
    request_rate_per_s: float = 0.0
    stopping: bool = False


class RunEnd(StrEnum):
    """How a run ended (`RunOutcome.reason`)."""

    DONE = "done"  # every order finished
    INTERRUPTED = "interrupted"  # stopped on request, state saved
    ABORTED = "aborted"  # stopped by the engine (threshold, auth, API), or orders left over


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """How a run ended."""

    reason: str  # a RunEnd ("done" | "interrupted" | "aborted")
    message: str
    progress: Progress


class Engine:
    """Runs a stored plan to the end (or until interrupted); resumable at any point."""

    def __init__(
        self,
        store: Store,
        client: ApiClient,
        gate: RequestGate,
        settings: EngineSettings,
        *,
        backoff: Backoff | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ctx = RunContext(
            store=store,
            client=client,
            gate=gate,
            backoff=backoff or Backoff(),
            rng=random.Random(settings.seed),
            clock=clock,
            threshold=settings.failure_threshold,
        )
        self._on_progress = on_progress or (lambda _p: None)
        self._polls = PollSchedule(
            first_s=settings.poll_interval_s,
            cap_s=max(settings.poll_cap_s, settings.poll_interval_s),
        )
        self._slots = anyio.Semaphore(settings.max_orders_in_flight)
        self._account_limit_per_s = settings.account_limit_per_s
        self._notify = settings.notify
        self.notifications: Notifications | None = None
        self._started = 0.0
        self._submitter = Submitter(self._ctx, visibility_window_s=settings.visibility_window_s)
        self._reader = (
            StatusReader(
                self._ctx,
                self._polls,
                expected_order_s=settings.expected_order_s,
                visibility_window_s=settings.visibility_window_s,
            )
            if settings.status_reads == "batched"
            else None
        )

    # public -----------------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Stop submitting; let in-flight POSTs record their ids; end with state saved."""
        self._ctx.stop.set()

    async def run(self) -> RunOutcome:
        """Reconcile, then drive every open order until done, interrupted or aborted."""
        ctx = self._ctx
        self._started = ctx.clock()
        await self._load()
        notice: str | None = None
        try:
            async with anyio.create_task_group() as outer:
                notice = await self._open_notifications(outer)
                try:
                    async with anyio.create_task_group() as tg:
                        for order in await ctx.db(ctx.store.orders, OrderState.SUBMITTED):
                            await self._start(order, tg)
                        await self._reconcile_submitting(tg)
                        for step in ctx.steps.values():
                            tg.start_soon(self._dispatch_step, step, tg)
                        tg.start_soon(self._watch_stop, tg)
                finally:
                    if self.notifications is not None:
                        await self.notifications.close()
        except* RunAborted:
            pass
        outcome = self._outcome()
        if notice is not None:
            outcome = replace(outcome, message=f"{outcome.message}; {notice}")
        return outcome

    async def _open_notifications(self, outer: anyio.abc.TaskGroup) -> str | None:
        """Subscribe and listen when the run asked for notifications; what to tell the user
        when that failed (the run then goes on with batched reads)."""
        if self._notify is None or self._reader is None:
            return None
        kinds = {str(ORDER_KINDS[s.kind].kind) for s in self._ctx.steps.values()}
        self.notifications = Notifications(self._ctx, self._reader, self._notify, kinds)
        if await self.notifications.open(outer):
            return None
        problem, self.notifications = self.notifications.problem, None
        return f"order notifications off: {problem}; followed by batched reads instead"

    def progress(self) -> Progress:
        """The current snapshot."""
        ctx, tally = self._ctx, self._ctx.tally
        elapsed = max(ctx.clock() - self._started, 1e-9)
        stats = ctx.gate.counters
        return Progress(
            steps=[replace(c) for c in tally.counts.values()],
            in_flight=tally.in_flight,
            orders_submitted=tally.orders_submitted,
            orders_terminal=tally.orders_terminal,
            requests=stats.requests,
            rate_limited=stats.rate_limited,
            retried=stats.retried,
            elapsed_s=elapsed,
            request_rate_per_s=stats.requests / elapsed,
            stopping=ctx.stop.is_set(),
        )

    def _outcome(self) -> RunOutcome:
        """How the run ended, once its task group is done."""
        ctx, progress = self._ctx, self.progress()
        if ctx.abort_message is not None:
            return RunOutcome(RunEnd.ABORTED, ctx.abort_message, progress)
        if ctx.stop.is_set() and ctx.tally.has_open_work():
            return RunOutcome(RunEnd.INTERRUPTED, "stopped on request; state saved", progress)
        if ctx.tally.given_up:
            return RunOutcome(
                RunEnd.ABORTED,
                f"{counted(ctx.tally.given_up, 'order')} could not be placed or followed (see "
                f"`bwmigrate status --state {ctx.store.path}`: the last error of each); run again "
                "to retry them",
                progress,
            )
        return RunOutcome(RunEnd.DONE, "all orders finished", progress)

    # setup ------------------------------------------------------------------------------------

    async def _load(self) -> None:
        """Read steps, counts and open orders from the store."""
        ctx, tally = self._ctx, self._ctx.tally
        ctx.steps = {s.id: s for s in await ctx.db(ctx.store.steps)}
        tally.counts = {c.step: c for c in await ctx.db(ctx.store.counts)}
        tally.finished, tally.failed = await ctx.db(ctx.store.api_failed_counts)
        orders: list[OrderRecord] = await ctx.db(ctx.store.orders)
        for order in orders:
            if (
                order.idx == 0
                and order.state is not OrderState.DONE
                and is_canary_step(ctx.steps[order.step])
            ):
                tally.canary_done[order.id] = anyio.Event()
            if order.state is OrderState.DONE:
                tally.orders_terminal += 1
            else:
                tally.order_opened(order.step)
            if order.state in (OrderState.SUBMITTED, OrderState.DONE):
                tally.orders_submitted += 1
        for step_id in ctx.steps:
            tally.step_done[step_id] = anyio.Event()
            tally.maybe_step_done(step_id)

    async def _watch_stop(self, tg: anyio.abc.TaskGroup) -> None:
        """End the run when everything is done; on a stop request, just let tasks wind down.

        Meanwhile, report progress twice a second and save the request counters every
        `COUNTERS_EVERY_S` into this run's row, so `bwmigrate status` sees them during the run.
        """
        ctx = self._ctx
        run_id = await ctx.db(ctx.store.open_run_id)
        saved_at = ctx.clock() - COUNTERS_EVERY_S  # the first save right away (the budget)
        while True:
            if not ctx.tally.has_open_work():
                tg.cancel_scope.cancel()
                return
            with anyio.move_on_after(0.5):
                await ctx.stop.wait()
            self._on_progress(self.progress())
            if run_id is not None and ctx.clock() - saved_at >= COUNTERS_EVERY_S:
                saved_at = ctx.clock()
                await self._save_counters(run_id)
            if ctx.stop.is_set() and ctx.tally.in_flight == 0:
                tg.cancel_scope.cancel()
                return

    async def _save_counters(self, run_id: int) -> None:
        """This run's request counters into its row, and the budget in use into the state
        file's meta facts (`budget`: the share, the rate in use after 429 cuts, the limit)."""
        ctx, c = self._ctx, self._ctx.gate.counters
        await ctx.db(
            functools.partial(
                ctx.store.update_run_counters,
                run_id,
                requests=c.requests,
                rate_limited=c.rate_limited,
                retried=c.retried,
            )
        )
        rate = ctx.gate.rate
        budget = {
            "account_limit_per_s": self._account_limit_per_s,
            "share_per_s": round(rate.configured_per_s, 3),
            "in_use_per_s": round(rate.rate_per_s(ctx.clock()), 3),
            "list_reads": self._reader.list_reads if self._reader is not None else 0,
        }
        await ctx.db(ctx.store.set_meta, "budget", json.dumps(budget))

    # dispatch ---------------------------------------------------------------------------------

    async def _dispatch_step(self, step: StepInfo, tg: anyio.abc.TaskGroup) -> None:
        """Start a step's planned orders once the steps it depends on are done."""
        ctx = self._ctx
        for dep in step.depends_on:
            await ctx.tally.step_done[dep].wait()
        if not await canary_passed(ctx, step, functools.partial(self._start, tg=tg)):
            return
        # Chained orders planned by an earlier run are dispatched here; new ones are driven
        # inline by the task that finished their import order.
        for order in await ctx.db(ctx.store.orders, OrderState.PLANNED, step.id):
            if order.id in ctx.tally.canary_done:
                continue  # the canary, already driven by canary_passed
            await self._slots.acquire()
            if ctx.stop.is_set():
                self._slots.release()
                return
            tg.start_soon(self._drive, order, True)

    async def _start(self, order: OrderRecord, tg: anyio.abc.TaskGroup) -> None:
        """Take an order slot and drive `order` in the run's task group."""
        await self._slots.acquire()
        tg.start_soon(self._drive, order, True)

    async def _reconcile_submitting(self, tg: anyio.abc.TaskGroup) -> None:
        """On start: every order left `submitting` by a crash is adopted (and driven) or marked
        absent (and left planned for its step's dispatcher), all looked up concurrently."""
        ctx = self._ctx
        async with anyio.create_task_group() as lookups:
            for order in await ctx.db(ctx.store.orders, OrderState.SUBMITTING):
                lookups.start_soon(self._reconcile_left_submitting, order, tg)

    async def _reconcile_left_submitting(self, order: OrderRecord, tg: anyio.abc.TaskGroup) -> None:
        """Reconcile one order a crash left `submitting`; drive it if it exists."""
        try:
            found = await self._submitter.reconcile(order, "left submitting by an earlier run")
        except StopRequested:
            return
        if found is not None:
            await self._start(found, tg)

    # one order --------------------------------------------------------------------------------

    async def _drive(self, order: OrderRecord, holds_slot: bool) -> None:
        """Take one order (and then its chained order) from its current state to done."""
        tally = self._ctx.tally
        tally.in_flight += 1
        try:
            current: OrderRecord | None = order
            while current is not None and not self._ctx.stop.is_set():
                current = await self._complete(current)
        finally:
            tally.in_flight -= 1
            if holds_slot:
                self._slots.release()
            self._on_progress(self.progress())

    async def _complete(self, order: OrderRecord) -> OrderRecord | None:
        """Submit (if needed), poll to terminal, commit outcomes; return the chained order."""
        if order.state is OrderState.PLANNED:
            order = await self._submitter.submit(order)
            if order.state is OrderState.DONE or order.remote_id is None:
                return None
        if self._ctx.stop.is_set():
            return None
        if self._reader is not None:
            doc = await self._reader.wait_terminal(order)
        else:
            doc = await poll_until_terminal(self._ctx, self._polls, order)
        if doc is None:
            return None
        chained = await commit_outcome(self._ctx, order, doc)
        if self._reader is not None:
            self._reader.settled(order)  # a callback waiting for this commit may answer now
        return chained
