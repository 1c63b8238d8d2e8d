"""Handlers of the order endpoints: import, removal, TN options, v1 externalTns, importTnChecker
(create, list with filters, get by id, history)."""

from __future__ import annotations

import re
import uuid
from datetime import date
from urllib.parse import urlencode

from starlette.responses import Response

from orchestrator.sandbox import render, xmlio
from orchestrator.sandbox.context import Ctx, Handler, path_number, request_body, xml
from orchestrator.sandbox.model import (
    ApiVersion,
    OrderKind,
    OrderStatus,
    RejectedError,
    reject,
)
from orchestrator.sandbox.orders import Order, OrderFilter


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


def _filters(ctx: Ctx, *, loa_type: bool) -> OrderFilter:
    """The list filters the endpoint knows; other query parameters are ignored (reference
    §9.3). `loaType` is a filter of import lists only (`loa_type`)."""
    q = ctx.request.query_params
    try:
        statuses = frozenset(OrderStatus(s.upper()) for s in q.getlist("status"))
    except ValueError as exc:
        raise reject(400, 1008, f"'{q.get('status')}' is not a valid value") from exc
    tn = q.get("tn")
    loa = q.get("loaType") if loa_type else None
    return OrderFilter(
        customer_order_id=q.get("customerOrderId"),
        statuses=statuses,
        tn=None if tn is None else path_number(ctx, tn),
        created_from=_date_param(ctx, "createdDateFrom"),
        created_to=_date_param(ctx, "createdDateTo"),
        modified_from=_date_param(ctx, "modifiedDateFrom"),
        modified_to=_date_param(ctx, "modifiedDateTo"),
        loa_type=None if loa is None else loa.upper(),
    )


# The v2 import and removal lists' `status` enum (the excerpt's StatusQueryParam): RECEIVED and
# EXCEPTION cannot be asked for.
_V2_LIST_STATUSES = frozenset(
    {OrderStatus.PROCESSING, OrderStatus.COMPLETE, OrderStatus.PARTIAL, OrderStatus.FAILED}
)


def _check_v2_statuses(filters: OrderFilter) -> None:
    """400 1008 for a `status` the v2 list enum does not name."""
    for status in filters.statuses - _V2_LIST_STATUSES:
        raise reject(400, 1008, f"'{status.value}' is not a valid value")


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date_param(ctx: Ctx, name: str) -> date | None:
    """A `yyyy-MM-dd` query parameter (inclusive bound), or 400 1007."""
    text = ctx.request.query_params.get(name)
    if text is None:
        return None
    try:
        if not _DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError as exc:
        raise reject(400, 1007, f"{name} is not a valid date format.") from exc


# -- import / remove / externalTns --------------------------------------------------------


async def post_import(ctx: Ctx) -> Response:
    req = xmlio.decode_import(await request_body(ctx, "CreateImportMessagingTnOrder"))
    order = ctx.state.create_import(ctx.account_id, req, ctx.version, ctx.user,
                                    extra_delay_s=ctx.faults.slow_order_extra_s())  # fmt: skip
    path = "importTnOrders/messaging" if ctx.version is ApiVersion.V2 else "importTnOrders"
    body = xmlio.el(
        "ImportTnOrderResponse", render.import_order(order, order.created_at, ctx.version)
    )
    return xml(body, 201, {"Location": ctx.location(f"{path}/{order.order_id}")})


async def post_external_tns(ctx: Ctx) -> Response:
    req = xmlio.decode_import(await request_body(ctx, None))  # v1 only
    order = ctx.state.create_import(ctx.account_id, req, ctx.version, ctx.user, external_tns=True,
                                    extra_delay_s=ctx.faults.slow_order_extra_s())  # fmt: skip
    body = xmlio.el(
        "ExternalTnsOrderResponse", render.import_order(order, order.created_at, ctx.version)
    )
    return xml(body, 201, {"Location": ctx.location(f"externalTns/{order.order_id}")})


async def post_remove(ctx: Ctx) -> Response:
    req = xmlio.decode_remove(await request_body(ctx, "CreateRemoveImportedTnOrder"))
    order = ctx.state.create_remove(ctx.account_id, req, ctx.version, ctx.user,
                                    extra_delay_s=ctx.faults.slow_order_extra_s())  # fmt: skip
    path = "removeImportedTnOrders" + ("/messaging" if ctx.version is ApiVersion.V2 else "")
    body = xmlio.el(
        "RemoveImportedTnOrdersResponse", render.remove_order(order, order.created_at, ctx.version)
    )
    return xml(body, 201, {"Location": ctx.location(f"{path}/{order.order_id}")})


async def post_tnoptions(ctx: Ctx) -> Response:
    req = xmlio.decode_tnoptions(await request_body(ctx, "CreateTnOptionOrder"))
    order = ctx.state.create_tnoptions(ctx.account_id, req, ctx.version, ctx.user,
                                       extra_delay_s=ctx.faults.slow_order_extra_s())  # fmt: skip
    body = xmlio.el(
        "TnOptionOrderResponse", render.tnoption_order(order, order.created_at, ctx.version)
    )
    return xml(body, 201, {"Location": ctx.location(f"tnoptions/{order.order_id}")})


def lister(kind: OrderKind, endpoint: str) -> Handler:
    """A list handler for one order kind and endpoint."""

    async def handler(ctx: Ctx) -> Response:
        filters = _filters(ctx, loa_type=kind is OrderKind.IMPORT)
        if ctx.version is ApiVersion.V2 and kind is not OrderKind.TNOPTIONS:
            _check_v2_statuses(filters)
        page, size = _lenient_page(ctx)
        total, orders = ctx.state.list_orders(
            (kind,), ctx.account_id, filters, endpoint, first=(page - 1) * size, size=size
        )
        # Paging by `Links` (reference §12) once there is more than one page, or when asked.
        links: dict[str, str] = {}
        if page > 1 or size < LIST_CAP or page * size < total:
            links["first"] = _page_link(ctx, 1, size)
        if page * size < total:
            links["next"] = _page_link(ctx, page + 1, size)
        return xml(render.order_list(endpoint, total, orders, ctx.now, ctx.version, links))

    return handler


def getter(
    kind: OrderKind, endpoint: str, *, strict_id: bool, history: bool, unknown_status: int = 404
) -> Handler:
    """A get-by-id (or `/history`) handler for one order kind and endpoint. An unknown id
    answers `unknown_status` with the `ResponseStatus/Description` "The resource does not
    exist" body under the route's root (the excerpt: 400 for removal, 404 for TN options)."""

    async def handler(ctx: Ctx) -> Response:
        order_id = _order_id(ctx, strict=strict_id)
        order = ctx.state.get_order(kind, ctx.account_id, order_id)
        if order is None or order.endpoint != endpoint:
            raise RejectedError(unknown_status, [])
        if history:
            return xml(render.history(order, ctx.now))
        return xml(render.order_element(order, ctx.now, ctx.version))

    return handler


async def list_external_tns(ctx: Ctx) -> Response:
    filters = _filters(ctx, loa_type=True)
    total, orders = ctx.state.list_orders(
        (OrderKind.IMPORT, OrderKind.REMOVE), ctx.account_id, filters, "externalTns"
    )
    action = ctx.request.query_params.get("action")
    if action is not None:
        orders = [o for o in orders if o.details and o.details.action == action.upper()]
        total = len(orders)
    if total == 0:
        raise RejectedError(404, [])  # documented: 404 when nothing matches
    page, size = _page_params(ctx, default_size=LIST_CAP)
    shown = orders[(page - 1) * size : page * size]
    # The documented listing has no Links; they appear once paging is in play.
    paging = "page" in ctx.request.query_params or "size" in ctx.request.query_params
    links: dict[str, str] = {}
    if paging or page * size < len(orders):
        links["first"] = _page_link(ctx, 1, size)
    if page * size < len(orders):
        links["next"] = _page_link(ctx, page + 1, size)
    return xml(render.external_order_list(total, shown, ctx.now, links))


LIST_CAP = 1000  # orders in one list answer (reference §4.3, §12)


def _page_params(ctx: Ctx, default_size: int) -> tuple[int, int]:
    """`page` (1-based page number) and `size` (1..default_size) from the query."""
    q = ctx.request.query_params
    try:
        page = int(q.get("page", "1"))
        size = int(q.get("size", str(default_size)))
    except ValueError as exc:
        raise reject(400, 1008, "page and size must be whole numbers") from exc
    if page < 1 or not 1 <= size <= default_size:
        raise reject(400, 1006, f"page must be >= 1 and size between 1 and {default_size}")
    return page, size


def _lenient_page(ctx: Ctx) -> tuple[int, int]:
    """`page` and `size` of an order list, which the excerpt does not document: a value that
    is not a usable whole number is ignored like any unknown parameter (reference §9.3)."""
    q = ctx.request.query_params
    page, size = q.get("page", "1"), q.get("size", str(LIST_CAP))
    page_n = int(page) if page.isdigit() and int(page) >= 1 else 1
    size_n = int(size) if size.isdigit() and 1 <= int(size) <= LIST_CAP else LIST_CAP
    return page_n, size_n


def _page_link(ctx: Ctx, page: int, size: int) -> str:
    """A `Links` child's text as the API writes it: `Link=<url>;rel="next";` (reference §12)."""
    params = [
        (k, v) for k, v in ctx.request.query_params.multi_items() if k not in ("page", "size")
    ]
    params += [("page", str(page)), ("size", str(size))]
    url = str(ctx.request.url.replace(query=urlencode(params)))
    rel = "first" if page == 1 else "next"
    return f'Link=<{url}>;rel="{rel}";'  # fmt: skip


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
    req = xmlio.decode_checker(await request_body(ctx, "CreateRequestImportTnChecker"))
    ok, errors = ctx.state.check_import(ctx.account_id, req, ctx.version)
    return xml(render.checker(ok, errors, ctx.version))
