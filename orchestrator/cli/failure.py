"""How the command line ends on an error: one line on stderr (`bwmigrate: error: ...`) and the
documented exit code; when the command was given `--json`, the same error also as one JSON
object on stdout (`{"error": {"message": ..., "exit_code": ...}}`), so a script reading stdout
always gets JSON.

Errors a user can cause (`BwmigrateError`) and click's usage errors (an unknown command or
option, a missing argument, a bad choice, a `UsageError` a command raises) end the same way;
usage errors exit 2, the code documented for bad usage, and name the command's `--help`.
Outside text in a message is shown, never obeyed (`orchestrator.text.printable`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import NoReturn

import click

from orchestrator.errors import ExitCode
from orchestrator.text import printable


def wants_json(argv: Sequence[str]) -> bool:
    """True when the command line asks for JSON (`--json`, before a `--` if any)."""
    args = list(argv)
    return "--json" in (args[: args.index("--")] if "--" in args else args)


def fail(message: str, exit_code: int, *, as_json: bool) -> NoReturn:
    """End the command: the error in one line on stderr (and as JSON on stdout)."""
    line = printable(" ".join(part.strip() for part in message.splitlines() if part.strip()))
    if as_json:
        click.echo(json.dumps({"error": {"message": line, "exit_code": exit_code}}, indent=2))
    click.echo(f"bwmigrate: error: {line}", err=True)
    sys.exit(exit_code)


def usage_message(exc: click.UsageError) -> str:
    """A click usage error as one sentence naming the command's help."""
    ctx = exc.ctx
    command = "bwmigrate"
    if ctx is not None and ctx.parent is not None and ctx.info_name:
        command += f" {ctx.info_name}"
    return f"{exc.format_message().rstrip('.')}; see `{command} --help`"


def fail_usage(exc: click.UsageError, *, as_json: bool) -> NoReturn:
    """A click usage error: one line, exit 2 (click's own usage screen says nothing more)."""
    fail(usage_message(exc), int(ExitCode.BAD_INPUT), as_json=as_json)
