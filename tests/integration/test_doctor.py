"""`doctor`'s checks against the sandbox: they pass, and each fails for its own reason."""

from __future__ import annotations

import socket
import time
from typing import Any

from orchestrator.api.client import BasicCredentials, ClientCredentials, Credentials, Exchange
from orchestrator.cli.doctor_cmd import Check, diagnose
from orchestrator.errors import InputError
from orchestrator.sandbox import RunningSandbox

ACCOUNT = "9900012"


def _basic(sandbox: RunningSandbox) -> BasicCredentials:
    c = sandbox.config.credentials
    return BasicCredentials(c.username, c.password)


async def _diagnose(
    base_url: str, credentials: Credentials | InputError, account: str = ACCOUNT, **kw: Any
) -> dict[str, Check]:
    token_url = f"{base_url.split('/api/')[0]}/api/v1/oauth2/token"
    checks = await diagnose(
        base_url, account, credentials, rate_per_s=50.0, token_url=token_url, **kw
    )
    names = [c.name for c in checks]
    assert len(names) == len(set(names)), names
    return {c.name: c for c in checks}


def _failed(checks: dict[str, Check]) -> set[str]:
    return {name for name, c in checks.items() if c.ok is False}


async def test_a_healthy_target_passes_with_basic_and_oauth2(sandbox: RunningSandbox) -> None:
    """Every check passes; the rate-limit headroom is reported as unknowable, not as passed."""
    c = sandbox.config.credentials
    for creds in (_basic(sandbox), ClientCredentials(c.client_id, c.client_secret)):
        checks = await _diagnose(f"{sandbox.base_url}/api/v2", creds)
        assert _failed(checks) == set()
        assert {n for n, x in checks.items() if x.ok} >= {
            "credentials",
            "target",
            "reachable",
            "credentials accepted",
            "account",
            "endpoint importTnOrders/messaging",
            "endpoint removeImportedTnOrders/messaging",
            "endpoint tnoptions",
            "clock",
        }
        assert checks["rate limit"].ok is None
        assert "cannot be known" in checks["rate limit"].detail


async def test_doctor_only_reads(sandbox: RunningSandbox) -> None:
    """Apart from the OAuth2 token request, every request is a GET; no order is created."""
    c = sandbox.config.credentials
    seen: list[Exchange] = []
    await _diagnose(
        f"{sandbox.base_url}/api/v2",
        ClientCredentials(c.client_id, c.client_secret),
        on_exchange=seen.append,
    )
    methods = {(x.method, x.path.endswith("/oauth2/token")) for x in seen}
    assert methods == {("GET", False), ("POST", True)}
    assert sandbox.state.ledger_orders() == []


async def test_bad_basic_credentials_fail_as_refused(sandbox: RunningSandbox) -> None:
    """A wrong password: reachable, but the credentials are refused with the fix to check."""
    checks = await _diagnose(f"{sandbox.base_url}/api/v2", BasicCredentials("sandbox", "nope"))
    assert _failed(checks) == {"credentials accepted"}
    assert checks["reachable"].ok is True
    assert "BWMIGRATE_PASSWORD" in (checks["credentials accepted"].fix or "")


async def test_a_refused_oauth2_client_fails_at_the_token(sandbox: RunningSandbox) -> None:
    """A wrong client secret is refused by the token endpoint, and doctor says so."""
    creds = ClientCredentials(sandbox.config.credentials.client_id, "wrong")
    checks = await _diagnose(f"{sandbox.base_url}/api/v2", creds)
    assert _failed(checks) == {"credentials accepted"}
    assert "token" in checks["credentials accepted"].detail.lower()


async def test_missing_credentials_fail_first() -> None:
    """No BWMIGRATE_* variables: one failed check that says which to set."""
    checks = await _diagnose("https://api.example.invalid/api/v2", InputError("set BWMIGRATE_X"))
    assert list(checks) == ["credentials"]
    assert checks["credentials"].ok is False


async def test_an_unreachable_host_fails_as_unreachable(sandbox: RunningSandbox) -> None:
    """Nothing listens on the port: the reachability check fails and names the host."""
    with socket.socket() as s:  # a port that was free a moment ago
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    checks = await _diagnose(f"http://127.0.0.1:{port}/api/v2", _basic(sandbox))
    assert _failed(checks) == {"reachable"}
    assert f"127.0.0.1:{port}" in checks["reachable"].detail


async def test_a_v1_base_url_misses_the_v2_endpoints(sandbox: RunningSandbox) -> None:
    """Pointed at /api/v1, the /messaging order lists are missing; tnoptions exists in both."""
    checks = await _diagnose(f"{sandbox.base_url}/api/v1", _basic(sandbox))
    assert _failed(checks) == {
        "endpoint importTnOrders/messaging",
        "endpoint removeImportedTnOrders/messaging",
    }
    assert checks["endpoint tnoptions"].ok is True
    assert checks["target"].ok is None and "/api/v2" in (checks["target"].fix or "")


async def test_an_unknown_path_misses_every_endpoint(sandbox: RunningSandbox) -> None:
    """A base path the API does not serve: every endpoint fails with 404."""
    checks = await _diagnose(f"{sandbox.base_url}/api/v9", _basic(sandbox))
    assert {n for n in _failed(checks)} == {
        "endpoint importTnOrders/messaging",
        "endpoint removeImportedTnOrders/messaging",
        "endpoint tnoptions",
    }
    assert all("404" in checks[n].detail for n in _failed(checks))


async def test_an_account_the_credentials_cannot_use_fails(sandbox: RunningSandbox) -> None:
    """403 on every account path: the account check fails (and so does each endpoint)."""
    checks = await _diagnose(f"{sandbox.base_url}/api/v2", _basic(sandbox), account="1234567")
    assert "account" in _failed(checks)
    assert "1234567" in checks["account"].detail


async def test_a_skewed_clock_fails(sandbox: RunningSandbox) -> None:
    """A local clock a minute ahead of the Date header fails the clock check."""
    checks = await _diagnose(
        f"{sandbox.base_url}/api/v2", _basic(sandbox), clock=lambda: time.time() + 60
    )
    assert _failed(checks) == {"clock"}
    assert "ahead of" in checks["clock"].detail


async def test_a_rate_limited_account_fails_the_headroom_check(sandbox_factory: Any) -> None:
    """When the probes themselves meet 429s, the budget is already in use: doctor fails."""
    sandbox = sandbox_factory(rate_limit_per_s=1)
    checks = await _diagnose(f"{sandbox.base_url}/api/v2", _basic(sandbox))
    assert _failed(checks) == {"rate limit"}
    assert "answered 429" in checks["rate limit"].detail


async def test_the_credentials_line_names_where_client_credentials_go(
    sandbox: RunningSandbox,
) -> None:
    """For OAuth2 client credentials, doctor shows the token endpoint they are sent to."""
    c = sandbox.config.credentials
    checks = await _diagnose(
        f"{sandbox.base_url}/api/v2", ClientCredentials(c.client_id, c.client_secret)
    )
    assert f"tokens from {sandbox.base_url}/api/v1/oauth2/token" in checks["credentials"].detail
    assert c.client_secret not in checks["credentials"].detail
