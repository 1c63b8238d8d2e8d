"""The route table (paths relative to the version prefix), path matching, and error rendering.

The table is data: each order endpoint is an `_OrderEndpoint` that gives its four routes
(create, list, get by id, history), the other endpoints one `Route` each. Literal path segments
match case-insensitively; handlers live in `order_routes` and `resource_routes`.

Imports only starlette and its sandbox siblings (never the client side: the sandbox's rule).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.responses import Response

from orchestrator.sandbox import order_routes as order
from orchestrator.sandbox import render, site_inservice
from orchestrator.sandbox import resource_routes as res
from orchestrator.sandbox.context import BOTH, V1, V2, ErrorStyle, Handler, Route, xml
from orchestrator.sandbox.model import (
    ApiError,
    ApiVersion,
    OrderKind,
    RejectedError,
)

SUBS = "SubscriptionsResponse"
EXT = "ExternalTnsOrderResponse"


def _p(path: str) -> tuple[str, ...]:
    """A path pattern: its segments."""
    return tuple(path.split("/"))


@dataclass(frozen=True)
class _OrderEndpoint:
    """An order endpoint's four routes, as data: create, list, get by id, history."""

    path: str  # the literal path, lower case (v2 adds "/messaging" to the hosting ones)
    kind: OrderKind
    endpoint: str  # the endpoint as the ledger and the order records name it
    post: Handler
    post_root: str  # the create answer's root
    list_root: str
    report_root: str  # the get-by-id and history answers' root
    post_style: ErrorStyle = ErrorStyle.STATUS
    strict_id: bool = True  # a malformed order id is refused, not looked up
    unknown_status: int = 404  # the answer to an unknown id


_IMPORT = _OrderEndpoint(
    "importtnorders", OrderKind.IMPORT, "importTnOrders", order.post_import,
    "ImportTnOrderResponse", "ImportTnOrders", "ImportTnOrderReportResponse", ErrorStyle.ERRORS,
)  # fmt: skip
_REMOVE = _OrderEndpoint(
    "removeimportedtnorders", OrderKind.REMOVE, "removeImportedTnOrders", order.post_remove,
    "RemoveImportedTnOrdersResponse", "RemoveImportedTnOrders",
    "RemoveImportedTnOrdersReportResponse", ErrorStyle.ERRORS, unknown_status=400,
)  # fmt: skip
_TNOPTIONS = _OrderEndpoint(
    "tnoptions", OrderKind.TNOPTIONS, "tnoptions", order.post_tnoptions, "TnOptionOrderResponse",
    "TnOptionOrderReportResponse", "TnOptionOrderReportResponse", strict_id=False,
)  # fmt: skip

# The other endpoints: one route each.
_SINGLE_ROUTES = (
    Route("POST", BOTH, _p("importtnchecker"), order.post_checker, "ImportTnCheckerResponse",
          ErrorStyle.ERRORS_ONLY),
    Route("POST", V1, _p("externaltns"), order.post_external_tns, EXT, creates=True),
    Route("GET", V1, _p("externaltns"), order.list_external_tns, EXT),
    Route("GET", V1, _p("externaltns/{id}"), order.get_external_tns, EXT),
    Route("GET", BOTH, _p("sites/{site}/sippeers/{peer}/tns/{tn}"),
          res.get_sippeer_tn, "SipPeerTelephoneNumberResponse"),
    Route("PUT", BOTH, _p("sites/{site}/sippeers/{peer}/tns/{tn}"),
          res.put_sippeer_tn, "SipPeerTelephoneNumberResponse"),
    Route("GET", BOTH, _p("tns/{tn}/tndetails"), res.get_tn_details, "TelephoneNumberResponse",
          account_scoped=False),
    Route("GET", BOTH, _p("inservicenumbers"), res.list_inservice, "TNs"),
    Route("GET", BOTH, _p("inservicenumbers/totals"), res.inservice_totals, "Quantity"),
    Route("GET", BOTH, _p("inservicenumbers/{tn}"), res.inservice_one, "TNs"),
    Route("GET", BOTH, _p("sites/{site}/inservicenumbers"), site_inservice.list_site_inservice,
          "TNs"),
    Route("GET", V2, _p("e911addresses"), res.list_addresses, "AddressesResponse"),
    Route("GET", V1, _p("addresses"), res.list_addresses, "AddressesResponse"),
    Route("POST", BOTH, _p("subscriptions"), res.post_subscription, SUBS, creates=True),
    Route("GET", BOTH, _p("subscriptions"), res.list_subscriptions, SUBS),
    Route("GET", BOTH, _p("subscriptions/{id}"), res.get_subscription, SUBS),
    Route("PUT", BOTH, _p("subscriptions/{id}"), res.put_subscription, SUBS),
    Route("DELETE", BOTH, _p("subscriptions/{id}"), res.delete_subscription, SUBS),
)  # fmt: skip


def _order_routes(versions: frozenset[ApiVersion], e: _OrderEndpoint, suffix: str) -> list[Route]:
    """The create, list, get-by-id and history routes of one order endpoint."""
    path = _p(e.path + suffix)

    def get(history: bool) -> Handler:
        return order.getter(e.kind, e.endpoint, strict_id=e.strict_id, history=history,
                            unknown_status=e.unknown_status)  # fmt: skip

    return [
        Route("POST", versions, path, e.post, e.post_root, e.post_style, creates=True),
        Route("GET", versions, path, order.lister(e.kind, e.endpoint), e.list_root),
        Route("GET", versions, (*path, "{id}"), get(history=False), e.report_root),
        Route("GET", versions, (*path, "{id}", "history"), get(history=True), e.report_root),
    ]


def _routes() -> list[Route]:
    """Every route, in matching order: the hosting orders (v2 under /messaging, then v1), the
    TN option orders, then the single routes."""
    hosting = [
        route
        for versions, suffix in ((V2, "/messaging"), (V1, ""))
        for endpoint in (_IMPORT, _REMOVE)
        for route in _order_routes(versions, endpoint, suffix)
    ]
    return [*hosting, *_order_routes(BOTH, _TNOPTIONS, ""), *_SINGLE_ROUTES]


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
    """A `RejectedError` in the route's shape (400/404 without errors: the documented
    "The resource does not exist" variant)."""
    root = route.root if route is not None else "ErrorResponse"
    if exc.status in (400, 404) and not exc.errors:  # an unknown resource (removal: 400)
        return xml(render.not_found(root), exc.status)
    errors: list[ApiError] = exc.errors or [ApiError(exc.status, "Request rejected")]
    style = route.style if route is not None and exc.status == 400 else ErrorStyle.STATUS
    if style is ErrorStyle.ERRORS:
        return xml(render.failed_create(root, errors), exc.status)
    if style is ErrorStyle.ERRORS_ONLY:
        return xml(render.failed_create(root, errors, with_status=False), exc.status)
    return xml(render.response_status(root, errors), exc.status)
