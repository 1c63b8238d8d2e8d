"""The request gate on its production pacer (aiolimiter), in real time.

Only lower bounds on spacing are asserted: a slow machine makes gaps longer, never shorter, so
these cannot fail from load; they fail if the gate ever bursts.
"""

from __future__ import annotations

import itertools
import time

import anyio

from orchestrator.api.gate import AioLimiterPacer, Priority, RequestGate
from orchestrator.api.pacing import Aimd

# aiolimiter measures with the loop's monotonic clock; allow its timer granularity.
SLACK_S = 0.003


async def _grant_times(gate: RequestGate, count: int, priority: Priority) -> list[float]:
    out: list[float] = []
    for _ in range(count):
        await gate.acquire(priority)
        out.append(time.monotonic())
    return out


def test_default_gate_paces_with_aiolimiter() -> None:
    """A gate built without an injected clock uses aiolimiter for its spacing."""
    assert isinstance(RequestGate(Aimd(10.0))._pacer, AioLimiterPacer)


async def test_grants_are_spaced_and_a_start_does_not_burst() -> None:
    """At 50 req/s the first grant is immediate and every next one waits at least 20 ms."""
    gate = RequestGate(Aimd(50.0))
    start = time.monotonic()
    times = await _grant_times(gate, 8, Priority.POLL)
    assert times[0] - start < 0.5  # immediate (generous: only guards against a stuck gate)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 1 / 50 - SLACK_S, gaps
    assert gate.counters.requests == 8


async def test_concurrent_callers_share_one_budget() -> None:
    """Ten tasks asking at once are granted one by one, 1/rate apart, not together."""
    gate = RequestGate(Aimd(40.0))
    times: list[float] = []

    async def one() -> None:
        await gate.acquire(Priority.POLL)
        times.append(time.monotonic())

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(one)
    times.sort()
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 1 / 40 - SLACK_S, gaps


async def test_a_rate_cut_widens_the_spacing_at_once() -> None:
    """After an AIMD cut to half, the very next grant already waits the longer interval."""
    aimd = Aimd(40.0, window_s=0.0)
    gate = RequestGate(aimd)
    before = await _grant_times(gate, 3, Priority.POLL)
    assert aimd.on_rate_limited(time.time())
    after = await _grant_times(gate, 3, Priority.POLL)
    gaps = [b - a for a, b in itertools.pairwise([before[-1], *after])]
    assert min(gaps) >= 1 / 20 - SLACK_S, gaps


async def test_submits_are_granted_before_waiting_polls() -> None:
    """With polls queued, a submit that arrives later is granted before the polls behind it."""
    gate = RequestGate(Aimd(20.0))
    order: list[str] = []

    async def ask(name: str, priority: Priority) -> None:
        await gate.acquire(priority)
        order.append(name)

    async with anyio.create_task_group() as tg:
        for i in range(4):
            tg.start_soon(ask, f"poll{i}", Priority.POLL)
        await anyio.sleep(0.01)
        tg.start_soon(ask, "submit", Priority.SUBMIT)
    # poll0 is granted at once and poll1 may already be pacing when the submit arrives; the
    # submit must still go before the polls that were only queued.
    assert order.index("submit") <= 2, order
    assert order[-1].startswith("poll")
