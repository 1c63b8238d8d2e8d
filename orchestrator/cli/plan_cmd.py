"""`bwmigrate plan`: the dry run. Compile a plan, show what would be sent, send nothing."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from orchestrator.cli.loading import load_plan
from orchestrator.errors import ExitCode, InputError
from orchestrator.plan import CompiledPlan, StepKind, estimate, iter_compiled_rows
from orchestrator.xml import build_import_order, build_remove_order, build_tn_option_order

_LIST_LIMIT = 50  # invalid numbers / duplicates listed in human output


def plan_summary(plan: CompiledPlan) -> dict[str, Any]:
    """The dry run as one JSON-ready object (the `--json` contract)."""
    est = estimate(plan)
    return {
        "plan": {
            "name": plan.spec.name,
            "hash": plan.hash,
            "path": plan.spec.path,
            "account_id": plan.spec.account_id,
            "country": plan.spec.country,
            "batch_size": plan.spec.batch_size,
        },
        "numbers": {
            "total": plan.input_count,
            "valid": plan.valid_count,
            "invalid": len(plan.invalid),
            "duplicates": len(plan.duplicates),
        },
        "steps": [
            {
                "step": s.spec.name,
                "kind": s.spec.kind.value,
                "numbers": len(s.numbers),
                "invalid": s.invalid_count,
                "duplicates": s.duplicate_count,
                "orders": len(s.orders),
                "chained_messaging_orders": len(s.orders) if s.spec.enable_messaging else 0,
                "settings": s.spec.settings(),
            }
            for s in plan.steps
        ],
        "orders": est.orders + est.chained_orders,
        "api_calls_estimate": est.api_calls,
        "eta_s": round(est.eta_s, 1),
        "rate": {"requests_per_s": plan.spec.rate.requests_per_s},
        "invalid": [
            {
                "input": e.raw,
                "source": e.location,
                "reason": e.reason,
                "message": e.message,
                "step": plan.steps[e.step_index].spec.name,
            }
            for e in plan.invalid
        ],
        "duplicates": [
            {
                "number": d.number,
                "source": d.location,
                "first_source": d.first_location,
                "step": plan.steps[d.step_index].spec.name,
            }
            for d in plan.duplicates
        ],
    }


def first_order_xml(plan: CompiledPlan) -> list[tuple[str, bytes]]:
    """The body of the first order of each step (and of its chained TN option order)."""
    out: list[tuple[str, bytes]] = []
    for step in plan.steps:
        if not step.orders:
            continue
        order, s = step.orders[0], step.spec
        if s.kind is StepKind.IMPORT:
            body = build_import_order(
                customer_order_id=order.customer_order_id,
                site_id=s.site_id or "",
                sip_peer_id=s.sip_peer_id,
                loa_type=s.loa_type,
                numbers=order.numbers,
                subscriber=s.subscriber,
                loa_authorizing_person=s.loa_authorizing_person,
            )
            out.append((f"{s.name}: POST importTnOrders/messaging", body))
            if s.enable_messaging:
                out.append(
                    (
                        f"{s.name}: POST tnoptions (chained, for the numbers imported)",
                        build_tn_option_order(
                            customer_order_id=order.customer_order_id + "-M",
                            sms="on",
                            a2p=s.a2p,
                            numbers=order.numbers,
                        ),
                    )
                )
        elif s.kind is StepKind.REMOVE:
            out.append(
                (
                    f"{s.name}: POST removeImportedTnOrders/messaging",
                    build_remove_order(
                        customer_order_id=order.customer_order_id, numbers=order.numbers
                    ),
                )
            )
        else:
            out.append(
                (
                    f"{s.name}: POST tnoptions",
                    build_tn_option_order(
                        customer_order_id=order.customer_order_id,
                        sms=s.sms,
                        a2p=s.a2p,
                        numbers=order.numbers,
                    ),
                )
            )
    return out


def _duration(seconds: float) -> str:
    """Human duration: 42s, 3m 05s, 2h 10m."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


def _print_human(plan: CompiledPlan, summary: dict[str, Any], console: Console) -> None:
    """The dry run for people."""
    spec = plan.spec
    console.print(
        f"[bold]Plan {spec.name}[/]  account {spec.account_id}  default country "
        f"{spec.country}  batch size {spec.batch_size}  hash {plan.hash[:12]}"
    )
    table = Table(show_edge=False, pad_edge=False)
    for col in ("step", "kind", "read", "valid", "invalid", "duplicate", "orders"):
        table.add_column(col, justify="left" if col in ("step", "kind") else "right")
    for s in plan.steps:
        orders = str(len(s.orders)) + (f" +{len(s.orders)} sms" if s.spec.enable_messaging else "")
        table.add_row(
            s.spec.name,
            s.spec.kind.value,
            str(s.input_count),
            str(len(s.numbers)),
            str(s.invalid_count),
            str(s.duplicate_count),
            orders,
        )
    console.print(table)
    n = summary["numbers"]
    console.print(
        f"Numbers: {n['valid']} to send, {n['invalid']} invalid (excluded), "
        f"{n['duplicates']} duplicates dropped"
    )
    console.print(
        f"Orders: {summary['orders']}  API calls (estimate): "
        f"{summary['api_calls_estimate']}  at {spec.rate.requests_per_s:g} req/s "
        f"-> about {_duration(summary['eta_s'])}"
    )
    if plan.invalid:
        console.print(f"\n[bold]Invalid numbers[/] ({len(plan.invalid)}):")
        for e in plan.invalid[:_LIST_LIMIT]:
            console.print(f"  {e.location}  {e.message}", markup=False)
        if len(plan.invalid) > _LIST_LIMIT:
            console.print(f"  ... and {len(plan.invalid) - _LIST_LIMIT} more (see --json)")
    if plan.duplicates:
        console.print(f"\n[bold]Duplicates dropped[/] ({len(plan.duplicates)}):")
        for d in plan.duplicates[:_LIST_LIMIT]:
            console.print(f"  {d.location}  {d.number} (first at {d.first_location})", markup=False)
        if len(plan.duplicates) > _LIST_LIMIT:
            console.print(f"  ... and {len(plan.duplicates) - _LIST_LIMIT} more (see --json)")
    console.print("\nDry run: nothing was sent.")


def write_compiled(plan: CompiledPlan, out: Path, summary: dict[str, Any]) -> None:
    """Write the compiled plan as JSON Lines: a header object, then one object per number."""
    header = {
        "type": "plan",
        "plan": summary["plan"],
        "numbers": summary["numbers"],
        "steps": summary["steps"],
        "invalid": summary["invalid"],
    }
    try:
        with out.open("w", encoding="utf-8") as fh:
            fh.write(json.dumps(header) + "\n")
            for row in iter_compiled_rows(plan):
                fh.write(json.dumps({"type": "number", **row}) + "\n")
    except OSError as exc:
        raise InputError(f"{out}: cannot write the compiled plan ({exc.strerror})") from exc


@click.command()
@click.argument("plan_path", metavar="PLAN", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the compiled plan (every number, E.164, source, order) as JSON Lines.",
)
@click.option("--show-xml", is_flag=True, help="Print the body of each step's first order.")
def plan(plan_path: Path, as_json: bool, out: Path | None, show_xml: bool) -> None:
    """Dry run: validate PLAN, normalise numbers, cut orders, estimate calls and time.

    Nothing is sent. Exit 0 when every number is valid, 1 when some were invalid (they are
    excluded and listed), 2 when the plan cannot be used.
    """
    compiled = load_plan(plan_path)
    summary = plan_summary(compiled)
    if out is not None:
        write_compiled(compiled, out, summary)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        console = Console(highlight=False, soft_wrap=True)
        _print_human(compiled, summary, console)
        if out is not None:
            console.print(f"Compiled plan written to {out}")
    if show_xml:
        for title, body in first_order_xml(compiled):
            click.echo(f"\n--- {title}", err=as_json)
            click.echo(body.decode("utf-8"), err=as_json)
    sys.exit(int(ExitCode.FAILED_NUMBERS if compiled.invalid else ExitCode.OK))
