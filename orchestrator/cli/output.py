"""Where a command may write: the one check of every output path (`--out`, `--audit`), so no
command overwrites what it reads or what a run needs.

An output is refused (exit 2) when it is one of the command's inputs — the state file, its
audit log, the plan or one of its number files — compared as files, not as names: the same
resolved path (symlinks followed) or, for files that exist, the same device and inode (hard
links). An existing file is replaced only with `--force`, and a SQLite database never: no
command writes one through an output option, so one found there is a state file.

This module only looks at paths (stat, and the first bytes of an existing output); it opens
nothing for writing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import InputError, PlanError
from orchestrator.plan.model import PlanSpec
from orchestrator.plan.planfile import parse_plan
from orchestrator.state.postgres import StateLocation

_SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True, slots=True)
class Input:
    """A file a command reads or a run needs, and what it is (for the error message)."""

    path: Path
    role: str


def plan_inputs(spec: PlanSpec, plan_path: Path) -> list[Input]:
    """The plan file, its number files and its rehearsal seed (paths relative to the plan)."""
    base = plan_path.parent
    found = [Input(plan_path, "the plan")]
    found += [
        Input(base / nf.path, "a number file of the plan")
        for step in spec.steps
        for nf in step.files
    ]
    if spec.rehearsal:
        found.append(Input(base / spec.rehearsal, "the plan's rehearsal seed file"))
    return found


def state_inputs(state: StateLocation) -> list[Input]:
    """The state file, its SQLite journal files and its audit log (every rotated segment); of
    a PostgreSQL state, its audit log only."""
    from orchestrator.state.audit import audit_path, audit_segments  # light, but not for --help

    found = []
    if isinstance(state, Path):
        found += [Input(state, "the state file")]
        found += [Input(Path(f"{state}{suffix}"), "the state file's journal")
                  for suffix in ("-wal", "-shm", "-journal")]  # fmt: skip
    log = audit_path(state)
    found += [Input(log, "the state file's audit log")]
    found += [Input(p, "the state file's audit log") for p in audit_segments(log) if p != log]
    return found


def check_output(
    out: Path,
    inputs: Iterable[Input],
    *,
    force: bool,
    option: str = "--out",
    appends: bool = False,
) -> None:
    """Refuse writing `out` when it is one of `inputs`, when it is a SQLite database, or (unless
    `force`, or the output is a log the command `appends` to) when it exists."""
    for given in inputs:
        if _same_file(out, given.path):
            alias = f" ({given.path})" if str(given.path) != str(out) else ""
            raise InputError(
                f"{option} {out} is {given.role}{alias}; writing there would destroy it: "
                f"choose another {option} path"
            )
    if not (out.exists() or out.is_symlink()):
        return
    if _is_sqlite(out):
        raise InputError(
            f"{option} {out} is a SQLite database (a state file?); bwmigrate never writes over "
            f"one, even with --force: choose another {option} path"
        )
    if not force and not appends:
        raise InputError(
            f"{option} {out} exists; pass --force to overwrite it, or choose another path"
        )


def _same_file(a: Path, b: Path) -> bool:
    """True when `a` and `b` name the same file (a symlink, a hard link or the same path)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): compare where they would be
        return a.resolve() == b.resolve()


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    except OSError:
        return False


def stored_plan_inputs(meta: Mapping[str, str]) -> list[Input]:
    """The plan a state file ran (`plan_path`, relative to where it ran) and its number files,
    as its meta table records them; nothing when no plan was stored."""
    path, text = meta.get("plan_path"), meta.get("plan_text")
    if not path:
        return []
    if text is None:
        return [Input(Path(path), "the plan")]
    try:
        spec = parse_plan(text, path)
    except PlanError:  # a plan of another version: the plan file itself is still known
        return [Input(Path(path), "the plan")]
    return plan_inputs(spec, Path(path))
