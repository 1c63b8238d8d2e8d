"""The v2 number-management API over one `httpx.AsyncClient`: the transport and the calls.

Owns every HTTP exchange with Bandwidth (or the sandbox): one method per call, each reported
to `on_exchange`. httpx requests, responses and exceptions never leave the api wing: callers
get `orchestrator.api.xml` dataclasses or the package's errors. No retries and no pacing here
(that is `gate` and `pacing`); the one exception is a 401 on an OAuth2 token, which forces one
token refresh and one retry.

What an answer means (the list rule: when a 404 or an empty answer is "nothing matched"; the
error mapping of transport faults and statuses) is `orchestrator.api.answer`; the
Authorization header and OAuth2 tokens are `orchestrator.api.auth`; where each kind of order
lives is `orchestrator.api.orders.ORDER_KINDS`.

Credentials, and where OAuth2 client credentials may be sent, are `orchestrator.api.credentials`
(re-exported here): `ApiClient` fetches tokens only from the URL `token_url_for` names, and
refuses client credentials for a host without one before any request. Credentials the API
refuses are an `AuthError` (exit 3). Secrets never appear in a `repr`, an exception message or
an `Exchange`.

Must not read the environment, print, sleep or touch the store.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Mapping
from datetime import date
from types import TracebackType
from typing import Self
from urllib.parse import parse_qsl, quote

import httpx

from orchestrator import __version__
from orchestrator.api.answer import (
    Call,
    drop_unreadable_location,
    fault_name,
    foreign_list_answer,
    id_from_location,
    matched_nothing,
    status_error,
    transport_error,
)
from orchestrator.api.auth import Authorizer
from orchestrator.api.credentials import (
    BANDWIDTH_TEST_TOKEN_URL,
    BANDWIDTH_TOKEN_URL,
    TOKEN_URL_VARIABLE,
    BasicCredentials,
    ClientCredentials,
    Credentials,
    TokenCredentials,
    checked_base_url,
    credentials_from_env,
    token_url_for,
)
from orchestrator.api.exchange import Exchange, ProbeAnswer
from orchestrator.api.orders import OrderKind, order_endpoint
from orchestrator.api.send_witness import SendWitness
from orchestrator.api.xml import (
    CheckerResult,
    OrderDoc,
    OrderList,
    TnDetails,
    parse_import_checker,
    parse_order,
    parse_order_list,
    parse_tn_details,
)
from orchestrator.errors import InputError, ResponseLostError, XmlError

__all__ = [
    "BANDWIDTH_TEST_TOKEN_URL",
    "BANDWIDTH_TOKEN_URL",
    "TOKEN_URL_VARIABLE",
    "USER_AGENT",
    "ApiClient",
    "BasicCredentials",
    "ClientCredentials",
    "Credentials",
    "Exchange",
    "OrderKind",
    "ProbeAnswer",
    "SendWitness",
    "TnDetails",
    "TokenCredentials",
    "credentials_from_env",
    "token_url_for",
]

USER_AGENT = f"bwmigrate/{__version__} (+python-httpx)"

_XML_HEADERS = {"Content-Type": "application/xml; charset=utf-8", "Accept": "application/xml"}


# --- the client -----------------------------------------------------------------------------------


class ApiClient:
    """The v2 API for one account, as an async context manager over one connection pool.

    `base_url` is the v2 base (`https://api.bandwidth.com/api/v2`, or a sandbox's
    `http://127.0.0.1:PORT/api/v2`); plain HTTP is refused unless the host is loopback.
    `token_url` is where OAuth2 client credentials go (`token_url_for(base_url, token_url)`:
    Bandwidth's token endpoint unless given; an `InputError` for client credentials and a
    non-Bandwidth host without one); Basic and Bearer credentials ignore it.
    `on_exchange` is called once per HTTP exchange (token requests included); `clock`
    (monotonic seconds) decides when an OAuth2 token is due for refresh.
    """

    def __init__(
        self,
        base_url: str,
        account_id: str,
        credentials: Credentials,
        *,
        token_url: str | None = None,
        timeout_s: float = 30.0,
        connect_timeout_s: float = 10.0,
        user_agent: str = USER_AGENT,
        transport: httpx.AsyncBaseTransport | None = None,
        on_exchange: Callable[[Exchange], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        url = checked_base_url(base_url)
        if not account_id.strip():
            raise InputError("the account id is empty: give the Bandwidth account id")
        self.base_url = str(url).rstrip("/")
        self.account_id = account_id
        self._account_path = f"accounts/{_segment(account_id)}"
        self._credentials = credentials
        self._on_exchange = on_exchange
        self._token_url: str | None = None
        if isinstance(credentials, ClientCredentials):
            self._token_url = token_url_for(base_url, token_url)
        self._auth = Authorizer(credentials, self._token_url, self._post_token, clock)
        self._http = httpx.AsyncClient(
            transport=transport,
            headers={"User-Agent": user_agent},
            timeout=httpx.Timeout(
                connect=connect_timeout_s, read=timeout_s, write=timeout_s, pool=timeout_s
            ),
            # Below common server keep-alive timeouts (uvicorn: 5 s), so an idle connection is
            # not reused just as the server closes it (which would lose a POST's answer).
            limits=httpx.Limits(keepalive_expiry=4.0),
            follow_redirects=False,
            trust_env=False,  # only the CLI reads the environment
            event_hooks={"response": [drop_unreadable_location]},
        )

    @property
    def token_url(self) -> str | None:
        """Where OAuth2 client credentials go (None for Basic and Bearer credentials)."""
        return self._token_url

    def __repr__(self) -> str:
        kind = type(self._credentials).__name__
        tokens = f", tokens from {self._token_url!r}" if self._token_url else ""
        return f"ApiClient({self.base_url!r}, account {self.account_id!r}, {kind}{tokens})"

    async def __aenter__(self) -> Self:
        await self._http.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._http.__aexit__(exc_type, exc, tb)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # --- orders ---------------------------------------------------------------------------------

    async def create_order(
        self, kind: str, body: bytes, *, witness: SendWitness | None = None
    ) -> OrderDoc:
        """POST an order (201); a lost answer raises `ResponseLostError`, never a blind retry.
        `witness` learns whether the request started to leave (for a POST cut short)."""
        path = self._order_path(kind)
        call = Call(
            "POST", path, creates=True, kind=str(kind), customer_order_id=_customer_order_id(body)
        )
        response = await self._send(call, content=body, witness=witness)
        try:
            doc = parse_order(response.content)
        except XmlError as exc:
            raise ResponseLostError(
                f"{call.describe()} answered {response.status_code} but the answer is "
                f"unreadable ({exc}): the order may exist, reconcile by CustomerOrderId"
            ) from exc
        if doc.order_id is None:
            doc = dataclasses.replace(doc, order_id=id_from_location(response, path))
        if doc.order_id is None:
            raise ResponseLostError(
                f"{call.describe()} answered {response.status_code} without an order id "
                "(neither in the body nor in Location): reconcile by CustomerOrderId"
            )
        return doc

    async def get_order(self, kind: str, order_id: str) -> OrderDoc:
        """GET one order by id (404: `PermanentApiError` with status 404)."""
        path = f"{self._order_path(kind)}/{_segment(order_id)}"
        response = await self._send(Call("GET", path, kind=str(kind), order_id=order_id))
        return parse_order(response.content)

    async def find_orders(self, kind: str, customer_order_id: str) -> OrderList:
        """The orders of `kind` whose CustomerOrderId is exactly `customer_order_id`.

        Nothing matched (204, an empty body, or a not-found 404: the list rule of
        `orchestrator.api.answer`) is an empty list; any other 404 raises `PermanentApiError`.
        Orders the API lists under another CustomerOrderId are dropped (the filter may be loose).
        """
        call = Call(
            "GET", self._order_path(kind), kind=str(kind), customer_order_id=customer_order_id
        )
        listing = await self._list_orders(call, {"customerOrderId": customer_order_id})
        kept = tuple(o for o in listing.orders if o.customer_order_id in (None, customer_order_id))
        if len(kept) == len(listing.orders):
            return listing
        return OrderList(total_count=len(kept), orders=kept)

    async def find_orders_by_number(
        self, kind: str, number: str, created_from: date, created_to: date | None = None
    ) -> OrderList:
        """The orders of `kind` that carry `number` and were created from `created_from` on.

        `GET <the kind's order list>?tn=<number>&createdDateFrom=<yyyy-MM-dd>` (and
        `createdDateTo`, when given; both days inclusive). `number` is E.164 (`+19195550100`;
        anything else is a `ValueError`: only normalised numbers travel this far).

        The second key for reconciling a create whose answer was lost, beside `find_orders`:
        each summary carries the order's `order_id`, `status`, `order_date` and, when the
        order has one, `customer_order_id`; match the order you meant by its CustomerOrderId
        (`None` means the listing did not say; read the order with `get_order` to be sure).
        The API compares whole days in a time zone it does not document: pass the UTC day
        before the intent was committed as `created_from`, not the day itself. A listing holds
        at most 1,000 orders, newest first (`total_count` may say more).

        Nothing matched is an empty list, as for `find_orders` (the list rule of
        `orchestrator.api.answer`); a 404 that is not a not-found answer raises `PermanentApiError`.
        """
        if not _E164.fullmatch(number):
            raise ValueError(f"find_orders_by_number needs an E.164 number, got {number!r}")
        params = {"tn": number, "createdDateFrom": _day(created_from)}
        query = f"tn {number}, created from {params['createdDateFrom']}"
        if created_to is not None:
            params["createdDateTo"] = _day(created_to)
            query += f" to {params['createdDateTo']}"
            if params["createdDateTo"] < params["createdDateFrom"]:  # yyyy-MM-dd sorts as text
                raise ValueError(f"find_orders_by_number: {query} ends before it starts")
        call = Call("GET", self._order_path(kind), kind=str(kind), query=query)
        return await self._list_orders(call, params)

    async def list_orders_created(
        self, kind: str, created_from: date, *, page_query: str | None = None
    ) -> OrderList:
        """One page of the orders of `kind` created from `created_from` on (inclusive).

        `GET <the kind's order list>?createdDateFrom=<yyyy-MM-dd>`; the next page is read by
        passing the listing's `next_query` back as `page_query` (the query of its `Links/next`,
        sent to the same path: a link never takes the credentials to another host). A page holds
        at most 1,000 orders. Nothing matched is an empty list (the list rule).
        """
        params: dict[str, str] = {"createdDateFrom": _day(created_from)}
        if page_query is not None:
            params = dict(parse_qsl(page_query, keep_blank_values=True))
        query = f"created from {_day(created_from)}" + (" (next page)" if page_query else "")
        call = Call("GET", self._order_path(kind), kind=str(kind), query=query)
        return await self._list_orders(call, params)

    async def check_import(self, body: bytes) -> CheckerResult:
        """POST `importTnChecker` (read-only, so its faults are plain transient errors)."""
        path = f"{self._account_path}/importTnChecker"
        response = await self._send(Call("POST", path), content=body)
        return parse_import_checker(response.content)

    async def get_tn_details(self, tn: str) -> TnDetails:
        """GET `/tns/{tn}/tndetails`: is the number hosted here, is SMS on, which campaign."""
        response = await self._send(Call("GET", f"tns/{_segment(tn)}/tndetails"))
        return parse_tn_details(response.content, tn)

    async def get_tn_details_xml(self, tn: str) -> bytes | None:
        """GET `/tns/{tn}/tndetails` raw (for `orchestrator.api.number_state`); None when the
        API does not know the number (404)."""
        call = Call("GET", f"tns/{_segment(tn)}/tndetails")
        response = await self._send(call, list_answer=True)
        return None if matched_nothing(response) else response.content

    async def get_account_xml(
        self, path: str, params: Mapping[str, str] | None = None
    ) -> bytes | None:
        """A read-only GET of a list under `accounts/{id}/<path>` (any API version the base URL
        names): the raw XML answer, or None when nothing matched (the list rule of
        `orchestrator.api.answer`). Errors map as for every other call."""
        call = Call("GET", f"{self._account_path}/{path.lstrip('/')}")
        response = await self._send(call, params=params, list_answer=True)
        return None if matched_nothing(response) else response.content

    async def subscription(
        self, method: str, sub_id: str | None = None, body: bytes | None = None
    ) -> tuple[int, bytes, str | None]:
        """`subscriptions[/{id}]` (POST, GET, PUT, DELETE): status, body and the id a create's
        Location names. Errors map as for every call; the bodies (callback credentials) are
        kept out of exchanges and the audit log."""
        path = f"{self._account_path}/subscriptions" + (f"/{_segment(sub_id)}" if sub_id else "")
        response = await self._send(Call(method, path), content=body)
        created = id_from_location(response, path) if method == "POST" else None
        return response.status_code, response.content, created

    async def probe(self, path: str) -> ProbeAnswer:
        """GET the order list at `path` (relative to the v2 base) with credentials: its status,
        headers, and why a 2xx answer is not the v2 API's (`answer.foreign_list_answer`).

        HTTP statuses are returned, not raised (for `doctor` and a run's first request);
        transport faults still raise.
        """
        call = Call("GET", path.lstrip("/"))
        response = await self._exchange(call, content=None, params=None)
        headers = {k.lower(): v for k, v in response.headers.items()}
        foreign = foreign_list_answer(
            response.status_code, headers.get("content-type"), response.content
        )
        return ProbeAnswer(response.status_code, headers, foreign)

    # --- plumbing -------------------------------------------------------------------------------

    async def _list_orders(self, call: Call, params: Mapping[str, str]) -> OrderList:
        """GET an order list; nothing matched (the list rule) is an empty `OrderList`."""
        response = await self._send(call, params=params, list_answer=True)
        if matched_nothing(response):
            return OrderList(total_count=0, orders=())
        return parse_order_list(response.content)

    def _order_path(self, kind: str) -> str:
        """The order list path of an `OrderKind` (or a plan step kind: `api.orders.ORDER_KINDS`)."""
        return f"{self._account_path}/{order_endpoint(str(kind)).path}"

    async def _send(
        self,
        call: Call,
        *,
        content: bytes | None = None,
        params: Mapping[str, str] | None = None,
        list_answer: bool = False,
        witness: SendWitness | None = None,
    ) -> httpx.Response:
        """One API request with auth; the response if 2xx, or (`list_answer`) a 404 saying
        nothing matched (the list rule of `orchestrator.api.answer`)."""
        response = await self._exchange(call, content=content, params=params, witness=witness)
        status = response.status_code
        if 200 <= status < 300:
            return response
        if status == 404 and list_answer and matched_nothing(response):
            return response
        raise status_error(call, response, self._credentials)

    async def _exchange(
        self,
        call: Call,
        *,
        content: bytes | None,
        params: Mapping[str, str] | None,
        witness: SendWitness | None = None,
    ) -> httpx.Response:
        """Send with auth; for OAuth2, one refresh and one retry after a 401."""
        url = f"{self.base_url}/{call.path}"
        headers = dict(_XML_HEADERS)
        for attempt in (1, 2):
            token = await self._auth.header(call)
            headers["Authorization"] = token
            response = await self._request(
                call, url, content=content, params=params, headers=headers, witness=witness
            )
            if response.status_code != 401 or attempt == 2:
                return response
            if not self._auth.refreshes:
                return response
            await self._auth.refresh(call, rejected=token)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _request(
        self,
        call: Call,
        url: str,
        *,
        content: bytes | None,
        params: Mapping[str, str] | None,
        headers: dict[str, str],
        auth: httpx.BasicAuth | None = None,
        data: dict[str, str] | None = None,
        witness: SendWitness | None = None,
    ) -> httpx.Response:
        """One HTTP exchange: reported to `on_exchange`, transport faults translated."""
        started = time.perf_counter()
        try:
            response = await self._http.request(
                call.method,
                url,
                content=content,
                params=params,
                headers=headers,
                auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
                data=data,
                extensions={"trace": witness.trace} if witness is not None else None,
            )
        except httpx.HTTPError as exc:
            self._report(call, url, None, fault_name(exc), started, content, None)
            raise transport_error(call, exc) from exc

        order_id = call.order_id or (
            id_from_location(response, call.path) if call.creates else None
        )
        self._report(
            dataclasses.replace(call, order_id=order_id),
            url,
            response.status_code,
            None,
            started,
            content,
            response.content,
        )
        return response

    async def _post_token(self, creds: ClientCredentials, token_url: str) -> httpx.Response:
        """The OAuth2 token request (a full URL: it may be on another host), for `Authorizer`."""
        return await self._request(
            Call("POST", token_url),
            token_url,
            content=None,
            params=None,
            headers={"Accept": "application/json"},
            auth=httpx.BasicAuth(creds.client_id, creds.client_secret),
            data={"grant_type": "client_credentials"},
        )

    def _report(
        self,
        call: Call,
        url: str,
        status: int | None,
        error: str | None,
        started: float,
        sent: bytes | None,
        received: bytes | None,
    ) -> None:
        if self._on_exchange is None:
            return
        # The token endpoint's answer is the token itself; subscription bodies carry the
        # callback credentials.
        secret = url == self._token_url or "/subscriptions" in url
        self._on_exchange(
            Exchange(
                method=call.method,
                path=httpx.URL(url).path,
                status=status,
                error=error,
                elapsed_s=time.perf_counter() - started,
                customer_order_id=call.customer_order_id,
                order_id=call.order_id,
                request_body=None if secret else sent,
                response_body=None if secret else received,
            )
        )


# --- URLs and small readers -----------------------------------------------------------------------


_E164 = re.compile(r"\+[1-9][0-9]{1,14}")


def _day(value: date) -> str:
    """A date as the lists' `yyyy-MM-dd` (a datetime gives its date, never a time)."""
    return value.strftime("%Y-%m-%d")


def _segment(value: str) -> str:
    """A path segment: percent-encoded, except `+` (E.164 numbers read better unescaped)."""
    return quote(value, safe="+")


_CUSTOMER_ORDER_ID = re.compile(rb"<CustomerOrderId>([^<]{1,80})</CustomerOrderId>")


def _customer_order_id(body: bytes) -> str | None:
    """The CustomerOrderId of a request body we built (for messages only, no parsing)."""
    found = _CUSTOMER_ORDER_ID.search(body)
    return found.group(1).decode("utf-8", "replace").strip() or None if found else None
