"""The v2 number-management API over one `httpx.AsyncClient`: auth, requests, error mapping.

Owns every HTTP exchange with Bandwidth (or the sandbox). httpx requests, responses and
exceptions never leave this module: callers get `orchestrator.api.xml` dataclasses or the package's
errors. No retries and no pacing here (that is `gate` and `pacing`); the one exception is a 401
on an OAuth2 token, which forces one token refresh and one retry.

Credentials, and where OAuth2 client credentials may be sent, are `orchestrator.api.credentials`
(re-exported here): `ApiClient` fetches tokens only from the URL `token_url_for` names, and
refuses client credentials for a host without one before any request. Credentials the API
refuses are an `AuthError` (exit 3). Secrets never appear in a `repr`, an exception message or
an `Exchange`.

Order lists (`find_orders`, `find_orders_by_number`, `get_account_xml`) answer "nothing matched"
in more than one way. The reference says the v1 externalTns list answers 404 when none match,
that a TN option list answers 404 for an invalid query, and that some lists answer 204 or an
empty body for no content. So a list's answer is an empty list when it is 204, a 2xx with an
empty body, or a 404 whose body is empty or holds only the documented not-found error (no code
or code 1016, a description saying the resource does not exist / was not found). Any other 404
(an error code such as 1007 or 1008: the query was refused; a body that is not XML: not the API)
stays a `PermanentApiError` with status 404: reading it as "no order" would let a reconcile
resend an order that exists.

Error mapping (`create` = a POST that creates an order; every other call is idempotent):

    connect error, connect/pool timeout, token fetch failure   RequestNotSentError (retry-safe)
    read/write timeout, reset, truncated or undecodable reply  TransientApiError; create:
                                                                ResponseLostError
    5xx, 408                                                    TransientApiError; create:
                                                                ResponseLostError
    429                                                         RateLimitedError(retry_at)
    401, 403 (after one token refresh for OAuth2)               AuthError
    token endpoint: 429 RateLimitedError, 5xx not sent,         (the API call itself was not
    other non-200 AuthError                                     sent in every case)
    other 4xx                                                   PermanentApiError(status, code,
                                                                description) (API's own code)
    unreadable 2xx body                                         XmlError; create:
                                                                ResponseLostError (it exists)

Must not read the environment, print, sleep or touch the store.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import anyio
import httpx

from orchestrator import __version__
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
from orchestrator.api.orders import OrderKind, order_endpoint
from orchestrator.api.pacing import retry_at_from_headers
from orchestrator.api.xml import (
    ApiErrorDetail,
    CheckerResult,
    OrderDoc,
    OrderList,
    TnDetails,
    parse_errors,
    parse_import_checker,
    parse_order,
    parse_order_list,
    parse_tn_details,
)
from orchestrator.errors import (
    AuthError,
    InputError,
    PermanentApiError,
    RateLimitedError,
    RequestNotSentError,
    ResponseLostError,
    TransientApiError,
    XmlError,
    one_line,
)

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
    "TnDetails",
    "TokenCredentials",
    "credentials_from_env",
    "token_url_for",
]

USER_AGENT = f"bwmigrate/{__version__} (+python-httpx)"
DEFAULT_EXPIRES_IN_S = 3600.0
REFRESH_MARGIN_S = 60.0
"""Refresh a token when less than this remains (or half its lifetime, if that is shorter)."""

_XML_HEADERS = {"Content-Type": "application/xml; charset=utf-8", "Accept": "application/xml"}


# --- what callers get -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP exchange, for counting and audit logs; never holds a header or a secret.

    `status` is None when the exchange failed without an answer; `error` then names the fault.
    `request_body` and `response_body` are the XML bytes sent and received (for the audit log
    to read numbers and error codes from); both are None for the OAuth2 token exchange, whose
    answer is a secret.
    """

    method: str
    path: str
    status: int | None
    error: str | None
    elapsed_s: float
    customer_order_id: str | None = None
    order_id: str | None = None
    request_body: bytes | None = field(default=None, repr=False, compare=False)
    response_body: bytes | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class _Call:
    """What a request is about, for messages and exchanges."""

    method: str
    path: str
    creates: bool = False
    kind: str | None = None
    customer_order_id: str | None = None
    order_id: str | None = None
    query: str | None = None  # what a lookup asked for, for messages ("tn +1919..., ...")

    def describe(self) -> str:
        about = f"{self.method} {self.path}"
        if self.customer_order_id:
            about += f" (CustomerOrderId {self.customer_order_id!r})"
        elif self.query:
            about += f" ({self.query})"
        return about


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
        self._clock = clock
        self._token_url: str | None = None
        if isinstance(credentials, ClientCredentials):
            self._token_url = token_url_for(base_url, token_url)
        self._token: _Token | None = None
        self._token_lock = anyio.Lock()
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
            event_hooks={"response": [_drop_unreadable_location]},
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

    async def create_order(self, kind: str, body: bytes) -> OrderDoc:
        """POST an order (201); a lost answer raises `ResponseLostError`, never a blind retry."""
        path = self._order_path(kind)
        call = _Call(
            "POST", path, creates=True, kind=str(kind), customer_order_id=_customer_order_id(body)
        )
        response = await self._send(call, content=body)
        try:
            doc = parse_order(response.content)
        except XmlError as exc:
            raise ResponseLostError(
                f"{call.describe()} answered {response.status_code} but the answer is "
                f"unreadable ({exc}): the order may exist, reconcile by CustomerOrderId"
            ) from exc
        if doc.order_id is None:
            doc = dataclasses.replace(doc, order_id=_id_from_location(response, path))
        if doc.order_id is None:
            raise ResponseLostError(
                f"{call.describe()} answered {response.status_code} without an order id "
                "(neither in the body nor in Location): reconcile by CustomerOrderId"
            )
        return doc

    async def get_order(self, kind: str, order_id: str) -> OrderDoc:
        """GET one order by id (404: `PermanentApiError` with status 404)."""
        path = f"{self._order_path(kind)}/{_segment(order_id)}"
        response = await self._send(_Call("GET", path, kind=str(kind), order_id=order_id))
        return parse_order(response.content)

    async def find_orders(self, kind: str, customer_order_id: str) -> OrderList:
        """The orders of `kind` whose CustomerOrderId is exactly `customer_order_id`.

        Nothing matched (204, an empty body, or a not-found 404: the list rule in the module
        docstring) is an empty list; any other 404 raises `PermanentApiError`. Orders the API
        lists under another CustomerOrderId are dropped (the filter may be loose).
        """
        call = _Call(
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

        Nothing matched is an empty list, as for `find_orders` (the list rule in the module
        docstring); a 404 that is not a not-found answer raises `PermanentApiError`.
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
        call = _Call("GET", self._order_path(kind), kind=str(kind), query=query)
        return await self._list_orders(call, params)

    async def check_import(self, body: bytes) -> CheckerResult:
        """POST `importTnChecker` (read-only, so its faults are plain transient errors)."""
        path = f"{self._account_path}/importTnChecker"
        response = await self._send(_Call("POST", path), content=body)
        return parse_import_checker(response.content)

    async def get_tn_details(self, tn: str) -> TnDetails:
        """GET `/tns/{tn}/tndetails`: is the number hosted here, is SMS on, which campaign."""
        response = await self._send(_Call("GET", f"tns/{_segment(tn)}/tndetails"))
        return parse_tn_details(response.content, tn)

    async def get_account_xml(
        self, path: str, params: Mapping[str, str] | None = None
    ) -> bytes | None:
        """A read-only GET of a list under `accounts/{id}/<path>` (any API version the base URL
        names): the raw XML answer, or None when nothing matched (the list rule in the module
        docstring). Errors map as for every other call."""
        call = _Call("GET", f"{self._account_path}/{path.lstrip('/')}")
        response = await self._send(call, params=params, list_answer=True)
        return None if _matched_nothing(response) else response.content

    async def probe(self, path: str) -> tuple[int, dict[str, str]]:
        """GET `path` (relative to the v2 base) with credentials; the status and the headers.

        HTTP statuses are returned, not raised (for `doctor`); transport faults still raise.
        """
        call = _Call("GET", path.lstrip("/"))
        response = await self._exchange(call, content=None, params=None)
        return response.status_code, {k.lower(): v for k, v in response.headers.items()}

    # --- plumbing -------------------------------------------------------------------------------

    async def _list_orders(self, call: _Call, params: Mapping[str, str]) -> OrderList:
        """GET an order list; nothing matched (the list rule) is an empty `OrderList`."""
        response = await self._send(call, params=params, list_answer=True)
        if _matched_nothing(response):
            return OrderList(total_count=0, orders=())
        return parse_order_list(response.content)

    def _order_path(self, kind: str) -> str:
        """The order list path of an `OrderKind` (or a plan step kind: `api.orders.ORDER_KINDS`)."""
        return f"{self._account_path}/{order_endpoint(str(kind)).path}"

    async def _send(
        self,
        call: _Call,
        *,
        content: bytes | None = None,
        params: Mapping[str, str] | None = None,
        list_answer: bool = False,
    ) -> httpx.Response:
        """One API request with auth; the response if 2xx, or (`list_answer`) a 404 saying
        nothing matched (the list rule in the module docstring)."""
        response = await self._exchange(call, content=content, params=params)
        status = response.status_code
        if 200 <= status < 300:
            return response
        if status == 404 and list_answer and _matched_nothing(response):
            return response
        raise _status_error(call, response, self._credentials)

    async def _exchange(
        self, call: _Call, *, content: bytes | None, params: Mapping[str, str] | None
    ) -> httpx.Response:
        """Send with auth; for OAuth2, one refresh and one retry after a 401."""
        url = f"{self.base_url}/{call.path}"
        headers = dict(_XML_HEADERS)
        for attempt in (1, 2):
            token = await self._authorization(call)
            headers["Authorization"] = token
            response = await self._request(
                call, url, content=content, params=params, headers=headers
            )
            if response.status_code != 401 or attempt == 2:
                return response
            if not isinstance(self._credentials, ClientCredentials):
                return response
            await self._refresh_token(call, rejected=token)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _request(
        self,
        call: _Call,
        url: str,
        *,
        content: bytes | None,
        params: Mapping[str, str] | None,
        headers: dict[str, str],
        auth: httpx.BasicAuth | None = None,
        data: dict[str, str] | None = None,
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
            )
        except httpx.HTTPError as exc:
            self._report(call, url, None, _fault_name(exc), started, content, None)
            raise _transport_error(call, exc) from exc

        order_id = call.order_id or (
            _id_from_location(response, call.path) if call.creates else None
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

    def _report(
        self,
        call: _Call,
        url: str,
        status: int | None,
        error: str | None,
        started: float,
        sent: bytes | None,
        received: bytes | None,
    ) -> None:
        if self._on_exchange is None:
            return
        secret = url == self._token_url  # the token endpoint's answer is the token itself
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

    # --- auth -----------------------------------------------------------------------------------

    async def _authorization(self, call: _Call) -> str:
        creds = self._credentials
        if isinstance(creds, BasicCredentials):
            return _basic_header(creds.username, creds.password)
        if isinstance(creds, TokenCredentials):
            return f"Bearer {creds.token}"
        token = self._token
        if token is None or token.is_stale(self._clock()):
            token = await self._refresh_token(call, rejected=None)
        return f"Bearer {token.value}"

    async def _refresh_token(self, call: _Call, *, rejected: str | None) -> _Token:
        """Fetch a token unless another task already replaced the stale or rejected one."""
        async with self._token_lock:
            current = self._token
            fresh = current is not None and not current.is_stale(self._clock())
            if current is not None and fresh and f"Bearer {current.value}" != rejected:
                return current
            self._token = await self._fetch_token(call)
            return self._token

    async def _fetch_token(self, about: _Call) -> _Token:
        creds = self._credentials
        assert isinstance(creds, ClientCredentials) and self._token_url is not None
        call = _Call("POST", self._token_url)  # a full URL: it may be on another host
        try:
            response = await self._request(
                call,
                self._token_url,
                content=None,
                params=None,
                headers={"Accept": "application/json"},
                auth=httpx.BasicAuth(creds.client_id, creds.client_secret),
                data={"grant_type": "client_credentials"},
            )
        except TransientApiError as exc:
            raise RequestNotSentError(
                f"{about.describe()} not sent: the OAuth2 token request failed ({exc})"
            ) from exc
        return _read_token(response, about, self._token_url, self._clock())


@dataclass(frozen=True, slots=True)
class _Token:
    value: str = field(repr=False)
    refresh_at: float  # on the client's monotonic clock

    def is_stale(self, now: float) -> bool:
        return now >= self.refresh_at


def _read_token(response: httpx.Response, about: _Call, token_url: str, now: float) -> _Token:
    status = response.status_code
    if status == 429:
        retry_at = retry_at_from_headers(response.headers, time.time())
        raise RateLimitedError(
            f"{about.describe()} not sent: token endpoint answered 429", retry_at=retry_at
        )
    if status >= 500:
        raise RequestNotSentError(f"{about.describe()} not sent: token endpoint answered {status}")
    if status < 200 or 300 <= status < 400 or status in (404, 405):
        raise AuthError(
            f"the OAuth2 token endpoint {token_url} answered HTTP {status}: it is not a token "
            f"endpoint; check {TOKEN_URL_VARIABLE} (unset, Bandwidth's is used)",
            status=status,
        )
    body = _json_object(response)
    if status != 200:
        error = one_line(str(body.get("error") or ""), 80)
        raise AuthError(
            f"OAuth2 token request refused (HTTP {status}{', ' + error if error else ''}): "
            "check BWMIGRATE_CLIENT_ID and BWMIGRATE_CLIENT_SECRET",
            status=status,
            code=error or None,
        )
    value = body.get("access_token")
    if not isinstance(value, str) or not value:
        raise AuthError(
            "the OAuth2 token endpoint answered 200 without an access_token", status=status
        )
    expires_in = body.get("expires_in", DEFAULT_EXPIRES_IN_S)
    try:
        lifetime_s = float(expires_in)
    except (TypeError, ValueError):
        lifetime_s = DEFAULT_EXPIRES_IN_S
    margin_s = min(REFRESH_MARGIN_S, lifetime_s / 2)
    return _Token(value, now + lifetime_s - margin_s)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


# --- URLs and small readers -----------------------------------------------------------------------


def _basic_header(username: str, password: str) -> str:
    pair = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


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


async def _drop_unreadable_location(response: httpx.Response) -> None:
    """Drop a Location header httpx cannot read (it would raise while preparing the redirect
    it never follows); the answer is then judged by its status and body like any other."""
    location = response.headers.get("location")
    if location is None:
        return
    try:  # what httpx does to prepare a redirect (`_redirect_url`)
        url = httpx.URL(location)
        if url.scheme and not url.host:
            url = url.copy_with(host=response.request.url.host)
        response.request.url.join(url)
    except httpx.InvalidURL:
        del response.headers["location"]


def _id_from_location(response: httpx.Response, collection: str) -> str | None:
    location = response.headers.get("location")
    if not location:
        return None
    try:
        last = httpx.URL(location).path.rstrip("/").rpartition("/")[2]
    except httpx.InvalidURL:  # unreadable: the body's OrderId (or reconciliation) decides
        return None
    if not last or last.lower() == collection.rpartition("/")[2].lower():
        return None
    return last


_NOT_FOUND_CODES = (None, "", "1016")  # 1016: "Resource %s does not exist in IRIS."
_NOT_FOUND_WORDS = ("does not exist", "not found", "no result")


def _matched_nothing(response: httpx.Response) -> bool:
    """True when a list's answer says nothing matched (the list rule in the module docstring):
    204; a 2xx with an empty body; a 404 with an empty body or only a not-found error."""
    status, body = response.status_code, response.content
    empty = not body.removeprefix(b"\xef\xbb\xbf").strip()
    if 200 <= status < 300:
        return status == 204 or empty
    if status != 404:
        return False
    if empty:
        return True
    try:
        details = parse_errors(body)
    except XmlError:
        return False  # not the API's answer (a proxy's or a web server's page)
    return bool(details) and all(_says_not_found(d) for d in details)


def _says_not_found(detail: ApiErrorDetail) -> bool:
    """The documented not-found error: no code (or 1016) and no other complaint."""
    text = detail.description.lower()
    return detail.code in _NOT_FOUND_CODES and (
        not text or any(w in text for w in _NOT_FOUND_WORDS)
    )


def _api_error(body: bytes) -> ApiErrorDetail | None:
    """The first API error in an error body, or None when it holds none or is not XML."""
    try:
        details = parse_errors(body)
    except XmlError:
        return None
    return details[0] if details else None


# --- error translation ----------------------------------------------------------------------------

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _fault_name(exc: httpx.HTTPError) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _transport_error(call: _Call, exc: httpx.HTTPError) -> TransientApiError | ResponseLostError:
    fault = _fault_name(exc)
    if isinstance(exc, _NOT_SENT):
        return RequestNotSentError(f"{call.describe()} not sent: {fault}")
    if call.creates:
        return ResponseLostError(
            f"{call.describe()} sent but its answer was lost ({fault}): the {call.kind} order "
            "may exist; reconcile by CustomerOrderId, do not resend blindly"
        )
    return TransientApiError(f"{call.describe()} failed: {fault}")


def _status_error(
    call: _Call, response: httpx.Response, credentials: Credentials
) -> TransientApiError | PermanentApiError | ResponseLostError:
    status = response.status_code
    where = f"{call.describe()} answered HTTP {status}"
    if status == 429:
        retry_at = retry_at_from_headers(response.headers, time.time())
        return RateLimitedError(f"{where} (rate limited)", retry_at=retry_at)
    detail = _api_error(response.content)
    said = (
        f": {one_line(detail.code + ' ' if detail.code else '')}{one_line(detail.description)}"
        if detail
        else ""
    )
    code = detail.code if detail else None
    description = detail.description if detail else None
    if status in (401, 403):
        hint = _auth_hint(status, credentials)
        return AuthError(
            f"{where}{said} ({hint})", status=status, code=code, description=description
        )
    if status >= 500 or status == 408 or status < 400:
        if call.creates:
            return ResponseLostError(
                f"{where}{said}: the {call.kind} order may or may not exist; "
                "reconcile by CustomerOrderId, do not resend blindly"
            )
        if status < 400:
            return PermanentApiError(f"{where}: unexpected for this call", status=status)
        return TransientApiError(f"{where}{said}")
    return PermanentApiError(f"{where}{said}", status=status, code=code, description=description)


def _auth_hint(status: int, credentials: Credentials) -> str:
    if status == 403:
        return "access denied: the credentials lack a role, or the account is not theirs"
    if isinstance(credentials, ClientCredentials):
        return "the OAuth2 token was refused even after a refresh"
    if isinstance(credentials, TokenCredentials):
        return "the Bearer token in BWMIGRATE_TOKEN was refused (expired?)"
    return "check BWMIGRATE_USERNAME and BWMIGRATE_PASSWORD"
