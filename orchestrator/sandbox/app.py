"""The sandbox's ASGI application: prefixes and versions, auth, rate limit, faults, ledger, and
the `/_sandbox/*` side endpoints; endpoint handlers live in `routes`.

Per API request, in order: count it in the ledger; fault "reset" (break the connection,
nothing handled); fault latency; route lookup; auth (401; the token endpoint is exempt from
faults and limits); rate limit or fault "throttle" (429, empty body, `X-RateLimit-Reset` epoch
seconds, `Retry-After` seconds); fault "error" (500, ResponseStatus 1000); the handler; fault
"drop after commit" (a POST that created something loses its response: a truncated reply, or
a hang until the client gives up). Unknown paths and v1-only paths under `/api/v2`
(`externalTns`, `addresses`, `importTnOrders` without `/messaging`, ...) answer 404 with a
`ResponseStatus` body whose root is the resource's response element [I].

Side endpoints (no auth, not counted): `GET /_sandbox/ledger`, `POST /_sandbox/reset`,
`GET /_sandbox/inventory`, `POST /_sandbox/seed` (JSON or TOML body, the seed-file keys),
`GET /_sandbox/health`.
"""

from __future__ import annotations

import asyncio
import json
import math
import tomllib
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any, NoReturn
from urllib.parse import parse_qs

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from orchestrator.errors import InputError
from orchestrator.sandbox import render
from orchestrator.sandbox.auth import Authenticator
from orchestrator.sandbox.clock import Clock, SystemClock
from orchestrator.sandbox.config import SandboxConfig
from orchestrator.sandbox.context import Ctx, Route, xml
from orchestrator.sandbox.faults import FaultDecision, FaultInjector
from orchestrator.sandbox.ledger import RateLimiter, RequestLedger
from orchestrator.sandbox.model import ApiError, ApiVersion, RejectedError
from orchestrator.sandbox.notify import Notifier
from orchestrator.sandbox.routes import match, render_error
from orchestrator.sandbox.state import SandboxState

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

TOKEN_PATH = "/api/v1/oauth2/token"  # noqa: S105 - a path, not a secret
PREFIXES = (("/api/v2", ApiVersion.V2), ("/api/v1", ApiVersion.V1), ("/v1.0", ApiVersion.V1),
            ("/api", ApiVersion.V1))  # fmt: skip
INTERNAL_ERROR = ApiError(1000, "An internal server error occurred. Please try again later.")


class DeliberateDropError(Exception):
    """Raised to make uvicorn close a connection mid-response (a fault, not a bug)."""

    def __init__(self, outcome: str) -> None:
        super().__init__(f"deliberate fault: connection dropped ({outcome})")
        self.outcome = outcome


class SandboxApp:
    """The ASGI app; `state`, `ledger`, `faults` and `auth` are public for tests."""

    def __init__(self, config: SandboxConfig | None = None, clock: Clock | None = None) -> None:
        self.reconfigure(config, clock)

    def reconfigure(self, config: SandboxConfig | None = None, clock: Clock | None = None) -> None:
        """Start over with another config and clock (a running server keeps serving)."""
        self.config = config or SandboxConfig()
        self.clock = clock or SystemClock()
        self.state = SandboxState(self.config, self.clock)
        self.auth = Authenticator(self.config.credentials, self.clock, self.config.token_expires_s)
        self.faults = FaultInjector(self.config.faults, self.config.seed)
        self.ledger = RequestLedger()
        self.limiter = RateLimiter(self.config.rate_limit_per_s)
        self._attach_notifier()

    def _attach_notifier(self) -> None:
        """Order callbacks to subscribed URLs (`sandbox/notify.py`): one thread per app,
        following the current state."""
        if getattr(self, "notifier", None) is None:
            self.notifier = Notifier(lambda: self.state)
        self.state.on_complete = self.notifier.order_completed
        self.notifier.configure(self.state.config.faults, self.state.config.seed)

    def reset(self) -> None:
        """Back to the starting config: inventory, orders, ledger, windows, fault settings and
        sequence, credentials. Issued Bearer tokens stay valid."""
        self.state.reset()
        self.ledger.reset()
        self.limiter = RateLimiter(self.config.rate_limit_per_s)
        self.faults = FaultInjector(self.config.faults, self.config.seed)
        self.auth.credentials = self.config.credentials
        self.auth.token_expires_s = self.config.token_expires_s
        self.notifier.configure(self.config.faults, self.config.seed)

    def _apply_seeded_settings(self, data: Mapping[str, Any]) -> None:
        """Seed keys the app (not the state) owns take effect at once: `faults` (the decision
        sequence goes on), `seed` (it starts again), `rate_limit_per_s`, `credentials`,
        `token_expires_s`."""
        config = self.state.config
        if "seed" in data:
            self.faults = FaultInjector(config.faults, config.seed)
        elif "faults" in data:
            self.faults.config = config.faults
        self.notifier.configure(config.faults, config.seed)
        if "rate_limit_per_s" in data:
            self.limiter = RateLimiter(config.rate_limit_per_s)
        self.auth.credentials = config.credentials
        self.auth.token_expires_s = config.token_expires_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path.startswith("/_sandbox/"):
            response = await self._side(Request(scope, receive))
            await response(scope, receive, send)
            return
        try:
            response = await self._api(scope, receive, send)
        except DeliberateDropError as exc:
            self.ledger.answered(exc.outcome, _client(scope))
            raise
        except ClientDisconnect:  # the client went away mid-request (a killed CLI): no answer
            self.ledger.answered("disconnected", _client(scope))
            return
        # Counted before the client can read the answer: a client that asks the ledger next
        # must find it there (counting after sending raced the client's next request).
        self.ledger.answered(str(response.status_code), _client(scope))
        await response(scope, receive, send)

    async def _api(self, scope: Scope, receive: Receive, send: Send) -> Response:
        """The answer to one API request; faults that break the connection raise
        `DeliberateDropError` ("reset" before handling, "dropped" after a commit)."""
        self.ledger.arrived(self.clock.now(), _client(scope))
        request = Request(scope, receive)
        if scope["path"] == TOKEN_PATH and scope["method"] == "POST":
            return await self._token(request)
        decision = self.faults.decide()
        if decision.reset:
            await _break(send, 200, "reset")
        if decision.latency_s:
            await asyncio.sleep(decision.latency_s)
        version, prefix, segments = _split(scope["path"])
        route: Route | None = None
        near: Route | None = None
        params: dict[str, str] = {}
        if version is not None:
            route, params, near = match(scope["method"], version, segments)
        user = self.auth.principal(request.headers.get("authorization"))
        if user is None:
            return _unauthorized()
        if route is None:
            return _no_route(near, version, scope["method"])
        limited = self._limit(params.get("account") or user, decision)
        if limited is not None:
            return limited
        if decision.error:
            return xml(render.response_status(route.root, [INTERNAL_ERROR]), 500)
        assert version is not None
        ctx = Ctx(request, self.state, self.faults, version, prefix, params, user)
        response = await _handle(route, ctx)
        if decision.drop_after_commit and route.creates and response.status_code == 201:
            await self._drop(receive, send)
        return response

    def _limit(self, key: str, decision: FaultDecision) -> Response | None:
        now = self.clock.now()
        reset_at = now + 1.0 if decision.throttle else self.limiter.check(key, now)
        if reset_at is None:
            return None
        retry_after = max(1, math.ceil(reset_at - now))
        headers = {"X-RateLimit-Reset": str(math.ceil(reset_at)), "Retry-After": str(retry_after)}
        return Response(b"", 429, headers)

    async def _drop(self, receive: Receive, send: Send) -> None:
        faults = self.faults.config
        if faults.drop_mode == "hang":
            try:
                async with asyncio.timeout(faults.hang_s):
                    while (await receive())["type"] != "http.disconnect":
                        pass
            except TimeoutError:
                pass
        await _break(send, 201, "dropped")

    async def _token(self, request: Request) -> Response:
        raw = (await request.body()).decode("utf-8", errors="replace")
        form = {k: v[0] for k, v in parse_qs(raw).items()}  # x-www-form-urlencoded
        accounts = [a.id for a in self.state.config.accounts]
        status, body = self.auth.issue_token(request.headers.get("authorization"), form, accounts)
        return JSONResponse(body, status, {"Cache-Control": "no-store"})

    async def _side(self, request: Request) -> Response:
        key = (request.method, request.url.path.rstrip("/"))
        if key == ("GET", "/_sandbox/ledger"):
            body = {"orders": self.state.ledger_orders()} | self.ledger.to_json()
            body["rate_limit_per_s"] = self.limiter.rate_per_s
            return JSONResponse(body)
        if key == ("GET", "/_sandbox/inventory"):
            return JSONResponse({"numbers": self.state.inventory_json()})
        if key == ("POST", "/_sandbox/reset"):
            self.reset()
            return JSONResponse({"reset": True})
        if key == ("POST", "/_sandbox/seed"):
            return self._seed(await request.body(), request.headers.get("content-type", ""))
        if key == ("GET", "/_sandbox/health"):
            return JSONResponse({"ok": True})
        return JSONResponse({"error": f"no side endpoint {key[0]} {key[1]}"}, 404)

    def _seed(self, body: bytes, content_type: str) -> Response:
        try:
            text = body.decode("utf-8")
            data = (
                json.loads(text)
                if "json" in content_type or text.lstrip()[:1] == "{"
                else (tomllib.loads(text))
            )
            if not isinstance(data, dict):
                raise InputError("the seed body must be a JSON object or a TOML document")
            self.state.seed(data)
            self._apply_seeded_settings(data)
        except (UnicodeDecodeError, json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
            return JSONResponse({"error": f"cannot parse seed body: {exc}"}, 400)
        except InputError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse({"numbers": len(self.state.numbers)})


async def _handle(route: Route, ctx: Ctx) -> Response:
    try:
        return await route.handler(ctx)
    except RejectedError as exc:
        return render_error(route, exc)


def _split(path: str) -> tuple[ApiVersion | None, str, list[str]]:
    lowered = path.lower()
    for prefix, version in PREFIXES:
        if lowered.startswith(prefix + "/"):
            rest = path[len(prefix) + 1 :].strip("/")
            return version, path[: len(prefix)], rest.split("/") if rest else []
    return None, "", []


def _unauthorized() -> Response:
    return Response(b"", 401, {"WWW-Authenticate": 'Basic realm="bandwidth-sandbox"'})


def _no_route(near: Route | None, version: ApiVersion | None, method: str) -> Response:
    """405 when the path exists in this version for other methods; else 404 (with the root of
    the resource when it exists in the other version)."""
    if near is not None and version in near.versions and near.method != method:
        return Response(b"", 405)
    return render_error(near, RejectedError(404, []))


async def _break(send: Send, status: int, outcome: str) -> NoReturn:
    """Start a response promising a body, then close the connection without it."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/xml; charset=utf-8"),
                        (b"content-length", b"512")],
        }
    )  # fmt: skip
    raise DeliberateDropError(outcome)


def _client(scope: Scope) -> str:
    """Which program sent a request: the product of its User-Agent (`bwmigrate/1.2` ->
    `bwmigrate`), for the ledger's per-client counts (a run beside live traffic)."""
    for name, value in scope.get("headers", ()):
        if name == b"user-agent":
            text: str = bytes(value).decode("latin-1")
            return text.split("/", 1)[0].split(" ", 1)[0][:40]
    return ""
