"""Starting the embedded sandbox for `bwmigrate run PLAN --sandbox`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from orchestrator.client import BasicCredentials, Credentials
from orchestrator.plan import CompiledPlan
from orchestrator.sandbox.rehearsal import rehearsal_config
from orchestrator.sandbox.server import run_sandbox


@contextlib.contextmanager
def rehearsal_sandbox(plan: CompiledPlan, state: Path) -> Iterator[tuple[str, Credentials]]:
    """Run a sandbox prepared for `plan`; yield its v2 base URL and its (public) login."""
    seed_file = None
    if plan.spec.rehearsal:
        seed_file = Path(plan.spec.path).parent / plan.spec.rehearsal
    config = rehearsal_config(plan, seed_file)
    with run_sandbox(config) as sandbox:
        creds = config.credentials
        yield (f"{sandbox.base_url}/api/v2", BasicCredentials(creds.username, creds.password))
