"""Endpoint handlers and the route table (paths relative to the version prefix).

Each handler takes a `Ctx` (the starlette request, API version, path parameters, caller) and
returns a starlette `Response`, or raises `RejectedError`, which the app renders in the route's
error shape. Auth, rate limits, faults and the ledger are the app's business, not this module's.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from enum import Enum
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from orchestrator.sandbox import render, xmlio
from orchestrator.sandbox.faults import FaultInjector
from orchestrator.sandbox.inventory import SMS_WARNING
from orchestrator.sandbox.model import (
    ApiError,
    ApiVersion,
    NumberKind,
    OrderKind,
    OrderStatus,
    RejectedError,
    parse_number,
    reject,
    render_number,
)
from orchestrator.sandbox.orders import Order, OrderFilter
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


def xml(node: xmlio.Node, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """An XML response with the declaration and `application/xml; charset=utf-8`."""
    return Response(xmlio.to_bytes(node), status, headers, media_type=XML_TYPE)


def empty(status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A response without a body."""
    return Response(b"", status, headers)


def _path_number(ctx: Ctx, text: str) -> str:
    number = parse_number(text, ctx.version)
    if number is None:
        code = 1022 if ctx.version is ApiVersion.V2 else 5070
        raise reject(400, code, "TelephoneNumber is in an invalid format"
                     if code == 1022 else "Telephone number is invalid.")  # fmt: skip
    return number


def _order_id(ctx: Ctx, *, strict: bool) -> str:
    """The `{id}` parameter; malformed -> 400/1008 when `strict`, else treated as unknown."""
    order_id = ctx.params["id"]
    try:
        uuid.UUID(order_id)
    except ValueError as exc:
        if strict:
            raise reject(400, 1008, f"'{order_id}' is not a valid UUID") from exc
        raise RejectedError(404, []) from exc
    return order_id


def _filters(ctx: Ctx) -> OrderFilter:
    q = ctx.request.query_params
    try:
        statuses = frozenset(OrderStatus(s.upper()) for s in q.getlist("status"))
    except ValueError as exc:
        raise reject(400, 1008, f"'{q.get('status')}' is not a valid status") from exc
    tn = q.get("tn")
    try:
        created_from = date.fromisoformat(q["createdDateFrom"]) if "createdDateFrom" in q else None
        created_to = date.fromisoformat(q["createdDateTo"]) if "createdDateTo" in q else None
    except ValueError as exc:
        raise reject(400, 1007, "The date is invalid; use yyyy-MM-dd") from exc
    loa_type = q.get("loaType")
    return OrderFilter(
        customer_order_id=q.get("customerOrderId"),
        statuses=statuses,
        tn=None if tn is None else _path_number(ctx, tn),
        created_from=created_from,
        created_to=created_to,
        loa_type=None if loa_type is None else loa_type.upper(),
    )


# -- import / remove / externalTns --------------------------------------------------------


async def post_import(ctx: Ctx) -> Response:
    req = xmlio.decode_import(await ctx.request.body())
    order = ctx.state.create_import(ctx.account_id, req, ctx.version, ctx.user,
                                    extra_delay_s=ctx.faults.slow_order_extra_s())  # fmt: skip
    path = "importTnOrders/messaging" if ctx.version is ApiVersion.V2 else "importTnOrders"
    body = xmlio.el(
        "ImportTnOrderResponse", render.import_order(order, order.created_at, ctx.version)
    )
    return xml(body, 201, {"Location": ctx.location(f"{path}/{order.order_id}")})


async def post_external_tns(ctx: Ctx) -> Response:
    req = xmlio.decode_import(await ctx.request.body())
    order = ctx.state.create_import(ctx.account_id, req, ctx.version, ctx.user, external_tns=True,
                                    extra_delay_s=ctx.faults.slow_order_extra_s())  # fmt: skip
    body = xmlio.el(
        "ExternalTnsOrderResponse", render.import_order(order, order.created_at, ctx.version)
    )
    return xml(body, 201, {"Location": ctx.location(f"externalTns/{order.order_id}")})


async def post_remove(ctx: Ctx) -> Response:
    req = xmlio.decode_remove(await ctx.request.body())
    order = ctx.state.create_remove(ctx.account_id, req, ctx.version, ctx.user,
                                    extra_delay_s=ctx.faults.slow_order_extra_s())  # fmt: skip
    path = "removeImportedTnOrders" + ("/messaging" if ctx.version is ApiVersion.V2 else "")
    body = xmlio.el(
        "RemoveImportedTnOrdersResponse", render.remove_order(order, order.created_at, ctx.version)
    )
    return xml(body, 201, {"Location": ctx.location(f"{path}/{order.order_id}")})


async def post_tnoptions(ctx: Ctx) -> Response:
    req = xmlio.decode_tnoptions(await ctx.request.body())
    order = ctx.state.create_tnoptions(ctx.account_id, req, ctx.version, ctx.user,
                                       extra_delay_s=ctx.faults.slow_order_extra_s())  # fmt: skip
    body = xmlio.el(
        "TnOptionOrderResponse", render.tnoption_order(order, order.created_at, ctx.version)
    )
    return xml(body, 201, {"Location": ctx.location(f"tnoptions/{order.order_id}")})


def _lister(kind: OrderKind, endpoint: str) -> Handler:
    async def handler(ctx: Ctx) -> Response:
        total, orders = ctx.state.list_orders((kind,), ctx.account_id, _filters(ctx), endpoint)
        return xml(render.order_list(endpoint, total, orders, ctx.now))

    return handler


def _getter(kind: OrderKind, endpoint: str, *, strict_id: bool, history: bool) -> Handler:
    async def handler(ctx: Ctx) -> Response:
        order_id = _order_id(ctx, strict=strict_id)
        order = ctx.state.get_order(kind, ctx.account_id, order_id)
        if order is None or order.endpoint != endpoint:
            raise RejectedError(404, [])
        if history:
            return xml(render.history(order, ctx.now))
        return xml(render.order_element(order, ctx.now, ctx.version))

    return handler


async def list_external_tns(ctx: Ctx) -> Response:
    filters = _filters(ctx)
    total, orders = ctx.state.list_orders(
        (OrderKind.IMPORT, OrderKind.REMOVE), ctx.account_id, filters, "externalTns"
    )
    action = ctx.request.query_params.get("action")
    if action is not None:
        orders = [o for o in orders if o.details and o.details.action == action.upper()]
        total = len(orders)
    if total == 0:
        raise RejectedError(404, [])  # documented: 404 when nothing matches
    return xml(render.external_order_list(total, orders, ctx.now))


async def get_external_tns(ctx: Ctx) -> Response:
    order: Order | None = None
    try:
        uuid.UUID(ctx.params["id"])
        order = ctx.state.find_external_order(ctx.account_id, ctx.params["id"])
    except ValueError:
        order = None
    if order is None:
        raise RejectedError(404, [])
    return xml(render.import_order(order, ctx.now, ctx.version, report=True))


async def post_checker(ctx: Ctx) -> Response:
    req = xmlio.decode_checker(await ctx.request.body())
    ok, errors = ctx.state.check_import(ctx.account_id, req, ctx.version)
    return xml(render.checker(ok, errors, ctx.version))


# -- per-number resources -------------------------------------------------------------------


def _sippeer_record(ctx: Ctx, *, for_put: bool) -> str:
    number = _path_number(ctx, ctx.params["tn"])
    record = ctx.state.number(number)
    if ctx.state.account(ctx.account_id) is None:
        raise reject(403, 1001, "Access Denied")
    placed = record is not None and (record.account_id, record.site_id, record.sip_peer_id) == (
        ctx.account_id, ctx.params["site"], ctx.params["peer"],
    )  # fmt: skip
    if not placed:
        if for_put:
            raise reject(400, 13536, "Telephone number is not assigned to this account, "
                         "site or SIP peer.")  # fmt: skip
        raise RejectedError(404, [])
    return number


async def get_sippeer_tn(ctx: Ctx) -> Response:
    record = ctx.state.number(_sippeer_record(ctx, for_put=False))
    assert record is not None
    return xml(render.sippeer_tn(record, ctx.version))


MESSAGING_VIA_TNOPTIONS = "Messaging service needs to be enabled/disabled via a TN Option order"


async def put_sippeer_tn(ctx: Ctx) -> Response:
    update = xmlio.decode_sippeer_tn(await ctx.request.body())
    number = _sippeer_record(ctx, for_put=True)
    if not update.touches_messaging:
        return empty(200)
    if ctx.version is ApiVersion.V2:
        raise reject(400, 400, MESSAGING_VIA_TNOPTIONS)
    enable = bool(update.messaging_sms_enabled)
    was = ctx.state.set_sms(number, enable)
    if enable and was:
        return xml(render.sippeer_warning(number, ctx.version, SMS_WARNING))
    return empty(200)


async def get_tn_details(ctx: Ctx) -> Response:
    number = _path_number(ctx, ctx.params["tn"])
    record = ctx.state.number(number)
    if record is None or record.kind is NumberKind.BANDWIDTH or record.account_id is None:
        raise RejectedError(404, [])
    return xml(render.tn_details(record, ctx.version, ctx.now))


COUNTRY_CALLING_CODES = {
    "USA": "1", "CAN": "1", "PRI": "1", "GBR": "44", "AUS": "61",
    "ZAF": "27", "DEU": "49", "FRA": "33", "IRL": "353", "NLD": "31",
}  # fmt: skip


def _inservice_numbers(ctx: Ctx) -> list[str]:
    q = ctx.request.query_params
    area = q.get("areaCode") or q.get("areacode")
    country = q.get("countryCodeA3")
    needs_country = area or q.get("city") or q.get("phoneNumberType")
    if ctx.version is ApiVersion.V2 and needs_country and not country:
        raise reject(400, 1003, "countryCodeA3 is required when areaCode, city or "
                     "phoneNumberType is given")  # fmt: skip
    numbers = ctx.state.account_numbers(ctx.account_id)
    if country:
        calling = COUNTRY_CALLING_CODES.get(country.upper())
        numbers = [n for n in numbers if calling is not None and n[1:].startswith(calling)]
    if area:
        if area.startswith("+"):
            numbers = [n for n in numbers if n.startswith(area)]
        else:
            calling = COUNTRY_CALLING_CODES.get((country or "USA").upper(), "1")
            numbers = [n for n in numbers if n[1 + len(calling) :].startswith(area)]
    return numbers


async def list_inservice(ctx: Ctx) -> Response:
    q = ctx.request.query_params
    try:
        page = int(q.get("page", "1"))
        size = int(q.get("size", "300"))
    except ValueError as exc:
        raise reject(400, 1006, "page and size must be integers") from exc
    if page < 1 or not 1 <= size <= 5000:
        raise reject(400, 1006, "size must be between 1 and 5000")
    numbers = _inservice_numbers(ctx)
    chunk = numbers[(page - 1) * size : page * size]
    if not chunk:
        return empty(204)
    last = max(1, -(-len(numbers) // size))
    links = [xmlio.el("first", text=_link(ctx, 1, size, "first"))]
    if page < last:
        links.append(xmlio.el("next", text=_link(ctx, page + 1, size, "next")))
    links.append(xmlio.el("last", text=_link(ctx, last, size, "last")))
    node = xmlio.el(
        "TNs",
        xmlio.el("TotalCount", text=str(len(numbers))),
        xmlio.el("Links", *links),
        xmlio.el(
            "TelephoneNumbers",
            xmlio.el("Count", text=str(len(chunk))),
            *(xmlio.el("TelephoneNumber", text=_fmt(ctx, n)) for n in chunk),
        ),
    )
    return xml(node)


def _fmt(ctx: Ctx, number: str) -> str:
    return render_number(number, ctx.version)


def _link(ctx: Ctx, page: int, size: int, rel: str) -> str:
    params = dict(ctx.request.query_params) | {"page": str(page), "size": str(size)}
    url = f"{str(ctx.request.url).split('?')[0]}?{urlencode(params)}"
    return f'Link=<{url}>;rel="{rel}";'


async def inservice_totals(ctx: Ctx) -> Response:
    count = len(_inservice_numbers(ctx))
    return xml(xmlio.el("Quantity", xmlio.el("Count", text=str(count))))


async def inservice_one(ctx: Ctx) -> Response:
    number = _path_number(ctx, ctx.params["tn"])
    if number not in ctx.state.account_numbers(ctx.account_id):
        raise RejectedError(404, [])
    return empty(200)


async def list_addresses(ctx: Ctx) -> Response:
    if ctx.version is ApiVersion.V1 and ctx.request.query_params.get("type", "").lower() != "e911":
        raise reject(400, 1003, "type is required (type=e911)")
    ctx.state.account_numbers(ctx.account_id)  # 403 for unknown accounts
    address = xmlio.el(
        "Address",
        xmlio.el("HouseNumber", text="900"), xmlio.el("StreetName", text="Main Campus Dr"),
        xmlio.el("City", text="Raleigh"), xmlio.el("StateCode", text="NC"),
        xmlio.el("Zip", text="27606"), xmlio.el("Country", text="United States"),
        xmlio.el("AddressType", text="E911"), xmlio.el("EndpointCount", text="0"),
        xmlio.el("ValidationStatus", text="VALID"),
    )  # fmt: skip
    node = xmlio.el(
        "AddressesResponse",
        xmlio.el("TotalCount", text="1"),
        xmlio.el("Links", xmlio.el("first", text=_link(ctx, 1, 500, "first"))),
        xmlio.el("Addresses", address),
    )
    return xml(node)


# -- subscriptions --------------------------------------------------------------------------


async def post_subscription(ctx: Ctx) -> Response:
    req = xmlio.decode_subscription(await ctx.request.body())
    sub = ctx.state.create_subscription(ctx.account_id, req, ctx.version)
    return empty(201, {"Location": ctx.location(f"subscriptions/{sub.id}")})


async def list_subscriptions(ctx: Ctx) -> Response:
    subs = ctx.state.list_subscriptions(ctx.account_id)
    return xml(render.subscriptions(subs, ctx.now))


async def get_subscription(ctx: Ctx) -> Response:
    sub = ctx.state.get_subscription(ctx.account_id, ctx.params["id"])
    return xml(render.subscriptions([sub], ctx.now))


async def put_subscription(ctx: Ctx) -> Response:
    req = xmlio.decode_subscription(await ctx.request.body())
    ctx.state.replace_subscription(ctx.account_id, ctx.params["id"], req, ctx.version)
    return empty(200)


async def delete_subscription(ctx: Ctx) -> Response:
    ctx.state.delete_subscription(ctx.account_id, ctx.params["id"])
    return empty(200)


def _routes() -> list[Route]:
    imp, rem, opt = OrderKind.IMPORT, OrderKind.REMOVE, OrderKind.TNOPTIONS
    r: list[Route] = []
    for versions, suffix in ((V2, "/messaging"), (V1, "")):
        base = "importtnorders" + suffix
        r += [
            Route(
                "POST",
                versions,
                _p(base),
                post_import,
                "ImportTnOrderResponse",
                ErrorStyle.ERRORS,
                creates=True,
            ),
            Route("GET", versions, _p(base), _lister(imp, "importTnOrders"), "ImportTnOrders"),
            Route(
                "GET",
                versions,
                _p(base + "/{id}"),
                _getter(imp, "importTnOrders", strict_id=True, history=False),
                "ImportTnOrderReportResponse",
            ),
            Route(
                "GET",
                versions,
                _p(base + "/{id}/history"),
                _getter(imp, "importTnOrders", strict_id=True, history=True),
                "ImportTnOrderReportResponse",
            ),
        ]
        base = "removeimportedtnorders" + suffix
        r += [
            Route(
                "POST",
                versions,
                _p(base),
                post_remove,
                "RemoveImportedTnOrdersResponse",
                ErrorStyle.ERRORS,
                creates=True,
            ),
            Route(
                "GET",
                versions,
                _p(base),
                _lister(rem, "removeImportedTnOrders"),
                "RemoveImportedTnOrders",
            ),
            Route(
                "GET",
                versions,
                _p(base + "/{id}"),
                _getter(rem, "removeImportedTnOrders", strict_id=True, history=False),
                "RemoveImportedTnOrdersReportResponse",
            ),
            Route(
                "GET",
                versions,
                _p(base + "/{id}/history"),
                _getter(rem, "removeImportedTnOrders", strict_id=True, history=True),
                "RemoveImportedTnOrdersReportResponse",
            ),
        ]
    r += [
        Route("POST", BOTH, _p("tnoptions"), post_tnoptions, "TnOptionOrderResponse",
              creates=True),
        Route("GET", BOTH, _p("tnoptions"), _lister(opt, "tnoptions"), "TnOptionOrders"),
        Route("GET", BOTH, _p("tnoptions/{id}"),
              _getter(opt, "tnoptions", strict_id=False, history=False),
              "TnOptionOrderReportResponse"),
        Route("GET", BOTH, _p("tnoptions/{id}/history"),
              _getter(opt, "tnoptions", strict_id=False, history=True),
              "TnOptionOrderReportResponse"),
        Route("POST", BOTH, _p("importtnchecker"), post_checker, "ImportTnCheckerResponse",
              ErrorStyle.ERRORS_ONLY),
        Route("POST", V1, _p("externaltns"), post_external_tns, "ExternalTnsOrderResponse",
              creates=True),
        Route("GET", V1, _p("externaltns"), list_external_tns, "ExternalTnsOrderResponse"),
        Route("GET", V1, _p("externaltns/{id}"), get_external_tns, "ExternalTnsOrderResponse"),
        Route("GET", BOTH, _p("sites/{site}/sippeers/{peer}/tns/{tn}"), get_sippeer_tn,
              "SipPeerTelephoneNumberResponse"),
        Route("PUT", BOTH, _p("sites/{site}/sippeers/{peer}/tns/{tn}"), put_sippeer_tn,
              "SipPeerTelephoneNumberResponse"),
        Route("GET", BOTH, _p("tns/{tn}/tndetails"), get_tn_details, "TelephoneNumberResponse",
              account_scoped=False),
        Route("GET", BOTH, _p("inservicenumbers"), list_inservice, "TNs"),
        Route("GET", BOTH, _p("inservicenumbers/totals"), inservice_totals, "Quantity"),
        Route("GET", BOTH, _p("inservicenumbers/{tn}"), inservice_one, "TNs"),
        Route("GET", V2, _p("e911addresses"), list_addresses, "AddressesResponse"),
        Route("GET", V1, _p("addresses"), list_addresses, "AddressesResponse"),
        Route("POST", BOTH, _p("subscriptions"), post_subscription, "SubscriptionsResponse",
              creates=True),
        Route("GET", BOTH, _p("subscriptions"), list_subscriptions, "SubscriptionsResponse"),
        Route("GET", BOTH, _p("subscriptions/{id}"), get_subscription, "SubscriptionsResponse"),
        Route("PUT", BOTH, _p("subscriptions/{id}"), put_subscription, "SubscriptionsResponse"),
        Route("DELETE", BOTH, _p("subscriptions/{id}"), delete_subscription,
              "SubscriptionsResponse"),
    ]  # fmt: skip
    return r


def _p(path: str) -> tuple[str, ...]:
    return tuple(path.split("/"))


ROUTES = _routes()


def match(
    method: str, version: ApiVersion, segments: list[str]
) -> tuple[Route | None, dict[str, str], Route | None]:
    """(route, params, other-version route) for a path split after the version prefix.

    Literal segments compare case-insensitively. `accounts/{account}` is stripped first for
    account-scoped routes. The third value is a route of the other API version (or another
    method) matching the same path: the caller answers 404/405 with its root element.
    """
    params: dict[str, str] = {}
    rest = segments
    scoped = len(segments) >= 2 and segments[0].lower() == "accounts"
    if scoped:
        params["account"] = segments[1]
        rest = segments[2:]
    near: list[Route] = []
    for route in ROUTES:
        if route.account_scoped != scoped or len(route.pattern) != len(rest):
            continue
        found = _bind(route.pattern, rest)
        if found is None:
            continue
        if route.method == method and version in route.versions:
            return route, params | found, None
        near.append(route)
    # this method in the other version first (404 with its root), else another method (405)
    near.sort(key=lambda r: (r.method != method, version not in r.versions))
    return None, params, near[0] if near else None


def _bind(pattern: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    bound: dict[str, str] = {}
    for want, got in zip(pattern, segments, strict=True):
        if want.startswith("{"):
            if not got:
                return None
            bound[want[1:-1]] = got
        elif want != got.lower():
            return None
    return bound


def render_error(route: Route | None, exc: RejectedError) -> Response:
    """A `RejectedError` in the route's shape (404 without errors: the documented variant)."""
    root = route.root if route is not None else "ErrorResponse"
    if exc.status == 404 and not exc.errors:
        return xml(render.not_found(root), 404)
    errors: list[ApiError] = exc.errors or [ApiError(exc.status, "Request rejected")]
    style = route.style if route is not None and exc.status == 400 else ErrorStyle.STATUS
    if style is ErrorStyle.ERRORS:
        return xml(render.failed_create(root, errors), exc.status)
    if style is ErrorStyle.ERRORS_ONLY:
        return xml(render.failed_create(root, errors, with_status=False), exc.status)
    return xml(render.response_status(root, errors), exc.status)
