"""The engine against the sandbox over real HTTP, with a real SQLite state file.

Each test runs a plan to its end and then checks two independent witnesses: the state file's
per-number report, and the sandbox's own ledger and inventory (what the "API" really saw).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestrator.client import ApiClient, BasicCredentials, ClientCredentials
from orchestrator.engine import Engine, EngineSettings, Progress, RunOutcome
from orchestrator.limits import Aimd, Backoff, RequestGate, set_testing
from orchestrator.plan import FailureThreshold, compile_plan, parse_plan
from orchestrator.sandbox import RunningSandbox
from orchestrator.sandbox.config import FaultConfig
from orchestrator.store import OrderState, Store

ACCOUNT = "9900012"


def _numbers(prefix: str, count: int) -> list[str]:
    """`count` valid NANP numbers in one exchange, e.g. prefix +1919991."""
    return [f"{prefix}{i:04d}" for i in range(count)]


def _plan_text(steps: str, batch_size: int = 10) -> str:
    return f'name = "engine-test"\naccount_id = "{ACCOUNT}"\nbatch_size = {batch_size}\n' + steps


def _step(kind: str, numbers: list[str], extra: str = "") -> str:
    quoted = ", ".join(f'"{n}"' for n in numbers)
    return f'[[steps]]\nkind = "{kind}"\n{extra}numbers = [{quoted}]\n'


IMPORT_EXTRA = 'site_id = "743"\nsip_peer_id = "303716"\nloa_type = "CARRIER"\n'


class Harness:
    """Runs the engine on a plan against the sandbox and exposes both witnesses."""

    def __init__(self, sandbox: RunningSandbox, tmp_path: Path) -> None:
        self.sandbox = sandbox
        self.state_path = tmp_path / "state.db"
        self.seen: list[Progress] = []

    def prepare(self, text: str) -> Store:
        plan = compile_plan(parse_plan(text, "plan.toml"), lambda name: b"")
        store = Store.open(self.state_path)
        store.initialize(plan, text, now=0.0)
        return store

    async def run(
        self,
        text: str,
        *,
        threshold: FailureThreshold | None = None,
        credentials: Any = None,
        rate_per_s: float = 500.0,
        stop_after_orders: int | None = None,
        timeout_s: float = 5.0,
        base_path: str = "/api/v2",
        stop_when: Callable[[Progress], bool] | None = None,
    ) -> RunOutcome:
        store = self.prepare(text)
        creds = self.sandbox.config.credentials
        credentials = credentials or BasicCredentials(creds.username, creds.password)
        settings = EngineSettings(
            max_orders_in_flight=4,
            poll_interval_s=0.01,
            poll_cap_s=0.05,
            failure_threshold=threshold or FailureThreshold(100.0, 0),
            seed=1,
        )
        gate = RequestGate(Aimd(rate_per_s))

        try:
            async with ApiClient(
                f"{self.sandbox.base_url}{base_path}",
                ACCOUNT,
                credentials,
                token_url=f"{self.sandbox.base_url}/api/v1/oauth2/token",
                timeout_s=timeout_s,
            ) as client:
                engine: Engine

                def on_progress(p: Progress) -> None:
                    self.seen.append(p)
                    if stop_after_orders is not None and p.orders_terminal >= stop_after_orders:
                        engine.request_stop()
                    if stop_when is not None and stop_when(p):
                        engine.request_stop()

                engine = Engine(
                    store,
                    client,
                    gate,
                    settings,
                    on_progress=on_progress,
                    backoff=Backoff(base_s=0.01, cap_s=0.05, max_attempts=8),
                )
                return await engine.run()
        finally:
            self.report = list(store.iter_report())
            self.counts = {c.name: c for c in store.counts()}
            store.close()

    def ledger_orders(self, kind: str | None = None) -> list[dict[str, Any]]:
        orders = self.sandbox.state.ledger_orders()
        return [o for o in orders if kind is None or o["kind"] == kind]

    def assert_no_number_in_two_orders(self) -> None:
        """The exactly-once witness: per kind, every number sits in at most one accepted order."""
        for kind in ("import", "remove", "tnoptions"):
            seen = Counter(n for o in self.ledger_orders(kind) for n in o["numbers"])
            twice = {n: c for n, c in seen.items() if c > 1}
            assert not twice, f"{kind}: numbers in two orders: {sorted(twice)[:5]}"

    def inventory(self) -> dict[str, dict[str, Any]]:
        return {r["number"]: r for r in self.sandbox.state.inventory_json()}


@pytest.fixture
def harness(sandbox: RunningSandbox, tmp_path: Path) -> Harness:
    return Harness(sandbox, tmp_path)


@pytest.fixture(autouse=True)
def _no_backoff_sleeps() -> Any:
    set_testing(True)
    yield
    set_testing(False)


def _seed_hosted(sandbox: RunningSandbox, numbers: list[str], sms: bool) -> None:
    sandbox.state.seed(
        {
            "numbers": [
                {
                    "number": n,
                    "kind": "imported",
                    "account": ACCOUNT,
                    "site": "743",
                    "sip_peer": "303716",
                    "sms_enabled": sms,
                }
                for n in numbers
            ]
        }
    )


async def test_happy_path_all_three_kinds_and_the_chain(harness: Harness) -> None:
    """Import (+SMS on), remove and messaging-off all complete and change the inventory."""
    imports = _numbers("+1919991", 25)
    removes = _numbers("+1415871", 12)
    sms_off = _numbers("+1435215", 7)
    _seed_hosted(harness.sandbox, removes, sms=True)
    _seed_hosted(harness.sandbox, sms_off, sms=True)
    text = _plan_text(
        _step(
            "import",
            imports,
            IMPORT_EXTRA + "enable_messaging = true\n"
            'a2p = { message_class = "M", campaign_id = "CA3XKE1" }\n',
        )
        + _step("remove", removes)
        + _step("messaging", sms_off, 'sms = "off"\n')
    )
    outcome = await harness.run(text)
    assert outcome.reason == "done", outcome.message
    statuses = Counter((r.step, r.status) for r in harness.report)
    assert statuses == {
        ("import-1", "succeeded"): 25,
        ("import-1:sms-on", "succeeded"): 25,
        ("remove-2", "succeeded"): 12,
        ("messaging-3", "succeeded"): 7,
    }
    inv = harness.inventory()
    assert all(inv[n]["kind"] == "imported" and inv[n]["sms_enabled"] for n in imports)
    assert {inv[n]["campaign_id"] for n in imports} == {"CA3XKE1"}
    assert all(n not in inv or inv[n]["kind"] != "imported" for n in removes)
    assert not any(inv[n]["sms_enabled"] for n in sms_off)
    assert sorted(o["customer_order_id"][-9:] for o in harness.ledger_orders("import")) == [
        "I01-00000",
        "I01-00001",
        "I01-00002",
    ]
    assert len(harness.ledger_orders("tnoptions")) == 3 + 1  # 3 chained + 1 messaging step
    harness.assert_no_number_in_two_orders()


async def test_partial_and_failed_orders_split_per_number(harness: Harness) -> None:
    """Per-number API errors fail only those numbers with the API's code; the chain skips them."""
    imports = _numbers("+1919991", 20)
    bad = imports[3:5] + imports[10:20]  # order 0: 2 of 10 fail (PARTIAL); order 1: all (FAILED)
    harness.sandbox.state.seed(
        {"failure_rules": [{"numbers": bad, "kind": "import", "code": 19006}]}
    )
    text = _plan_text(_step("import", imports, IMPORT_EXTRA + "enable_messaging = true\n"))
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
    assert statuses == ["FAILED", "PARTIAL"]
    chained_orders = harness.ledger_orders("tnoptions")
    assert [sorted(o["numbers"]) for o in chained_orders] == [sorted(set(imports[:10]) - set(bad))]


async def test_order_refused_at_create_fails_its_numbers_with_the_api_code(
    harness: Harness,
) -> None:
    """A 400 at create (unknown site, 7309) fails every number of the order; nothing is resent."""
    imports = _numbers("+1919991", 5)
    text = _plan_text(_step("import", imports, 'site_id = "999"\n'))
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
    removes = _numbers("+1415871", 40)
    _seed_hosted(harness.sandbox, removes, sms=False)
    outcome = await harness.run(_plan_text(_step("remove", removes), batch_size=4))
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
    imports = _numbers("+1919991", 60)
    outcome = await harness.run(_plan_text(_step("import", imports, IMPORT_EXTRA)))
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
    imports = _numbers("+1919991", 80)
    outcome = await harness.run(
        _plan_text(_step("import", imports, IMPORT_EXTRA), batch_size=8), timeout_s=0.5
    )
    assert outcome.reason == "done", outcome.message
    assert Counter(r.status for r in harness.report) == {"succeeded": 80}
    harness.assert_no_number_in_two_orders()
    assert {harness.inventory()[n]["imports"] for n in imports} == {1}
    by_status = harness.sandbox.app.ledger.to_json()["requests"]["by_status"]
    assert by_status.get("dropped", 0) + by_status.get("reset", 0) > 0, by_status


async def test_failure_threshold_aborts_before_burning_the_plan(harness: Harness) -> None:
    """When most finished numbers fail, the run aborts and later orders are never submitted."""
    imports = _numbers("+1919991", 100)
    harness.sandbox.state.seed(
        {"failure_rules": [{"prefix": "+1919991", "kind": "import", "code": 19006}]}
    )
    outcome = await harness.run(
        _plan_text(_step("import", imports, IMPORT_EXTRA)),
        threshold=FailureThreshold(max_failed_percent=50, min_finished=20),
    )
    assert outcome.reason == "aborted"
    assert "failure threshold exceeded" in outcome.message
    assert len(harness.ledger_orders("import")) < 10
    assert Counter(r.status for r in harness.report)["pending"] > 0


async def test_interrupted_run_resumes_to_completion_without_resending(harness: Harness) -> None:
    """A run stopped after two orders resumes from the state file; nothing is posted twice."""
    imports = _numbers("+1919991", 60)
    text = _plan_text(_step("import", imports, IMPORT_EXTRA + "enable_messaging = true\n"))
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
    removes = _numbers("+1415871", 5)
    _seed_hosted(harness.sandbox, removes, sms=False)
    outcome = await harness.run(
        _plan_text(_step("remove", removes)),
        credentials=ClientCredentials(creds.client_id, creds.client_secret),
    )
    assert outcome.reason == "done"
    assert {r.status for r in harness.report} == {"succeeded"}


async def test_bad_credentials_abort_with_the_state_intact(harness: Harness) -> None:
    """Wrong credentials abort the run (exit 3 path); the orders stay resumable."""
    imports = _numbers("+1919991", 5)
    text = _plan_text(_step("import", imports, IMPORT_EXTRA))
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
    removes = _numbers("+1415871", 30)
    _seed_hosted(harness.sandbox, removes, sms=False)
    outcome = await harness.run(_plan_text(_step("remove", removes), batch_size=3), rate_per_s=20)
    assert outcome.reason == "done"
    ledger = harness.sandbox.app.ledger.to_json()
    assert ledger["max_requests_in_any_1s_window"] <= 20
    assert ledger["requests"]["rate_limited"] <= 1


async def test_orders_the_api_no_longer_knows_are_left_for_the_next_run(harness: Harness) -> None:
    """Polls that keep failing (404 for a known id) end the run (aborted), never loop forever,
    and leave the order submitted in the state file instead of losing it."""
    harness.sandbox.reconfigure(harness.sandbox.config.with_changes(order_delay_s=60.0), None)
    imports = _numbers("+1919991", 20)
    text = _plan_text(_step("import", imports, IMPORT_EXTRA))
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


async def test_a_target_without_the_endpoint_aborts_without_failing_numbers(
    harness: Harness,
) -> None:
    """A 404 on create means a wrong target, not bad numbers: abort, fail nothing, send nothing."""
    imports = _numbers("+1919991", 10)
    outcome = await harness.run(
        _plan_text(_step("import", imports, IMPORT_EXTRA)), base_path="/nope/api/v2"
    )
    assert outcome.reason == "aborted"
    assert "does not serve import orders" in outcome.message
    assert Counter(r.status for r in harness.report) == {"in_order": 10}
    assert harness.ledger_orders() == []
