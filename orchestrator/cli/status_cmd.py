"""`bwmigrate status`: where a migration stands, any time, even while a run is going.

Imports: `--help` loads no heavy library (tests/e2e/test_startup_imports.py), so the store
(SQLAlchemy, lxml), the report, the credentials (httpx), the live page's server (uvicorn) and
the fleet view are imported inside the function that needs them, marked `# lazy:`; the store
only through `_open_readonly`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from orchestrator.cli.options import default_state_file, json_option, state_option
from orchestrator.cli.progress import print_summary
from orchestrator.errors import StateFileError
from orchestrator.state.postgres import PgLocation, StateLocation
from orchestrator.text import counted, printable

if TYPE_CHECKING:
    from orchestrator.state.store import Store


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
def status(state: StateLocation | None, as_json: bool, serve: bool, host: str, port: int) -> None:
    """Show per-step counts, orders and requests of a migration's state file.

    With --serve: a read-only live page in the browser instead, until Ctrl-C. Its URL is the
    first line on stdout.
    """
    if isinstance(state, PgLocation) and state.plan is None and not serve:
        from orchestrator.cli.fleet_view import show_fleet  # lazy: the store

        show_fleet(state, as_json)
        return
    path = state or default_state_file()
    if serve:
        if as_json:
            raise click.UsageError("--serve serves a page: not with --json")
        _serve(path, host, port)
        return
    if host != "127.0.0.1" or port:
        raise click.UsageError("--host and --port go with --serve")
    parts, damage = _read_what_can_be_read(path)
    obj = _build_status(parts, path)
    if damage is not None:
        obj["unreadable"] = sorted(damage.parts)
    if as_json:
        click.echo(json.dumps(obj, indent=2))
        _raise_damage(damage)
        return
    _print_status(obj, parts["counts"], parts["orders"], parts["meta"], parts["holder"], path)
    _raise_damage(damage)


def _build_status(parts: dict[str, Any], path: StateLocation) -> dict[str, Any]:
    """The status object (`--json`) of what `_read_what_can_be_read` read."""
    from orchestrator.cutover.report import summary  # lazy: the store

    counts, orders, runs, meta = parts["counts"], parts["orders"], parts["runs"], parts["meta"]
    now = time.time()
    elapsed = sum((r["ended_at"] or now) - r["started_at"] for r in runs)
    return summary(
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
            "target": _shown_target(meta),
            "running": parts["holder"] is not None,
            "runs": len(runs),
            "orders_by_state": orders,
            "budget": _budget(meta),
        },
    )


def _print_status(
    obj: dict[str, Any],
    counts: Any,
    orders: dict[str, int],
    meta: dict[str, str],
    holder: dict[str, Any] | None,
    path: StateLocation,
) -> None:
    """The status as text: the run's line, the per-step table, orders, requests and budget."""
    console = Console(highlight=False)
    running = f"running (pid {holder['pid']})" if holder else "not running"
    console.print(
        f"[bold]{meta.get('plan_name')}[/] against {printable(str(_shown_target(meta)))}: "
        f"{running}; {counted(obj['runs'], 'run')}; state {path}"
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


def _serve(path: StateLocation, host: str, port: int) -> None:
    """`status --serve`: check the state file opens, then serve until SIGINT/SIGTERM."""
    from orchestrator.cli.serve import serve_live  # lazy: uvicorn, only when serving

    _open_readonly(path).close()  # a missing or foreign file: one line, exit 2

    def ready(url: str, token: str | None) -> None:
        click.echo(url)
        note = (
            f"token required (bound to {host}, not loopback): keep the URL private"
            if token
            else "loopback only"
        )
        click.echo(f"Live page of {path} at {url} ({note}); Ctrl-C to stop.", err=True)

    serve_live(path, host, port, ready)


_EMPTY: dict[str, Any] = {"counts": [], "orders": {}, "runs": [], "meta": {}, "holder": None}


def _shown_target(meta: dict[str, str]) -> str | None:
    """The run's target as it may be shown (a file made before URLs carrying a secret were
    refused may still hold one)."""
    from orchestrator.api.credentials import redact_url  # lazy: httpx

    target = meta.get("target")
    return redact_url(target) if target is not None else None


@dataclass
class _Damage:
    """What a damaged state file would not give, and SQLite's first complaint."""

    path: StateLocation
    error: StateFileError
    parts: list[str]


def _open_readonly(path: StateLocation) -> Store:
    """The state, opened read-only (a missing or foreign file: `StateFileError`)."""
    from orchestrator.state.store import Store  # lazy: SQLAlchemy, lxml

    return Store.open(path, readonly=True)


def _read_what_can_be_read(path: StateLocation) -> tuple[dict[str, Any], _Damage | None]:
    """Each part of the status read on its own: a damaged page loses only what lies on it."""
    store = _open_readonly(path)
    parts, damage = dict(_EMPTY), None
    readers: dict[str, Callable[[], Any]] = {
        "counts": store.counts,
        "orders": store.order_counts,
        "runs": store.runs,
        "meta": store.meta,
        "holder": store.lease_holder,
    }
    try:
        for name, read in readers.items():
            try:
                parts[name] = read()
            except StateFileError as exc:
                damage = damage or _Damage(path, exc, [])
                damage.parts.append(name)
    finally:
        store.close()
    return parts, damage


def _raise_damage(damage: _Damage | None) -> None:
    """After showing what could be read: one line naming what could not, and what to do."""
    if damage is None:
        return
    cause = damage.error.__cause__
    said = " ".join(str(cause).split()) if cause is not None else str(damage.error)
    raise StateFileError(
        f"{damage.path}: the state file is damaged ({said}); status could not read its "
        f"{', '.join(damage.parts)} (what it could read is shown above): restore the file from "
        "a backup before running or reporting from it"
    )


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
