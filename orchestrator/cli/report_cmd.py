"""`bwmigrate report`: one row per number and step with its outcome, as CSV or JSON."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TextIO

import click

from orchestrator.cli.status_cmd import _default_state
from orchestrator.errors import InputError
from orchestrator.report import write_csv, write_json
from orchestrator.store import Store


@click.command()
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    help="State file (default: the only one in state/).",
)
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
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE instead of stdout.",
)
def report(state: Path | None, fmt: str, number_format: str, out: Path | None) -> None:
    """Every number in every step: input, status, order ids, API error code and description."""
    path = state or _default_state()
    store = Store.open(path, readonly=True)
    try:
        with contextlib.ExitStack() as stack:
            fh: TextIO = sys.stdout
            if out is not None:
                try:
                    fh = stack.enter_context(out.open("w", encoding="utf-8", newline=""))
                except OSError as exc:
                    raise InputError(f"{out}: cannot write the report ({exc.strerror})") from exc
            writer = write_csv if fmt == "csv" else write_json
            rows = writer(
                store.iter_report(), fh, "legacy" if number_format == "legacy" else "e164"
            )
        if out is not None:
            click.echo(f"{rows} rows written to {out}", err=True)
    finally:
        store.close()
