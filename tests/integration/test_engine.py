"""The engine against the sandbox over real HTTP, with a real SQLite state file.

Each test runs a plan to its end and then checks two independent witnesses: the state file's
per-number report, and the sandbox's own ledger and inventory (what the "API" really saw).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from engine_harness import (
    IMPORT_EXTRA,
    Harness,
    numbers_from,
    plan_text,
    seed_hosted,
    step,
)
from planfiles import IMPORT_DETAILS

from orchestrator.api.client import BasicCredentials, ClientCredentials
from orchestrator.plan import FailureThreshold
from orchestrator.sandbox import RunningSandbox
from orchestrator.sandbox.config import FaultConfig
from orchestrator.state.store import OrderState, Store


@pytest.fixture
def harness(sandbox: RunningSandbox, tmp_path: Path) -> Harness:
    return Harness(sandbox, tmp_path)


async def test_happy_path_all_three_kinds_and_the_chain(harness: Harness) -> None:
    """Import (+SMS on), remove and messaging-off all complete and change the inventory; the
    A2P follow-up on the imported numbers is refused (5128), which leaves SMS on and the numbers
    needing action, not failed."""
    imports = numbers_from("+1919991", 25)
    removes = numbers_from("+1415871", 12)
    sms_off = numbers_from("+1435215", 7)
    seed_hosted(harness.sandbox, removes, sms=True)
    seed_hosted(harness.sandbox, sms_off, sms=True)
    text = plan_text(
        step(
            "import",
            imports,
            IMPORT_EXTRA + "enable_messaging = true\n"
            'a2p = { message_class = "M", campaign_id = "CA3XKE1" }\n',
        )
        + step("remove", removes)
        + step("messaging", sms_off, 'sms = "off"\n')
    )
    outcome = await harness.run(text)
    assert outcome.reason == "done", outcome.message
    statuses = Counter((r.step, r.status) for r in harness.report)
    assert statuses == {
        ("import-1", "succeeded"): 25,
        ("import-1:sms-on", "succeeded"): 25,
        ("import-1:sms-on:a2p", "needs_action"): 25,
        ("remove-2", "succeeded"): 12,
        ("messaging-3", "succeeded"): 7,
    }
    inv = harness.inventory()
    assert all(inv[n]["kind"] == "imported" and inv[n]["sms_enabled"] for n in imports)
    assert not any(inv[n]["campaign_id"] for n in imports)  # hosted numbers: SMS only
    a2p_rows = [r for r in harness.report if r.step == "import-1:sms-on:a2p"]
    assert {r.error_code for r in a2p_rows} == {"5128"}
    assert all(
        r.note and r.note.startswith("SMS is on; A2P settings not applied") for r in a2p_rows
    )
    live = {c.name: c for c in outcome.progress.steps}  # the engine's own counters agree
    assert live["import-1:sms-on:a2p"].needs_action == 25
    assert all(n not in inv or inv[n]["kind"] != "imported" for n in removes)
    assert not any(inv[n]["sms_enabled"] for n in sms_off)
    imported = harness.ledger_orders("import")
    assert sorted(o["customer_order_id"][-9:] for o in imported) == [
        "I01-00000",
        "I01-00001",
        "I01-00002",
    ]
    assert sorted(len(o["numbers"]) for o in imported) == [5, 10, 10]  # the canary, the rest
    options = harness.ledger_orders("tnoptions")
    assert len(options) == 3 + 3 + 1  # 3 chained SMS on, 3 chained A2P, 1 messaging step
    suffixes = Counter(o["customer_order_id"].rsplit("-", 1)[-1] for o in options)
    assert (suffixes["M"], suffixes["A"]) == (3, 3)
    harness.assert_no_number_in_two_orders()


async def test_partial_and_failed_orders_split_per_number(harness: Harness) -> None:
    """Per-number API errors fail only those numbers with the API's code; the chain skips them."""
    imports = numbers_from("+1919991", 20)
    # orders: the 5-number canary (2 fail: PARTIAL), 10 (COMPLETE), 5 (all fail: FAILED)
    bad = imports[3:5] + imports[15:20]
    harness.sandbox.state.seed(
        {"failure_rules": [{"numbers": bad, "kind": "import", "code": 19006}]}
    )
    text = plan_text(step("import", imports, IMPORT_EXTRA + "enable_messaging = true\n"))
    outcome = await harness.run(text)
    assert outcome.reason == "done", outcome.message
    by = {(r.step, r.e164): r for r in harness.report}
    for n in imports:
        row, chained = by[("import-1", n)], by[("import-1:sms-on", n)]
        if n in bad:
            assert (row.status, row.error_code) == ("failed", "19006")
            assert row.error_description
            assert chained.status == "skipped" and chained.error_code == "19006"
        else:
            assert row.status == "succeeded" and chained.status == "succeeded"
    statuses = sorted(o["status"] for o in harness.ledger_orders("import"))
    assert statuses == ["COMPLETE", "FAILED", "PARTIAL"]
    chained_orders = harness.ledger_orders("tnoptions")
    assert sorted(sorted(o["numbers"]) for o in chained_orders) == [
        sorted(imports[:3]),
        sorted(imports[5:15]),
    ]


async def test_order_refused_at_create_fails_its_numbers_with_the_api_code(
    harness: Harness,
) -> None:
    """A 400 at create (unknown site, 7309) fails every number of the order; nothing is resent
    (no canary here: a refused canary stops the run instead, tests/integration/test_canary.py)."""
    imports = numbers_from("+1919991", 5)
    text = "canary = 0\n" + plan_text(step("import", imports, 'site_id = "999"\n' + IMPORT_DETAILS))
    outcome = await harness.run(text)
    assert outcome.reason == "done"
    assert {(r.status, r.error_code) for r in harness.report} == {("failed", "7309")}
    assert harness.ledger_orders() == []


async def test_429_storm_is_absorbed_without_duplicates(harness: Harness) -> None:
    """With 25% of requests answered 429, every number still ends once; 429s are counted."""
    harness.sandbox.reconfigure(
        harness.sandbox.config.with_changes(
            order_delay_s=0.0, seed=3, faults=FaultConfig(throttle_rate=0.25)
        ),
        None,
    )
    removes = numbers_from("+1415871", 40)
    seed_hosted(harness.sandbox, removes, sms=False)
    outcome = await harness.run(plan_text(step("remove", removes), batch_size=4))
    assert outcome.reason == "done", outcome.message
    assert {r.status for r in harness.report} == {"succeeded"}
    assert outcome.progress.rate_limited > 0
    assert (
        outcome.progress.rate_limited
        == harness.sandbox.app.ledger.to_json()["requests"]["rate_limited"]
    )
    harness.assert_no_number_in_two_orders()


async def test_5xx_faults_are_retried_and_reconciled(harness: Harness) -> None:
    """With 30% of requests answered 500, the run completes and no order is duplicated."""
    harness.sandbox.reconfigure(
        harness.sandbox.config.with_changes(
            order_delay_s=0.0, seed=5, faults=FaultConfig(error_rate=0.3)
        ),
        None,
    )
    imports = numbers_from("+1919991", 60)
    outcome = await harness.run(plan_text(step("import", imports, IMPORT_EXTRA)))
    assert outcome.reason == "done", outcome.message
    assert Counter(r.status for r in harness.report) == {"succeeded": 60}
    assert outcome.progress.retried > 0
    harness.assert_no_number_in_two_orders()
    assert {harness.inventory()[n]["imports"] for n in imports} == {1}


@pytest.mark.parametrize("mode", ["reset", "hang"])
async def test_drop_after_commit_never_duplicates_an_order(harness: Harness, mode: str) -> None:
    """Half of the creates are committed but their answer lost: each is adopted, never re-sent."""
    harness.sandbox.reconfigure(
        harness.sandbox.config.with_changes(
            order_delay_s=0.0,
            seed=11,
            faults=FaultConfig(drop_after_commit_rate=0.5, drop_mode=mode, hang_s=3.0),
        ),
        None,
    )
    imports = numbers_from("+1919991", 80)
    outcome = await harness.run(
        plan_text(step("import", imports, IMPORT_EXTRA), batch_size=8), timeout_s=0.5
    )
    assert outcome.reason == "done", outcome.message
    assert Counter(r.status for r in harness.report) == {"succeeded": 80}
    harness.assert_no_number_in_two_orders()
    assert {harness.inventory()[n]["imports"] for n in imports} == {1}
    by_status = harness.sandbox.app.ledger.to_json()["requests"]["by_status"]
    assert by_status.get("dropped", 0) + by_status.get("reset", 0) > 0, by_status


async def test_failure_threshold_aborts_before_burning_the_plan(harness: Harness) -> None:
    """When most finished numbers fail, the run aborts and later orders are never submitted."""
    imports = numbers_from("+1919991", 100)
    harness.sandbox.state.seed(
        {"failure_rules": [{"prefix": "+1919991", "kind": "import", "code": 19006}]}
    )
    outcome = await harness.run(
        plan_text(step("import", imports, IMPORT_EXTRA)),
        threshold=FailureThreshold(max_failed_percent=50, min_finished=20),
    )
    assert outcome.reason == "aborted"
    assert "failure threshold exceeded" in outcome.message
    assert len(harness.ledger_orders("import")) < 10
    assert Counter(r.status for r in harness.report)["pending"] > 0


async def test_interrupted_run_resumes_to_completion_without_resending(harness: Harness) -> None:
    """A run stopped after two orders resumes from the state file; nothing is posted twice."""
    imports = numbers_from("+1919991", 60)
    text = plan_text(step("import", imports, IMPORT_EXTRA + "enable_messaging = true\n"))
    first = await harness.run(text, stop_after_orders=2)
    assert first.reason == "interrupted"
    done_first = {o["customer_order_id"] for o in harness.ledger_orders()}
    assert 0 < len(done_first) < 12
    second = await harness.run(text)
    assert second.reason == "done", second.message
    assert Counter(r.status for r in harness.report) == {"succeeded": 120}
    harness.assert_no_number_in_two_orders()
    assert {harness.inventory()[n]["imports"] for n in imports} == {1}
    third = await harness.run(text)
    assert third.reason == "done" and third.progress.requests == 0


async def test_oauth2_client_credentials_drive_a_run(harness: Harness) -> None:
    """A run authenticated with OAuth2 client credentials (Bearer tokens) completes."""
    creds = harness.sandbox.config.credentials
    removes = numbers_from("+1415871", 5)
    seed_hosted(harness.sandbox, removes, sms=False)
    outcome = await harness.run(
        plan_text(step("remove", removes)),
        credentials=ClientCredentials(creds.client_id, creds.client_secret),
    )
    assert outcome.reason == "done"
    assert {r.status for r in harness.report} == {"succeeded"}


async def test_bad_credentials_abort_with_the_state_intact(harness: Harness) -> None:
    """Wrong credentials abort the run (exit 3 path); the orders stay resumable."""
    imports = numbers_from("+1919991", 5)
    text = plan_text(step("import", imports, IMPORT_EXTRA))
    outcome = await harness.run(text, credentials=BasicCredentials("sandbox", "wrong"))
    assert outcome.reason == "aborted" and "credentials" in outcome.message
    assert harness.ledger_orders() == []
    again = await harness.run(text)
    assert again.reason == "done"
    assert {r.status for r in harness.report} == {"succeeded"}


async def test_request_rate_stays_under_the_sandbox_limit(harness: Harness) -> None:
    """Paced at the sandbox's own limit, the run sees (almost) no 429s and never bursts."""
    harness.sandbox.reconfigure(
        harness.sandbox.config.with_changes(order_delay_s=0.0, rate_limit_per_s=20), None
    )
    removes = numbers_from("+1415871", 30)
    seed_hosted(harness.sandbox, removes, sms=False)
    outcome = await harness.run(plan_text(step("remove", removes), batch_size=3), rate_per_s=20)
    assert outcome.reason == "done"
    ledger = harness.sandbox.app.ledger.to_json()
    assert ledger["max_requests_in_any_1s_window"] <= 20
    assert ledger["requests"]["rate_limited"] <= 1


async def test_orders_the_api_no_longer_knows_are_left_for_the_next_run(harness: Harness) -> None:
    """Polls that keep failing (404 for a known id) end the run (aborted), never loop forever,
    and leave the order submitted in the state file instead of losing it."""
    harness.sandbox.reconfigure(harness.sandbox.config.with_changes(order_delay_s=60.0), None)
    imports = numbers_from("+1919991", 20)
    text = "canary = 0\n" + plan_text(step("import", imports, IMPORT_EXTRA))
    first = await harness.run(text, stop_when=lambda p: p.orders_submitted >= 2)
    assert first.reason == "interrupted"
    harness.sandbox.reconfigure(harness.sandbox.config, None)  # the API forgets every order
    second = await harness.run(text)
    assert second.reason == "aborted"
    assert "could not be placed or followed" in second.message
    store = Store.open(harness.state_path, readonly=True)
    try:
        submitted = store.orders(OrderState.SUBMITTED)
        assert submitted, "the orders were dropped from the state file"
        assert all(o.remote_id for o in submitted)
    finally:
        store.close()
    assert Counter(r.status for r in harness.report)["succeeded"] == 0


async def test_a_target_without_the_endpoint_aborts_without_failingnumbers_from(
    harness: Harness,
) -> None:
    """A 404 on create means a wrong target, not bad numbers: abort, fail nothing, send nothing,
    and leave the attempted canary order unsent (planned, its numbers pending), not waiting for a
    reconciliation."""
    imports = numbers_from("+1919991", 10)
    outcome = await harness.run(
        plan_text(step("import", imports, IMPORT_EXTRA)), base_path="/nope/api/v2"
    )
    assert outcome.reason == "aborted"
    assert "does not serve import orders" in outcome.message
    assert Counter(r.status for r in harness.report) == {"pending": 10}
    assert harness.ledger_orders() == []
