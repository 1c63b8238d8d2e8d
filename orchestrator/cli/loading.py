"""Opening plan files and the number files they name: the CLI's side of `orchestrator.plan`.

`plan` is pure; this module does its file I/O: it reads the plan, resolves number files
relative to the plan's folder, and turns OS errors into one-line `PlanError`s.
"""

from __future__ import annotations

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


def load_plan(path: Path, *, canary: int | None = None) -> CompiledPlan:
    """Parse and compile the plan at `path`, reading its number files beside it; `canary`
    (`run --canary N`) replaces the plan's canary for every import step."""
    spec = parse_plan(read_plan_text(path), str(path))
    if canary is not None:
        spec = with_canary(spec, canary)
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

    return compile_plan(spec, read_file)
