"""What `verify` and `run` print about a snapshot and a verify
(`orchestrator.cutover.before_after`), how they enter `run`'s `--json` object and exit code,
and `verify --out`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from orchestrator.cutover.before_after import BeforeAfter
from orchestrator.cutover.snapshot import SnapshotProgress
from orchestrator.cutover.verify import VerifyResult
from orchestrator.errors import ExitCode, InputError
from orchestrator.text import counted

_SHOWN = 20  # drifted fields listed on the terminal (all of them in --json / --out)


def write_out(out: Path, obj: dict[str, Any], force: bool) -> None:
    """Write the JSON object to `out` (an existing file only with --force)."""
    if out.exists() and not force:
        raise InputError(f"{out}: already exists; pass --force to replace it")
    try:
        out.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{out}: cannot write the result ({exc.strerror})") from exc


def print_verdict(result: VerifyResult, err: Console, *, label: str = "Verify") -> None:
    """The counts, then the first drifted fields and unreadable numbers (stderr)."""
    n = result.as_json()["numbers"]
    err.print(
        f"{label}: {counted(n['checked'], 'number')} checked, {n['matched']} match, {n['drifted']} "
        f"drifted, {n['unreadable']} unreadable"
        + (f", {n['not_checked']} not checked (outcome unknown)" if n["not_checked"] else "")
        + f"; {counted(result.pages, 'page request')} and "
        f"{counted(result.details, 'per-number request')}."
    )
    for d in result.drift[:_SHOWN]:
        err.print(
            f"  drifted {d.number} {d.field}: expected {d.expected}, actual {d.actual} "
            f"(step {d.step})"
        )
    if len(result.drift) > _SHOWN:
        err.print(f"  ... {len(result.drift) - _SHOWN} more (--json or --out lists them all)")
    for number, reason in sorted(result.unreadable.items())[:_SHOWN]:
        err.print(f"  unreadable {number}: {reason}")


def add_checks(checks: BeforeAfter, summary: dict[str, Any], code: int, err: Console) -> int:
    """Put the snapshot and verify results in `summary`, print their lines (stderr), and
    return the run's exit code (a clean run whose verify found drift exits 1; one whose verify
    could not complete, 3)."""
    if checks.snapshotted is not None:
        summary["snapshot"] = checks.snapshotted.as_json()
        s = checks.snapshotted
        err.print(
            f"Snapshot before the first order: {counted(s.numbers, 'number')} in "
            f"{counted(s.requests, 'request')} ({counted(s.pages, 'page')}, {s.details} tndetails)"
            + (f"; {len(s.unreadable)} could not be read" if s.unreadable else "")
        )
    if checks.snapshot_error is not None:
        summary["snapshot_error"] = checks.snapshot_error
        err.print(f"bwmigrate: warning: {checks.snapshot_error}")
    if checks.verify_error is not None:
        summary["verify_error"] = checks.verify_error
        err.print(f"bwmigrate: error: {checks.verify_error}")
        if code == ExitCode.OK:
            return int(ExitCode.ABORTED)
    if checks.verified is not None:
        summary["verify"] = checks.verified.as_json()
        print_verdict(checks.verified, err, label="Verify after the run")
        if code == ExitCode.OK:
            return int(checks.verified.exit_code)
    return code


def snapshot_progress(err: Console) -> Callable[[SnapshotProgress], None]:
    """A line on stderr each time the run's snapshot passes another tenth of the plan (a large
    plan's snapshot reads for a while before the first order)."""
    shown = [-1]

    def show(p: SnapshotProgress) -> None:
        tenth = p.kept * 10 // max(p.total, 1)
        if tenth != shown[0]:
            shown[0] = tenth
            err.print(
                f"Snapshot: {p.kept:,} of {counted(p.total, 'number')} kept "
                f"({counted(p.requests, 'request')})"
            )

    return show
