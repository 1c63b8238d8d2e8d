"""The `bwmigrate` command line: the only place that reads the environment, opens user files,
prints, and draws progress.

Each subcommand lives in its own module here and is listed in `_COMMANDS`; a module is imported
only when its command runs (or help lists it), so `bwmigrate sandbox` does not pay for lxml and
phonenumbers. A command module imports at its top only what its options and help need; the
database, HTTP, server and XML stacks (SQLAlchemy, httpx, starlette, uvicorn, lxml) are imported
inside the functions that use them, so `--help` and `--version` stay instant
(`tests/e2e/test_startup_imports.py`).

A `BwmigrateError` (alone, or inside a task group's exception group) or a click usage error
reaching this level becomes one line on stderr and its documented exit code, and with `--json`
also a JSON object on stdout (`cli/failure.py`); anything else is a bug and keeps its traceback.

Once the command's module is imported, SIGTERM stops it like Ctrl-C, and an interrupt that
reaches this level (one that came before the command installed its own handling, e.g. while
`run` compiles and stores the plan) is one line and exit 130, never click's "Aborted!" and exit 1,
which would read as "finished with failed numbers". Before that (the interpreter starting,
nothing read or written yet) the defaults apply.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

import click

from orchestrator import __version__
from orchestrator.cli.failure import fail, fail_usage, wants_json
from orchestrator.errors import BwmigrateError, ExitCode

# command name -> "module:attribute" (one line per subcommand module)
_COMMANDS: dict[str, str] = {
    "plan": "orchestrator.cli.plan_cmd:plan",
    "sandbox": "orchestrator.cli.sandbox_cmd:sandbox",
    "run": "orchestrator.cli.run_cmd:run",
    "status": "orchestrator.cli.status_cmd:status",
    "report": "orchestrator.cli.report_cmd:report",
    "doctor": "orchestrator.cli.doctor_cmd:doctor",
    "rollback": "orchestrator.cli.rollback_cmd:rollback",
    "convert": "orchestrator.cli.convert_cmd:convert",
    "scan": "orchestrator.cli.scan_cmd:scan",
    "snapshot": "orchestrator.cli.snapshot_cmd:snapshot",
    "verify": "orchestrator.cli.verify_cmd:verify",
    "fleet": "orchestrator.cli.fleet_cmd:fleet",
    "worker": "orchestrator.cli.fleet_cmd:worker",
}


class _Group(click.Group):
    """A lazy click group that turns package errors into one line and an exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        resolved = super().resolve_command(ctx, args)
        # Imports are done: from here on an interrupt is one line and exit 130 (an exception
        # raised by a signal handler inside an import can come out as any other error).
        previous = getattr(self, "_previous_handlers", None)  # None outside `invoke`
        if previous is not None:
            for sig in _STOP_SIGNALS:
                previous.setdefault(sig, signal.signal(sig, _interrupt))
        return resolved

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = "bwmigrate",
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """click's main, but its usage errors end like every other error (`cli/failure.py`)."""
        argv = list(sys.argv[1:] if args is None else args)
        self._as_json = wants_json(argv)
        try:
            rv = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:  # bare `bwmigrate`: its help
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            fail_usage(exc, as_json=self._as_json)
        except click.ClickException as exc:
            fail(exc.format_message(), exc.exit_code, as_json=self._as_json)
        except click.exceptions.Abort:  # Ctrl-C before a command took over
            _exit_interrupted()
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        self._previous_handlers: dict[int, Any] | None = {}
        try:
            return super().invoke(ctx)
        except BwmigrateError as exc:
            _exit_with(exc, getattr(self, "_as_json", False))
        except BaseExceptionGroup as group:  # a task group's: its first error of ours, if any
            found = _first_error(group)
            if found is None:
                raise
            _exit_with(found, getattr(self, "_as_json", False))
        except KeyboardInterrupt:
            _exit_interrupted()
        except click.exceptions.Abort as exc:  # a prompt turns Ctrl-C into Abort
            if not isinstance(exc.__context__, KeyboardInterrupt):
                raise
            _exit_interrupted()
        finally:
            for sig, handler in (self._previous_handlers or {}).items():
                signal.signal(sig, handler)
            self._previous_handlers = None


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM before a command handled it (a subclass: CPython makes the process
    die by SIGINT at exit after a plain KeyboardInterrupt escaped some C-level evaluation,
    even one caught later, which would replace exit 130)."""


_REDELIVER_S = 0.05


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C or SIGTERM: stop (commands with their own signal handling replace this).

    Not in the middle of an import (a lazy one, e.g. anyio's backend): an exception raised
    there can come out as another error (Python 3.11 turns it into a RuntimeError when it
    hits a class's `__set_name__`), so the signal is delivered again a moment later.
    """
    if _importing(frame):
        timer = threading.Timer(_REDELIVER_S, os.kill, (os.getpid(), signum))
        timer.daemon = True
        timer.start()
        return
    raise _Interrupted(signal.Signals(signum).name)


def _importing(frame: FrameType | None) -> bool:
    """True when `frame` runs inside the import machinery."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _exit_with(exc: BwmigrateError, as_json: bool) -> None:
    """One line and the error's exit code (and JSON on stdout with `--json`)."""
    fail(str(exc), int(exc.exit_code), as_json=as_json)


def _first_error(group: BaseExceptionGroup[BaseException]) -> BwmigrateError | None:
    """The first `BwmigrateError` in a (nested) exception group, or None: a damaged state file
    found by a worker of the engine's task group is still one line and exit 2."""
    for exc in group.exceptions:
        if isinstance(exc, BwmigrateError):
            return exc
        if isinstance(exc, BaseExceptionGroup):
            found = _first_error(exc)
            if found is not None:
                return found
    return None


def _exit_interrupted() -> None:
    """One line and exit 130 for an interrupt no command handled itself."""
    click.echo(
        "bwmigrate: interrupted; state saved. Run the same command again to resume.", err=True
    )
    sys.exit(int(ExitCode.INTERRUPTED))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bwmigrate")
def main() -> None:
    """Move Bandwidth number management from the v1 Dashboard API to the v2 API.

    Plan a migration (dry run), rehearse it on the embedded sandbox, run the cutover,
    resume it after any interruption, and report every number's outcome.
    """
