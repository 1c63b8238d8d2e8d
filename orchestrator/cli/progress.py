"""Progress and summary tables: per step done / total, failed, in flight, rate, ETA.

On a terminal, rich progress bars; anywhere else (nohup, CI, a log file) a plain line every
`progress_every_s` (`orchestrator.cli.verbosity`), so a long run is never silent. `--quiet`
shows neither, `--verbose` the plain lines with every step's counts, also on a terminal.
Progress goes to stderr so stdout keeps the machine-readable result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console
from rich.measure import Measurement
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from orchestrator.cli.verbosity import Ticker

if TYPE_CHECKING:  # the engine and the store load with the commands that run them
    from orchestrator.cutover.engine import Progress as EngineProgress
    from orchestrator.state.store import StepCounts

_MIN_INTERVAL_S = 0.2
_MIN_STEP_WIDTH = 12


def _duration(seconds: float) -> str:
    """A duration as people read it: 45s, 3m05s, 2h07m."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def run_progress_line(snap: EngineProgress) -> str:
    """One plain line for a run's progress: numbers done of all (failed), orders in flight,
    requests and their rate, elapsed time and the ETA at the rate numbers finish so far."""
    done = sum(c.succeeded + c.failed + c.skipped + c.needs_action + c.unknown for c in snap.steps)
    total = sum(c.total for c in snap.steps)
    failed = sum(c.failed for c in snap.steps)
    rate = done / snap.elapsed_s if snap.elapsed_s > 0 else 0.0
    eta = _duration((total - done) / rate) if rate > 0 and done < total else "unknown"
    if done >= total:
        eta = "0s"
    return (
        f"progress: {done}/{total} numbers done ({failed} failed), {snap.in_flight} "
        f"order{'' if snap.in_flight == 1 else 's'} in flight, {snap.requests} requests "
        f"({snap.request_rate_per_s:.1f}/s, {snap.rate_limited} rate-limited), "
        f"{_duration(snap.elapsed_s)} elapsed, ETA {eta}" + ("; stopping" if snap.stopping else "")
    )


class PlainProgress:
    """A run's progress as a plain line every `interval_s` (and, `verbose`, one per step)."""

    def __init__(
        self,
        write: Callable[[str], None],
        interval_s: float,
        *,
        verbose: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._write = write
        self._ticker = Ticker(interval_s, clock)
        self._verbose = verbose

    def update(self, snap: EngineProgress) -> None:
        """Print the line if one is due."""
        if not self._ticker.due():
            return
        self._write(run_progress_line(snap))
        if self._verbose:
            for c in snap.steps:
                done = c.succeeded + c.failed + c.skipped + c.needs_action + c.unknown
                self._write(
                    f"  {c.name}: {done}/{c.total} done, {c.succeeded} succeeded, {c.failed} "
                    f"failed, {c.pending + c.in_order} pending"
                )


class ProgressView:
    """A live view of a run, fed by the engine's progress callback; a no-op when disabled."""

    def __init__(self, console: Console, *, enabled: bool) -> None:
        self._enabled = enabled
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("failed {task.fields[failed]}"),
            TextColumn("{task.fields[extra]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            refresh_per_second=5,
            transient=False,
        )
        self._tasks: dict[int, TaskID] = {}
        self._last = 0.0

    def __enter__(self) -> ProgressView:
        if self._enabled:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._enabled:
            self._progress.stop()

    def update(self, snap: EngineProgress) -> None:
        """Redraw from an engine snapshot (throttled)."""
        if not self._enabled:
            return
        now = time.monotonic()
        if now - self._last < _MIN_INTERVAL_S:
            return
        self._last = now
        extra = f"in flight {snap.in_flight}  {snap.request_rate_per_s:.1f} req/s" + (
            "  stopping..." if snap.stopping else ""
        )
        for c in snap.steps:
            done = c.succeeded + c.failed + c.skipped + c.needs_action + c.unknown
            if c.step not in self._tasks:
                self._tasks[c.step] = self._progress.add_task(
                    c.name, total=max(c.total, 1), failed=0, extra=""
                )
            self._progress.update(
                self._tasks[c.step],
                completed=done,
                total=max(c.total, 1),
                failed=c.failed,
                extra=extra,
            )


def print_summary(steps: Sequence[StepCounts], console: Console) -> None:
    """The final table: per step total, succeeded, failed, skipped, pending (and the numbers
    needing action or with an unknown outcome, when there are any). A number counts in each step
    it is in (an import and its chained SMS step: twice), and the caption says so."""
    columns = ["total", "succeeded", "failed", "skipped"]
    columns += [c for c in ("needs_action", "unknown") if any(getattr(s, c) for s in steps)]
    columns.append("pending")
    table = Table(
        title="Run summary",
        caption="counts are per number and step: a number counts once in each step it is in",
        show_edge=False,
        pad_edge=False,
    )
    add_step_columns(table)
    for col in columns:
        table.add_column(col.replace("_", " "), justify="right")
    sums = [0] * len(columns)
    for c in steps:
        values = [
            c.pending + c.in_order if col == "pending" else getattr(c, col) for col in columns
        ]
        sums = [a + b for a, b in zip(sums, values, strict=True)]
        table.add_row(c.name, c.kind, *map(str, values))
    table.add_row("[bold]all[/]", "", *(f"[bold]{v}[/]" for v in sums))
    print_table(table, console)


def add_step_columns(table: Table, *, kind: str = "kind") -> None:
    """The `step` and `kind` columns of a table printed by `print_table`."""
    table.add_column("step")
    table.add_column(kind)


def print_table(table: Table, console: Console) -> None:
    """Print a table whose first column names steps without cutting a cell: every other column
    keeps the width of its widest cell, the step column takes the room left on a terminal and
    folds a long name onto more lines (chained steps differ only at the end of their names), and
    a table that still does not fit is printed wider than the terminal rather than cropped. Off
    a terminal (a pipe, a log file) nothing folds: the table is as wide as its cells."""
    first, *rest = table.columns
    for column in rest:
        column.width = max(console.measure(c).maximum for c in (column.header, *column.cells))
        column.no_wrap = True
    widest = max(console.measure(c).maximum for c in (first.header, *first.cells))
    first.width, first.overflow = 1, "fold"
    others = _table_width(table, console) - 1
    room = console.width - others if console.is_terminal else widest
    first.width = max(min(widest, room), _MIN_STEP_WIDTH)
    width, needed = console.width, _table_width(table, console)
    console.width = max(width, needed)  # rich crops to the console's width: widen it instead
    try:
        console.print(table, crop=False)
    finally:
        console.width = width


def _table_width(table: Table, console: Console) -> int:
    """The width `table` takes with its columns' widths as set."""
    return Measurement.get(console, console.options.update_width(1 << 16), table).maximum
