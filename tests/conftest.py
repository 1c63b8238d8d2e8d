"""Shared fixtures: a real sandbox (the v2 API emulator) on 127.0.0.1, port 0.

One uvicorn server runs in a background thread for the whole session (starting one costs
~0.2 s); each test gets it reconfigured from scratch, so tests never see each other's orders.

    def test_something(sandbox, sandbox_client):
        sandbox.state.seed({"numbers": [{"number": "+19195550100"}]})
        r = sandbox_client.post("importTnOrders/messaging", content=body)

    def test_with_faults(sandbox_factory):
        sb = sandbox_factory(rate_limit_per_s=2, clock=ManualClock())
        ...

Fixtures:
- `sandbox`: the running sandbox (`RunningSandbox`: `.base_url`, `.state`, `.clock`,
  `.app.ledger`), default config with `order_delay_s=0` (orders complete on the next call).
- `sandbox_factory(config=None, *, clock=None, **changes)`: reconfigure the session's sandbox
  with `config` (default `SandboxConfig(order_delay_s=0)`) plus field changes
  (`rate_limit_per_s=5`, `faults=FaultConfig(...)`, ...) and an optional `ManualClock`; returns
  it. One configuration per test at a time: a second call replaces the first.
- `sandbox_credentials`: the `Credentials` it accepts (Basic sandbox/sandbox, OAuth2 client
  sandbox-client/sandbox-secret).
- `sandbox_account_url`: `{base_url}/api/v2/accounts/9900012`.
- `sandbox_client`: an `httpx.Client` on `sandbox_account_url` with Basic auth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from orchestrator.sandbox import RunningSandbox, SandboxConfig, start_sandbox
from orchestrator.sandbox.clock import Clock
from orchestrator.sandbox.config import DEFAULT_ACCOUNT_ID, Credentials

SANDBOX_ACCOUNT = DEFAULT_ACCOUNT_ID
TEST_CONFIG = SandboxConfig(order_delay_s=0.0)


@pytest.fixture(scope="session")
def _sandbox_server() -> Iterator[RunningSandbox]:
    """The session's one sandbox server (reconfigured per test by `sandbox`)."""
    running = start_sandbox(TEST_CONFIG)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def sandbox_factory(_sandbox_server: RunningSandbox) -> Callable[..., RunningSandbox]:
    """Reconfigure the running sandbox: `sandbox_factory(config=None, *, clock=None, **changes)`."""

    def configure(
        config: SandboxConfig | None = None, *, clock: Clock | None = None, **changes: Any
    ) -> RunningSandbox:
        config = (config or TEST_CONFIG).with_changes(**changes) if changes else config
        _sandbox_server.reconfigure(config or TEST_CONFIG, clock)
        return _sandbox_server

    return configure


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., RunningSandbox]) -> RunningSandbox:
    """A fresh default sandbox (orders complete at once, no faults, no rate limit)."""
    return sandbox_factory()


@pytest.fixture
def sandbox_credentials(sandbox: RunningSandbox) -> Credentials:
    """The credentials the sandbox accepts."""
    return sandbox.config.credentials


@pytest.fixture
def sandbox_account_url(sandbox: RunningSandbox) -> str:
    """The v2 base URL of the default account."""
    return f"{sandbox.base_url}/api/v2/accounts/{SANDBOX_ACCOUNT}"


@pytest.fixture
def sandbox_client(
    sandbox_account_url: str, sandbox_credentials: Credentials
) -> Iterator[httpx.Client]:
    """An httpx client on the default account's v2 URL, with Basic auth."""
    auth = (sandbox_credentials.username, sandbox_credentials.password)
    with httpx.Client(base_url=sandbox_account_url + "/", auth=auth, timeout=10.0) as client:
        yield client
