"""What a run does around its engine: the snapshot before the first order, and (`run --verify`)
the verify after the last.

`Cutover` holds one `BeforeAfter` (`cutover.checks`); the caller sets what it wants before
`run()` and reads the results after it:

    cutover.checks = BeforeAfter(verify=True, on_snapshot=draw)
    result = anyio.run(cutover.run, credentials)
    cutover.checks.verified.exit_code

Both go through the run's client and gate (the same pacing and budget, the same audit log).
The snapshot is taken only while it is due (`orchestrator.cutover.snapshot.snapshot_due`: not
complete and no order sent), so a resumed run finishes a snapshot cut short and never snapshots
after an order went out. Credentials the API refuses abort the run before its first order, as
the engine would; in-service pages or tndetails the API will not answer (unreachable after the
gate's retries, refused, unreadable) leave the run without a snapshot, said in
`snapshot_error` (the run goes on: the snapshot serves verify and rollback, not the
migration); a few numbers that cannot be read are left out of it and named. The verify runs
only after a run that finished (`done`); one that cannot complete is said in `verify_error`
(the run is recorded as it ended).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio

from orchestrator.api.pacing import Backoff
from orchestrator.cutover.connection import Api
from orchestrator.cutover.engine import Progress, RunEnd, RunOutcome
from orchestrator.cutover.reading import NumberReader
from orchestrator.cutover.snapshot import (
    SnapshotProgress,
    SnapshotResult,
    snapshot_due,
    take_snapshot,
)
from orchestrator.cutover.verify import VerifyProgress, VerifyResult, verify_numbers
from orchestrator.errors import AuthError, TransientApiError, XmlError
from orchestrator.errors import PermanentApiError as _Permanent
from orchestrator.state.store import Store


@dataclass(slots=True)
class BeforeAfter:
    """Whether to snapshot before and verify after a run, and what each found."""

    snapshot: bool = True
    verify: bool = False
    on_snapshot: Callable[[SnapshotProgress], None] | None = None
    on_verify: Callable[[VerifyProgress], None] | None = None
    snapshotted: SnapshotResult | None = None
    verified: VerifyResult | None = None
    snapshot_error: str | None = None  # why the snapshot could not be taken (the run went on)
    stopping: bool = False  # set by `Cutover.request_stop`: a snapshot stops reading
    verify_error: str | None = None  # why the verify could not complete (the run is recorded)

    async def around(
        self,
        store: Store,
        api: Api,
        target_id: str,
        backoff: Backoff | None,
        run_engine: Callable[[], Awaitable[RunOutcome]],
    ) -> RunOutcome:
        """Snapshot (when due), run the engine, verify (when asked and the run finished)."""
        account = api.client.account_id
        if self.snapshot and await anyio.to_thread.run_sync(snapshot_due, store):
            reader = NumberReader(
                api.client, api.gate, account, backoff=backoff, stopping=lambda: self.stopping
            )
            try:
                self.snapshotted = await take_snapshot(
                    store, reader, target_id=target_id, on_progress=self.on_snapshot
                )
            except AuthError as exc:
                counts = await anyio.to_thread.run_sync(store.counts)
                message = f"the API refused the credentials ({exc}); no order was sent"
                return RunOutcome(RunEnd.ABORTED, message, Progress(steps=counts))
            except (TransientApiError, _Permanent, XmlError) as exc:
                self.snapshot_error = f"no snapshot was taken before the first order ({exc})"
        outcome = await run_engine()
        if self.verify and outcome.reason == RunEnd.DONE:
            reader = NumberReader(api.client, api.gate, account, backoff=backoff)
            try:
                self.verified = await verify_numbers(store, reader, on_progress=self.on_verify)
            except (TransientApiError, _Permanent, XmlError) as exc:  # the run still ends well
                self.verify_error = f"the verify after the run could not complete ({exc})"
        return outcome
