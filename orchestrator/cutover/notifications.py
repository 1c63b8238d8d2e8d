"""Order notifications (opt-in): a subscription per order type and a local callback listener.

`run --notify-url URL --listen HOST:PORT`: before the first order, the run subscribes its order
types with the callback URL and Basic callback credentials (a random secret per run, kept in
memory only: never logged, stored or shown). A resumed run finds its subscriptions again (same
URL and order type) and replaces their credentials (PUT) instead of creating a second. The
listener (uvicorn on HOST:PORT; the user's proxy or tunnel forwards the public URL to it)
answers a callback without the right credentials 401 with a Basic challenge; a good one is
matched by OrderId (or CustomerOrderId) to an open order, handed to the status reader
(`orchestrator.cutover.status_reader.StatusReader.notify`), and answered 200 only once that
order's outcome is committed to the state file (or after `SETTLE_TIMEOUT_S`: the safety-net
reads still follow the order). When the run ends the subscriptions are deleted.

If a subscription cannot be created, `problem` says why and the run goes on with batched reads.

Must not print or read the environment; the CLI passes the settings.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc

from orchestrator.api.gate import Priority
from orchestrator.api.subscription import (
    ORDER_TYPE_OF_KIND,
    parse_notification,
    parse_subscriptions,
    subscription_body,
)
from orchestrator.cutover.context import RunContext
from orchestrator.cutover.status_reader import StatusReader
from orchestrator.errors import ApiError, XmlError

__all__ = ["SETTLE_TIMEOUT_S", "Notifications", "NotifySettings"]

SETTLE_TIMEOUT_S = 30.0  # longest a callback waits for its order's commit before the 200
USERNAME = "bwmigrate"
EXPIRY_S = 7 * 86400


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """Where Bandwidth calls back, and where the run listens."""

    url: str
    host: str
    port: int
    safety_net_s: float = 60.0  # an order silent this long is read directly


if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response


def _quiet_server(app: Any) -> Any:
    """uvicorn without its signal handlers (the CLI owns SIGINT and SIGTERM); imported only
    when a run asks for notifications."""
    import uvicorn

    class QuietServer(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    config = uvicorn.Config(
        app, log_level="critical", access_log=False, lifespan="off", http="h11",
        interface="asgi3", ws="none",
    )  # fmt: skip
    return QuietServer(config)


class Notifications:
    """The run's subscriptions and callback listener (module docstring)."""

    def __init__(
        self, ctx: RunContext, reader: StatusReader, settings: NotifySettings, kinds: set[str]
    ) -> None:
        self._ctx = ctx
        self._reader = reader
        self._settings = settings
        self._order_types = sorted({ORDER_TYPE_OF_KIND[k] for k in kinds})
        self._secret = secrets.token_urlsafe(24)
        self._expected = "Basic " + base64.b64encode(f"{USERNAME}:{self._secret}".encode()).decode(
            "ascii"
        )
        self._server: Any = None
        self.subscription_ids: list[str] = []
        self.problem: str | None = None
        self.callbacks = 0  # callbacks accepted (for benches and tests)

    def __repr__(self) -> str:
        return f"Notifications(url={self._settings.url!r}, types={self._order_types})"

    async def open(self, tg: anyio.abc.TaskGroup) -> bool:
        """Listen, then subscribe every order type (adopting the run's earlier subscriptions);
        False (and `problem`) when that fails: the run goes on with batched reads."""
        try:
            sock = socket.create_server((self._settings.host, self._settings.port))
        except OSError as exc:
            self.problem = f"cannot listen on {self._settings.host}:{self._settings.port} ({exc})"
            return False
        self._server = _quiet_server(self._app)
        tg.start_soon(self._server.serve, [sock])
        try:
            known = await self._call("GET")
            for order_type in self._order_types:
                await self._subscribe(order_type, known)
        except (ApiError, XmlError) as exc:
            self.problem = f"the subscription could not be created ({exc})"
            await self.close()
            return False
        self._reader.notifications_on(self._settings.safety_net_s)
        return True

    async def close(self) -> None:
        """Delete the subscriptions and stop listening (shielded: runs on every way out)."""
        with anyio.CancelScope(shield=True):
            for sub_id in self.subscription_ids:
                with contextlib.suppress(ApiError, XmlError):
                    await self._call("DELETE", sub_id)
            self.subscription_ids.clear()
            if self._server is not None:
                self._server.should_exit = True

    async def _subscribe(self, order_type: str, known: bytes) -> None:
        body = subscription_body(order_type, self._settings.url, USERNAME, self._secret, EXPIRY_S)
        for sub in parse_subscriptions(known) if known else []:
            if sub.order_type == order_type and sub.url == self._settings.url:
                await self._call("PUT", sub.subscription_id, body)  # a resumed run's own
                self.subscription_ids.append(sub.subscription_id)
                return
        created = await self._call("POST", None, body)
        if created:
            self.subscription_ids.append(created.decode())

    async def _call(
        self, method: str, sub_id: str | None = None, body: bytes | None = None
    ) -> bytes:
        """One subscription request through the gate; a GET's body, a POST's new id."""
        client = self._ctx.client

        async def send() -> tuple[int, bytes, str | None]:
            return await client.subscription(method, sub_id, body)

        _, content, created = await self._ctx.call(send, Priority.SUBMIT, retry_posts=False)
        if method == "POST":
            return (created or "").encode()
        return content if method == "GET" else b""

    async def _app(self, scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        """The listener: Basic credentials checked, the notification matched and settled."""
        if scope["type"] != "http":
            return
        from starlette.requests import Request

        request = Request(scope, receive)  # type: ignore[arg-type]
        response = await self._answer(request)
        await response(scope, receive, send)  # type: ignore[arg-type]

    async def _answer(self, request: Request) -> Response:
        from starlette.responses import Response

        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), self._expected.encode()):
            return Response(b"", 401, {"WWW-Authenticate": 'Basic realm="bwmigrate"'})
        try:
            note = parse_notification(await request.body())
        except XmlError:
            return Response(b"", 400)
        self.callbacks += 1
        settled = self._reader.notify(note.order_id, note.customer_order_id, note.status)
        if settled is not None:
            with anyio.move_on_after(SETTLE_TIMEOUT_S):
                await settled.wait()
        return Response(b"", 200)
