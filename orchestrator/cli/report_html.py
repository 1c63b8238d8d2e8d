"""The CLI side of the HTML pages: `report --html FILE` writes the report; the live page of
`status --serve` lives in `orchestrator.cli.serve`. The pages themselves are drawn in
`orchestrator.cutover.html_report` from `orchestrator.cutover.run_view`."""

from __future__ import annotations

import time
from pathlib import Path

import click

from orchestrator.cutover.html_report import render_report
from orchestrator.cutover.run_view import read_run_view
from orchestrator.errors import InputError
from orchestrator.state.postgres import StateLocation


def write_html_report(state: StateLocation, out: Path) -> None:
    """Read `state` (read-only) and its audit log; write the self-contained report to `out`."""
    now = time.time()
    view = read_run_view(state, now=now)
    try:
        with out.open("w", encoding="utf-8") as fh:
            for piece in render_report(view, now=now):
                fh.write(piece)
    except OSError as exc:
        raise InputError(f"{out}: cannot write the HTML report ({exc.strerror})") from exc
    click.echo(f"HTML report of {len(view.rows)} rows written to {out}", err=True)
