"""The import pre-flight: ask `importTnChecker` about every number a plan imports, and take the
numbers it rejects out of the plan before a run spends orders on them.

Two halves:

- `check_imports` (async, network): each import step's numbers go to `importTnChecker` in
  calls of at most 5000 (the documented cap), with the step's SiteId and SipPeerId, through the
  same burst-free `RequestGate` and retry rules as a run. The checker is read-only, so a lost
  answer is simply asked again.
- The rest is pure. `exclude_numbers` derives the *checked plan*: the same plan without the
  rejected numbers, its orders cut again and its hash computed the usual way, so the hash still
  covers exactly what will be sent (a plan that never listed those numbers has the same hash).
  `check_record` / `read_check_record` are the JSON block `plan --check --out` writes into the
  compiled plan's header and `run --checked` reads back; `apply_check` re-derives the checked
  plan from the plan file and refuses a check made against another version of the plan;
  `apply_checked_file` (used by `orchestrator.cutover.cutover`) also refuses a check made on the
  sandbox for a live run.

Must not print, read the environment or open files (the CLI passes file contents in).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator.api.client import ApiClient
from orchestrator.api.gate import Priority, RequestGate, call_with_retry
from orchestrator.api.pacing import Backoff
from orchestrator.api.xml import CheckerResult
from orchestrator.api.xml_request import build_import_checker
from orchestrator.errors import AbortedError, AuthError, InputError, PermanentApiError
from orchestrator.plan import (
    CompiledPlan,
    CompiledStep,
    StepKind,
    cut_orders,
    plan_hash,
)
from orchestrator.plan.numbers import e164_from_api
from orchestrator.state.store import ExcludedNumber
from orchestrator.text import counted

CHECK_BATCH = 5000  # importTnChecker's documented cap (400 above it)
RECORD_VERSION = 1


@dataclass(frozen=True, slots=True)
class Rejection:
    """A number `importTnChecker` said cannot be imported, with the API's code and why."""

    step: str
    number: str
    raw: str
    source: str
    code: str
    description: str


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """What a pre-flight found: rejections, and numbers the checker did not mention at all."""

    checked: int
    calls: int
    rejections: tuple[Rejection, ...]
    unanswered: tuple[str, ...]


# --- asking the API -------------------------------------------------------------------------------


async def check_imports(
    client: ApiClient,
    gate: RequestGate,
    plan: CompiledPlan,
    *,
    backoff: Backoff | None = None,
    rng: random.Random | None = None,
    batch_size: int = CHECK_BATCH,
    on_batch: Callable[[str, int, int], None] | None = None,
) -> CheckOutcome:
    """Check every import step's numbers; `on_batch(step, done, total)` after each call.

    A call the API refuses as a whole (400: invalid or too many numbers, the account lacks the
    import feature) stops the check with an `AbortedError` naming the step and the batch:
    nothing is excluded from a half-checked plan.
    """
    if not 1 <= batch_size <= CHECK_BATCH:
        raise ValueError(f"batch_size must be 1..{CHECK_BATCH}, got {batch_size}")
    backoff = backoff or Backoff()
    rng = rng or random.Random()
    rejections: list[Rejection] = []
    unanswered: list[str] = []
    checked = calls = 0
    for step in plan.steps:
        if step.spec.kind is not StepKind.IMPORT or not step.numbers:
            continue
        position = {n: i for i, n in enumerate(step.numbers)}
        for start in range(0, len(step.numbers), batch_size):
            batch = step.numbers[start : start + batch_size]
            body = build_import_checker(
                site_id=step.spec.site_id or "", sip_peer_id=step.spec.sip_peer_id, numbers=batch
            )
            try:
                result: CheckerResult = await call_with_retry(
                    gate,
                    backoff,
                    rng,
                    functools.partial(client.check_import, body),
                    priority=Priority.SUBMIT,
                    retry_posts=True,
                )
            except AuthError:
                raise
            except PermanentApiError as exc:
                raise AbortedError(
                    f"importTnChecker refused the numbers {start + 1}-{start + len(batch)} of "
                    f"step {step.spec.name!r} as a whole ({exc}); nothing was excluded: fix the "
                    "plan or the account and check again"
                ) from exc
            calls += 1
            checked += len(batch)
            seen = _collect(step, position, result, rejections)
            unanswered.extend(n for n in batch if n not in seen)
            if on_batch is not None:
                on_batch(step.spec.name, start + len(batch), len(step.numbers))
    return CheckOutcome(checked, calls, tuple(rejections), tuple(unanswered))


def _collect(
    step: CompiledStep,
    position: Mapping[str, int],
    result: CheckerResult,
    out: list[Rejection],
) -> set[str]:
    """Add the rejections of one checker answer; return every plan number it mentioned."""
    seen = {e164_from_api(n) for n in result.importable}
    for failure in result.rejected:
        for spelled in failure.numbers:
            number = e164_from_api(spelled)
            i = position.get(number)
            if i is None or number in seen:  # not ours, or rejected under a second code
                continue
            seen.add(number)
            out.append(
                Rejection(
                    step=step.spec.name,
                    number=number,
                    raw=step.raws[i],
                    source=step.locations[i],
                    code=failure.code,
                    description=failure.description,
                )
            )
    return seen


# --- the checked plan (pure) ----------------------------------------------------------------


def exclude_numbers(plan: CompiledPlan, rejections: Sequence[Rejection]) -> CompiledPlan:
    """The plan without the rejected numbers: orders cut again, hash of what is now sent."""
    drop: dict[str, set[str]] = {}
    for r in rejections:
        drop.setdefault(r.step, set()).add(r.number)
    if not drop:
        return plan
    steps: list[CompiledStep] = []
    for step in plan.steps:
        gone = drop.get(step.spec.name, set())
        keep = [i for i, n in enumerate(step.numbers) if n not in gone]
        steps.append(
            CompiledStep(
                spec=step.spec,
                numbers=[step.numbers[i] for i in keep],
                raws=[step.raws[i] for i in keep],
                locations=[step.locations[i] for i in keep],
                orders=[],
                invalid_count=step.invalid_count,
                duplicate_count=step.duplicate_count,
                depends_on=step.depends_on,
            )
        )
    digest = plan_hash(plan.spec, steps)
    for step in steps:
        step.orders = cut_orders(plan.spec, step, digest)
    return CompiledPlan(
        spec=plan.spec,
        hash=digest,
        steps=steps,
        invalid=plan.invalid,
        duplicates=plan.duplicates,
    )


@dataclass(frozen=True, slots=True)
class CheckRecord:
    """A pre-flight as recorded in a compiled plan's header."""

    source_plan_hash: str
    plan_hash: str
    target: str
    account_id: str
    checked_at: str
    checked: int
    rejections: tuple[Rejection, ...]


def check_record(
    plan: CompiledPlan,
    checked_plan: CompiledPlan,
    outcome: CheckOutcome,
    *,
    target: str,
    checked_at: str,
) -> dict[str, Any]:
    """The `check` block of the compiled plan's header (JSON-ready)."""
    return {
        "version": RECORD_VERSION,
        "source_plan_hash": plan.hash,
        "plan_hash": checked_plan.hash,
        "target": target,
        "account_id": plan.spec.account_id,
        "checked_at": checked_at,
        "checked": outcome.checked,
        "calls": outcome.calls,
        "unanswered": list(outcome.unanswered),
        "excluded": [
            {
                "step": r.step,
                "number": r.number,
                "input": r.raw,
                "source": r.source,
                "code": r.code,
                "description": r.description,
            }
            for r in outcome.rejections
        ],
    }


def read_check_record(header: Any, where: str) -> CheckRecord:
    """The `check` block of a compiled plan's header line, validated."""

    def bad(why: str) -> InputError:
        return InputError(
            f"{where}: {why}; pass the file `bwmigrate plan PLAN --check --out FILE` wrote"
        )

    if not isinstance(header, dict) or header.get("type") != "plan":
        raise bad("not a compiled plan (its first line is not the plan header)")
    block = header.get("check")
    if not isinstance(block, dict):
        raise bad("this compiled plan was written without --check")
    if block.get("version") != RECORD_VERSION:
        raise bad(f"unknown check record version {block.get('version')!r}")
    try:
        rejections = tuple(
            Rejection(
                step=str(x["step"]),
                number=str(x["number"]),
                raw=str(x["input"]),
                source=str(x["source"]),
                code=str(x["code"]),
                description=str(x["description"]),
            )
            for x in block["excluded"]
        )
        return CheckRecord(
            source_plan_hash=str(block["source_plan_hash"]),
            plan_hash=str(block["plan_hash"]),
            target=str(block["target"]),
            account_id=str(block["account_id"]),
            checked_at=str(block["checked_at"]),
            checked=int(block["checked"]),
            rejections=rejections,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise bad(f"its check record is damaged ({type(exc).__name__}: {exc})") from exc


def apply_check(
    plan: CompiledPlan, record: CheckRecord, where: str
) -> tuple[CompiledPlan, list[ExcludedNumber]]:
    """The checked plan a run executes, and the excluded numbers to store as failed.

    Refused when the plan changed since the check, or when excluding the recorded numbers does
    not give the hash the check recorded (the file was edited, or made by another version).
    """
    if record.source_plan_hash != plan.hash:
        raise InputError(
            f"{where} was checked against plan hash {record.source_plan_hash[:12]}, but "
            f"{plan.spec.path} now has hash {plan.hash[:12]}: the plan changed since the check "
            "(a `run --canary` other than the plan's changes it too: set canary in the plan); "
            "run `bwmigrate plan PLAN --check --out FILE` again"
        )
    index = {s.spec.name: s.spec.index for s in plan.steps}
    checked = exclude_numbers(plan, record.rejections)
    if checked.hash != record.plan_hash:
        raise InputError(
            f"{where}: excluding its {counted(len(record.rejections), 'number')} gives plan hash "
            f"{checked.hash[:12]}, not the {record.plan_hash[:12]} it records: the file was "
            "edited or is damaged; run the check again"
        )
    note = f"excluded before the run: importTnChecker rejected it ({record.checked_at})"
    excluded = [
        ExcludedNumber(
            step=index[r.step],
            e164=r.number,
            raw=r.raw,
            source=r.source,
            code=r.code,
            description=r.description,
            note=note,
        )
        for r in record.rejections
    ]
    return checked, excluded


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """The compiled plan `plan --check --out FILE` wrote, as `run --checked FILE` passes it:
    where it is, and the check record of its header line."""

    path: str
    record: CheckRecord


def apply_checked_file(
    plan: CompiledPlan, checked: CheckedFile, target_id: str, note: Callable[[str], None]
) -> tuple[CompiledPlan, list[ExcludedNumber], str]:
    """What `run --checked FILE` runs against `target_id`: the plan without the numbers the
    pre-flight rejected, the excluded rows (stored as failed), and a one-line note saying so.

    A check made on the sandbox says nothing about a live account (refused); one made on
    another live target is noted through `note`.
    """
    record, path = checked.record, checked.path
    if record.target == "sandbox" and target_id != "sandbox":
        raise InputError(
            f"{path} was checked against the sandbox, which says nothing about the live "
            f"account: run `bwmigrate plan {plan.spec.path} --check --target {target_id} "
            "--out FILE` and pass that file"
        )
    if record.target not in ("sandbox", target_id):
        note(f"Note: {path} was checked against {record.target}, not {target_id}.")
    checked_plan, excluded = apply_check(plan, record, path)
    summary_note = (
        f"{counted(len(excluded), 'number')} excluded: importTnChecker on {record.target} "
        "rejected them "
        f"at {record.checked_at} ({path}); they are recorded as failed and never sent"
    )
    return checked_plan, excluded, summary_note
