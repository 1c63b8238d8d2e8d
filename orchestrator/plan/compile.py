"""The migration plan: the model (`PlanSpec`), and `PlanSpec` + number files -> `CompiledPlan`.

A plan names the migration, the account, the default country, the batch size and rate settings,
and lists steps (`import`, `remove`, `messaging`), each with numbers inline and/or from files.
Compiling normalises every number, reports invalid ones with their location, drops duplicates
within a step, refuses contradictions across steps and +1 imports the published schema's body
cannot carry without a subscriber and LOA person, cuts each step into orders (an import step's
first order is its canary) and gives every order a deterministic `CustomerOrderId` derived from
the plan hash, so a crashed run can find its orders again. The hash covers everything that
changes what would be sent, and nothing else.

Chained steps (the store creates them, the dry run shows them): an import with
`enable_messaging` is followed by a TN option step turning SMS on (`<import>:sms-on`); a step
that turns SMS on with A2P settings is followed by a TN option step carrying only the A2P
settings (`<SMS step>:a2p`), because A2P on imported numbers is refused (5128) and must not take
the SMS change down with it.

The TOML schema is `orchestrator.plan.planfile`; the model `orchestrator.plan.model`. Pure:
number files come in through a `read_file` callable the caller supplies (the CLI opens
files). No I/O, no clock, no environment. Credentials are never part of a plan.
"""

from __future__ import annotations

import hashlib
import json
import re
from array import array
from collections.abc import Sequence
from dataclasses import replace

from orchestrator.errors import PlanError
from orchestrator.plan.chain import chained_customer_order_id
from orchestrator.plan.model import (
    _CUSTOMER_ORDER_ID_MAX,
    _KIND_LETTER,
    DEFAULT_BODY_FORM,
    GUIDE_BODY_FORM,
    NANP_PREFIX,
    SUBSCRIBER_REQUIRED,
    CompiledPlan,
    CompiledStep,
    DuplicateEntry,
    InvalidEntry,
    Order,
    PlanSpec,
    ReadFile,
    StepKind,
    StepSpec,
    Subscriber,
)
from orchestrator.plan.numbers import InvalidNumber, normalize_numbers
from orchestrator.plan.source import read_numbers

# ---------------------------------------------------------------------------------------------
# Compilation


def compile_plan(
    spec: PlanSpec, read_file: ReadFile, *, require_import_details: bool = True
) -> CompiledPlan:
    """Read, normalise, de-duplicate and batch every step; hash the result.

    `read_file(path)` returns the bytes of a number file named in the plan (the caller resolves
    it relative to the plan file and raises `PlanError` if it cannot be read). Unless
    `require_import_details` is False (convert checks a plan whose subscriber is still to be
    filled in), a +1 import in the schema's form without a subscriber and LOA person is refused.
    """
    invalid: list[InvalidEntry] = []
    duplicates: list[DuplicateEntry] = []
    steps = [_compile_step(spec, step, read_file, invalid, duplicates) for step in spec.steps]
    _refuse_conflicts(spec, steps)
    if require_import_details:
        _refuse_missing_import_details(spec, steps)
    _refuse_international_a2p(spec, steps)
    digest = plan_hash(spec, steps)
    for step in steps:
        step.orders = cut_orders(spec, step, digest)
    return CompiledPlan(spec=spec, hash=digest, steps=steps, invalid=invalid, duplicates=duplicates)


def with_canary(spec: PlanSpec, canary: int) -> PlanSpec:
    """`spec` with every import step's canary set to `canary` (`run --canary N`)."""
    steps = tuple(replace(s, canary=canary) if s.kind is StepKind.IMPORT else s for s in spec.steps)
    return replace(spec, canary=canary, steps=steps)


def _entries(
    spec: PlanSpec, step: StepSpec, read_file: ReadFile
) -> tuple[list[str], list[int], array[int], list[str]]:
    """Collect a step's raw entries: texts, source ids, lines (or inline indexes), labels."""
    raws: list[str] = list(step.inline)
    src: list[int] = [0] * len(raws)
    lines = array("q", range(len(raws)))
    labels = [f"{spec.path}:steps[{step.index}].numbers"]
    for source_id, nf in enumerate(step.files, start=1):
        labels.append(nf.path)
        for raw, line in read_numbers(nf, read_file(nf.path)):
            raws.append(raw)
            src.append(source_id)
            lines.append(line)
    return raws, src, lines, labels


def _location(labels: list[str], source_id: int, line: int) -> str:
    """`file:line` for file entries, `plan.toml:steps[i].numbers[j]` for inline ones."""
    return f"{labels[0]}[{line}]" if source_id == 0 else f"{labels[source_id]}:{line}"


def _compile_step(
    spec: PlanSpec,
    step: StepSpec,
    read_file: ReadFile,
    invalid: list[InvalidEntry],
    duplicates: list[DuplicateEntry],
) -> CompiledStep:
    """Normalise one step's entries; keep the first occurrence of each number."""
    raws, src, lines, labels = _entries(spec, step, read_file)
    results = normalize_numbers(raws, spec.country)
    first_seen: dict[str, int] = {}
    kept: list[int] = []
    numbers: list[str] = []
    invalid_count = duplicate_count = 0
    for i, result in enumerate(results):
        if isinstance(result, InvalidNumber):
            invalid_count += 1
            invalid.append(
                InvalidEntry(
                    step.index,
                    raws[i],
                    _location(labels, src[i], lines[i]),
                    str(result.reason),
                    result.message,
                )
            )
            continue
        first = first_seen.setdefault(result, i)
        if first != i:
            duplicate_count += 1
            duplicates.append(
                DuplicateEntry(
                    step.index,
                    result,
                    _location(labels, src[i], lines[i]),
                    _location(labels, src[first], lines[first]),
                    raws[i],
                )
            )
            continue
        kept.append(i)
        numbers.append(result)
    return CompiledStep(
        spec=step,
        numbers=numbers,
        raws=[raws[i] for i in kept],
        locations=[_location(labels, src[i], lines[i]) for i in kept],
        orders=[],
        invalid_count=invalid_count,
        duplicate_count=duplicate_count,
    )


def _effects(step: StepSpec) -> frozenset[str]:
    """What a step changes about a number: its hosting, its messaging, or both."""
    if step.kind is StepKind.REMOVE:
        return frozenset({"hosting", "messaging"})
    if step.kind is StepKind.IMPORT:
        return frozenset({"hosting", "messaging"} if step.enable_messaging else {"hosting"})
    return frozenset({"messaging"})


def _why(a: StepSpec, b: StepSpec) -> str:
    """Explain a conflict between two steps."""
    kinds = {a.kind, b.kind}
    if kinds == {StepKind.IMPORT, StepKind.REMOVE}:
        return "a number cannot be imported and removed in one plan"
    if a.kind is b.kind is StepKind.IMPORT:
        return "importing a number twice resets its attributes on Bandwidth"
    if a.messaging_sms and b.messaging_sms and a.messaging_sms != b.messaging_sms:
        return "messaging cannot be turned on and off in one plan"
    return "a number may be changed by one step only"


def _refuse_conflicts(spec: PlanSpec, steps: list[CompiledStep]) -> None:
    """Refuse numbers that two steps would change in contradictory or repeated ways.

    Steps that share numbers without conflicting (an import, then a messaging step for the same
    numbers) are ordered: the later one depends on the earlier one.
    """
    for i, a in enumerate(steps):
        for b in steps[i + 1 :]:
            common = set(a.numbers).intersection(b.numbers)
            if not common:
                continue
            if not _effects(a.spec) & _effects(b.spec):
                b.depends_on = (*b.depends_on, a.spec.index)
                continue
            number = min(common)
            pa, pb = a.numbers.index(number), b.numbers.index(number)
            more = f" ({len(common)} numbers in all)" if len(common) > 1 else ""
            raise PlanError(
                f"{spec.path}: {number} is in step {a.spec.name!r} ({a.locations[pa]}) and step "
                f"{b.spec.name!r} ({b.locations[pb]}){more}: {_why(a.spec, b.spec)}; "
                "keep each number in one of them"
            )


def missing_import_details(
    subscriber: Subscriber | None, loa_authorizing_person: str | None
) -> list[str]:
    """What the `ImportTnOrder` body lacks for +1 numbers: `subscriber` (or the keys it lacks,
    `subscriber.<key>`) and `loa_authorizing_person`."""
    if subscriber is None:
        missing = ["subscriber"]
    else:
        missing = [f"subscriber.{k}" for k in SUBSCRIBER_REQUIRED if not getattr(subscriber, k)]
    if not loa_authorizing_person:
        missing.append("loa_authorizing_person")
    return missing


def _toml_snippet(step: StepSpec, missing: list[str]) -> str:
    """The TOML to add: the subscriber table (values given kept, "..." for the missing ones)
    and/or the LOA person."""
    parts = []
    if any(m.startswith("subscriber") for m in missing):
        given = step.subscriber
        keys = SUBSCRIBER_REQUIRED + (("county",) if given and given.county else ())
        values = [
            f"{k} = {json.dumps(getattr(given, k) if given and getattr(given, k) else '...')}"
            for k in keys
        ]
        parts.append(f"subscriber = {{ {', '.join(values)} }}")
    if "loa_authorizing_person" in missing:
        parts.append('loa_authorizing_person = "..."')
    return " and ".join(parts)


def _refuse_missing_import_details(spec: PlanSpec, steps: list[CompiledStep]) -> None:
    """Refuse an import step in the schema's form with +1 numbers but no subscriber or LOA
    person: the published v2 schema requires them for NANP numbers."""
    for step in steps:
        s = step.spec
        if s.kind is not StepKind.IMPORT or s.body_form != DEFAULT_BODY_FORM:
            continue
        nanp = sum(1 for n in step.numbers if n.startswith(NANP_PREFIX))
        missing = missing_import_details(s.subscriber, s.loa_authorizing_person) if nanp else []
        if missing:
            raise PlanError(
                f"{spec.path}: steps[{s.index}] ({s.name!r}): {nanp} "
                f"{'numbers are' if nanp > 1 else 'number is'} +1 (NANP), for which the "
                f"{DEFAULT_BODY_FORM} body (the published v2 schema's form, sent by "
                f"default) requires what this step lacks: {', '.join(missing)}; add to the step "
                f"or to [import_defaults]: {_toml_snippet(s, missing)}; or send the migration "
                f"guide's {GUIDE_BODY_FORM} form, which has neither: "
                f'body_form = "{GUIDE_BODY_FORM}"'
            )


def _refuse_international_a2p(spec: PlanSpec, steps: list[CompiledStep]) -> None:
    """Refuse A2P settings for numbers outside +1: the published schema's TN option order takes
    `A2pSettings` only for NANP numbers (10DLC is a US scheme)."""
    for step in steps:
        s = step.spec
        if s.a2p is None or s.messaging_sms is None:
            continue
        other = [n for n in step.numbers if not n.startswith(NANP_PREFIX)]
        if other:
            raise PlanError(
                f"{spec.path}: steps[{s.index}] ({s.name!r}): a2p is set, but {len(other)} "
                f"{'numbers are' if len(other) > 1 else 'number is'} not +1 (NANP), e.g. "
                f"{other[0]}; the published v2 schema takes A2P settings (10DLC) only for NANP "
                "numbers: move those numbers to a step without a2p"
            )


def plan_hash(spec: PlanSpec, steps: Sequence[CompiledStep]) -> str:
    """SHA-256 over what would be sent: account, plan name, batch size, step settings (body
    form and canary included), numbers.

    Rate settings (the visibility window included), the failure threshold and the rehearsal
    file do not change what is sent, so a resumed run may change them.
    """
    h = hashlib.sha256()
    header = {
        "v": 2,
        "name": spec.name,
        "account_id": spec.account_id,
        "batch_size": spec.batch_size,
    }
    h.update(json.dumps(header, sort_keys=True).encode())
    for step in steps:
        h.update(b"\x1estep")
        h.update(json.dumps(step.spec.settings(), sort_keys=True).encode())
        h.update("\n".join(step.numbers).encode())
    return h.hexdigest()


def customer_order_id(
    spec: PlanSpec, digest: str, step: StepSpec, order_index: int, *, chained: bool = False
) -> str:
    """The deterministic CustomerOrderId of an order: letters, digits, dashes; at most 40 chars.

    `<plan name, 16 chars>-<hash, 8>-<kind letter><step>-<order>[-M]`, for example
    `acme-cutover-3f9a1c2e-I01-00042`; `-M` marks the TN option order chained to an import, and
    a further `-A` the A2P follow-up of the order that turned SMS on.
    """
    slug = re.sub(r"[^A-Za-z0-9-]+", "-", spec.name).strip("-")[:16].strip("-") or "plan"
    out = f"{slug}-{digest[:8]}-{_KIND_LETTER[step.kind]}{step.index + 1:02d}-{order_index:05d}"
    if chained:
        out = chained_customer_order_id(out)
    assert len(out) <= _CUSTOMER_ORDER_ID_MAX
    return out


def canary_size(spec: PlanSpec, step: StepSpec, count: int) -> int:
    """Numbers in an import step's canary order: min(canary, batch size, numbers); 0 = none."""
    if step.kind is not StepKind.IMPORT:
        return 0
    return min(step.canary, spec.batch_size, count)


def cut_orders(spec: PlanSpec, step: CompiledStep, digest: str) -> list[Order]:
    """Cut a step's numbers into orders: the canary order first (import steps), then orders
    of at most `batch_size`."""
    size, count = spec.batch_size, len(step.numbers)
    first = canary_size(spec, step.spec, count)
    starts = ([0] if first else []) + list(range(first, count, size))
    if not starts:
        return []
    ends = [*starts[1:], count]
    return [
        Order(
            step.spec.index,
            n,
            customer_order_id(spec, digest, step.spec, n),
            tuple(step.numbers[start:end]),
        )
        for n, (start, end) in enumerate(zip(starts, ends, strict=True))
    ]
