"""A tiny ASGI app that answers whatever a test tells it to, served by uvicorn on 127.0.0.1:0.

The fuzz tests point the real client (or a real `bwmigrate run`) at it to see what bwmigrate does
with answers the sandbox would never give: truncated or wrong-rooted XML, HTML error pages,
JSON, binary junk, odd statuses and headers. Nothing of bwmigrate is mocked: the bytes go over
a real socket.

    with serve(HostileApi()) as (api, base_url):
        api.script(create=Answer(201, b"<html>"), listing=Answer(200, b"<Orders/>"))
        ... ApiClient(f"{base_url}/api/v2", ...) ...
        api.requests  # what was sent: (method, path)
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]

ORDER_PATHS = ("importTnOrders/messaging", "removeImportedTnOrders/messaging", "tnoptions")


class Answer:
    """One HTTP answer; `truncate_at` cuts the body there and drops the connection.

    A plain class with a short repr: hypothesis prints failing examples, and bodies can be
    megabytes."""

    __slots__ = ("body", "content_type", "headers", "status", "truncate_at")

    def __init__(
        self,
        status: int = 200,
        body: bytes = b"",
        content_type: str = "application/xml; charset=utf-8",
        headers: tuple[tuple[str, str], ...] = (),
        truncate_at: int | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers
        self.truncate_at = truncate_at

    def __repr__(self) -> str:
        body = self.body if len(self.body) <= 300 else self.body[:300] + b"..."
        return (
            f"Answer({self.status}, {body!r} ({len(self.body)} bytes), {self.content_type!r}, "
            f"headers={self.headers!r}, truncate_at={self.truncate_at!r})"
        )


@dataclass(repr=False)
class HostileApi:
    """Answers by route: `create` (POST an order), `listing` (GET orders ?customerOrderId),
    `order` (GET one order), `other` (anything else). Records every request."""

    answers: dict[str, Answer] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, **answers: Answer) -> None:
        """Answer these routes like this from now on (the others with an empty 200)."""
        with self._lock:
            self.answers = dict(answers)
            self.requests = []

    def route(self, method: str, path: str) -> str:
        """Which scripted route a request takes."""
        tail = path.split("/accounts/", 1)[-1].partition("/")[2]
        if tail in ORDER_PATHS:
            return "create" if method == "POST" else "listing"
        if any(tail.startswith(p + "/") for p in ORDER_PATHS) and method == "GET":
            return "order"
        return "other"

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        with self._lock:
            self.requests.append((scope["method"], scope["path"]))
            answer = self.answers.get(self.route(scope["method"], scope["path"]), Answer())
        body = answer.body if answer.truncate_at is None else answer.body[: answer.truncate_at]
        headers = [
            (b"content-type", answer.content_type.encode("latin-1")),
            (b"content-length", str(len(answer.body)).encode()),
            *((k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers),
        ]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        # A truncated answer promises more than it sends; uvicorn then drops the connection.
        await send({"type": "http.response.body", "body": body, "more_body": False})


@contextmanager
def serve(app: HostileApi) -> Iterator[tuple[HostileApi, str]]:
    """Serve `app` in a background thread on a free loopback port; yield it and its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="critical", access_log=False, lifespan="off", http="h11", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the hostile API did not start")
        time.sleep(0.01)
    try:
        yield app, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
