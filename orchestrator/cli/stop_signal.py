"""SIGINT and SIGTERM during `bwmigrate run`: counted by a handler that never raises, acted on by
the event loop at a safe point. The first stops submitting (orders in flight record their ids),
a second cancels at once (the state file stays consistent).

    stop = StopSignal(on_first=cutover.request_stop, on_second=cutover.cancel)
    with stop.installed():                     # before the event loop exists
        anyio.run(main)                        # main: `async with stop.attached(): ...`

    checks = run_interruptible(diagnose_all)   # doctor, plan --check, convert --from-api

`run_interruptible` is `anyio.run` for a command with nothing to save half-way: a signal
cancels the work at a safe point, then reaches the CLI's own handler (one line, exit 130).

Why not an exception from the handler, nor asyncio's signal handlers: a handler that raises can
land anywhere, inside `asyncio.new_event_loop()` (a half-built loop then prints "Exception
ignored in BaseEventLoop.__del__ ... '_ssock'"), inside the loop between a worker thread's
result and the callback that delivers it (the run then waits for it forever), or inside an
import. And asyncio's own handlers exist only while the loop runs: a signal before it starts is
the old handler's, and closing them resets SIGTERM to the default action, which kills the
process if one lands before the CLI's handler is back. Here one handler covers everything from
before the loop is created until after it is gone: before the loop runs, a signal is counted
and applied as soon as it does; after, it is delivered again to the CLI's own handler (one line,
exit 130) once that handler is back.

The CLI's concern (`orchestrator.cli.run_cmd`); asyncio because `anyio.run` runs on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import FrameType
from typing import TypeVar

import anyio

__all__ = ["STOP_SIGNALS", "StopSignal", "run_interruptible"]

T = TypeVar("T")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignal:
    """Counts SIGINT/SIGTERM while installed; the loop it is attached to applies them in order:
    `on_first` for the first, `on_second` for every later one."""

    def __init__(self, *, on_first: Callable[[], None], on_second: Callable[[], None]) -> None:
        self._on_first = on_first
        self._on_second = on_second
        self._received = 0
        self._applied = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._detached = False
        self._last = signal.SIGTERM.value
        self._late: int | None = None  # a signal the loop did not act on, for the CLI's handler

    @property
    def received(self) -> int:
        """How many stop signals arrived while installed."""
        return self._received

    @contextlib.contextmanager
    def installed(self) -> Iterator[StopSignal]:
        """Hold SIGINT and SIGTERM for the duration; then give the previous handlers back and
        deliver to them a signal that came after the loop was gone."""
        previous = {sig: signal.signal(sig, self._handle) for sig in STOP_SIGNALS}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if self._late is not None:
            signal.raise_signal(self._late)

    @contextlib.asynccontextmanager
    async def attached(self) -> AsyncIterator[None]:
        """Apply the signals to the running loop from now on (those already counted at once)."""
        self._loop = asyncio.get_running_loop()
        self._apply()
        try:
            yield
        finally:
            self._loop = None
            self._detached = True
            if self._received > self._applied:  # came too late for the loop to act on
                self._late = self._last

    def deliver_on_exit(self) -> None:
        """Hand the last signal to the previous handler when `installed` ends (the work was
        cancelled for it)."""
        self._late = self._last

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        """The signal handler: count, and wake the loop to apply it; never raises."""
        self._received += 1
        self._last = signum
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # closed between the check and the call
                loop.call_soon_threadsafe(self._apply)
        elif self._detached:
            self._late = signum

    def _apply(self) -> None:
        """In the loop: act on every signal counted and not yet acted on."""
        if self._loop is None:  # scheduled just before the loop was left: `attached` saw it
            return
        while self._applied < self._received:
            self._applied += 1
            (self._on_first if self._applied == 1 else self._on_second)()


def run_interruptible(fn: Callable[[], Awaitable[T]]) -> T:
    """`anyio.run(fn)` where SIGINT/SIGTERM, from before the loop exists until after it is gone,
    cancel `fn` at a safe point and then reach the handler that was there before (the CLI's:
    one line, exit 130); never an exception raised inside the loop or its creation."""
    scopes: list[anyio.CancelScope] = []

    def cancel() -> None:
        for scope in scopes:
            scope.cancel()

    stop = StopSignal(on_first=cancel, on_second=cancel)
    done: list[T] = []

    async def main() -> None:
        with anyio.CancelScope() as scope:
            scopes.append(scope)
            async with stop.attached():
                done.append(await fn())

    with stop.installed():
        anyio.run(main)
        if stop.received:
            stop.deliver_on_exit()
    if not done:  # cancelled, and the previous handler did not end the command
        raise KeyboardInterrupt
    return done[0]
