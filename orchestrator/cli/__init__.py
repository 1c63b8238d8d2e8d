"""The `bwmigrate` command line: the only place that reads the environment, opens user files,
prints, and draws progress.

Each subcommand lives in its own module here and is listed in `_COMMANDS`; a module is imported
only when its command runs (or help lists it), so `bwmigrate sandbox` does not pay for lxml and
phonenumbers. A `BwmigrateError` reaching this level becomes one line on stderr and its
documented exit code; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from orchestrator import __version__
from orchestrator.errors import BwmigrateError

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

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BwmigrateError as exc:
            click.echo(f"bwmigrate: error: {exc}", err=True)
            sys.exit(int(exc.exit_code))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bwmigrate")
def main() -> None:
    """Move Bandwidth number management from the v1 Dashboard API to the v2 API.

    Plan a migration (dry run), rehearse it on the embedded sandbox, run the cutover,
    resume it after any interruption, and report every number's outcome.
    """
