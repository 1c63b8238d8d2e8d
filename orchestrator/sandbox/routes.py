"""The route table (paths relative to the version prefix), path matching, and error rendering.

Literal path segments match case-insensitively; handlers live in `order_routes` and
`resource_routes`.
"""

from __future__ import annotations

from starlette.responses import Response

from orchestrator.sandbox import order_routes as order
from orchestrator.sandbox import render
from orchestrator.sandbox import resource_routes as res
from orchestrator.sandbox.context import BOTH, V1, V2, ErrorStyle, Route, xml
from orchestrator.sandbox.model import (
    ApiError,
    ApiVersion,
    OrderKind,
    RejectedError,
)

SUBS = "SubscriptionsResponse"
EXT = "ExternalTnsOrderResponse"


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
                order.post_import,
                "ImportTnOrderResponse",
                ErrorStyle.ERRORS,
                creates=True,
            ),
            Route("GET", versions, _p(base), order.lister(imp, "importTnOrders"), "ImportTnOrders"),
            Route(
                "GET",
                versions,
                _p(base + "/{id}"),
                order.getter(imp, "importTnOrders", strict_id=True, history=False),
                "ImportTnOrderReportResponse",
            ),
            Route(
                "GET",
                versions,
                _p(base + "/{id}/history"),
                order.getter(imp, "importTnOrders", strict_id=True, history=True),
                "ImportTnOrderReportResponse",
            ),
        ]
        base = "removeimportedtnorders" + suffix
        r += [
            Route(
                "POST",
                versions,
                _p(base),
                order.post_remove,
                "RemoveImportedTnOrdersResponse",
                ErrorStyle.ERRORS,
                creates=True,
            ),
            Route(
                "GET",
                versions,
                _p(base),
                order.lister(rem, "removeImportedTnOrders"),
                "RemoveImportedTnOrders",
            ),
            Route(
                "GET",
                versions,
                _p(base + "/{id}"),
                order.getter(
                    rem, "removeImportedTnOrders", strict_id=True, history=False, unknown_status=400
                ),
                "RemoveImportedTnOrdersReportResponse",
            ),
            Route(
                "GET",
                versions,
                _p(base + "/{id}/history"),
                order.getter(
                    rem, "removeImportedTnOrders", strict_id=True, history=True, unknown_status=400
                ),
                "RemoveImportedTnOrdersReportResponse",
            ),
        ]
    r += [
        Route("POST", BOTH, _p("tnoptions"), order.post_tnoptions, "TnOptionOrderResponse",
              creates=True),
        Route("GET", BOTH, _p("tnoptions"), order.lister(opt, "tnoptions"),
              "TnOptionOrderReportResponse"),
        Route("GET", BOTH, _p("tnoptions/{id}"),
              order.getter(opt, "tnoptions", strict_id=False, history=False),
              "TnOptionOrderReportResponse"),
        Route("GET", BOTH, _p("tnoptions/{id}/history"),
              order.getter(opt, "tnoptions", strict_id=False, history=True),
              "TnOptionOrderReportResponse"),
        Route("POST", BOTH, _p("importtnchecker"), order.post_checker, "ImportTnCheckerResponse",
              ErrorStyle.ERRORS_ONLY),
        Route("POST", V1, _p("externaltns"), order.post_external_tns, EXT,
              creates=True),
        Route("GET", V1, _p("externaltns"), order.list_external_tns, EXT),
        Route("GET", V1, _p("externaltns/{id}"), order.get_external_tns, EXT),
        Route("GET", BOTH, _p("sites/{site}/sippeers/{peer}/tns/{tn}"), res.get_sippeer_tn,
              "SipPeerTelephoneNumberResponse"),
        Route("PUT", BOTH, _p("sites/{site}/sippeers/{peer}/tns/{tn}"), res.put_sippeer_tn,
              "SipPeerTelephoneNumberResponse"),
        Route("GET", BOTH, _p("tns/{tn}/tndetails"), res.get_tn_details, "TelephoneNumberResponse",
              account_scoped=False),
        Route("GET", BOTH, _p("inservicenumbers"), res.list_inservice, "TNs"),
        Route("GET", BOTH, _p("inservicenumbers/totals"), res.inservice_totals, "Quantity"),
        Route("GET", BOTH, _p("inservicenumbers/{tn}"), res.inservice_one, "TNs"),
        Route("GET", V2, _p("e911addresses"), res.list_addresses, "AddressesResponse"),
        Route("GET", V1, _p("addresses"), res.list_addresses, "AddressesResponse"),
        Route("POST", BOTH, _p("subscriptions"), res.post_subscription, SUBS,
              creates=True),
        Route("GET", BOTH, _p("subscriptions"), res.list_subscriptions, SUBS),
        Route("GET", BOTH, _p("subscriptions/{id}"), res.get_subscription, SUBS),
        Route("PUT", BOTH, _p("subscriptions/{id}"), res.put_subscription, SUBS),
        Route("DELETE", BOTH, _p("subscriptions/{id}"), res.delete_subscription,
              SUBS),
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
