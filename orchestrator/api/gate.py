"""Rate limiting and retry decisions: one request gate shared by submits and polls.

Owns *when* a request may go out and *whether* a failed one is tried again, in two layers:

- Pure decisions (no clock reads, no sleeping; `now` is passed in): `retry_at_from_headers`
  (429 headers -> epoch second to resume), `Backoff` (bounded, jittered exponential delays),
  `Aimd` (the request rate: halved on a 429, recovering slowly), `PollSchedule` (how long to
  wait before polling an order again).
- The async machinery built on them: `RequestGate` (a burst-free pacer with submit priority and
  a pause every caller honours) and `call_with_retry` (runs one API call under the gate, retrying
  what is safe to retry).

The gate paces by spacing: two grants are never closer than `1 / rate` seconds, and the first
grant of a run is a single request, not a bucket's worth. In production the spacing is
aiolimiter's `AsyncLimiter(1, 1 / rate)`: a leaky bucket of capacity one, so a start cannot
burst. Submit priority and pauses sit on top of it (aiolimiter serves its waiters first come,
first served), and a rate change replaces the limiter, primed so the spacing holds across the
change. aiolimiter reads the event loop's clock, so tests that drive the gate with a fake clock
get `SpacingPacer`, the same rule computed from that clock.

Retry rules (DESIGN.md §3):

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
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import IntEnum
from typing import Protocol, TypeVar

import anyio
from aiolimiter import AsyncLimiter

from orchestrator.errors import (
    RateLimitedError,
    RequestNotSentError,
    ResponseLostError,
    TransientApiError,
)

__all__ = [
    "Aimd",
    "Backoff",
    "GateCounters",
    "PollSchedule",
    "Priority",
    "RequestGate",
    "RequestNotSentError",
    "call_with_retry",
    "is_testing",
    "retry_at_from_headers",
    "set_testing",
]

T = TypeVar("T")


# --- 429 headers ---------------------------------------------------------------------------------

MAX_WAIT_S = 3600.0
"""The furthest ahead a rate-limit header is believed; later values are clamped to it."""

_EPOCH_FLOOR = 1e9
"""`X-RateLimit-Reset` values below this (before 2001) are deltas in seconds, not epoch times."""

_EPOCH_MS_FLOOR = 1e11
"""`X-RateLimit-Reset` values above this (after year 5138 in seconds) are epoch milliseconds."""


def retry_at_from_headers(
    headers: Mapping[str, str], now: float, *, max_wait_s: float = MAX_WAIT_S
) -> float | None:
    """The epoch second a rate-limited caller may try again, or None if no header says.

    Reads `X-RateLimit-Reset` (epoch seconds, as Bandwidth sends it; small values are taken as
    a delta, huge ones as milliseconds) and `Retry-After` (delta seconds or an HTTP date). When
    both are usable the later one wins. A time in the past gives `now` (clock skew: go ahead);
    one more than `max_wait_s` ahead gives `now + max_wait_s`.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    candidates = [
        at
        for at in (
            _parse_reset(lowered.get("x-ratelimit-reset"), now),
            _parse_retry_after(lowered.get("retry-after"), now),
        )
        if at is not None
    ]
    if not candidates:
        return None
    return min(max(max(candidates), now), now + max_wait_s)


def _parse_number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _parse_reset(text: str | None, now: float) -> float | None:
    value = _parse_number(text)
    if value is None:
        return None
    if value < _EPOCH_FLOOR:
        return now + value
    if value > _EPOCH_MS_FLOOR:
        return value / 1000.0
    return value


def _parse_retry_after(text: str | None, now: float) -> float | None:
    if text is None:
        return None
    delta = _parse_number(text)
    if delta is not None:
        return now + delta
    try:
        when = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive result means "-0000"
        return None
    return when.timestamp()


# --- backoff -------------------------------------------------------------------------------------

_testing = False


def set_testing(on: bool) -> None:
    """Turn every `Backoff` delay into zero (for test suites), or back to normal."""
    global _testing
    _testing = on


def is_testing() -> bool:
    """Whether `set_testing(True)` is in force."""
    return _testing


@dataclass(frozen=True, slots=True)
class Backoff:
    """Bounded, jittered exponential backoff for transient faults.

    `max_attempts` counts every try, the first included. The delay before retry `n` (1 = the
    first retry) is `d = min(cap_s, base_s * factor ** (n - 1))` with *equal jitter*: half of
    `d` is fixed and half is random, `d / 2 + jitter * d / 2`. Equal rather than full jitter,
    so a struggling server always gets at least half the exponential pause while clients that
    failed together still spread out.
    """

    base_s: float = 0.5
    factor: float = 2.0
    cap_s: float = 30.0
    max_attempts: int = 5

    def __post_init__(self) -> None:
        if not (self.base_s > 0 and self.factor >= 1 and self.cap_s >= self.base_s):
            raise ValueError(f"Backoff needs base_s > 0, factor >= 1, cap_s >= base_s: {self}")
        if self.max_attempts < 1:
            raise ValueError(f"Backoff needs max_attempts >= 1: {self}")

    def delay_s(self, attempt: int, jitter: float) -> float:
        """Seconds to wait before retry `attempt` (>= 1); `jitter` in [0, 1) from a seeded RNG."""
        if attempt < 1:
            raise ValueError(f"attempt must be >= 1, got {attempt}")
        if not 0.0 <= jitter < 1.0:
            raise ValueError(f"jitter must be in [0, 1), got {jitter}")
        if _testing:
            return 0.0
        try:
            ceiling = min(self.cap_s, self.base_s * self.factor ** (attempt - 1))
        except OverflowError:
            ceiling = self.cap_s
        return ceiling / 2 + jitter * ceiling / 2

    def allows_retry(self, failures: int) -> bool:
        """Whether another try is allowed after `failures` failed ones."""
        return failures < self.max_attempts


# --- AIMD rate control ---------------------------------------------------------------------------


class Aimd:
    """The request rate: multiplicative decrease on a 429, additive recovery in two speeds.

    Starts at `rate_per_s` (the plan's rate) and never goes above it. A 429 multiplies the
    current rate by `decrease` (not below `floor_per_s`), at most once per `window_s`, and only
    for a request sent after the previous cut (a 429 for a request already in flight when the
    rate was cut says nothing about the new rate).

    The rate at which the 429 came is remembered as the *ceiling*. Recovery is quick up to
    `settle` × ceiling (`recover_fraction` of the configured rate back per `recover_every_s`),
    then slow (`probe_fraction` per `recover_every_s`) up to the configured rate: the limiter
    spends its time just under the limit it found instead of bouncing off it (each 429 also
    costs a pause), yet still finds a limit that was raised.

    Time is passed in; the object keeps only the last cut (its rate, time and ceiling).
    """

    def __init__(
        self,
        rate_per_s: float,
        *,
        floor_per_s: float | None = None,
        decrease: float = 0.5,
        window_s: float = 2.0,
        recover_fraction: float = 0.1,
        recover_every_s: float = 1.0,
        settle: float = 0.9,
        probe_fraction: float = 0.005,
    ) -> None:
        floor = rate_per_s / 10 if floor_per_s is None else floor_per_s
        if not rate_per_s > 0:
            raise ValueError(f"rate_per_s must be > 0, got {rate_per_s}")
        if not 0 < floor <= rate_per_s:
            raise ValueError(f"floor_per_s must be in (0, {rate_per_s}], got {floor}")
        if not (0 < decrease <= 1 and 0 < settle <= 1):
            raise ValueError(f"decrease and settle must be in (0, 1], got {decrease}, {settle}")
        if not (window_s >= 0 and recover_every_s > 0):
            raise ValueError("window_s >= 0 and recover_every_s > 0 needed")
        if not (recover_fraction > 0 and probe_fraction > 0):
            raise ValueError("recover_fraction > 0 and probe_fraction > 0 needed")
        self.configured_per_s = rate_per_s
        self.floor_per_s = floor
        self.decrease = decrease
        self.window_s = window_s
        self.recover_every_s = recover_every_s
        self.settle = settle
        self._fast_step = recover_fraction * rate_per_s
        self._slow_step = probe_fraction * rate_per_s
        self._cut_rate = rate_per_s
        self._cut_at = -math.inf
        self._knee = rate_per_s

    @property
    def ceiling_per_s(self) -> float:
        """The rate at which the last 429 came (the configured rate before any)."""
        return min(self.configured_per_s, self._knee / self.settle)

    def rate_per_s(self, now: float) -> float:
        """The allowed request rate at `now`."""
        if self._cut_rate >= self.configured_per_s:
            return self.configured_per_s
        steps = max(0, math.floor((now - self._cut_at) / self.recover_every_s))
        fast_steps = max(0, math.ceil((self._knee - self._cut_rate) / self._fast_step))
        if steps <= fast_steps:
            return min(self._knee, self._cut_rate + steps * self._fast_step)
        slow = self._knee + (steps - fast_steps) * self._slow_step
        return min(self.configured_per_s, slow)

    def on_rate_limited(self, now: float, *, sent_at: float | None = None) -> bool:
        """Record a 429 seen at `now` for a request sent at `sent_at`; True if the rate was cut."""
        if now - self._cut_at < self.window_s:
            return False
        if sent_at is not None and sent_at < self._cut_at:
            return False
        rate = self.rate_per_s(now)
        self._cut_rate = max(self.floor_per_s, rate * self.decrease)
        self._knee = max(self._cut_rate, rate * self.settle)
        self._cut_at = now
        return True


# --- polling -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PollSchedule:
    """How long to wait before polling an order: `first_s`, then ×`factor` up to `cap_s`."""

    first_s: float = 2.0
    factor: float = 1.5
    cap_s: float = 30.0

    def __post_init__(self) -> None:
        if not (self.first_s > 0 and self.factor >= 1 and self.cap_s >= self.first_s):
            raise ValueError(f"need first_s > 0, factor >= 1, cap_s >= first_s ({self})")

    def delay_s(self, polls_done: int) -> float:
        """Seconds from the submit (0 polls done) or the last poll to the next poll."""
        if polls_done < 0:
            raise ValueError(f"polls_done must be >= 0, got {polls_done}")
        try:
            return min(self.cap_s, self.first_s * self.factor**polls_done)
        except OverflowError:
            return self.cap_s


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
