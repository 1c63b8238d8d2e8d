"""`bwmigrate status`: where a migration stands, any time, even while a run is going."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from orchestrator.cli.options import default_state_file, json_option, state_option
from orchestrator.cli.progress import print_summary
from orchestrator.text import counted, printable

if TYPE_CHECKING:  # the store loads with the command, not for --help
    from orchestrator.state.store import StepCounts

_Holder = dict[str, object] | None  # the run holding the state file's lease, if any


@click.command()
@state_option("State file (default: the only one in state/).")
@json_option()
@click.option(
    "--serve",
    is_flag=True,
    help="Serve a read-only live page of the run (charts refreshed every few seconds).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="With --serve: the address to listen on; any but loopback requires a printed token.",
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, help="With --serve: the port (0: any free)."
)
def status(state: Path | None, as_json: bool, serve: bool, host: str, port: int) -> None:
    """Show per-step counts, orders and requests of a migration's state file.

    With --serve: a read-only live page in the browser instead, until Ctrl-C. Its URL is the
    first line on stdout.
    """
    from orchestrator.cutover.report import summary  # the store loads with the command

    path = state or default_state_file()
    if serve:
        if as_json:
            raise click.UsageError("--serve serves a page: not with --json")
        _serve(path, host, port)
        return
    if host != "127.0.0.1" or port:
        raise click.UsageError("--host and --port go with --serve")
    counts, orders, runs, meta, holder = _read(path)
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
        f"{running}; {counted(len(runs), 'run')}; state {path}"
    )
    print_summary(counts, console)
    console.print(
        "Orders: "
        + ", ".join(f"{k} {v}" for k, v in sorted(orders.items()))
        + f". Requests: {obj['requests']['total']} "
        f"({obj['requests']['rate_limited']} rate-limited)."
    )


def _read(
    path: Path,
) -> tuple[list[StepCounts], dict[str, int], list[dict[str, Any]], dict[str, str], _Holder]:
    """What status shows of a state file: step counts, orders by state, runs, meta, lease."""
    from orchestrator.state.store import Store  # the store loads with the command

    store = Store.open(path, readonly=True)
    try:
        return (store.counts(), store.order_counts(), store.runs(), store.meta(),
                store.lease_holder())  # fmt: skip
    finally:
        store.close()


def _serve(path: Path, host: str, port: int) -> None:
    """`status --serve`: check the state file opens, then serve until SIGINT/SIGTERM."""
    from orchestrator.cli.serve import serve_live  # uvicorn only when serving
    from orchestrator.state.store import Store

    Store.open(path, readonly=True).close()  # a missing or foreign file: one line, exit 2

    def ready(url: str, token: str | None) -> None:
        click.echo(url)
        note = (
            f"token required (bound to {host}, not loopback): keep the URL private"
            if token
            else "loopback only"
        )
        click.echo(f"Live page of {path} at {url} ({note}); Ctrl-C to stop.", err=True)

    serve_live(path, host, port, ready)
