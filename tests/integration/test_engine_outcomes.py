"""What order statuses mean, and how a lost answer is reconciled when order lists lag.

- EXCEPTION ends an import order as a failure with the API's message, never a success.
- A status bwmigrate does not know is never success: polled on, then the numbers are `unknown`.
- An order whose create answer was lost is found again even when lists show it late; posting
  again on the first empty lookup would duplicate it (the negative control shows the witness).
"""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import anyio
import pytest
from asgi_peer import serve_asgi
from engine_harness import IMPORT_EXTRA, Harness, numbers_from, plan_text, step
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from orchestrator.api.client import BasicCredentials
from orchestrator.api.pacing import Backoff
from orchestrator.cutover.cutover import Cutover, LiveTarget, Tuning
from orchestrator.cutover.engine import EngineSettings
from orchestrator.cutover.outcome import MAX_UNKNOWN_POLLS
from orchestrator.plan import compile_plan, parse_plan
from orchestrator.sandbox import RunningSandbox
from orchestrator.sandbox.config import FaultConfig
from orchestrator.state.store import Store


@pytest.fixture
def harness(sandbox: RunningSandbox, tmp_path: Path) -> Harness:
    return Harness(sandbox, tmp_path)


async def test_an_import_order_ending_in_exception_fails_its_numbers(harness: Harness) -> None:
    """EXCEPTION is a failure with the API's code and description; the chained SMS order is
    never sent for those numbers, which are skipped down the chain."""
    imports = numbers_from("+1919991", 15)
    harness.sandbox.state.seed(
        {
            "failure_rules": [
                {
                    "numbers": imports[5:6],
                    "kind": "import",
                    "code": 1010,
                    "description": "Something unexpected happened",
                    "status": "EXCEPTION",
                }
            ]
        }
    )
    text = "canary = 0\n" + plan_text(
        step("import", imports, IMPORT_EXTRA + "enable_messaging = true\n")
    )
    outcome = await harness.run(text)
    assert outcome.reason == "done", outcome.message
    statuses = sorted(o["status"] for o in harness.ledger_orders("import"))
    assert statuses == ["COMPLETE", "EXCEPTION"]
    rows = {(r.step, r.e164): r for r in harness.report}
    for n in imports:
        imported, sms = rows[("import-1", n)], rows[("import-1:sms-on", n)]
        if n in imports[:10]:  # the order holding imports[5] ended EXCEPTION
            assert (imported.status, imported.error_code) == ("failed", "1010")
            assert "unexpected" in (imported.error_description or "")
            assert sms.status == "skipped"
        else:
            assert imported.status == sms.status == "succeeded"
    assert not any(harness.inventory().get(n, {}).get("kind") == "imported" for n in imports[:10])


def _unknown_status_api(status: str) -> tuple[Starlette, list[str]]:
    """A peer that accepts a removal order and then reports it in a status nobody documents."""
    seen: list[str] = []
    ids = itertools.count(1)

    async def create(request: Request) -> Response:
        seen.append("POST")
        order_id = f"00000000-0000-4000-8000-{next(ids):012d}"
        body = (
            "<RemoveImportedTnOrdersResponse><RemoveImportedTnOrder>"
            f"<OrderId>{order_id}</OrderId><ProcessingStatus>PROCESSING</ProcessingStatus>"
            "</RemoveImportedTnOrder></RemoveImportedTnOrdersResponse>"
        )
        return Response(body, 201, media_type="application/xml")

    async def get(request: Request) -> Response:
        seen.append("GET")
        order_id = request.path_params["order_id"]
        body = (
            f"<RemoveImportedTnOrder><OrderId>{order_id}</OrderId>"
            f"<ProcessingStatus>{status}</ProcessingStatus></RemoveImportedTnOrder>"
        )
        return Response(body, 200, media_type="application/xml")

    base = "/api/v2/accounts/9900012/removeImportedTnOrders/messaging"
    routes = [
        Route(base, create, methods=["POST"]),
        Route(base + "/{order_id}", get, methods=["GET"]),
    ]
    return Starlette(routes=routes), seen


def test_an_unknown_status_is_never_success(tmp_path: Path) -> None:
    """Polled MAX_UNKNOWN_POLLS times in a row, a status bwmigrate does not know leaves the
    numbers `unknown` with the status seen, and the run ends instead of polling forever."""
    app, seen = _unknown_status_api("ON_HOLD")
    text = (
        'name = "unknown"\naccount_id = "9900012"\n[[steps]]\nkind = "remove"\n'
        'numbers = ["+19195550100", "+19195550101"]\n'
    )
    plan = compile_plan(parse_plan(text, "plan.toml"), lambda name: b"")
    settings = EngineSettings(poll_interval_s=0.001, poll_cap_s=0.002, visibility_window_s=0.1)
    tuning = Tuning(
        settings=settings,
        rate_per_s=1000.0,
        backoff=Backoff(base_s=0.001, cap_s=0.002, sleeps=False),
    )

    async def main(cutover: Cutover) -> str:
        return (await cutover.run(BasicCredentials("u", "p"), tuning=tuning)).outcome

    with serve_asgi(app) as base_url:
        target = LiveTarget(f"{base_url}/api/v2")
        with Cutover.open(plan, tmp_path / "state.db", target, plan_text=text) as cutover:
            reason = anyio.run(main, cutover)
    store = Store.open(tmp_path / "state.db", readonly=True)
    try:
        report = list(store.iter_report())
    finally:
        store.close()
    assert reason == "done"
    assert {(r.status, r.error_code) for r in report} == {("unknown", "ON_HOLD")}
    assert all("not one bwmigrate knows" in (r.error_description or "") for r in report)
    assert Counter(seen) == {"POST": 1, "GET": MAX_UNKNOWN_POLLS}


def _lagging_lists_with_lost_answers(harness: Harness, lag_s: float) -> None:
    """Every create is committed but its answer lost; new orders reach the lists `lag_s` late."""
    harness.sandbox.reconfigure(
        harness.sandbox.config.with_changes(
            order_delay_s=0.0,
            seed=5,
            faults=FaultConfig(drop_after_commit_rate=1.0, list_lag_s=lag_s),
        ),
        None,
    )


async def test_lost_answers_are_found_again_across_the_visibility_window(
    harness: Harness,
) -> None:
    """With every create's answer lost and lists lagging 0.6 s, each order is found by the
    lookups spread over the 1.5 s window and adopted: no number is sent twice."""
    _lagging_lists_with_lost_answers(harness, lag_s=0.6)
    removes = numbers_from("+1415871", 12)
    harness.sandbox.state.seed(
        {"numbers": [{"number": n, "kind": "imported", "account": "9900012"} for n in removes]}
    )
    outcome = await harness.run(
        "canary = 0\n" + plan_text(step("remove", removes), batch_size=4),
        visibility_window_s=1.5,
        timeout_s=1.0,
    )
    assert outcome.reason == "done", outcome.message
    assert Counter(r.status for r in harness.report) == {"succeeded": 12}
    assert len(harness.ledger_orders("remove")) == 3
    harness.assert_no_number_in_two_orders()


async def test_a_window_shorter_than_the_lag_would_duplicate_orders(harness: Harness) -> None:
    """The negative control: looking for only 0.05 s against a 0.6 s lag 'proves' absence too
    early and posts orders again; the witness sees numbers in two orders."""
    _lagging_lists_with_lost_answers(harness, lag_s=0.6)
    removes = numbers_from("+1415871", 4)
    harness.sandbox.state.seed(
        {"numbers": [{"number": n, "kind": "imported", "account": "9900012"} for n in removes]}
    )
    await harness.run(
        "canary = 0\n" + plan_text(step("remove", removes), batch_size=4),
        visibility_window_s=0.05,
        timeout_s=1.0,
    )
    assert len(harness.ledger_orders("remove")) > 1
    with pytest.raises(AssertionError, match="numbers in two orders"):
        harness.assert_no_number_in_two_orders()
