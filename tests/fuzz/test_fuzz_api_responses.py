"""Fuzz: every answer the client parses, from a real socket (tests/fuzz/hostile_api.py).

Property: each call returns its typed result or raises the package error its docstring
documents for that status (client.py's error table: a create whose outcome is unknown is
`ResponseLostError`, never a plain transient error; an unreadable 2xx read is `XmlError`;
...), with a one-line message of bounded size. Never another exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from hostile_api import Answer, HostileApi, serve
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from strategies import bodies, content_types, examples, headers, statuses

from orchestrator.api.client import ApiClient, BasicCredentials
from orchestrator.api.xml import CheckerResult, OrderDoc, OrderList
from orchestrator.api.xml_request import build_import_order
from orchestrator.errors import (
    AuthError,
    BwmigrateError,
    PermanentApiError,
    RateLimitedError,
    ResponseLostError,
    TransientApiError,
    XmlError,
)

ACCOUNT = "9900012"
CALLS = ("create", "get_order", "find_orders", "check_import", "get_tn_details")
BODY = build_import_order(
    body_form="ExternalTnsOrder", customer_order_id="fuzz-1", site_id="743", sip_peer_id=None,
    loa_type="CARRIER", numbers=["+19195550100"],
)  # fmt: skip
MAX_MESSAGE_CHARS = 2000
LONG_ERROR = (
    b"<ImportTnOrderResponse><ResponseStatus><ErrorCode>7309</ErrorCode><Description>first\n"
    + b"second " * 5000
    + b"</Description></ResponseStatus></ImportTnOrderResponse>"
)


@pytest.fixture(scope="module")
def hostile() -> Iterator[tuple[HostileApi, str]]:
    with serve(HostileApi()) as served:
        yield served


@st.composite
def answers(draw: st.DrawFn) -> Answer:
    """An answer of any status with any body, sometimes cut short."""
    status = draw(statuses())
    body = b"" if status in (204, 304) else draw(bodies())
    cut = draw(st.none() | st.integers(0, max(0, len(body) - 1))) if body else None
    return Answer(status, body, draw(content_types()), draw(headers()), cut)


async def _call(base_url: str, call: str, kind: str) -> Any:
    creds = BasicCredentials("sandbox", "sandbox")
    async with ApiClient(f"{base_url}/api/v2", ACCOUNT, creds, timeout_s=10) as client:
        if call == "create":
            return await client.create_order(kind, BODY)
        if call == "get_order":
            return await client.get_order(kind, "5f2a1c3e-0000-4000-8000-000000000001")
        if call == "find_orders":
            return await client.find_orders(kind, "fuzz-1")
        if call == "check_import":
            return await client.check_import(BODY)
        return await client.get_tn_details("+19195550100")


def _expected(call: str, answer: Answer) -> tuple[type[BaseException], ...]:
    """The errors client.py documents for this answer (a result is also fine for a 2xx)."""
    s = answer.status
    cut = answer.truncate_at is not None
    if call == "create":
        if cut or not 400 <= s < 500 or s == 408:
            return (ResponseLostError,)
    elif cut or s >= 500 or s == 408:
        return (TransientApiError,)
    elif 200 <= s < 300:
        return (XmlError,)
    if s == 429:
        return (RateLimitedError,)
    if s in (401, 403):
        return (AuthError,)
    return (PermanentApiError,)


_RESULT = {
    "create": OrderDoc,
    "get_order": OrderDoc,
    "find_orders": OrderList,
    "check_import": CheckerResult,
}


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(Answer(200, b"<\x00"), "create", "import")  # libxml2's message ended in "\n"
@example(Answer(400, LONG_ERROR), "create", "remove")  # the API's description, verbatim
@example(Answer(200, LONG_ERROR), "get_order", "tnoptions")
@example(Answer(302, headers=(("Location", "A:0"),)), "get_order", "import")  # httpx InvalidURL
@example(Answer(201, headers=(("Location", "http://[::1"),)), "create", "import")  # likewise
@given(
    answer=answers(),
    call=st.sampled_from(CALLS),
    kind=st.sampled_from(["import", "remove", "tnoptions"]),
)
def test_any_answer_gives_a_typed_result_or_the_documented_error(
    hostile: tuple[HostileApi, str], answer: Answer, call: str, kind: str
) -> None:
    """A hostile answer never escapes as anything but the documented package error."""
    api, base_url = hostile
    route = {"create": "create", "get_order": "order", "find_orders": "listing"}.get(call, "other")
    api.script(**{route: answer})
    try:
        result = anyio.run(_call, base_url, call, kind)
    except BwmigrateError as exc:
        expected = _expected(call, answer)
        allowed = expected + ((PermanentApiError,) if answer.status == 404 else ())
        assert isinstance(exc, allowed), (type(exc).__name__, expected, str(exc)[:300])
        if expected == (TransientApiError,):
            assert not isinstance(exc, ResponseLostError | PermanentApiError)
        message = str(exc)
        assert "\n" not in message and len(message) <= MAX_MESSAGE_CHARS, message[:300]
        return
    assert 200 <= answer.status < 300 or (call == "find_orders" and answer.status == 404)
    assert answer.truncate_at is None
    if call in _RESULT:
        assert isinstance(result, _RESULT[call])
    if call == "create":
        assert result.order_id, "a created order always comes back with an id"
    assert len(api.requests) == 1 and api.requests[0][0] == ("POST" if call in (
        "create", "check_import") else "GET")  # fmt: skip
