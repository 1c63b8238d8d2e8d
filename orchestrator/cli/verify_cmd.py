"""`bwmigrate verify`: read every number of a run back and say whether it is where the plan put
it (`orchestrator.cutover.verify`); and the lines `run --verify` prints.

Reads the state file (read-only; refused while a run holds it) and the API the state file's run
went to, with the environment's credentials. Per number: matches, drifted (field by field:
expected vs actual) or unreadable. Exit 0 when every checked number matches, 1 when some
drifted or could not be read, 3 when the verify could not complete.
"""

from __future__ import annotations

import json
import os
from functools import partial
from pathlib import Path

import click

from orchestrator.cli.options import (
    default_state_file,
    force_option,
    json_option,
    out_option,
    state_option,
)
from orchestrator.state.postgres import StateLocation
from orchestrator.text import counted


@click.command()
@state_option("State file of the run to verify (default: the only one in state/).")
@json_option("Print one JSON object (numbers, drift[], unreadable[], requests).")
@out_option("Also write the JSON object to FILE.")
@force_option("Replace the --out file if it exists.")
@click.option(
    "--rate",
    type=click.FloatRange(min=0.01),
    default=None,
    metavar="N",
    help="Requests per second (default: the plan's [rate] requests_per_s).",
)
def verify(
    state: StateLocation | None, as_json: bool, out: Path | None, force: bool, rate: float | None
) -> None:
    """Read every number of a run back and compare it with what the plan intended.

    Each number matches, drifted (field by field: on_account, site_id, sip_peer_id, sms,
    campaign_id, message_class, with the step that set it) or is unreadable. The in-service
    number pages are read where they cover the field; tndetails for the rest. Exit 0 every
    number matches, 1 some drifted or unreadable, 2 bad usage, 3 could not complete, 4 a run
    holds the state file.
    """
    import anyio  # heavy imports inside the command: `bwmigrate --help` stays light
    from rich.console import Console

    from orchestrator.cli.login import live_access
    from orchestrator.cli.verify_view import print_verdict, write_out
    from orchestrator.cutover.readback import verify_state, verify_target
    from orchestrator.cutover.verify import VerifyProgress
    from orchestrator.errors import InputError
    from orchestrator.state.store import Store

    path = state or default_state_file()
    if out is not None and out.exists() and not force:  # before any request is sent
        raise InputError(f"{out}: already exists; pass --force to replace it")
    store = Store.open(path, readonly=True)
    try:
        target = verify_target(store)
    finally:
        store.close()
    access = live_access(dict(os.environ), target)
    err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)
    err.print(f"Verifying {path} against {target}")

    def progress(p: VerifyProgress) -> None:
        if err.is_terminal:
            err.print(
                f"  read {p.read}/{counted(p.to_read, 'number')} "
                f"({counted(p.requests, 'request')})",
                end="\r",
            )

    result = anyio.run(partial(verify_state, path, access, on_progress=progress, rate_per_s=rate))
    obj = result.as_json()
    if out is not None:
        write_out(out, obj, force)
    if as_json:
        click.echo(json.dumps(obj, indent=2))
    else:
        print_verdict(result, err)
    raise SystemExit(int(result.exit_code))
