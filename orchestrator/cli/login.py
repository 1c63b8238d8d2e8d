"""Which credentials a command sends, and where OAuth2 client credentials may go: the CLI's side
of `orchestrator.api.credentials.credentials_from_env` and `token_url_for`.

`BWMIGRATE_TOKEN_URL` is read here and nowhere else, and only with client credentials: it names
the token endpoint of a sandbox or private deployment. Without it, client credentials go only to
Bandwidth's token endpoint, and a target that is not a Bandwidth host is refused (exit 2) before
anything is opened or sent. The embedded sandbox passes its own token URL in code
(`sandbox_login`); it logs in with its public Basic user, so no token is fetched today.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from orchestrator.api.credentials import (
    TOKEN_URL_VARIABLE,
    BasicCredentials,
    ClientCredentials,
    Credentials,
    credentials_from_env,
    token_url_for,
)


@dataclass(frozen=True, slots=True)
class Login:
    """Credentials, and the only URL client credentials may be sent to (None: no token)."""

    credentials: Credentials
    token_url: str | None = None


def live_login(environ: Mapping[str, str], target: str) -> Login:
    """The `BWMIGRATE_*` credentials for API calls to `target` (an `InputError`, exit 2, when
    none are set, or when client credentials would have no Bandwidth token endpoint)."""
    credentials = credentials_from_env(environ)
    return Login(credentials, token_url_from_env(environ, target, credentials))


def token_url_from_env(
    environ: Mapping[str, str], target: str, credentials: Credentials
) -> str | None:
    """Where `credentials` may fetch tokens for `target`: `BWMIGRATE_TOKEN_URL` when set, else
    Bandwidth's token endpoint; None for Basic or Bearer credentials (no token is fetched)."""
    if not isinstance(credentials, ClientCredentials):
        return None
    return token_url_for(target, environ.get(TOKEN_URL_VARIABLE) or None)


def sandbox_login(base_url: str, username: str, password: str) -> Login:
    """The login of an embedded sandbox serving at `base_url` (`http://127.0.0.1:PORT`): its
    public Basic user, and its own token endpoint as the token URL."""
    from orchestrator.sandbox.app import TOKEN_PATH  # the sandbox is running, so imported

    return Login(BasicCredentials(username, password), f"{base_url}{TOKEN_PATH}")
