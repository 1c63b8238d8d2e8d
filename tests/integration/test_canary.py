"""The canary: an import step's first order carries a few numbers and must finish before the
rest of the step is sent; a canary the API refuses for its body stops the run.

Judged by the sandbox's ledger (which orders the "API" accepted, and when) and the state file.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from engine_harness import IMPORT_EXTRA, Harness, numbers_from, plan_text, step

from orchestrator.sandbox import RunningSandbox


@pytest.fixture
def harness(sandbox: RunningSandbox, tmp_path: Path) -> Harness:
    return Harness(sandbox, tmp_path)


def _created(order: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(order["created_at"]).replace("Z", "+00:00"))


async def test_the_canary_order_finishes_before_the_rest_of_its_step_is_sent(
    harness: Harness,
) -> None:
    """Order 0 carries the canary's 5 numbers; no other order of the step is created before the
    canary order has had its processing time."""
    delay_s = 0.4
    harness.sandbox.reconfigure(harness.sandbox.config.with_changes(order_delay_s=delay_s), None)
    imports = numbers_from("+1919991", 23)
    outcome = await harness.run(plan_text(step("import", imports, IMPORT_EXTRA)), timeout_s=10)
    assert outcome.reason == "done", outcome.message
    orders = sorted(harness.ledger_orders("import"), key=lambda o: o["customer_order_id"])
    assert [len(o["numbers"]) for o in orders] == [5, 10, 8]
    canary, rest = orders[0], orders[1:]
    assert canary["customer_order_id"].endswith("-I01-00000")
    assert all((_created(o) - _created(canary)).total_seconds() >= delay_s for o in rest)
    assert Counter(r.status for r in harness.report) == {"succeeded": 23}
    harness.assert_no_number_in_two_orders()


async def test_a_canary_refused_for_its_body_stops_the_run_and_every_resume(
    harness: Harness,
) -> None:
    """A production that refuses the ImportTnOrder form answers the canary 400: the run aborts
    with the API's code and the setting to change, the rest of the step is never sent, and a
    resume with the same plan stops again without sending anything."""
    harness.sandbox.state.seed({"import_body_forms": ["ExternalTnsOrder"]})
    imports = numbers_from("+1919991", 23)
    text = plan_text(step("import", imports, IMPORT_EXTRA))
    outcome = await harness.run(text)
    assert outcome.reason == "aborted"
    assert "canary order" in outcome.message and "1019" in outcome.message
    assert 'body_form = "ExternalTnsOrder"' in outcome.message
    assert Counter(r.status for r in harness.report) == {"failed": 5, "pending": 18}
    assert harness.ledger_orders("import") == []
    requests_before = harness.sandbox.app.ledger.to_json()["requests"]["total"]
    again = await harness.run(text)
    assert again.reason == "aborted" and "canary order" in again.message
    assert harness.sandbox.app.ledger.to_json()["requests"]["total"] == requests_before


async def test_after_a_refused_canary_the_corrected_plan_starts_over_and_completes(
    harness: Harness,
) -> None:
    """Nothing of the refused plan took effect, so the corrected plan (the guide's form) takes
    over the same state file and imports every number exactly once."""
    harness.sandbox.state.seed({"import_body_forms": ["ExternalTnsOrder"]})
    imports = numbers_from("+1919991", 23)
    refused = await harness.run(plan_text(step("import", imports, IMPORT_EXTRA)))
    assert refused.reason == "aborted"
    guide_form = 'site_id = "743"\nloa_type = "CARRIER"\nbody_form = "ExternalTnsOrder"\n'
    fixed = await harness.run(plan_text(step("import", imports, guide_form)))
    assert fixed.reason == "done", fixed.message
    assert Counter(r.status for r in harness.report) == {"succeeded": 23}
    assert sorted(n for o in harness.ledger_orders("import") for n in o["numbers"]) == imports
    harness.assert_no_number_in_two_orders()


async def test_per_number_refusals_of_the_canary_do_not_hold_the_step(harness: Harness) -> None:
    """A canary whose numbers are refused one by one (7518, not active) says nothing about the
    body: the rest of the step is sent."""
    imports = numbers_from("+1919991", 23)
    harness.sandbox.state.seed(
        {"failure_rules": [{"numbers": imports[:5], "kind": "import", "code": 7518}]}
    )
    outcome = await harness.run(plan_text(step("import", imports, IMPORT_EXTRA)))
    assert outcome.reason == "done", outcome.message
    by_status = Counter((r.status, r.error_code) for r in harness.report)
    assert by_status == {("failed", "7518"): 5, ("succeeded", None): 18}


async def test_a_canary_failed_for_a_missing_field_stops_the_run(harness: Harness) -> None:
    """A canary order that ends FAILED with a code saying the request lacked something (1003)
    stops the run like a refused create."""
    imports = numbers_from("+1919991", 23)
    harness.sandbox.state.seed(
        {"failure_rules": [{"numbers": imports[:5], "kind": "import", "code": 1003}]}
    )
    outcome = await harness.run(plan_text(step("import", imports, IMPORT_EXTRA)))
    assert outcome.reason == "aborted"
    assert "1003" in outcome.message
    assert len(harness.ledger_orders("import")) == 1
