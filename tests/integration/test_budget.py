"""A run's budget beside the customer's live traffic: the sandbox limits the account as a
whole (every client's requests count), a run whose plan states the account's limit and its
share keeps to that share, and live traffic beside it is not starved."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from engine_harness import ACCOUNT, Harness, numbers_from, plan_text, seed_hosted, step

from orchestrator.sandbox import RunningSandbox
from orchestrator.state.store import Store

LIMIT_PER_S = 10.0


@pytest.fixture
def harness(sandbox: RunningSandbox, tmp_path: Path) -> Harness:
    config = sandbox.config.with_changes(order_delay_s=0.05, rate_limit_per_s=LIMIT_PER_S)
    sandbox.reconfigure(config, None)
    return Harness(sandbox, tmp_path)


class LiveTraffic:
    """Another program on the same account: a list read every `every_s` until stopped."""

    def __init__(self, sandbox: RunningSandbox, every_s: float) -> None:
        creds = sandbox.config.credentials
        self._client = httpx.Client(
            base_url=f"{sandbox.base_url}/api/v2/accounts/{ACCOUNT}/",
            auth=(creds.username, creds.password),
            headers={"User-Agent": "livetraffic/1.0"},
            timeout=10.0,
        )
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self._every_s):
            self._client.get("removeImportedTnOrders/messaging")

    def __enter__(self) -> LiveTraffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10.0)
        self._client.close()


def _clients(sandbox: RunningSandbox) -> dict[str, Any]:
    ledger = httpx.get(f"{sandbox.base_url}/_sandbox/ledger").json()
    return dict(ledger["clients"])


@pytest.fixture
def removals(harness: Harness) -> Iterator[list[str]]:
    numbers = numbers_from("+1415871", 40)
    seed_hosted(harness.sandbox, numbers, sms=False)
    yield numbers


async def test_a_run_keeps_to_its_share_and_live_traffic_is_not_starved(
    harness: Harness, removals: list[str]
) -> None:
    """Account limit 10 req/s, the run's share 50 %, live traffic at 2.5 req/s beside it: the
    run never has more than its share (+1 at a window's edge) in any second, live traffic gets
    no 429, every number ends once, and the state file shows the share in use."""
    text = plan_text(
        "[rate]\naccount_limit_per_s = 10\nshare = 0.5\n" + step("remove", removals), 2
    )
    with LiveTraffic(harness.sandbox, every_s=0.4):
        outcome = await harness.run(text, rate_per_s=None, timeout_s=10)
    assert outcome.reason == "done", outcome.message
    assert {r.status for r in harness.report} == {"succeeded"}
    clients = _clients(harness.sandbox)
    run, live = clients["bwmigrate"], clients["livetraffic"]
    assert run["max_requests_in_any_1s_window"] <= 5 + 1
    assert live["total"] >= 3 and live["rate_limited"] == 0
    store = Store.open(harness.state_path, readonly=True)
    try:
        budget = json.loads(store.meta()["budget"])
    finally:
        store.close()
    assert (budget["account_limit_per_s"], budget["share_per_s"]) == (10.0, 5.0)
    harness.assert_no_number_in_two_orders()
