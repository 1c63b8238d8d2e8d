"""The OAuth2 token request over real HTTP goes only to the token URL, never to the API host, and
what fails before an API request leaves is "not sent" (two sandboxes, starlette peers)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from asgi_peer import serve_asgi
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from orchestrator.api.client import ApiClient, BasicCredentials, ClientCredentials, Exchange
from orchestrator.api.xml_request import build_import_order
from orchestrator.errors import AuthError, RequestNotSentError
from orchestrator.sandbox import RunningSandbox, SandboxConfig, run_sandbox
from orchestrator.state.audit import AuditLog, secret_values

ACCOUNT = "9900012"
OAUTH = ClientCredentials("sandbox-client", "sandbox-secret")
TOKEN_PATH = "/api/v1/oauth2/token"


def import_body(coid: str) -> bytes:
    return build_import_order(
        body_form="ExternalTnsOrder", customer_order_id=coid, site_id="743", sip_peer_id=None,
        loa_type="CARRIER",
        numbers=["+19195550100"],
    )  # fmt: skip


@pytest.fixture
def token_issuer(sandbox: RunningSandbox) -> Iterator[RunningSandbox]:
    """A second sandbox on another port whose token endpoint issues tokens the first one (the
    API host) accepts: they share one authenticator, as Bandwidth's token host and API hosts
    share their token verification."""
    with run_sandbox(SandboxConfig(order_delay_s=0.0)) as issuer:
        issuer.app.auth = sandbox.app.auth
        yield issuer


def requests_seen(sb: RunningSandbox) -> dict[str, int]:
    """How many requests a sandbox answered, by status."""
    counted: dict[str, int] = sb.app.ledger.to_json()["requests"]["by_status"]
    return counted


async def test_the_token_request_goes_to_the_token_url_never_to_the_target(
    sandbox: RunningSandbox, token_issuer: RunningSandbox, tmp_path: Path
) -> None:
    """With the token URL on another host, the API host sees only the API calls (Bearer) and
    the token host only the token request; the audit log records the exchange as before."""
    audit = AuditLog(tmp_path / "a.jsonl", secrets=secret_values(OAUTH))
    async with ApiClient(
        f"{sandbox.base_url}/api/v2",
        ACCOUNT,
        OAUTH,
        token_url=f"{token_issuer.base_url}{TOKEN_PATH}",
        on_exchange=audit.record,
    ) as client:
        created = await client.create_order("import", import_body("pinned-1"))
        found = await client.find_orders("import", "pinned-1")
    audit.close()
    assert [o.order_id for o in found.orders] == [created.order_id]
    assert requests_seen(token_issuer) == {"200": 1}
    assert requests_seen(sandbox) == {"200": 1, "201": 1}
    lines = [json.loads(x) for x in (tmp_path / "a.jsonl").read_text().splitlines()]
    exchanges = [(x["method"], x["path"], x["status"]) for x in lines if x["type"] == "exchange"]
    assert exchanges[0] == ("POST", TOKEN_PATH, 200)
    assert len(exchanges) == 3
    assert "sandbox-secret" not in (tmp_path / "a.jsonl").read_text()


class TokenPeer:
    """A would-be token endpoint that answers one scripted status (and Location), recording
    what reaches it."""

    def __init__(self, status: int, location: str | None = None) -> None:
        self.status, self.location = status, location
        self.seen: list[tuple[str, str]] = []

    async def handle(self, request: Request) -> Response:
        self.seen.append((request.method, request.url.path))
        if self.location is not None:
            return RedirectResponse(self.location, self.status)
        return Response(b"<html>not here</html>", self.status, media_type="text/html")


def peer_app(peer: TokenPeer) -> Starlette:
    return Starlette(routes=[Route("/{path:path}", peer.handle, methods=["GET", "POST"])])


async def test_a_token_endpoint_redirect_is_not_followed(sandbox: RunningSandbox) -> None:
    """A token URL answering 307 elsewhere: the credentials stay put, the redirect target sees
    nothing, the API call is not sent, and the error names BWMIGRATE_TOKEN_URL."""
    elsewhere = TokenPeer(200)
    with serve_asgi(peer_app(elsewhere)) as other_url:
        redirecting = TokenPeer(307, location=f"{other_url}/steal")
        with serve_asgi(peer_app(redirecting)) as token_host:
            async with ApiClient(
                f"{sandbox.base_url}/api/v2", ACCOUNT, OAUTH, token_url=f"{token_host}/token"
            ) as client:
                with pytest.raises(AuthError) as info:
                    await client.create_order("import", import_body("redirected"))
    assert redirecting.seen == [("POST", "/token")]
    assert elsewhere.seen == []
    assert requests_seen(sandbox) == {}
    assert "BWMIGRATE_TOKEN_URL" in str(info.value) and "307" in str(info.value)
    assert "sandbox-secret" not in str(info.value)


async def test_a_wrong_token_url_says_so_and_sends_no_api_call(sandbox: RunningSandbox) -> None:
    """A token URL that answers 404 is named in the error; the API host sees nothing."""
    wrong = TokenPeer(404)
    with serve_asgi(peer_app(wrong)) as token_host:
        async with ApiClient(
            f"{sandbox.base_url}/api/v2", ACCOUNT, OAUTH, token_url=f"{token_host}/wrong"
        ) as client:
            with pytest.raises(AuthError) as info:
                await client.find_orders("import", "x")
    assert f"{token_host}/wrong" in str(info.value)
    assert "BWMIGRATE_TOKEN_URL" in str(info.value)
    assert requests_seen(sandbox) == {}


# --- refused before sent (how the client classifies it today; a later issue builds on it) ------


async def test_a_tls_failure_on_a_create_is_not_sent(sandbox: RunningSandbox) -> None:
    """https to a plain-HTTP port fails in the TLS handshake: RequestNotSentError, no order."""
    port = sandbox.base_url.rsplit(":", 1)[1]
    exchanges: list[Exchange] = []
    async with ApiClient(
        f"https://127.0.0.1:{port}/api/v2",
        ACCOUNT,
        BasicCredentials("sandbox", "sandbox"),
        on_exchange=exchanges.append,
    ) as client:
        with pytest.raises(RequestNotSentError):
            await client.create_order("import", import_body("tls-1"))
    assert sandbox.state.ledger_orders() == []
    assert [(e.status, (e.error or "").split(":")[0]) for e in exchanges] == [
        (None, "ConnectError")
    ]


async def test_a_dns_failure_on_a_create_is_not_sent() -> None:
    """A host name that does not resolve (.invalid is reserved) is RequestNotSentError."""
    async with ApiClient(
        "https://bwmigrate-test.invalid/api/v2",
        ACCOUNT,
        BasicCredentials("u", "p"),
        connect_timeout_s=5.0,  # a resolver that never answers is a connect timeout: not sent
    ) as client:
        with pytest.raises(RequestNotSentError):
            await client.create_order("import", import_body("dns-1"))


async def test_a_token_host_refusing_connections_means_the_create_was_not_sent(
    sandbox: RunningSandbox,
) -> None:
    """The token host is down: the create is RequestNotSentError and the API host sees nothing."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with ApiClient(
        f"{sandbox.base_url}/api/v2",
        ACCOUNT,
        OAUTH,
        token_url=f"http://127.0.0.1:{port}{TOKEN_PATH}",
    ) as client:
        with pytest.raises(RequestNotSentError, match=f"127.0.0.1:{port}"):
            await client.create_order("import", import_body("token-down"))
    assert requests_seen(sandbox) == {}


async def test_a_401_on_a_create_is_an_auth_error_and_no_order(sandbox: RunningSandbox) -> None:
    """A create refused with 401 is AuthError (refused, not outcome-unknown); nothing exists."""
    async with ApiClient(
        f"{sandbox.base_url}/api/v2", ACCOUNT, BasicCredentials("sandbox", "wrong")
    ) as client:
        with pytest.raises(AuthError) as info:
            await client.create_order("import", import_body("refused-401"))
    assert info.value.status == 401
    assert sandbox.state.ledger_orders() == []
