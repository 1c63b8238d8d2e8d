"""The request gate on a fake clock (spacing, submit priority, pauses, rate cuts) and
`call_with_retry` (what is retried, after how long, and what becomes a lost response)."""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Awaitable, Callable

import anyio
import anyio.lowlevel
import pytest

from orchestrator.api.gate import Priority, RequestGate, RequestNotSentError, call_with_retry
from orchestrator.api.pacing import Aimd, Backoff
from orchestrator.errors import (
    PermanentApiError,
    RateLimitedError,
    ResponseLostError,
    TransientApiError,
)

NOW = 1_700_000_000.0


# --- a fake clock the test moves by hand -----------------------------------------------------


class FakeClock:
    """Epoch time that moves only in `advance`, waking sleepers in deadline order."""

    def __init__(self, start: float = NOW) -> None:
        self.now = start
        self._sleepers: list[tuple[float, int, anyio.Event]] = []
        self._seq = itertools.count()

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        event = anyio.Event()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._seq), event))
        await event.wait()

    async def advance(self, seconds: float) -> None:
        """Move time forward, letting every task run to its next wait at each deadline."""
        target = self.now + seconds
        await anyio.wait_all_tasks_blocked()
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, event = heapq.heappop(self._sleepers)
            self.now = max(self.now, deadline)
            event.set()
            await anyio.wait_all_tasks_blocked()
        self.now = target
        await anyio.wait_all_tasks_blocked()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_gate(clock: FakeClock, rate_per_s: float = 2.0, **aimd: float) -> RequestGate:
    return RequestGate(Aimd(rate_per_s, **aimd), clock=clock.time, sleep=clock.sleep)


# --- RequestGate ---------------------------------------------------------------------------------


async def _take(
    gate: RequestGate, priority: Priority, name: str, log: list[tuple[str, float]]
) -> None:
    granted_at = await gate.acquire(priority)
    log.append((name, granted_at - NOW))


async def test_gate_does_not_burst_at_start(clock: FakeClock) -> None:
    """Five callers arriving together are granted one every 1/rate seconds, the first at once."""
    gate = make_gate(clock, rate_per_s=2.0)
    log: list[tuple[str, float]] = []
    async with anyio.create_task_group() as tg:
        for i in range(5):
            tg.start_soon(_take, gate, Priority.POLL, f"p{i}", log)
        await clock.advance(10)
    assert log == [("p0", 0.0), ("p1", 0.5), ("p2", 1.0), ("p3", 1.5), ("p4", 2.0)]
    assert gate.counters.requests == 5


async def test_gate_grants_submits_before_waiting_polls(clock: FakeClock) -> None:
    """Submits that arrive while polls wait are granted before any of those polls."""
    gate = make_gate(clock, rate_per_s=1.0)
    log: list[tuple[str, float]] = []
    async with anyio.create_task_group() as tg:
        for i in range(3):
            tg.start_soon(_take, gate, Priority.POLL, f"p{i}", log)
        await anyio.wait_all_tasks_blocked()
        for i in range(2):
            tg.start_soon(_take, gate, Priority.SUBMIT, f"s{i}", log)
        await clock.advance(10)
    assert [name for name, _ in log] == ["p0", "s0", "s1", "p1", "p2"]
    assert [at for _, at in log] == [0.0, 1.0, 2.0, 3.0, 4.0]


async def test_gate_pause_holds_every_caller(clock: FakeClock) -> None:
    """During a pause neither submits nor polls get a slot; afterwards they resume at the rate."""
    gate = make_gate(clock, rate_per_s=4.0)
    gate.pause_until(NOW + 5)
    gate.pause_until(NOW + 2)  # a shorter pause does not cut the longer one
    log: list[tuple[str, float]] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(_take, gate, Priority.POLL, "p", log)
        tg.start_soon(_take, gate, Priority.SUBMIT, "s", log)
        await clock.advance(4.99)
        assert log == []
        await clock.advance(1)
    assert log == [("s", 5.0), ("p", 5.25)]
    assert gate.paused_until == NOW + 5


async def test_gate_applies_a_rate_cut_to_callers_already_waiting(clock: FakeClock) -> None:
    """A 429 pauses the gate and halves the rate for callers that were already queued."""
    gate = make_gate(clock, rate_per_s=2.0, recover_every_s=1000.0)
    log: list[tuple[str, float]] = []
    async with anyio.create_task_group() as tg:
        for i in range(4):
            tg.start_soon(_take, gate, Priority.POLL, f"p{i}", log)
        await clock.advance(0.5)  # p0 at 0, p1 at 0.5
        gate.on_rate_limited(NOW + 3, sent_at=NOW)
        await clock.advance(10)
    assert log == [("p0", 0.0), ("p1", 0.5), ("p2", 3.0), ("p3", 4.0)]
    assert gate.counters.rate_limited == 1


async def test_gate_without_reset_time_pauses_for_the_default(clock: FakeClock) -> None:
    """A 429 without usable headers pauses the gate for `default_pause_s`."""
    gate = make_gate(clock)
    gate.on_rate_limited(None)
    assert gate.paused_until == NOW + gate.default_pause_s


async def test_gate_survives_a_cancelled_waiter(clock: FakeClock) -> None:
    """A caller cancelled while queued leaves, and the callers behind it are still served."""
    gate = make_gate(clock, rate_per_s=1.0)
    log: list[tuple[str, float]] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(_take, gate, Priority.POLL, "p0", log)
        doomed = anyio.CancelScope()
        tg.start_soon(_cancellable_take, gate, doomed, log)
        tg.start_soon(_take, gate, Priority.POLL, "p2", log)
        await anyio.wait_all_tasks_blocked()
        assert gate.waiting(Priority.SUBMIT) == 1
        doomed.cancel()
        await clock.advance(5)
    assert log == [("p0", 0.0), ("p2", 1.0)]
    assert gate.waiting(Priority.SUBMIT) == 0


async def _cancellable_take(
    gate: RequestGate, scope: anyio.CancelScope, log: list[tuple[str, float]]
) -> None:
    with scope:
        await _take(gate, Priority.SUBMIT, "doomed", log)


async def test_gate_slot_yields_the_grant_time(clock: FakeClock) -> None:
    """`async with gate.slot(...)` yields the epoch second the slot was granted."""
    gate = make_gate(clock)
    async with gate.slot(Priority.SUBMIT) as granted_at:
        assert granted_at == NOW


# --- call_with_retry ------------------------------------------------------------------------------


class ScriptedCall:
    """An API call that raises or returns the scripted outcomes in turn, noting call times."""

    def __init__(self, clock: FakeClock, *outcomes: BaseException | str) -> None:
        self._clock = clock
        self._outcomes = list(outcomes)
        self.calls: list[float] = []

    async def __call__(self) -> str:
        self.calls.append(self._clock.now - NOW)
        outcome = self._outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


async def _run(clock: FakeClock, call: Callable[[], Awaitable[str]]) -> str:
    """Run `call` in a task while the clock moves an hour ahead; its result or error is ours."""
    outcome: list[str | Exception] = []

    async def runner() -> None:
        try:
            outcome.append(await call())
        except Exception as exc:
            outcome.append(exc)

    async with anyio.create_task_group() as tg:
        tg.start_soon(runner)
        await clock.advance(3600)
    if isinstance(outcome[0], Exception):
        raise outcome[0]
    return outcome[0]


def _retrying(
    gate: RequestGate, call: ScriptedCall, *, retry_posts: bool, backoff: Backoff | None = None
) -> Callable[[], Awaitable[str]]:
    async def go() -> str:
        return await call_with_retry(
            gate,
            backoff or Backoff(base_s=1.0, factor=2.0, cap_s=8.0, max_attempts=4),
            random.Random(7),
            call,
            priority=Priority.SUBMIT,
            retry_posts=retry_posts,
        )

    return go


async def test_rate_limited_call_waits_for_the_reset_cuts_the_rate_and_retries(
    clock: FakeClock,
) -> None:
    """A 429 pauses the gate until its reset time, cuts the rate, and the call is tried again."""
    gate = make_gate(clock, rate_per_s=10.0)
    call = ScriptedCall(clock, RateLimitedError("429", retry_at=NOW + 4), "created")
    assert await _run(clock, _retrying(gate, call, retry_posts=False)) == "created"
    assert call.calls == [0.0, 4.0]
    assert gate.rate.rate_per_s(NOW + 4) < 10.0
    assert (gate.counters.requests, gate.counters.rate_limited, gate.counters.retried) == (2, 1, 1)


async def test_transient_faults_on_idempotent_calls_back_off_then_succeed(clock: FakeClock) -> None:
    """GET-like calls retry 5xx-type faults after jittered, growing delays."""
    gate = make_gate(clock, rate_per_s=100.0)
    call = ScriptedCall(clock, TransientApiError("503"), TransientApiError("503"), "order")
    assert await _run(clock, _retrying(gate, call, retry_posts=True)) == "order"
    first, second = call.calls[1] - call.calls[0], call.calls[2] - call.calls[1]
    assert 0.5 <= first < 1.0 and 1.0 <= second < 2.0
    assert gate.counters.retried == 2


async def test_a_backoff_built_for_tests_retries_at_once(clock: FakeClock) -> None:
    """With `Backoff(sleeps=False)` the same transient faults are retried as often, with no
    wait between tries (the testing switch is the backoff handed to the call)."""
    gate = make_gate(clock, rate_per_s=100.0)
    call = ScriptedCall(clock, TransientApiError("503"), TransientApiError("503"), "order")
    backoff = Backoff(base_s=1.0, factor=2.0, cap_s=8.0, max_attempts=4, sleeps=False)
    got = await _run(clock, _retrying(gate, call, retry_posts=True, backoff=backoff))
    assert got == "order"
    assert [round(t - call.calls[0], 6) for t in call.calls] == [0.0, 0.01, 0.02]
    assert gate.counters.retried == 2


async def test_transient_faults_give_up_after_max_attempts(clock: FakeClock) -> None:
    """After `max_attempts` failed tries the last transient error is raised."""
    gate = make_gate(clock, rate_per_s=100.0)
    errors = [TransientApiError(f"503 #{i}") for i in range(5)]
    call = ScriptedCall(clock, *errors)
    with pytest.raises(TransientApiError, match="503 #3"):
        await _run(clock, _retrying(gate, call, retry_posts=True))
    assert len(call.calls) == 4


async def test_post_fault_after_sending_becomes_response_lost_without_retry(
    clock: FakeClock,
) -> None:
    """With retry_posts=False a transient fault that may have reached the server is not resent."""
    gate = make_gate(clock)
    cause = TransientApiError("read timeout")
    call = ScriptedCall(clock, cause, "never")
    with pytest.raises(ResponseLostError) as info:
        await _run(clock, _retrying(gate, call, retry_posts=False))
    assert info.value.__cause__ is cause
    assert len(call.calls) == 1


async def test_post_fault_before_sending_is_retried(clock: FakeClock) -> None:
    """A connect error on a POST is retried: the server never saw the request."""
    gate = make_gate(clock, rate_per_s=100.0)
    call = ScriptedCall(clock, RequestNotSentError("connect refused"), "created")
    assert await _run(clock, _retrying(gate, call, retry_posts=False)) == "created"
    assert len(call.calls) == 2


@pytest.mark.parametrize(
    "error",
    [
        ResponseLostError("reset after send"),
        PermanentApiError("400", status=400, code="7309", description="bad site"),
    ],
)
@pytest.mark.parametrize("retry_posts", [True, False])
async def test_lost_responses_and_permanent_errors_are_never_retried(
    clock: FakeClock, error: Exception, retry_posts: bool
) -> None:
    """ResponseLostError and PermanentApiError propagate after a single try."""
    gate = make_gate(clock)
    call = ScriptedCall(clock, error, "never")
    with pytest.raises(type(error)):
        await _run(clock, _retrying(gate, call, retry_posts=retry_posts))
    assert len(call.calls) == 1
    assert gate.counters.retried == 0


async def test_rate_limited_retries_are_bounded(clock: FakeClock) -> None:
    """A call that is rate-limited on every try gives up after `max_rate_limited` retries."""
    gate = make_gate(clock, rate_per_s=100.0)
    call = ScriptedCall(clock, *[RateLimitedError("429", retry_at=None) for _ in range(5)])

    async def go() -> str:
        return await call_with_retry(
            gate,
            Backoff(),
            random.Random(1),
            call,
            priority=Priority.POLL,
            retry_posts=True,
            max_rate_limited=2,
        )

    with pytest.raises(RateLimitedError):
        await _run(clock, go)
    assert len(call.calls) == 3
