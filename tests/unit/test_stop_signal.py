"""`StopSignal` with real signals (`signal.raise_signal`): one before the event loop runs is
acted on as soon as it does, one during the run at the loop's next turn (first: stop, later:
cancel), and one the loop could not act on goes to the handler that was there before (the CLI's:
exit 130). The handler itself never raises."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from types import FrameType

import anyio
import anyio.lowlevel
import pytest

from orchestrator.cli.stop_signal import StopSignal


class _Seen:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.previous: list[int] = []

    def handler(self, signum: int, frame: FrameType | None) -> None:
        self.previous.append(signum)


@pytest.fixture
def seen() -> Iterator[_Seen]:
    """A recording handler installed as "the CLI's" for SIGINT and SIGTERM."""
    record = _Seen()
    old = {s: signal.signal(s, record.handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield record
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _stop(seen: _Seen) -> StopSignal:
    return StopSignal(
        on_first=lambda: seen.calls.append("stop"), on_second=lambda: seen.calls.append("cancel")
    )


def test_a_signal_before_the_loop_is_acted_on_when_it_runs(seen: _Seen) -> None:
    stop = _stop(seen)

    async def main() -> None:
        async with stop.attached():
            await anyio.lowlevel.checkpoint()

    with stop.installed():
        signal.raise_signal(signal.SIGTERM)  # e.g. while the loop is being created
        assert seen.calls == []
        anyio.run(main)
    assert seen.calls == ["stop"] and seen.previous == []


def test_signals_during_the_run_stop_then_cancel(seen: _Seen) -> None:
    stop = _stop(seen)

    async def main() -> None:
        async with stop.attached():
            signal.raise_signal(signal.SIGINT)
            await anyio.lowlevel.checkpoint()
            signal.raise_signal(signal.SIGTERM)
            await anyio.lowlevel.checkpoint()

    with stop.installed():
        anyio.run(main)
    assert seen.calls == ["stop", "cancel"] and seen.previous == []


def test_a_signal_after_the_loop_goes_to_the_previous_handler(seen: _Seen) -> None:
    stop = _stop(seen)

    async def main() -> None:
        async with stop.attached():
            await anyio.lowlevel.checkpoint()

    with stop.installed():
        anyio.run(main)
        signal.raise_signal(signal.SIGTERM)  # while the run's summary is written
        assert seen.previous == []
    assert seen.previous == [signal.SIGTERM] and seen.calls == []
    assert signal.getsignal(signal.SIGTERM) == seen.handler


def test_run_interruptible_cancels_at_a_safe_point_then_hands_the_signal_on(seen: _Seen) -> None:
    """doctor, plan --check, convert --from-api: a signal cancels the work (here a wait that
    would last an hour), then reaches the previous handler; nothing is raised inside the loop."""
    from orchestrator.cli.stop_signal import run_interruptible

    async def work() -> str:
        signal.raise_signal(signal.SIGTERM)
        await anyio.sleep(3600)
        return "finished"

    with pytest.raises(KeyboardInterrupt):  # the recording handler does not end the command
        run_interruptible(work)
    assert seen.previous == [signal.SIGTERM]
    assert signal.getsignal(signal.SIGTERM) == seen.handler


def test_run_interruptible_returns_what_the_work_returns(seen: _Seen) -> None:
    from orchestrator.cli.stop_signal import run_interruptible

    async def work() -> str:
        await anyio.lowlevel.checkpoint()
        return "finished"

    assert run_interruptible(work) == "finished"
    assert seen.previous == []
