"""`bwmigrate run`: execute a plan against v2 (or rehearse it on the embedded sandbox); resumable.

Re-running the same command resumes from the state file: a finished run sends no request and
says so; a changed plan is refused. Progress goes to stderr; the summary (or `--json`) to stdout.

A live run (or resume) asks for confirmation first, showing the target, the account and what is
left to do (`--yes` skips it; without a terminal and without `--yes` it exits 2). `--checked
FILE` runs the checked plan a `plan --check --out FILE` pre-flight recorded (its rejected numbers
are stored as failed with the API's code, never sent). Every exchange with the API goes to the
audit log beside the state file (`orchestrator.state.audit`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import anyio
import click
from rich.console import Console

from orchestrator.api.client import ApiClient
from orchestrator.api.gate import Aimd, RequestGate
from orchestrator.cli.loading import load_plan, read_plan_text
from orchestrator.cli.login import Login, live_login
from orchestrator.cli.progress import ProgressView, print_summary
from orchestrator.cutover.engine import Engine, EngineSettings, RunOutcome
from orchestrator.cutover.preflight import CheckRecord, apply_check, read_check_record
from orchestrator.cutover.report import summary
from orchestrator.errors import ExitCode, InputError, StateMismatchError
from orchestrator.plan import MAX_BATCH_SIZE, CompiledPlan
from orchestrator.state.audit import AuditLog, audit_path, secret_values
from orchestrator.state.store import ExcludedNumber, OrderState, Store

DEFAULT_TARGET = "https://api.bandwidth.com/api/v2"


def default_state_path(plan: CompiledPlan, sandbox: bool) -> Path:
    """`state/<plan name>.db`, or `state/<plan name>.rehearsal.db` for sandbox rehearsals."""
    suffix = ".rehearsal.db" if sandbox else ".db"
    return Path("state") / f"{plan.spec.name}{suffix}"


def _still_to_do(store: Store) -> list[str]:
    """What a resumed run has left, per step: numbers not finished, open orders, sent ones."""
    orders = store.orders()
    open_orders = {o.step: 0 for o in orders}
    sent = dict(open_orders)
    for o in orders:
        if o.state is not OrderState.DONE:
            open_orders[o.step] += 1
        if o.state in (OrderState.SUBMITTING, OrderState.SUBMITTED):
            sent[o.step] += 1
    counts = store.counts()
    finished = sum(c.succeeded for c in counts), sum(c.failed for c in counts)
    lines = [f"Resuming: {finished[0]} numbers succeeded and {finished[1]} failed so far; left:"]
    for c in counts:
        left = c.pending + c.in_order
        if left:
            lines.append(
                f"  {c.name}: {c.kind} {left} numbers, {open_orders.get(c.step, 0)} orders open "
                f"({sent.get(c.step, 0)} sent, outcome not yet known)"
            )
    return lines


def _confirm(
    plan: CompiledPlan,
    store: Store,
    target: str,
    *,
    fresh: bool,
    checked: str | None,
    yes: bool,
) -> None:
    """Show what a live run will change (or, resuming, what it has left) and ask first."""
    if yes:
        return
    lines = [
        f"About to change live numbers on {target}, account {plan.spec.account_id}:",
        f"  plan {plan.spec.name} (hash {plan.hash[:12]}) from {plan.spec.path}",
        f"  state {store.path}; every request goes to the audit log {audit_path(store.path)}",
    ]
    if checked:
        lines.append(f"  {checked}")
    if fresh:
        for s in plan.steps:
            extra = " (+ SMS on for the imported numbers)" if s.spec.enable_messaging else ""
            lines.append(
                f"  {s.spec.name}: {s.spec.kind.value} {len(s.numbers)} numbers in "
                f"{len(s.orders)} orders{extra}"
            )
    else:
        lines += _still_to_do(store)
    click.echo("\n".join(lines), err=True)
    if not sys.stdin.isatty():
        raise InputError(
            "refusing to change a live account without confirmation: pass --yes "
            "to run non-interactively"
        )
    if not click.confirm("Proceed?", default=False, err=True):  # Ctrl-C: exit 130 (cli)
        raise InputError("cancelled; nothing was sent")


def _read_checked(path: Path) -> CheckRecord:
    """The check record in the header line of a compiled plan written by `plan --check`."""
    try:
        with path.open(encoding="utf-8") as fh:
            first = fh.readline()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; pass what `plan --check --out` wrote") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the checked plan ({exc})") from exc
    try:
        header = json.loads(first)
    except json.JSONDecodeError:
        header = None
    return read_check_record(header, str(path))


def _checked_plan(
    plan: CompiledPlan, path: Path, target_id: str, err: Console
) -> tuple[CompiledPlan, list[ExcludedNumber], str]:
    """The plan without the numbers a pre-flight rejected; the excluded rows; a one-line note."""
    record = _read_checked(path)
    if record.target == "sandbox" and target_id != "sandbox":
        raise InputError(
            f"{path} was checked against the sandbox, which says nothing about the live "
            f"account: run `bwmigrate plan {plan.spec.path} --check --target {target_id} "
            "--out FILE` and pass that file"
        )
    if record.target not in ("sandbox", target_id):
        err.print(f"Note: {path} was checked against {record.target}, not {target_id}.")
    checked, excluded = apply_check(plan, record, str(path))
    note = (
        f"{len(excluded)} numbers excluded: importTnChecker on {record.target} rejected them "
        f"at {record.checked_at} ({path}); they are recorded as failed and never sent"
    )
    return checked, excluded, note


def _explain_mismatch(store: Store, plan: CompiledPlan, source_hash: str, checked: bool) -> None:
    """A clearer error than "the plan changed" when only `--checked` differs from the start."""
    meta = store.meta()
    stored = meta.get("plan_hash")
    if stored is None or stored == plan.hash:
        return
    started_with = meta.get("checked_file")
    if started_with and meta.get("checked_source_hash") == source_hash:
        raise StateMismatchError(
            f"{store.path}: this run started with --checked {started_with}; pass the same "
            "file again to resume it"
            + (" (the file given now records another check)" if checked else "")
        )
    if checked and stored == source_hash:
        raise StateMismatchError(
            f"{store.path}: this run started without --checked; resume it without, or pass "
            "another --state file to run the checked plan as a new migration"
        )


def _check_target(store: Store, target_id: str) -> None:
    """A state file belongs to one target: a rehearsal never resumes against production."""
    stored = store.meta().get("target")
    if stored is not None and stored != target_id:
        raise StateMismatchError(
            f"{store.path}: this state file holds a run against {stored}, not {target_id}; "
            "pass another --state file (rehearsals default to state/<plan>.rehearsal.db)"
        )


async def _execute(engine: Engine, view: ProgressView | None) -> RunOutcome:
    """Run the engine; first SIGINT/SIGTERM stops submitting, a second one cancels at once."""
    result: RunOutcome | None = None
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    async with anyio.create_task_group() as tg:

        async def watch_signals() -> None:
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                count = 0
                async for _sig in signals:
                    count += 1
                    if count == 1:
                        engine.request_stop()
                    else:
                        tg.cancel_scope.cancel()

        async def run_engine() -> None:
            nonlocal result
            result = await engine.run()
            tg.cancel_scope.cancel()

        tg.start_soon(watch_signals)
        tg.start_soon(run_engine)
    # Closing the receiver resets SIGINT and SIGTERM (asyncio): give the CLI's handlers back, so
    # an interrupt while the run writes its summary still ends in exit 130, not a killed process.
    for sig, handler in handlers.items():
        if handler is not None:
            signal.signal(sig, handler)
    if result is None:  # a second signal cancelled everything; the store is consistent
        return RunOutcome("interrupted", "cancelled; state saved", engine.progress())
    return result


def _exit_code(outcome: RunOutcome) -> ExitCode:
    """Map how the run ended (and what failed) to the documented exit code."""
    if outcome.reason == "interrupted":
        return ExitCode.INTERRUPTED
    if outcome.reason == "aborted":
        return ExitCode.ABORTED
    failed = sum(c.failed + c.unknown for c in outcome.progress.steps)
    return ExitCode.FAILED_NUMBERS if failed else ExitCode.OK


def run_plan(
    plan_path: Path,
    *,
    sandbox: bool,
    target: str | None,
    state: Path | None,
    yes: bool,
    as_json: bool,
    seed: int | None,
    environ: dict[str, str],
    checked: Path | None = None,
    canary: int | None = None,
) -> int:
    """Everything `bwmigrate run` does, returning the exit code."""
    plan = load_plan(plan_path, canary=canary)
    state_path = state or default_state_path(plan, sandbox)
    if not sandbox and not target:
        raise InputError(
            "choose where to run: --sandbox to rehearse on the embedded sandbox, "
            f"or --target URL for a live run (the v2 API is {DEFAULT_TARGET})"
        )
    target_id = "sandbox" if sandbox else (target or "").rstrip("/")
    login = None if sandbox else live_login(environ, target_id)
    # Plain text, never wrapped: the last line ("bwmigrate: aborted: ...") is read by scripts,
    # and messages quote the API's own words, which are not rich markup.
    err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)
    source_hash, note = plan.hash, None
    excluded: list[ExcludedNumber] = []
    if checked is not None:
        plan, excluded, note = _checked_plan(plan, checked, target_id, err)
    store = Store.open(state_path)
    try:
        store.acquire_lease(
            pid=os.getpid(),
            host=socket.gethostname(),
            command=f"bwmigrate run {plan_path}",
            now=time.time(),
        )
        _check_target(store, target_id)
        _explain_mismatch(store, plan, source_hash, checked is not None)
        if store.discard_plan_without_effect(plan.hash):
            err.print(
                f"The plan changed since this state file was made, but nothing of the earlier "
                f"plan took effect (no number succeeded, no order open): {state_path} starts "
                "over with the changed plan."
            )
        facts = {"target": target_id}
        if checked is not None:
            facts |= {"checked_file": str(checked), "checked_source_hash": source_hash}
        fresh = store.initialize(
            plan, read_plan_text(plan_path), time.time(), excluded=excluded, facts=facts
        )
        open_orders = [o for o in store.orders() if o.state is not OrderState.DONE]
        if not open_orders:
            return _report_finished(store, state_path, as_json, err)
        if not sandbox:
            _confirm(plan, store, target_id, fresh=fresh, checked=note, yes=yes)
        err.print(
            ("Starting" if fresh else "Resuming") + f" {plan.spec.name} against "
            f"{target_id} (state {state_path})"
        )
        if note:
            err.print(note, markup=False)
        return _run_with_target(plan, store, state_path, target_id, login, as_json, seed, err)
    finally:
        store.close()


def _report_finished(store: Store, state_path: Path, as_json: bool, err: Console) -> int:
    """A finished run: send nothing, say so, and exit as it ended."""
    counts = store.counts()
    orders = store.order_counts()
    runs = store.runs()
    obj = summary(
        counts,
        orders_submitted=orders.get("done", 0),
        orders_terminal=orders.get("done", 0),
        requests=0,
        rate_limited=0,
        retried=0,
        elapsed_s=0.0,
        extra={"state": str(state_path), "already_finished": True, "runs": len(runs)},
    )
    if as_json:
        click.echo(json.dumps(obj, indent=2))
    else:
        err.print(
            f"Nothing to do: this plan already finished (state {state_path}); no request "
            "was sent. `bwmigrate report` shows every number's outcome."
        )
        print_summary(counts, Console(highlight=False))
    failed = sum(c.failed + c.unknown for c in counts)
    return int(ExitCode.FAILED_NUMBERS if failed else ExitCode.OK)


def _run_with_target(
    plan: CompiledPlan,
    store: Store,
    state_path: Path,
    target_id: str,
    live: Login | None,
    as_json: bool,
    seed: int | None,
    err: Console,
) -> int:
    """Open the target (embedded sandbox or real API), run the engine, print the result."""
    rate = plan.spec.rate
    settings = EngineSettings(
        max_orders_in_flight=rate.max_orders_in_flight,
        poll_interval_s=rate.poll_interval_s,
        failure_threshold=plan.spec.failure_threshold,
        seed=seed,
        visibility_window_s=rate.visibility_window_s,
    )
    started = time.time()
    run_id = store.start_run(pid=os.getpid(), target=target_id, now=started)
    stack = contextlib.ExitStack()
    with stack:
        login: Login
        if live is None:
            from orchestrator.cli.rehearsal import rehearsal_sandbox  # uvicorn only when needed

            base_url, login = stack.enter_context(rehearsal_sandbox(plan, store))
        else:
            base_url, login = target_id, live
        audit = AuditLog(
            audit_path(state_path),
            context={"command": "run", "run": run_id},
            session={
                "command": "run",
                "plan": plan.spec.name,
                "plan_hash": plan.hash,
                "target": target_id,
                "account_id": plan.spec.account_id,
            },
            # the embedded sandbox's login is public (and "sandbox" is also the target's name)
            secrets=() if live is None else secret_values(login.credentials),
        )
        stack.callback(audit.close)
        view = stack.enter_context(ProgressView(err, enabled=err.is_terminal and not as_json))

        async def main() -> RunOutcome:
            gate = RequestGate(Aimd(rate.requests_per_s))
            async with ApiClient(
                base_url,
                plan.spec.account_id,
                login.credentials,
                token_url=login.token_url,
                on_exchange=audit.record,
            ) as client:
                engine = Engine(store, client, gate, settings, on_progress=view.update)
                return await _execute(engine, view)

        outcome = anyio.run(main)
        logged = audit.close(outcome=outcome.reason)
    code = _exit_code(outcome)
    p = outcome.progress
    store.end_run(
        run_id,
        exit_code=int(code),
        requests=p.requests,
        rate_limited=p.rate_limited,
        retried=p.retried,
        now=time.time(),
    )
    obj = summary(
        p.steps,
        orders_submitted=p.orders_submitted,
        orders_terminal=p.orders_terminal,
        requests=p.requests,
        rate_limited=p.rate_limited,
        retried=p.retried,
        elapsed_s=time.time() - started,
        extra={
            "state": str(state_path),
            "target": target_id,
            "outcome": outcome.reason,
            "message": outcome.message,
            "audit_log": str(logged.path),
        },
    )
    if as_json:
        click.echo(json.dumps(obj, indent=2))
    else:
        print_summary(p.steps, Console(highlight=False))
        err.print(
            f"{outcome.message}. Requests: {p.requests} ({p.rate_limited} rate-limited, "
            f"{p.retried} retried) in {obj['elapsed_s']:.1f}s. "
            f"`bwmigrate report --state {state_path}` lists every number; `--audit` every "
            "request."
        )
    attention = sum(c.needs_action for c in p.steps)
    if attention:
        err.print(
            f"{attention} number(s) need action: SMS is on but their A2P settings were refused "
            f"(`bwmigrate report --state {state_path}` says why and what to do for each)."
        )
    if logged.error:
        err.print(f"bwmigrate: warning: the audit log is incomplete: {logged.error}")
    if outcome.reason == "aborted":
        err.print(f"bwmigrate: aborted: {outcome.message}")
    elif outcome.reason == "interrupted":
        err.print(
            f"bwmigrate: interrupted; state saved in {state_path}. Run the same command "
            "again to resume."
        )
    return int(code)


@click.command()
@click.argument("plan_path", metavar="PLAN", type=click.Path(path_type=Path))
@click.option(
    "--sandbox",
    is_flag=True,
    help="Rehearse on the embedded sandbox (a local emulator of the v2 API).",
)
@click.option("--target", metavar="URL", help=f"The v2 API base URL, e.g. {DEFAULT_TARGET}.")
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    help="State file (default state/<plan name>.db, or .rehearsal.db with --sandbox).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation before a live run.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object when done.")
@click.option("--seed", type=int, default=None, help="Seed for retry jitter (reproducible runs).")
@click.option(
    "--checked",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The compiled plan `plan PLAN --check --out FILE` wrote: its rejected numbers are "
    "not sent.",
)
@click.option(
    "--canary",
    type=click.IntRange(0, MAX_BATCH_SIZE),
    default=None,
    metavar="N",
    help="Numbers in each import step's first order, sent before the rest (overrides the "
    "plan's canary; 0 = none).",
)
def run(
    plan_path: Path,
    sandbox: bool,
    target: str | None,
    state: Path | None,
    yes: bool,
    as_json: bool,
    seed: int | None,
    checked: Path | None,
    canary: int | None,
) -> None:
    """Execute PLAN: import, remove and TN option orders, checkpointed per number.

    Run it again to resume after any interruption. Every request and answer is logged to
    <state>.audit.jsonl (`bwmigrate report --audit`). Exit 0 all done, 1 some numbers failed,
    2 bad usage/plan, 3 aborted (failure threshold, API unreachable, credentials), 4 state file
    in use, 130 interrupted (state saved).
    """
    if sandbox and target:
        raise click.UsageError("choose one of --sandbox and --target")
    sys.exit(
        run_plan(
            plan_path,
            sandbox=sandbox,
            target=target,
            state=state,
            yes=yes,
            as_json=as_json,
            seed=seed,
            environ=dict(os.environ),
            checked=checked,
            canary=canary,
        )
    )
