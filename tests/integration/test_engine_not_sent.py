"""A create that provably never reached the API is "not sent", not "outcome unknown": refused
connections and refused credentials leave the order planned and its numbers pending (nothing to
reconcile), the run stops saying what to fix, and the corrected run sends every number exactly
once (the sandbox's ledger is the witness)."""

from __future__ import annotations

import socket
from collections import Counter
from pathlib import Path

import pytest
from engine_harness import IMPORT_EXTRA, Harness, numbers_from, plan_text, step

from orchestrator.api.client import BasicCredentials
from orchestrator.sandbox import RunningSandbox
from orchestrator.state.store import Store


@pytest.fixture
def harness(sandbox: RunningSandbox, tmp_path: Path) -> Harness:
    return Harness(sandbox, tmp_path)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _order_states(path: Path) -> Counter[str]:
    store = Store.open(path, readonly=True)
    try:
        return Counter(o.state.value for o in store.orders())
    finally:
        store.close()


def _assert_exactly_once(harness: Harness, imports: list[str]) -> None:
    harness.assert_no_number_in_two_orders()
    assert {harness.inventory()[n]["imports"] for n in imports} == {1}
    assert Counter(r.status for r in harness.report) == {"succeeded": len(imports)}


async def test_refused_credentials_leave_the_order_unsent(harness: Harness) -> None:
    """401 on the first create: the order is planned again, its numbers pending, and the run
    says the credentials are wrong (before: left submitting, "outcome unknown", reconciled)."""
    imports = numbers_from("+1919991", 12)
    text = plan_text(step("import", imports, IMPORT_EXTRA), batch_size=4)
    first = await harness.run(text, credentials=BasicCredentials("sandbox", "wrong"))
    assert first.reason == "aborted"
    assert "refused the credentials" in first.message
    # the snapshot before the first order is refused first (issue 14): nothing was sent either
    assert "was not sent" in first.message or "no order was sent" in first.message
    assert _order_states(harness.state_path) == {"planned": 3}
    assert Counter(r.status for r in harness.report) == {"pending": 12}
    assert harness.ledger_orders() == []
    again = await harness.run(text)
    assert again.reason == "done", again.message
    _assert_exactly_once(harness, imports)


@pytest.mark.parametrize("fault", ["refused", "tls", "dns"])
async def test_unreachable_targets_leave_the_order_unsent(harness: Harness, fault: str) -> None:
    """Connection refused, a TLS handshake that fails (https to a plain-HTTP server), a host
    that does not resolve: the order is planned again and the message is about the URL; the
    same state file then runs against the right target (it accepted nothing before)."""
    imports = numbers_from("+1919991", 8)
    text = plan_text(step("import", imports, IMPORT_EXTRA), batch_size=4)
    port = harness.sandbox.base_url.rsplit(":", 1)[1]
    wrong = {
        "refused": f"http://127.0.0.1:{_closed_port()}/api/v2",
        "tls": f"https://127.0.0.1:{port}/api/v2",
        "dns": "https://bwmigrate-test.invalid/api/v2",
    }[fault]
    first = await harness.run(text, base_url=wrong)
    assert first.reason == "aborted"
    assert "cannot reach the API" in first.message and "was not sent" in first.message
    assert _order_states(harness.state_path) == {"planned": 2}
    assert Counter(r.status for r in harness.report) == {"pending": 8}
    again = await harness.run(text)
    assert again.reason == "done", again.message
    _assert_exactly_once(harness, imports)


async def test_orders_cancelled_while_retrying_a_connection_stay_unsent(harness: Harness) -> None:
    """Several orders in flight against a port that refuses connections: the first to give up
    stops the run, and the others, cancelled between tries that all failed to connect, are
    left unsent too (before: left submitting, so the file was tied to the wrong target)."""
    imports = numbers_from("+1919991", 16)
    text = "canary = 0\n" + plan_text(step("import", imports, IMPORT_EXTRA), batch_size=2)
    first = await harness.run(text, base_url=f"http://127.0.0.1:{_closed_port()}/api/v2")
    assert first.reason == "aborted" and "cannot reach the API" in first.message
    assert _order_states(harness.state_path) == {"planned": 8}
    assert Counter(r.status for r in harness.report) == {"pending": 16}
    again = await harness.run(text)
    assert again.reason == "done", again.message
    _assert_exactly_once(harness, imports)
