"""The v2 API client against the sandbox over real HTTP: auth, orders, error mapping, faults."""

from __future__ import annotations

import math
import socket
import time
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from orchestrator import __version__
from orchestrator.api.client import (
    USER_AGENT,
    ApiClient,
    BasicCredentials,
    ClientCredentials,
    Credentials,
    Exchange,
    TokenCredentials,
    credentials_from_env,
)
from orchestrator.api.xml_request import (
    build_import_checker,
    build_import_order,
    build_remove_order,
    build_tn_option_order,
)
from orchestrator.errors import (
    AuthError,
    InputError,
    PermanentApiError,
    RateLimitedError,
    RequestNotSentError,
    ResponseLostError,
    TransientApiError,
)
from orchestrator.sandbox import ManualClock, RunningSandbox
from orchestrator.sandbox.config import FaultConfig

ACCOUNT = "9900012"
BASIC = BasicCredentials("sandbox", "sandbox")
OAUTH = ClientCredentials("sandbox-client", "sandbox-secret")
TOKEN_PATH = "/api/v1/oauth2/token"


class FakeMonotonic:
    """A monotonic clock for token expiry that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def client_for(
    sandbox: RunningSandbox,
    credentials: Credentials = BASIC,
    exchanges: list[Exchange] | None = None,
    **kwargs: Any,
) -> ApiClient:
    return ApiClient(
        f"{sandbox.base_url}/api/v2",
        ACCOUNT,
        credentials,
        token_url=f"{sandbox.base_url}{TOKEN_PATH}",
        on_exchange=None if exchanges is None else exchanges.append,
        **kwargs,
    )


def import_body(coid: str, *numbers: str, site: str = "743") -> bytes:
    return build_import_order(
        body_form="ExternalTnsOrder",  # the guide's form: no subscriber needed for +1 numbers
        customer_order_id=coid,
        site_id=site,
        sip_peer_id=None,
        loa_type="CARRIER",
        numbers=numbers or ("+19195550100",),
    )


def token_fetches(exchanges: list[Exchange]) -> int:
    return sum(1 for e in exchanges if e.path == TOKEN_PATH)


def faulty(sandbox_factory: Callable[..., RunningSandbox], **faults: Any) -> RunningSandbox:
    return sandbox_factory(faults=FaultConfig(**faults))


# --- credentials from the environment -------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {"BWMIGRATE_CLIENT_ID": "id", "BWMIGRATE_CLIENT_SECRET": "s", "BWMIGRATE_TOKEN": "t"},
            ClientCredentials("id", "s"),
        ),
        ({"BWMIGRATE_TOKEN": "t", "BWMIGRATE_USERNAME": "u"}, TokenCredentials("t")),
        ({"BWMIGRATE_USERNAME": "u", "BWMIGRATE_PASSWORD": "p"}, BasicCredentials("u", "p")),
    ],
)
def test_credentials_from_env_prefers_oauth2_then_token_then_basic(
    environ: dict[str, str], expected: Credentials
) -> None:
    """The first complete set wins in the order OAuth2, static token, Basic."""
    assert credentials_from_env(environ) == expected


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "no API credentials"),
        ({"BWMIGRATE_CLIENT_ID": "id", "BWMIGRATE_USERNAME": ""}, "BWMIGRATE_CLIENT_SECRET"),
        ({"BWMIGRATE_PASSWORD": "p"}, "BWMIGRATE_USERNAME is not"),
    ],
)
def test_missing_credentials_name_the_variables(environ: dict[str, str], message: str) -> None:
    """Missing or half-set credentials are a usage error naming the variables to set."""
    with pytest.raises(InputError, match=message) as info:
        credentials_from_env(environ)
    assert "BWMIGRATE_CLIENT_ID" in str(info.value)
    assert info.value.exit_code == 2


def test_secrets_stay_out_of_reprs() -> None:
    """Passwords, secrets and tokens never show in a repr, nor in the client's."""
    creds: list[Credentials] = [
        BasicCredentials("u", "pw-1"),
        TokenCredentials("tok-2"),
        ClientCredentials("c", "s-3"),
    ]
    shown = " ".join(repr(c) for c in creds) + repr(
        ApiClient("https://api.bandwidth.com/api/v2", "1", creds[2])
    )
    for secret in ("pw-1", "tok-2", "s-3"):
        assert secret not in shown


# --- base URL rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://api.bandwidth.com/api/v2",
        "http://10.0.0.1:8080/api/v2",
        "ftp://127.0.0.1/api/v2",
        "https://user:pw@api.bandwidth.com/api/v2",
        "not a url",
    ],
)
def test_unsafe_or_invalid_base_urls_are_refused(url: str) -> None:
    """Plain HTTP to a non-loopback host, other schemes and URLs with credentials are refused."""
    with pytest.raises(InputError) as info:
        ApiClient(url, ACCOUNT, BASIC)
    assert "pw" not in str(info.value)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:1/api/v2", "http://127.8.9.1/api/v2", "http://[::1]:8/api/v2",
            "http://localhost:9/api/v2", "https://api.bandwidth.com/api/v2"],
)  # fmt: skip
def test_https_and_loopback_http_base_urls_are_accepted(url: str) -> None:
    """HTTPS anywhere and plain HTTP on loopback hosts are allowed."""
    assert ApiClient(url, ACCOUNT, BASIC).base_url == url


# --- auth kinds -----------------------------------------------------------------------------


@pytest.mark.parametrize("credentials", [BASIC, OAUTH], ids=["basic", "oauth2"])
async def test_each_auth_kind_can_create_and_read_an_order(
    sandbox: RunningSandbox, credentials: Credentials
) -> None:
    """Basic and OAuth2 client credentials both reach the API."""
    async with client_for(sandbox, credentials) as client:
        doc = await client.create_order("import", import_body("auth-kind-1"))
        assert doc.order_id is not None
        again = await client.get_order("import", doc.order_id)
    assert again.customer_order_id == "auth-kind-1"


async def test_static_bearer_token_is_sent_as_is(sandbox: RunningSandbox) -> None:
    """A token obtained elsewhere works as a static Bearer credential."""
    async with client_for(sandbox, OAUTH) as oauth:
        await oauth.find_orders("import", "x")
        token = oauth._auth.token
    assert token is not None
    async with client_for(sandbox, TokenCredentials(token.value)) as client:
        listing = await client.find_orders("import", "nothing-here")
    assert listing.orders == ()


@pytest.mark.parametrize(
    "credentials",
    [BasicCredentials("sandbox", "wrong"), TokenCredentials("forged"),
     ClientCredentials("sandbox-client", "wrong")],
    ids=["basic", "token", "oauth2"],
)  # fmt: skip
async def test_bad_credentials_raise_auth_error_without_the_secret(
    sandbox: RunningSandbox, credentials: Credentials
) -> None:
    """Refused credentials of any kind give AuthError (401) whose message holds no secret."""
    async with client_for(sandbox, credentials) as client:
        with pytest.raises(AuthError) as info:
            await client.find_orders("import", "x")
    assert info.value.status == 401
    assert "wrong" not in str(info.value) and "forged" not in str(info.value)


async def test_unknown_account_is_an_auth_error_with_the_api_code(sandbox: RunningSandbox) -> None:
    """Valid credentials on someone else's account: 403 with ResponseStatus 1001 -> AuthError."""
    async with ApiClient(f"{sandbox.base_url}/api/v2", "123", BASIC) as client:
        with pytest.raises(AuthError) as info:
            await client.find_orders("import", "x")
    assert (info.value.status, info.value.code) == (403, "1001")


async def test_oauth2_token_is_fetched_once_for_concurrent_calls(sandbox: RunningSandbox) -> None:
    """Ten calls racing on a fresh client share one token request."""
    exchanges: list[Exchange] = []
    async with client_for(sandbox, OAUTH, exchanges) as client, anyio.create_task_group() as tg:
        for i in range(10):
            tg.start_soon(client.find_orders, "import", f"race-{i}")
    assert token_fetches(exchanges) == 1
    assert len(exchanges) == 11


async def test_oauth2_token_is_refreshed_before_it_expires(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    """A token is reused until less than 60 s of its lifetime remain, then fetched again."""
    sandbox = sandbox_factory(token_expires_s=300)
    clock = FakeMonotonic()
    exchanges: list[Exchange] = []
    async with client_for(sandbox, OAUTH, exchanges, clock=clock) as client:
        await client.find_orders("import", "a")
        clock.now += 239
        await client.find_orders("import", "b")
        assert token_fetches(exchanges) == 1
        clock.now += 2
        await client.find_orders("import", "c")
    assert token_fetches(exchanges) == 2


async def test_short_lived_tokens_are_refreshed_at_half_life(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    """With `expires_in` under two minutes the token is renewed after half its lifetime."""
    sandbox = sandbox_factory(token_expires_s=30)
    clock = FakeMonotonic()
    exchanges: list[Exchange] = []
    async with client_for(sandbox, OAUTH, exchanges, clock=clock) as client:
        await client.find_orders("import", "a")
        clock.now += 14
        await client.find_orders("import", "b")
        clock.now += 1
        await client.find_orders("import", "c")
    assert token_fetches(exchanges) == 2


async def test_a_401_on_a_token_forces_one_refresh_and_one_retry(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    """When the server expires a token early, the call refreshes it once and succeeds."""
    server_clock = ManualClock()
    sandbox = sandbox_factory(clock=server_clock, token_expires_s=600)
    exchanges: list[Exchange] = []
    async with client_for(sandbox, OAUTH, exchanges, clock=FakeMonotonic()) as client:
        await client.find_orders("import", "a")
        server_clock.advance(601)  # the server says expired; the client's clock says fresh
        doc = await client.create_order("import", import_body("after-401"))
    assert doc.customer_order_id == "after-401"
    assert [(e.method, e.path, e.status) for e in exchanges[2:]] == [
        ("POST", f"/api/v2/accounts/{ACCOUNT}/importTnOrders/messaging", 401),
        ("POST", TOKEN_PATH, 200),
        ("POST", f"/api/v2/accounts/{ACCOUNT}/importTnOrders/messaging", 201),
    ]
    assert len(sandbox.state.ledger_orders()) == 1


async def test_exchanges_never_carry_secrets(sandbox: RunningSandbox) -> None:
    """The exchange hook sees methods, paths, statuses and ids, never a secret or token."""
    exchanges: list[Exchange] = []
    async with client_for(sandbox, OAUTH, exchanges) as client:
        doc = await client.create_order("import", import_body("hook-1"))
        token = client._auth.token
    assert token is not None
    shown = repr(exchanges)
    for secret in ("sandbox-secret", token.value, "Authorization", "Basic "):
        assert secret not in shown
    create = exchanges[-1]
    assert (create.method, create.status, create.customer_order_id, create.order_id) == (
        "POST",
        201,
        "hook-1",
        doc.order_id,
    )
    assert create.elapsed_s >= 0


# --- orders of the three kinds ----------------------------------------------------------------


async def test_import_create_get_and_find(sandbox: RunningSandbox) -> None:
    """An import order is created, read back by id, and found by its CustomerOrderId."""
    async with client_for(sandbox) as client:
        created = await client.create_order("import", import_body("imp-1", "+19195550100"))
        got = await client.get_order("import", str(created.order_id))
        found = await client.find_orders("import", "imp-1")
        other = await client.find_orders("import", "imp-2")
    assert created.status in ("RECEIVED", "PROCESSING")
    assert got.numbers == ("+19195550100",)
    assert got.status == "COMPLETE"
    assert [o.order_id for o in found.orders] == [created.order_id]
    assert other.orders == () and other.total_count == 0


async def test_remove_create_get_and_find(sandbox: RunningSandbox) -> None:
    """A removal order for an imported number completes and is found by CustomerOrderId."""
    sandbox.state.seed({"numbers": [{"number": "+19195550123", "kind": "imported"}]})
    body = build_remove_order(customer_order_id="rem-1", numbers=["+19195550123"])
    async with client_for(sandbox) as client:
        created = await client.create_order("remove", body)
        got = await client.get_order("remove", str(created.order_id))
        found = await client.find_orders("remove", "rem-1")
    assert got.status == "COMPLETE" and got.failures == ()
    assert [o.customer_order_id for o in found.orders] == ["rem-1"]


async def test_tnoptions_create_get_and_find(sandbox: RunningSandbox) -> None:
    """A TN option order (also reachable as step kind "messaging") is created, read and found."""
    sandbox.state.seed({"numbers": [{"number": "+19195550124", "kind": "inservice"}]})
    body = build_tn_option_order(
        customer_order_id="opt-1", sms="on", a2p=None, numbers=["+19195550124"]
    )
    async with client_for(sandbox) as client:
        created = await client.create_order("tnoptions", body)
        got = await client.get_order("messaging", str(created.order_id))
        found = await client.find_orders("tnoptions", "opt-1")
    assert created.status == "RECEIVED"
    assert got.status == "COMPLETE"
    assert [o.order_id for o in found.orders] == [created.order_id]


async def test_partial_order_reports_failed_numbers_with_codes(sandbox: RunningSandbox) -> None:
    """A per-number failure comes back as data on the order, not as an exception."""
    sandbox.state.seed(
        {"failure_rules": [{"kind": "import", "numbers": ["+19195550199"], "code": 7518}]}
    )
    async with client_for(sandbox) as client:
        created = await client.create_order(
            "import", import_body("part-1", "+19195550100", "+19195550199")
        )
        got = await client.get_order("import", str(created.order_id))
    assert got.status == "PARTIAL"
    assert [(f.code, f.numbers) for f in got.failures] == [("7518", ("+19195550199",))]


async def test_check_import_splits_importable_and_rejected(sandbox: RunningSandbox) -> None:
    """importTnChecker returns importable numbers and rejected ones with their code."""
    sandbox.state.seed({"numbers": [{"number": "+19195550150", "kind": "bandwidth"}]})
    body = build_import_checker(
        site_id="743", sip_peer_id=None, numbers=["+19195550100", "+19195550150"]
    )
    async with client_for(sandbox) as client:
        result = await client.check_import(body)
    assert result.importable == ("+19195550100",)
    assert [(r.code, r.numbers) for r in result.rejected] == [("19006", ("+19195550150",))]


async def test_tn_details_show_hosting_sms_and_campaign(sandbox: RunningSandbox) -> None:
    """tndetails tells whether a number is hosted here, has SMS on and which campaign."""
    sandbox.state.seed(
        {"numbers": [{"number": "+19195550160", "kind": "imported", "sms_enabled": True,
                      "campaign_id": "CA3XKE1", "message_class": "M"}]}
    )  # fmt: skip
    async with client_for(sandbox) as client:
        details = await client.get_tn_details("+19195550160")
        with pytest.raises(PermanentApiError) as info:
            await client.get_tn_details("+19195550161")
    assert (details.number, details.account_id, details.hosted) == ("+19195550160", ACCOUNT, True)
    assert (details.sms_enabled, details.campaign_id, details.message_class) == (
        True,
        "CA3XKE1",
        "M",
    )
    assert info.value.status == 404


async def test_probe_returns_statuses_instead_of_raising(sandbox: RunningSandbox) -> None:
    """`probe` reports the HTTP status and headers of a read, even a refused one; the
    sandbox's list is the v2 API's XML (nothing foreign)."""
    async with client_for(sandbox) as good:
        answer = await good.probe(f"accounts/{ACCOUNT}/tnoptions")
    async with client_for(sandbox, BasicCredentials("sandbox", "no")) as bad:
        refused = await bad.probe(f"accounts/{ACCOUNT}/tnoptions")
    assert answer.status == 200 and answer.headers["content-type"].startswith("application/xml")
    assert answer.foreign is None
    assert refused.status == 401 and refused.foreign is None


# --- error mapping ------------------------------------------------------------------------------


async def test_validation_error_carries_the_api_code(sandbox: RunningSandbox) -> None:
    """A 400 on create is a PermanentApiError with the API's code and description (7309)."""
    async with client_for(sandbox) as client:
        with pytest.raises(PermanentApiError) as info:
            await client.create_order("import", import_body("bad-site", site="999"))
    error = info.value
    assert (error.status, error.code) == (400, "7309")
    assert error.description and "site" in error.description.lower()
    assert "bad-site" in str(error)


async def test_unknown_order_is_a_permanent_404(sandbox: RunningSandbox) -> None:
    """Reading an order that does not exist is a PermanentApiError with status 404."""
    async with client_for(sandbox) as client:
        with pytest.raises(PermanentApiError) as info:
            await client.get_order("tnoptions", "7ad2d5f4-0000-4000-8000-000000000000")
    assert info.value.status == 404


async def test_rate_limit_raises_with_the_reset_time(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    """A 429 becomes RateLimitedError whose retry_at is the X-RateLimit-Reset epoch second."""
    server_clock = ManualClock(start=time.time() + 100.25)
    sandbox = sandbox_factory(rate_limit_per_s=1, clock=server_clock)
    async with client_for(sandbox) as client:
        await client.find_orders("import", "a")
        with pytest.raises(RateLimitedError) as info:
            await client.find_orders("import", "b")
    assert info.value.retry_at == math.ceil(server_clock.now() + 1.0)


async def test_rate_limited_post_is_not_a_lost_response(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    """A 429 on create stays RateLimitedError (nothing was created) so it may be retried."""
    sandbox = faulty(sandbox_factory, throttle_rate=1.0)
    async with client_for(sandbox) as client:
        with pytest.raises(RateLimitedError):
            await client.create_order("import", import_body("throttled"))
    assert sandbox.state.ledger_orders() == []


async def test_server_error_is_transient_on_get_and_lost_on_post(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    """An injected 500 is a TransientApiError on a read and a ResponseLostError on a create."""
    sandbox = faulty(sandbox_factory, error_rate=1.0)
    async with client_for(sandbox) as client:
        with pytest.raises(TransientApiError) as on_get:
            await client.find_orders("import", "x")
        with pytest.raises(ResponseLostError, match="srv-err"):
            await client.create_order("import", import_body("srv-err"))
    assert not isinstance(on_get.value, RequestNotSentError)
    assert "1000" in str(on_get.value)


async def test_drop_after_commit_is_a_lost_response_and_the_order_can_be_found(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    """A create whose answer is cut off raises ResponseLostError; the order exists and is found."""
    sandbox = faulty(sandbox_factory, drop_after_commit_rate=1.0)
    async with client_for(sandbox) as client:
        with pytest.raises(ResponseLostError, match="dropped-1") as info:
            await client.create_order("import", import_body("dropped-1"))
        found = await client.find_orders("import", "dropped-1")
    assert isinstance(info.value.__cause__, httpx.HTTPError)
    assert [o["customer_order_id"] for o in sandbox.state.ledger_orders()] == ["dropped-1"]
    assert len(found.orders) == 1


async def test_hung_create_times_out_as_a_lost_response(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    """A create whose answer never comes hits the read timeout and becomes ResponseLostError."""
    sandbox = faulty(sandbox_factory, drop_after_commit_rate=1.0, drop_mode="hang", hang_s=10.0)
    async with client_for(sandbox, timeout_s=0.3) as client:
        with pytest.raises(ResponseLostError) as info:
            await client.create_order("import", import_body("hung-1"))
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)


async def test_connection_reset_is_transient_on_get_and_lost_on_post(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    """A connection broken mid-exchange is retryable for a read, unknown for a create."""
    sandbox = faulty(sandbox_factory, reset_rate=1.0)
    async with client_for(sandbox) as client:
        with pytest.raises(TransientApiError) as on_get:
            await client.get_order("import", "7ad2d5f4-0000-4000-8000-000000000000")
        with pytest.raises(ResponseLostError):
            await client.create_order("import", import_body("reset-1"))
    assert not isinstance(on_get.value, RequestNotSentError)


async def test_connection_refused_is_not_sent_even_for_a_post() -> None:
    """A refused connection is RequestNotSentError: safe to retry even a create."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    exchanges: list[Exchange] = []
    async with ApiClient(
        f"http://127.0.0.1:{port}/api/v2", ACCOUNT, BASIC, on_exchange=exchanges.append
    ) as client:
        with pytest.raises(RequestNotSentError):
            await client.create_order("import", import_body("refused"))
    assert [(e.status, (e.error or "").split(":")[0]) for e in exchanges] == [
        (None, "ConnectError")
    ]


async def test_token_endpoint_unreachable_means_the_call_was_not_sent() -> None:
    """If no token can be fetched, the API call itself provably never left."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    async with ApiClient(
        f"{base}/api/v2", ACCOUNT, OAUTH, token_url=f"{base}{TOKEN_PATH}"
    ) as client:
        with pytest.raises(RequestNotSentError, match="token"):
            await client.create_order("import", import_body("no-token"))


# --- headers ---------------------------------------------------------------------------------


async def test_requests_carry_user_agent_and_xml_headers() -> None:
    """Every API request names bwmigrate and its version and speaks XML."""
    seen: list[dict[str, str]] = []

    async def echo(request: Request) -> Response:
        seen.append(dict(request.headers))
        body = b"<TnOptionOrders><TotalCount>0</TotalCount></TnOptionOrders>"
        return Response(body, 200, media_type="application/xml")

    app = Starlette(routes=[Route("/{path:path}", echo)])
    async with ApiClient(
        "https://bw.test/api/v2", ACCOUNT, BASIC, transport=httpx.ASGITransport(app=app)
    ) as client:
        await client.find_orders("tnoptions", "ua-1")
    headers = seen[0]
    assert headers["user-agent"] == USER_AGENT == f"bwmigrate/{__version__} (+python-httpx)"
    assert headers["accept"] == "application/xml"
    assert headers["content-type"] == "application/xml; charset=utf-8"
    assert headers["authorization"].startswith("Basic ")
