"""The snapshot: what the API says every planned number is, kept in the state file before the
first order of a run (and by `bwmigrate snapshot PLAN`), so verify and rollback know what was
there.

    result = await take_snapshot(store, NumberReader(client, gate, account_id), target_id=…)

The account's in-service pages say which planned numbers are on the account at all, a few
thousand numbers a request; only those are read one by one (tndetails: site, SIP peer, SMS,
A2P). A number the pages do not list is recorded as not on the account without a request of its
own; when the account holds many more numbers than the plan (the pages would cost more than
reading the planned numbers), every number is read one by one instead.

Resumable: rows are saved as they are read (`Store.save_snapshot`, in batches), and a snapshot
started again reads only the numbers the state file does not hold yet; when every planned
number is in, the state file says when and against which target (`snapshot_taken_at`). A
number the API would not answer for is left out (and named in the result): the next snapshot
tries it again. Read-only towards the API. Prints nothing: progress goes to `on_progress`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import anyio

from orchestrator.api.number_state import NumberState, absent
from orchestrator.cutover.reading import NumberReader
from orchestrator.state.snapshot import TAKEN_AT
from orchestrator.state.store import Store


@dataclass(frozen=True, slots=True)
class SnapshotProgress:
    """How far a snapshot is: numbers kept of the plan's, requests so far."""

    kept: int
    total: int
    requests: int


@dataclass(slots=True)
class SnapshotResult:
    """What a snapshot did: numbers planned, kept before it started (a resume), read now by
    pages and by tndetails, the requests, and numbers it could not read (-> why)."""

    numbers: int
    already: int
    by_pages: int = 0
    by_details: int = 0
    pages: int = 0
    details: int = 0
    unreadable: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Every planned number is in the snapshot."""
        return self.already + self.by_pages + self.by_details == self.numbers

    @property
    def requests(self) -> int:
        """Requests sent."""
        return self.pages + self.details

    def as_json(self) -> dict[str, object]:
        """The `snapshot --json` object."""
        return {
            "numbers": self.numbers,
            "already": self.already,
            "read_by_pages": self.by_pages,
            "read_by_details": self.by_details,
            "requests": {"pages": self.pages, "details": self.details, "total": self.requests},
            "unreadable": [{"number": n, "reason": r} for n, r in sorted(self.unreadable.items())],
            "complete": self.complete,
        }


def snapshot_due(store: Store) -> bool:
    """True when a run should snapshot first: no snapshot is complete and no order was sent
    (after the first order, what the API says is no longer what was there)."""
    if TAKEN_AT in store.meta():
        return False
    return all(o.state == "planned" for o in store.orders())


async def take_snapshot(
    store: Store,
    reader: NumberReader,
    *,
    target_id: str,
    clock: Callable[[], float] = time.time,
    on_progress: Callable[[SnapshotProgress], None] | None = None,
) -> SnapshotResult:
    """Read every planned number the state file does not hold yet and keep it."""
    numbers = await anyio.to_thread.run_sync(store.plan_numbers)
    kept = await anyio.to_thread.run_sync(store.snapshotted_numbers)
    todo = [n for n in numbers if n not in kept]
    result = SnapshotResult(numbers=len(numbers), already=len(numbers) - len(todo))
    done = result.already

    async def save(states: list[NumberState]) -> None:
        nonlocal done
        await anyio.to_thread.run_sync(partial(store.save_snapshot, states, clock()))
        done += len(states)
        if on_progress is not None:
            on_progress(SnapshotProgress(done, len(numbers), reader.counters.requests))

    if todo:
        budget = len(todo) - 1  # pages must cost fewer requests than reading one by one
        members = await reader.members(None, budget_pages=budget) if budget > 0 else None
        if members is not None:
            off = [absent(n, detailed=False) for n in todo if n not in members]
            if off:
                await save(off)
            result.by_pages = len(off)
            todo = [n for n in todo if n in members]
        states, result.unreadable = await reader.details(todo, save)
        result.by_details = len(states)
    result.pages, result.details = reader.counters.pages, reader.counters.details
    if result.complete:
        await anyio.to_thread.run_sync(partial(store.mark_snapshot_taken, target_id, clock()))
    return result
