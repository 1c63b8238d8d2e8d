"""Who is calling: HTTP Basic, Bearer tokens, and the OAuth2 client-credentials token endpoint.

The sandbox accepts one API user and one OAuth2 client (see `config.Credentials`), valid for
every configured account. Tokens look like JWTs (unsigned; payload with `sub`, `accounts`,
`exp`) because some clients read the `accounts` claim; the sandbox only looks them up.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
from collections.abc import Mapping
from typing import Any

from orchestrator.sandbox.clock import Clock
from orchestrator.sandbox.config import Credentials


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode_basic(header: str | None) -> tuple[str, str] | None:
    """(user, password) from a `Basic` Authorization header, or None."""
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        raw = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = raw.partition(":")
    return (user, password) if sep else None


class Authenticator:
    """Checks credentials and issues/looks up Bearer tokens; thread-safe."""

    def __init__(self, credentials: Credentials, clock: Clock, token_expires_s: int) -> None:
        self.credentials = credentials
        self.clock = clock
        self.token_expires_s = token_expires_s
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}

    def reset(self) -> None:
        """Forget every issued token."""
        with self._lock:
            self._tokens.clear()

    def principal(self, header: str | None) -> str | None:
        """The caller's name for a valid Basic or unexpired Bearer header, else None."""
        if header and header[:7].lower() == "bearer ":
            token = header[7:].strip()
            with self._lock:
                expires_at = self._tokens.get(token)
            if expires_at is None or self.clock.now() >= expires_at:
                return None
            return self.credentials.client_id
        pair = decode_basic(header)
        c = self.credentials
        if pair is not None and secrets.compare_digest(
            f"{pair[0]}:{pair[1]}", f"{c.username}:{c.password}"
        ):
            return c.username
        return None

    def issue_token(
        self, header: str | None, form: Mapping[str, Any], accounts: list[str]
    ) -> tuple[int, dict[str, Any]]:
        """`POST /api/v1/oauth2/token`: (status, JSON body) per RFC 6749 §5."""
        pair = decode_basic(header)
        if pair is None:
            pair = (str(form.get("client_id", "")), str(form.get("client_secret", "")))
        c = self.credentials
        if not secrets.compare_digest(f"{pair[0]}:{pair[1]}", f"{c.client_id}:{c.client_secret}"):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        now = self.clock.now()
        expires_at = now + self.token_expires_s
        claims = {"sub": c.client_id, "accounts": accounts, "iat": int(now),
                  "exp": int(expires_at), "jti": secrets.token_hex(8)}  # fmt: skip
        token = ".".join(
            (
                _b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode()),
                _b64url(json.dumps(claims).encode()),
                _b64url(secrets.token_bytes(16)),
            )
        )
        with self._lock:
            self._tokens[token] = expires_at
        body = {"access_token": token, "expires_in": self.token_expires_s,
                "token_type": "Bearer", "scope": ""}  # fmt: skip
        return 200, body
