"""The click options several commands share, written once: `--state` (and the state file a
command defaults to), `--out`, `--force`, `--loa-type`, `--json`, and `--quiet`/`--verbose`.

Each is a decorator taking the command's own help text, so `--help` and the README keep saying
what the option means for that command; type, default and parameter name are the same
everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from orchestrator.state.postgres import PgLocation, is_postgres, url_password

DEFAULT_TARGET = "https://api.bandwidth.com/api/v2"
LOA_TYPES = ("CARRIER", "SUBSCRIBER")

F = TypeVar("F", bound=Callable[..., Any])


class StateParam(click.ParamType):  # type: ignore[type-arg]
    """A state file's path, or a plan's state in PostgreSQL (`postgresql://host/db#plan`).

    A URL carrying a password is refused in one line that does not repeat it: the password
    comes from PGPASSWORD or libpq's password and service files."""

    name = "FILE|postgresql://..."

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, Path | PgLocation):
            return value
        text = str(value)
        if not is_postgres(text):
            return Path(text)
        if url_password(text):
            self.fail(
                "a password in the PostgreSQL URL is refused (it would show in process lists "
                "and shell history); pass the URL without it and set PGPASSWORD or use ~/.pgpass",
                param,
                ctx,
            )
        return PgLocation.parse(text)


def state_option(help_text: str) -> Callable[[F], F]:
    """`--state FILE|postgresql://host/db[#plan]` (parameter `state`: a Path, a PgLocation,
    or None when not given)."""
    return click.option(
        "--state",
        type=StateParam(),
        help=f"{help_text} Or a PostgreSQL database: postgresql://host/db[#PLAN_NAME].",
    )


def plan_state(state: Path | PgLocation | None, plan_name: str, default: Path) -> Any:
    """Where a command that runs a plan keeps its state: `--state` (a PostgreSQL database
    without `#PLAN` holds it under the plan's name), else `default`."""
    if isinstance(state, PgLocation) and state.plan is None:
        return state.for_plan(plan_name)
    return state or default


def out_option(
    help_text: str, *, required: bool = False, metavar: str | None = None
) -> Callable[[F], F]:
    """`--out FILE` (parameter `out`): a file to write, never a folder."""
    return click.option(
        "--out",
        required=required,
        metavar=metavar,
        type=click.Path(dir_okay=False, path_type=Path),
        help=help_text,
    )


def force_option(help_text: str) -> Callable[[F], F]:
    """`--force` (parameter `force`): replace what `--out` would overwrite."""
    return click.option("--force", is_flag=True, help=help_text)


def loa_type_option(help_text: str) -> Callable[[F], F]:
    """`--loa-type CARRIER|SUBSCRIBER` (parameter `loa_type`, default CARRIER)."""
    return click.option(
        "--loa-type",
        type=click.Choice(LOA_TYPES),
        default="CARRIER",
        show_default=True,
        help=help_text,
    )


def json_option(help_text: str = "Print one JSON object.") -> Callable[[F], F]:
    """`--json` (parameter `as_json`): the machine-readable result on stdout."""
    return click.option("--json", "as_json", is_flag=True, help=help_text)


REHEARSAL_SUFFIX = ".rehearsal.db"


def verbosity_options(what: str) -> Callable[[F], F]:
    """`--quiet` / `-q` and `--verbose` (parameters `quiet`, `verbose`): how much a long command
    says while it works; `what` is what `--verbose` adds for this command."""

    def decorate(fn: F) -> F:
        fn = click.option("--verbose", is_flag=True, help=what)(fn)
        return click.option(
            "--quiet",
            "-q",
            is_flag=True,
            help="No progress while working; errors and the result only.",
        )(fn)

    return decorate


def default_state_file() -> Path:
    """The state file in state/ a command reads when `--state` is not given: the only one; or,
    beside rehearsals (`*.rehearsal.db`, as the README's flow leaves them), the only real run's,
    saying on stderr which was chosen. A usage error naming the files otherwise."""
    found = sorted(Path("state").glob("*.db"))
    if len(found) == 1:
        return found[0]
    if not found:
        raise click.UsageError("no state file in state/; pass --state")
    real = [p for p in found if not p.name.endswith(REHEARSAL_SUFFIX)]
    names = ", ".join(str(p) for p in found)
    if len(real) == 1:
        others = ", ".join(str(p) for p in found if p != real[0])
        click.echo(
            f"bwmigrate: using {real[0]}, the one state file of a real run in state/ (beside "
            f"{others}; pass --state to read another)",
            err=True,
        )
        return real[0]
    raise click.UsageError(f"several state files in state/ ({names}); pass --state")
