"""What an HTTP answer of the v2 API means: success, nothing matched, an order id, or an error.

The client (`orchestrator.api.client`) sends; this module judges what came back, so the rules
below live in one place. It sees the client's httpx responses and exceptions and hands back
only the package's errors, ids and booleans.

Order lists (`find_orders`, `find_orders_by_number`, `get_account_xml`) answer "nothing matched"
in more than one way. The reference says the v1 externalTns list answers 404 when none match,
that a TN option list answers 404 for an invalid query, and that some lists answer 204 or an
empty body for no content. So a list's answer is an empty list when it is 204, a 2xx with an
empty body, or a 404 whose body is empty or holds only the documented not-found error (no code
or code 1016, a description saying the resource does not exist / was not found). Any other 404
(an error code such as 1007 or 1008: the query was refused; a body that is not XML: not the API)
stays a `PermanentApiError` with status 404: reading it as "no order" would let a reconcile
resend an order that exists. (`matched_nothing`)

A 2xx answer to a list is the v2 API's only when it is one of those "nothing matched" forms or
an order list: an XML media type and a root the schema names for a list. A web server or proxy
that answers every path with a 200 page is not the API, whatever its status says
(`foreign_list_answer`: `doctor` fails on it, and a live `run` stops before its first POST).

Error mapping (`create` = a POST that creates an order; every other call is idempotent):

    connect error, connect/pool timeout, token fetch failure   RequestNotSentError (retry-safe)
    read/write timeout, reset, truncated or undecodable reply  TransientApiError; create:
                                                                ResponseLostError
    5xx, 408                                                    TransientApiError; create:
                                                                ResponseLostError
    429                                                         RateLimitedError(retry_at)
    401, 403 (after one token refresh for OAuth2)               AuthError
    token endpoint: 429 RateLimitedError, 5xx not sent,         (the API call itself was not
    other non-200 AuthError                                     sent in every case; `auth`)
    other 4xx                                                   PermanentApiError(status, code,
                                                                description) (API's own code)
    unreadable 2xx body                                         XmlError; create:
                                                                ResponseLostError (it exists)

(`transport_error`, `status_error`; the unreadable 2xx body is the client's `create_order`.)

Reads the wall clock only to date a 429's `Retry-After`. Must not send, sleep, read the
environment, print or touch the store.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from orchestrator.api.credentials import ClientCredentials, Credentials, TokenCredentials
from orchestrator.api.pacing import retry_at_from_headers
from orchestrator.api.xml import ApiErrorDetail, parse_errors, parse_order_list
from orchestrator.errors import (
    AuthError,
    PermanentApiError,
    RateLimitedError,
    RequestNotSentError,
    ResponseLostError,
    TransientApiError,
    XmlError,
    one_line,
)

__all__ = [
    "Call",
    "drop_unreadable_location",
    "fault_name",
    "foreign_list_answer",
    "id_from_location",
    "matched_nothing",
    "status_error",
    "transport_error",
]


@dataclass(frozen=True, slots=True)
class Call:
    """What a request is about, for messages and exchanges."""

    method: str
    path: str
    creates: bool = False
    kind: str | None = None
    customer_order_id: str | None = None
    order_id: str | None = None
    query: str | None = None  # what a lookup asked for, for messages ("tn +1919..., ...")

    def describe(self) -> str:
        """The request in one phrase, for messages ("POST <path> (CustomerOrderId 'x')")."""
        about = f"{self.method} {self.path}"
        if self.customer_order_id:
            about += f" (CustomerOrderId {self.customer_order_id!r})"
        elif self.query:
            about += f" ({self.query})"
        return about


# --- what an answer says --------------------------------------------------------------------------


async def drop_unreadable_location(response: httpx.Response) -> None:
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


def id_from_location(response: httpx.Response, collection: str) -> str | None:
    """The order id a create answer's Location names (its last path segment), or None when
    there is none, it is unreadable, or it names the `collection` itself."""
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


def matched_nothing(response: httpx.Response) -> bool:
    """True when a list's answer says nothing matched (the list rule in this module's docstring):
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


_XML_MEDIA_TYPES = ("application/xml", "text/xml")


def foreign_list_answer(status: int, content_type: str | None, body: bytes) -> str | None:
    """Why a 2xx answer to an order-list GET is not the v2 API's (an HTML page, JSON, XML of
    another shape); None when it is (an order list, or nothing matched) or is not a 2xx."""
    empty = not body.removeprefix(b"\xef\xbb\xbf").strip()
    if not 200 <= status < 300 or status == 204 or empty:
        return None
    media = (content_type or "").split(";", 1)[0].strip().lower()
    glimpse = one_line(body[:60].decode("utf-8", "replace"), 40)
    if media not in _XML_MEDIA_TYPES and not media.endswith("+xml"):
        shown = media or "no content type"
        return f"answered {status} with {shown} ({glimpse!r}), not the v2 API's XML"
    try:
        parse_order_list(body)
    except XmlError as exc:
        return f"answered {status} with XML that is not a v2 order list ({one_line(str(exc))})"
    return None


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


# --- errors -------------------------------------------------------------------------------------

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def fault_name(exc: httpx.HTTPError) -> str:
    """A transport fault in a few words ("ReadTimeout: ..."), for messages and exchanges."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def transport_error(call: Call, exc: httpx.HTTPError) -> TransientApiError | ResponseLostError:
    """The package's error for a transport fault of `call` (the mapping in the docstring)."""
    fault = fault_name(exc)
    if isinstance(exc, _NOT_SENT):
        return RequestNotSentError(f"{call.describe()} not sent: {fault}")
    if call.creates:
        return ResponseLostError(
            f"{call.describe()} sent but its answer was lost ({fault}): the {call.kind} order "
            "may exist; reconcile by CustomerOrderId, do not resend blindly"
        )
    return TransientApiError(f"{call.describe()} failed: {fault}")


def status_error(
    call: Call, response: httpx.Response, credentials: Credentials
) -> TransientApiError | PermanentApiError | ResponseLostError:
    """The package's error for a non-2xx answer to `call` (the mapping in the docstring)."""
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
