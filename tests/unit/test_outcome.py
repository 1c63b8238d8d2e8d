"""Status semantics, A2P refusals, canary verdicts and the reconciliation schedule (pure)."""

from __future__ import annotations

import pytest

from orchestrator.api.status import (
    REJECTED_STATUS,
    UNKNOWN_STATUS,
    OrderPhase,
    canary_refusal,
    needs_action_advice,
    order_phase,
    refuses_a2p_only,
)
from orchestrator.cutover.outcome import failure_status
from orchestrator.cutover.reconcile import next_lookup_delay_s
from orchestrator.state.schema import NumberStatus


@pytest.mark.parametrize(
    ("status", "phase"),
    [
        ("RECEIVED", OrderPhase.OPEN),
        ("processing", OrderPhase.OPEN),
        ("COMPLETE", OrderPhase.SUCCEEDED),
        ("PARTIAL", OrderPhase.SUCCEEDED),
        ("FAILED", OrderPhase.FAILED),
        ("EXCEPTION", OrderPhase.FAILED),
        ("REJECTED", OrderPhase.FAILED),
        ("ON_HOLD", OrderPhase.UNKNOWN),
        ("", OrderPhase.UNKNOWN),
        (None, OrderPhase.UNKNOWN),
    ],
)
def test_order_statuses_map_to_phases(status: str | None, phase: OrderPhase) -> None:
    """EXCEPTION is a failure and anything undocumented is unknown, never success."""
    assert order_phase(status) is phase


def test_only_the_a2p_follow_up_turns_a2p_refusals_into_needs_action() -> None:
    """5128 on the A2P-only order needs action; the same code elsewhere, or another code on the
    A2P order, is a failure."""
    assert refuses_a2p_only("a2p", "5128")
    assert refuses_a2p_only("a2p", "12192")
    assert not refuses_a2p_only("sms", "5128")
    assert not refuses_a2p_only(None, "5128")
    assert not refuses_a2p_only("a2p", "5076")
    assert "hosted" in needs_action_advice("5128") and needs_action_advice(None)


def test_bwmigrates_own_order_statuses_keep_their_meaning() -> None:
    """What bwmigrate records for a refused create is a failure; what it records for an order
    without a readable status is never success."""
    assert order_phase(REJECTED_STATUS) is OrderPhase.FAILED
    assert order_phase(UNKNOWN_STATUS) is OrderPhase.UNKNOWN


@pytest.mark.parametrize(
    ("role", "code", "status"),
    [
        ("a2p", "5128", NumberStatus.NEEDS_ACTION),
        ("sms", "5128", NumberStatus.FAILED),
        (None, "5128", NumberStatus.FAILED),
        ("a2p", "7518", NumberStatus.FAILED),
        ("a2p", None, NumberStatus.FAILED),
    ],
)
def test_a_refused_number_fails_unless_the_a2p_follow_up_refused_only_a2p(
    role: str | None, code: str | None, status: NumberStatus
) -> None:
    """The engine's per-number status for a refusal: needs_action only for an A2P-only code
    in the A2P follow-up step, failed otherwise."""
    assert failure_status(role, code) is status


def test_a_refused_create_always_condemns_the_canary() -> None:
    """A 400 at create names the code and points at the body form in use."""
    refusal = canary_refusal(
        status="REJECTED",
        codes=[("1019", "Bad request")],
        step_name="hosted",
        body_form="ImportTnOrder",
    )
    assert refusal is not None and refusal.code == "1019"
    assert 'body_form = "ExternalTnsOrder"' in refusal.hint and '"hosted"' in refusal.hint
    guide = canary_refusal(
        status="REJECTED", codes=[("1003", "x")], step_name="s", body_form="ExternalTnsOrder"
    )
    assert guide is not None and 'body_form = "ImportTnOrder"' in guide.hint


def test_a_failed_canary_condemns_the_body_only_for_request_codes() -> None:
    """Per-number refusals (not active, 7518) prove nothing; a wrong site (7309) names the
    setting; a successful canary is never a refusal."""
    kwargs = {"step_name": "s", "body_form": "ImportTnOrder"}
    assert canary_refusal(status="FAILED", codes=[("7518", "Not Active")], **kwargs) is None
    site = canary_refusal(status="FAILED", codes=[("7518", "x"), ("7309", "site")], **kwargs)
    assert site is not None and "site_id" in site.hint
    assert canary_refusal(status="EXCEPTION", codes=[("1003", "x is required")], **kwargs)
    assert canary_refusal(status="COMPLETE", codes=[("1003", "x")], **kwargs) is None
    assert canary_refusal(status="PARTIAL", codes=[("1003", "x")], **kwargs) is None


def test_absence_is_proven_only_by_a_lookup_at_or_after_the_deadline() -> None:
    """Rounds inside the window are spaced out and end exactly at the deadline; a round that
    starts at the deadline (or later: an order attempted long ago) is the proof."""
    deadline = 100.0
    assert next_lookup_delay_s(1, 90.0, deadline) == 1.0
    assert next_lookup_delay_s(3, 90.0, deadline) == 4.0
    assert next_lookup_delay_s(5, 97.0, deadline) == 3.0  # never past the deadline
    assert next_lookup_delay_s(2, 100.0, deadline) is None
    assert next_lookup_delay_s(1, 5000.0, deadline) is None
