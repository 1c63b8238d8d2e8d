"""What every endpoint handler shares: the request context, the route record, XML responses.

A handler takes a `Ctx` and returns a starlette `Response`, or raises `RejectedError`, which the
app renders in the route's error shape. Auth, rate limits, faults and the ledger are the app's
business, not the handlers'.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum

from starlette.requests import Request
from starlette.responses import Response

from orchestrator.sandbox import xmlio
from orchestrator.sandbox.faults import FaultInjector
from orchestrator.sandbox.model import (
    ApiVersion,
    parse_number,
    reject,
)
from orchestrator.sandbox.refusal import check_request
from orchestrator.sandbox.state import SandboxState

XML_TYPE = "application/xml; charset=utf-8"
V1 = frozenset({ApiVersion.V1})
V2 = frozenset({ApiVersion.V2})
BOTH = V1 | V2


class ErrorStyle(Enum):
    """How a route renders a `RejectedError`."""

    STATUS = "status"  # shape 1: <Root><ResponseStatus>
    ERRORS = "errors"  # shape 2: <Root><ProcessingStatus>FAILED</…><Errors>…
    ERRORS_ONLY = "errors_only"  # shape 2 without ProcessingStatus (importTnChecker)


@dataclass
class Ctx:
    """Everything a handler needs about one request."""

    request: Request
    state: SandboxState
    faults: FaultInjector
    version: ApiVersion
    prefix: str
    params: dict[str, str]
    user: str

    @property
    def account_id(self) -> str:
        """The `{accountId}` path parameter."""
        return self.params["account"]

    @property
    def now(self) -> float:
        """The sandbox clock's time."""
        return self.state.clock.now()

    def location(self, path: str) -> str:
        """A full URL (for `Location`) under this request's prefix and account."""
        base = str(self.request.base_url).rstrip("/")
        return f"{base}{self.prefix}/accounts/{self.account_id}/{path}"


Handler = Callable[[Ctx], Awaitable[Response]]


@dataclass(frozen=True)
class Route:
    """One endpoint: method, versions, path pattern, handler, and its error rendering."""

    method: str
    versions: frozenset[ApiVersion]
    pattern: tuple[str, ...]
    handler: Handler
    root: str
    style: ErrorStyle = ErrorStyle.STATUS
    creates: bool = False
    account_scoped: bool = True


async def request_body(ctx: Ctx, operation_id: str | None) -> bytes:
    """The body of a request to the excerpt's operation `operation_id` (None: an operation
    the excerpt does not describe, e.g. a v1-only one), once `refusal.check_request` lets it
    through: the import's accepted forms always, and with the seed's `strict_schema` the
    published schema (`orchestrator.spec`). Every handler reads its body here."""
    body = await ctx.request.body()
    if operation_id is not None:
        config = ctx.state.config
        check_request(operation_id, body, ctx.version, forms=config.import_body_forms,
                      strict=config.strict_schema)  # fmt: skip
    return body


def xml(node: xmlio.Node, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """An XML response with the declaration and `application/xml; charset=utf-8`."""
    return Response(xmlio.to_bytes(node), status, headers, media_type=XML_TYPE)


def empty(status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A response without a body."""
    return Response(b"", status, headers)


def path_number(ctx: Ctx, text: str) -> str:
    number = parse_number(text, ctx.version)
    if number is None:
        code = 1022 if ctx.version is ApiVersion.V2 else 5070
        raise reject(400, code, "TelephoneNumber is in an invalid format"
                     if code == 1022 else "Telephone number is invalid.")  # fmt: skip
    return number
