"""Pacing and retry decisions (pure): 429 headers, backoff, AIMD, the poll schedule."""

from __future__ import annotations

from email.utils import formatdate

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.api.pacing import Aimd, Backoff, PollSchedule, retry_at_from_headers

NOW = 1_700_000_000.0


# --- retry_at_from_headers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"X-RateLimit-Reset": str(int(NOW) + 30)}, NOW + 30),
        ({"x-ratelimit-reset": str(int(NOW) + 30)}, NOW + 30),
        ({"X-RateLimit-Reset": "15"}, NOW + 15),
        ({"X-RateLimit-Reset": str(int(NOW) * 1000 + 30_000)}, NOW + 30),
        ({"X-RateLimit-Reset": str(int(NOW) - 100)}, NOW),
        ({"X-RateLimit-Reset": str(int(NOW) + 7200)}, NOW + 3600),
        ({"Retry-After": "12"}, NOW + 12),
        ({"Retry-After": "0"}, NOW),
        ({"Retry-After": formatdate(NOW + 40, usegmt=True)}, NOW + 40),
        ({"Retry-After": formatdate(NOW - 40, usegmt=True)}, NOW),
        ({"X-RateLimit-Reset": str(int(NOW) + 30), "Retry-After": "5"}, NOW + 30),
        ({"X-RateLimit-Reset": str(int(NOW) + 5), "Retry-After": "30"}, NOW + 30),
        ({"X-RateLimit-Reset": "soon", "Retry-After": "7"}, NOW + 7),
        ({"X-RateLimit-Reset": str(int(NOW) + 9), "Retry-After": "later"}, NOW + 9),
        ({"X-RateLimit-Reset": "-5"}, None),
        ({"X-RateLimit-Reset": "nan"}, None),
        ({"Retry-After": "inf"}, None),
        ({"Retry-After": "Tue, 99 Foo 2023 99:99:99 GMT"}, None),
        ({"Content-Length": "0"}, None),
    ],
)
def test_retry_at_from_headers(headers: dict[str, str], expected: float | None) -> None:
    """Reset and Retry-After headers give the later resume time, clamped to [now, now + 1 h]."""
    assert retry_at_from_headers(headers, NOW) == expected


def test_retry_at_horizon_is_configurable() -> None:
    """A caller can shorten how far ahead a header is believed."""
    assert retry_at_from_headers({"Retry-After": "600"}, NOW, max_wait_s=60) == NOW + 60


# --- Backoff -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempt", "jitter", "expected"),
    [
        (1, 0.0, 0.25),
        (1, 0.5, 0.375),
        (2, 0.0, 0.5),
        (3, 0.0, 1.0),
        (4, 0.0, 2.0),
        (5, 0.0, 2.0),
        (5, 0.5, 3.0),
        (10_000, 0.0, 2.0),
    ],
)
def test_backoff_delay_is_exponential_with_equal_jitter_and_capped(
    attempt: int, jitter: float, expected: float
) -> None:
    """Delay before retry n is half of min(cap, base·factorⁿ⁻¹) plus a jittered half."""
    backoff = Backoff(base_s=0.5, factor=2.0, cap_s=4.0, max_attempts=4)
    assert backoff.delay_s(attempt, jitter) == pytest.approx(expected)


@given(
    attempt=st.integers(min_value=1, max_value=200),
    jitter=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
)
def test_backoff_delay_stays_between_half_ceiling_and_cap(attempt: int, jitter: float) -> None:
    """Every delay is at least half its exponential ceiling and below the cap."""
    backoff = Backoff(base_s=0.1, factor=3.0, cap_s=20.0)
    ceiling = min(20.0, 0.1 * 3.0 ** min(attempt - 1, 50))
    delay = backoff.delay_s(attempt, jitter)
    assert ceiling / 2 <= delay <= ceiling


def test_backoff_bounds_attempts() -> None:
    """`max_attempts` counts every try, so four tries allow three retries."""
    backoff = Backoff(max_attempts=4)
    assert [backoff.allows_retry(n) for n in (1, 2, 3, 4, 5)] == [True, True, True, False, False]


@pytest.mark.parametrize(("attempt", "jitter"), [(0, 0.0), (1, 1.0), (1, -0.1)])
def test_backoff_rejects_out_of_range_inputs(attempt: int, jitter: float) -> None:
    """An attempt below 1 or a jitter outside [0, 1) is a caller bug."""
    with pytest.raises(ValueError):
        Backoff().delay_s(attempt, jitter)


@pytest.mark.parametrize(
    "kwargs",
    [{"base_s": 0}, {"factor": 0.5}, {"cap_s": 0.1, "base_s": 1}, {"max_attempts": 0}],
)
def test_backoff_rejects_nonsense_settings(kwargs: dict[str, float]) -> None:
    """A zero base, a shrinking factor, a cap below the base or no attempts are refused."""
    with pytest.raises(ValueError):
        Backoff(**kwargs)  # type: ignore[arg-type]


def test_testing_switch_is_a_parameter_of_each_backoff() -> None:
    """`sleeps=False` makes that backoff's delays zero (attempts unchanged); another backoff
    built with the same settings but sleeping keeps its delays."""
    testing = Backoff(base_s=5.0, cap_s=60.0, max_attempts=3, sleeps=False)
    normal = Backoff(base_s=5.0, cap_s=60.0, max_attempts=3)
    assert [testing.delay_s(n, 0.9) for n in (1, 2, 3)] == [0.0, 0.0, 0.0]
    assert normal.delay_s(3, 0.0) == 10.0
    assert [testing.allows_retry(n) for n in (2, 3)] == [True, False]


# --- AIMD ----------------------------------------------------------------------------------------

# (action, now, sent_at or None, expected): "429" expects whether the rate was cut,
# "rate" expects the allowed rate at `now`. Configured 20/s, floor 2, ×0.5, window 2 s; back
# +1/s per second (5 %) up to 0.9 × the rate the 429 came at, then +0.2/s per second (1 %).
AIMD_STEPS: list[tuple[str, float, float | None, float | bool]] = [
    ("rate", 0.0, None, 20.0),
    ("429", 10.0, None, True),  # 20 -> 10, ceiling 20, knee 18
    ("rate", 10.0, None, 10.0),
    ("429", 11.0, None, False),  # inside the window
    ("rate", 10.99, None, 10.0),
    ("rate", 11.0, None, 11.0),
    ("rate", 15.5, None, 15.0),
    ("rate", 18.0, None, 18.0),  # the knee: quick recovery ends
    ("rate", 19.0, None, 18.2),
    ("rate", 23.0, None, 19.0),
    ("rate", 60.0, None, 20.0),  # never above the configured rate
    ("429", 12.5, 9.9, False),  # sent before the last cut
    ("429", 12.5, 10.5, True),  # 12/s -> 6, ceiling 12, knee 10.8
    ("rate", 12.5, None, 6.0),
    ("rate", 17.5, None, 10.8),
    ("rate", 18.5, None, 11.0),
    ("429", 20.0, None, True),  # 11.2/s -> 5.6
    ("rate", 20.0, None, 5.6),
    ("rate", 20.0 + 5 + 25, None, 15.08),
]


def test_aimd_cuts_once_per_window_and_recovers_quickly_then_slowly() -> None:
    """A 429 halves the rate once per window; it climbs fast to 90 % of where the 429 came, then
    slowly to the configured rate."""
    aimd = Aimd(
        20.0,
        floor_per_s=2.0,
        decrease=0.5,
        window_s=2.0,
        recover_fraction=0.05,
        probe_fraction=0.01,
        settle=0.9,
    )
    for action, now, sent_at, expected in AIMD_STEPS:
        if action == "429":
            assert aimd.on_rate_limited(now, sent_at=sent_at) is expected, (action, now)
        else:
            assert aimd.rate_per_s(now) == pytest.approx(expected, abs=0.01), (action, now)
    assert aimd.ceiling_per_s == pytest.approx(11.2)


def test_aimd_never_cuts_below_the_floor() -> None:
    """However hard the cut, the rate stays at or above `floor_per_s`."""
    aimd = Aimd(20.0, floor_per_s=3.0, decrease=0.1)
    assert aimd.on_rate_limited(5.0)
    assert aimd.rate_per_s(5.0) == 3.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rate_per_s": 0.0},
        {"rate_per_s": 5.0, "floor_per_s": 6.0},
        {"rate_per_s": 5.0, "decrease": 0.0},
        {"rate_per_s": 5.0, "recover_every_s": 0.0},
    ],
)
def test_aimd_rejects_nonsense_settings(kwargs: dict[str, float]) -> None:
    """A zero rate, a floor above the rate, a zero factor or no recovery period are refused."""
    with pytest.raises(ValueError):
        Aimd(**kwargs)


# --- PollSchedule ---------------------------------------------------------------------------------


def test_poll_schedule_backs_off_by_half_up_to_the_cap() -> None:
    """Polls wait first_s, then ×1.5 each time, never more than the cap."""
    schedule = PollSchedule(first_s=2.0, factor=1.5, cap_s=30.0)
    delays = [schedule.delay_s(n) for n in range(9)]
    assert delays == pytest.approx([2.0, 3.0, 4.5, 6.75, 10.125, 15.1875, 22.78125, 30.0, 30.0])
    assert schedule.delay_s(100_000) == 30.0


def test_poll_schedule_rejects_negative_poll_counts() -> None:
    """A negative number of polls is a caller bug."""
    with pytest.raises(ValueError):
        PollSchedule().delay_s(-1)


def test_a_runs_share_is_its_ceiling_after_any_429() -> None:
    """A budget's share (here 15 of an account's 20 req/s) is the configured rate: a 429 from
    anyone's traffic cuts it, and however long the recovery, it never goes above the share."""
    from orchestrator.plan import parse_plan

    text = (
        'name = "b"\naccount_id = "1"\n[rate]\naccount_limit_per_s = 20\nshare = 0.75\n'
        '[[steps]]\nkind = "remove"\nnumbers = ["+19195550100"]\n'
    )
    aimd = Aimd(parse_plan(text, "plan.toml").rate.requests_per_s)
    assert aimd.rate_per_s(0.0) == 15.0
    assert aimd.on_rate_limited(1.0)
    assert aimd.rate_per_s(1.0) == 7.5
    assert max(aimd.rate_per_s(1.0 + t) for t in range(0, 100_000, 7)) == 15.0
