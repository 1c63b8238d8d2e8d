"""`bwmigrate run`: execute a plan against v2 (or rehearse it on the embedded sandbox); resumable.

Re-running the same command resumes from the state file: a finished run sends no request and
says so; a changed plan is refused. Progress goes to stderr; the summary (or `--json`) to stdout.

A live run (or resume) asks for confirmation first, showing the target, the account and what is
left to do (`--yes` skips it; without a terminal and without `--yes` it exits 2). `--checked
FILE` runs the checked plan a `plan --check --out FILE` pre-flight recorded (its rejected numbers
are stored as failed with the API's code, never sent). Every exchange with the API goes to the
audit log beside the state file (`orchestrator.state.audit`).

The run itself (is this a resume, and is it safe; the client, gate and audit wiring; the engine;
the exit code) is `orchestrator.cutover.cutover.Cutover`. This module keeps what is the CLI's:
the arguments, the environment's credentials, the confirmation, the signals (the first SIGINT or
SIGTERM stops submitting, a second cancels at once: `orchestrator.cli.stop_signal`), the
progress view and the printing.

Imports: `--help` loads no heavy library (tests/e2e/test_startup_imports.py), so what loads the
engine, the store or the client is imported inside the function that needs it, marked `# lazy:`
(`orchestrator.cutover.*` and `cli.verify_view` pull httpx, lxml and SQLAlchemy; `state.audit`
and `cli.login` httpx and lxml). anyio is not heavy, and `cli.stop_signal` loads it at import
anyway: it is imported at the top.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import click
from rich.console import Console

from orchestrator.cli.loading import LoadedPlan, load_plan_from, load_plan_source
from orchestrator.cli.options import (
    DEFAULT_TARGET,
    json_option,
    plan_state,
    state_option,
    verbosity_options,
)
from orchestrator.cli.progress import PlainProgress, ProgressView, print_summary
from orchestrator.cli.stop_signal import StopSignal
from orchestrator.cli.verbosity import Verbosity, progress_every_s
from orchestrator.errors import InputError
from orchestrator.plan import MAX_BATCH_SIZE, CompiledPlan
from orchestrator.state.postgres import PgLocation, StateLocation
from orchestrator.text import counted, printable

if TYPE_CHECKING:  # the engine, the store and the client load when a run starts, not for --help
    from orchestrator.api.client import Credentials
    from orchestrator.cutover.cutover import Cutover, Remaining, RunPreview, RunResult, Target
    from orchestrator.cutover.engine import Progress
    from orchestrator.cutover.notifications import NotifySettings
    from orchestrator.cutover.preflight import CheckedFile


def default_state_path(plan: CompiledPlan, sandbox: bool) -> Path:
    """`state/<plan name>.db`, or `state/<plan name>.rehearsal.db` for sandbox rehearsals."""
    suffix = ".rehearsal.db" if sandbox else ".db"
    return Path("state") / f"{plan.spec.name}{suffix}"


def _still_to_do(left: Remaining) -> list[str]:
    """What a resumed run has left, per step: numbers not finished, open orders, sent ones."""
    lines = [
        f"Resuming: so far {counted(left.succeeded, 'number-step')} succeeded and "
        f"{left.failed} failed (a number counts once in each step it is in); left:"
    ]
    lines += [
        f"  {s.step}: {s.kind} {counted(s.numbers, 'number')}, "
        f"{counted(s.orders_open, 'order')} open "
        f"({s.orders_sent} sent, outcome not yet known)"
        for s in left.steps
    ]
    return lines


def _confirm(run: RunPreview) -> None:
    """Show what a live run will change (or, resuming, what it has left) and ask first (for a
    new state file, before it is created: a "no" leaves nothing behind)."""
    from orchestrator.state.audit import audit_path  # lazy: httpx, lxml

    plan = run.plan
    lines = [
        f"About to change live numbers on {run.target.id}, account {plan.spec.account_id}:",
        f"  plan {plan.spec.name} (hash {plan.hash[:12]}) from {plan.spec.path}",
        f"  state {run.state_path}; every request goes to the audit log "
        f"{audit_path(run.state_path)}",
    ]
    if run.checked_note:
        lines.append(f"  {run.checked_note}")
    if run.remaining is None:
        for s in plan.steps:
            extra = " (+ SMS on for the imported numbers)" if s.spec.enable_messaging else ""
            lines.append(
                f"  {s.spec.name}: {s.spec.kind.value} {counted(len(s.numbers), 'number')} in "
                f"{counted(len(s.orders), 'order')}{extra}"
            )
    else:
        lines += _still_to_do(run.remaining)
    click.echo("\n".join(lines), err=True)
    if not sys.stdin.isatty():
        raise InputError(
            "refusing to change a live account without confirmation: pass --yes "
            "to run non-interactively"
        )
    if not click.confirm("Proceed?", default=False, err=True):  # Ctrl-C: exit 130 (cli)
        raise InputError("cancelled; nothing was sent")


def _read_checked(path: Path) -> CheckedFile:
    """The check record in the header line of a compiled plan written by `plan --check`."""
    from orchestrator.cutover.preflight import CheckedFile, read_check_record  # lazy: the engine

    try:
        with path.open(encoding="utf-8") as fh:
            first = fh.readline()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; pass what `plan --check --out` wrote") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the checked plan ({exc})") from exc
    try:
        header = json.loads(first)
    except json.JSONDecodeError:
        header = None
    return CheckedFile(str(path), read_check_record(header, str(path)))


def _choose_target(
    sandbox: bool, target: str | None, environ: dict[str, str]
) -> tuple[Target, Credentials | None]:
    """The rehearsal, or the live URL with the environment's credentials (read before anything
    is opened: missing credentials are exit 2 with no state file made)."""
    from orchestrator.cli.login import live_access  # lazy: httpx, lxml
    from orchestrator.cutover.cutover import LiveTarget, Rehearsal  # lazy: the engine

    if sandbox:
        return Rehearsal(), None
    if not target:
        raise InputError(
            "choose where to run: --sandbox to rehearse on the embedded sandbox, "
            f"or --target URL for a live run (the v2 API is {DEFAULT_TARGET})"
        )
    access = live_access(environ, target.rstrip("/"))
    return LiveTarget(access.base_url, access.token_url), access.credentials


def run_plan(
    plan_path: Path,
    *,
    sandbox: bool,
    target: str | None,
    state: StateLocation | None,
    yes: bool,
    as_json: bool,
    seed: int | None,
    environ: dict[str, str],
    checked: Path | None = None,
    canary: int | None = None,
    verbosity: Verbosity = Verbosity.NORMAL,
    verify: bool = False,
    snapshot: bool = True,
    notify: NotifySettings | None = None,
    plan_from_fleet: bool = False,
) -> int:
    """Everything `bwmigrate run` does, returning the exit code."""
    from orchestrator.cli.verify_view import add_checks, snapshot_progress  # lazy: the engine
    from orchestrator.cutover.cutover import Cutover  # lazy: the engine

    loaded = _load_plan(plan_path, state, canary, plan_from_fleet)
    plan = loaded.plan
    state_path = plan_state(state, plan.spec.name, default_state_path(plan, sandbox))
    where, credentials = _choose_target(sandbox, target, environ)
    # Plain text, never wrapped: the last line ("bwmigrate: aborted: ...") is read by scripts,
    # and messages quote the API's own words, which are not rich markup.
    err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)
    checked_file = _read_checked(checked) if checked is not None else None
    every_s = progress_every_s(environ)  # a bad setting is exit 2 before any state exists
    with Cutover.open(
        plan,
        state_path,
        where,
        plan_text=loaded.text,
        checked=checked_file,
        command=f"bwmigrate run {plan_path}",
        on_note=err.print,
        confirm=None if sandbox or yes else _confirm,
    ) as cutover:
        if cutover.already_finished:
            return _report_finished(cutover, as_json, err)
        if verbosity is not Verbosity.QUIET:
            _announce(cutover, where, err)
        cutover.checks.verify, cutover.checks.snapshot = verify, snapshot
        if verbosity is not Verbosity.QUIET:
            cutover.checks.on_snapshot = snapshot_progress(err)
        result = _run_with_progress(
            cutover, credentials, seed, err, as_json, verbosity, every_s, notify
        )
        code = add_checks(cutover.checks, result.summary, int(result.exit_code), err)
        _print_result(result, cutover, as_json, err)
        return code


def _load_plan(
    plan_path: Path, state: StateLocation | None, canary: int | None, from_fleet: bool
) -> LoadedPlan:
    """PLAN with its number files beside it; or, with `--plan-from-fleet` (a worker's run),
    PLAN's text and number files as `fleet add` stored them in the `--state` database."""
    if not from_fleet:
        return load_plan_source(plan_path, canary=canary)
    from orchestrator.state.fleet_registry import read_plan_source

    if not isinstance(state, PgLocation) or state.plan is None:
        raise InputError(
            "--plan-from-fleet: the plan is read from a fleet's database; pass "
            "--state postgresql://HOST/DATABASE#PLAN"
        )
    source = read_plan_source(state, state.plan)
    if source is None:
        raise InputError(
            f"{state.url}: the fleet holds no stored plan {state.plan!r}; add it with "
            f"`bwmigrate fleet add {plan_path} --state {state.url}`"
        )
    return load_plan_from(*source, str(plan_path), canary=canary)


def _run_with_progress(
    cutover: Cutover,
    credentials: Credentials | None,
    seed: int | None,
    err: Console,
    as_json: bool,
    verbosity: Verbosity,
    every_s: float,
    notify: NotifySettings | None = None,
) -> RunResult:
    """Run the cutover with its progress shown (bars, plain lines or nothing) and the signals
    held from before the event loop exists until after it is gone."""
    plain = verbosity.plain_lines(err.is_terminal)
    bars = err.is_terminal and not as_json and verbosity is Verbosity.NORMAL
    lines = PlainProgress(err.print, every_s, verbose=verbosity is Verbosity.VERBOSE)
    stop = StopSignal(on_first=cutover.request_stop, on_second=cutover.cancel)
    with stop.installed(), ProgressView(err, enabled=bars) as view:

        def on_progress(snap: Progress) -> None:
            view.update(snap)
            if plain:
                lines.update(snap)

        return anyio.run(
            _run_until_signalled, cutover, credentials, on_progress, seed, stop, notify
        )


def _announce(cutover: Cutover, where: Target, err: Console) -> None:
    """The run's first line: starting or resuming, what, against what, in which state file."""
    err.print(
        ("Starting" if cutover.fresh else "Resuming")
        + f" {cutover.plan.spec.name} against {where.id} (state {cutover.state_path})"
    )
    if cutover.checked_note:
        err.print(cutover.checked_note, markup=False)


def _report_finished(cutover: Cutover, as_json: bool, err: Console) -> int:
    """A finished run: send nothing, say so, and exit as it ended."""
    finished = cutover.finished_run()
    if as_json:
        click.echo(json.dumps(finished.summary, indent=2))
    else:
        err.print(
            f"Nothing to do: this plan already finished (state {cutover.state_path}); no request "
            f"was sent. `bwmigrate report --state {cutover.state_path}` shows every number's "
            "outcome."
        )
        print_summary(finished.counts, Console(highlight=False))
    return int(finished.exit_code)


async def _run_until_signalled(
    cutover: Cutover,
    credentials: Credentials | None,
    on_progress: Callable[[Progress], None],
    seed: int | None,
    stop: StopSignal,
    notify: NotifySettings | None = None,
) -> RunResult:
    """Run; the first SIGINT/SIGTERM stops submitting, a second one cancels at once."""
    from orchestrator.cutover.cutover import Tuning  # lazy: the engine

    async with stop.attached():
        tuning = Tuning(notify=notify) if notify is not None else None
        return await cutover.run(credentials, on_progress, seed=seed, tuning=tuning)


def _print_result(result: RunResult, cutover: Cutover, as_json: bool, err: Console) -> None:
    """The summary (or `--json`), then what needs attention and how the run ended."""
    p, state_path = result.progress, cutover.state_path
    if as_json:
        click.echo(json.dumps(result.summary, indent=2))
    else:
        print_summary(p.steps, Console(highlight=False))
        err.print(
            f"{printable(result.message)}. Requests: {p.requests} ({p.rate_limited} rate-limited, "
            f"{p.retried} retried) in {result.summary['elapsed_s']:.1f}s. "
            f"`bwmigrate report --state {state_path}` lists every number, "
            f"`bwmigrate report --state {state_path} --audit` every request."
        )
    attention = sum(c.needs_action for c in p.steps)
    if attention:
        err.print(
            f"{counted(attention, 'number')} need{'s' if attention == 1 else ''} action: SMS is "
            "on but the A2P settings were refused "
            f"(`bwmigrate report --state {state_path}` says why and what to do for each)."
        )
    if result.audit.error:
        err.print(f"bwmigrate: warning: the audit log is incomplete: {result.audit.error}")
    if result.outcome == "aborted":
        err.print(f"bwmigrate: aborted: {printable(result.message)}")  # may quote the API
    elif result.outcome == "interrupted":
        err.print(
            f"bwmigrate: interrupted; state saved in {state_path}. Run the same command "
            "again to resume."
        )


@click.command()
@click.argument("plan_path", metavar="PLAN", type=click.Path(path_type=Path))
@click.option(
    "--sandbox",
    is_flag=True,
    help="Rehearse on the embedded sandbox (a local emulator of the v2 API).",
)
@click.option("--target", metavar="URL", help=f"The v2 API base URL, e.g. {DEFAULT_TARGET}.")
@state_option("State file (default state/<plan name>.db, or .rehearsal.db with --sandbox).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation before a live run.")
@json_option("Print one JSON object when done.")
@click.option("--seed", type=int, default=None, help="Seed for retry jitter (reproducible runs).")
@click.option(
    "--checked",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The compiled plan `plan PLAN --check --out FILE` wrote: its rejected numbers are "
    "not sent.",
)
@click.option(
    "--canary",
    type=click.IntRange(0, MAX_BATCH_SIZE),
    default=None,
    metavar="N",
    help="Numbers in each import step's first order, sent before the rest (overrides the "
    "plan's canary; 0 = none).",
)
@verbosity_options("Plain progress lines with every step's counts, also on a terminal.")
@click.option(
    "--verify",
    is_flag=True,
    help="When the run has finished, read every number back and compare it with the plan "
    "(as `bwmigrate verify`); drift makes the exit code 1.",
)
@click.option(
    "--no-snapshot",
    is_flag=True,
    help="Do not snapshot the planned numbers before the first order (rollback then cannot "
    "restore previous settings, verify cannot judge failed numbers).",
)
@click.option(
    "--notify-url",
    metavar="URL",
    help="Follow orders by order notifications: the URL Bandwidth calls back (your proxy or "
    "tunnel forwards it to --listen).",
)
@click.option(
    "--listen",
    metavar="HOST:PORT",
    help="Where the run listens for the callbacks of --notify-url, e.g. 127.0.0.1:8080.",
)
@click.option(
    "--safety-net-s",
    type=click.FloatRange(min=0.1),
    default=60.0,
    show_default=True,
    help="With --notify-url: an order silent this long is read directly (a lost callback "
    "delays, never loses).",
)
@click.option("--plan-from-fleet", is_flag=True, hidden=True)  # a worker's run: fleet_cmd.py
def run(
    plan_path: Path,
    sandbox: bool,
    target: str | None,
    state: StateLocation | None,
    yes: bool,
    as_json: bool,
    seed: int | None,
    checked: Path | None,
    canary: int | None,
    quiet: bool,
    verbose: bool,
    verify: bool,
    no_snapshot: bool,
    notify_url: str | None,
    listen: str | None,
    safety_net_s: float,
    plan_from_fleet: bool,
) -> None:
    """Execute PLAN: import, remove and TN option orders, checkpointed per number.

    Run it again to resume after any interruption. Every request and answer is logged to
    <state>.audit.jsonl (`bwmigrate report --audit`). Progress: bars on a terminal, else a
    plain line every 10 s (BWMIGRATE_PROGRESS_EVERY_S). Exit 0 all done, 1 some numbers failed,
    2 bad usage/plan, 3 aborted (failure threshold, API unreachable, credentials), 4 state file
    in use, 130 interrupted (state saved).
    """
    if sandbox and target:
        raise click.UsageError("choose one of --sandbox and --target")
    sys.exit(
        run_plan(
            plan_path,
            sandbox=sandbox,
            target=target,
            state=state,
            yes=yes,
            as_json=as_json,
            seed=seed,
            environ=dict(os.environ),
            checked=checked,
            canary=canary,
            verbosity=Verbosity.from_flags(quiet, verbose),
            verify=verify,
            snapshot=not no_snapshot,
            notify=_notify_settings(notify_url, listen, safety_net_s),
            plan_from_fleet=plan_from_fleet,
        )
    )


def _notify_settings(
    url: str | None, listen: str | None, safety_net_s: float
) -> NotifySettings | None:
    """`--notify-url` with `--listen HOST:PORT` (both or neither)."""
    from orchestrator.cutover.notifications import NotifySettings  # lazy: the engine

    if url is None and listen is None:
        return None
    if url is None or listen is None:
        raise click.UsageError("--notify-url and --listen go together")
    if not url.startswith(("https://", "http://")):
        raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="--notify-url")
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"{listen!r}: expected HOST:PORT", param_hint="--listen")
    return NotifySettings(url, host.strip("[]"), int(port), safety_net_s=safety_net_s)
