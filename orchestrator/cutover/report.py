"""Run summaries and per-number reports: the `--json` object of `run`/`status`, CSV and JSON rows.

Turns what the store holds (step counts, order counts, report rows) into the documented shapes;
the count keys are `NumberStatus` values. Writes to a text stream the caller opened; reads no
environment, prints nothing itself.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from orchestrator.plan.numbers import to_legacy
from orchestrator.state.store import NumberStatus, ReportRow, StepCounts
from orchestrator.text import csv_cell

NumberFormat = Literal["e164", "legacy"]

REPORT_COLUMNS = (
    "step",
    "kind",
    "number",
    "input",
    "source",
    "status",
    "order_id",
    "customer_order_id",
    "error_code",
    "error_description",
    "note",
    "attempts",
    "updated_at",
)


# The statuses a summary counts, in its documented key order; `pending` comes last and includes
# the numbers sitting in open orders (`in_order`).
_COUNTED = (
    NumberStatus.SUCCEEDED,
    NumberStatus.FAILED,
    NumberStatus.SKIPPED,
    NumberStatus.NEEDS_ACTION,
    NumberStatus.UNKNOWN,
)
_COUNT_KEYS = ("total", *(s.value for s in _COUNTED), NumberStatus.PENDING.value)


def _counts(c: StepCounts) -> dict[str, int]:
    """The documented per-step counts (keys in `_COUNT_KEYS` order)."""
    out = {"total": c.total}
    out.update((s.value, c.of(s)) for s in _COUNTED)
    out[NumberStatus.PENDING.value] = c.of(NumberStatus.PENDING) + c.of(NumberStatus.IN_ORDER)
    return out


def summary(
    steps: Sequence[StepCounts],
    *,
    orders_submitted: int,
    orders_terminal: int,
    requests: int,
    rate_limited: int,
    retried: int,
    elapsed_s: float,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The object `run --json` and `status --json` print."""
    totals = dict.fromkeys(_COUNT_KEYS, 0)
    per_step = []
    for c in steps:
        counts = _counts(c)
        for k, v in counts.items():
            totals[k] += v
        per_step.append({"step": c.name, "kind": c.kind, **counts})
    out: dict[str, Any] = {
        "numbers": totals,
        "steps": per_step,
        "orders": {"submitted": orders_submitted, "terminal": orders_terminal},
        "requests": {"total": requests, "rate_limited": rate_limited, "retried": retried},
        "elapsed_s": round(elapsed_s, 3),
    }
    if extra:
        out.update(extra)
    return out


def _format(number: str | None, fmt: NumberFormat) -> str:
    """A number in the requested format (LEGACY: 10 digits for +1, E.164 otherwise)."""
    if number is None:
        return ""
    return to_legacy(number) if fmt == "legacy" else number


def _iso(ts: float) -> str:
    """Epoch seconds as an ISO-8601 UTC timestamp."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts else ""


def report_dict(row: ReportRow, fmt: NumberFormat) -> dict[str, Any]:
    """One report row as a plain dict with the documented column names."""
    return {
        "step": row.step,
        "kind": row.kind,
        "number": _format(row.e164, fmt),
        "input": row.input,
        "source": row.source,
        "status": row.status,
        "order_id": row.order_id or "",
        "customer_order_id": row.customer_order_id or "",
        "error_code": row.error_code or "",
        "error_description": row.error_description or "",
        "note": row.note or "",
        "attempts": row.attempts,
        "updated_at": _iso(row.updated_at),
    }


def write_csv(rows: Iterable[ReportRow], out: TextIO, fmt: NumberFormat = "e164") -> int:
    """Write the report as CSV with a header; return the number of rows. Every text cell goes
    through `csv_cell`: an input like `=HYPERLINK(...)` is never a formula, E.164 is exact."""
    writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    n = 0
    for row in rows:
        cells = report_dict(row, fmt)
        writer.writerow({k: csv_cell(v) if isinstance(v, str) else v for k, v in cells.items()})
        n += 1
    return n


def write_json(rows: Iterable[ReportRow], out: TextIO, fmt: NumberFormat = "e164") -> int:
    """Write the report as one JSON array, streamed row by row; return the number of rows."""
    out.write("[")
    n = 0
    for row in rows:
        out.write(",\n" if n else "\n")
        out.write(json.dumps(report_dict(row, fmt)))
        n += 1
    out.write("\n]\n")
    return n
