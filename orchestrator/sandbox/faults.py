"""Fault decisions, drawn from one seeded RNG so a run with the same `--seed` and the same
request sequence fails the same way.

Every API request draws the same number of values whatever the configuration, so turning one
fault on does not reshuffle the others. Pure decisions: the app carries them out.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from orchestrator.sandbox.config import FaultConfig


@dataclass(frozen=True)
class FaultDecision:
    """What to do to one request."""

    reset: bool = False
    """Break the connection before handling (nothing is created)."""
    error: bool = False
    """Answer 500 with a ResponseStatus 1000 body (nothing is created)."""
    throttle: bool = False
    """Answer 429 as if the rate limit were hit (a "429 storm" when frequent)."""
    latency_s: float = 0.0
    """Wait this long before handling."""
    drop_after_commit: bool = False
    """If the request creates something, create it, then lose the response."""


NO_FAULT = FaultDecision()


class FaultInjector:
    """Seeded fault decisions; thread-safe."""

    def __init__(self, config: FaultConfig, seed: int) -> None:
        self.config = config
        self._seed = seed
        self._lock = threading.Lock()
        self._rng = random.Random(seed)

    def reset(self) -> None:
        """Start the decision sequence again from the seed."""
        with self._lock:
            self._rng = random.Random(self._seed)

    def decide(self) -> FaultDecision:
        """Decisions for one API request."""
        c = self.config
        with self._lock:
            draws = [self._rng.random() for _ in range(5)]
        decision = FaultDecision(
            reset=draws[0] < c.reset_rate,
            error=draws[1] < c.error_rate,
            throttle=draws[2] < c.throttle_rate,
            latency_s=c.latency_s if draws[3] < c.latency_rate else 0.0,
            drop_after_commit=draws[4] < c.drop_after_commit_rate,
        )
        return NO_FAULT if decision == NO_FAULT else decision

    def slow_order_extra_s(self) -> float:
        """Extra PROCESSING time for a new order (0 unless it is picked as slow)."""
        with self._lock:
            draw = self._rng.random()
        return self.config.slow_order_s if draw < self.config.slow_order_rate else 0.0
