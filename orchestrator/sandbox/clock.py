"""Time for the sandbox: the system clock, and a manual clock tests move by hand.

Order lifecycles, token expiry, the rate limit and the ledger's request windows all read one
injected `Clock`, so a test can walk an order from RECEIVED to COMPLETE without sleeping.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Anything with `now()` returning epoch seconds."""

    def now(self) -> float:
        """Current time in epoch seconds (UTC)."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> float:
        """`time.time()`."""
        return time.time()


class ManualClock:
    """A clock that moves only when told to; safe to move from a test thread."""

    def __init__(self, start: float = 1_715_677_923.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        """The current manual time."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by `seconds`; returns the new time."""
        with self._lock:
            self._now += seconds
            return self._now
