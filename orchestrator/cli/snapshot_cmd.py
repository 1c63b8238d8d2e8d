"""`bwmigrate snapshot PLAN --target URL`: keep what every planned number is now in the state
file, before a run changes it (`orchestrator.cutover.snapshot`).

Stores the plan in its state file (the one `run` would use, so the run that follows finds the
snapshot taken), reads the account's in-service pages and each number on the account through
the plan's request rate, and saves as it reads: run it again to finish one cut short. A live
`run` takes the snapshot itself before its first order when none was taken; this command is for
taking it ahead (say, the day before the cutover). Read-only towards the API.
"""

from __future__ import annotations

import json
import os
from functools import partial
from pathlib import Path

import click

from orchestrator.cli.options import DEFAULT_TARGET, json_option, plan_state, state_option
from orchestrator.state.postgres import StateLocation
from orchestrator.text import counted


@click.command()
@click.argument("plan_path", metavar="PLAN", type=click.Path(path_type=Path))
@click.option("--target", metavar="URL", required=True,
              help=f"The v2 API base URL, e.g. {DEFAULT_TARGET}.")  # fmt: skip
@state_option("State file (default state/<plan name>.db, the one `run` uses).")
@json_option("Print one JSON object when done.")
def snapshot(plan_path: Path, target: str, state: StateLocation | None, as_json: bool) -> None:
    """Keep every planned number's current state (site, SIP peer, SMS, A2P) in the state file.

    Read-only; resumable; paced at the plan's request rate; every request in the audit log.
    `run` then finds it taken, `verify` and `rollback` use it. Exit 0 every number kept, 1 some
    could not be read (run again), 2 bad usage/plan, 3 API unreachable or credentials refused,
    4 state file in use.
    """
    import anyio  # heavy imports inside the command: `bwmigrate --help` stays light
    from rich.console import Console

    from orchestrator.cli.loading import load_plan, read_plan_text
    from orchestrator.cli.login import live_access
    from orchestrator.cutover.cutover import Cutover, LiveTarget
    from orchestrator.cutover.readback import snapshot_plan
    from orchestrator.cutover.snapshot import SnapshotProgress
    from orchestrator.errors import ExitCode

    plan = load_plan(plan_path)
    state_path = plan_state(state, plan.spec.name, Path("state") / f"{plan.spec.name}.db")
    access = live_access(dict(os.environ), target.rstrip("/"))
    err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)
    where = LiveTarget(access.base_url, access.token_url)

    def progress(p: SnapshotProgress) -> None:
        if err.is_terminal:
            err.print(
                f"  kept {p.kept}/{counted(p.total, 'number')} ({counted(p.requests, 'request')})",
                end="\r",
            )

    with Cutover.open(
        plan, state_path, where, plan_text=read_plan_text(plan_path),
        command=f"bwmigrate snapshot {plan_path}", on_note=err.print,
    ) as cutover:  # fmt: skip
        err.print(f"Snapshot of {plan.spec.name} on {where.id} (state {cutover.state_path})")
        result = anyio.run(partial(snapshot_plan, cutover.state_path, access, on_progress=progress))
    if as_json:
        click.echo(json.dumps(result.as_json(), indent=2))
    else:
        err.print(
            f"Snapshot: {counted(result.numbers, 'number')} ({result.already} kept before, "
            f"{result.by_pages} from in-service pages, {result.by_details} read one by one) in "
            f"{counted(result.requests, 'request')} ({counted(result.pages, 'page')}, "
            f"{result.details} tndetails)."
        )
        for number, reason in sorted(result.unreadable.items()):
            err.print(f"  unreadable {number}: {reason}")
    raise SystemExit(int(ExitCode.OK if result.complete else ExitCode.FAILED_NUMBERS))
