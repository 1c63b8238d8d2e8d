"""`bwmigrate report`: one row per number and step with its outcome, as CSV or JSON; with
`--audit`, one row per API exchange read back from the state file's audit log."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import click

from orchestrator.cli.options import default_state_file, force_option, out_option, state_option
from orchestrator.cli.output import Input, check_output, state_inputs, stored_plan_inputs
from orchestrator.errors import BwmigrateError, InputError
from orchestrator.plan.numbers import NumberRejectedError, normalize_number, to_legacy
from orchestrator.state.postgres import StateLocation
from orchestrator.text import counted


def _audit_lines(
    path: Path, numbers: tuple[str, ...], order: str | None, run: int | None
) -> Iterator[dict[str, Any]]:
    """Exchange lines of an audit log, filtered."""
    from orchestrator.state.audit import OrderFilter, involves, read_audit

    about_order = OrderFilter(order) if order is not None else None
    for line in read_audit(path):
        if line.get("type") != "exchange":
            continue
        if run is not None and line.get("run") != run:
            continue
        if about_order is not None and not about_order(line):
            continue
        if numbers and not any(involves(line, n) for n in numbers):
            continue
        yield line


def _e164(raw: str) -> str:
    try:
        return normalize_number(raw)
    except NumberRejectedError as exc:
        raise click.UsageError(f"--number: {exc}") from None


def _legacy(number: str) -> str:
    """An audit line's number in LEGACY format (left as is if it is not E.164)."""
    try:
        return to_legacy(number)
    except ValueError:
        return number


@click.command()
@state_option("State file (default: the only one in state/).")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "--number-format",
    type=click.Choice(["e164", "legacy"]),
    default="e164",
    show_default=True,
    help="legacy: 10 digits for +1 numbers, E.164 for the rest.",
)
@out_option("Write to FILE instead of stdout (never the state file, its audit log or the plan).")
@force_option("Overwrite an existing --out or --html file.")
@click.option(
    "--audit",
    is_flag=True,
    help="Report the audit log instead: one row per API request and answer.",
)
@click.option(
    "--number",
    "numbers",
    multiple=True,
    metavar="N",
    help="With --audit: only exchanges carrying this number (repeatable).",
)
@click.option("--order", metavar="ID", help="With --audit: only this order id / CustomerOrderId.")
@click.option("--run", "run_id", type=int, help="With --audit: only this run (see `status`).")
@click.option(
    "--html",
    "html_out",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write one self-contained HTML report to FILE (charts, failures, every number).",
)
def report(
    state: StateLocation | None,
    fmt: str,
    number_format: str,
    out: Path | None,
    force: bool,
    audit: bool,
    numbers: tuple[str, ...],
    order: str | None,
    run_id: int | None,
    html_out: Path | None,
) -> None:
    """Every number in every step: input, status, order ids, API error code and description.

    With --html FILE: one HTML page to open in a browser or attach to a ticket (no network
    needed to view it): the outcome per step, the run over time, failures by API code, a
    searchable table of every number, the plan and the target.

    With --audit: every exchange with the API from the audit log beside the state file (time,
    method, path, status, CustomerOrderId, order id, order status, numbers, error codes),
    oldest first across rotated segments.
    """
    if (numbers or order or run_id is not None) and not audit:
        raise click.UsageError("--number, --order and --run go with --audit")
    path = state or default_state_file()
    if html_out is not None:
        if audit or out is not None:
            raise click.UsageError("--html writes its own file: not with --audit or --out")
        from orchestrator.cli.report_html import write_html_report  # only when asked

        check_output(html_out, [*state_inputs(path), *_plan_of(path)], force=force, option="--html")
        write_html_report(path, html_out)
        return
    if audit:
        if out is not None:
            check_output(out, [*state_inputs(path), *_plan_of(path)], force=force)
        _report_audit(path, fmt, number_format, out, numbers, order, run_id)
        return
    from orchestrator.cutover.report import write_csv, write_json  # the store, with the command
    from orchestrator.state.store import Store

    store = Store.open(path, readonly=True)
    try:
        if out is not None:
            check_output(out, [*state_inputs(path), *stored_plan_inputs(store.meta())], force=force)
        with contextlib.ExitStack() as stack:
            fh = _open_out(stack, out)
            writer = write_csv if fmt == "csv" else write_json
            rows = writer(
                store.iter_report(), fh, "legacy" if number_format == "legacy" else "e164"
            )
        if out is not None:
            click.echo(f"{counted(rows, 'row')} written to {out}", err=True)
    finally:
        store.close()


def _report_audit(
    state: StateLocation,
    fmt: str,
    number_format: str,
    out: Path | None,
    numbers: tuple[str, ...],
    order: str | None,
    run_id: int | None,
) -> None:
    """`report --audit`: the state file's audit log, filtered, as CSV or JSON."""
    from orchestrator.state.audit import audit_path, write_audit_csv, write_audit_json

    wanted = tuple(_e164(n) for n in numbers)
    lines = _audit_lines(audit_path(state), wanted, order, run_id)
    render = _legacy if number_format == "legacy" else str
    writer = write_audit_csv if fmt == "csv" else write_audit_json
    with contextlib.ExitStack() as stack:
        rows = writer(lines, _open_out(stack, out), render)
    if out is not None:
        click.echo(f"{counted(rows, 'exchange')} written to {out}", err=True)


def _open_out(stack: contextlib.ExitStack[bool | None], out: Path | None) -> TextIO:
    """The report's stream: stdout, or `out` (checked by `check_output` first)."""
    if out is None:
        return sys.stdout
    try:
        return stack.enter_context(out.open("w", encoding="utf-8", newline=""))
    except OSError as exc:
        raise InputError(f"{out}: cannot write the report ({exc.strerror})") from exc


def _plan_of(state: StateLocation) -> list[Input]:
    """The plan a state file ran and its number files, when the state file can be read."""
    from orchestrator.state.store import Store

    if isinstance(state, Path) and not state.is_file():
        return []
    try:
        store = Store.open(state, readonly=True)
    except BwmigrateError:  # `report --audit` reads the audit log even without its state file
        return []
    try:
        return stored_plan_inputs(store.meta())
    finally:
        store.close()
