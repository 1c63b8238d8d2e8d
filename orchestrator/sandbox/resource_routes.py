"""Handlers of the per-number and account resources: SIP-peer TNs, tndetails, in-service
numbers, E911 addresses, subscriptions."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.responses import Response

from orchestrator.sandbox import render, xmlio
from orchestrator.sandbox.context import Ctx, empty, path_number, request_body, xml
from orchestrator.sandbox.inventory import SMS_WARNING
from orchestrator.sandbox.model import (
    ApiVersion,
    NumberKind,
    RejectedError,
    reject,
    render_number,
)

# -- per-number resources -------------------------------------------------------------------


def _sippeer_record(ctx: Ctx, *, for_put: bool) -> str:
    number = path_number(ctx, ctx.params["tn"])
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
    update = xmlio.decode_sippeer_tn(await request_body(ctx, None))  # not in the excerpt
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
    number = path_number(ctx, ctx.params["tn"])
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
    return inservice_page(ctx, _inservice_numbers(ctx))


def inservice_page(ctx: Ctx, numbers: list[str]) -> Response:
    """One page of `numbers` as a `TNs` answer (`page` 1-based, `size` 1..5000; 204 past the
    end), with `Links` first/next/last."""
    q = ctx.request.query_params
    try:
        page = int(q.get("page", "1"))
        size = int(q.get("size", "300"))
    except ValueError as exc:
        raise reject(400, 1006, "page and size must be integers") from exc
    if page < 1 or not 1 <= size <= 5000:
        raise reject(400, 1006, "size must be between 1 and 5000")
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
    number = path_number(ctx, ctx.params["tn"])
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
    req = xmlio.decode_subscription(await request_body(ctx, "CreateSubscriptions"))
    sub = ctx.state.create_subscription(ctx.account_id, req, ctx.version)
    return empty(201, {"Location": ctx.location(f"subscriptions/{sub.id}")})


async def list_subscriptions(ctx: Ctx) -> Response:
    subs = ctx.state.list_subscriptions(ctx.account_id)
    return xml(render.subscriptions(subs, ctx.now))


async def get_subscription(ctx: Ctx) -> Response:
    sub = ctx.state.get_subscription(ctx.account_id, ctx.params["id"])
    return xml(render.subscriptions([sub], ctx.now))


async def put_subscription(ctx: Ctx) -> Response:
    req = xmlio.decode_subscription(await request_body(ctx, "UpdateSubscription"))
    ctx.state.replace_subscription(ctx.account_id, ctx.params["id"], req, ctx.version)
    return empty(200)


async def delete_subscription(ctx: Ctx) -> Response:
    ctx.state.delete_subscription(ctx.account_id, ctx.params["id"])
    return empty(200)
