"""The request gate: one burst-free pacer shared by submits and polls, and one call, retried.

Owns *when* a request goes out and the waiting itself, applying the pure decisions of
`orchestrator.api.pacing` (`Aimd` for the rate, `Backoff` for retry delays, 429 headers read by
`retry_at_from_headers` in the client):

- `RequestGate`: a burst-free pacer with submit priority and a pause every caller honours.
- `call_with_retry`: runs one API call under the gate, retrying what is safe to retry.

The gate paces by spacing: two grants are never closer than `1 / rate` seconds, and the first
grant of a run is a single request, not a bucket's worth. In production the spacing is
aiolimiter's `AsyncLimiter(1, 1 / rate)`: a leaky bucket of capacity one, so a start cannot
burst. Submit priority and pauses sit on top of it (aiolimiter serves its waiters first come,
first served), and a rate change replaces the limiter, primed so the spacing holds across the
change. aiolimiter reads the event loop's clock, so tests that drive the gate with a fake clock
get `SpacingPacer`, the same rule computed from that clock.

Retry rules (docs/ARCHITECTURE.md, "The journey of one order"):

    RateLimitedError (429)     pause the whole gate until the reset time, cut the rate, retry
    RequestNotSentError        retry with backoff: the request provably never left (any method)
    TransientApiError          retry with backoff if the call is idempotent; for a POST it
                               becomes ResponseLostError (it may have reached the server)
    ResponseLostError          never retried: the engine reconciles it by CustomerOrderId
    PermanentApiError          never retried

Must not import httpx, the store or the engine; reads no environment.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol, TypeVar

import anyio
from aiolimiter import AsyncLimiter

from orchestrator.api.pacing import Aimd, Backoff
from orchestrator.errors import (
    RateLimitedError,
    RequestNotSentError,
    ResponseLostError,
    TransientApiError,
)

__all__ = [
    "AioLimiterPacer",
    "GateCounters",
    "Pacer",
    "Priority",
    "RequestGate",
    "RequestNotSentError",
    "SpacingPacer",
    "call_with_retry",
]

T = TypeVar("T")


# --- the gate ------------------------------------------------------------------------------------


class Priority(IntEnum):
    """Who is asking for a slot; lower goes first."""

    SUBMIT = 0
    POLL = 1


@dataclass(slots=True)
class GateCounters:
    """What the gate saw: slots granted, 429s reported, retries made (read for `--json`)."""

    requests: int = 0
    rate_limited: int = 0
    retried: int = 0


class _Ticket:
    __slots__ = ("priority", "wake")

    def __init__(self, priority: Priority) -> None:
        self.priority = priority
        self.wake = anyio.Event()


class Pacer(Protocol):
    """The spacing step of the gate: wait until the next grant at `rate_per_s` may go out."""

    async def ready(self, rate_per_s: float) -> bool:
        """Return True when a grant may go out now; False after a wait (the gate re-checks)."""
        ...


class AioLimiterPacer:
    """Spacing by aiolimiter: `AsyncLimiter(1, 1 / rate)`, replaced (primed) on a rate change."""

    # A relative rate change below this keeps the current limiter (AIMD recovers in small steps).
    CHANGE = 0.02

    def __init__(self) -> None:
        self._limiter: AsyncLimiter | None = None
        self._rate_per_s = 0.0

    async def ready(self, rate_per_s: float) -> bool:
        limiter = self._limiter
        if limiter is None or abs(rate_per_s - self._rate_per_s) > self.CHANGE * self._rate_per_s:
            fresh = AsyncLimiter(1, 1.0 / rate_per_s)
            if limiter is not None:
                # Prime it: its one slot counts as the grant just made, so the next grant waits a
                # full new interval instead of going out at once.
                await fresh.acquire()
            self._limiter, self._rate_per_s, limiter = fresh, rate_per_s, fresh
        await limiter.acquire()
        return True


class SpacingPacer:
    """Spacing computed from an injected clock (deterministic tests): grants `1 / rate` apart."""

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], Awaitable[None]]):
        self._clock = clock
        self._sleep = sleep
        self._last_grant_at = -math.inf

    async def ready(self, rate_per_s: float) -> bool:
        now = self._clock()
        ready_at = self._last_grant_at + 1.0 / rate_per_s
        if ready_at <= now:
            self._last_grant_at = now
            return True
        await self._sleep(ready_at - now)
        return False


class RequestGate:
    """One burst-free pacer for an API budget, shared by every submit and poll.

    - Grants are at least `1 / rate` seconds apart, the rate read from the `Aimd` at each grant
      (so a cut or a recovery applies to callers already waiting); the first grant is one request.
    - Submits go first: while any submit waits, no poll is granted. Within a priority, FIFO.
    - `pause_until(epoch_s)` holds every caller until then (pauses only ever extend).

    `clock` returns epoch seconds and `sleep` waits; tests inject a fake pair, and then the
    spacing is computed from that clock (`SpacingPacer`) instead of by aiolimiter.
    """

    def __init__(
        self,
        rate: Aimd,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        default_pause_s: float = 1.0,
        pacer: Pacer | None = None,
    ) -> None:
        self.rate = rate
        self.clock = clock
        self.sleep = sleep
        self.default_pause_s = default_pause_s
        self.counters = GateCounters()
        self._queues: dict[Priority, deque[_Ticket]] = {p: deque() for p in Priority}
        self._paused_until = -math.inf
        if pacer is None:
            real = clock is time.time and sleep is anyio.sleep
            pacer = AioLimiterPacer() if real else SpacingPacer(clock, sleep)
        self._pacer = pacer

    @property
    def paused_until(self) -> float | None:
        """The epoch second the current pause ends, or None if never paused."""
        return None if self._paused_until == -math.inf else self._paused_until

    def waiting(self, priority: Priority) -> int:
        """How many callers of `priority` wait for a slot."""
        return len(self._queues[priority])

    def pause_until(self, epoch_s: float) -> None:
        """Hold every caller until `epoch_s` (no effect if an existing pause lasts longer)."""
        self._paused_until = max(self._paused_until, epoch_s)

    def on_rate_limited(self, retry_at: float | None, *, sent_at: float | None = None) -> None:
        """A 429 came back: count it, pause until `retry_at` (or a default pause), cut the rate."""
        now = self.clock()
        self.counters.rate_limited += 1
        self.pause_until(retry_at if retry_at is not None else now + self.default_pause_s)
        self.rate.on_rate_limited(now, sent_at=sent_at)

    @asynccontextmanager
    async def slot(self, priority: Priority) -> AsyncIterator[float]:
        """Wait for a slot; yields the epoch time it was granted (the request's send time)."""
        yield await self.acquire(priority)

    async def acquire(self, priority: Priority) -> float:
        """Wait for a slot and return the epoch time it was granted."""
        ticket = _Ticket(priority)
        self._queues[priority].append(ticket)
        try:
            granted_at = await self._wait_turn(ticket)
        finally:
            self._queues[priority].remove(ticket)
            self._wake_head()
        return granted_at

    async def _wait_turn(self, ticket: _Ticket) -> float:
        while True:
            if self._head() is not ticket:
                ticket.wake = anyio.Event()
                await ticket.wake.wait()
                continue
            now = self.clock()
            if self._paused_until > now:
                await self.sleep(self._paused_until - now)
                continue
            if not await self._pacer.ready(self.rate.rate_per_s(now)):
                continue
            now = self.clock()
            if self._paused_until > now:  # a 429 arrived while pacing: honour its pause
                continue
            self.counters.requests += 1
            return now

    def _head(self) -> _Ticket | None:
        for priority in Priority:
            if self._queues[priority]:
                return self._queues[priority][0]
        return None

    def _wake_head(self) -> None:
        head = self._head()
        if head is not None:
            head.wake.set()


# --- one call, retried ---------------------------------------------------------------------------


class _Random(Protocol):
    def random(self) -> float: ...


async def call_with_retry(
    gate: RequestGate,
    backoff: Backoff,
    rng: _Random,
    fn: Callable[[], Awaitable[T]],
    *,
    priority: Priority,
    retry_posts: bool,
    max_rate_limited: int = 30,
) -> T:
    """Run `fn` (one API call) under a gate slot, retrying what is safe to retry.

    - `RateLimitedError`: the gate pauses until its `retry_at`, the rate is cut, and the call is
      tried again (a 429 was not processed, so this holds for POSTs too); after
      `max_rate_limited` 429s in one call the error is raised.
    - `RequestNotSentError`: retried with `backoff` for any call.
    - other `TransientApiError`: retried with `backoff` when `retry_posts` is True (idempotent
      calls: GETs, importTnChecker). With `retry_posts=False` (creating an order) it is raised as
      `ResponseLostError`: the request may have reached the server, so the engine reconciles.
    - `ResponseLostError`, `PermanentApiError` and anything else: raised at once.

    The last error is raised when `backoff.max_attempts` tries have failed.
    """
    failures = 0
    rate_limited = 0
    while True:
        sent_at = await gate.acquire(priority)
        try:
            return await fn()
        except RateLimitedError as exc:
            gate.on_rate_limited(exc.retry_at, sent_at=sent_at)
            rate_limited += 1
            if rate_limited > max_rate_limited:
                raise
        except TransientApiError as exc:
            if not (retry_posts or isinstance(exc, RequestNotSentError)):
                raise ResponseLostError(
                    f"{exc} (the request may have reached the server: reconcile, do not resend)"
                ) from exc
            failures += 1
            if not backoff.allows_retry(failures):
                raise
            await gate.sleep(backoff.delay_s(failures, rng.random()))
        gate.counters.retried += 1
