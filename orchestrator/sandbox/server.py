"""Serving the sandbox with uvicorn: in a background thread for tests and `run --sandbox`
(`run_sandbox`), or in the foreground for `bwmigrate sandbox` (`serve_forever`).

The listening socket is bound before uvicorn starts, so the base URL (with the port picked
for port 0) is known at once and early connections wait in the backlog. Deliberate faults
(dropped connections) are kept out of uvicorn's error log; every other error stays loud.

    with run_sandbox(SandboxConfig(order_delay_s=0)) as sandbox:
        httpx.get(sandbox.base_url + "/_sandbox/ledger")
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

import uvicorn

from orchestrator.errors import AbortedError
from orchestrator.sandbox.app import DeliberateDropError, SandboxApp
from orchestrator.sandbox.clock import Clock
from orchestrator.sandbox.config import SandboxConfig
from orchestrator.sandbox.state import SandboxState

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


class _QuietDeliberateDrops(logging.Filter):
    """Drop uvicorn's "Exception in ASGI application" records for deliberate faults only."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DeliberateDropError)


_FILTER = _QuietDeliberateDrops()


def _uvicorn_config(app: SandboxApp, *, own_logging: bool) -> uvicorn.Config:
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="none",
        http="h11",
        timeout_graceful_shutdown=1,
        log_config=uvicorn.config.LOGGING_CONFIG if own_logging else None,
    )
    error_logger = logging.getLogger("uvicorn.error")
    if _FILTER not in error_logger.filters:
        error_logger.addFilter(_FILTER)
    return config


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say they are
    # TCP, and without it every response pays a 40 ms delayed-ACK stall.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise AbortedError(f"sandbox cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.listen(128)
    return sock


def _base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class RunningSandbox:
    """A sandbox serving in a background thread. Use as a context manager or call `stop()`."""

    def __init__(self, app: SandboxApp, server: uvicorn.Server, thread: threading.Thread,
                 base_url: str) -> None:  # fmt: skip
        self.app = app
        self.base_url = base_url
        self._server = server
        self._thread = thread

    @property
    def state(self) -> SandboxState:
        """The live state: seed it (`state.seed({...})`) or inspect it from the test thread."""
        return self.app.state

    @property
    def config(self) -> SandboxConfig:
        """The configuration the sandbox started with."""
        return self.app.config

    @property
    def clock(self) -> Clock:
        """The clock the sandbox reads (a `ManualClock` when one was given)."""
        return self.app.clock

    def reset(self) -> None:
        """Same as `POST /_sandbox/reset`."""
        self.app.reset()

    def reconfigure(self, config: SandboxConfig | None = None, clock: Clock | None = None) -> None:
        """Replace the config and clock of the running sandbox; all state starts over."""
        self.app.reconfigure(config, clock)

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for its thread (bounded)."""
        self._server.should_exit = True
        self._thread.join(STOP_TIMEOUT_S)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(STOP_TIMEOUT_S)

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_sandbox(config: SandboxConfig | None = None, *, host: str = "127.0.0.1",
                  port: int = 0, clock: Clock | None = None) -> RunningSandbox:  # fmt: skip
    """Start a sandbox in a daemon thread and wait (bounded) until it serves."""
    app = SandboxApp(config, clock)
    sock = bind(host, port)
    server = uvicorn.Server(_uvicorn_config(app, own_logging=False))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="bwmigrate-sandbox", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise AbortedError(f"the sandbox did not start within {START_TIMEOUT_S:.0f} s")
        time.sleep(0.005)
    return RunningSandbox(app, server, thread, _base_url(sock))


@contextmanager
def run_sandbox(config: SandboxConfig | None = None, *, host: str = "127.0.0.1", port: int = 0,
                clock: Clock | None = None) -> Iterator[RunningSandbox]:  # fmt: skip
    """`start_sandbox` as a context manager that always stops it."""
    running = start_sandbox(config, host=host, port=port, clock=clock)
    try:
        yield running
    finally:
        running.stop()


def serve_forever(config: SandboxConfig, host: str, port: int,
                  on_ready: Callable[[str], None]) -> None:  # fmt: skip
    """Serve in the foreground until SIGINT/SIGTERM, then return normally.

    `on_ready(base_url)` runs once the socket listens. uvicorn re-raises the signal that stopped
    it after restoring the previous handlers; ours ignore it, so the caller exits with 0.
    """
    app = SandboxApp(config)
    sock = bind(host, port)
    server = uvicorn.Server(_uvicorn_config(app, own_logging=True))

    def ignore(_sig: int, _frame: FrameType | None) -> None:
        server.should_exit = True

    previous = {sig: signal.signal(sig, ignore) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        on_ready(_base_url(sock))
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
