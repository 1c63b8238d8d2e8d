"""The run summary's number counts: documented keys in order, open numbers counted as pending."""

from __future__ import annotations

import json

from orchestrator.cutover.report import summary
from orchestrator.state.schema import NumberStatus, StepCounts


def _summary(*steps: StepCounts) -> dict[str, object]:
    return summary(
        steps,
        orders_submitted=3,
        orders_terminal=2,
        requests=9,
        rate_limited=1,
        retried=0,
        elapsed_s=1.23456,
    )


def test_counts_keep_their_documented_keys_and_order() -> None:
    """Per step and in total: total, succeeded, failed, skipped, needs_action, unknown, pending
    (the order `--json` has always printed them in)."""
    step = StepCounts(0, "imp", "import", total=7, pending=1, in_order=2, succeeded=1, failed=1,
                      skipped=1, needs_action=0, unknown=1)  # fmt: skip
    out = _summary(step)
    keys = ["total", "succeeded", "failed", "skipped", "needs_action", "unknown", "pending"]
    assert list(json.loads(json.dumps(out))["numbers"]) == keys
    assert [k for k in out["steps"][0] if k not in ("step", "kind")] == keys  # type: ignore[index]


def test_numbers_in_open_orders_count_as_pending_and_steps_add_up() -> None:
    """`pending` is pending plus in_order; the totals are the steps' sums."""
    a = StepCounts(0, "imp", "import", total=6, pending=1, in_order=2, succeeded=3)
    b = StepCounts(1, "rem", "remove", total=4, failed=1, needs_action=2, unknown=1)
    out = _summary(a, b)
    assert out["numbers"] == {
        "total": 10,
        "succeeded": 3,
        "failed": 1,
        "skipped": 0,
        "needs_action": 2,
        "unknown": 1,
        "pending": 3,
    }
    assert out["steps"][1]["pending"] == 0  # type: ignore[index]


def test_step_counts_read_and_add_by_status() -> None:
    """`StepCounts.of` and `.add` reach the counter of each status, and only that one."""
    counts = StepCounts(0, "imp", "import")
    for n, status in enumerate(NumberStatus, start=1):
        counts.add(status, n)
    assert [counts.of(s) for s in NumberStatus] == list(range(1, len(NumberStatus) + 1))
    assert counts.total == 0
