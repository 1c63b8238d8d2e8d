"""A resumed rehearsal rebuilds its sandbox from the state file: chained A2P steps included."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from orchestrator.cutover.rehearsal import rehearsal_sandbox
from orchestrator.plan import compile_plan, parse_plan
from orchestrator.state.store import Store

PLAN = """
name = "resume"
account_id = "9900012"
canary = 0
[[steps]]
kind = "messaging"
name = "msg"
sms = "on"
a2p = { message_class = "M", campaign_id = "CB7SUPP" }
numbers = ["+13369788814", "+13369006863"]
"""


def test_a_finished_a2p_step_leaves_sms_on_and_its_campaign_in_the_rebuilt_sandbox(
    tmp_path: Path,
) -> None:
    """Numbers whose SMS and A2P orders succeeded come back with SMS on and the campaign set
    (the A2P step's settings carry no SMS of their own: SMS must not read as off)."""
    plan = compile_plan(parse_plan(PLAN, "p.toml"), lambda name: b"")
    store = Store.open(tmp_path / "r.db")
    try:
        store.acquire_lease(pid=os.getpid(), host="test", command="pytest", now=1.0)
        store.initialize(plan, PLAN, now=1.0)
        (sms,) = store.orders()
        store.mark_submitting(sms.id, now=2.0)
        store.mark_submitted(sms.id, "uuid-sms", "RECEIVED", now=2.0)
        a2p = store.record_outcome(sms.id, "COMPLETE", [], None, [], now=3.0).chained_order
        assert a2p is not None
        store.mark_submitting(a2p.id, now=4.0)
        store.mark_submitted(a2p.id, "uuid-a2p", "RECEIVED", now=4.0)
        store.record_outcome(a2p.id, "COMPLETE", [], None, [], now=5.0)
        with rehearsal_sandbox(plan, store) as access:
            root = access.base_url.removesuffix("/api/v2")
            rows = httpx.get(f"{root}/_sandbox/inventory", timeout=10).json()["numbers"]
    finally:
        store.close()
    by_number = {r["number"]: r for r in rows}
    for number in ("+13369788814", "+13369006863"):
        assert by_number[number]["sms_enabled"] is True
        assert by_number[number]["campaign_id"] == "CB7SUPP"
