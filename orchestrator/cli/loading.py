"""Opening plan files and the number files they name: the CLI's side of `orchestrator.plan`.

`plan` is pure; this module does its file I/O: it reads the plan, resolves number files
relative to the plan's folder, and turns OS errors into one-line `PlanError`s. A plan can
also come from text and files held elsewhere (a fleet's registry: `load_plan_from`), compiled
by the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import PlanError
from orchestrator.plan import CompiledPlan, compile_plan, parse_plan, with_canary


def read_plan_text(path: Path) -> str:
    """Read a plan file as text, with a clear error when it cannot be read."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PlanError(f"{path}: plan file not found; check the path") from None
    except OSError as exc:
        raise PlanError(f"{path}: cannot read the plan ({exc.strerror})") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PlanError(
            f"{path}: the plan is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from exc


@dataclass(frozen=True, slots=True)
class LoadedPlan:
    """A compiled plan and what it was compiled from: the plan's text and every number file it
    read (by the name the plan gives it), exactly as read."""

    plan: CompiledPlan
    text: str
    files: dict[str, bytes]


def load_plan(path: Path, *, canary: int | None = None) -> CompiledPlan:
    """Parse and compile the plan at `path`, reading its number files beside it; `canary`
    (`run --canary N`) replaces the plan's canary for every import step."""
    return load_plan_source(path, canary=canary).plan


def load_plan_source(path: Path, *, canary: int | None = None) -> LoadedPlan:
    """`load_plan`, keeping the text and the number files it compiled (what `fleet add`
    stores, and `run` records)."""
    base = path.parent

    def read_file(name: str) -> bytes:
        target = base / name
        try:
            return target.read_bytes()
        except FileNotFoundError:
            raise PlanError(
                f"{path}: number file {name!r} not found (looked for {target}); "
                "paths are relative to the plan file"
            ) from None
        except IsADirectoryError:
            raise PlanError(f"{path}: number file {name!r} is a directory; name a file") from None
        except OSError as exc:
            raise PlanError(f"{path}: cannot read number file {name!r} ({exc.strerror})") from exc

    return _compiled(read_plan_text(path), str(path), read_file, canary)


def load_plan_from(
    text: str, files: Mapping[str, bytes], label: str, *, canary: int | None = None
) -> LoadedPlan:
    """Parse and compile a plan from its text and number files held elsewhere (a fleet's
    registry); `label` is the plan's path, as messages and the state name it."""

    def read_file(name: str) -> bytes:
        try:
            return files[name]
        except KeyError:
            raise PlanError(
                f"{label}: number file {name!r} was not stored with the plan; add the plan "
                "to the fleet again"
            ) from None

    return _compiled(text, label, read_file, canary)


def _compiled(
    text: str, label: str, read_file: Callable[[str], bytes], canary: int | None
) -> LoadedPlan:
    """Parse and compile `text`, recording every number file `read_file` returns."""
    spec = parse_plan(text, label)
    if canary is not None:
        spec = with_canary(spec, canary)
    files: dict[str, bytes] = {}

    def recorded(name: str) -> bytes:
        files[name] = data = read_file(name)
        return data

    return LoadedPlan(compile_plan(spec, recorded), text, files)
