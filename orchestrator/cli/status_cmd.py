"""`bwmigrate status`: where a migration stands, any time, even while a run is going."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
from rich.console import Console

from orchestrator.cli.options import default_state_file, json_option, state_option
from orchestrator.cli.progress import print_summary
from orchestrator.text import counted, printable


@click.command()
@state_option("State file (default: the only one in state/).")
@json_option()
def status(state: Path | None, as_json: bool) -> None:
    """Show per-step counts, orders and requests of a migration's state file."""
    from orchestrator.cutover.report import summary  # the store loads with the command
    from orchestrator.state.store import Store

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
        },
    )
    if as_json:
        click.echo(json.dumps(obj, indent=2))
        return
    console = Console(highlight=False)
    running = f"running (pid {holder['pid']})" if holder else "not running"
    console.print(
        f"[bold]{meta.get('plan_name')}[/] against {printable(str(meta.get('target')))}: "
        f"{running}; "
        f"{counted(len(runs), 'run')}; state {path}"
    )
    print_summary(counts, console)
    console.print(
        "Orders: "
        + ", ".join(f"{k} {v}" for k, v in sorted(orders.items()))
        + f". Requests: {obj['requests']['total']} "
        f"({obj['requests']['rate_limited']} rate-limited)."
    )
