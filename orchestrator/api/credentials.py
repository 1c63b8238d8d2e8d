"""API credentials, and the only places they may be sent.

Credentials come from the environment, read by the CLI and passed to `credentials_from_env`:

    BWMIGRATE_CLIENT_ID, BWMIGRATE_CLIENT_SECRET   OAuth2 client credentials (preferred: a
                                                   Bearer token is fetched and refreshed)
    BWMIGRATE_TOKEN                                a static Bearer token
    BWMIGRATE_USERNAME, BWMIGRATE_PASSWORD         HTTP Basic (legacy API users)

The first complete set in that order wins. None set is an `InputError` (exit 2: a usage
problem found before any request); credentials the API refuses are an `AuthError` (exit 3).
Secrets never appear in a `repr` or an exception message.

Where OAuth2 client credentials go (`token_url_for`): only to Bandwidth's token endpoint,
`https://api.bandwidth.com/api/v1/oauth2/token` for the production hosts (api.bandwidth.com,
dashboard.bandwidth.com) and `https://test.api.bandwidth.com/api/v1/oauth2/token` for
test.api.bandwidth.com, whatever the API base URL's path; or to a token URL the caller passes
(the CLI passes `BWMIGRATE_TOKEN_URL`; the embedded sandbox its own): https unless loopback, no
user info, no query. For any other API host without one, `ApiClient` refuses client
credentials (`InputError`) before any request: they are never sent to whatever host a base URL
names. Basic credentials and a static Bearer token go to the API host itself, as the API wants.

API base URLs are checked here too (`checked_base_url`; `checked_v2_url` also wants the path to
end in /api/v2): https, or plain http on loopback only; no user info, no query string (a secret
there would be echoed, stored and logged). `redact_url` is how any URL is printed or stored.

Pure: reads the environment mapping it is given, never `os.environ`; no I/O (httpx only parses
URLs). Must not import the client, the store or the engine.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from orchestrator.errors import InputError

__all__ = [
    "BANDWIDTH_TEST_TOKEN_URL",
    "BANDWIDTH_TOKEN_URL",
    "TOKEN_URL_VARIABLE",
    "BasicCredentials",
    "ClientCredentials",
    "Credentials",
    "TokenCredentials",
    "checked_base_url",
    "checked_v2_url",
    "credentials_from_env",
    "is_loopback",
    "redact_url",
    "refuse_url_secrets",
    "token_url_for",
]

BANDWIDTH_TOKEN_URL = "https://api.bandwidth.com/api/v1/oauth2/token"  # noqa: S105 - a URL
BANDWIDTH_TEST_TOKEN_URL = "https://test.api.bandwidth.com/api/v1/oauth2/token"  # noqa: S105
TOKEN_URL_VARIABLE = "BWMIGRATE_TOKEN_URL"  # noqa: S105 - a variable's name; the CLI reads it
_PINNED_TOKEN_URLS = {
    "api.bandwidth.com": BANDWIDTH_TOKEN_URL,
    "dashboard.bandwidth.com": BANDWIDTH_TOKEN_URL,
    "test.api.bandwidth.com": BANDWIDTH_TEST_TOKEN_URL,
}


@dataclass(frozen=True, slots=True)
class BasicCredentials:
    """HTTP Basic with an API user (deprecated by Bandwidth in favour of OAuth2)."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class TokenCredentials:
    """A Bearer token obtained elsewhere; never refreshed."""

    token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """OAuth2 client credentials; tokens are fetched from the URL `token_url_for` names."""

    client_id: str
    client_secret: str = field(repr=False)


Credentials = BasicCredentials | TokenCredentials | ClientCredentials

_ENV_HELP = (
    "set BWMIGRATE_CLIENT_ID and BWMIGRATE_CLIENT_SECRET (OAuth2, preferred), "
    "or BWMIGRATE_TOKEN (a Bearer token), or BWMIGRATE_USERNAME and BWMIGRATE_PASSWORD"
)


def credentials_from_env(environ: Mapping[str, str]) -> Credentials:
    """The credentials named by `BWMIGRATE_*` variables in `environ` (see the module docstring)."""

    def get(name: str) -> str | None:
        return environ.get(name) or None

    pairs = (
        ("BWMIGRATE_CLIENT_ID", "BWMIGRATE_CLIENT_SECRET", ClientCredentials),
        ("BWMIGRATE_USERNAME", "BWMIGRATE_PASSWORD", BasicCredentials),
    )
    client_id, secret = get(pairs[0][0]), get(pairs[0][1])
    if client_id and secret:
        return ClientCredentials(client_id, secret)
    token = get("BWMIGRATE_TOKEN")
    if token:
        return TokenCredentials(token)
    username, password = get(pairs[1][0]), get(pairs[1][1])
    if username and password:
        return BasicCredentials(username, password)
    for first, second, _ in pairs:
        if bool(get(first)) != bool(get(second)):
            present, missing = (first, second) if get(first) else (second, first)
            raise InputError(f"{present} is set but {missing} is not: {_ENV_HELP}")
    raise InputError(f"no API credentials in the environment: {_ENV_HELP}")


def token_url_for(base_url: str, override: str | None = None) -> str:
    """The only URL OAuth2 client credentials may be sent to for API calls to `base_url`.

    `override` (the CLI passes `BWMIGRATE_TOKEN_URL`; the embedded sandbox its own token URL)
    wins once checked: http(s), https unless the host is loopback, no user info, no query or
    fragment. Without it, Bandwidth's token endpoint for Bandwidth's hosts (see the module
    docstring); any other host is an `InputError` saying how to name a token endpoint.
    """
    url = checked_base_url(base_url)
    if override:
        return _checked_token_url(override)
    pinned = _PINNED_TOKEN_URLS.get(url.host.lower().rstrip("."))
    if pinned is None:
        raise InputError(
            f"{url.host} is not a Bandwidth API host, and OAuth2 client credentials are sent "
            f"only to Bandwidth's token endpoint ({BANDWIDTH_TOKEN_URL}): for a sandbox or a "
            f"private endpoint, set {TOKEN_URL_VARIABLE} to its token URL (e.g. "
            f"{TOKEN_URL_VARIABLE}=http://127.0.0.1:PORT/api/v1/oauth2/token; https unless "
            "loopback), or use BWMIGRATE_TOKEN or BWMIGRATE_USERNAME/PASSWORD instead"
        )
    return pinned


def _checked_token_url(raw: str) -> str:
    """A token URL given by the caller, checked; messages never echo user info or a query."""
    name = TOKEN_URL_VARIABLE
    example = "e.g. https://host/api/v1/oauth2/token"
    try:
        url = httpx.URL(raw.strip())
    except httpx.InvalidURL:
        raise InputError(f"{name} is not a URL: set it to a token endpoint, {example}") from None
    if url.userinfo:
        raise InputError(
            f"{name} carries user info (user:password@): remove it; the client id and secret "
            "come from BWMIGRATE_CLIENT_ID and BWMIGRATE_CLIENT_SECRET"
        )
    if url.query or url.fragment:
        raise InputError(f"{name} has a query or fragment: give the token endpoint's plain URL")
    if url.scheme not in ("http", "https") or not url.host:
        raise InputError(f"{name} {url} is not an http(s) URL: {example}")
    if url.scheme == "http" and not is_loopback(url.host):
        raise InputError(
            f"{name} {url}: refusing to send client credentials over plain HTTP; use "
            "https:// (plain http is allowed only for loopback hosts)"
        )
    return str(url)


# --- URLs ---------------------------------------------------------------------------------------


V2_EXAMPLE = "https://api.bandwidth.com/api/v2"

# user info is what sits between "//" and the last "@" before the path, query or fragment
_USERINFO = re.compile(r"(?<=//)[^/?#]*@")


def redact_url(raw: str) -> str:
    """`raw` as it may be printed or stored: user info, query string and fragment removed (they
    may carry a password or a token), whether or not the rest parses as a URL."""
    text = _USERINFO.sub("", raw.strip(), count=1)
    return text.split("?", 1)[0].split("#", 1)[0]


def refuse_url_secrets(raw: str) -> None:
    """An `InputError` when the URL `raw` carries user info or a query string or fragment (where
    a password or a token would be echoed on screen and written to state and audit files)."""
    shown = redact_url(raw)
    if _USERINFO.search(raw.strip()):
        raise InputError(
            f"API URL {shown} carries user info (user:password@): remove it and put the "
            "credentials in the BWMIGRATE_* environment variables"
        )
    if "?" in raw or "#" in raw:
        raise InputError(
            f"API URL {shown} has a query string or fragment: remove it (a token there would be "
            "shown and logged); credentials come from the BWMIGRATE_* environment variables"
        )


def checked_base_url(base_url: str) -> httpx.URL:
    """`base_url` as an API base URL: http(s) with a host, https unless the host is loopback,
    no user info, no query string or fragment (a secret there would be echoed and logged).
    An `InputError` otherwise; its message never repeats user info or a query."""
    refuse_url_secrets(base_url)
    shown = redact_url(base_url)
    try:
        url = httpx.URL(base_url.strip())
    except httpx.InvalidURL as exc:
        raise InputError(f"invalid API URL {shown!r}: {exc}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise InputError(f"invalid API URL {shown!r}: expected e.g. {V2_EXAMPLE}")
    if url.scheme == "http" and not is_loopback(url.host):
        raise InputError(
            f"refusing plain HTTP to {shown}: credentials would cross the network "
            "unencrypted; use https:// (plain http is allowed only for loopback hosts)"
        )
    return url


def checked_v2_url(base_url: str) -> str:
    """`base_url` checked as `checked_base_url` does, and naming the v2 API (its path ends in
    /api/v2): the URL without a trailing slash. `run` and `plan --check` take nothing else."""
    url = checked_base_url(base_url)
    path = url.path.rstrip("/")
    if not path.lower().endswith("/api/v2"):
        raise InputError(
            f"{redact_url(base_url)}: its path is {path or '/'}, not the v2 API's base URL: pass "
            f"the URL ending in /api/v2, e.g. {V2_EXAMPLE}"
        )
    return base_url.strip().rstrip("/")


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
