"""The `bwmigrate` command line: the only place that reads the environment, opens user files,
prints, and draws progress.

Each subcommand lives in its own module here and is registered below. A `BwmigrateError`
reaching this level becomes one line on stderr and its documented exit code; anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from orchestrator import __version__
from orchestrator.errors import BwmigrateError


class _Group(click.Group):
    """A click group that turns package errors into one line and an exit code."""

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


def _register() -> None:
    """Attach every subcommand module's command to the group."""
    # One import and one add_command per subcommand module (plan, run, status, report,
    # sandbox, convert, scan, doctor, rollback).


_register()
