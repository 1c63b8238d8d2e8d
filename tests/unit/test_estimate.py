"""The dry run's estimate: a model of how the engine drives a run, checked on plans whose
requests and makespan can be worked out by hand, and against the engine's own settings."""

from __future__ import annotations

import itertools

import pytest

from orchestrator.api.pacing import PollSchedule
from orchestrator.cutover import status_reader
from orchestrator.cutover.engine import EngineSettings
from orchestrator.plan import CompiledPlan, compile_plan, parse_plan
from orchestrator.plan.estimate import (
    FRESH_FRACTION,
    POLL_CAP_S,
    POLL_FACTOR,
    SIMULATED_CHAINS,
    estimate,
    poll_offsets,
)
from orchestrator.plan.numbers import normalize_numbers


def _numbers(count: int, npa: str = "919") -> list[str]:
    """`count` distinct numbers bwmigrate accepts (checked by its own normaliser)."""
    out: list[str] = []
    for nxx in range(201, 1000):
        candidates = [f"+1{npa}{nxx}{line:04d}" for line in range(0, 10000, 13)]
        out += [n for n in normalize_numbers(candidates) if isinstance(n, str)]
        if len(out) >= count:
            return out[:count]
    raise AssertionError(f"could not make {count} numbers")


def _plan(
    steps: str,
    *,
    batch: int,
    canary: int = 0,
    rate: float = 1000,
    in_flight: int = 10,
    poll_s: float = 1,
    order_s: float = 1,
) -> CompiledPlan:
    text = (
        f'name = "est"\naccount_id = "9900012"\nbatch_size = {batch}\ncanary = {canary}\n'
        f"[rate]\nrequests_per_s = {rate}\nmax_orders_in_flight = {in_flight}\n"
        f"poll_interval_s = {poll_s}\nexpected_order_s = {order_s}\n" + steps
    )
    return compile_plan(parse_plan(text, "est.toml"), lambda _n: b"")


def _import(numbers: list[str], extra: str = "") -> str:
    quoted = ", ".join(f'"{n}"' for n in numbers)
    return (
        '[[steps]]\nkind = "import"\nsite_id = "743"\nsip_peer_id = "303716"\n'
        f'body_form = "ExternalTnsOrder"\n{extra}numbers = [{quoted}]\n'
    )


def _messaging(numbers: list[str], extra: str = 'sms = "on"\n') -> str:
    quoted = ", ".join(f'"{n}"' for n in numbers)
    return f'[[steps]]\nkind = "messaging"\n{extra}numbers = [{quoted}]\n'


def test_poll_offsets_follow_the_engines_back_off_until_the_order_is_terminal():
    """Polls at 2, then gaps ×1.5 (2, 5, 9.5, 16.25 s) until one is at or after the order's
    time; a 0 s order is polled once; gaps stop growing at the cap."""
    assert poll_offsets(10, 2) == (2, 5, 9.5, 16.25)
    assert poll_offsets(16.25, 2) == (2, 5, 9.5, 16.25)
    assert poll_offsets(0, 2) == (2,)
    long = poll_offsets(200, 2)
    gaps = [b - a for a, b in itertools.pairwise(long)]
    assert max(gaps) == POLL_CAP_S and long[-1] >= 200 > long[-2]


def test_the_model_mirrors_the_engines_poll_cadence():
    """The mirrored constants agree with the engine's (a drift would skew every estimate)."""
    assert PollSchedule().factor == POLL_FACTOR
    assert EngineSettings().poll_cap_s == POLL_CAP_S


def test_one_order_takes_its_polls_and_no_more():
    """One order: a create and the polls until it is terminal (not 1 + order time / poll
    interval polls, which counted one too many); the estimate is the last poll's time."""
    est = estimate(
        _plan(_import(_numbers(3)), batch=10, poll_s=2, order_s=10), status_reads="per_order"
    )
    assert (est.orders, est.creates, est.polls, est.api_calls) == (1, 1, 4, 5)
    assert est.eta_s == pytest.approx(16.25)
    assert est.assumptions.poll_offsets_s == (2, 5, 9.5, 16.25)


def test_canary_holds_its_step_and_sms_orders_follow_their_imports_in_the_same_slot():
    """Canary (create 0, terminal at its poll at 1), then the rest of the step (create 1.001)
    and the canary's SMS order (1.002); the rest is terminal at 2.001 and its SMS order is
    created at 2.002, before the poll due then (creates first), and is terminal at 3.002."""
    plan = _plan(_import(_numbers(4), "enable_messaging = true\n"), batch=2, canary=2)
    est = estimate(plan, status_reads="per_order")
    assert (est.orders, est.chained_orders, est.a2p_orders) == (2, 2, 0)
    assert (est.creates, est.polls) == (4, 4)
    assert est.eta_s == pytest.approx(3.002)


def test_a2p_follow_ups_are_a_third_order_in_the_chain():
    """A messaging step turning SMS on with A2P settings: each order, then its A2P follow-up."""
    extra = 'sms = "on"\na2p = { campaign_id = "C1" }\n'
    est = estimate(_plan(_messaging(_numbers(4), extra), batch=2), status_reads="per_order")
    assert (est.orders, est.chained_orders, est.a2p_orders, est.creates) == (2, 0, 2, 4)
    assert est.eta_s == pytest.approx(2.003)  # two orders side by side, then their follow-ups


def test_orders_in_flight_bound_the_run_when_the_rate_is_not_the_limit():
    """Ten 1 s orders, two at a time, at 1000 req/s: five rounds of about a second."""
    est = estimate(_plan(_import(_numbers(10)), batch=1, in_flight=2), status_reads="per_order")
    assert 5.0 <= est.eta_s < 5.05
    assert est.rate_busy < 0.01


def test_the_rate_bounds_the_run_when_orders_in_flight_are_not_the_limit():
    """100 orders at once at 10 req/s: 100 creates go first (creates before polls), then 100
    polls, each order polled once (late): 200 requests, the last at 19.9 s, the rate always
    busy. (The former formula said 300 calls and 40 s.)"""
    est = estimate(
        _plan(_import(_numbers(100)), batch=1, rate=10, in_flight=100), status_reads="per_order"
    )
    assert (est.creates, est.polls) == (100, 100)
    assert est.eta_s == pytest.approx(19.9)
    assert est.rate_busy == pytest.approx(1.0, abs=0.01)


def test_a_step_sharing_numbers_waits_for_the_earlier_one():
    """A messaging step on the numbers an import brings starts when the import is done."""
    numbers = _numbers(2)
    plan = _plan(_import(numbers) + _messaging(numbers), batch=10)
    assert plan.steps[1].depends_on == (0,)
    est = estimate(plan, status_reads="per_order")
    assert est.eta_s == pytest.approx(2.001)
    apart = estimate(
        _plan(_import(numbers) + _messaging(_numbers(4)[2:]), batch=10), status_reads="per_order"
    )
    assert apart.eta_s == pytest.approx(1.001)


def test_the_rehearsal_time_is_an_input():
    """`order_s` replaces the plan's expected order time (a rehearsal's sandbox caps it)."""
    plan = _plan(_import(_numbers(3)), batch=10, poll_s=2, order_s=60)
    assert estimate(plan, status_reads="per_order").assumptions.order_s == 60
    quick = estimate(plan, order_s=4, status_reads="per_order")
    assert quick.assumptions.poll_offsets_s == (2, 5) and quick.eta_s == pytest.approx(5)


def test_large_plans_are_extrapolated_close_to_the_full_simulation():
    """A plan of more than SIMULATED_CHAINS orders is simulated small and extrapolated: within
    2 % of simulating every order."""
    count = SIMULATED_CHAINS * 2 + 500
    plan = _plan(_import(_numbers(count)), batch=1, rate=20, in_flight=50, poll_s=2, order_s=4)
    quick = estimate(plan, status_reads="per_order")
    full = estimate(plan, max_simulated_chains=count, status_reads="per_order")
    assert quick.extrapolated and not full.extrapolated
    assert quick.creates == full.creates == count
    assert quick.eta_s == pytest.approx(full.eta_s, rel=0.02)
    assert quick.polls == pytest.approx(full.polls, rel=0.02)


def test_an_empty_plan_takes_no_time():
    """No valid number: no order, no request, no time."""
    text = '[[steps]]\nkind = "remove"\nnumbers = ["12"]\n'
    est = estimate(_plan(text, batch=10), status_reads="per_order")
    assert (est.orders, est.api_calls, est.eta_s) == (0, 0, 0.0)


def test_orders_of_a_day_polled_often_are_estimated_without_overflow():
    """A day-long order polled from 0.01 s on: thousands of polls each (gaps capped at 30 s),
    no overflow of the back-off, and fewer orders simulated (extrapolated) to stay quick."""
    plan = _plan(_import(_numbers(100)), batch=1, in_flight=100, poll_s=0.01, order_s=86400)
    est = estimate(plan, status_reads="per_order")
    assert est.assumptions.polls_per_order > 2000
    assert est.extrapolated and est.creates == 100
    assert est.eta_s >= 86400


def test_batched_reads_share_a_list_read_among_the_orders_waking_together():
    """The same 100 orders followed by batched reads (the default): one list read serves every
    order waking within half a poll interval of it, so the polls drop from 100 GETs to a few
    list reads, and the run ends no later (the rate it no longer spends on GETs)."""
    plan = _plan(_import(_numbers(100)), batch=1, rate=10, in_flight=100)
    per_order = estimate(plan, status_reads="per_order")
    batched = estimate(plan)
    assert batched.assumptions.status_reads == "batched"
    assert batched.creates == per_order.creates == 100
    assert 0 < batched.polls <= 5
    assert batched.eta_s < per_order.eta_s


def test_a_shared_read_is_fresh_for_half_the_poll_interval_as_in_the_engine():
    """The estimate's freshness bound mirrors the status reader's."""
    assert FRESH_FRACTION == status_reader.FRESH_FRACTION
