"""`bwmigrate status --serve`: a read-only live page of a state file, served by uvicorn.

Every request reads the state file through a read-only SQLite connection (`mode=ro`, opened and
closed per request; WAL readers never block the run's writer) and the audit log as it stands,
and draws the same sections as `report --html` (`orchestrator.cutover.html_report`). The page
fetches `fragment` every few seconds and swaps it in. Nothing here writes anywhere.

Bound to loopback by default, answering only requests whose Host is a loopback name (a web page
that rebinds its own name to 127.0.0.1 gets 400). Bound to any other address, every request must
carry the token printed at start (`?token=...`), compared in constant time; without it: 403.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import signal
import socket
import time
from collections.abc import Callable
from functools import partial
from types import FrameType

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from orchestrator.cutover.html_report import render_live, render_sections
from orchestrator.cutover.run_view import RunView, read_run_view
from orchestrator.errors import AbortedError, BwmigrateError
from orchestrator.state.postgres import StateLocation

REFRESH_S = 3.0
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]", "::1")
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the token travels in the URL
    "X-Frame-Options": "DENY",
}


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def live_app(state: StateLocation, token: str | None, refresh_s: float = REFRESH_S) -> Starlette:
    """The live page's app: `/` (the page) and `/fragment` (its sections, refreshed)."""

    def allowed(request: Request) -> bool:
        given = request.query_params.get("token", "")
        return token is None or hmac.compare_digest(given.encode(), token.encode())

    async def view() -> RunView:
        read = partial(read_run_view, state, now=time.time(), with_rows=False)
        return await anyio.to_thread.run_sync(read)

    async def answer(request: Request, draw: Callable[[RunView], str]) -> Response:
        if not allowed(request):
            return PlainTextResponse("403: add ?token=... as printed at start", 403)
        try:
            html = draw(await view())
        except BwmigrateError as exc:  # e.g. a state file replaced or not yet written
            return PlainTextResponse(f"503: {exc}", 503, headers=_HEADERS)
        return HTMLResponse(html, headers=_HEADERS)

    async def page(request: Request) -> Response:
        return await answer(request, partial(render_live, interval_s=refresh_s))

    async def fragment(request: Request) -> Response:
        return await answer(request, render_sections)

    app = Starlette(routes=[Route("/", page), Route("/fragment", fragment)])
    if token is None:  # loopback: refuse other Host names (a DNS-rebinding page cannot read it)
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(_LOOPBACK_NAMES))
    return app


def _bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise AbortedError(
            f"status --serve cannot listen on {host}:{port} ({exc.strerror}); "
            "pick another --port or --host"
        ) from exc
    sock.listen(16)
    return sock


def serve_live(
    state: StateLocation, host: str, port: int, on_ready: Callable[[str, str | None], None]
) -> None:
    """Serve the live page until SIGINT/SIGTERM. `on_ready(url, token)` runs once listening;
    the token is None on loopback (no token needed)."""
    token = None if is_loopback(host) else secrets.token_urlsafe(24)
    sock = _bind(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    url = f"http://{shown}:{bound_port}/" + (f"?token={token}" if token else "")
    config = uvicorn.Config(live_app(state, token), log_level="warning", access_log=False)
    server = uvicorn.Server(config)

    def stop(_sig: int, _frame: FrameType | None) -> None:
        server.should_exit = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        on_ready(url, token)
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
