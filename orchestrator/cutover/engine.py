"""The cutover engine: submit, poll, reconcile and resume orders over one anyio task group.

It drives every order of a stored plan through the exactly-once protocol (DESIGN.md §3):

1. the intent (order row, numbers, CustomerOrderId) is committed before the POST;
2. the order id the API returns is committed before the first poll;
3. on start, orders left `submitting` are looked up (`orchestrator.cutover.reconcile`: by
   CustomerOrderId and by number, across the visibility window) and adopted if found, posted
   again only when provably absent;
4. a POST whose outcome is unknown (lost response, 5xx) goes through the same lookup, never a
   blind retry;
5. an order's per-number outcomes are committed in one transaction, and the order chained to it
   (the SMS order after an import, the A2P follow-up after an SMS order) is planned in that same
   transaction.

Order statuses mean what `orchestrator.api.status` says: EXCEPTION is a failure, a status bwmigrate
does not know is never success (polled on, then its numbers are `unknown`), and A2P refusals of
the A2P follow-up leave the numbers `needs_action`. The first order of an import step with a
canary must finish before the rest of the step is sent; a canary the API refuses for its body
stops the run.

Steps run concurrently in plan order of priority, except that a step sharing numbers with an
earlier one waits for it. At most `max_orders_in_flight` orders are open at once; every request
goes through one shared, burst-free `RequestGate` (submits before polls).

It never prints and never reads the environment: progress goes to a callback, the database
through `Store` (in a worker thread, one writer at a time), the API through `ApiClient`.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import anyio

from orchestrator.api.client import ApiClient
from orchestrator.api.gate import Priority, RequestGate, call_with_retry
from orchestrator.api.orders import ORDER_KINDS, order_body
from orchestrator.api.pacing import Backoff, PollSchedule
from orchestrator.api.status import (
    OrderPhase,
    canary_refusal,
    needs_action_advice,
    order_phase,
    refuses_a2p_only,
)
from orchestrator.api.xml import OrderDoc, OrderList
from orchestrator.cutover.reconcile import Reconciler, StopRequested
from orchestrator.errors import (
    ApiError,
    AuthError,
    PermanentApiError,
    ResponseLostError,
    TransientApiError,
    XmlError,
)
from orchestrator.plan import FailureThreshold, StepKind
from orchestrator.plan.numbers import e164_from_api
from orchestrator.state.store import (
    FailedNumber,
    NumberStatus,
    OrderRecord,
    OrderState,
    Outcome,
    StepCounts,
    StepInfo,
    Store,
)

T = TypeVar("T")
MAX_REPOSTS = 5  # an order proved absent this many times is left for the next run
COUNTERS_EVERY_S = 2.0  # how often a run saves its request counters for `status`
MAX_FAILED_POLLS = 20  # polls failing in a row before an order is left for the next run
MAX_UNKNOWN_POLLS = 20  # polls in a row with a status bwmigrate does not know, then `unknown`


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """How the engine paces itself (from the plan's [rate] and [failure_threshold])."""

    max_orders_in_flight: int = 10
    poll_interval_s: float = 2.0
    poll_cap_s: float = 30.0
    failure_threshold: FailureThreshold = field(default_factory=FailureThreshold)
    seed: int | None = None
    visibility_window_s: float = 30.0  # how long a new order may take to show in order lists


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


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """How a run ended."""

    reason: str  # "done" | "interrupted" | "aborted"
    message: str
    progress: Progress


class _Abort(Exception):
    """Internal: stop the run (failure threshold, auth, API unreachable)."""


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
        self._store = store
        self._client = client
        self._gate = gate
        self._settings = settings
        self._backoff = backoff or Backoff()
        self._on_progress = on_progress or (lambda _p: None)
        self._clock = clock
        self._rng = random.Random(settings.seed)
        self._polls = PollSchedule(
            first_s=settings.poll_interval_s,
            cap_s=max(settings.poll_cap_s, settings.poll_interval_s),
        )
        self._db = anyio.CapacityLimiter(1)
        self._slots = anyio.Semaphore(settings.max_orders_in_flight)
        self._stop = anyio.Event()
        self._steps: dict[int, StepInfo] = {}
        self._counts: dict[int, StepCounts] = {}
        self._step_done: dict[int, anyio.Event] = {}
        self._open_orders: dict[int, int] = {}
        self._finished = self._failed = 0
        self._orders_submitted = self._orders_terminal = self._in_flight = 0
        self._started = 0.0
        self._abort_message: str | None = None
        self._given_up = 0
        self._canary_done: dict[int, anyio.Event] = {}  # canary order id -> committed or given up
        self._reconciler = Reconciler(
            client=client,
            lookup=self._lookup,
            clock=clock,
            stop=self._stop,
            visibility_window_s=settings.visibility_window_s,
        )

    # public -----------------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Stop submitting; let in-flight POSTs record their ids; end with state saved."""
        self._stop.set()

    async def run(self) -> RunOutcome:
        """Reconcile, then drive every open order until done, interrupted or aborted."""
        self._started = self._clock()
        await self._load()
        try:
            async with anyio.create_task_group() as tg:
                for order in await self._db_call(self._store.orders, OrderState.SUBMITTED):
                    await self._slots.acquire()
                    tg.start_soon(self._drive, order, True)
                await self._reconcile_submitting(tg)
                for step in self._steps.values():
                    tg.start_soon(self._dispatch_step, step, tg)
                tg.start_soon(self._watch_stop, tg)
        except* _Abort:
            pass
        progress = self.progress()
        if self._abort_message is not None:
            return RunOutcome("aborted", self._abort_message, progress)
        if self._stop.is_set() and self._has_open_work():
            return RunOutcome("interrupted", "stopped on request; state saved", progress)
        if self._given_up:
            return RunOutcome(
                "aborted",
                f"{self._given_up} order(s) could not be placed or followed (see `bwmigrate "
                "status`: the last error of each); run again to retry them",
                progress,
            )
        return RunOutcome("done", "all orders finished", progress)

    def progress(self) -> Progress:
        """The current snapshot."""
        elapsed = max(self._clock() - self._started, 1e-9)
        stats = self._gate.counters
        return Progress(
            steps=[replace(c) for c in self._counts.values()],
            in_flight=self._in_flight,
            orders_submitted=self._orders_submitted,
            orders_terminal=self._orders_terminal,
            requests=stats.requests,
            rate_limited=stats.rate_limited,
            retried=stats.retried,
            elapsed_s=elapsed,
            request_rate_per_s=stats.requests / elapsed,
            stopping=self._stop.is_set(),
        )

    # setup ------------------------------------------------------------------------------------

    async def _db_call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a store call in the single database worker; never abandoned on cancel."""
        return await anyio.to_thread.run_sync(fn, *args, limiter=self._db)

    async def _load(self) -> None:
        """Read steps, counts and open orders from the store."""
        self._steps = {s.id: s for s in await self._db_call(self._store.steps)}
        self._counts = {c.step: c for c in await self._db_call(self._store.counts)}
        self._finished, self._failed = await self._db_call(self._store.api_failed_counts)
        for order in await self._db_call(self._store.orders):
            if (
                order.idx == 0
                and order.state is not OrderState.DONE
                and self._is_canary_step(self._steps[order.step])
            ):
                self._canary_done[order.id] = anyio.Event()
            if order.state is OrderState.DONE:
                self._orders_terminal += 1
            else:
                self._open_orders[order.step] = self._open_orders.get(order.step, 0) + 1
            if order.state in (OrderState.SUBMITTED, OrderState.DONE):
                self._orders_submitted += 1
        for step_id in self._steps:
            self._step_done[step_id] = anyio.Event()
            self._maybe_step_done(step_id)

    def _has_open_work(self) -> bool:
        """True while some order is not done (a chained step's numbers wait on their import)."""
        return any(self._open_orders.values())

    def _maybe_step_done(self, step_id: int) -> None:
        """Signal dependants once a step has no open orders (and its chain none either)."""
        if self._open_orders.get(step_id, 0) == 0:
            self._step_done[step_id].set()

    async def _watch_stop(self, tg: anyio.abc.TaskGroup) -> None:
        """End the run when everything is done; on a stop request, just let tasks wind down.

        Meanwhile, report progress twice a second and save the request counters every
        `COUNTERS_EVERY_S` into this run's row, so `bwmigrate status` sees them during the run.
        """
        run_id = await self._db_call(self._store.open_run_id)
        saved_at = self._clock()
        while True:
            if not self._has_open_work():
                tg.cancel_scope.cancel()
                return
            with anyio.move_on_after(0.5):
                await self._stop.wait()
            self._on_progress(self.progress())
            if run_id is not None and self._clock() - saved_at >= COUNTERS_EVERY_S:
                saved_at = self._clock()
                c = self._gate.counters
                await self._db_call(
                    functools.partial(
                        self._store.update_run_counters,
                        run_id,
                        requests=c.requests,
                        rate_limited=c.rate_limited,
                        retried=c.retried,
                    )
                )
            if self._stop.is_set() and self._in_flight == 0:
                tg.cancel_scope.cancel()
                return

    # dispatch ---------------------------------------------------------------------------------

    async def _dispatch_step(self, step: StepInfo, tg: anyio.abc.TaskGroup) -> None:
        """Start a step's planned orders once the steps it depends on are done."""
        for dep in step.depends_on:
            await self._step_done[dep].wait()
        if not await self._canary_passed(step, tg):
            return
        # Chained orders planned by an earlier run are dispatched here; new ones are driven
        # inline by the task that finished their import order.
        for order in await self._db_call(self._store.orders, OrderState.PLANNED, step.id):
            if order.id in self._canary_done:
                continue  # the canary, already driven by _canary_passed
            await self._slots.acquire()
            if self._stop.is_set():
                self._slots.release()
                return
            tg.start_soon(self._drive, order, True)

    async def _canary_passed(self, step: StepInfo, tg: anyio.abc.TaskGroup) -> bool:
        """Send an import step's canary order first and wait for it; False holds the step.

        A canary the API refuses for its body aborts the run (now, and on every resume, since
        the verdict is read back from the state file).
        """
        if not self._is_canary_step(step):
            return True
        orders = await self._db_call(self._store.orders, None, step.id)
        canary = next((o for o in orders if o.idx == 0), None)
        if canary is None:
            return True
        if canary.state is not OrderState.DONE:
            done = self._canary_done[canary.id]  # made by _load for every open canary
            if canary.state is OrderState.PLANNED:
                await self._slots.acquire()
                tg.start_soon(self._drive, canary, True)
            while not done.is_set() and not self._stop.is_set():
                with anyio.move_on_after(0.5):
                    await done.wait()
            canary = next(o for o in await self._db_call(self._store.orders, None, step.id)
                          if o.id == canary.id)  # fmt: skip
            if canary.state is not OrderState.DONE:  # stopping, or left for the next run
                for order in orders:
                    if order.id != canary.id and order.state is OrderState.PLANNED:
                        self._give_up(order, count=not self._stop.is_set())
                return False
        refusal = canary_refusal(
            status=canary.remote_status or "",
            codes=await self._db_call(self._store.order_errors, canary.id),
            step_name=step.name,
            body_form=str(step.settings.get("body_form") or "ImportTnOrder"),
        )
        if refusal is None:
            return True
        held = sum(1 for o in orders if o.id != canary.id)
        await self._abort(
            f"the canary order {canary.customer_order_id} of step {step.name!r} was refused: "
            f"{refusal.code} {refusal.description}; the step's other {held} order(s) were not "
            f"sent. Fix: {refusal.hint}; then run again"
        )
        raise _Abort

    @staticmethod
    def _is_canary_step(step: StepInfo) -> bool:
        """An import step whose first order is a canary (plan setting `canary` > 0)."""
        return step.kind is StepKind.IMPORT and bool(step.settings.get("canary"))

    async def _drive(self, order: OrderRecord, holds_slot: bool) -> None:
        """Take one order (and then its chained order) from its current state to done."""
        self._in_flight += 1
        try:
            current: OrderRecord | None = order
            while current is not None and not self._stop.is_set():
                current = await self._complete(current)
        finally:
            self._in_flight -= 1
            if holds_slot:
                self._slots.release()
            self._on_progress(self.progress())

    async def _complete(self, order: OrderRecord) -> OrderRecord | None:
        """Submit (if needed), poll to terminal, commit outcomes; return the chained order."""
        if order.state is OrderState.PLANNED:
            order = await self._submit(order)
            if order.state is OrderState.DONE or order.remote_id is None:
                return None
        if self._stop.is_set():
            return None
        doc = await self._poll_until_terminal(order)
        if doc is None:
            return None
        return await self._commit_outcome(order, doc)

    async def _call(
        self, fn: Callable[[], Awaitable[T]], priority: Priority, *, retry_posts: bool = True
    ) -> T:
        """One API call under the shared gate with in-call retries; refused credentials abort
        the whole run (every other error is the caller's to handle)."""
        try:
            return await call_with_retry(
                self._gate, self._backoff, self._rng, fn, priority=priority,
                retry_posts=retry_posts,
            )  # fmt: skip
        except AuthError as exc:
            await self._abort(f"the API refused the credentials ({exc})")
            raise _Abort from exc

    # submit -----------------------------------------------------------------------------------

    async def _submit(self, order: OrderRecord) -> OrderRecord:
        """POST an order with its intent committed first; reconcile when the outcome is unknown."""
        step = self._steps[order.step]
        kind = ORDER_KINDS[step.kind].kind
        for _attempt in range(MAX_REPOSTS):
            numbers = await self._db_call(self._store.order_numbers, order.id)
            body = order_body(step.kind, step.settings, order.customer_order_id, numbers)
            first = order.submit_attempts == 0
            attempted_at = self._clock()
            await self._db_call(self._store.mark_submitting, order.id, attempted_at)
            order = replace(order, attempted_at=attempted_at)
            if first:
                self._count_move(order.step, "pending", "in_order", order.size)
            try:
                doc = await self._call(
                    functools.partial(self._client.create_order, kind, body),
                    Priority.SUBMIT,
                    retry_posts=False,
                )
            except PermanentApiError as exc:
                if exc.status in (404, 405):
                    await self._abort(
                        f"the target does not serve {kind} orders ({exc}); "
                        "check --target (it must end in /api/v2)"
                    )
                    raise _Abort from exc
                return await self._reject(order, exc)
            except (ResponseLostError, TransientApiError, XmlError) as exc:
                try:
                    found = await self._reconcile(order, f"POST outcome unknown: {exc}")
                except StopRequested:
                    return replace(order, state=OrderState.SUBMITTING, remote_id=None)
                if found is not None:
                    return found
                order = replace(
                    order, state=OrderState.PLANNED, submit_attempts=order.submit_attempts + 1
                )
                continue
            if doc.order_id is None:
                try:
                    found = await self._reconcile(order, "201 without an order id")
                except StopRequested:
                    return replace(order, state=OrderState.SUBMITTING, remote_id=None)
                if found is not None:
                    return found
                order = replace(order, state=OrderState.PLANNED)
                continue
            with anyio.CancelScope(shield=True):
                await self._db_call(
                    self._store.mark_submitted, order.id, doc.order_id, doc.status, self._clock()
                )
            self._orders_submitted += 1
            return replace(
                order, state=OrderState.SUBMITTED, remote_id=doc.order_id, remote_status=doc.status
            )
        await self._db_call(
            self._store.note_order_error,
            order.id,
            f"absent after {MAX_REPOSTS} posts; left for the next run",
        )
        self._give_up(order)
        return replace(order, remote_id=None)

    def _give_up(self, order: OrderRecord, *, count: bool = True) -> None:
        """Stop driving an order in this run; it stays in the state file for the next one."""
        self._given_up += count
        self._open_orders[order.step] -= 1
        self._maybe_step_done(order.step)
        if order.id in self._canary_done:
            self._canary_done[order.id].set()

    async def _reject(self, order: OrderRecord, exc: PermanentApiError) -> OrderRecord:
        """The API refused the order itself (4xx): its numbers fail with the API's code."""
        code = exc.code or str(exc.status)
        desc = exc.description or str(exc)
        role = self._steps[order.step].settings.get("role")
        rest = _failure_status(str(role) if role else None, code)
        await self._commit(order, "REJECTED", [], (code, desc), [], rest)
        return replace(order, state=OrderState.DONE)

    async def _lookup(self, fn: Callable[[], Awaitable[OrderList]]) -> OrderList:
        """One order-list lookup for reconciliation; an API that cannot answer aborts the run
        (posting again without proof of absence could duplicate the order)."""
        try:
            return await self._call(fn, Priority.SUBMIT)
        except (ApiError, XmlError) as exc:  # unreachable, or an answer that is not a list
            await self._abort(f"cannot look orders up in the API ({exc}); run again to resume")
            raise _Abort from exc

    async def _reconcile(self, order: OrderRecord, why: str) -> OrderRecord | None:
        """Find an order whose POST outcome is unknown: adopt it, or mark it absent (None).

        Raises `StopRequested` when stopping before absence is proven (it stays submitting).
        """
        kind = ORDER_KINDS[self._steps[order.step].kind].kind
        numbers = await self._db_call(self._store.order_numbers, order.id)
        remote = await self._reconciler.find(
            kind,
            order.customer_order_id,
            numbers[0] if numbers else None,
            order.attempted_at if order.attempted_at is not None else self._clock(),
        )
        if remote is None:
            await self._db_call(self._store.mark_absent, order.id, f"{why}; absent remotely")
            return None
        with anyio.CancelScope(shield=True):
            await self._db_call(
                self._store.mark_submitted, order.id, remote.order_id, remote.status, self._clock()
            )
        self._orders_submitted += 1
        return replace(
            order,
            state=OrderState.SUBMITTED,
            remote_id=remote.order_id,
            remote_status=remote.status,
        )

    async def _reconcile_submitting(self, tg: anyio.abc.TaskGroup) -> None:
        """On start: every order left `submitting` by a crash is adopted (and driven) or marked
        absent (and left planned for its step's dispatcher), all looked up concurrently."""
        async with anyio.create_task_group() as lookups:
            for order in await self._db_call(self._store.orders, OrderState.SUBMITTING):
                lookups.start_soon(self._reconcile_left_submitting, order, tg)

    async def _reconcile_left_submitting(self, order: OrderRecord, tg: anyio.abc.TaskGroup) -> None:
        """Reconcile one order a crash left `submitting`; drive it if it exists."""
        try:
            found = await self._reconcile(order, "left submitting by an earlier run")
        except StopRequested:
            return
        if found is not None:
            await self._slots.acquire()
            tg.start_soon(self._drive, found, True)

    # poll -------------------------------------------------------------------------------------

    async def _poll_until_terminal(self, order: OrderRecord) -> OrderDoc | None:
        """Poll with per-order backoff until the order is terminal (None when stopping)."""
        kind = ORDER_KINDS[self._steps[order.step].kind].kind
        assert order.remote_id is not None
        remote_id = order.remote_id
        polls = failed_polls = unknown_polls = 0
        while True:
            with anyio.move_on_after(self._polls.delay_s(polls)):
                await self._stop.wait()
            if self._stop.is_set():
                return None
            polls += 1
            try:
                doc: OrderDoc = await self._call(
                    functools.partial(self._client.get_order, kind, remote_id), Priority.POLL
                )
            except (ApiError, XmlError) as exc:
                # Never lose an order: note the error and keep polling (backing off); after
                # MAX_FAILED_POLLS in a row leave it submitted for the next run.
                failed_polls += 1
                note = f"poll {failed_polls}: {exc}"
                await self._db_call(self._store.note_order_error, order.id, note)
                if failed_polls >= MAX_FAILED_POLLS:
                    self._give_up(order)
                    return None
                continue
            failed_polls = 0
            phase = order_phase(doc.status)
            if phase is OrderPhase.UNKNOWN:
                # Never success: keep polling within the usual bound, then commit `unknown`.
                unknown_polls += 1
                note = f"status {doc.status!r} not understood ({unknown_polls} polls)"
                await self._db_call(self._store.note_order_error, order.id, note)
                if unknown_polls >= MAX_UNKNOWN_POLLS:
                    return doc
                continue
            unknown_polls = 0
            if phase is not OrderPhase.OPEN:
                return doc

    # outcomes ---------------------------------------------------------------------------------

    async def _commit_outcome(self, order: OrderRecord, doc: OrderDoc) -> OrderRecord | None:
        """Split an order's terminal status per number and commit it; return the chained order."""
        role = self._steps[order.step].settings.get("role")
        failures = [
            self._refusal(role, e164_from_api(n), f.code, f.description)
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
                doc.status or "UNKNOWN",
                f"order status {doc.status!r} is not one bwmigrate knows (seen "
                f"{MAX_UNKNOWN_POLLS} polls in a row); check order {order.remote_id} with "
                "Bandwidth before acting on these numbers",
            )
            return await self._commit(
                order, doc.status or "UNKNOWN", failures, order_error, warnings,
                NumberStatus.UNKNOWN,
            )  # fmt: skip
        rest = NumberStatus.SUCCEEDED
        if phase is OrderPhase.FAILED:
            rest = _failure_status(role, order_error[0] if order_error else None)
        return await self._commit(order, doc.status, failures, order_error, warnings, rest)

    @staticmethod
    def _refusal(role: object, number: str, code: str, description: str) -> FailedNumber:
        """A per-number refusal, as a failure or (an A2P follow-up's) a number needing action."""
        status = _failure_status(str(role) if role else None, code)
        note = needs_action_advice(code) if status is NumberStatus.NEEDS_ACTION else None
        return FailedNumber(number, code, description, status.value, note)

    async def _commit(
        self,
        order: OrderRecord,
        status: str,
        failures: list[FailedNumber],
        order_error: tuple[str, str] | None,
        warnings: list[tuple[str, str]],
        rest: NumberStatus,
    ) -> OrderRecord | None:
        """Commit outcomes (shielded: a cancelled run still records what it learned)."""
        rest_note = None
        if rest is NumberStatus.NEEDS_ACTION:
            rest_note = needs_action_advice(order_error[0] if order_error else None)
        with anyio.CancelScope(shield=True):
            outcome: Outcome = await self._db_call(
                functools.partial(
                    self._store.record_outcome,
                    order.id, status, failures, order_error, warnings, self._clock(),
                    rest=rest, rest_note=rest_note,
                )
            )  # fmt: skip
        for name in ("succeeded", "failed", "needs_action", "unknown"):
            self._count_move(order.step, "in_order", name, getattr(outcome, name))
        self._finished += outcome.succeeded + outcome.failed + outcome.needs_action
        self._failed += outcome.failed
        self._orders_terminal += 1
        self._open_orders[order.step] -= 1
        if order.id in self._canary_done:
            self._canary_done[order.id].set()
        chained = outcome.chained_order
        if chained is not None:
            self._open_orders[chained.step] = self._open_orders.get(chained.step, 0) + 1
        child = self._chained_after(order.step)
        while child is not None:  # a skipped number is skipped down the whole chain
            self._count_move(child, "pending", "skipped", outcome.skipped)
            child = self._chained_after(child)
        self._maybe_step_done(order.step)
        await self._check_threshold()
        return chained

    def _chained_after(self, step_id: int) -> int | None:
        """The step chained after `step_id` (its SMS or A2P follow-up), if any."""
        return next((s.id for s in self._steps.values() if s.chained_from == step_id), None)

    def _count_move(self, step: int, src: str, dst: str, n: int) -> None:
        """Move n numbers between status counters of a step."""
        if n <= 0 or step not in self._counts:
            return
        c = self._counts[step]
        setattr(c, src, getattr(c, src) - n)
        setattr(c, dst, getattr(c, dst) + n)

    async def _check_threshold(self) -> None:
        """Abort when too many finished numbers failed (after enough have finished)."""
        t = self._settings.failure_threshold
        if self._finished < max(t.min_finished, 1):
            return
        pct = 100.0 * self._failed / self._finished
        if pct > t.max_failed_percent:
            await self._abort(
                f"failure threshold exceeded: {self._failed} of {self._finished} finished numbers "
                f"failed ({pct:.1f}% > {t.max_failed_percent:g}%); check the report, fix the "
                "plan or raise failure_threshold.max_failed_percent, then run again"
            )
            raise _Abort

    async def _abort(self, message: str) -> None:
        """Remember why the run stops."""
        if self._abort_message is None:
            self._abort_message = message


def _failure_status(role: str | None, code: str | None) -> NumberStatus:
    """The status of a number the API refused with `code` in an order of a step with `role`."""
    if refuses_a2p_only(role, code):
        return NumberStatus.NEEDS_ACTION
    return NumberStatus.FAILED
