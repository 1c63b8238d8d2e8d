"""`bwmigrate status`: where a migration stands, any time, even while a run is going."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
from rich.console import Console

from orchestrator.cli.options import default_state_file, json_option, state_option
from orchestrator.cli.progress import print_summary
from orchestrator.cutover.report import summary
from orchestrator.state.store import Store


@click.command()
@state_option("State file (default: the only one in state/).")
@json_option()
def status(state: Path | None, as_json: bool) -> None:
    """Show per-step counts, orders and requests of a migration's state file."""
    path = state or default_state_file()
    store = Store.open(path, readonly=True)
    try:
        counts = store.counts()
        orders = store.order_counts()
        runs = store.runs()
        meta = store.meta()
        holder = store.lease_holder()
    finally:
        store.close()
    now = time.time()
    elapsed = sum((r["ended_at"] or now) - r["started_at"] for r in runs)
    obj = summary(
        counts,
        orders_submitted=orders.get("submitted", 0) + orders.get("done", 0),
        orders_terminal=orders.get("done", 0),
        requests=sum(r["requests"] for r in runs),
        rate_limited=sum(r["rate_limited"] for r in runs),
        retried=sum(r["retried"] for r in runs),
        elapsed_s=elapsed,
        extra={
            "state": str(path),
            "plan": {"name": meta.get("plan_name"), "hash": meta.get("plan_hash")},
            "target": meta.get("target"),
            "running": holder is not None,
            "runs": len(runs),
            "orders_by_state": orders,
            "budget": _budget(meta),
        },
    )
    if as_json:
        click.echo(json.dumps(obj, indent=2))
        return
    console = Console(highlight=False)
    running = f"running (pid {holder['pid']})" if holder else "not running"
    console.print(
        f"[bold]{meta.get('plan_name')}[/] against {meta.get('target')}: {running}; "
        f"{len(runs)} run(s); state {path}"
    )
    print_summary(counts, console)
    console.print(
        "Orders: "
        + ", ".join(f"{k} {v}" for k, v in sorted(orders.items()))
        + f". Requests: {obj['requests']['total']} "
        f"({obj['requests']['rate_limited']} rate-limited)."
    )
    if obj["budget"] is not None:
        console.print(_budget_line(obj["budget"]))


def _budget(meta: dict[str, str]) -> dict[str, float | None] | None:
    """The budget the last run saved (its share, the rate in use after 429 cuts, the limit)."""
    try:
        saved = json.loads(meta["budget"])
    except (KeyError, ValueError):
        return None
    return saved if isinstance(saved, dict) else None


def _budget_line(b: dict[str, float | None]) -> str:
    """`Budget: 15 req/s of the account's 20 (75%, 5 req/s left for live traffic); in use …`."""
    share, in_use = float(b.get("share_per_s") or 0), float(b.get("in_use_per_s") or 0)
    limit = float(b.get("account_limit_per_s") or 0)
    text = f"Budget: {share:g} req/s"
    if limit:
        text += f" of the account's {limit:g} ({100 * share / limit:.0f}%, "
        text += f"{limit - share:g} req/s left for live traffic)"
    return text + f"; in use {in_use:g} req/s (after 429 cuts)."
