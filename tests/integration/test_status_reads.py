"""Batched status reads (`orchestrator.cutover.status_reader`) against the sandbox over real
HTTP: open orders learn their status from shared order-list reads; an order is read by id only
when its per-number outcome is needed or the list does not show it."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from engine_harness import IMPORT_EXTRA, Harness, numbers_from, plan_text, step

from orchestrator.api.client import Exchange
from orchestrator.sandbox import RunningSandbox
from orchestrator.sandbox.config import FaultConfig

_BY_ID = re.compile(r"/importTnOrders/messaging/[0-9a-f-]{36}$")
_LIST = re.compile(r"/importTnOrders/messaging$")


@pytest.fixture
def harness(sandbox: RunningSandbox, tmp_path: Path) -> Harness:
    return Harness(sandbox, tmp_path)


class Exchanges:
    """What the client sent, by kind of request."""

    def __init__(self) -> None:
        self.seen: list[Exchange] = []

    def __call__(self, x: Exchange) -> None:
        self.seen.append(x)

    def count(self, method: str, pattern: re.Pattern[str]) -> int:
        return sum(1 for x in self.seen if x.method == method and pattern.search(x.path))

    def read_by_id(self) -> set[str]:
        return {
            x.path.rsplit("/", 1)[1]
            for x in self.seen
            if x.method == "GET" and _BY_ID.search(x.path)
        }


def _slow_orders(harness: Harness, delay_s: float = 0.15, **faults: float) -> None:
    config = harness.sandbox.config.with_changes(
        order_delay_s=delay_s, faults=FaultConfig(**faults)
    )
    harness.sandbox.reconfigure(config, None)


async def test_complete_orders_are_never_read_one_by_one(harness: Harness) -> None:
    """Nine orders that end COMPLETE: no GET by id at all; the list is read fewer times than
    there are orders (one read serves every order waking within half a poll interval of it);
    every number succeeded."""
    _slow_orders(harness)
    seen = Exchanges()
    imports = numbers_from("+1919991", 45)
    text = plan_text(step("import", imports, IMPORT_EXTRA), 5)
    outcome = await harness.run(text, observe=seen, poll_interval_s=0.2)
    assert outcome.reason == "done", outcome.message
    assert Counter(r.status for r in harness.report) == {"succeeded": 45}
    assert seen.count("POST", _LIST) == 9
    assert seen.read_by_id() == set()
    assert 0 < seen.count("GET", _LIST) < 9
    harness.assert_no_number_in_two_orders()


async def test_per_order_polling_is_still_there_as_the_baseline(harness: Harness) -> None:
    """`status_reads = "per_order"` reads every order by id (the former polling); the list is
    read only once, before the first POST, by the check that the target is the v2 API."""
    _slow_orders(harness)
    seen = Exchanges()
    imports = numbers_from("+1919991", 15)
    text = plan_text(step("import", imports, IMPORT_EXTRA), 5)
    outcome = await harness.run(text, observe=seen, status_reads="per_order")
    assert outcome.reason == "done", outcome.message
    assert len(seen.read_by_id()) == 3
    assert seen.count("GET", _LIST) == 1  # cutover/target_check.py, not a status read


async def test_partial_and_failed_orders_are_read_by_id_for_their_numbers(harness: Harness) -> None:
    """The canary ends PARTIAL, the next order COMPLETE, the last FAILED: exactly the PARTIAL
    and FAILED ones are read by id, and their numbers fail with the API's code."""
    _slow_orders(harness)
    imports = numbers_from("+1919991", 20)
    bad = imports[3:5] + imports[15:20]
    harness.sandbox.state.seed(
        {"failure_rules": [{"numbers": bad, "kind": "import", "code": 19006}]}
    )
    seen = Exchanges()
    text = plan_text(step("import", imports, IMPORT_EXTRA))
    outcome = await harness.run(text, observe=seen)
    assert outcome.reason == "done", outcome.message
    by_status = {o["status"]: o["order_id"] for o in harness.ledger_orders("import")}
    assert sorted(by_status) == ["COMPLETE", "FAILED", "PARTIAL"]
    assert seen.read_by_id() == {by_status["PARTIAL"], by_status["FAILED"]}
    for row in harness.report:
        expected = ("failed", "19006") if row.e164 in bad else ("succeeded", None)
        assert (row.status, row.error_code) == expected


async def test_a_poll_cap_under_ten_milliseconds_still_reads_an_unlisted_order(
    harness: Harness,
) -> None:
    """The by-id fallback's schedule stays valid when the run's poll cap is below its 10 ms first
    delay (before: `PollSchedule` refused it with a ValueError and the run crashed)."""
    _slow_orders(harness, list_lag_s=30.0)
    imports = numbers_from("+1919991", 4)
    text = plan_text(step("import", imports, IMPORT_EXTRA), 4)
    outcome = await harness.run(
        text, visibility_window_s=0.05, poll_interval_s=0.001, poll_cap_s=0.002
    )
    assert outcome.reason == "done", outcome.message
    assert Counter(r.status for r in harness.report) == {"succeeded": 4}


async def test_an_order_the_list_does_not_show_is_read_by_id(harness: Harness) -> None:
    """Lists that lag 30 s behind: after the visibility window each order is read by id, so
    the run still ends (a list that never shows an order delays it, never loses it)."""
    _slow_orders(harness, list_lag_s=30.0)
    seen = Exchanges()
    imports = numbers_from("+1919991", 10)
    text = plan_text(step("import", imports, IMPORT_EXTRA), 5)
    outcome = await harness.run(text, observe=seen, visibility_window_s=0.2)
    assert outcome.reason == "done", outcome.message
    assert Counter(r.status for r in harness.report) == {"succeeded": 10}
    assert len(seen.read_by_id()) == 2
