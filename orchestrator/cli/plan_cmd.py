"""`bwmigrate plan`: the dry run. Compile a plan, show what would be sent, send no order.

With `--check`, the numbers of import steps are pre-flighted through `importTnChecker` (read-only)
on a live target or a rehearsal sandbox; rejected numbers are listed with the API's code and
excluded from the compiled plan `--out` writes, whose header then records the check. `bwmigrate
run PLAN --checked FILE` runs exactly that checked plan (see `orchestrator.cutover.preflight`).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from orchestrator.api.orders import ORDER_KINDS, order_body
from orchestrator.cli.estimate_view import estimate_lines, estimate_summary
from orchestrator.cli.loading import load_plan
from orchestrator.cli.options import force_option, json_option, out_option, verbosity_options
from orchestrator.cli.output import Input, check_output, plan_inputs
from orchestrator.cli.progress import print_table
from orchestrator.cli.stop_signal import run_interruptible
from orchestrator.cli.verbosity import Ticker, Verbosity, progress_every_s
from orchestrator.errors import ExitCode, InputError
from orchestrator.plan import (
    CompiledPlan,
    CompiledStep,
    StepKind,
    a2p_customer_order_id,
    a2p_step_name,
    asks_a2p,
    canary_size,
    chained_a2p_settings,
    chained_customer_order_id,
    chained_settings,
    iter_compiled_rows,
    sms_step_name,
)
from orchestrator.text import counted, printable

if TYPE_CHECKING:  # the client, the audit log and the pre-flight load only for --check
    from orchestrator.cutover.preflight import CheckOutcome

_LIST_LIMIT = 50  # invalid numbers / duplicates listed in human output


def plan_summary(plan: CompiledPlan, rejected: Mapping[str, int] | None = None) -> dict[str, Any]:
    """The dry run as one JSON-ready object (the `--json` contract).

    `rejected` (step name -> count) are numbers a pre-flight took out of `plan`: they count as
    read (`total`) and show as `rejected`, per step and overall.
    """
    out = _summary(plan)
    if rejected is not None:
        out["numbers"]["rejected"] = sum(rejected.values())
        out["numbers"]["total"] += out["numbers"]["rejected"]
        for step in out["steps"]:
            step["rejected"] = rejected.get(step["step"], 0)
    return out


def _summary(plan: CompiledPlan) -> dict[str, Any]:
    est = estimate_summary(plan)
    return {
        "plan": {
            "name": plan.spec.name,
            "hash": plan.hash,
            "path": plan.spec.path,
            "account_id": plan.spec.account_id,
            "country": plan.spec.country,
            "batch_size": plan.spec.batch_size,
        },
        "numbers": {
            "total": plan.input_count,
            "valid": plan.valid_count,
            "invalid": len(plan.invalid),
            "duplicates": len(plan.duplicates),
        },
        "steps": [
            {
                "step": s.spec.name,
                "kind": s.spec.kind.value,
                "numbers": len(s.numbers),
                "invalid": s.invalid_count,
                "duplicates": s.duplicate_count,
                "orders": len(s.orders),
                "canary": canary_size(plan.spec, s.spec, len(s.numbers)),
                "chained_messaging_orders": len(s.orders) if s.spec.enable_messaging else 0,
                "a2p_orders": len(s.orders) if asks_a2p(s.spec) else 0,
                "settings": s.spec.settings(),
            }
            for s in plan.steps
        ],
        "orders": est["creates"],
        "api_calls_estimate": est["api_calls"],
        "eta_s": est["eta_s"],
        "estimate": est,
        "rate": {"requests_per_s": plan.spec.rate.requests_per_s},
        "invalid": [
            {
                "input": e.raw,
                "source": e.location,
                "reason": e.reason,
                "message": e.message,
                "step": plan.steps[e.step_index].spec.name,
            }
            for e in plan.invalid
        ],
        "duplicates": [
            {
                "number": d.number,
                "source": d.location,
                "first_source": d.first_location,
                "step": plan.steps[d.step_index].spec.name,
            }
            for d in plan.duplicates
        ],
    }


def first_order_xml(plan: CompiledPlan) -> list[tuple[str, bytes]]:
    """The body of the first order of each step (and of its chained TN option orders)."""
    out: list[tuple[str, bytes]] = []
    for step in plan.steps:
        if not step.orders:
            continue
        order, s = step.orders[0], step.spec
        body = order_body(s.kind, s.settings(), order.customer_order_id, order.numbers)
        out.append((f"{s.name}: POST {ORDER_KINDS[s.kind].path}", body))
        sms_cid = order.customer_order_id
        if s.enable_messaging:
            sms_cid = chained_customer_order_id(order.customer_order_id)
            chained = order_body(StepKind.MESSAGING, chained_settings(s), sms_cid, order.numbers)
            out.append(
                (f"{sms_step_name(s)}: POST tnoptions (chained, for the numbers imported)", chained)
            )
        if asks_a2p(s):
            a2p = order_body(StepKind.MESSAGING, chained_a2p_settings(s),
                             a2p_customer_order_id(sms_cid), order.numbers)  # fmt: skip
            out.append(
                (f"{a2p_step_name(s)}: POST tnoptions (chained, for the numbers SMS is on)", a2p)
            )
    return out


def _step_line(plan: CompiledPlan, step: CompiledStep) -> str | None:
    """How an import step is sent (body form, canary) and what follows a step turning SMS on
    with A2P; None for other steps."""
    s, parts = step.spec, []
    if s.kind is StepKind.IMPORT:
        form = {"ImportTnOrder": "the published v2 schema's", "ExternalTnsOrder": "the guide's"}
        parts.append(f"{s.body_form} body ({form.get(s.body_form, '')} form)")
        canary = canary_size(plan.spec, s, len(step.numbers))
        if canary and len(step.orders) > 1:
            more = len(step.orders) - 1
            parts.append(f"canary order of {counted(canary, 'number')}, then {more} more")
        else:
            parts.append(
                f"canary order of {counted(canary, 'number')}, none after it"
                if canary
                else "no canary"
            )
    if asks_a2p(s):
        n = len(step.orders)
        parts.append(
            f"A2P settings follow in {counted(n, 'order')} of their own ({a2p_step_name(s)})"
        )
    return f"  {s.name}: {'; '.join(parts)}" if parts else None


def _print_human(plan: CompiledPlan, summary: dict[str, Any], console: Console) -> None:
    """The dry run for people."""
    spec = plan.spec
    console.print(
        f"[bold]Plan {spec.name}[/]  account {spec.account_id}  default country "
        f"{spec.country}  batch size {spec.batch_size}  hash {plan.hash[:12]}"
    )
    table = Table(show_edge=False, pad_edge=False)
    checked = "rejected" in summary["numbers"]
    cols = ("step", "kind", "read", "valid", "invalid", "duplicate")
    for col in (*cols, *(("rejected",) if checked else ()), "orders"):
        table.add_column(col, justify="left" if col in ("step", "kind") else "right")
    for s, row in zip(plan.steps, summary["steps"], strict=True):
        orders = str(len(s.orders)) + (f" +{len(s.orders)} sms" if s.spec.enable_messaging else "")
        rejected = [str(row["rejected"])] if checked else []
        table.add_row(
            s.spec.name,
            s.spec.kind.value,
            str(s.input_count + row.get("rejected", 0)),
            str(len(s.numbers)),
            str(s.invalid_count),
            str(s.duplicate_count),
            *rejected,
            orders,
        )
    print_table(table, console)
    for s in plan.steps:
        line = _step_line(plan, s)
        if line is not None:
            console.print(line, markup=False)
    n = summary["numbers"]
    console.print(
        f"Numbers: {n['valid']} to send, {n['invalid']} invalid (excluded), "
        f"{counted(n['duplicates'], 'duplicate')} dropped (reported as skipped)"
        + (f", {n['rejected']} rejected by the pre-flight (excluded)" if checked else "")
    )
    console.print("\n".join(estimate_lines(summary["estimate"])), markup=False)
    if plan.invalid:
        console.print(f"\n[bold]Invalid numbers[/] ({len(plan.invalid)}):")
        for e in plan.invalid[:_LIST_LIMIT]:
            console.print(printable(f"  {e.location}  {e.message}"), markup=False)
        if len(plan.invalid) > _LIST_LIMIT:
            console.print(f"  ... and {len(plan.invalid) - _LIST_LIMIT} more (see --json)")
    if plan.duplicates:
        console.print(f"\n[bold]Duplicates dropped[/] ({len(plan.duplicates)}):")
        for d in plan.duplicates[:_LIST_LIMIT]:
            line = f"  {d.location}  {d.number} (first at {d.first_location})"
            console.print(printable(line), markup=False)
        if len(plan.duplicates) > _LIST_LIMIT:
            console.print(f"  ... and {len(plan.duplicates) - _LIST_LIMIT} more (see --json)")
    if "check" not in summary:
        console.print("\nDry run: nothing was sent.")


def write_compiled(
    plan: CompiledPlan,
    out: Path,
    summary: dict[str, Any],
    check: dict[str, Any] | None = None,
) -> None:
    """Write the compiled plan as JSON Lines: a header object, then one object per number.

    With a pre-flight, the header's `check` block records it (`run --checked` reads it).
    """
    header = {
        "type": "plan",
        "plan": summary["plan"],
        "numbers": summary["numbers"],
        "steps": summary["steps"],
        "invalid": summary["invalid"],
    }
    if check is not None:
        header["check"] = check
    try:
        with out.open("w", encoding="utf-8") as fh:
            fh.write(json.dumps(header) + "\n")
            for row in iter_compiled_rows(plan):
                fh.write(json.dumps({"type": "number", **row}) + "\n")
    except OSError as exc:
        raise InputError(f"{out}: cannot write the compiled plan ({exc.strerror})") from exc


# --- the pre-flight (--check) ----------------------------------------------------------------


def default_check_audit(plan: CompiledPlan) -> Path:
    """Where `plan --check` logs requests without --audit: state/<name>.check.audit.jsonl."""
    return Path("state") / f"{plan.spec.name}.check.audit.jsonl"


def run_check(
    plan: CompiledPlan,
    *,
    sandbox: bool,
    target: str | None,
    audit: Path,
    environ: dict[str, str],
    err: Console,
    verbosity: Verbosity = Verbosity.NORMAL,
) -> tuple[CheckOutcome, str]:
    """Pre-flight the plan's imports on the target; return what was found and the target id."""

    from orchestrator.cli.login import live_access
    from orchestrator.cutover.connection import open_api, open_audit
    from orchestrator.cutover.preflight import check_imports

    target_id = "sandbox" if sandbox else (target or "").rstrip("/")
    ticker = Ticker(progress_every_s(environ))  # a bad setting: exit 2 before the audit log
    with contextlib.ExitStack() as stack:
        if sandbox:
            from orchestrator.cutover.rehearsal import rehearsal_sandbox  # uvicorn when needed

            access = stack.enter_context(rehearsal_sandbox(plan))
        else:
            access = live_access(environ, target_id)
        log = stack.enter_context(
            open_audit(
                audit,
                access,
                context={"command": "plan --check"},
                session={"plan": plan.spec.name, "plan_hash": plan.hash, "target": target_id},
            )
        )
        every_batch = verbosity is Verbosity.VERBOSE or (
            verbosity is Verbosity.NORMAL and err.is_terminal
        )

        def progress(step: str, done: int, total: int) -> None:
            # every batch on a terminal (or --verbose); else a line every ~10 s; none if quiet
            if every_batch or (verbosity is Verbosity.NORMAL and ticker.due()):
                err.print(f"importTnChecker: {step} {done}/{total}", markup=False)

        async def main() -> CheckOutcome:
            rate = plan.spec.rate.requests_per_s
            async with open_api(access, plan.spec.account_id, rate_per_s=rate, audit=log) as api:
                return await check_imports(api.client, api.gate, plan, on_batch=progress)

        return run_interruptible(main), target_id


def _print_check(check: dict[str, Any], console: Console) -> None:
    """The pre-flight for people: counts, rejections grouped by code, then each number."""
    excluded = check["excluded"]
    console.print(
        f"\n[bold]Pre-flight[/]: importTnChecker on {check['target']} checked "
        f"{counted(check['checked'], 'number')} in {counted(check['calls'], 'read-only call')} "
        "(audit log "
        f"{check['audit']})"
    )
    if not excluded:
        console.print("Every import number passed the check.")
    else:
        console.print(f"[bold]Rejected and excluded[/] ({len(excluded)}):")
        by_code = Counter((r["code"], r["description"]) for r in excluded)
        for (code, desc), n in sorted(by_code.items()):
            console.print(printable(f"  {code} {desc}: {counted(n, 'number')}"), markup=False)
        for r in excluded[:_LIST_LIMIT]:
            line = f"  {r['step']}  {r['number']}  {r['source']}  {r['code']}"
            console.print(printable(line), markup=False)
        if len(excluded) > _LIST_LIMIT:
            console.print(f"  ... and {len(excluded) - _LIST_LIMIT} more (see --json)")
    if check["unanswered"]:
        console.print(
            f"{counted(len(check['unanswered']), 'number')} in no part of the checker's "
            "answer: kept (not excluded)"
        )
    console.print(
        f"Checked plan hash {check['plan_hash'][:12]} (the plan file's: "
        f"{check['source_plan_hash'][:12]}). No order was sent."
    )


def _checked(
    compiled: CompiledPlan,
    *,
    sandbox: bool,
    target: str | None,
    audit: Path | None,
    verbosity: Verbosity,
) -> tuple[CompiledPlan, dict[str, Any], Path]:
    """`--check`: the plan without the numbers the pre-flight rejected, the check record, and
    the audit log it wrote."""
    from orchestrator.cutover.preflight import check_record, exclude_numbers

    audit_file = audit or default_check_audit(compiled)
    err = Console(stderr=True, highlight=False)
    outcome, target_id = run_check(
        compiled,
        sandbox=sandbox,
        target=target,
        audit=audit_file,
        environ=dict(os.environ),
        err=err,
        verbosity=verbosity,
    )
    shown = exclude_numbers(compiled, outcome.rejections)
    checked_at = datetime.now(UTC).isoformat(timespec="seconds")
    record = check_record(compiled, shown, outcome, target=target_id, checked_at=checked_at)
    return shown, record, audit_file


def _print_plan(
    shown: CompiledPlan,
    summary: dict[str, Any],
    *,
    checked: bool,
    out: Path | None,
    plan_path: Path,
) -> None:
    """The dry run (and the pre-flight) for people, on stdout."""
    console = Console(highlight=False, soft_wrap=True)
    _print_human(shown, summary, console)
    if checked:
        _print_check(summary["check"], console)
    if out is not None:
        console.print(f"Compiled plan written to {out}")
        if checked:
            console.print(f"Run it with: bwmigrate run {plan_path} --checked {out} ...")


def _check_outputs(
    plan: CompiledPlan, plan_path: Path, *, out: Path | None, audit: Path | None, force: bool
) -> None:
    """Refuse an --out or --audit that is the plan or one of its number files (and an existing
    --out without --force) before anything is asked or written."""
    inputs = plan_inputs(plan.spec, plan_path)
    if audit is not None:  # a log: appended to, so an existing one is fine
        check_output(audit, inputs, force=force, option="--audit", appends=True)
    if out is not None:
        extra = [Input(audit, "the --check audit log")] if audit is not None else []
        check_output(out, [*inputs, *extra], force=force)


@click.command()
@click.argument("plan_path", metavar="PLAN", type=click.Path(path_type=Path))
@json_option("Print one JSON object instead of tables.")
@out_option("Write the compiled plan (every number, E.164, source, order) as JSON Lines.")
@force_option("Overwrite an existing --out file.")
@click.option("--show-xml", is_flag=True, help="Print the body of each step's first order.")
@click.option(
    "--check",
    is_flag=True,
    help="Pre-flight import numbers through importTnChecker (read-only); exclude rejected ones.",
)
@click.option("--target", metavar="URL", help="With --check: the v2 API base URL to ask.")
@click.option(
    "--sandbox", is_flag=True, help="With --check: ask a rehearsal sandbox prepared for PLAN."
)
@click.option(
    "--audit",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --check: audit log file (default state/<plan name>.check.audit.jsonl).",
)
@verbosity_options("With --check: a line per checked batch, also without a terminal.")
def plan(
    plan_path: Path,
    as_json: bool,
    out: Path | None,
    force: bool,
    show_xml: bool,
    check: bool,
    target: str | None,
    sandbox: bool,
    audit: Path | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Dry run: validate PLAN, normalise numbers, cut orders, estimate calls and time.

    No order is sent. With --check (and --target URL or --sandbox), import numbers are asked
    about through importTnChecker (read-only, at most 5000 a call, at the plan's rate); those it
    rejects are listed with the API's code and left out of the compiled plan --out writes, which
    `bwmigrate run PLAN --checked FILE` then runs. Exit 0 when every number is valid (and
    passed), 1 when some were invalid or rejected (excluded and listed), 2 when the plan cannot
    be used, 3 when the check could not be completed.
    """
    if (target or sandbox or audit) and not check:
        raise click.UsageError("--target, --sandbox and --audit go with --check")
    if check and bool(target) == sandbox:
        raise click.UsageError("--check needs one of --target URL and --sandbox")
    compiled = load_plan(plan_path)
    check_audit = (audit or default_check_audit(compiled)) if check else None
    _check_outputs(compiled, plan_path, out=out, audit=check_audit, force=force)
    shown, record, rejected = compiled, None, None
    if check:
        shown, record, audit_file = _checked(
            compiled,
            sandbox=sandbox,
            target=target,
            audit=audit,
            verbosity=Verbosity.from_flags(quiet, verbose),
        )
        rejected = Counter(r["step"] for r in record["excluded"])
    summary = plan_summary(shown, rejected)
    if record is not None:
        summary["check"] = {**record, "audit": str(audit_file)}
    if out is not None:
        write_compiled(shown, out, summary, record)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        _print_plan(shown, summary, checked=record is not None, out=out, plan_path=plan_path)
    if show_xml:
        for title, body in first_order_xml(shown):
            click.echo(f"\n--- {title}", err=as_json)
            click.echo(body.decode("utf-8"), err=as_json)
    code = ExitCode.FAILED_NUMBERS if compiled.invalid or rejected else ExitCode.OK
    sys.exit(int(code))
