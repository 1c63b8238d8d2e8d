"""Chaos, CI-sized: `bwmigrate run` killed at seeded random moments against a faulty sandbox
process, resumed until done, then judged by the sandbox's ledger and inventory and the report.

Faults here: 5xx, connection resets, orders created whose answer is lost, slow orders, and
order lists that show a new order only 0.5 s after it was created (so a lost answer is found
again only by lookups spread over the plan's visibility window). Not
429s: each costs a whole-gate pause of 1-2 s (the sandbox's X-RateLimit-Reset), which would
make this test slow; bench/chaos.py and tests/integration/test_engine.py cover them.

`bench/chaos.py` runs the same loop and the same checks (tests/e2e/support.py) with 100 kills
and 10,000+ numbers; this one runs a few kills on a few hundred numbers on every `pytest`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import (
    SandboxProcess,
    Schedule,
    check_cutover,
    iter_report_problems,
    kill_and_resume,
    read_report,
    run_args,
    write_chaos_plan,
)

SEED = 20240611
FAULTS = (
    "--order-delay-s",
    "0.2",
    "--seed",
    str(SEED),
    "--fault-5xx",
    "0.03",
    "--fault-reset",
    "0.02",
    "--fault-drop",
    "0.15",
    "--drop-mode",
    "reset",
    "--fault-slow-order",
    "0.1",
    "--slow-order-s",
    "0.6",
    "--list-lag-s",
    "0.5",
)


@pytest.fixture
def faulty_sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    with SandboxProcess(*FAULTS, log=tmp_path / "sandbox.log") as sb:
        yield sb


def test_killed_and_resumed_cutover_keeps_every_promise(
    faulty_sandbox: SandboxProcess, tmp_path: Path
) -> None:
    """SIGKILL x3 and a SIGTERM mid-run, then resume: nothing lost, twice or unknown."""
    rng = random.Random(SEED)
    plan = write_chaos_plan(
        tmp_path / "plan",
        300,
        rng,
        batch_size=10,
        rate_per_s=200,
        in_flight=6,
        poll_interval_s=0.05,
        fail_ratio=0.03,
        visibility_window_s=1.5,
    )
    faulty_sandbox.seed(plan.seed)
    state = tmp_path / "state.db"
    args = run_args(plan.path, faulty_sandbox.v2_url, state, "--json", "--seed", str(SEED))
    schedule = Schedule(early_s=(0.05, 0.7), late_s=(0.7, 1.6), sigterm_ratio=0.3)
    log = kill_and_resume(args, rng, 3, tmp_path / "runs.log", schedule=schedule)
    assert log.problems == [], (tmp_path / "runs.log").read_text()[-3000:]
    assert (log.kills, log.sigterms > 0) == (3, True), log
    assert log.final_summary is not None
    assert log.final_summary["numbers"]["pending"] == 0, log.final_summary
    rows = read_report(state)
    verdict = check_cutover(plan, rows, faulty_sandbox.ledger(), faulty_sandbox.inventory())
    assert verdict.ok, verdict.summary()
    assert list(iter_report_problems(rows)) == []
    statuses = {r["status"] for r in rows}
    assert statuses == {"succeeded", "failed", "skipped", "needs_action"}, statuses
    by_status = faulty_sandbox.ledger()["requests"]["by_status"]
    assert {"500", "dropped"} <= set(by_status), f"faults not exercised: {by_status}"


def test_the_witnesses_catch_each_broken_promise(tmp_path: Path) -> None:
    """check_cutover reports a duplicate, a lost number, an unknown order and a mismatch."""
    plan = write_chaos_plan(
        tmp_path, 40, random.Random(3), batch_size=10, rate_per_s=10, in_flight=2,
        poll_interval_s=1, fail_ratio=0.0,
    )  # fmt: skip
    n1, n2 = plan.steps["hosted"][:2]
    coid = "chaos-0a1b2c3d-I01-00000"
    rows = [
        {"step": "hosted", "number": n1, "status": "succeeded", "customer_order_id": coid,
         "order_id": "A"},
        {"step": "hosted", "number": n2, "status": "in_order", "customer_order_id": coid,
         "order_id": "A"},
    ]  # fmt: skip
    ledger = {
        "orders": [
            {"customer_order_id": coid, "order_id": "A", "numbers": [n1, n2]},
            {"customer_order_id": coid + "0", "order_id": "B", "numbers": [n1]},
        ]
    }
    inventory = {n1: {"imports": 2, "sms_enabled": False}}
    verdict = check_cutover(plan, rows, ledger, inventory)
    assert not verdict.ok
    assert any(f"{n1} in 2 orders" in d for d in verdict.duplicates)
    assert any(f"{n1}: imported 2 times" in d for d in verdict.duplicates)
    assert any(n2 in item for item in verdict.lost)
    assert any("unknown to the tool" in u for u in verdict.unexpected)
    assert any("report rows, planned" in u for u in verdict.unexpected)
