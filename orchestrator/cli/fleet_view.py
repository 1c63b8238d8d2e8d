"""`bwmigrate status --state postgresql://HOST/DATABASE`: every plan of the fleet (its job, the
worker driving it, progress, request rate, failures) and the fleet's totals, as text or JSON.
Plans whose state is in the database without being in the fleet (run with `bwmigrate run PLAN
--state URL`) are listed too, marked `"in_fleet": false` (job "outside"), and counted.

Reads the registry, procrastinate's jobs and each plan's own schema (read-only, through
`Store`); writes nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection
from typing import Any

import click

from orchestrator.text import counted

_COUNTED = ("succeeded", "failed", "skipped", "needs_action", "unknown", "pending")


def read_fleet(database: Any, names: Collection[str] | None = None) -> dict[str, Any]:
    """The fleet as one JSON-ready dict: `plans` (one entry each) and `totals`; with `names`,
    only those plans are read (each entry opens its plan's schema)."""
    import anyio

    from orchestrator.cutover.fleet import job_states, translated_errors
    from orchestrator.state.fleet_registry import FleetPlan, read_plan_states, read_plans

    def wanted(name: str) -> bool:
        return names is None or name in names

    registered = [p for p in read_plans(database) if wanted(p.name)]
    with translated_errors(database):
        jobs = anyio.run(job_states, database)
    plans = [_plan_entry(p, jobs.get(p.name), database) for p in registered]
    known = {p.name for p in registered}
    for name, facts in sorted(read_plan_states(database).items()):
        if name not in known and wanted(name):
            outside = FleetPlan(name, facts.get("account_id", ""), facts.get("plan_path", ""),
                                "", 0, 0.0)  # fmt: skip
            plans.append(_plan_entry(outside, ("outside", 0), database) | {"in_fleet": False})
    totals: dict[str, Any] = {"plans": len(plans), "numbers": 0, "requests": 0}
    totals |= dict.fromkeys(_COUNTED, 0)
    for entry in plans:
        for key in ("numbers", "requests", *_COUNTED):
            totals[key] += entry[key]
    totals["finished_plans"] = sum(1 for e in plans if _finished(e))
    totals["outside_plans"] = sum(1 for e in plans if not e["in_fleet"])
    return {"database": database.url, "plans": plans, "totals": totals}


def _finished(entry: dict[str, Any]) -> bool:
    """A fleet plan is finished when its job succeeded; a plan run outside the fleet when no
    run holds it and none of its numbers is pending."""
    if entry["in_fleet"]:
        return bool(entry["job"] == "succeeded")
    return entry["owner"] is None and entry["pending"] == 0 and entry["numbers"] > 0


def open_plan_state(location: Any) -> Any:
    """A plan's state opened read-only, or None while it has none (no schema yet, or its first
    run is creating it now)."""
    from orchestrator.errors import EmptyStateError
    from orchestrator.state.store import Store

    try:
        return Store.open(location, readonly=True) if Store.exists(location) else None
    except EmptyStateError:
        return None


def _plan_entry(plan: Any, job: tuple[str, int] | None, database: Any) -> dict[str, Any]:
    """One plan's line: registry facts, its job, and its progress read from its schema."""
    entry: dict[str, Any] = {
        "name": plan.name, "account_id": plan.account_id, "numbers": plan.numbers,
        "job": job[0] if job else "none", "attempts": job[1] if job else 0,
        "owner": None, "last_worker": plan.last_worker, "last_exit": plan.last_exit,
        "requests": 0, "rate_per_s": 0.0, "in_fleet": True, **dict.fromkeys(_COUNTED, 0),
    }  # fmt: skip
    store = open_plan_state(database.for_plan(plan.name))
    if store is None:
        entry["pending"] = plan.numbers
        return entry
    try:
        counts, runs, holder = store.counts(), store.runs(), store.lease_holder()
    finally:
        store.close()
    entry["numbers"] = sum(c.total for c in counts)
    for key in _COUNTED:
        entry[key] = sum(getattr(c, key) for c in counts)
    entry["pending"] += sum(c.in_order for c in counts)
    if holder:
        entry["owner"] = f"{holder.get('host')}:{holder.get('pid')}"
    now = time.time()
    elapsed = sum((r["ended_at"] or now) - r["started_at"] for r in runs)
    entry["requests"] = sum(r["requests"] or 0 for r in runs)
    entry["rate_per_s"] = round(entry["requests"] / elapsed, 2) if elapsed > 0 else 0.0
    return entry


def show_fleet(database: Any, as_json: bool) -> None:
    """Print the fleet's status: JSON on stdout, or a table of plans and the totals."""
    fleet = read_fleet(database)
    if as_json:
        click.echo(json.dumps(fleet, indent=2))
        return
    t = fleet["totals"]
    look_at = t["needs_action"] + t["unknown"]
    lines = [f"Fleet in {fleet['database']}: {counted(t['plans'], 'plan')}, "
             f"{t['finished_plans']} finished; {counted(t['numbers'], 'number')}: "
             f"{t['succeeded']} succeeded, {t['failed']} failed, {t['pending']} pending, "
             f"{look_at} to look at; {t['requests']} requests"]  # fmt: skip
    if t["outside_plans"]:
        lines[0] += f"; {counted(t['outside_plans'], 'plan')} run outside the fleet"
    for p in fleet["plans"]:
        owner = p["owner"] or (f"last {p['last_worker']}" if p["last_worker"] else "-")
        job = p["job"] if p["in_fleet"] else "outside the fleet (bwmigrate run)"
        lines.append(
            f"  {p['name']} (account {p['account_id']}): {job}, worker {owner}, "
            f"{p['succeeded']}/{p['numbers']} succeeded, {p['failed']} failed, "
            f"{p['pending']} pending, {p['rate_per_s']} req/s"
        )
    click.echo("\n".join(lines))
