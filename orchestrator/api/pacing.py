"""Pacing and retry decisions: pure functions of what they are given, for the async gate.

Owns *how long* to wait and *whether* to try again, never the waiting itself:

- `retry_at_from_headers`: a 429's `X-RateLimit-Reset` / `Retry-After` headers -> the epoch
  second to resume.
- `Backoff`: bounded, jittered exponential delays for transient faults; `sleeps=False` turns
  every delay into zero (the testing switch, passed in: test suites build their `Backoff` so).
- `Aimd`: the request rate, halved on a 429 and recovering slowly.
- `PollSchedule`: how long to wait before polling an order again.

No clock reads (`now` is passed in), no sleeping, no I/O, no environment, no module-level
state. Imports nothing of bwmigrate: `orchestrator.api.gate` applies these decisions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

__all__ = [
    "MAX_WAIT_S",
    "Aimd",
    "Backoff",
    "PollSchedule",
    "retry_at_from_headers",
]


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


@dataclass(frozen=True, slots=True)
class Backoff:
    """Bounded, jittered exponential backoff for transient faults.

    `max_attempts` counts every try, the first included. The delay before retry `n` (1 = the
    first retry) is `d = min(cap_s, base_s * factor ** (n - 1))` with *equal jitter*: half of
    `d` is fixed and half is random, `d / 2 + jitter * d / 2`. Equal rather than full jitter,
    so a struggling server always gets at least half the exponential pause while clients that
    failed together still spread out.

    `sleeps=False` is the testing switch (as stamina's): every delay is zero, the number of
    attempts unchanged, so a test suite's retries happen at once.
    """

    base_s: float = 0.5
    factor: float = 2.0
    cap_s: float = 30.0
    max_attempts: int = 5
    sleeps: bool = True

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
        if not self.sleeps:
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
