"""What the HTML report and the live status page show, read from a state file and its audit log.

`read_run_view` opens the state file read-only (SQLite `mode=ro`: a run in progress is never
locked or slowed beyond its readers' share of the disk) and the audit log as it stands, and
returns a `RunView`: plain data, no markup. `orchestrator.cutover.html_report` draws it.

Reads files; reads no environment, prints nothing. Must not import the cli wing.
"""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from orchestrator import __version__
from orchestrator.cutover.timeline import Timeline, build_timeline, exchange_times
from orchestrator.errors import ExitCode, InputError
from orchestrator.state.audit import audit_path, read_audit
from orchestrator.state.store import NumberStatus, ReportRow, StateLocation, StepCounts, Store

STATUSES = ("succeeded", "failed", "skipped", "needs_action", "unknown", "pending")
TROUBLE = frozenset({"failed", "needs_action", "unknown"})
FIRST_FEW = 10


@dataclass(slots=True)
class FailureGroup:
    """Numbers that ended the same way: one status, one API code."""

    status: str
    code: str
    description: str
    numbers: list[str] = field(default_factory=list)


@dataclass(slots=True)
class StepView:
    """One step with its settings and counts (the keys of `STATUSES`, plus `total`)."""

    name: str
    kind: str
    settings: dict[str, Any]
    counts: dict[str, int]


@dataclass(slots=True)
class RunView:
    """Everything the pages show about one state file."""

    state: str
    plan_name: str
    plan_hash: str
    account_id: str
    target: str
    version: str
    rate: dict[str, Any]
    steps: list[StepView]
    totals: dict[str, int]
    verdict: str
    running: bool
    actual: dict[str, Any]
    estimate: dict[str, Any] | None
    timeline: Timeline
    failures: list[FailureGroup]
    rows: list[ReportRow] = field(default_factory=list)


def redact_target(target: str) -> str:
    """A target URL without user info, query or fragment ("sandbox" stays as is)."""
    parts = urlsplit(target)
    if not parts.scheme or not parts.hostname:
        return target.split("?", 1)[0].split("@")[-1]
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _counts(c: StepCounts) -> dict[str, int]:
    """A step's counts by status; `pending` includes numbers in open orders."""
    out = {"total": c.total}
    for s in STATUSES[:-1]:
        out[s] = c.of(NumberStatus(s))
    out["pending"] = c.of(NumberStatus.PENDING) + c.of(NumberStatus.IN_ORDER)
    return out


def verdict(totals: dict[str, int], runs: list[dict[str, Any]], running: bool) -> str:
    """The outcome in words, with the exit code the last run ended with."""
    trouble = totals["failed"] + totals["unknown"]
    if running:
        return f"In progress: {totals['total'] - totals['pending']} of {totals['total']} finished."
    if not runs:
        return "Not run yet: nothing has been sent."
    code = runs[-1]["exit_code"]
    if code is None:
        return "The last run stopped without recording an end (killed?): run it again to resume."
    if code == ExitCode.INTERRUPTED:
        return "Interrupted (exit 130), state saved: run the same command to resume."
    if code == ExitCode.ABORTED:
        return "Aborted (exit 3): see the failures below, fix the cause, run again to resume."
    if trouble:
        return (
            f"Finished with {trouble} number(s) failed or unknown (exit 1); "
            f"{totals['succeeded']} succeeded."
        )
    return f"Done (exit 0): all {totals['succeeded']} numbers that could succeed succeeded."


def _rate(plan_text: str) -> dict[str, Any]:
    """The plan's [rate] table as stored (empty if the text cannot be read)."""
    try:
        rate = tomllib.loads(plan_text).get("rate", {})
    except tomllib.TOMLDecodeError:
        return {}
    return rate if isinstance(rate, dict) else {}


def _failures(rows: list[ReportRow]) -> list[FailureGroup]:
    """Numbers that failed, need action or are unknown, grouped by status and code; a group
    whose numbers carry different descriptions (the plan's reasons for invalid inputs) names
    the most common one and says how many others the table shows."""
    groups: dict[tuple[str, str], tuple[FailureGroup, Counter[str]]] = {}
    for r in rows:
        if r.status not in TROUBLE:
            continue
        key = (r.status, r.error_code or "")
        if key not in groups:
            groups[key] = (FailureGroup(r.status, key[1], ""), Counter())
        group, descriptions = groups[key]
        descriptions[r.error_description or r.note or ""] += 1
        group.numbers.append(r.e164 or r.input)
    for group, descriptions in groups.values():
        (group.description, _), *others = descriptions.most_common()
        if others:
            group.description += (
                f" (and {len(others)} other description(s): each number's is in the table)"
            )
    return sorted(
        (g for g, _ in groups.values()), key=lambda g: (-len(g.numbers), g.status, g.code)
    )


def _audit_lines(state: StateLocation) -> Iterator[dict[str, Any]]:
    """The audit log's lines, or none if there is no log yet."""
    try:
        yield from read_audit(audit_path(state))
    except InputError:
        return


def _estimate(meta: dict[str, str]) -> dict[str, Any] | None:
    """The dry run's estimate recorded when the plan was stored (None for older files)."""
    try:
        value = json.loads(meta["estimate"])
    except (KeyError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def read_run_view(state: StateLocation, *, now: float, with_rows: bool = True) -> RunView:
    """Read a state file (read-only) and its audit log into a `RunView`."""
    store = Store.open(state, readonly=True)
    try:
        meta, runs, holder = store.meta(), store.runs(), store.lease_holder()
        steps = [
            StepView(s.name, s.kind.value, s.settings, _counts(c))
            for s, c in zip(store.steps(), store.counts(), strict=True)
        ]
        spans, finished = store.order_spans(), store.finish_times()
        trouble = tuple(NumberStatus(t) for t in sorted(TROUBLE))
        rows = list(store.iter_report() if with_rows else store.iter_report(statuses=trouble))
    finally:
        store.close()
    totals = {k: sum(s.counts[k] for s in steps) for k in ("total", *STATUSES)}
    running = holder is not None
    rate = _rate(meta.get("plan_text", ""))
    exchanges = exchange_times(_audit_lines(state))
    timeline = build_timeline(
        exchanges,
        spans,
        finished,
        runs,
        rate_per_s=float(rate.get("requests_per_s", 10.0)),
        now=now,
        running=running,
    )
    elapsed = sum((r["ended_at"] or now) - r["started_at"] for r in runs)
    actual = {
        "orders": len(spans),
        "api_calls": len(exchanges),
        "elapsed_s": round(elapsed, 1),
        "runs": len(runs),
        "rate_limited": sum(r["rate_limited"] for r in runs),
    }
    return RunView(
        state=str(state),
        plan_name=meta.get("plan_name", ""),
        plan_hash=meta.get("plan_hash", ""),
        account_id=meta.get("account_id", ""),
        target=redact_target(meta.get("target", "")),
        version=__version__,
        rate=rate,
        steps=steps,
        totals=totals,
        verdict=verdict(totals, runs, running),
        running=running,
        actual=actual,
        estimate=_estimate(meta),
        timeline=timeline,
        failures=_failures(rows),
        rows=rows if with_rows else [],
    )
