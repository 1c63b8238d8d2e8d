"""Which credentials a command sends, and where OAuth2 client credentials may go: the CLI's side
of `orchestrator.api.credentials.credentials_from_env` and `token_url_for`.

`BWMIGRATE_TOKEN_URL` is read here and nowhere else, and only with client credentials: it names
the token endpoint of a sandbox or private deployment. Without it, client credentials go only to
Bandwidth's token endpoint, and a target that is not a Bandwidth host is refused (exit 2) before
anything is opened or sent. The embedded sandbox brings its own login and token URL
(`orchestrator.cutover.rehearsal.serve_sandbox`); it logs in with its public Basic user, so no
token is fetched today.
"""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator.api.credentials import (
    TOKEN_URL_VARIABLE,
    ClientCredentials,
    Credentials,
    checked_base_url,
    checked_v2_url,
    credentials_from_env,
    token_url_for,
)
from orchestrator.cutover.connection import ApiAccess


def live_access(environ: Mapping[str, str], base_url: str, *, v2: bool = True) -> ApiAccess:
    """`base_url` with the `BWMIGRATE_*` credentials. An `InputError` (exit 2), before anything
    is opened, when the URL is unusable (not https outside loopback, user info, a query string,
    or, with `v2`, a path not ending in /api/v2), when no credentials are set, or when client
    credentials would have no Bandwidth token endpoint."""
    if v2:
        base_url = checked_v2_url(base_url)
    else:
        checked_base_url(base_url)
    credentials = credentials_from_env(environ)
    return ApiAccess(base_url, credentials, token_url_from_env(environ, base_url, credentials))


def token_url_from_env(
    environ: Mapping[str, str], target: str, credentials: Credentials
) -> str | None:
    """Where `credentials` may fetch tokens for `target`: `BWMIGRATE_TOKEN_URL` when set, else
    Bandwidth's token endpoint; None for Basic or Bearer credentials (no token is fetched)."""
    if not isinstance(credentials, ClientCredentials):
        return None
    return token_url_for(target, environ.get(TOKEN_URL_VARIABLE) or None)
