"""The wiring every command that talks to the API shares: one client, one request gate, and the
audit log on the client's exchange hook.

    access = ApiAccess(base_url, credentials, token_url)
    with open_audit(path, access, context={"command": "plan --check"}, session={...}) as log:
        async with open_api(access, account_id, rate_per_s=5.0, audit=log) as api:
            await check_imports(api.client, api.gate, plan)

`run` (through `orchestrator.cutover.cutover`), `plan --check`, `doctor` and `convert --from-api`
open their API this way, so the client, its pacing and its audit trail are built in one place.
The embedded sandbox's login is public (`ApiAccess.public`): it is not a secret to keep out of
the audit log (and its user name, "sandbox", is also the rehearsal target's name there).

Reads no environment and prints nothing: the CLI passes credentials in.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from orchestrator.api.client import ApiClient, Credentials, Exchange
from orchestrator.api.gate import RequestGate
from orchestrator.api.pacing import Aimd
from orchestrator.state.audit import AuditLog, secret_values


@dataclass(frozen=True, slots=True)
class ApiAccess:
    """Where an API is and who calls it.

    `token_url` is the only URL client credentials may be sent to (None: Bandwidth's token
    endpoint; Basic and Bearer credentials fetch no token). `public`: the credentials are an
    embedded sandbox's published login, not secrets.
    """

    base_url: str
    credentials: Credentials
    token_url: str | None = None
    public: bool = False

    def secrets(self) -> tuple[str, ...]:
        """What must never appear in an audit line for this access."""
        return () if self.public else secret_values(self.credentials)


@dataclass(frozen=True, slots=True)
class Api:
    """An open client and the gate every one of its requests goes through."""

    client: ApiClient
    gate: RequestGate


@contextlib.contextmanager
def open_audit(
    path: Path,
    access: ApiAccess | None,
    *,
    context: Mapping[str, Any],
    session: Mapping[str, Any],
) -> Iterator[AuditLog]:
    """An audit log at `path` that redacts `access`'s secrets (None: no credentials, nothing
    secret); closed on exit (a caller may close it earlier with the fields of its end line)."""
    secrets = access.secrets() if access is not None else ()
    log = AuditLog(path, context=context, session=session, secrets=secrets)
    try:
        yield log
    finally:
        log.close()


@contextlib.asynccontextmanager
async def open_api(
    access: ApiAccess,
    account_id: str,
    *,
    rate_per_s: float,
    audit: AuditLog | None = None,
    observe: Callable[[Exchange], None] | None = None,
    timeout_s: float = 30.0,
    connect_timeout_s: float = 10.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[Api]:
    """A client for `account_id` at `access`, with a burst-free gate at `rate_per_s`; every
    exchange goes to `audit` (and then to `observe`, for benches and tests). An unusable base
    URL, or client credentials without a token endpoint, is an `InputError` on entry."""
    client = ApiClient(
        access.base_url,
        account_id,
        access.credentials,
        token_url=access.token_url,
        timeout_s=timeout_s,
        connect_timeout_s=connect_timeout_s,
        transport=transport,
        on_exchange=_exchange_hook(audit, observe),
    )
    async with client:
        yield Api(client, RequestGate(Aimd(rate_per_s)))


def _exchange_hook(
    audit: AuditLog | None, observe: Callable[[Exchange], None] | None
) -> Callable[[Exchange], None] | None:
    """The client's `on_exchange`: the audit log first, then the observer (either may be absent)."""
    if audit is None or observe is None:
        return audit.record if audit is not None else observe
    record = audit.record

    def both(exchange: Exchange) -> None:
        record(exchange)
        observe(exchange)

    return both
