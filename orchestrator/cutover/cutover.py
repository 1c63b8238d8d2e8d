"""A run as a library: the one place that decides whether a run may start or resume, wires the
client, the request gate and the audit log, runs the engine and says how the run ended.

    with Cutover.open(plan, Path("state/acme.db"), LiveTarget(url), plan_text=text) as cutover:
        if not cutover.already_finished:
            result = anyio.run(cutover.run, credentials)
            sys.exit(int(result.exit_code))

`Cutover.open` takes the state file's lease and refuses an unsafe resume
(`orchestrator.cutover.admission`), with the one-line errors `bwmigrate run` shows:

- a state file belongs to the target that accepted an order from it: a rehearsal never resumes
  against a live account; a file no target accepted anything from may be re-targeted;
- it belongs to one plan (its hash): a changed plan is refused, unless nothing of the earlier
  plan took effect (no number succeeded, no order sent), then the file starts over with it;
- a run started with `--checked FILE` resumes only with that file, one started without only
  without; a plan checked against the sandbox never runs against a live account.

Every decision is taken before the plan is stored, the last step of `open` (a first run:
`fresh`); a caller's confirmation comes before a new state file is created. `run()` records
the run (the state file's `runs`), starts the rehearsal sandbox when the target is the
rehearsal (`orchestrator.cutover.rehearsal`), opens the audit log beside the state file and the
client (`orchestrator.cutover.connection`), runs the engine, and maps how it ended to the
documented exit code. `request_stop()` (no new order; in-flight ones finish
recording) and `cancel()` (at once; the state file stays consistent) are for the caller's
signal handling.

Prints nothing and reads no environment: notes go to `on_note`, progress to `on_progress`, and
credentials come in as arguments.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from types import TracebackType
from typing import Any

import anyio

from orchestrator.api.client import Credentials, Exchange
from orchestrator.api.pacing import Backoff
from orchestrator.cutover.admission import admit, adopt
from orchestrator.cutover.before_after import BeforeAfter
from orchestrator.cutover.connection import ApiAccess, open_api, open_audit
from orchestrator.cutover.engine import Engine, EngineSettings, NotifySettings, Progress, RunOutcome
from orchestrator.cutover.preflight import CheckedFile, apply_checked_file
from orchestrator.cutover.report import summary
from orchestrator.cutover.target_check import foreign_target
from orchestrator.errors import ExitCode
from orchestrator.plan import CompiledPlan
from orchestrator.state.audit import AuditLog, AuditSummary, audit_path
from orchestrator.state.store import ExcludedNumber, OrderState, StateLocation, StepCounts, Store

# --- what a run is given -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rehearsal:
    """The embedded sandbox prepared for the plan (`run --sandbox`), started by `run()` for as
    long as it runs, with its own public login."""

    @property
    def id(self) -> str:
        """How the state file names this target."""
        return "sandbox"


@dataclass(frozen=True, slots=True)
class LiveTarget:
    """A v2 API base URL, and the only URL client credentials may fetch tokens from (None:
    Bandwidth's token endpoint; Basic and Bearer credentials fetch none)."""

    url: str
    token_url: str | None = None

    @property
    def id(self) -> str:
        """How the state file names this target: the URL without a trailing slash."""
        return self.url.rstrip("/")


Target = Rehearsal | LiveTarget


@dataclass(frozen=True, slots=True)
class Tuning:
    """What benches and tests change about a run; None keeps what the plan says.

    `settings` replace the engine settings taken from the plan (`seed` still applies when
    given), `rate_per_s` the plan's request rate, `backoff` the retry backoff; `timeout_s` is
    the client's read timeout; `observe` sees every exchange after the audit log.
    """

    settings: EngineSettings | None = None
    rate_per_s: float | None = None
    backoff: Backoff | None = None
    timeout_s: float = 30.0
    observe: Callable[[Exchange], None] | None = None
    notify: NotifySettings | None = None  # order notifications (`run --notify-url`)


# --- what a run tells ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepLeft:
    """What a step has left: numbers not finished, its orders not done, and of those the ones
    sent whose outcome is not known yet."""

    step: str
    kind: str
    numbers: int
    orders_open: int
    orders_sent: int


@dataclass(frozen=True, slots=True)
class Remaining:
    """How far a migration is: numbers finished so far, and each step with numbers left."""

    succeeded: int
    failed: int
    steps: tuple[StepLeft, ...]


@dataclass(frozen=True, slots=True)
class RunPreview:
    """What a run is about to do, for a confirmation: the plan (as checked), the state file and
    the target; `fresh` for a first run, else `remaining` says what a resume has left."""

    plan: CompiledPlan
    state_path: StateLocation
    target: Target
    fresh: bool
    checked_note: str | None
    remaining: Remaining | None


@dataclass(frozen=True, slots=True)
class FinishedRun:
    """A migration that had nothing left to do: its counts, the `--json` object, the exit code."""

    counts: list[StepCounts]
    summary: dict[str, Any]
    exit_code: ExitCode


@dataclass(frozen=True, slots=True)
class RunResult:
    """How a run ended: `outcome` is "done", "interrupted" or "aborted"; `progress` holds the
    counts and request counters; `summary` is the `run --json` object."""

    outcome: str
    message: str
    progress: Progress
    exit_code: ExitCode
    audit: AuditSummary
    summary: dict[str, Any]


def exit_code_for(outcome: str, steps: Sequence[StepCounts]) -> ExitCode:
    """The documented exit code of a run that ended so, with these counts."""
    if outcome == "interrupted":
        return ExitCode.INTERRUPTED
    if outcome == "aborted":
        return ExitCode.ABORTED
    failed = sum(c.failed + c.unknown for c in steps)
    return ExitCode.FAILED_NUMBERS if failed else ExitCode.OK


# --- the run ------------------------------------------------------------------------------------


class Cutover:
    """One plan's migration on one state file against one target. Open with `Cutover.open`;
    `run()` once; close when done (a context manager too)."""

    def __init__(
        self,
        plan: CompiledPlan,
        store: Store,
        target: Target,
        *,
        fresh: bool,
        checked_note: str | None,
        clock: Callable[[], float],
    ) -> None:
        self.plan = plan
        self.target = target
        self.fresh = fresh
        self.checked_note = checked_note
        self._store = store
        self._clock = clock
        self._engine: Engine | None = None
        self._stop_requested = False
        self._cancel_requested = False
        self._scope: anyio.CancelScope | None = None  # made in `run()`: needs an event loop
        self.checks = BeforeAfter()  # the snapshot before the run, the verify after it

    @classmethod
    def open(
        cls,
        plan: CompiledPlan,
        state_path: StateLocation,
        target: Target,
        *,
        plan_text: str,
        checked: CheckedFile | None = None,
        command: str | None = None,
        on_note: Callable[[str], None] | None = None,
        confirm: Callable[[RunPreview], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> Cutover:
        """Open (or create) the state file for `plan` and `target`, hold its lease, check that
        a resume is safe, and store the plan on a first run.

        `checked` runs the checked plan of a pre-flight (its rejected numbers stored as failed,
        never sent). `command` is what the lease says holds the file (default `bwmigrate run
        PLAN`). `confirm` sees what the run will do and raises to refuse it: for a new state
        file before the file is created (a refusal leaves nothing behind), for an existing one
        once it is open (not called when the run has nothing left to do). Raises
        `StateLockedError` (another run holds the file), `StateMismatchError` (another plan,
        target or check) or `InputError` (a check that does not fit).
        """
        note = on_note or (lambda _text: None)
        command = command or f"bwmigrate run {plan.spec.path}"
        source_hash, checked_note = plan.hash, None
        excluded: list[ExcludedNumber] = []
        if checked is not None:
            plan, excluded, checked_note = apply_checked_file(plan, checked, target.id, note)
        if confirm is not None and not Store.exists(state_path):
            confirm(RunPreview(plan, state_path, target, True, checked_note, None))
            confirm = None
        store = Store.open(state_path)
        try:
            store.acquire_lease(
                pid=os.getpid(), host=socket.gethostname(), command=command, now=clock()
            )
            admission = admit(store, plan, target.id, source_hash, checked)
            adopt(store, plan, target.id, admission, note)
            facts = {"target": target.id}
            if checked is not None:
                facts |= {"checked_file": checked.path, "checked_source_hash": source_hash}
            fresh = store.initialize(plan, plan_text, clock(), excluded=excluded, facts=facts)
            cutover = cls(plan, store, target, fresh=fresh, checked_note=checked_note, clock=clock)
            if confirm is not None and not cutover.already_finished:
                confirm(cutover.preview())
        except BaseException:
            store.close()
            raise
        return cutover

    # what the state file says ------------------------------------------------------------------

    @property
    def state_path(self) -> StateLocation:
        """The state file."""
        return self._store.path

    @property
    def already_finished(self) -> bool:
        """True when every order is done: a run would send nothing."""
        return all(o.state is OrderState.DONE for o in self._store.orders())

    def remaining(self) -> Remaining:
        """What is left per step (only steps with numbers left), and what finished so far."""
        orders = self._store.orders()
        open_orders = Counter(o.step for o in orders if o.state is not OrderState.DONE)
        sent = Counter(
            o.step for o in orders if o.state in (OrderState.SUBMITTING, OrderState.SUBMITTED)
        )
        counts = self._store.counts()
        return Remaining(
            succeeded=sum(c.succeeded for c in counts),
            failed=sum(c.failed for c in counts),
            steps=tuple(
                StepLeft(c.name, c.kind, c.pending + c.in_order, open_orders[c.step], sent[c.step])
                for c in counts
                if c.pending + c.in_order
            ),
        )

    def preview(self) -> RunPreview:
        """What this run will do (a fresh run: the plan; a resume: what is left)."""
        left = None if self.fresh else self.remaining()
        return RunPreview(
            self.plan, self.state_path, self.target, self.fresh, self.checked_note, left
        )

    def finished_run(self) -> FinishedRun:
        """A migration with nothing left to do, as `run` reports it (no request is sent)."""
        counts = self._store.counts()
        done = self._store.order_counts().get("done", 0)
        obj = summary(
            counts,
            orders_submitted=done,
            orders_terminal=done,
            requests=0,
            rate_limited=0,
            retried=0,
            elapsed_s=0.0,
            extra={
                "state": str(self.state_path),
                "already_finished": True,
                "runs": len(self._store.runs()),
            },
        )
        return FinishedRun(counts, obj, exit_code_for("done", counts))

    # running -----------------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Stop submitting; orders in flight record their ids; the run ends with state saved."""
        self._stop_requested = self.checks.stopping = True
        if self._engine is not None:
            self._engine.request_stop()

    def cancel(self) -> None:
        """Cancel the run at once (the engine shields its last writes); `run()` then returns
        an interrupted result."""
        self._cancel_requested = True
        if self._scope is not None:
            self._scope.cancel()

    async def run(
        self,
        credentials: Credentials | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        *,
        seed: int | None = None,
        tuning: Tuning | None = None,
    ) -> RunResult:
        """Run the engine against the target until done, stopped or aborted; record the run.

        `credentials` are required for a live target (the rehearsal has its own login);
        `seed` makes retry jitter reproducible.
        """
        if isinstance(self.target, LiveTarget) and credentials is None:
            raise ValueError("a live target needs credentials")
        if self._scope is not None:
            raise RuntimeError("a Cutover runs once; open it again to resume")
        self._scope = anyio.CancelScope()
        if self._cancel_requested:
            self._scope.cancel()
        tuning, spec = tuning or Tuning(), self.plan.spec
        started = self._clock()
        run_id = await anyio.to_thread.run_sync(
            partial(self._store.start_run, pid=os.getpid(), target=self.target.id, now=started)
        )
        with contextlib.ExitStack() as stack:
            access = await self._open_target(stack, credentials)
            audit = stack.enter_context(
                open_audit(
                    audit_path(self.state_path),
                    access,
                    context={"command": "run", "run": run_id},
                    session={
                        "command": "run",
                        "plan": spec.name,
                        "plan_hash": self.plan.hash,
                        "target": self.target.id,
                        "account_id": spec.account_id,
                    },
                )
            )
            outcome = await self._drive(
                access, audit, self._settings(seed, tuning), tuning, on_progress
            )
            logged = audit.close(outcome=outcome.reason)
        return await self._record_end(run_id, started, outcome, logged)

    async def _open_target(
        self, stack: contextlib.ExitStack, credentials: Credentials | None
    ) -> ApiAccess:
        """The API to run against: the live URL, or a rehearsal sandbox started now."""
        if isinstance(self.target, LiveTarget):
            assert credentials is not None
            return ApiAccess(self.target.id, credentials, self.target.token_url)
        from orchestrator.cutover.rehearsal import rehearsal_sandbox  # uvicorn only when needed

        return await anyio.to_thread.run_sync(
            stack.enter_context, rehearsal_sandbox(self.plan, self._store)
        )

    def _settings(self, seed: int | None, tuning: Tuning) -> EngineSettings:
        """The engine settings from the plan's [rate] and failure threshold (or the tuning's)."""
        rate = self.plan.spec.rate
        settings = tuning.settings or EngineSettings(
            max_orders_in_flight=rate.max_orders_in_flight,
            poll_interval_s=rate.poll_interval_s,
            failure_threshold=self.plan.spec.failure_threshold,
            visibility_window_s=rate.visibility_window_s,
        )
        limit = rate.budget.account_limit_per_s if rate.budget else None
        settings = replace(settings, notify=tuning.notify or settings.notify,
                           account_limit_per_s=settings.account_limit_per_s or limit)  # fmt: skip
        return replace(settings, seed=seed) if seed is not None else settings

    async def _drive(
        self,
        access: ApiAccess,
        audit: AuditLog,
        settings: EngineSettings,
        tuning: Tuning,
        on_progress: Callable[[Progress], None] | None,
    ) -> RunOutcome:
        """Open the client and run the engine; `cancel()` ends it as interrupted."""
        assert self._scope is not None
        with self._scope:
            async with open_api(
                access,
                self.plan.spec.account_id,
                rate_per_s=tuning.rate_per_s or self.plan.spec.rate.requests_per_s,
                audit=audit,
                observe=tuning.observe,
                timeout_s=tuning.timeout_s,
            ) as api:
                live = isinstance(self.target, LiveTarget)
                if live and (refused := await foreign_target(api, self.plan, self._store)):
                    return refused
                self._engine = Engine(
                    self._store,
                    api.client,
                    api.gate,
                    settings,
                    backoff=tuning.backoff,
                    on_progress=on_progress,
                )
                if self._stop_requested:
                    self._engine.request_stop()
                engine, backoff = self._engine.run, tuning.backoff
                return await self.checks.around(self._store, api, self.target.id, backoff, engine)
        # cancelled: the store is consistent (the engine shields its last writes)
        if self._engine is not None:
            progress = self._engine.progress()
        else:
            progress = Progress(steps=await anyio.to_thread.run_sync(self._store.counts))
        return RunOutcome("interrupted", "cancelled; state saved", progress)

    async def _record_end(
        self, run_id: int, started: float, outcome: RunOutcome, logged: AuditSummary
    ) -> RunResult:
        """Record how the run ended in the state file; the result and its `--json` object."""
        p = outcome.progress
        code = exit_code_for(outcome.reason, p.steps)
        end = partial(
            self._store.end_run,
            run_id,
            exit_code=int(code),
            requests=p.requests,
            rate_limited=p.rate_limited,
            retried=p.retried,
            now=self._clock(),
        )
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(end)
        obj = summary(
            p.steps,
            orders_submitted=p.orders_submitted,
            orders_terminal=p.orders_terminal,
            requests=p.requests,
            rate_limited=p.rate_limited,
            retried=p.retried,
            elapsed_s=self._clock() - started,
            extra={
                "state": str(self.state_path),
                "target": self.target.id,
                "outcome": outcome.reason,
                "message": outcome.message,
                "audit_log": str(logged.path),
            },
        )
        return RunResult(outcome.reason, outcome.message, p, code, logged, obj)

    # lifecycle ---------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the state file."""
        self._store.close()

    def __enter__(self) -> Cutover:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
