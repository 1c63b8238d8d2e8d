"""Fuzz: the engine driving a real state file against an API that answers anything.

Property: whatever the create, list and order answers are, `Engine.run()` ends with an outcome
(done, aborted) instead of raising, and the state file stays consistent: SQLite's integrity
check passes, every number of the plan is still there exactly once, an order the tool thinks
was accepted has the API's id, numbers of a finished order are finished, and the per-step
counts add up. A corrupted or half-written state file is what would make a resume lose or
repeat numbers.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from hostile_api import Answer, HostileApi, serve
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from planfiles import IMPORT_DETAILS
from strategies import bodies, content_types, examples

from orchestrator.api.client import ApiClient, BasicCredentials
from orchestrator.api.gate import RequestGate
from orchestrator.api.pacing import Aimd, Backoff
from orchestrator.cutover.engine import Engine, EngineSettings, RunOutcome
from orchestrator.plan import FailureThreshold, compile_plan, parse_plan
from orchestrator.state.store import Store

ACCOUNT = "9900012"
NUMBERS = ["+19195550100", "+19195550101", "+19195550102", "+14158714245"]
PLAN = (
    f'name = "fuzz"\naccount_id = "{ACCOUNT}"\nbatch_size = 2\n'
    '[[steps]]\nkind = "import"\nsite_id = "743"\nenable_messaging = true\n'
    + IMPORT_DETAILS
    + f"numbers = {NUMBERS[:3]!r}\n".replace("'", '"')
    + '[[steps]]\nkind = "remove"\n'
    + f"numbers = {NUMBERS[3:]!r}\n".replace("'", '"')
)
RUN_DEADLINE_S = 60.0
NO_SLEEPS = Backoff(sleeps=False)  # no backoff sleeps: a fuzz example must take milliseconds
CREATED = (
    b"<ImportTnOrderResponse><ImportTnOrder><CustomerOrderId>x</CustomerOrderId>"
    b"<OrderId>5f2a1c3e-0000-4000-8000-000000000001</OrderId>"
    b"<ProcessingStatus>RECEIVED</ProcessingStatus></ImportTnOrder></ImportTnOrderResponse>"
)


@pytest.fixture(scope="module")
def hostile() -> Iterator[tuple[HostileApi, str]]:
    with serve(HostileApi()) as served:
        yield served


@st.composite
def answers(draw: st.DrawFn) -> Answer:
    """Any answer but a 429 (honouring Retry-After may rightly pause for an hour)."""
    status = draw(st.sampled_from([200, 201, 204, 302, 400, 401, 404, 405, 409, 500, 503]))
    body = b"" if status == 204 else draw(bodies())
    cut = draw(st.none() | st.integers(0, max(0, len(body) - 1))) if body else None
    return Answer(status, body, draw(content_types()), (), cut)


async def _run(store: Store, base_url: str) -> RunOutcome:
    settings = EngineSettings(
        max_orders_in_flight=2,
        poll_interval_s=0.001,
        poll_cap_s=0.002,
        failure_threshold=FailureThreshold(100.0, 0),
        seed=1,
        visibility_window_s=0.01,  # hostile lists prove nothing either way; keep runs short
    )
    creds = BasicCredentials("sandbox", "sandbox")
    with anyio.fail_after(RUN_DEADLINE_S):
        async with ApiClient(f"{base_url}/api/v2", ACCOUNT, creds, timeout_s=5) as client:
            engine = Engine(store, client, RequestGate(Aimd(1000.0)), settings, backoff=NO_SLEEPS)
            return await engine.run()


def _check_state(path: Path) -> None:
    """The state file is intact and its numbers and orders agree with each other."""
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = db.execute("SELECT step, e164, status FROM numbers ORDER BY step, seq").fetchall()
        import_rows = [r[1] for r in rows if r[0] == 0]
        assert import_rows == NUMBERS[:3] and [r[1] for r in rows if r[0] == 1] == NUMBERS[3:]
        assert sorted(r[1] for r in rows if r[0] == 2) == NUMBERS[:3]  # the chained SMS step
        assert {r[2] for r in rows} <= {"pending", "in_order", "succeeded", "failed", "skipped"}
        bad = db.execute(
            "SELECT id, state, remote_id FROM orders WHERE state NOT IN "
            "('planned', 'submitting', 'submitted', 'done') "
            "OR (state = 'submitted' AND remote_id IS NULL)"
        ).fetchall()
        assert bad == [], bad
        unfinished = db.execute(
            "SELECT n.e164, n.status, o.state FROM numbers n JOIN orders o ON o.id = n.order_id "
            "WHERE o.state = 'done' AND n.status IN ('pending', 'in_order')"
        ).fetchall()
        assert unfinished == [], unfinished
        chained = db.execute(
            "SELECT n.e164 FROM numbers n JOIN numbers i ON i.step = 0 AND i.seq = n.seq "
            "WHERE n.step = 2 AND n.status NOT IN ('pending', 'skipped') "
            "AND i.status != 'succeeded'"
        ).fetchall()
        assert chained == [], f"SMS changed on numbers whose import did not succeed: {chained}"
    finally:
        db.close()


@settings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(  # a 201 without a readable id, then an HTML page where the order list should be
    Answer(201, b"<html><body>Created</body></html>", "text/html"),
    Answer(200, b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "text/html"),
    Answer(200, CREATED),
)
@given(create=answers(), listing=answers(), order=answers())
def test_engine_ends_with_an_outcome_and_a_consistent_state_file(
    hostile: tuple[HostileApi, str], create: Answer, listing: Answer, order: Answer
) -> None:
    """Hostile create/list/order answers: an outcome, never an exception; state consistent."""
    api, base_url = hostile
    api.script(create=create, listing=listing, order=order)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "state.db"
        store = Store.open(path)
        try:
            plan = compile_plan(parse_plan(PLAN, "fuzz.toml"), lambda name: b"")
            store.initialize(plan, PLAN, now=0.0)
            outcome = anyio.run(_run, store, base_url)
        finally:
            store.close()
        assert outcome.reason in ("done", "aborted"), outcome
        assert "\n" not in outcome.message
        _check_state(path)
