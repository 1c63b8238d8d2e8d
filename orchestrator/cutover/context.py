"""What the engine's parts share during one run: the wiring, the steps and the tally.

`RunContext` is built by `orchestrator.cutover.engine.Engine` for one run and handed to the
parts it drives (`canary`, `submit`, `outcome`): the store behind one database worker
(`db`), every API call through the shared gate with in-call retries (`call`), the clock, the
stop event, the stored steps, and the `Tally` of what the run has done so far. `abort`
records why the run stops (the first reason wins) and returns the `RunAborted` to raise;
the engine catches it at the top of its task group.

Must not print, read the environment or decide anything about orders: the decisions are
`orchestrator.api.status`' (what an answer means) and the parts' (what to do about it).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio

from orchestrator.api.client import ApiClient
from orchestrator.api.gate import Priority, RequestGate, call_with_retry
from orchestrator.api.pacing import Backoff
from orchestrator.errors import AuthError
from orchestrator.plan import FailureThreshold
from orchestrator.state.schema import NumberStatus, OrderRecord, StepCounts, StepInfo
from orchestrator.state.store import Store

__all__ = ["RunAborted", "RunContext", "Tally"]

T = TypeVar("T")


class RunAborted(Exception):
    """Stop the run (failure threshold, auth, API unreachable, canary refused); the reason is
    in `RunContext.abort_message`."""


@dataclass(slots=True)
class Tally:
    """What the run has done so far, for progress, the failure threshold and knowing when a
    step (and the run) has nothing left open."""

    counts: dict[int, StepCounts] = field(default_factory=dict)
    open_orders: dict[int, int] = field(default_factory=dict)  # step id -> orders not done
    step_done: dict[int, anyio.Event] = field(default_factory=dict)
    canary_done: dict[int, anyio.Event] = field(default_factory=dict)  # canary order id -> event
    finished: int = 0  # numbers with a final outcome from the API (succeeded, failed, ...)
    failed: int = 0
    orders_submitted: int = 0
    orders_terminal: int = 0
    in_flight: int = 0
    given_up: int = 0  # orders left for the next run

    def move(self, step: int, src: NumberStatus, dst: NumberStatus, n: int) -> None:
        """Move `n` numbers of `step` from one status counter to another."""
        if n <= 0 or step not in self.counts:
            return
        c = self.counts[step]
        setattr(c, src.value, getattr(c, src.value) - n)
        setattr(c, dst.value, getattr(c, dst.value) + n)

    def has_open_work(self) -> bool:
        """True while some order is not done (a chained step's numbers wait on their import)."""
        return any(self.open_orders.values())

    def maybe_step_done(self, step_id: int) -> None:
        """Signal dependants once a step has no open orders (and its chain none either)."""
        if self.open_orders.get(step_id, 0) == 0:
            self.step_done[step_id].set()

    def order_opened(self, step_id: int) -> None:
        """A new order of `step_id` is open (a chained order planned by a commit)."""
        self.open_orders[step_id] = self.open_orders.get(step_id, 0) + 1

    def order_closed(self, order: OrderRecord) -> None:
        """An order is done, or left for the next run: it no longer holds its step open."""
        self.open_orders[order.step] -= 1
        if order.id in self.canary_done:
            self.canary_done[order.id].set()

    def give_up(self, order: OrderRecord, *, count: bool = True) -> None:
        """Stop driving an order in this run; it stays in the state file for the next one."""
        self.given_up += count
        self.open_orders[order.step] -= 1
        self.maybe_step_done(order.step)
        if order.id in self.canary_done:
            self.canary_done[order.id].set()


@dataclass(slots=True)
class RunContext:
    """The wiring of one run, shared by the engine's parts (see the module docstring)."""

    store: Store
    client: ApiClient
    gate: RequestGate
    backoff: Backoff
    rng: random.Random
    clock: Callable[[], float]
    threshold: FailureThreshold
    stop: anyio.Event = field(default_factory=anyio.Event)
    steps: dict[int, StepInfo] = field(default_factory=dict)
    tally: Tally = field(default_factory=Tally)
    abort_message: str | None = None
    _db: anyio.CapacityLimiter = field(init=False, default_factory=lambda: anyio.CapacityLimiter(1))

    async def db(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a store call in the single database worker; never abandoned on cancel."""
        return await anyio.to_thread.run_sync(fn, *args, limiter=self._db)

    async def call(
        self,
        fn: Callable[[], Awaitable[T]],
        priority: Priority,
        *,
        retry_posts: bool = True,
        auth_aborts: bool = True,
    ) -> T:
        """One API call under the shared gate with in-call retries; refused credentials abort
        the whole run (unless `auth_aborts` is False: the caller has a state to restore first;
        every other error is the caller's to handle)."""
        try:
            return await call_with_retry(
                self.gate, self.backoff, self.rng, fn, priority=priority, retry_posts=retry_posts
            )
        except AuthError as exc:
            if not auth_aborts:
                raise
            raise self.abort(f"the API refused the credentials ({exc})") from exc

    def abort(self, message: str) -> RunAborted:
        """Remember why the run stops (the first reason wins); the exception to raise."""
        if self.abort_message is None:
            self.abort_message = message
        return RunAborted(message)
