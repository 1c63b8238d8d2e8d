"""`bwmigrate rollback`: write the plan that undoes what a run changed
(`orchestrator.cutover.rollback`).

Reads the state file (read-only; refused while a run holds it), writes a normal plan and its
number files. Nothing is sent: the rollback is then dry-run, rehearsed and run like any plan.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from orchestrator.cli.options import (
    default_state_file,
    force_option,
    json_option,
    loa_type_option,
    out_option,
    state_option,
)
from orchestrator.cli.output import Input, check_output, state_inputs, stored_plan_inputs
from orchestrator.cutover.rollback import (
    ChangedNumber,
    Reimport,
    RollbackPlan,
    RollbackSource,
    StepFact,
    build_rollback,
)
from orchestrator.errors import InputError, PlanError, StateLockedError, StateMismatchError
from orchestrator.plan import parse_plan
from orchestrator.state.postgres import StateLocation
from orchestrator.text import counted, printable

if TYPE_CHECKING:  # the store loads with the command
    from orchestrator.state.store import Store

_OPEN = ("submitting", "submitted")  # order states whose outcome the state file does not know


def _facts(store: Store, include_unknown: bool) -> tuple[list[StepFact], Iterator[ChangedNumber]]:
    """The run's steps, and the numbers it changed (or, with include_unknown, may have)."""
    steps = store.steps()
    names = {s.id: s.name for s in steps}
    facts = [
        StepFact(
            name=s.name,
            kind=s.kind,
            sms=s.settings.get("sms"),
            chained_from=names.get(s.chained_from) if s.chained_from is not None else None,
            role=s.settings.get("role"),
        )
        for s in steps
    ]
    wanted = {"succeeded", "in_order"} if include_unknown else {"succeeded"}

    def changed() -> Iterator[ChangedNumber]:
        for row in store.iter_report():
            if row.status in wanted and row.e164:
                yield ChangedNumber(row.step, row.e164, row.note)

    return facts, changed()


def _source(store: Store) -> RollbackSource:
    """What the state file says about the run and its plan."""
    meta = store.meta()
    text, path = meta.get("plan_text"), meta.get("plan_path") or str(store.path)
    if text is None or "plan_hash" not in meta:
        raise StateMismatchError(f"{store.path}: no plan stored here; nothing ran from it")
    try:
        spec = parse_plan(text, path)
    except PlanError as exc:
        raise StateMismatchError(
            f"{store.path}: the plan stored in the state file no longer parses ({exc}); "
            "use the bwmigrate version that ran it"
        ) from exc
    from orchestrator.api.credentials import redact_url  # httpx: with the command, not --help

    target = meta.get("target")  # shown without user info or query (a file may predate the rule)
    shown = redact_url(target) if target is not None else None
    return RollbackSource(spec, meta["plan_hash"], str(store.path), shown)


def build_from_state(
    state: StateLocation, out: Path, *, reimport: Reimport | None, include_unknown: bool
) -> tuple[RollbackPlan, dict[str, int], list[Input]]:
    """Read the state file and build its rollback plan; also the orders by state and the files
    the plan's output must not overwrite (the state file, its audit log, the plan that ran)."""
    from orchestrator.state.store import Store

    store = Store.open(state, readonly=True)
    try:
        holder = store.lease_holder()
        if holder is not None:
            raise StateLockedError(
                f"{state}: a run holds this state file (pid {holder.get('pid')}); wait for it "
                "to end, then write the rollback of what it did"
            )
        orders = store.order_counts()
        unknown = sum(orders.get(s, 0) for s in _OPEN)
        if unknown and not include_unknown:
            raise InputError(
                f"{state}: {counted(unknown, 'order')} sent whose outcome is not recorded yet; "
                "resume the run to settle them, or pass --include-unknown to undo their numbers "
                "too (undoing a change that did not happen is refused harmlessly by the API, "
                "e.g. 5158 for a removal)"
            )
        source = _source(store)
        inputs = [*state_inputs(state), *stored_plan_inputs(store.meta())]
        steps, changed = _facts(store, include_unknown)
        written_at = datetime.now(UTC).isoformat(timespec="seconds")
        plan = build_rollback(
            source, steps, changed, file_stem=out.stem, written_at=written_at, reimport=reimport,
            snapshot=store.snapshot(),
        )  # fmt: skip
    finally:
        store.close()
    return plan, orders, inputs


def _write(plan: RollbackPlan, out: Path, force: bool, inputs: list[Input]) -> list[Path]:
    """Write the plan and its number files; never over `inputs`, and over an existing file (a
    rollback plan may already be running from it) only with --force."""
    targets = [out, *(out.parent / name for name in plan.files)]
    for target in targets:
        check_output(target, inputs, force=force)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        for name, text in plan.files.items():
            (out.parent / name).write_text(text, encoding="utf-8")
        out.write_text(plan.text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{out}: cannot write the rollback plan ({exc.strerror})") from exc
    return targets


def _rollback_summary(
    path: StateLocation, out: Path, plan: RollbackPlan, orders: dict[str, int]
) -> dict[str, Any]:
    """The `rollback --json` object."""
    return {
        "state": str(path),
        "out": str(out) if plan.steps else None,
        "name": plan.name,
        "numbers": plan.numbers,
        "steps": [
            {
                "step": s.name,
                "kind": s.kind.value,
                "sms": s.sms,
                "numbers": len(s.numbers),
                "undoes": s.undoes,
                "file": str(out.parent / s.file),
            }
            for s in plan.steps
        ],
        "not_undone": plan.not_undone,
        "orders_never_sent": orders.get("planned", 0),
    }


def _print_rollback(
    path: StateLocation, out: Path, plan: RollbackPlan, written: list[Path]
) -> None:
    """What was written and what to do next, on stderr."""
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if not plan.steps:
        err.print(f"Nothing to undo: no change of {path} succeeded. No file written.")
    else:
        err.print(f"Rollback plan {plan.name} written to {written[0]}:", markup=False)
        for step in plan.steps:
            what = {"remove": "remove", "import": "import again"}.get(
                step.kind.value, f"SMS {step.sms}"
            )
            err.print(
                f"  {step.name}: {what} {counted(len(step.numbers), 'number')} "
                f"(undoes {', '.join(step.undoes)})",
                markup=False,
            )
        err.print(
            f"Next: bwmigrate plan {out}; bwmigrate run {out} --sandbox; "
            f"bwmigrate run {out} --target URL",
            markup=False,
        )
    for note in plan.not_undone:
        err.print(printable(f"Not undone: {note}"), markup=False)


@click.command()
@state_option("State file of the run to undo (default: the only one in state/).")
@out_option("Where to write the rollback plan (its number files go beside it).", required=True)
@click.option("--site-id", help="Re-import numbers the run removed into this site.")
@click.option("--sip-peer-id", help="...and this SIP peer (default: the site's default).")
@loa_type_option("LoaType of the re-import.")
@click.option("--enable-messaging", is_flag=True, help="Turn SMS on for the numbers re-imported.")
@click.option(
    "--include-unknown",
    is_flag=True,
    help="Also undo numbers in orders sent whose outcome is not recorded.",
)
@force_option("Overwrite an existing rollback plan.")
@json_option()
def rollback(
    state: StateLocation | None,
    out: Path,
    site_id: str | None,
    sip_peer_id: str | None,
    loa_type: str,
    enable_messaging: bool,
    include_unknown: bool,
    force: bool,
    as_json: bool,
) -> None:
    """Write the plan that undoes what a run changed; nothing is sent.

    Numbers the run imported are removed; SMS it turned on is turned off and the reverse;
    numbers it removed are imported again into --site-id (when given). With the run's snapshot,
    numbers go back to what it shows (previous site and SIP peer, SMS, A2P campaign). Only
    changes that succeeded are undone. Review the result with `bwmigrate plan`, rehearse it with
    `bwmigrate run OUT --sandbox`, then run it. Exit 0 written (or nothing to undo), 2 bad
    usage, 4 a run holds the state file.
    """
    if (sip_peer_id or enable_messaging) and not site_id:
        raise click.UsageError("--sip-peer-id and --enable-messaging need --site-id")
    if site_id is not None and not site_id.isdigit():
        raise click.UsageError(f"--site-id must be digits, got {site_id!r}")
    reimport = (
        Reimport(site_id, sip_peer_id, loa_type, enable_messaging) if site_id is not None else None
    )
    path = state or default_state_file()
    plan, orders, inputs = build_from_state(
        path, out, reimport=reimport, include_unknown=include_unknown
    )
    check_output(out, inputs, force=True)  # the run's own files, even with nothing to undo
    written = _write(plan, out, force, inputs) if plan.steps else []
    if as_json:
        click.echo(json.dumps(_rollback_summary(path, out, plan, orders), indent=2))
    _print_rollback(path, out, plan, written)
    sys.exit(0)
