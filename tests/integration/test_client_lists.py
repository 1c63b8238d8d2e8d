"""Order lists over real HTTP: the lookup by number and creation date against the sandbox, and
the list rule (204, an empty body or a not-found 404 is an empty list; any other 404 is an error)
against a small starlette peer answering what the reference says lists may answer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import pytest
from asgi_peer import serve_asgi
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from orchestrator.api.client import ApiClient, BasicCredentials
from orchestrator.api.xml import OrderList
from orchestrator.api.xml_request import build_import_order, build_tn_option_order
from orchestrator.errors import PermanentApiError
from orchestrator.sandbox import ManualClock, RunningSandbox

ACCOUNT = "9900012"
BASIC = BasicCredentials("sandbox", "sandbox")
DAY = date(2025, 3, 10)
NOON = datetime(2025, 3, 10, 12, 0, tzinfo=UTC).timestamp()


def client_for(base_url: str) -> ApiClient:
    return ApiClient(f"{base_url}/api/v2", ACCOUNT, BASIC)


def import_body(coid: str, *numbers: str) -> bytes:
    return build_import_order(
        body_form="ExternalTnsOrder", customer_order_id=coid, site_id="743", sip_peer_id=None,
        loa_type="CARRIER",
        numbers=numbers,
    )  # fmt: skip


@pytest.fixture
def dated_sandbox(sandbox_factory: Callable[..., RunningSandbox]) -> RunningSandbox:
    """A sandbox whose clock says 2025-03-10 12:00 UTC, so orders have a known creation day."""
    return sandbox_factory(clock=ManualClock(start=NOON))


# --- find_orders_by_number against the sandbox ----------------------------------------------


async def test_orders_are_found_by_number_and_creation_day(dated_sandbox: RunningSandbox) -> None:
    """Only the orders carrying the number come back, with their CustomerOrderId and OrderId."""
    async with client_for(dated_sandbox.base_url) as client:
        mine = await client.create_order("import", import_body("by-tn-1", "+19195550100"))
        other = await client.create_order("import", import_body("by-tn-2", "+19195550101"))
        found = await client.find_orders_by_number("import", "+19195550100", DAY)
        none = await client.find_orders_by_number("import", "+19195550199", DAY)
    assert [(o.order_id, o.customer_order_id) for o in found.orders] == [(mine.order_id, "by-tn-1")]
    assert other.order_id not in {o.order_id for o in found.orders}
    assert found.total_count == 1
    assert none == OrderList(total_count=0, orders=())


@pytest.mark.parametrize(
    ("created_from", "created_to", "found"),
    [
        (DAY, None, True),
        (date(2025, 3, 11), None, False),
        (date(2025, 3, 1), date(2025, 3, 9), False),
        (DAY, DAY, True),
        (date(2025, 3, 9), date(2025, 3, 10), True),
    ],
)
async def test_creation_days_bound_the_lookup_inclusively(
    dated_sandbox: RunningSandbox, created_from: date, created_to: date | None, found: bool
) -> None:
    """createdDateFrom and createdDateTo are whole days, both inclusive."""
    async with client_for(dated_sandbox.base_url) as client:
        await client.create_order("import", import_body("days-1", "+19195550110"))
        listing = await client.find_orders_by_number(
            "import", "+19195550110", created_from, created_to
        )
    assert [o.customer_order_id for o in listing.orders] == (["days-1"] if found else [])


async def test_tn_option_orders_are_found_by_number(dated_sandbox: RunningSandbox) -> None:
    """The lookup works for TN option orders too (kind "messaging" is the same list)."""
    dated_sandbox.state.seed({"numbers": [{"number": "+19195550124", "kind": "inservice"}]})
    body = build_tn_option_order(
        customer_order_id="opt-tn-1", sms="on", a2p=None, numbers=["+19195550124"]
    )
    async with client_for(dated_sandbox.base_url) as client:
        created = await client.create_order("tnoptions", body)
        found = await client.find_orders_by_number("messaging", "+19195550124", DAY)
    assert [o.order_id for o in found.orders] == [created.order_id]


@pytest.mark.parametrize(
    ("number", "created_to"),
    [("9195550100", None), ("+1 919 555 0100", None), ("+19195550100", date(2025, 3, 9))],
)
async def test_a_lookup_that_would_send_an_invalid_query_is_refused(
    number: str, created_to: date | None
) -> None:
    """A number that is not E.164, or a day range ending before it starts, never goes out."""
    client = ApiClient("https://api.bandwidth.com/api/v2", ACCOUNT, BASIC)
    async with client:
        with pytest.raises(ValueError):
            await client.find_orders_by_number("import", number, DAY, created_to)


# --- the list rule, against a peer answering what lists may answer --------------------------


class ListPeer:
    """Answers every request with one scripted (status, body) and records the query strings."""

    def __init__(self) -> None:
        self.answer: tuple[int, bytes] = (200, b"")
        self.queries: list[str] = []

    async def handle(self, request: Request) -> Response:
        self.queries.append(request.url.query)
        status, body = self.answer
        return Response(body, status, media_type="application/xml")


@pytest.fixture(scope="module")
def _served_peer() -> Iterator[tuple[ListPeer, str]]:
    """One starlette app on 127.0.0.1 for the module (starting uvicorn costs ~0.2 s)."""
    peer = ListPeer()
    app = Starlette(routes=[Route("/{path:path}", peer.handle)])
    with serve_asgi(app) as base_url:
        yield peer, base_url


@pytest.fixture
def list_peer(_served_peer: tuple[ListPeer, str]) -> tuple[ListPeer, str]:
    """The module's peer, its script and its record of queries cleared."""
    peer, base_url = _served_peer
    peer.answer, peer.queries = (200, b""), []
    return peer, base_url


NOT_FOUND = (
    b"<TnOptionOrderReportResponse><ResponseStatus><Description>The resource does not exist"
    b"</Description></ResponseStatus></TnOptionOrderReportResponse>"
)
NOT_FOUND_1016 = (
    b"<ErrorResponse><ResponseStatus><ErrorCode>1016</ErrorCode><Description>Resource tn "
    b"does not exist in IRIS.</Description></ResponseStatus></ErrorResponse>"
)
BAD_DATE = (
    b"<TnOptionOrderReportResponse><ResponseStatus><ErrorCode>1007</ErrorCode><Description>"
    b"createdDateFrom is not a valid date format.</Description></ResponseStatus>"
    b"</TnOptionOrderReportResponse>"
)
BAD_QUERY_NO_CODE = (
    b"<ErrorResponse><ResponseStatus><Description>Invalid search parameters</Description>"
    b"</ResponseStatus></ErrorResponse>"
)
HTML = b"<html><body><h1>404 Not Found</h1></body></html>"
EMPTY_ANSWERS = {
    "204": (204, b""),
    "200-empty-body": (200, b""),
    "404-empty-body": (404, b""),
    "404-whitespace-body": (404, b"\r\n  "),
    "404-not-found": (404, NOT_FOUND),
    "404-code-1016": (404, NOT_FOUND_1016),
}
ERROR_ANSWERS = {
    "404-invalid-date-1007": (404, BAD_DATE, "1007"),
    "404-query-error-without-code": (404, BAD_QUERY_NO_CODE, None),
    "404-html-page": (404, HTML, None),
}


async def _ask(base_url: str, lookup: str) -> OrderList | bytes | None:
    async with client_for(base_url) as client:
        if lookup == "by_customer_order_id":
            return await client.find_orders("tnoptions", "coid-1")
        if lookup == "by_number":
            return await client.find_orders_by_number("tnoptions", "+19195550100", DAY)
        return await client.get_account_xml("externalTns", {"page": "1"})


LOOKUPS = ["by_customer_order_id", "by_number", "account_xml"]


@pytest.mark.parametrize("lookup", LOOKUPS)
@pytest.mark.parametrize("answer", sorted(EMPTY_ANSWERS))
async def test_nothing_matched_is_an_empty_list(
    list_peer: tuple[ListPeer, str], lookup: str, answer: str
) -> None:
    """204, an empty 2xx body, and a 404 with an empty body or only the documented not-found
    error (no code, or 1016) are an empty list, never an abort."""
    peer, base_url = list_peer
    peer.answer = EMPTY_ANSWERS[answer]
    result = await _ask(base_url, lookup)
    if lookup == "account_xml":
        assert result is None
    else:
        assert result == OrderList(total_count=0, orders=())
    assert len(peer.queries) == 1


@pytest.mark.parametrize("lookup", LOOKUPS)
@pytest.mark.parametrize("answer", sorted(ERROR_ANSWERS))
async def test_any_other_404_stays_an_error(
    list_peer: tuple[ListPeer, str], lookup: str, answer: str
) -> None:
    """A 404 carrying a query error (the TN option list's "invalid query -> 404"), a code-less
    complaint, or a page that is not the API's raises PermanentApiError(404), never "no order"."""
    peer, base_url = list_peer
    status, body, code = ERROR_ANSWERS[answer]
    peer.answer = (status, body)
    with pytest.raises(PermanentApiError) as info:
        await _ask(base_url, lookup)
    assert (info.value.status, info.value.code) == (404, code)
    assert "\n" not in str(info.value)


async def test_the_number_lookup_sends_tn_and_days_as_the_api_reads_them(
    list_peer: tuple[ListPeer, str],
) -> None:
    """The `+` of an E.164 number is percent-encoded (a bare `+` reads as a space) and days are
    yyyy-MM-dd, even when a datetime is passed."""
    peer, base_url = list_peer
    peer.answer = (200, b"<TnOptionOrders><TotalCount>0</TotalCount></TnOptionOrders>")
    async with client_for(base_url) as client:
        await client.find_orders_by_number("tnoptions", "+19195550100", DAY)
        late = datetime(2025, 3, 12, 23, 59, tzinfo=UTC)
        await client.find_orders_by_number("import", "+442071838750", DAY, late)
    assert peer.queries == [
        "tn=%2B19195550100&createdDateFrom=2025-03-10",
        "tn=%2B442071838750&createdDateFrom=2025-03-10&createdDateTo=2025-03-12",
    ]
