"""Where OAuth2 client credentials may go: Bandwidth's token endpoint for Bandwidth's hosts, a
checked override, and nowhere else (`orchestrator.api.client.token_url_for`; no request is sent)."""

from __future__ import annotations

import pytest

from orchestrator.api.client import (
    BANDWIDTH_TEST_TOKEN_URL,
    BANDWIDTH_TOKEN_URL,
    ApiClient,
    BasicCredentials,
    ClientCredentials,
    TokenCredentials,
    token_url_for,
)
from orchestrator.errors import InputError

OAUTH = ClientCredentials("client-id", "s3cret-value")


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://api.bandwidth.com/api/v2", BANDWIDTH_TOKEN_URL),
        ("https://dashboard.bandwidth.com/api/v2", BANDWIDTH_TOKEN_URL),
        ("https://dashboard.bandwidth.com/v1.0", BANDWIDTH_TOKEN_URL),
        ("https://API.Bandwidth.com:443/api/v2/", BANDWIDTH_TOKEN_URL),
        ("https://test.api.bandwidth.com/api/v2", BANDWIDTH_TEST_TOKEN_URL),
    ],
)
def test_bandwidth_hosts_get_bandwidths_token_endpoint(base_url: str, expected: str) -> None:
    """Production hosts map to api.bandwidth.com's token URL, the test host to its own."""
    assert token_url_for(base_url) == expected
    assert ApiClient(base_url, "1", OAUTH).token_url == expected


@pytest.mark.parametrize(
    "base_url",
    [
        "https://api.bandwidth.com.evil.example/api/v2",
        "https://evil.example/api.bandwidth.com/api/v2",
        "https://bandwidth.com/api/v2",
        "https://xapi.bandwidth.com/api/v2",
        "https://gateway.corp.example/api/v2",
        "http://127.0.0.1:8080/api/v2",
    ],
)
def test_any_other_host_is_refused_for_client_credentials(base_url: str) -> None:
    """Look-alike and private hosts get no token URL: one line naming BWMIGRATE_TOKEN_URL."""
    with pytest.raises(InputError) as info:
        ApiClient(base_url, "1", OAUTH)
    message = str(info.value)
    assert "sent only to Bandwidth's token endpoint" in message
    assert "BWMIGRATE_TOKEN_URL" in message and "\n" not in message
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    "credentials", [BasicCredentials("u", "p"), TokenCredentials("t")], ids=["basic", "token"]
)
def test_basic_and_bearer_credentials_need_no_token_url(credentials: object) -> None:
    """Only client credentials are pinned: Basic and a static token go to the API host."""
    client = ApiClient("https://gateway.corp.example/api/v2", "1", credentials)  # type: ignore[arg-type]
    assert client.token_url is None


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("http://127.0.0.1:8080/api/v1/oauth2/token", "http://127.0.0.1:8080/api/v1/oauth2/token"),
        ("http://localhost:9/token", "http://localhost:9/token"),
        ("https://idp.corp.example/oauth2/token", "https://idp.corp.example/oauth2/token"),
        (" https://idp.corp.example/t ", "https://idp.corp.example/t"),
    ],
)
def test_an_override_wins_when_it_is_safe(override: str, expected: str) -> None:
    """https anywhere, or http on loopback, is used as given, even for a Bandwidth host."""
    assert token_url_for("https://gateway.corp.example/api/v2", override) == expected
    assert token_url_for("https://api.bandwidth.com/api/v2", override) == expected
    client = ApiClient("http://127.0.0.1:1/api/v2", "1", OAUTH, token_url=override)
    assert client.token_url == expected


@pytest.mark.parametrize(
    ("override", "said"),
    [
        ("http://idp.corp.example/token", "plain HTTP"),
        ("https://user:hunter2pw@idp.corp.example/token", "user info"),
        ("https://idp.corp.example/token?key=hunter2pw", "query"),
        ("https://idp.corp.example/token#hunter2pw", "fragment"),
        ("ftp://idp.corp.example/token", "not an http(s) URL"),
        ("https://", "not an http(s) URL"),
    ],
)
def test_an_unsafe_override_is_refused_without_echoing_secrets(override: str, said: str) -> None:
    """A token URL that would leak the client secret, or could hold one, is a usage error whose
    message never repeats the user info, query or fragment."""
    with pytest.raises(InputError) as info:
        token_url_for("https://api.bandwidth.com/api/v2", override)
    message = str(info.value)
    assert said in message and "BWMIGRATE_TOKEN_URL" in message
    assert "hunter2pw" not in message and "\n" not in message


def test_the_client_repr_names_the_token_url_but_no_secret() -> None:
    """Where tokens come from is visible in a repr; the secret is not."""
    shown = repr(ApiClient("https://api.bandwidth.com/api/v2", "1", OAUTH))
    assert BANDWIDTH_TOKEN_URL in shown and "s3cret-value" not in shown
