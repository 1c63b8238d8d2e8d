"""Authorization for the v2 API: the header each request carries, and OAuth2 tokens.

Basic and Bearer credentials give their header as they are. OAuth2 client credentials give a
Bearer token fetched from the token URL `orchestrator.api.credentials.token_url_for` named,
refreshed when due (less than `REFRESH_MARGIN_S` left, or half its lifetime if shorter) and
when the API refused it (`refresh(rejected=...)`: one fetch however many tasks saw the 401).
The token endpoint's answer has its own error mapping: 429 is `RateLimitedError`, 5xx and a
failed request `RequestNotSentError` (the API call that needed the token was not sent), any
other refusal an `AuthError` naming what to check.

The token request goes out through the client (`post_token`: reported as an exchange, its
answer withheld); this module opens no connection. Secrets never
appear in a repr or a message. Must not read the environment, print or sleep.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx

from orchestrator.api.answer import Call
from orchestrator.api.credentials import (
    TOKEN_URL_VARIABLE,
    BasicCredentials,
    ClientCredentials,
    Credentials,
    TokenCredentials,
)
from orchestrator.api.pacing import retry_at_from_headers
from orchestrator.errors import (
    AuthError,
    RateLimitedError,
    RequestNotSentError,
    TransientApiError,
    one_line,
)

__all__ = [
    "DEFAULT_EXPIRES_IN_S",
    "REFRESH_MARGIN_S",
    "Authorizer",
    "PostToken",
    "Token",
    "basic_header",
    "read_token",
]

DEFAULT_EXPIRES_IN_S = 3600.0
REFRESH_MARGIN_S = 60.0
"""Refresh a token when less than this remains (or half its lifetime, if that is shorter)."""

PostToken = Callable[[ClientCredentials, str], Awaitable[httpx.Response]]
"""Sends the token request for these client credentials to this URL; the raw answer."""


class Authorizer:
    """The Authorization header of every request made with one set of credentials.

    `token_url` is where client credentials go (None for Basic and Bearer credentials);
    `post_token` sends the token request; `clock` (monotonic seconds) says when a token is due.
    """

    def __init__(
        self,
        credentials: Credentials,
        token_url: str | None,
        post_token: PostToken,
        clock: Callable[[], float],
    ) -> None:
        self._credentials = credentials
        self._token_url = token_url
        self._post_token = post_token
        self._clock = clock
        self.token: Token | None = None
        self._lock = anyio.Lock()

    @property
    def refreshes(self) -> bool:
        """Whether a refused header may be replaced (OAuth2 client credentials only)."""
        return isinstance(self._credentials, ClientCredentials)

    async def header(self, call: Call) -> str:
        """The Authorization header value for `call` (fetching a token when none is fresh)."""
        creds = self._credentials
        if isinstance(creds, BasicCredentials):
            return basic_header(creds.username, creds.password)
        if isinstance(creds, TokenCredentials):
            return f"Bearer {creds.token}"
        token = self.token
        if token is None or token.is_stale(self._clock()):
            token = await self.refresh(call, rejected=None)
        return f"Bearer {token.value}"

    async def refresh(self, call: Call, *, rejected: str | None) -> Token:
        """Fetch a token unless another task already replaced the stale or rejected one."""
        async with self._lock:
            current = self.token
            fresh = current is not None and not current.is_stale(self._clock())
            if current is not None and fresh and f"Bearer {current.value}" != rejected:
                return current
            self.token = await self._fetch(call)
            return self.token

    async def _fetch(self, about: Call) -> Token:
        creds = self._credentials
        assert isinstance(creds, ClientCredentials) and self._token_url is not None
        try:
            response = await self._post_token(creds, self._token_url)
        except TransientApiError as exc:
            raise RequestNotSentError(
                f"{about.describe()} not sent: the OAuth2 token request failed ({exc})"
            ) from exc
        return read_token(response, about, self._token_url, self._clock())


@dataclass(frozen=True, slots=True)
class Token:
    """An OAuth2 access token and when to refresh it (the value never shows in a repr)."""

    value: str = field(repr=False)
    refresh_at: float  # on the client's monotonic clock

    def is_stale(self, now: float) -> bool:
        """Whether the token is due for a refresh at `now`."""
        return now >= self.refresh_at


def read_token(response: httpx.Response, about: Call, token_url: str, now: float) -> Token:
    """The token in the token endpoint's answer, or the error the answer means for `about`
    (the API call that needed the token, which was not sent)."""
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
    return Token(value, now + lifetime_s - margin_s)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def basic_header(username: str, password: str) -> str:
    """The Basic Authorization header value for a username and password."""
    pair = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")
