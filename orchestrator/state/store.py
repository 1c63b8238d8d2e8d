"""The state file: every number's progress, every order's transitions, the plan and its hash.

`Store` is the one facade callers use; the wing's modules do the work, each owning one concept:

    database      the SQLite connection (WAL, synchronous=FULL), write transactions, meta facts
    migration     the schema version: creating the tables, upgrading older files in place
    lease         one run at a time (an OS file lock beside the database, and who holds it)
    stored_plan   the plan stored in one transaction: steps, chained steps, numbers, orders
    transition    orders and the exactly-once protocol's transitions before the outcome
    outcome       an order's outcome, its numbers' statuses and the chained order, in one go
    tally         counts by status, the per-number report, the numbers that succeeded
    run_history   one row per `bwmigrate run` and what it cost in requests
    snapshot      each planned number as the API showed it before the run

Order transitions are committed before the engine acts on them, which is what makes
exactly-once submission hold across crashes:

    planned --intent committed--> submitting --id committed--> submitted --outcomes--> done

No secret is ever stored. Rows never leave the wing: callers get the records of
`orchestrator.state.schema` (re-exported here). Synchronous by design: the engine calls it
through `anyio.to_thread` with one writer at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from orchestrator.api.number_state import NumberState
from orchestrator.plan import CompiledPlan
from orchestrator.state import (
    outcome,
    postgres,
    run_history,
    snapshot,
    stored_plan,
    tally,
    transition,
)
from orchestrator.state.database import Database
from orchestrator.state.lease import Lease
from orchestrator.state.migration import SCHEMA_VERSION, prepare_schema
from orchestrator.state.postgres import PgLocation, StateLocation
from orchestrator.state.schema import (
    ExcludedNumber,
    FailedNumber,
    NumberStatus,
    OrderRecord,
    OrderState,
    Outcome,
    ReportRow,
    StepCounts,
    StepInfo,
)
from orchestrator.state.stored_plan import INVALID_INPUT_CODE

__all__ = [
    "INVALID_INPUT_CODE",
    "SCHEMA_VERSION",
    "ExcludedNumber",
    "FailedNumber",
    "NumberStatus",
    "OrderRecord",
    "OrderState",
    "Outcome",
    "PgLocation",
    "ReportRow",
    "StateLocation",
    "StepCounts",
    "StepInfo",
    "Store",
    "state_exists",
]


def state_exists(location: StateLocation) -> bool:
    """True when the state file (or the plan's PostgreSQL schema) exists."""
    if isinstance(location, PgLocation):
        return postgres.schema_exists(location)
    return location.exists()


class Store:
    """A migration's state file. Open with `Store.open`; close when done."""

    def __init__(self, db: Database) -> None:
        self.path: StateLocation = db.path
        self._db = db
        self._lease = Lease(db)

    # lifecycle and lease -------------------------------------------------------------------

    @classmethod
    def open(cls, path: StateLocation, *, readonly: bool = False) -> Store:
        """Open (and if needed create) the state file; check or upgrade its schema version."""
        db = Database.connect(path, readonly=readonly)
        try:
            prepare_schema(db)  # SQLite errors: StateFileError (orchestrator.state.database)
        except BaseException:
            db.close()
            raise
        return cls(db)

    @staticmethod
    def exists(location: StateLocation) -> bool:
        """True when the state file (or the plan's PostgreSQL schema) exists."""
        return state_exists(location)

    def close(self) -> None:
        """Release the lease (if held) and close the database."""
        self._lease.release()
        self._db.close()

    def acquire_lease(self, *, pid: int, host: str, command: str, now: float) -> None:
        """Take the state file for this run, or raise `StateLockedError` at once."""
        self._lease.acquire(pid=pid, host=host, command=command, now=now)

    def lease_holder(self) -> dict[str, object] | None:
        """Who holds the state file now, or None (checked with the OS lock, not just the row)."""
        return self._lease.holder()

    def release_lease(self) -> None:
        """Give the state file back (the OS also does this if the process dies)."""
        self._lease.release()

    # plan -------------------------------------------------------------------------------------

    def set_meta(self, key: str, value: str) -> None:
        """Record one fact about the state file (never a secret)."""
        self._db.write_meta(key, value)

    def meta(self) -> dict[str, str]:
        """All key/value facts of the state file."""
        return self._db.read_meta()

    def initialize(
        self,
        plan: CompiledPlan,
        plan_text: str,
        now: float,
        *,
        excluded: Sequence[ExcludedNumber] = (),
        facts: Mapping[str, str] | None = None,
    ) -> bool:
        """Store a compiled plan on a new state file, or check it matches the stored one.

        Returns True when the plan was stored now, False when it was already there. Raises
        `StateMismatchError` when the state file belongs to a plan with another hash.
        `excluded` numbers (not part of `plan`'s steps) are stored as failed, and `facts`
        (meta keys such as the run's target) recorded, in the same transaction: a crash
        cannot leave a stored plan without them.
        """
        return stored_plan.store_plan(self._db, plan, plan_text, now, excluded, facts or {})

    def discard_plan_without_effect(self, plan_hash: str) -> bool:
        """Drop the stored plan when `plan_hash` differs and nothing of it took effect.

        Nothing took effect when no number succeeded (or needs action, or has an unknown
        outcome) and no order is being or has been sent without an outcome: then no number on
        the account was changed by it, and a corrected plan (after a refused canary, say) may
        start over on this file. Returns True when the old plan was dropped; the caller stores
        the new one. Runs and meta facts (such as the target) are kept.
        """
        return stored_plan.discard_plan_without_effect(self._db, plan_hash)

    def steps(self) -> list[StepInfo]:
        """Every step, plan order first, chained steps after."""
        return stored_plan.read_steps(self._db)

    # orders and their transitions -------------------------------------------------------------

    def orders(self, state: OrderState | None = None, step: int | None = None) -> list[OrderRecord]:
        """Orders in a state and/or of a step (all when not given), by step then index."""
        return transition.read_orders(self._db, state, step)

    def order_numbers(self, order_id: int) -> list[str]:
        """The E.164 numbers of an order, in plan order."""
        return transition.read_order_numbers(self._db, order_id)

    def order_errors(self, order_id: int) -> list[tuple[str | None, str | None]]:
        """The distinct (code, description) pairs recorded on an order's numbers."""
        return transition.read_order_errors(self._db, order_id)

    def mark_submitting(self, order_id: int, now: float) -> None:
        """Commit the intent to POST an order (durable before the request is sent)."""
        transition.mark_submitting(self._db, order_id, now)

    def mark_submitted(
        self, order_id: int, remote_id: str, remote_status: str | None, now: float
    ) -> None:
        """Commit the order id the API gave (or that a lookup found) before polling it."""
        transition.mark_submitted(self._db, order_id, remote_id, remote_status, now)

    def mark_absent(self, order_id: int, reason: str) -> None:
        """A `submitting` order proved absent remotely: back to planned, to be posted again."""
        transition.mark_absent(self._db, order_id, reason)

    def mark_unsent(self, order_id: int, reason: str) -> None:
        """A `submitting` order whose POST provably never reached the API: back to planned, as
        if the attempt had not been made (nothing to reconcile)."""
        transition.mark_unsent(self._db, order_id, reason)

    def forget_remote_orders(self, reason: str) -> int:
        """The remote side lost every order (a rehearsal's embedded sandbox was restarted):
        put submitting and submitted orders back to planned. Never used against a real API."""
        return transition.forget_remote_orders(self._db, reason)

    def note_order_error(self, order_id: int, message: str) -> None:
        """Remember the last error seen for an order (shown by status and report)."""
        transition.note_order_error(self._db, order_id, message)

    def record_outcome(
        self,
        order_id: int,
        remote_status: str,
        failures: Sequence[FailedNumber],
        order_error: tuple[str, str] | None,
        warnings: Sequence[tuple[str, str]],
        now: float,
        *,
        rest: NumberStatus | None = None,
        rest_note: str | None = None,
    ) -> Outcome:
        """Commit an order's terminal status and its per-number outcomes in one transaction.

        Numbers listed in `failures` get their status (failed, or needs_action) with the API's
        code and description. Every other number of the order gets `rest` (by default what
        `order_phase(remote_status)` says: succeeded for COMPLETE/PARTIAL, failed for
        FAILED/EXCEPTION/REJECTED, unknown otherwise), with `order_error` unless it succeeded.
        If the order's step has a chained step, a chained order is planned for the numbers that
        succeeded and the chained step's other numbers of this order are skipped.
        """
        return outcome.record_outcome(
            self._db, order_id, remote_status, failures, order_error, warnings, now,
            rest=rest, rest_note=rest_note,
        )  # fmt: skip

    # counts and report ------------------------------------------------------------------------

    def succeeded_numbers(self) -> Iterator[tuple[int, str]]:
        """(step id, E.164) of every number whose step succeeded, in step order."""
        return tally.iter_succeeded_numbers(self._db)

    def counts(self) -> list[StepCounts]:
        """Per-step number counts by status."""
        return tally.count_numbers(self._db, self.steps())

    def effect(self) -> tuple[int, int]:
        """Numbers and orders of the stored plan that took effect (a changed plan could not
        replace it): `stored_plan.effect`."""
        return stored_plan.effect(self._db)

    def order_counts(self) -> dict[str, int]:
        """Orders by protocol state."""
        return tally.count_orders(self._db)

    def api_failed_counts(self) -> tuple[int, int]:
        """(finished, failed) numbers that went through the API (plan-invalid ones excluded)."""
        return tally.count_api_failed(self._db)

    def order_spans(self) -> list[tuple[float, float | None]]:
        """(sent, finished or None) times of every order sent, for the run's timeline."""
        return tally.order_spans(self._db)

    def iter_report(
        self, batch: int = tally.REPORT_BATCH, statuses: Sequence[NumberStatus] = ()
    ) -> Iterator[ReportRow]:
        """Every number in every step with its outcome (or only those with one of `statuses`),
        streamed in batches."""
        return tally.iter_report(self._db, batch, statuses)

    def finish_times(self) -> list[tuple[float, int]]:
        """(second, how many) of the numbers no longer pending or in an open order, by the
        second they reached their status."""
        return tally.finish_times(self._db)

    # runs -------------------------------------------------------------------------------------

    def start_run(self, *, pid: int, target: str, now: float) -> int:
        """Record the start of a run; `target` must carry no credentials."""
        return run_history.start_run(self._db, pid=pid, target=target, now=now)

    def open_run_id(self) -> int | None:
        """The run this lease holder started and has not ended (None outside a run)."""
        return run_history.open_run_id(self._db)

    def update_run_counters(
        self, run_id: int, *, requests: int, rate_limited: int, retried: int
    ) -> None:
        """Record a running run's request counters (read by `status` during the run)."""
        run_history.update_run_counters(
            self._db, run_id, requests=requests, rate_limited=rate_limited, retried=retried
        )

    def end_run(
        self,
        run_id: int,
        *,
        exit_code: int,
        requests: int,
        rate_limited: int,
        retried: int,
        now: float,
    ) -> None:
        """Record how a run ended and what it cost in requests."""
        run_history.end_run(
            self._db, run_id, exit_code=exit_code, requests=requests,
            rate_limited=rate_limited, retried=retried, now=now,
        )  # fmt: skip

    def runs(self) -> list[dict[str, Any]]:
        """Every run so far, oldest first."""
        return run_history.read_runs(self._db)

    # snapshot ---------------------------------------------------------------------------------

    def save_snapshot(self, states: Sequence[NumberState], now: float) -> int:
        """Keep these numbers' before-states (one transaction); how many."""
        return snapshot.save_states(self._db, states, now)

    def snapshotted_numbers(self) -> set[str]:
        """Numbers the snapshot holds already (a resumed snapshot skips them)."""
        return snapshot.snapshotted(self._db)

    def snapshot(self) -> dict[str, NumberState]:
        """The snapshot: every number read before the run, by E.164 number."""
        return snapshot.read_states(self._db)

    def mark_snapshot_taken(self, target: str, now: float) -> None:
        """Record that the snapshot holds every planned number."""
        snapshot.mark_taken(self._db, target, now)

    def plan_numbers(self) -> list[str]:
        """Every distinct E.164 number of the stored plan, sorted."""
        return sorted({r.e164 for r in self.iter_report() if r.e164})
