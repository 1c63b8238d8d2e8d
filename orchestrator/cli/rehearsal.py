"""Starting the embedded sandbox for `bwmigrate run PLAN --sandbox`.

The embedded sandbox lives only as long as its run. When a rehearsal resumes, the account is
rebuilt from the state file (finished numbers in their final state) and orders that were in
flight in the lost sandbox are placed again: the state file says so in their `last_error`.
To rehearse crash recovery against one sandbox that outlives the run, serve it with
`bwmigrate sandbox` and use `run --target`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from orchestrator.cli.login import Login, sandbox_login
from orchestrator.cutover.rehearsal import DoneNumber, rehearsal_config
from orchestrator.plan import CompiledPlan
from orchestrator.sandbox.server import run_sandbox
from orchestrator.state.store import Store

LOST_SANDBOX = "the embedded sandbox of an earlier rehearsal run is gone; placed again"


def _done_numbers(store: Store) -> list[DoneNumber]:
    """What earlier runs of this rehearsal finished, as sandbox effects.

    An A2P follow-up (settings role "a2p") ran only for numbers whose SMS order succeeded: its
    effect is SMS on with its A2P settings (its settings carry no SMS of their own).
    """
    steps = {s.id: s for s in store.steps()}
    effects = {
        i: {**s.settings, "sms": "on"} if s.settings.get("role") == "a2p" else s.settings
        for i, s in steps.items()
    }
    return [
        DoneNumber(number, steps[step].kind, effects[step])
        for step, number in store.succeeded_numbers()
    ]


@contextlib.contextmanager
def rehearsal_sandbox(plan: CompiledPlan, store: Store) -> Iterator[tuple[str, Login]]:
    """Run a sandbox prepared for `plan` and for what `store` says is done; yield its v2 base
    URL and its (public) login, whose token URL is the sandbox's own."""
    seed_file = None
    if plan.spec.rehearsal:
        seed_file = Path(plan.spec.path).parent / plan.spec.rehearsal
    store.forget_remote_orders(LOST_SANDBOX)
    config = rehearsal_config(plan, seed_file, _done_numbers(store))
    with run_sandbox(config) as sandbox:
        creds = config.credentials
        login = sandbox_login(sandbox.base_url, creds.username, creds.password)
        yield f"{sandbox.base_url}/api/v2", login
