"""The cutover engine: submit, poll, reconcile and resume orders over one anyio task group.

It drives every order of a stored plan through the exactly-once protocol (DESIGN.md §3):

1. the intent (order row, numbers, CustomerOrderId) is committed before the POST;
2. the order id the API returns is committed before the first poll;
3. on start, orders left `submitting` are looked up by CustomerOrderId and adopted if found,
   posted again only when provably absent;
4. a POST whose outcome is unknown (lost response, 5xx) goes through the same lookup, never a
   blind retry;
5. an order's per-number outcomes are committed in one transaction, and the TN option order
   chained to an import is planned in that same transaction.

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

from orchestrator.client import ApiClient
from orchestrator.errors import (
    ApiError,
    AuthError,
    PermanentApiError,
    ResponseLostError,
    TransientApiError,
    XmlError,
)
from orchestrator.limits import Backoff, PollSchedule, Priority, RequestGate, call_with_retry
from orchestrator.plan import FailureThreshold, StepKind, order_body
from orchestrator.store import (
    FailedNumber,
    OrderRecord,
    OrderState,
    Outcome,
    StepCounts,
    StepInfo,
    Store,
)
from orchestrator.xml import OrderDoc, OrderList

T = TypeVar("T")
TERMINAL = frozenset({"COMPLETE", "PARTIAL", "FAILED", "EXCEPTION"})
_API_KIND = {StepKind.IMPORT: "import", StepKind.REMOVE: "remove", StepKind.MESSAGING: "tnoptions"}
MAX_REPOSTS = 5  # an order proved absent this many times is left for the next run
COUNTERS_EVERY_S = 2.0  # how often a run saves its request counters for `status`
MAX_FAILED_POLLS = 20  # polls failing in a row before an order is left for the next run


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """How the engine paces itself (from the plan's [rate] and [failure_threshold])."""

    max_orders_in_flight: int = 10
    poll_interval_s: float = 2.0
    poll_cap_s: float = 30.0
    failure_threshold: FailureThreshold = field(default_factory=FailureThreshold)
    seed: int | None = None


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
                await self._reconcile_submitting()
                for order in await self._db_call(self._store.orders, OrderState.SUBMITTED):
                    await self._slots.acquire()
                    tg.start_soon(self._drive, order, True)
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
        # Chained orders planned by an earlier run are dispatched here; new ones are driven
        # inline by the task that finished their import order.
        for order in await self._db_call(self._store.orders, OrderState.PLANNED, step.id):
            await self._slots.acquire()
            if self._stop.is_set():
                self._slots.release()
                return
            tg.start_soon(self._drive, order, True)

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
        kind = _API_KIND[step.kind]
        for _attempt in range(MAX_REPOSTS):
            numbers = await self._db_call(self._store.order_numbers, order.id)
            body = order_body(step.kind, step.settings, order.customer_order_id, numbers)
            first = order.submit_attempts == 0
            await self._db_call(self._store.mark_submitting, order.id, self._clock())
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
                found = await self._reconcile(order, f"POST outcome unknown: {exc}")
                if found is not None:
                    return found
                order = replace(
                    order, state=OrderState.PLANNED, submit_attempts=order.submit_attempts + 1
                )
                continue
            if doc.order_id is None:
                found = await self._reconcile(order, "201 without an order id")
                if found is not None:
                    return found
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

    def _give_up(self, order: OrderRecord) -> None:
        """Stop driving an order in this run; it stays in the state file for the next one."""
        self._given_up += 1
        self._open_orders[order.step] -= 1
        self._maybe_step_done(order.step)

    async def _reject(self, order: OrderRecord, exc: PermanentApiError) -> OrderRecord:
        """The API refused the order itself (4xx): its numbers fail with the API's code."""
        code = exc.code or str(exc.status)
        desc = exc.description or str(exc)
        await self._commit(order, "REJECTED", [], (code, desc), [])
        return replace(order, state=OrderState.DONE)

    async def _reconcile(self, order: OrderRecord, why: str) -> OrderRecord | None:
        """Look an order up by CustomerOrderId: adopt it if it exists, else mark it absent."""
        kind = _API_KIND[self._steps[order.step].kind]
        try:
            found: OrderList = await self._call(
                functools.partial(self._client.find_orders, kind, order.customer_order_id),
                Priority.SUBMIT,
            )
        except (ApiError, XmlError) as exc:  # unreachable, or an answer that is not a list
            await self._abort(
                f"cannot reconcile order {order.customer_order_id} with the API ({exc}); "
                "run again to resume"
            )
            raise _Abort from exc
        matches = [o for o in found.orders if o.customer_order_id == order.customer_order_id]
        if matches:
            remote = matches[0]
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
        await self._db_call(self._store.mark_absent, order.id, f"{why}; absent remotely")
        return None

    async def _reconcile_submitting(self) -> None:
        """On start: every order left `submitting` by a crash is adopted or marked absent."""
        for order in await self._db_call(self._store.orders, OrderState.SUBMITTING):
            await self._reconcile(order, "left submitting by an earlier run")

    # poll -------------------------------------------------------------------------------------

    async def _poll_until_terminal(self, order: OrderRecord) -> OrderDoc | None:
        """Poll with per-order backoff until the order is terminal (None when stopping)."""
        kind = _API_KIND[self._steps[order.step].kind]
        assert order.remote_id is not None
        remote_id = order.remote_id
        polls = failed_polls = 0
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
            if doc.status in TERMINAL:
                return doc

    # outcomes ---------------------------------------------------------------------------------

    async def _commit_outcome(self, order: OrderRecord, doc: OrderDoc) -> OrderRecord | None:
        """Split an order's terminal status per number and commit it; return the chained order."""
        failures = [
            FailedNumber(to_e164(n), f.code, f.description) for f in doc.failures for n in f.numbers
        ]
        order_error = (
            (doc.errors[0].code or doc.status, doc.errors[0].description) if doc.errors else None
        )
        warnings = [(to_e164(w.number), w.description) for w in doc.warnings if w.number]
        return await self._commit(order, doc.status, failures, order_error, warnings)

    async def _commit(
        self,
        order: OrderRecord,
        status: str,
        failures: list[FailedNumber],
        order_error: tuple[str, str] | None,
        warnings: list[tuple[str, str]],
    ) -> OrderRecord | None:
        """Commit outcomes (shielded: a cancelled run still records what it learned)."""
        with anyio.CancelScope(shield=True):
            outcome: Outcome = await self._db_call(
                self._store.record_outcome,
                order.id,
                status,
                failures,
                order_error,
                warnings,
                self._clock(),
            )
        self._count_move(order.step, "in_order", "succeeded", outcome.succeeded)
        self._count_move(order.step, "in_order", "failed", outcome.failed)
        self._finished += outcome.succeeded + outcome.failed
        self._failed += outcome.failed
        self._orders_terminal += 1
        self._open_orders[order.step] -= 1
        chained = outcome.chained_order
        if chained is not None:
            self._open_orders[chained.step] = self._open_orders.get(chained.step, 0) + 1
        for step in self._steps.values():
            if step.chained_from == order.step:
                self._count_move(step.id, "pending", "skipped", outcome.skipped)
        self._maybe_step_done(order.step)
        await self._check_threshold()
        return chained

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


def to_e164(number: str) -> str:
    """Numbers in API responses: E.164 on v2, but be ready for 10/11-digit NANP (reference §13)."""
    n = number.strip()
    if n.startswith("+"):
        return n
    if len(n) == 10 and n.isdigit():
        return "+1" + n
    if len(n) == 11 and n.startswith("1") and n.isdigit():
        return "+" + n
    return n
