"""`bwmigrate fleet add PLAN... --state postgresql://...`, `bwmigrate fleet remove NAME...` and
`bwmigrate worker --state ...`:
many plans (one per account) in one PostgreSQL database, driven by any number of workers
(`orchestrator.cutover.fleet`, on procrastinate).

`fleet add` validates and compiles every plan as `plan` does, shows the whole fleet and asks
once (`--yes` skips the question), then registers the plans, each with its text and number
files as compiled, and queues them (`--replace`: a corrected plan in place of one of the same
name that took no effect). `worker` drives queued plans, each as a `bwmigrate run`
child process that dies with the worker and reads its plan from the registry, until no plan
is waiting or running. The credentials come from the worker's environment, as for `run`.
`fleet remove` takes plans out (refusing one a run or worker holds), keeping their state
unless `--drop-state`.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from orchestrator.cli.options import DEFAULT_TARGET, state_option
from orchestrator.errors import AbortedError, ExitCode, InputError
from orchestrator.text import counted

_PR_SET_PDEATHSIG = 1
_LINE_LIMIT = 1 << 20  # longest line relayed from a run (asyncio's default is 64 KiB)


def _fleet_database(state: Any) -> Any:
    """The `--state` of a fleet command: a PostgreSQL database, named without `#PLAN`."""
    from orchestrator.state.postgres import PgLocation

    if not isinstance(state, PgLocation):
        raise InputError(
            "--state: a fleet lives in PostgreSQL; pass --state postgresql://HOST/DATABASE"
        )
    if state.plan is not None:
        raise InputError(f"--state {state}: name the database only, without #{state.plan}")
    return state


@click.group()
def fleet() -> None:
    """Many plans, one per account, in one PostgreSQL database (see `bwmigrate worker`)."""


@fleet.command("add")
@click.argument("plans", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@state_option("The fleet's PostgreSQL database (required).")
@click.option("--target", default=DEFAULT_TARGET, show_default=True, help="The v2 API URL.")
@click.option("--yes", is_flag=True, help="Do not ask before registering the fleet.")
@click.option(
    "--replace",
    is_flag=True,
    help="Replace the plans of the same name (and account) the fleet holds, if they took no "
    "effect: a corrected plan, queued again if its job ended.",
)
def add(plans: tuple[Path, ...], state: Any, target: str, yes: bool, replace: bool) -> None:
    """Register PLANS (each validated and compiled as `plan` does) and queue them."""
    import anyio

    from orchestrator.cli.loading import load_plan_source
    from orchestrator.cutover.fleet import add_plans, translated_errors
    from orchestrator.state.fleet_registry import FleetPlan

    database = _fleet_database(state)
    loaded = [(path, load_plan_source(path)) for path in plans]
    _refuse_shared_accounts([(str(path), p.plan.spec.account_id) for path, p in loaded])
    now = time.time()
    entries = [
        FleetPlan(p.plan.spec.name, p.plan.spec.account_id, str(path.resolve()),
                  target.rstrip("/"), sum(len(s.numbers) for s in p.plan.steps), now,
                  plan_text=p.text, files=p.files)
        for path, p in loaded
    ]  # fmt: skip
    replacing = _replaceable(database, entries) if replace else []
    lines = [f"About to add {counted(len(entries), 'plan')} to the fleet in {database.url}, "
             f"to run against {target}:"]  # fmt: skip
    lines += [f"  {e.name}: account {e.account_id}, {counted(e.numbers, 'number')}"
              + (" (replaces the plan of that name)" if e.name in replacing else "")
              for e in entries]  # fmt: skip
    click.echo("\n".join(lines), err=True)
    if not yes:
        if not sys.stdin.isatty():
            raise InputError("fleet add: not a terminal to confirm on; pass --yes")
        click.confirm("Add this fleet?", abort=True, err=True)
    with translated_errors(database):
        jobs = anyio.run(add_plans, database, entries, replacing)
    waiting = len(entries) - len(jobs)
    click.echo(f"bwmigrate: {counted(len(jobs), 'plan')} queued"
               + (f" ({waiting} replaced in the job already waiting)" if waiting else "")
               + f"; start workers with `bwmigrate worker --state {database.url}`",
               err=True)  # fmt: skip


def _replaceable(database: Any, entries: list[Any]) -> list[str]:
    """The names of `entries` the fleet already holds, once each may be replaced: same
    account, no run holding it or worker driving it (else exit 4), and nothing of it took
    effect (no number succeeded or sent, no order sent: a run would refuse the changed plan)."""
    from orchestrator.cli.fleet_view import read_fleet
    from orchestrator.errors import StateLockedError

    held = {p["name"]: p for p in read_fleet(database, [e.name for e in entries])["plans"]}
    for entry in (e for e in entries if e.name in held):
        plan = held[entry.name]
        where = f"{database.url}#{entry.name}"
        if plan["account_id"] != entry.account_id:
            raise InputError(
                f"{where}: the fleet's plan is for account {plan['account_id']}, this one for "
                f"{entry.account_id}; `bwmigrate fleet remove {entry.name}` it first"
            )
        if plan["owner"] or plan["job"] == "doing":
            raise StateLockedError(
                f"{where}: a worker is driving this plan now; it cannot be replaced (stop the "
                "worker with SIGTERM, or wait)"
            )
        if effect := _effect(database.for_plan(entry.name)):
            raise InputError(
                f"{where}: this plan took effect ({effect}); a changed plan would be refused. "
                "Put the changes in a plan of their own, for another account or after this "
                "one finishes"
            )
    return [e.name for e in entries if e.name in held]


def _effect(location: Any) -> str:
    """What of a plan's state took effect ("" when nothing did, or it has no state yet)."""
    from orchestrator.cli.fleet_view import open_plan_state

    store = open_plan_state(location)
    if store is None:
        return ""
    try:
        numbers, orders = store.effect()
    finally:
        store.close()
    parts = [counted(numbers, "number") + " done or sent" if numbers else "",
             counted(orders, "order") + " sent" if orders else ""]  # fmt: skip
    return ", ".join(p for p in parts if p)


@fleet.command("remove")
@click.argument("names", nargs=-1, required=True)
@state_option("The fleet's PostgreSQL database (required).")
@click.option("--drop-state", is_flag=True,
              help="Also delete the plans' state (numbers, orders, runs, the snapshot that "
                   "rollback needs).")  # fmt: skip
@click.option("--yes", is_flag=True, help="Do not ask before removing.")
def remove(names: tuple[str, ...], state: Any, drop_state: bool, yes: bool) -> None:
    """Take the plans NAMES out of the fleet (their waiting jobs are deleted; a plan a worker
    is driving is refused). Their state stays, listed as outside the fleet, unless
    --drop-state."""
    import anyio

    from orchestrator.cutover.fleet import translated_errors, withdraw_jobs
    from orchestrator.errors import StateLockedError
    from orchestrator.state.fleet_registry import unregister_plans

    database = _fleet_database(state)
    plans = _removable(database, names)
    lines = [
        f"About to remove {counted(len(names), 'plan')} from the fleet in {database.url}"
        + (", and delete their state:" if drop_state else " (their state stays):")
    ]
    lines += [
        f"  {n}: account {plans[n]['account_id']}, {plans[n]['succeeded']}/"
        f"{plans[n]['numbers']} succeeded, {plans[n]['pending']} pending"
        for n in names
    ]
    click.echo("\n".join(lines), err=True)
    if not yes:
        if not sys.stdin.isatty():
            raise InputError("fleet remove: not a terminal to confirm on; pass --yes")
        click.confirm("Remove these plans?", abort=True, err=True)
    with translated_errors(database):
        busy = anyio.run(withdraw_jobs, database, list(names))
    unregister_plans(database, [n for n in names if n not in busy], drop_state=drop_state)
    if busy:
        raise StateLockedError(
            f"{database.url}#{busy[0]}: a worker is driving this plan now; it stays in the "
            "fleet (stop the worker with SIGTERM, or wait)"
        )
    done = "; their state deleted" if drop_state else ""
    click.echo(f"bwmigrate: {counted(len(names), 'plan')} removed from the fleet{done}", err=True)


def _removable(database: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The database's plans (status entries, by name), once every name is one of them and
    no run holds any of them (a usage error, or a locked one, naming the first that fails)."""
    from orchestrator.cli.fleet_view import read_fleet
    from orchestrator.errors import StateLockedError

    plans = {p["name"]: p for p in read_fleet(database, names)["plans"]}
    for name in names:
        if name not in plans:
            raise InputError(
                f"{database.url}: no plan {name!r} in this database; "
                f"`bwmigrate status --state {database.url}` lists them"
            )
        if plans[name]["owner"]:
            raise StateLockedError(
                f"{database.url}#{name}: a run holds this plan now ({plans[name]['owner']}); "
                "stop it, or wait for it to end"
            )
    return plans


def _refuse_shared_accounts(plans: list[tuple[str, str]]) -> None:
    """One plan per account (its rate limit is one worker's): two plans of one account are
    refused, naming both."""
    seen: dict[str, str] = {}
    for path, account in plans:
        if account in seen:
            raise InputError(
                f"{path}: account {account} is also the account of {seen[account]}; a fleet "
                "holds one plan per account (merge their steps into one plan)"
            )
        seen[account] = path


@click.command()
@state_option("The fleet's PostgreSQL database (required).")
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Plans this worker drives at once.")  # fmt: skip
@click.option("--stalled-after-s", default=30.0, show_default=True,
              type=click.FloatRange(1, 3600),
              help="Heartbeat silence after which a worker counts as dead and its plans go "
                   "to another worker.")  # fmt: skip
def worker(state: Any, concurrency: int, stalled_after_s: float) -> None:
    """Drive the fleet's queued plans until none is waiting or running."""
    import anyio

    from orchestrator.cutover.fleet import WorkerSettings, run_worker, translated_errors
    from orchestrator.state.fleet_registry import read_plans

    database = _fleet_database(state)
    if not read_plans(database):  # also: a server that cannot be reached fails here, at once
        raise InputError(
            f"{database.url}: no fleet in this database; add plans with "
            f"`bwmigrate fleet add PLAN... --state {database.url}`"
        )
    name = f"{os.uname().nodename}:{os.getpid()}"
    settings = WorkerSettings(concurrency, stalled_after_s, name=name)

    def lost(plan: str) -> None:
        click.echo(
            f"bwmigrate: worker: plan {plan}: another worker took its job over while this one "
            f"was silent for more than --stalled-after-s ({stalled_after_s:g} s); the plan's "
            f"state stands as it is (`bwmigrate status --state {database.for_plan(plan)}`)",
            err=True,
        )

    with translated_errors(database):
        stopped = anyio.run(run_worker, database, _run_plan, settings, lost)
    if stopped:
        click.echo(
            "bwmigrate: worker: stopped; the plans it drove ended, the others wait for a worker",
            err=True,
        )
        raise SystemExit(int(ExitCode.INTERRUPTED))
    raise SystemExit(_fleet_exit(database))


def _fleet_exit(database: Any) -> int:
    """The worker's exit once no plan is left: 0 every plan finished with every number done,
    1 some numbers failed; a plan that could not finish (its job failed) is exit 3."""
    from orchestrator.cutover.fleet import FINISHED_EXITS
    from orchestrator.state.fleet_registry import read_plans

    plans = read_plans(database)
    stuck = [p.name for p in plans if p.last_exit not in FINISHED_EXITS]
    if stuck:
        raise AbortedError(
            f"{database.url}: {counted(len(stuck), 'plan')} could not finish ({', '.join(stuck)}); "
            f"`bwmigrate status --state {database.url}` shows each plan's last exit, and "
            f"`bwmigrate status --state {database.url}#PLAN` what it did"
        )
    failed = sum(1 for p in plans if p.last_exit == ExitCode.FAILED_NUMBERS)
    click.echo(f"bwmigrate: worker: no plan left to drive; {counted(len(plans), 'plan')} finished"
               + (f", {failed} with failed numbers" if failed else ""), err=True)  # fmt: skip
    return int(ExitCode.FAILED_NUMBERS if failed else ExitCode.OK)


async def _run_plan(plan: Any, location: Any) -> int:
    """`bwmigrate run PLAN --state URL#PLAN --target T --yes --quiet`, a child that dies with
    this process; its exit code. A plan whose text the fleet stores runs from the registry
    (`--plan-from-fleet`: what `fleet add` showed, needing no file on this machine); one
    registered before plans travelled in the database, from its file. Its output lines reach
    the worker's stdout and stderr, each line whole and prefixed with `[PLAN] ` (many plans
    share one worker's terminal or log)."""
    import asyncio

    args = [sys.executable, "-m", "orchestrator", "run", plan.plan_path, "--state", str(location),
            "--target", plan.target, "--yes", "--quiet"]  # fmt: skip
    if plan.plan_text is not None:
        args.append("--plan-from-fleet")
    process = await asyncio.create_subprocess_exec(
        *args, preexec_fn=_die_with_parent,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, limit=_LINE_LIMIT,
    )  # fmt: skip
    prefix = f"[{plan.name}] ".encode()
    assert process.stdout is not None and process.stderr is not None
    await asyncio.gather(
        _relay(process.stdout, sys.stdout.buffer, prefix),
        _relay(process.stderr, sys.stderr.buffer, prefix),
    )
    return await process.wait()


async def _relay(stream: Any, out: Any, prefix: bytes) -> None:
    """Copy a child's output to `out` line by line, each line one write with `prefix`."""
    async for line in stream:
        out.write(prefix + (line if line.endswith(b"\n") else line + b"\n"))
        out.flush()


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL it when its parent (the worker) dies (Linux)."""
    import ctypes
    import signal

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
