"""The dry run's estimate as `--json` and as lines for people: requests, time, and what it
assumes (`orchestrator.plan.estimate` holds the model).

Pure formatting: a compiled plan in, a dict or strings out; prints nothing itself.
"""

from __future__ import annotations

from typing import Any

from orchestrator.plan import REHEARSAL_MAX_ORDER_S, CompiledPlan, estimate

__all__ = ["duration", "estimate_lines", "estimate_summary"]

_BUSY = 0.9  # a rate used this much of the time is what limits the run


def estimate_summary(plan: CompiledPlan) -> dict[str, Any]:
    """The `estimate` object of the dry run's `--json`: creates, polls, requests, time, how much
    of the time the rate is used, the same for a rehearsal, and the assumptions."""
    live = estimate(plan)
    rehearsal_s = min(plan.spec.rate.expected_order_s, REHEARSAL_MAX_ORDER_S)
    rehearsal = estimate(plan, order_s=rehearsal_s)
    return {
        "creates": live.creates,
        "polls": live.polls,
        "api_calls": live.api_calls,
        "eta_s": round(live.eta_s, 1),
        "rate_busy": round(live.rate_busy, 3),
        "limit": "requests_per_s" if live.rate_busy >= _BUSY else "max_orders_in_flight",
        "extrapolated": live.extrapolated,
        "rehearsal": {
            "order_s": rehearsal_s,
            "api_calls": rehearsal.api_calls,
            "eta_s": round(rehearsal.eta_s, 1),
        },
        "assumptions": live.assumptions.as_dict(),
    }


def estimate_lines(est: dict[str, Any]) -> list[str]:
    """The estimate (`estimate_summary`) for people: the figures, then what they assume."""
    a = est["assumptions"]
    offsets = ", ".join(f"{t:g}" for t in a["poll_offsets_s"])
    busy = f"{100 * est['rate_busy']:.0f}%"
    limit = (
        f"the request rate is the limit (used {busy} of the time)"
        if est["limit"] == "requests_per_s"
        else f"orders in flight and order time are the limit (the rate is used {busy} of the time)"
    )
    lines = [
        f"Orders: {est['creates']}  API calls (estimate): {est['api_calls']} = {est['creates']} "
        f"creates + {est['polls']} polls at {a['requests_per_s']:g} req/s -> about "
        f"{duration(est['eta_s'])}; {limit}",
        f"  assumes: orders terminal {a['order_s']:g} s after their create (expected_order_s), "
        f"looked at {offsets} s after it{_READS.get(a.get('status_reads', ''), '')}; at most "
        f"{a['max_orders_in_flight']} orders in flight; "
        "every number succeeds (each order has its SMS/A2P orders); no 429s or retries",
    ]
    rehearsal = est["rehearsal"]
    if rehearsal["order_s"] != a["order_s"]:
        lines.append(
            f"  a rehearsal (run --sandbox, orders of {rehearsal['order_s']:g} s): "
            f"{rehearsal['api_calls']} calls, about {duration(rehearsal['eta_s'])}"
        )
    return lines


_READS = {
    "batched": " (one order-list read serves the orders looking within half a poll interval)",
    "per_order": " (one GET per order per look)",
}


def duration(seconds: float) -> str:
    """Human duration: 42s, 3m 05s, 2h 10m."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"
