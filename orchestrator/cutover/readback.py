"""`bwmigrate snapshot` and `bwmigrate verify` as library calls: the state file, the API opened
through the one wiring (`orchestrator.cutover.connection`: the plan's request rate on one gate,
every exchange in the audit log beside the state file), and the reading itself
(`orchestrator.cutover.snapshot`, `orchestrator.cutover.verify`).

    result = anyio.run(functools.partial(verify_state, state, access))

`snapshot_plan` stores the plan in the state file (as a run would, holding its lease through
`Cutover.open`) and snapshots every planned number, so a later `run` on the same state file
finds the snapshot taken and starts with its first order. `verify_state` reads the plan, its
outcomes and its snapshot from the state file (read-only; refused while a run holds it) and
verifies against the target the state file names. Answers that stop the whole read (the API
unreachable after retries, unparseable pages) raise `AbortedError` (exit 3).

Prints nothing and reads no environment: the CLI passes the access in.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

from orchestrator.cutover.connection import ApiAccess, open_api, open_audit
from orchestrator.cutover.reading import NumberReader
from orchestrator.cutover.snapshot import SnapshotProgress, SnapshotResult, take_snapshot
from orchestrator.cutover.verify import VerifyProgress, VerifyResult, verify_numbers
from orchestrator.errors import AbortedError, AuthError, StateLockedError, StateMismatchError
from orchestrator.errors import ApiError as _ApiError
from orchestrator.errors import XmlError as _XmlError
from orchestrator.plan import PlanSpec, parse_plan
from orchestrator.state.audit import audit_path
from orchestrator.state.store import StateLocation, Store


@contextlib.asynccontextmanager
async def _reader(
    store: Store, access: ApiAccess, spec: PlanSpec, command: str, rate_per_s: float | None
) -> AsyncIterator[NumberReader]:
    """A reader for the plan's account at its request rate, audited beside the state file."""
    session = {"command": command, "plan": spec.name, "target": access.base_url.rstrip("/"),
               "account_id": spec.account_id}  # fmt: skip
    with open_audit(
        audit_path(store.path), access, context={"command": command}, session=session
    ) as audit:
        rate = rate_per_s or spec.rate.requests_per_s
        try:
            async with open_api(access, spec.account_id, rate_per_s=rate, audit=audit) as api:
                yield NumberReader(api.client, api.gate, spec.account_id)
        except AuthError:
            raise
        except (_ApiError, _XmlError) as exc:
            raise AbortedError(f"{command} could not complete: {exc}") from exc


def stored_spec(store: Store) -> PlanSpec:
    """The plan stored in the state file."""
    meta = store.meta()
    if "plan_text" not in meta:
        raise StateMismatchError(f"{store.path}: no plan stored here; nothing ran from it")
    return parse_plan(meta["plan_text"], meta.get("plan_path") or str(store.path))


async def snapshot_plan(
    state_path: StateLocation,
    access: ApiAccess,
    *,
    on_progress: Callable[[SnapshotProgress], None] | None = None,
    rate_per_s: float | None = None,
) -> SnapshotResult:
    """Snapshot the plan stored in `state_path` (the caller holds its lease)."""
    store = Store.open(state_path)
    try:
        spec = stored_spec(store)
        async with _reader(store, access, spec, "snapshot", rate_per_s) as reader:
            target = access.base_url.rstrip("/")
            return await take_snapshot(store, reader, target_id=target, on_progress=on_progress)
    finally:
        store.close()


def verify_target(store: Store) -> str:
    """The live URL the state file's run went to (a rehearsal's sandbox is gone)."""
    target = store.meta().get("target")
    if target is None or target == "sandbox":
        raise StateMismatchError(
            f"{store.path}: this state file holds a rehearsal, whose embedded sandbox is gone: "
            "verify a rehearsal with `run --sandbox --verify`, or rehearse against "
            "`bwmigrate sandbox` with `run --target URL` and verify that"
        )
    return target


async def verify_state(
    state_path: StateLocation,
    access: ApiAccess,
    *,
    on_progress: Callable[[VerifyProgress], None] | None = None,
    rate_per_s: float | None = None,
) -> VerifyResult:
    """Verify the run recorded in `state_path` against `access` (its target)."""
    store = Store.open(state_path, readonly=True)
    try:
        holder = store.lease_holder()
        if holder is not None:
            raise StateLockedError(
                f"{state_path}: a run holds this state file ({holder.get('command')}); "
                "verify when it has ended"
            )
        spec = stored_spec(store)
        async with _reader(store, access, spec, "verify", rate_per_s) as reader:
            return await verify_numbers(store, reader, on_progress=on_progress)
    finally:
        store.close()
