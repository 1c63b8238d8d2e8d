"""Request accounting for `/_sandbox/ledger`, and the per-account rate limit.

Both read time from the caller (the injected clock), so tests can step through windows.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, deque
from typing import Any


class RequestLedger:
    """Counts every API request the sandbox received and how it was answered."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget everything."""
        with self._lock:
            self.total = 0
            self.rate_limited = 0
            self.by_status: Counter[str] = Counter()
            self._window: deque[float] = deque()
            self.max_in_1s = 0
            self._clients: dict[str, _ClientTally] = {}

    def arrived(self, now: float, client: str = "") -> None:
        """A request arrived at `now` (counted before any fault or limit) from `client` (the
        product of its User-Agent: which program's traffic it is)."""
        with self._lock:
            self.total += 1
            self.max_in_1s = max(self.max_in_1s, _slide(self._window, now))
            if client:
                self._clients.setdefault(client, _ClientTally()).arrived(now)

    def answered(self, outcome: str, client: str = "") -> None:
        """A request ended with `outcome`: an HTTP status ("201"), "reset", "dropped", or
        "disconnected" (the client went away before its request was read)."""
        with self._lock:
            self.by_status[outcome] += 1
            if outcome == "429":
                self.rate_limited += 1
            tally = self._clients.get(client)
            if tally is not None:
                tally.by_status[outcome] += 1

    def to_json(self) -> dict[str, Any]:
        """The `requests` part of the ledger plus the 1-second window maximum."""
        with self._lock:
            return {
                "requests": {
                    "total": self.total,
                    "rate_limited": self.rate_limited,
                    "by_status": dict(sorted(self.by_status.items())),
                },
                "max_requests_in_any_1s_window": self.max_in_1s,
                "clients": {name: t.to_json() for name, t in sorted(self._clients.items())},
            }


def _slide(window: deque[float], now: float) -> int:
    """Add `now` to a 1-second sliding window; how many requests it holds."""
    window.append(now)
    while window and window[0] <= now - 1.0:
        window.popleft()
    return len(window)


class _ClientTally:
    """One client's requests (by User-Agent product): the budget test's witness that a run kept
    to its share and live traffic beside it was not starved."""

    def __init__(self) -> None:
        self.total = 0
        self.by_status: Counter[str] = Counter()
        self._window: deque[float] = deque()
        self.max_in_1s = 0

    def arrived(self, now: float) -> None:
        self.total += 1
        self.max_in_1s = max(self.max_in_1s, _slide(self._window, now))

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "rate_limited": self.by_status["429"],
            "by_status": dict(sorted(self.by_status.items())),
            "max_requests_in_any_1s_window": self.max_in_1s,
        }


class RateLimiter:
    """At most `rate_per_s` accepted requests per key in any sliding window.

    The window is 1 s (or 1/rate s for rates below 1/s, allowing one request per window).
    A refused request does not count against the window.
    """

    def __init__(self, rate_per_s: float) -> None:
        self.rate_per_s = rate_per_s
        self._lock = threading.Lock()
        self._accepted: dict[str, deque[float]] = {}
        if rate_per_s > 0:
            self.window_s = max(1.0, 1.0 / rate_per_s)
            self.limit = max(1, math.floor(rate_per_s * self.window_s))

    def reset(self) -> None:
        """Forget every window."""
        with self._lock:
            self._accepted.clear()

    def check(self, key: str, now: float) -> float | None:
        """None if the request may pass (and count it); else the epoch time the window frees."""
        if self.rate_per_s <= 0:
            return None
        with self._lock:
            window = self._accepted.setdefault(key, deque())
            while window and window[0] <= now - self.window_s:
                window.popleft()
            if len(window) >= self.limit:
                return window[0] + self.window_s
            window.append(now)
            return None
